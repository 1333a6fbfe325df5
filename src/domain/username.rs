/// 3 to 20 characters of `A-Z a-z 0-9 . _ -`; unique without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MIN: usize = 3;
    pub const MAX: usize = 20;
    /// The rule as a regular expression, for clients (`/api/auth/policy`).
    pub const PATTERN: &'static str = "^[A-Za-z0-9._-]{3,20}$";

    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if !(Self::MIN..=Self::MAX).contains(&len) {
            return Err(format!(
                "username must be {} to {} characters long.",
                Self::MIN,
                Self::MAX
            ));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err("username may only contain A-Z, a-z, 0-9, '.', '_' and '-'.".into());
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_documented_alphabet_and_lengths() {
        for ok in ["abc", "Alice", "a.b_c-d", "x1234567890123456789"] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_short_long_and_foreign_characters() {
        for bad in [
            "",
            "ab",
            "x12345678901234567890",
            "al ice",
            "al@ice",
            "ålice",
            "a\u{0}b",
            "<script>",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn key_ignores_case() {
        assert_eq!(
            Username::parse("Alice").unwrap().key(),
            Username::parse("aLICE").unwrap().key()
        );
    }

    proptest! {
        #[test]
        fn matches_its_published_pattern(raw in "\\PC{0,24}") {
            let allowed = raw.chars().count() >= 3 && raw.chars().count() <= 20
                && raw.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
            prop_assert_eq!(Username::parse(&raw).is_ok(), allowed);
        }

        #[test]
        fn every_pattern_match_is_accepted(raw in "[A-Za-z0-9._-]{3,20}") {
            prop_assert!(Username::parse(&raw).is_ok());
        }
    }
}
