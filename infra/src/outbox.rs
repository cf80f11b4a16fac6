//! The local platform's mail transport: each message becomes a file `<data>/outbox/<id>.eml`
//! (mode 0600) and a log line carrying the message id only, so a developer reads exactly what a
//! customer or reporter receives. It is the embedded default; production and staging refuse it
//! (see `functions::config::MailConfig`), because a file reaches nobody.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use async_trait::async_trait;
use incidents::{Accepted, NoticeSender, OutgoingMessage, SendFailure};

pub struct FileSender {
    dir: PathBuf,
    from: String,
}

impl FileSender {
    pub fn new(data_dir: &std::path::Path, from: &str) -> Self {
        Self {
            dir: data_dir.join("outbox"),
            from: from.to_string(),
        }
    }

    /// The file a message is written to.
    pub fn path_of(&self, message_id: &str) -> PathBuf {
        let safe: String = message_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.eml"))
    }
}

#[async_trait]
impl NoticeSender for FileSender {
    fn transport(&self) -> &'static str {
        "file"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Accepted, SendFailure> {
        // A full disk or a missing directory may be fixed: the drain tries again.
        let fail = |e: std::io::Error| SendFailure::Transient(format!("outbox file: {}", e.kind()));
        std::fs::create_dir_all(&self.dir).map_err(fail)?;
        let path = self.path_of(&message.id);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(fail)?;
        write!(
            file,
            "From: {}\nTo: {}\nSubject: {}\nMessage-ID: <{}@outbox.local>\nContent-Type: text/plain; charset=utf-8\n\n{}",
            self.from,
            message.to.expose(),
            message.subject,
            message.id,
            message.body.expose()
        )
        .map_err(fail)?;
        file.sync_all().map_err(fail)?;
        tracing::info!(target: "regrooter::outbox", message = %message.id, file = %path.display(), "message written to the file outbox");
        Ok(Accepted {
            transport_id: format!("file:{}", path.display()),
        })
    }
}
