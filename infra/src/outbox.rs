//! Senders behind the notification port.
//!
//! * [`FileSender`] — the local platform's: each message becomes a file in `<data>/outbox/` and
//!   a log line (without the address), so a developer can read exactly what a customer receives.
//! * [`OutboxOnlySender`] — in AWS until a mail transport is connected: the message stays sealed
//!   in the outbox record, and the reference says so.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use async_trait::async_trait;
use incidents::{NoticeSender, OutgoingMessage};
use kernel::Error;

pub struct FileSender {
    dir: PathBuf,
}

impl FileSender {
    pub fn new(data_dir: &std::path::Path) -> Self {
        Self {
            dir: data_dir.join("outbox"),
        }
    }
}

#[async_trait]
impl NoticeSender for FileSender {
    async fn send(&self, message: &OutgoingMessage) -> Result<String, Error> {
        let fail = |e: std::io::Error| Error::Internal(format!("writing the outbox file: {e}"));
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let safe: String = message
            .id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.dir.join(format!("{safe}.eml"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(fail)?;
        write!(
            file,
            "To: {}\nSubject: {}\nContent-Type: text/plain; charset=utf-8\n\n{}",
            message.to.expose(),
            message.subject,
            message.body.expose()
        )
        .map_err(fail)?;
        file.sync_all().map_err(fail)?;
        tracing::info!(target: "regrooter::outbox", message = %message.id, file = %path.display(), "notification written");
        Ok(format!("file:{}", path.display()))
    }
}

pub struct OutboxOnlySender;

#[async_trait]
impl NoticeSender for OutboxOnlySender {
    async fn send(&self, message: &OutgoingMessage) -> Result<String, Error> {
        tracing::info!(target: "regrooter::outbox", message = %message.id, "notification queued in the outbox");
        Ok(format!("outbox:{}", message.id))
    }
}
