/// An email address of at most 254 characters, unique without regard to case.
///
/// Deliberately modest: one `@`, a local part of printable ASCII without spaces or quotes,
/// a domain of dot-separated labels. Anything stranger is refused rather than guessed at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, String> {
        const WHY: &str = "email must be a valid email address.";
        if raw.len() > Self::MAX {
            return Err(format!(
                "email must be at most {} characters long.",
                Self::MAX
            ));
        }
        let (local, domain) = raw.split_once('@').ok_or(WHY)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(raw.to_string()))
        } else {
            Err(WHY.into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.co",
            "alice@example.com",
            "first.last+tag@sub.example.org",
            "X_Y@EXAMPLE.COM",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "a b@example.com",
            "alice@@example.com",
            "alice@exa mple.com",
            ".a@example.com",
            "a..b@example.com",
            "a@-example.com",
            "a@example..com",
            "\"a\"@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn refuses_more_than_254_characters() {
        let long = format!(
            "{}@{}.com",
            "a".repeat(64),
            "b".repeat(63).repeat(3).chars().collect::<String>()
        );
        assert!(long.len() > 254);
        assert!(Email::parse(&long).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_and_never_accepts_without_at(raw in "\\PC{0,300}") {
            let parsed = Email::parse(&raw);
            if !raw.contains('@') { prop_assert!(parsed.is_err()); }
            if parsed.is_ok() { prop_assert!(raw.len() <= 254); }
        }
    }
}
