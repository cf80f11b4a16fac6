//! Mail: the transport a function sends with, and the SES delivery events it receives.
//!
//! Only the functions the registry marks `"mail": true` send mail; their binaries hand
//! [`transport`] to the start-up, so the SES client is linked into those zips only (SMTP is a
//! feature the zips leave out: in AWS mail goes through SES).
//! Every other function gets [`incidents::NoTransport`], which refuses, so a message that
//! reached one would be marked failed and shown, never counted as sent.

use std::path::Path;
use std::sync::Arc;

use incidents::NoticeSender;
use serde::{Deserialize, Serialize};

use crate::config::{MailConfig, MailTransport};
use crate::services::Services;

/// Builds a function's mail transport from its configuration (`aws`: the SDK configuration,
/// loaded when SES is chosen; `data`: the embedded store's directory, for the file outbox).
pub type TransportFactory = fn(
    &MailConfig,
    Option<&aws_config::SdkConfig>,
    Option<&Path>,
) -> Result<Arc<dyn NoticeSender>, String>;

/// The transport `REGROOTER_MAIL` names.
pub fn transport(
    mail: &MailConfig,
    aws: Option<&aws_config::SdkConfig>,
    data: Option<&Path>,
) -> Result<Arc<dyn NoticeSender>, String> {
    match &mail.transport {
        MailTransport::Ses { configuration_set } => {
            let aws = aws.ok_or("REGROOTER_MAIL=ses needs the AWS configuration")?;
            Ok(Arc::new(infra::ses::SesSender::new(
                aws_sdk_sesv2::Client::new(aws),
                mail.from.clone(),
                configuration_set.clone(),
            )))
        }
        #[cfg(feature = "smtp")]
        MailTransport::Smtp { url } => infra::smtp::SmtpSender::new(url, &mail.from)
            .map(|s| Arc::new(s) as Arc<dyn NoticeSender>)
            .map_err(|e| e.to_string()),
        #[cfg(not(feature = "smtp"))]
        MailTransport::Smtp { .. } => Err(
            "REGROOTER_MAIL=smtp: this build has no SMTP transport (the Lambda zips send through \
             SES and are built without the `smtp` feature); choose ses"
                .into(),
        ),
        MailTransport::Unconfigured => Err(
            "REGROOTER_MAIL must be 'ses' or 'smtp' here: the file outbox reaches nobody, and a \
             notice only counts once a transport accepted it"
                .into(),
        ),
        MailTransport::File => {
            let data = data.ok_or(
                "REGROOTER_MAIL=file writes into the embedded store's data directory; with DynamoDB choose ses or smtp",
            )?;
            Ok(Arc::new(infra::outbox::FileSender::new(data, &mail.from)))
        }
    }
}

/// Whether a Lambda event is an SNS delivery (and not a function URL request).
pub fn is_sns_event(payload: &serde_json::Value) -> bool {
    payload
        .get("Records")
        .and_then(|records| records.get(0))
        .and_then(|record| record.get("EventSource"))
        .and_then(serde_json::Value::as_str)
        == Some("aws:sns")
}

#[derive(Debug, Deserialize)]
struct SnsEvent {
    #[serde(rename = "Records")]
    records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
struct SnsRecord {
    #[serde(rename = "Sns")]
    sns: SnsMessage,
}

#[derive(Debug, Deserialize)]
struct SnsMessage {
    #[serde(rename = "TopicArn")]
    topic_arn: String,
    #[serde(rename = "MessageId")]
    message_id: String,
    #[serde(rename = "Message")]
    message: String,
}

/// What the handler did with one SNS delivery.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct EventsOutcome {
    /// (platform message id, the state it is in now)
    pub recorded: Vec<(String, incidents::DeliveryState)>,
    /// SES events the outbox does not track, or mail the platform did not send.
    pub ignored: usize,
}

/// Records the SES events of an SNS delivery. Events from a topic other than the configured
/// one are refused (only that topic may invoke the function, and it must say so itself too);
/// a store failure fails the invocation, so SNS delivers again.
pub async fn handle_events(
    services: &Services,
    payload: serde_json::Value,
) -> Result<EventsOutcome, kernel::Error> {
    let event: SnsEvent = serde_json::from_value(payload)
        .map_err(|e| kernel::Error::validation("/Records", format!("not an SNS event: {e}")))?;
    let Some(topic) = &services.config.mail.events_topic else {
        return Err(kernel::Error::BadRequest(
            "this function accepts no mail events (REGROOTER_MAIL_EVENTS_TOPIC is not set)".into(),
        ));
    };
    let mut outcome = EventsOutcome::default();
    for record in event.records {
        if &record.sns.topic_arn != topic {
            tracing::warn!(target: "regrooter::security", event = "mail_event_refused", sns_message = %record.sns.message_id, "SNS message from another topic refused");
            return Err(kernel::Error::BadRequest(
                "mail events are accepted from the configured topic only".into(),
            ));
        }
        let parsed = infra::ses::parse_event(&record.sns.message)
            .map_err(|e| kernel::Error::validation("/Records/Sns/Message", e.to_string()))?;
        let Some(delivery) = parsed else {
            outcome.ignored += 1;
            continue;
        };
        let message = delivery.message_id.clone();
        match services.incidents.record_delivery_event(delivery).await? {
            Some((state, alerts)) => {
                tracing::info!(target: "regrooter::outbox", message = %message, state = %state, "delivery event recorded");
                crate::jobs::log_alerts(&alerts);
                outcome.recorded.push((message, state));
            }
            None => {
                tracing::warn!(target: "regrooter::outbox", message = %message, "delivery event for a message this platform does not know");
                outcome.ignored += 1;
            }
        }
    }
    Ok(outcome)
}
