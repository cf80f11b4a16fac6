//! The confidential conversation between a reporter and the security team: the team asks, the
//! reporter answers (or adds what they found) on the status page with the access code. Each
//! message is sealed like the report and written with its audit entry in one transaction; the
//! other side learns of it by mail — the reporter only if they left a contact, the team at its
//! alert mailbox — and, as every mail to a reporter, the mail never carries the text.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{IncidentService, ctx};
use crate::model::{
    ClosedBecause, MessageFrom, ReportId, ReportMessage, ReportRecord, ReportStatus,
};
use crate::notice::{reporter_new_message, team_new_message};
use crate::outbox::Purpose;
use kernel::audit::{self, Stamp};
use kernel::crypto::Personal;
use kernel::error::Error;
use kernel::inventory::RecordKind;
use kernel::rbac::{Access, Permission, Principal, Scope};
use kernel::report_limits::{MESSAGE_LIMIT, MESSAGES_PER_REPORT};

/// What the reporter reads with the access code: the status, why it was closed, and the
/// conversation (without who on the team wrote).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReporterView {
    pub status: ReportStatus,
    pub closed_because: Option<ClosedBecause>,
    pub messages: Vec<ReportMessageView>,
    /// Whether the reporter may still write (the report is open and the conversation not full).
    pub may_write: bool,
}

/// One message, opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportMessageView {
    pub at: kernel::time::Timestamp,
    pub from: MessageFrom,
    pub text: String,
    /// The staff member who wrote it (only in the team's view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// A message's text as typed: required, at most `MESSAGE_LIMIT` characters, no control
/// characters but line breaks and tabs.
fn checked_text(text: Option<String>) -> Result<String, Error> {
    let text = text.unwrap_or_default();
    let trimmed = text.trim();
    let problem = if trimmed.is_empty() {
        Some("is required".to_string())
    } else if trimmed.chars().count() > MESSAGE_LIMIT {
        Some(format!("must be at most {MESSAGE_LIMIT} characters"))
    } else if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        Some("contains control characters".to_string())
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::validation("/text", problem)),
        None => Ok(trimmed.to_string()),
    }
}

fn full() -> Error {
    Error::Conflict(format!(
        "this report holds {MESSAGES_PER_REPORT} messages, the most it can; please send a new report"
    ))
}

impl IncidentService {
    /// The report behind a tracking id and its access code: a wrong code gets the same answer
    /// as an unknown id (compared in constant time).
    async fn report_with_secret(
        &self,
        id: &ReportId,
        secret: &str,
    ) -> Result<(ReportRecord, u64), Error> {
        let unknown = || Error::NotFound("report".into());
        let (record, version) = self.load_report(id).await.map_err(|_| unknown())?;
        let given = Sha256::digest(secret.trim().as_bytes());
        let expected = kernel::hex::decode(&record.secret_digest).unwrap_or_default();
        if subtle::ConstantTimeEq::ct_eq(given.as_slice(), expected.as_slice()).into() {
            Ok((record, version))
        } else {
            Err(unknown())
        }
    }

    /// The reporter's view of a report, read with its access code.
    pub async fn report_status(&self, id: &ReportId, secret: &str) -> Result<ReporterView, Error> {
        let (record, _) = self.report_with_secret(id, secret).await?;
        self.reporter_view(&record).await
    }

    async fn reporter_view(&self, record: &ReportRecord) -> Result<ReporterView, Error> {
        Ok(ReporterView {
            status: record.status,
            closed_because: ClosedBecause::of(record.status, record.triage.as_ref()),
            messages: self.open_messages(record, false).await?,
            may_write: record.status != ReportStatus::Closed
                && record.messages.len() < MESSAGES_PER_REPORT,
        })
    }

    /// The report's messages opened, oldest first; `with_authors` for the team's view.
    pub(super) async fn open_messages(
        &self,
        record: &ReportRecord,
        with_authors: bool,
    ) -> Result<Vec<ReportMessageView>, Error> {
        let rid = record.id.to_string();
        let mut views = Vec::with_capacity(record.messages.len());
        for (n, message) in record.messages.iter().enumerate() {
            let field = format!("messages[{n}].body");
            let text = self
                .keyring
                .open(
                    &ctx(RecordKind::SecurityReport, &rid, &field),
                    &message.body,
                )
                .await?
                .into_inner();
            views.push(ReportMessageView {
                at: message.at,
                from: message.from,
                text,
                by: message.by.clone().filter(|_| with_authors),
            });
        }
        Ok(views)
    }

    /// The reporter writes to the security team (an answer, or more of what they found), with
    /// the access code; refused once the report is closed. The team's mailbox hears of it.
    pub async fn message_from_reporter(
        &self,
        id: &ReportId,
        secret: &str,
        text: Option<String>,
    ) -> Result<ReporterView, Error> {
        let (mut record, version) = self.report_with_secret(id, secret).await?;
        let text = checked_text(text)?;
        if record.status == ReportStatus::Closed {
            return Err(Error::Conflict(
                "this report is closed; for anything new, please send a new report".into(),
            ));
        }
        if record.messages.len() >= MESSAGES_PER_REPORT {
            return Err(full());
        }
        let n = record.messages.len();
        let mail = match &self.alert_recipient {
            Some(mailbox) => {
                let (subject, body) = team_new_message(id);
                Some(
                    self.queue_message(
                        format!("{id}-msg-{}", n + 1),
                        Purpose::TeamMessage { report: *id },
                        mailbox,
                        subject,
                        &Personal::new(body),
                    )
                    .await?,
                )
            }
            None => None,
        };
        self.append_message(
            &mut record,
            version,
            MessageFrom::Reporter,
            &Principal::system("reporter"),
            &text,
            mail,
        )
        .await?;
        self.reporter_view(&record).await
    }

    /// The security team writes to the reporter (a question, or news). The reporter reads it on
    /// the status page and, when they left a contact, is told by mail (without the text).
    /// Returns whether such a mail was queued.
    pub async fn message_to_reporter(
        &self,
        access: &Access,
        id: &ReportId,
        text: Option<String>,
    ) -> Result<bool, Error> {
        access.require(Permission::ReportsTriage, Scope::Platform)?;
        let (mut record, version) = self.load_report(id).await?;
        let text = checked_text(text)?;
        if record.messages.len() >= MESSAGES_PER_REPORT {
            return Err(full());
        }
        let n = record.messages.len();
        let mail = match self.reporter_contact(&record).await? {
            Some(contact) => {
                let (subject, body) = reporter_new_message(id, &self.status_page(id));
                Some(
                    self.queue_message(
                        format!("{id}-msg-{}", n + 1),
                        Purpose::ReporterMessage { report: *id },
                        &contact,
                        subject,
                        &Personal::new(body),
                    )
                    .await?,
                )
            }
            None => None,
        };
        let mailed = mail.is_some();
        self.append_message(
            &mut record,
            version,
            MessageFrom::SecurityTeam,
            access.principal(),
            &text,
            mail,
        )
        .await?;
        Ok(mailed)
    }

    /// Seals `text` as the next message, writes the report under its version with the audit
    /// entry (and the mail, if any) in one transaction. A concurrent change of the report makes
    /// the write fail as a conflict; nothing is half-written.
    async fn append_message(
        &self,
        record: &mut ReportRecord,
        version: u64,
        from: MessageFrom,
        principal: &Principal,
        text: &str,
        mail: Option<kernel::store::WriteOp>,
    ) -> Result<(), Error> {
        let rid = record.id.to_string();
        let n = record.messages.len();
        let body = self
            .seal(
                RecordKind::SecurityReport,
                &rid,
                &format!("messages[{n}].body"),
                &Personal::new(text.to_string()),
            )
            .await?;
        let now = self.clock.now();
        record.messages.push(ReportMessage {
            at: now,
            from,
            body,
            by: (from == MessageFrom::SecurityTeam).then(|| principal.subject.clone()),
        });
        let action = match from {
            MessageFrom::Reporter => "report.message_received",
            MessageFrom::SecurityTeam => "report.message_sent",
        };
        let change = serde_json::json!({ "message": n + 1 });
        let stamp = Stamp {
            at: now,
            by: principal,
            action,
        };
        let mut ops = audit::update_ops(record, version, stamp, &change)?;
        ops.extend(mail);
        self.store.transact(ops).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_required_bounded_and_free_of_control_characters() {
        assert_eq!(
            checked_text(Some("  Which export URL did you use?\n".into())).ok(),
            Some("Which export URL did you use?".to_string())
        );
        for bad in [
            None,
            Some("   ".to_string()),
            Some("x".repeat(MESSAGE_LIMIT + 1)),
            Some("bell \u{7}".to_string()),
        ] {
            let Err(Error::Validation(fields)) = checked_text(bad) else {
                panic!("refused");
            };
            assert_eq!(fields[0].pointer, "/text");
        }
        assert!(checked_text(Some("x".repeat(MESSAGE_LIMIT))).is_ok());
    }
}
