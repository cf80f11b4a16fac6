//! SMTP with `lettre`: the local and self-hosted mail transport (`REGROOTER_SMTP_URL`).
//!
//! The server's answer decides: 250 is accepted (its reply names the queued message), a 4xx is
//! transient (the outbox tries again with backoff), a 5xx is permanent (the message failed and
//! the duty stays open). Connection, TLS and timeout errors are transient. Reasons carry the
//! status code, never the server's text, which often quotes the recipient.

use std::time::Duration;

use async_trait::async_trait;
use incidents::{Accepted, NoticeSender, OutgoingMessage, SendFailure};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How long one hand-over may take (connect, TLS, the dialogue); below the outbox's claim lease.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpConfigError {
    #[error("REGROOTER_SMTP_URL: {0}")]
    Url(String),
    #[error("REGROOTER_MAIL_FROM: '{0}' is not a mailbox (\"Name <address>\" or an address)")]
    From(String),
}

impl SmtpSender {
    /// `url`: `smtps://host:465` (implicit TLS), `smtp://host:587?tls=required` (STARTTLS), or
    /// plain `smtp://host:port` (refused outside `dev` by the configuration), with optional
    /// `user:password@`.
    pub fn new(url: &str, from: &str) -> Result<Self, SmtpConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| SmtpConfigError::Url(e.to_string()))?
            .timeout(Some(SEND_TIMEOUT))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| SmtpConfigError::From(from.to_string()))?;
        Ok(Self { transport, from })
    }
}

fn reason(e: &lettre::transport::smtp::Error) -> String {
    match e.status() {
        Some(code) => format!("SMTP {code}"),
        None if e.is_timeout() => "SMTP timeout".into(),
        None => "SMTP connection or TLS failure".into(),
    }
}

#[async_trait]
impl NoticeSender for SmtpSender {
    fn transport(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Accepted, SendFailure> {
        let to =
            message.to.expose().parse::<Mailbox>().map_err(|_| {
                SendFailure::Permanent("the recipient is not a valid address".into())
            })?;
        let domain = self.from.email.domain().to_string();
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!("<{}@{domain}>", message.id)))
            .header(ContentType::TEXT_PLAIN)
            // lettre picks the transfer encoding (7-bit, quoted-printable or base64).
            .body(message.body.expose().clone())
            .map_err(|e| SendFailure::Permanent(format!("the message cannot be built: {e}")))?;
        match self.transport.send(email).await {
            Ok(response) => Ok(Accepted {
                transport_id: format!(
                    "{} {}",
                    response.code(),
                    response.first_line().unwrap_or_default()
                ),
            }),
            Err(e) if e.is_permanent() => Err(SendFailure::Permanent(reason(&e))),
            Err(e) => Err(SendFailure::Transient(reason(&e))),
        }
    }
}
