//! How mail leaves: SMTP through lettre, configured by one URL, or the log for local
//! trials (`serve --dev-mail`).
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::mail::compose::Outgoing;

/// How long one SMTP conversation may take before it counts as a failed attempt.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Every mail is written to the log instead (links included): for trying the flows
    /// on one's own machine, never for a real deployment.
    Log,
}

#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("PORTCULLIS_SMTP_URL is not a URL: {0}")]
    Url(String),
    #[error("PORTCULLIS_SMTP_URL: the scheme must be smtp, smtps or smtp+starttls, not {0}")]
    Scheme(String),
    #[error("PORTCULLIS_SMTP_URL has no host")]
    NoHost,
    #[error(
        "PORTCULLIS_SMTP_URL: a password may only travel unencrypted to this machine \
         (127.0.0.1, ::1, localhost); use smtps:// or smtp+starttls:// for {0}"
    )]
    CleartextCredentials(String),
    #[error("PORTCULLIS_MAIL_FROM is not a mail address: {0}")]
    From(String),
    #[error("PORTCULLIS_SMTP_URL: {0}")]
    Tls(String),
}

/// Why one attempt to send failed; `permanent` (an SMTP 5xx) is not retried.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub permanent: bool,
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn decode(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

impl Transport {
    /// `smtp://host:port` (no TLS: for a relay on this machine or network),
    /// `smtps://user:pass@host:465` (TLS from the first byte) or
    /// `smtp+starttls://user:pass@host:587` (STARTTLS, required). Call it within the Tokio
    /// runtime: the connection pool it builds runs a task there.
    pub fn from_url(text: &str) -> Result<Self, MailConfigError> {
        let url = url::Url::parse(text.trim()).map_err(|e| MailConfigError::Url(e.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or(MailConfigError::NoHost)?
            .to_string();
        let credentials = (!url.username().is_empty()).then(|| {
            Credentials::new(
                decode(url.username()),
                decode(url.password().unwrap_or_default()),
            )
        });
        let tls = |e: lettre::transport::smtp::Error| MailConfigError::Tls(e.to_string());
        let tls_host = host.trim_start_matches('[').trim_end_matches(']');
        let builder = match url.scheme() {
            "smtp" => {
                if credentials.is_some() && !is_loopback(&host) {
                    return Err(MailConfigError::CleartextCredentials(host));
                }
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(tls_host)
                    .port(url.port().unwrap_or(25))
            }
            "smtps" => AsyncSmtpTransport::<Tokio1Executor>::relay(tls_host)
                .map_err(tls)?
                .port(url.port().unwrap_or(465)),
            "smtp+starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(tls_host)
                .map_err(tls)?
                .port(url.port().unwrap_or(587)),
            other => return Err(MailConfigError::Scheme(other.to_string())),
        };
        let builder = builder.timeout(Some(SMTP_TIMEOUT));
        let builder = match credentials {
            Some(c) => builder.credentials(c),
            None => builder,
        };
        Ok(Transport::Smtp(builder.build()))
    }

    pub async fn send(&self, mail: Outgoing) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(mail.message)
                    .await
                    .map(|_| ())
                    .map_err(|e| SendError {
                        permanent: e.is_permanent(),
                        message: e.to_string(),
                    })
            }
            Transport::Log => {
                // The plain text part as written, not the encoded message: its links can
                // be copied from the log as they are.
                tracing::warn!(
                    target: "dev_mail",
                    "--dev-mail: not sent, to {}, subject {:?}:\n{}",
                    mail.to,
                    mail.subject,
                    mail.text
                );
                Ok(())
            }
        }
    }
}

/// The sender address, checked at start.
pub fn parse_from(text: &str) -> Result<Mailbox, MailConfigError> {
    text.parse()
        .map_err(|_| MailConfigError::From(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The connection pool starts a task of its own: building a transport needs a runtime.
    #[tokio::test]
    async fn the_three_schemes_are_understood() {
        assert!(matches!(
            Transport::from_url("smtp://127.0.0.1:2525"),
            Ok(Transport::Smtp(_))
        ));
        assert!(matches!(
            Transport::from_url("smtps://me:secret@mail.example.com"),
            Ok(Transport::Smtp(_))
        ));
        assert!(matches!(
            Transport::from_url("smtp+starttls://me:s%40cret@mail.example.com:587"),
            Ok(Transport::Smtp(_))
        ));
    }

    #[tokio::test]
    async fn a_password_is_never_sent_in_clear_beyond_this_machine() {
        assert!(matches!(
            Transport::from_url("smtp://me:secret@mail.example.com"),
            Err(MailConfigError::CleartextCredentials(_))
        ));
        assert!(Transport::from_url("smtp://me:secret@127.0.0.1:2525").is_ok());
        assert!(Transport::from_url("smtp://me:secret@localhost:2525").is_ok());
    }

    #[tokio::test]
    async fn other_schemes_and_garbage_are_refused() {
        assert!(matches!(
            Transport::from_url("http://mail.example.com"),
            Err(MailConfigError::Scheme(_))
        ));
        assert!(Transport::from_url("not a url").is_err());
        assert!(parse_from("Portcullis <no-reply@example.com>").is_ok());
        assert!(parse_from("nobody").is_err());
    }
}
