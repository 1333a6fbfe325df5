//! The mails' words, from `templates/mail/` (plain text and HTML for each kind, both
//! extending a base), compiled into the binary. HTML templates escape what they insert.
use std::sync::OnceLock;

use minijinja::{context, AutoEscape, Environment, ErrorKind, Output, State, Value};

use crate::store::mail_outbox::Kind;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name)))),*]
    };
}

const SOURCES: &[(&str, &str)] = templates!(
    "mail/base.txt",
    "mail/base.html",
    "mail/password_reset.txt",
    "mail/password_reset.html",
    "mail/password_changed.txt",
    "mail/password_changed.html",
    "mail/verify_email.txt",
    "mail/verify_email.html",
    "mail/email_change.txt",
    "mail/email_change.html",
    "mail/email_changed.txt",
    "mail/email_changed.html",
    "mail/magic_link.txt",
    "mail/magic_link.html",
    "mail/factor_changed.txt",
    "mail/factor_changed.html",
);

/// A template that does not compile or render (a unit test renders every one).
#[derive(Debug, thiserror::Error)]
#[error("mail template: {0}")]
pub struct TemplateError(String);

impl From<minijinja::Error> for TemplateError {
    fn from(e: minijinja::Error) -> Self {
        TemplateError(e.to_string())
    }
}

fn environment() -> &'static Result<Environment<'static>, TemplateError> {
    static ENV: OnceLock<Result<Environment<'static>, TemplateError>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_formatter(html_escape_formatter);
        // Auto-escaping follows the name: on for .html, off for .txt.
        for (name, source) in SOURCES {
            env.add_template(name, source)?;
        }
        Ok(env)
    })
}

/// minijinja's own HTML escaping also turns `/` into `&#x2f;`, which leaves links that
/// mail clients show mangled; escaping the five characters that matter in HTML text and
/// quoted attributes is as safe and keeps URLs readable.
fn html_escape_formatter(
    out: &mut Output,
    state: &State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if !matches!(state.auto_escape(), AutoEscape::Html) || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = if value.is_undefined() || value.is_none() {
        String::new()
    } else {
        value.to_string()
    };
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    out.write_str(&escaped)
        .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "writing a mail"))
}

/// What a mail says, filled in.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    pub username: &'a str,
    /// The address the mail concerns (verified, or new).
    pub email: &'a str,
    pub link: &'a str,
    pub minutes: u64,
    pub hours: u64,
    /// The service's name in the mail: the product name the operator set, else the
    /// issuer setting.
    pub service: &'a str,
    /// The operator's primary colour (`#rrggbb`) for the mail's button, and its text's.
    pub colour: &'a str,
    pub colour_text: &'a str,
    /// The logo's absolute URL, or empty without one.
    pub logo_url: &'a str,
    /// What changed, in a sentence (a factor added or removed).
    pub change: &'a str,
    /// The account's passkeys and second factors, one line each, as its owner would name
    /// them (so that one they did not add stands out).
    pub factors: Vec<String>,
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn subject(kind: Kind) -> &'static str {
    match kind {
        Kind::PasswordReset => "Reset your password",
        Kind::PasswordChanged => "Your password was changed",
        Kind::VerifyEmail => "Confirm your email address",
        Kind::EmailChange => "Confirm your new email address",
        Kind::EmailChanged => "Your email address was changed",
        Kind::MagicLink => "Your sign-in link",
        Kind::FactorChanged => "A sign-in method of your account changed",
    }
}

pub fn render(kind: Kind, fields: &Fields<'_>) -> Result<Rendered, TemplateError> {
    let env = environment()
        .as_ref()
        .map_err(|e| TemplateError(e.0.clone()))?;
    let ctx = context! {
        username => fields.username,
        email => fields.email,
        link => fields.link,
        minutes => fields.minutes,
        hours => fields.hours,
        service => fields.service,
        colour => fields.colour,
        colour_text => fields.colour_text,
        logo_url => fields.logo_url,
        change => fields.change,
        factors => fields.factors,
    };
    let text = env
        .get_template(&format!("mail/{}.txt", kind.name()))?
        .render(&ctx)?;
    let html = env
        .get_template(&format!("mail/{}.html", kind.name()))?
        .render(&ctx)?;
    Ok(Rendered {
        subject: subject(kind).to_string(),
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_renders_with_its_link_in_both_parts_and_html_escaped() {
        for kind in Kind::ALL {
            let fields = Fields {
                username: "<b>eve</b>",
                email: "new@example.com",
                link: "http://localhost:8080/reset-password?token=abc&x=1",
                minutes: 30,
                hours: 24,
                service: "portcullis",
                colour: "#0d6efd",
                colour_text: "#ffffff",
                logo_url: "http://localhost:8080/api/branding/logo?v=1&x=\"><script>",
                change: "A passkey named <i>Laptop</i> was added.",
                factors: vec!["Passkey <i>Laptop</i>".into()],
            };
            let r = render(kind, &fields).unwrap();
            assert!(r.text.contains("Hello <b>eve</b>,"), "{kind:?}: {}", r.text);
            assert!(
                r.html.contains("Hello &lt;b&gt;eve&lt;/b&gt;,"),
                "{kind:?}: {}",
                r.html
            );
            assert!(!r.html.contains("<b>eve"), "{kind:?}");
            assert!(
                r.html.contains("v=1&amp;x=&quot;&gt;&lt;script&gt;")
                    && !r.html.contains("<script>"),
                "{kind:?}: the logo URL is escaped in its attribute: {}",
                r.html
            );
            let has_link = matches!(
                kind,
                Kind::PasswordReset
                    | Kind::VerifyEmail
                    | Kind::EmailChange
                    | Kind::MagicLink
                    | Kind::FactorChanged
            );
            assert!(!r.html.contains("<i>"), "{kind:?}: {}", r.html);
            assert_eq!(
                r.text.contains(fields.link),
                has_link,
                "{kind:?}: {}",
                r.text
            );
            assert_eq!(
                r.html
                    .contains("http://localhost:8080/reset-password?token=abc&amp;x=1"),
                has_link,
                "{kind:?}: {}",
                r.html
            );
        }
    }

    #[test]
    fn a_factor_notice_names_the_change_and_a_reset_notice_lists_the_factors() {
        let fields = Fields {
            username: "alice",
            link: "http://localhost:8080/profile",
            service: "portcullis",
            change: "A passkey named \"Laptop\" was added.",
            factors: vec!["Authenticator app".into(), "Passkey \"Phone\"".into()],
            ..Fields::default()
        };
        let notice = render(Kind::FactorChanged, &fields).unwrap();
        assert!(notice
            .text
            .contains("A passkey named \"Laptop\" was added."));
        assert!(notice.text.contains("http://localhost:8080/profile"));
        assert!(notice
            .html
            .contains("A passkey named &quot;Laptop&quot; was added."));
        let reset = render(Kind::PasswordChanged, &fields).unwrap();
        for part in [&reset.text, &reset.html] {
            assert!(part.contains("Authenticator app"), "{part}");
            assert!(part.contains("Phone"), "{part}");
        }
        let none = render(
            Kind::PasswordChanged,
            &Fields {
                factors: vec![],
                ..fields
            },
        )
        .unwrap();
        assert!(
            none.text.contains("no passkey and no second factor"),
            "{}",
            none.text
        );
    }
}
