//! Amazon SES v2: the mail transport in AWS, in the function's own (EU) region, from the verified
//! domain identity, through the configuration set whose event destination sends delivery,
//! bounce and complaint events to SNS and from there to the `incidents` function.
//!
//! Each message carries the SES tag `message=<platform message id>`, which is how its events
//! find it again ([`parse_event`]).

use async_trait::async_trait;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageTag};
use incidents::{
    Accepted, DeliveryEvent, DeliveryOutcome, NoticeSender, OutgoingMessage, SendFailure,
};
use kernel::time::Timestamp;
use serde::Deserialize;

/// The tag that carries the platform's message id.
pub const MESSAGE_TAG: &str = "message";

pub struct SesSender {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: String,
}

impl SesSender {
    pub fn new(client: aws_sdk_sesv2::Client, from: String, configuration_set: String) -> Self {
        Self {
            client,
            from,
            configuration_set,
        }
    }
}

fn content(text: &str) -> Result<Content, SendFailure> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| SendFailure::Permanent(format!("the message cannot be built: {e}")))
}

/// Which SES errors trying again can cure: throttling and paused sending (an operator lifts
/// the pause); a rejected message, an unverified sender or a bad request cannot.
fn classify<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> SendFailure {
    match e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("unknown").to_string();
            match code.as_str() {
                "TooManyRequestsException"
                | "LimitExceededException"
                | "SendingPausedException"
                | "AccountSuspendedException"
                | "InternalFailure"
                | "ServiceUnavailable" => SendFailure::Transient(format!("SES {code}")),
                _ => SendFailure::Permanent(format!("SES {code}")),
            }
        }
        SdkError::TimeoutError(_) => SendFailure::Transient("SES timeout".into()),
        _ => SendFailure::Transient("SES unreachable".into()),
    }
}

#[async_trait]
impl NoticeSender for SesSender {
    fn transport(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Accepted, SendFailure> {
        let tag = MessageTag::builder()
            .name(MESSAGE_TAG)
            .value(&message.id)
            .build()
            .map_err(|e| SendFailure::Permanent(format!("the message id is no SES tag: {e}")))?;
        let body = Body::builder()
            .text(content(message.body.expose())?)
            .build();
        let simple = Message::builder()
            .subject(content(&message.subject)?)
            .body(body)
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(message.to.expose())
                    .build(),
            )
            .content(EmailContent::builder().simple(simple).build())
            .configuration_set_name(&self.configuration_set)
            .email_tags(tag)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(Accepted {
            transport_id: sent.message_id().unwrap_or_default().to_string(),
        })
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("not an SES event: {0}")]
    Malformed(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SesEvent {
    /// Configuration-set events say `eventType`; identity notifications `notificationType`.
    #[serde(alias = "notificationType")]
    event_type: String,
    mail: SesMail,
    #[serde(default)]
    bounce: Option<Stamped>,
    #[serde(default)]
    delivery: Option<Stamped>,
    #[serde(default)]
    complaint: Option<Stamped>,
}

#[derive(Deserialize)]
struct SesMail {
    timestamp: Timestamp,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Stamped {
    timestamp: Timestamp,
}

/// Reads one SES event (the SNS message's text). `Ok(None)` for events the outbox does not
/// track (send, delivery delay, opens) and for mail without the platform's tag.
pub fn parse_event(text: &str) -> Result<Option<DeliveryEvent>, EventError> {
    let event: SesEvent =
        serde_json::from_str(text).map_err(|e| EventError::Malformed(e.to_string()))?;
    let Some(message_id) = event
        .mail
        .tags
        .get(MESSAGE_TAG)
        .and_then(|values| values.first())
        .cloned()
    else {
        return Ok(None);
    };
    let stamp = |s: &Option<Stamped>| s.as_ref().map_or(event.mail.timestamp, |s| s.timestamp);
    let (outcome, at) = match event.event_type.as_str() {
        "Delivery" => (DeliveryOutcome::Delivered, stamp(&event.delivery)),
        "Bounce" => (DeliveryOutcome::Bounced, stamp(&event.bounce)),
        // SES refused to send it (a virus found): for the recipient the same as a bounce.
        "Reject" => (DeliveryOutcome::Bounced, event.mail.timestamp),
        "Complaint" => (DeliveryOutcome::Complained, stamp(&event.complaint)),
        _ => return Ok(None),
    };
    Ok(Some(DeliveryEvent {
        message_id,
        outcome,
        at,
        sent_at: Some(event.mail.timestamp),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape of SES's event publishing records (docs: "Examples of event data that Amazon
    // SES publishes to Amazon SNS"), trimmed to the fields read here plus a few around them.
    const BOUNCE: &str = r#"{
      "eventType": "Bounce",
      "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                 "bouncedRecipients": [{"emailAddress": "privacy@acme.example"}],
                 "timestamp": "2026-03-29T01:00:05.000Z", "feedbackId": "x"},
      "mail": {"timestamp": "2026-03-29T01:00:00.000Z", "source": "security@regrooter.de",
               "messageId": "0102018e", "destination": ["privacy@acme.example"],
               "tags": {"ses:configuration-set": ["regrooter"], "message": ["inc_1-acme-1"]}}
    }"#;

    #[test]
    fn bounces_deliveries_and_complaints_name_the_platforms_message() {
        let event = parse_event(BOUNCE).expect("parse").expect("tracked");
        assert_eq!(event.message_id, "inc_1-acme-1");
        assert_eq!(event.outcome, DeliveryOutcome::Bounced);
        assert_eq!(event.at.to_string(), "2026-03-29T01:00:05Z");
        assert_eq!(
            event.sent_at.map(|t| t.to_string()).as_deref(),
            Some("2026-03-29T01:00:00Z")
        );
        let delivery = BOUNCE
            .replace("\"Bounce\"", "\"Delivery\"")
            .replace("\"bounce\"", "\"delivery\"");
        assert_eq!(
            parse_event(&delivery).expect("parse").map(|e| e.outcome),
            Some(DeliveryOutcome::Delivered)
        );
        let complaint = BOUNCE.replace(
            "\"eventType\": \"Bounce\"",
            "\"notificationType\": \"Complaint\"",
        );
        assert_eq!(
            parse_event(&complaint).expect("parse").map(|e| e.outcome),
            Some(DeliveryOutcome::Complained)
        );
        // Not tracked: other event types, and mail without the tag.
        let send = BOUNCE.replace("\"Bounce\"", "\"Send\"");
        assert_eq!(parse_event(&send), Ok(None));
        let untagged = BOUNCE.replace("\"message\": [\"inc_1-acme-1\"]", "\"other\": [\"x\"]");
        assert_eq!(parse_event(&untagged), Ok(None));
        assert!(matches!(
            parse_event("{\"eventType\": 1}"),
            Err(EventError::Malformed(_))
        ));
    }
}
