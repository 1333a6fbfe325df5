//! The mails' words, from `templates/mail/<language>/` (plain text and HTML for each kind,
//! both extending a base), compiled into the binary. HTML templates escape what they insert.
use std::sync::OnceLock;

use minijinja::{context, AutoEscape, Environment, ErrorKind, Output, State, Value};

use crate::domain::Locale;
use crate::store::mail_outbox::Kind;

/// Every template of one language, by its name under `templates/`.
macro_rules! templates_in {
    ($locale:literal) => {
        templates_in!($locale: "base.txt", "base.html", "change.txt", "change.html",
            "password_reset.txt", "password_reset.html", "password_changed.txt",
            "password_changed.html", "verify_email.txt", "verify_email.html",
            "email_change.txt", "email_change.html", "email_changed.txt", "email_changed.html",
            "magic_link.txt", "magic_link.html", "factor_changed.txt", "factor_changed.html")
    };
    ($locale:literal: $($name:literal),*) => {
        &[$((
            concat!("mail/", $locale, "/", $name),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/mail/", $locale, "/", $name)),
        )),*]
    };
}

/// English, German and Spanish (`domain::Locale`); a unit test renders every one.
const SOURCES: [&[(&str, &str)]; 3] = [
    templates_in!("en"),
    templates_in!("de"),
    templates_in!("es"),
];

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
        for (name, source) in SOURCES.iter().flat_map(|language| language.iter()) {
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
    /// What changed (a factor added or removed), as `service::factors::FactorChange`
    /// names it: `passkey_added`, `passkey_removed`, `totp_added`, `totp_removed`,
    /// `all_removed_by_admin`; anything else is shown as it is (a sentence queued by an
    /// older node).
    pub change: &'a str,
    /// The passkey a change was about.
    pub passkey: &'a str,
    /// The account's second factors and passkeys, listed in a reset's notice as their
    /// owner would name them (so that one they did not add stands out).
    pub has_totp: bool,
    pub passkeys: Vec<String>,
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The subject in English.
pub fn subject(kind: Kind) -> &'static str {
    subject_in(kind, Locale::En)
}

pub fn subject_in(kind: Kind, locale: Locale) -> &'static str {
    match locale {
        Locale::En => english_subject(kind),
        Locale::De => match kind {
            Kind::PasswordReset => "Passwort zurücksetzen",
            Kind::PasswordChanged => "Ihr Passwort wurde geändert",
            Kind::VerifyEmail => "E-Mail-Adresse bestätigen",
            Kind::EmailChange => "Neue E-Mail-Adresse bestätigen",
            Kind::EmailChanged => "Ihre E-Mail-Adresse wurde geändert",
            Kind::MagicLink => "Ihr Anmeldelink",
            Kind::FactorChanged => "Eine Anmeldemethode Ihres Kontos wurde geändert",
        },
        Locale::Es => match kind {
            Kind::PasswordReset => "Restablece tu contraseña",
            Kind::PasswordChanged => "Se ha cambiado tu contraseña",
            Kind::VerifyEmail => "Confirma tu dirección de correo electrónico",
            Kind::EmailChange => "Confirma tu nueva dirección de correo electrónico",
            Kind::EmailChanged => "Se ha cambiado tu dirección de correo electrónico",
            Kind::MagicLink => "Tu enlace de inicio de sesión",
            Kind::FactorChanged => "Se ha modificado un método de inicio de sesión de tu cuenta",
        },
    }
}

fn english_subject(kind: Kind) -> &'static str {
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

pub fn render(kind: Kind, locale: Locale, fields: &Fields<'_>) -> Result<Rendered, TemplateError> {
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
        passkey => fields.passkey,
        has_totp => fields.has_totp,
        passkeys => fields.passkeys,
    };
    let (language, name) = (locale.tag(), kind.name());
    let text = env
        .get_template(&format!("mail/{language}/{name}.txt"))?
        .render(&ctx)?;
    let html = env
        .get_template(&format!("mail/{language}/{name}.html"))?
        .render(&ctx)?;
    Ok(Rendered {
        subject: subject_in(kind, locale).to_string(),
        text,
        html,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_renders_in_every_language_with_its_link_in_both_parts_and_html_escaped() {
        for (kind, locale) in Kind::ALL
            .into_iter()
            .flat_map(|k| Locale::ALL.map(|l| (k, l)))
        {
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
                change: "passkey_added",
                passkey: "<i>Laptop</i>",
                has_totp: true,
                passkeys: vec!["<i>Laptop</i>".into()],
            };
            let r = render(kind, locale, &fields).unwrap();
            assert!(
                r.text.contains("<b>eve</b>"),
                "{kind:?} {locale:?}: {}",
                r.text
            );
            assert!(
                r.html.contains("&lt;b&gt;eve&lt;/b&gt;"),
                "{kind:?} {locale:?}: {}",
                r.html
            );
            assert!(
                r.html
                    .contains(&format!("<html lang=\"{}\">", locale.tag())),
                "{kind:?} {locale:?}"
            );
            assert_eq!(r.subject, subject_in(kind, locale));
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
            assert!(!r.html.contains("<i>"), "{kind:?} {locale:?}: {}", r.html);
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
            change: "passkey_added",
            passkey: "Laptop",
            has_totp: true,
            passkeys: vec!["Phone".into()],
            ..Fields::default()
        };
        let notice = render(Kind::FactorChanged, Locale::En, &fields).unwrap();
        assert!(notice
            .text
            .contains("A passkey named \"Laptop\" was added to your account"));
        assert!(notice.text.contains("http://localhost:8080/profile"));
        assert!(notice.html.contains("A passkey named \"Laptop\" was added"));
        // Each change has its own words in each language, never the bare code.
        for change in [
            "passkey_added",
            "passkey_removed",
            "totp_added",
            "totp_removed",
            "all_removed_by_admin",
        ] {
            for locale in Locale::ALL {
                let f = Fields {
                    change,
                    ..fields.clone()
                };
                let r = render(Kind::FactorChanged, locale, &f).unwrap();
                assert!(!r.text.contains(change), "{change} {locale:?}: {}", r.text);
            }
        }
        let older = Fields {
            change: "A sentence an older node queued.",
            ..fields.clone()
        };
        let r = render(Kind::FactorChanged, Locale::En, &older).unwrap();
        assert!(r.text.contains("A sentence an older node queued."));
        let reset = render(Kind::PasswordChanged, Locale::En, &fields).unwrap();
        for part in [&reset.text, &reset.html] {
            assert!(part.contains("Authenticator app"), "{part}");
            assert!(part.contains("Phone"), "{part}");
        }
        let none = render(
            Kind::PasswordChanged,
            Locale::En,
            &Fields {
                has_totp: false,
                passkeys: vec![],
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
