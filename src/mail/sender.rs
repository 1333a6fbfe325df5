//! The sender every node runs: it claims due mails from the queue (one node per mail),
//! composes and sends each, and on a failure tries again later with a growing pause,
//! until it gives up, logging and counting that, never silently.
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio::sync::{watch, Notify};

use crate::audit::{self, Entry, Event, Via};
use crate::clock::{Clock, Millis};
use crate::db::Db;
use crate::mail::compose::{compose, ComposeError, Composed, Links};
use crate::mail::Transport;
use crate::store::mail_outbox::{self, Claimed, Outcome};

/// How often an idle sender looks for mail another node queued, or a retry come due.
const POLL: Duration = Duration::from_secs(1);
/// How long a claimed mail is this node's; longer than an SMTP conversation may last.
const LEASE: Duration = Duration::from_secs(90);
/// Attempts before giving up: the pauses between them (5 s doubling, at most an hour)
/// add up to about six and a half hours, enough to outlast an ordinary mail outage.
pub const MAX_ATTEMPTS: i64 = 16;
const FIRST_PAUSE: Duration = Duration::from_secs(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(3600);

pub struct Sender {
    pub db: Db,
    pub clock: Clock,
    pub transport: Transport,
    pub from: Mailbox,
    pub links: Links,
    /// Rings when this node queues a mail, so it goes at once rather than at the next poll.
    pub wake: Arc<Notify>,
    /// Names this node in the leases it takes.
    pub node: String,
}

/// The pause after the `attempts`-th failed attempt.
pub fn pause_after(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    (FIRST_PAUSE * 2u32.pow(doublings)).min(LONGEST_PAUSE)
}

fn ms(d: Duration) -> Millis {
    d.as_millis() as Millis
}

impl Sender {
    /// Runs until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            loop {
                if *stop.borrow() {
                    return;
                }
                let claim =
                    mail_outbox::claim_next(&self.db, &self.node, self.clock.now_ms(), ms(LEASE));
                match crate::db::within(crate::db::BACKGROUND_DEADLINE, claim).await {
                    // Past its lease the mail is anyone's again: a handling stuck on a
                    // database that stopped answering must not outlive it.
                    Ok(Some(job)) => {
                        if tokio::time::timeout(LEASE, self.handle(job)).await.is_err() {
                            tracing::warn!("mail queue: a mail's handling outlived its lease");
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "mail queue: cannot claim");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    }

    async fn handle(&self, job: Claimed) {
        let now = self.clock.now_ms();
        let kind = job.kind.name();
        let mut subject = job.user_id;
        let result = match compose(&self.db, &self.links, &self.from, &job, now).await {
            Ok(Composed::Skip(why)) => {
                tracing::info!(mail = job.id, kind, why, "mail skipped");
                self.finish(&job, Outcome::Skipped, None).await;
                return;
            }
            Ok(Composed::Send(mail)) => {
                subject = Some(mail.user_id);
                self.transport
                    .send(*mail)
                    .await
                    .map_err(|e| (e.message, e.permanent))
            }
            Err(ComposeError::Recipient(to)) => Err((format!("{to:?} is no mail address"), true)),
            Err(e) => Err((e.to_string(), false)),
        };
        match result {
            Ok(()) if matches!(self.transport, Transport::Log) => {
                // `--dev-mail`: done, but nothing left this machine; counted apart.
                tracing::info!(
                    mail = job.id,
                    kind,
                    "mail written to the log (--dev-mail), not sent"
                );
                crate::metrics::mail(kind, "logged");
                self.audit(&job, subject, true).await;
                self.finish(&job, Outcome::Sent, None).await;
            }
            Ok(()) => {
                tracing::info!(mail = job.id, kind, attempts = job.attempts, "mail sent");
                crate::metrics::mail(kind, "sent");
                self.audit(&job, subject, true).await;
                self.finish(&job, Outcome::Sent, None).await;
            }
            Err((error, permanent)) if permanent || job.attempts >= MAX_ATTEMPTS => {
                tracing::error!(
                    mail = job.id,
                    kind,
                    attempts = job.attempts,
                    error,
                    "mail given up"
                );
                crate::metrics::mail(kind, "failed");
                self.audit(&job, subject, false).await;
                self.finish(&job, Outcome::Failed, Some(&error)).await;
            }
            Err((error, _)) => {
                let pause = pause_after(job.attempts);
                tracing::warn!(mail = job.id, kind, attempts = job.attempts, error, retry_in = ?pause, "mail not sent; will retry");
                crate::metrics::mail(kind, "retried");
                let retry_at = self.clock.now_ms() + ms(pause);
                if let Err(e) =
                    mail_outbox::retry_later(&self.db, job.id, &self.node, retry_at, &error).await
                {
                    // The lease runs out and the mail is tried again then.
                    tracing::warn!(mail = job.id, error = %e, "mail queue: cannot schedule the retry");
                }
            }
        }
    }

    async fn finish(&self, job: &Claimed, outcome: Outcome, error: Option<&str>) {
        if let Err(e) =
            mail_outbox::finish(&self.db, job.id, outcome, error, self.clock.now_ms()).await
        {
            // Left claimed, the mail is tried again when the lease ends: a rare second copy
            // rather than a lost mail.
            tracing::warn!(mail = job.id, error = %e, "mail queue: cannot record the outcome");
        }
    }

    async fn audit(&self, job: &Claimed, subject: Option<i64>, ok: bool) {
        let entry = Entry {
            subject_id: subject,
            via: Via::Api,
            ..Entry::default()
        };
        audit::record(&self.db, &self.clock, Event::Mailed(job.kind), ok, &entry).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_from_five_seconds_up_to_an_hour() {
        assert_eq!(pause_after(1), Duration::from_secs(5));
        assert_eq!(pause_after(2), Duration::from_secs(10));
        assert_eq!(pause_after(5), Duration::from_secs(80));
        assert_eq!(pause_after(11), Duration::from_secs(3600));
        assert_eq!(pause_after(i64::MAX), Duration::from_secs(3600));
        let total: Duration = (1..MAX_ATTEMPTS).map(pause_after).sum();
        assert!(
            total > Duration::from_secs(5 * 3600) && total < Duration::from_secs(9 * 3600),
            "{total:?}"
        );
    }
}
