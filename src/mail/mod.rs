//! Mail: the transport (SMTP, or the log with `serve --dev-mail`), the templates, and the
//! sender that works through the queue in `store::mail_outbox`. Use cases only queue a
//! mail (`Outbox`); nothing here knows HTTP.
pub mod compose;
pub mod sender;
pub mod templates;
pub mod transport;

pub use transport::{MailConfigError, Transport};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::domain::Locale;
use crate::store::mail_outbox::{self, NewMail};

/// The mail queue as the use cases see it; it exists only when mail is on.
#[derive(Clone, Copy)]
pub struct Outbox<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    /// Wakes this node's sender.
    pub wake: &'a Notify,
    /// The language of the request queueing mails: theirs unless the account chose one.
    pub locale: Option<Locale>,
}

impl Outbox<'_> {
    /// The same queue, for mails asked for in `locale`.
    pub fn speaking(self, locale: Option<Locale>) -> Self {
        Outbox { locale, ..self }
    }

    /// Queues a mail and wakes this node's sender; another node's sender finds it on its
    /// next poll. The request that queues it never waits for SMTP.
    pub async fn queue(&self, mail: NewMail<'_>) -> Result<(), DbError> {
        let locale = self.locale.map(Locale::tag);
        mail_outbox::enqueue(self.db, &mail, locale, self.clock.now_ms()).await?;
        self.wake.notify_one();
        Ok(())
    }
}
