//! The mail port: what a transport (SES, SMTP, the local file outbox) is handed and what it
//! answers. A transport either accepted a message (and names it with its own id) or says why
//! not, and whether trying again later can help.

use async_trait::async_trait;

use kernel::crypto::Personal;

/// A message for a transport. `id` is the platform's message id: the `Message-ID` of the mail,
/// the SES tag that brings its delivery events back, and the outbox record's key.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub id: String,
    pub to: Personal<String>,
    pub subject: String,
    pub body: Personal<String>,
}

/// A transport took the message over: from here on, delivering it is the transport's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The transport's own id (SES's `MessageId`, the SMTP server's reply, the file's path).
    pub transport_id: String,
}

/// Why a transport did not take a message. The reason names the transport's answer (a status
/// code, an error kind), never the recipient: it is logged and kept in clear.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// Trying again later may work (a 4xx reply, throttling, a timeout, the network).
    #[error("transient: {0}")]
    Transient(String),
    /// Trying again will not help (a 5xx reply, a rejected recipient or sender).
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Hands messages to a mail transport.
#[async_trait]
pub trait NoticeSender: Send + Sync {
    /// The transport's name as kept on each message: `ses`, `smtp`, `file`.
    fn transport(&self) -> &'static str;

    /// Hands the message over once. Idempotency is the outbox's job, not the transport's: it
    /// calls this at most once per claim of a message.
    async fn send(&self, message: &OutgoingMessage) -> Result<Accepted, SendFailure>;
}

/// A transport for functions that send no mail: refuses every message, permanently, so a
/// message that reaches it is marked failed and shown, never counted as sent.
pub struct NoTransport;

#[async_trait]
impl NoticeSender for NoTransport {
    fn transport(&self) -> &'static str {
        "none"
    }

    async fn send(&self, _message: &OutgoingMessage) -> Result<Accepted, SendFailure> {
        Err(SendFailure::Permanent(
            "this function has no mail transport".into(),
        ))
    }
}
