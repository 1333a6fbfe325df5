//! The argon2id cost, as `PORTCULLIS_ARGON2` writes it: `m=KiB,t=passes,p=lanes`.
use argon2::Params;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Cost {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Argon2Cost {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (mut m, mut t, mut p) = (None, None, None);
        for part in text.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not key=value"))?;
            let value: u32 = value
                .parse()
                .map_err(|_| format!("`{value}` is not a whole number"))?;
            match key {
                "m" => m = Some(value),
                "t" => t = Some(value),
                "p" => p = Some(value),
                _ => return Err(format!("unknown argon2 parameter `{key}` (use m, t, p)")),
            }
        }
        let cost = Self {
            m_kib: m.ok_or("m (memory in KiB) is missing")?,
            t: t.ok_or("t (passes) is missing")?,
            p: p.ok_or("p (lanes) is missing")?,
        };
        cost.params()?;
        Ok(cost)
    }

    pub(super) fn params(&self) -> Result<Params, String> {
        Params::new(self.m_kib, self.t, self.p, None).map_err(|e| format!("argon2 parameters: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_parses_the_documented_form() {
        assert_eq!(
            Argon2Cost::parse("m=19456,t=2,p=1"),
            Ok(Argon2Cost {
                m_kib: 19456,
                t: 2,
                p: 1
            })
        );
        assert!(Argon2Cost::parse("m=19456,t=2").is_err());
        assert!(Argon2Cost::parse("m=1,t=0,p=1").is_err());
        assert!(Argon2Cost::parse("x=1,t=2,p=1").is_err());
    }
}
