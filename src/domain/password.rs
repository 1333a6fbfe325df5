use std::collections::HashSet;
use std::sync::OnceLock;

use secrecy::{ExposeSecret, SecretString};

/// The rules a new password must follow (docs/API.md §1, "Password"): a length range counted in
/// characters, no composition rules, and no common or guessable passwords.
#[derive(Clone, Copy, Debug)]
pub struct PasswordPolicy {
    pub min_length: usize,
}

impl PasswordPolicy {
    pub const ABSOLUTE_MIN: usize = 8;
    pub const MAX: usize = 128;

    pub fn new(min_length: usize) -> Self {
        Self {
            min_length: min_length.clamp(Self::ABSOLUTE_MIN, Self::MAX),
        }
    }
}

/// Why a new password was refused; the HTTP layer turns it into a 400 with its code.
#[derive(Debug, PartialEq, Eq)]
pub enum PasswordRejection {
    Invalid(String),
    TooCommon,
}

/// A password that passed the policy. It is kept exactly as received: no trimming, no
/// normalisation, no truncation; and it cannot be printed.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(
        policy: &PasswordPolicy,
        raw: &str,
        username: &str,
        email: &str,
    ) -> Result<Self, PasswordRejection> {
        let len = raw.chars().count();
        if len < policy.min_length || len > PasswordPolicy::MAX {
            return Err(PasswordRejection::Invalid(format!(
                "password must be {} to {} characters long.",
                policy.min_length,
                PasswordPolicy::MAX
            )));
        }
        let lower = raw.to_lowercase();
        let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
        if lower.contains(&username.to_lowercase())
            || lower.contains(&email.to_lowercase())
            || (local_part.chars().count() >= 4 && lower.contains(&local_part))
        {
            return Err(PasswordRejection::Invalid(
                "password must not contain the username or email.".into(),
            ));
        }
        if is_common(&lower) {
            return Err(PasswordRejection::TooCommon);
        }
        Ok(Self(SecretString::from(raw)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The password, to hand to the hasher.
    pub fn secret(&self) -> SecretString {
        self.0.clone()
    }
}

fn common_list() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

/// `lower` is the password in lower case.
fn is_common(lower: &str) -> bool {
    let list = common_list();
    if list.contains(lower) {
        return true;
    }
    // "Password123!", "!!trustno1!!": a listed word dressed up with digits and punctuation.
    let punctuation = |c: char| c.is_ascii_punctuation() || c.is_whitespace();
    let decoration = |c: char| c.is_ascii_digit() || punctuation(c);
    let bases = [
        lower.trim_matches(punctuation),
        lower.trim_matches(decoration),
    ];
    if bases
        .iter()
        .any(|b| b.chars().count() >= 4 && list.contains(*b))
    {
        return true;
    }
    let chars: Vec<char> = lower.chars().collect();
    if chars.iter().all(|c| *c == chars[0]) {
        return true;
    }
    is_sequence(&chars)
}

/// Runs like "12345678", "abcdefgh", "98765432" or a row of the keyboard.
fn is_sequence(chars: &[char]) -> bool {
    let steps: Vec<i64> = chars
        .windows(2)
        .map(|w| w[1] as i64 - w[0] as i64)
        .collect();
    if steps.iter().all(|s| *s == 1) || steps.iter().all(|s| *s == -1) {
        return true;
    }
    const ROWS: [&str; 4] = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
    let text: String = chars.iter().collect();
    ROWS.iter().any(|row| {
        let doubled = format!("{row}{row}");
        doubled.contains(&text) || doubled.chars().rev().collect::<String>().contains(&text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str) -> Result<NewPassword, PasswordRejection> {
        NewPassword::parse(&PasswordPolicy::new(8), raw, "alice", "alice@example.com")
    }

    #[test]
    fn common_passwords_and_their_decorations_are_refused() {
        for bad in [
            "password",
            "Password",
            "PASSWORD123",
            "Password123!",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "11111111",
            "abcdefghij",
            "87654321",
            "!!trustno1!!",
            "aaaaaaaaaaaa",
        ] {
            assert_eq!(
                check(bad).err(),
                Some(PasswordRejection::TooCommon),
                "{bad}"
            );
        }
    }

    #[test]
    fn length_is_counted_in_characters_and_bounded() {
        assert!(matches!(
            check("short1!"),
            Err(PasswordRejection::Invalid(_))
        ));
        assert!(check("ünïcødé-pässwörd").is_ok());
        assert!(check("日本語のパスワードです").is_ok());
        assert!(check(&"x9".repeat(64)).is_ok());
        assert!(matches!(
            check(&"x9".repeat(64).add_one()),
            Err(PasswordRejection::Invalid(_))
        ));
    }

    #[test]
    fn the_username_and_email_are_not_passwords() {
        assert!(matches!(
            check("xxALICExx-123"),
            Err(PasswordRejection::Invalid(_))
        ));
        assert!(matches!(
            check("alice@example.com"),
            Err(PasswordRejection::Invalid(_))
        ));
    }

    #[test]
    fn the_minimum_can_be_raised_but_never_below_eight() {
        assert_eq!(PasswordPolicy::new(4).min_length, 8);
        let strict = PasswordPolicy::new(12);
        assert!(NewPassword::parse(&strict, "correct-h0rse", "bob", "bob@x.io").is_ok());
        assert!(NewPassword::parse(&strict, "c0rrect-h0r", "bob", "bob@x.io").is_err());
    }

    #[test]
    fn the_password_is_kept_exactly_as_received() {
        let p = check("  spaced out words  ").unwrap();
        assert_eq!(p.expose(), "  spaced out words  ");
    }

    trait AddOne {
        fn add_one(self) -> String;
    }
    impl AddOne for String {
        fn add_one(mut self) -> String {
            self.push('z');
            self
        }
    }

    proptest! {
        #[test]
        fn never_panics(raw in "\\PC{0,140}") {
            let _ = check(&raw);
        }
    }
}
