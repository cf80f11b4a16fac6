//! `/console/reports`: the inbox of security reports — each with the start of its description,
//! not only its id — and a report's page with all it says and the triage: spam, not a breach, a
//! duplicate of another report, or an incident opened from it with the incident file's form.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use incidents::model::{MessageFrom, ReportId, ReportStatus, Triage};
use incidents::service::{ReportView, TriageInput};
use kernel::Error;
use kernel::rbac::Permission;
use maud::{Markup, html};

use super::incidents::{DraftForm, FileForm, draft_errors, draft_fields, draft_summary};
use super::{excerpt, nav, none_yet, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::layout::{error_summary, field_error, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const REPORTS: &str = "/console/reports";

/// The newest reports whose text the inbox opens for its excerpts.
const EXCERPTS: usize = 50;

fn report_path(id: &ReportId) -> String {
    format!("{REPORTS}/{id}")
}

fn parse_id(raw: &str) -> PageResult<ReportId> {
    ReportId::parse(raw).map_err(|_| PageError(Error::NotFound("report".into())))
}

fn report_status(status: ReportStatus, triage: Option<&Triage>) -> Markup {
    let (class, text) = match (status, triage) {
        (_, None) => ("bad", t("neu, nicht gesichtet", "new, not triaged")),
        (_, Some(Triage::Spam)) => ("good", t("Spam", "spam")),
        (_, Some(Triage::NotABreach)) => ("good", t("keine Verletzung", "not a breach")),
        (_, Some(Triage::Duplicate { .. })) => ("good", t("Duplikat", "duplicate")),
        (ReportStatus::Closed, Some(Triage::Incident { .. })) => {
            ("good", t("Vorfall abgeschlossen", "incident closed"))
        }
        (_, Some(Triage::Incident { .. })) => ("warn", t("Vorfall eröffnet", "incident opened")),
    };
    html! { span class={ "status " (class) } { (text) } }
}

/// A CVSS score as written in `lang`: "9,3" / "9.3".
fn format_score(lang: web::Lang, score: f64) -> String {
    let text = format!("{score:.1}");
    lang.pick(text.replace('.', ","), text)
}

/// CVSS's qualitative rating in words.
fn severity_words(severity: &str) -> &'static str {
    match severity {
        "critical" => t("kritisch", "critical"),
        "high" => t("hoch", "high"),
        "medium" => t("mittel", "medium"),
        "low" => t("niedrig", "low"),
        _ => t("keine", "none"),
    }
}

pub async fn inbox(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    staff_only(&viewer)?;
    let lang = current_lang();
    let reports = s.incidents.list_reports(&viewer.access).await?;
    let waiting = reports.iter().filter(|r| r.triage.is_none()).count();
    let mut rows = Vec::new();
    for (i, summary) in reports.iter().enumerate() {
        let text = if i < EXCERPTS {
            Some(
                s.incidents
                    .get_report(&viewer.access, &summary.id)
                    .await?
                    .description,
            )
        } else {
            None
        };
        rows.push((summary, text));
    }
    let body = html! {
        h1 { (t("Meldungen", "Reports")) }
        p class="lead" {
            (waiting) " " (t("warten auf Sichtung", "waiting for triage"))
            " · " (reports.len()) " " (t("insgesamt (neueste zuerst)", "in all (newest first)"))
        }
        @if reports.is_empty() {
            (none_yet("Noch keine Meldung.", "No report yet."))
        } @else {
            table id="reports" {
                caption class="muted" { (t("Sicherheitsmeldungen über das öffentliche Formular; vertraulich", "Security reports from the public form; confidential")) }
                thead { tr {
                    th scope="col" { (t("Eingang", "Received")) }
                    th scope="col" { (t("Beschreibung", "Description")) }
                    th scope="col" { (t("Stand", "State")) }
                } }
                tbody {
                    @for (summary, text) in &rows {
                        tr {
                            td { a href=(report_path(&summary.id)) { (date_time(lang, summary.received_at)) } }
                            td { (text.as_deref().map(|d| excerpt(d, 140)).unwrap_or_else(|| summary.id.to_string())) }
                            td {
                                (report_status(summary.status, summary.triage.as_ref()))
                                @if summary.reporter_wrote_last {
                                    " " span class="status warn" { (t("Antwort der meldenden Person", "the reporter answered")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(t("Meldungen", "Reports"), body).nav(nav(&viewer)))
}

pub async fn report(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> PageResult<Page> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let view = s.incidents.get_report(&viewer.access, &id).await?;
    render(
        &s,
        &viewer,
        &view,
        &DraftForm::default(),
        &[],
        &Conversation::default(),
    )
    .await
}

/// The message form's state after a post: what to say above it, and what was typed when the
/// message was refused.
#[derive(Default)]
struct Conversation {
    notice: Option<Markup>,
    typed: String,
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    view: &ReportView,
    draft: &DraftForm,
    errors: &[(String, String)],
    conversation: &Conversation,
) -> PageResult<Page> {
    let lang = current_lang();
    let now = s.clock.now();
    let permissions = viewer.access.permissions();
    let may_triage = permissions.contains(Permission::ReportsTriage) && view.triage.is_none();
    let may_open = may_triage && permissions.contains(Permission::IncidentsManage);
    let may_write = permissions.contains(Permission::ReportsTriage)
        && view.messages.len() < kernel::report_limits::MESSAGES_PER_REPORT;
    let action = format!("{}/triage", report_path(&view.id));
    let duplicate_error = field_error(errors, "of");
    let others: Vec<_> = if may_triage {
        s.incidents
            .list_reports(&viewer.access)
            .await?
            .into_iter()
            .filter(|r| r.id != view.id)
            .take(EXCERPTS)
            .collect()
    } else {
        Vec::new()
    };
    let body = html! {
        p { a href=(REPORTS) { "← " (t("Alle Meldungen", "All reports")) } }
        h1 { (t("Meldung vom ", "Report of ")) (date_time(lang, view.received_at)) }
        p { (report_status(view.status, view.triage.as_ref())) " · " code { (view.id) } }
        @if let Some(Triage::Incident { incident }) = &view.triage {
            p { a href={ (super::incidents::INCIDENTS) "/" (incident) } { (t("Zum Vorfall", "To the incident")) } }
        }
        dl {
            dt { (t("Beschreibung", "Description")) } dd class="prose" { (view.description) }
            dt { (t("Betroffene Unternehmen oder Personen", "Affected companies or people")) } dd class="prose" { (view.affected_parties) }
            dt { (t("Art der personenbezogenen Daten", "Kind of personal data")) } dd class="prose" { (view.personal_data_kind) }
            dt { (t("Umfang", "Scope")) } dd class="prose" { (view.scope) }
            dt { (t("Folgen für die Rechte der Betroffenen", "Impact on people's rights")) } dd class="prose" { (view.impact_assessment) }
            dt { (t("Kontakt der meldenden Person", "Reporter's contact")) } dd { (view.reporter_contact.as_deref().unwrap_or("—")) }
            @if let Some(product) = &view.affected_product {
                dt { (t("Betroffenes Produkt oder URL", "Affected product or URL")) } dd class="prose" { (product) }
            }
            @if let Some(steps) = &view.steps_to_reproduce {
                dt { (t("Schritte zum Nachvollziehen", "Steps to reproduce")) } dd class="prose" { (steps) }
            }
            @if let Some(vector) = &view.cvss_vector {
                dt { (t("CVSS v4.0 (Einschätzung der meldenden Person)", "CVSS v4.0 (the reporter's rating)")) }
                dd {
                    @if let Ok(rated) = kernel::report_limits::cvss_v4(vector) {
                        strong { (format_score(lang, rated.score)) } " · " (severity_words(rated.severity)) " · "
                    }
                    code { (vector) }
                }
            }
            dt { (t("Sprache", "Language")) } dd { (format!("{:?}", view.language).to_lowercase()) }
            @if view.scrubbed_card_numbers > 0 {
                dt { (t("Entfernte Kartennummern", "Card numbers removed")) } dd { (view.scrubbed_card_numbers) }
            }
        }
        h2 id="messages" { (t("Nachrichten mit der meldenden Person", "Messages with the reporter")) }
        @if view.messages.is_empty() {
            (none_yet("Noch keine Nachrichten.", "No messages yet."))
        } @else {
            ol class="messages" {
                @for message in &view.messages {
                    li class=(if message.from == MessageFrom::SecurityTeam { "from-team" } else { "from-reporter" }) {
                        p class="meta" {
                            strong { @if message.from == MessageFrom::SecurityTeam { (t("Sicherheitsteam", "Security team")) } @else { (t("Meldende Person", "Reporter")) } }
                            " · " (date_time(lang, message.at))
                        }
                        p class="prose" { (message.text) }
                    }
                }
            }
        }
        @if let Some(notice) = &conversation.notice { (notice) }
        @if may_write {
            @let text_error = field_error(errors, "text");
            form method="post" action={ (report_path(&view.id)) "/messages" } novalidate {
                (form_token_field(&viewer.form_token))
                label for="text" { (t("Nachricht an die meldende Person", "Message to the reporter")) }
                p class="hint" id="text-hint" { (if view.reporter_contact.is_some() { t(
                    "Sie liest sie auf der Statusseite mit ihrem Zugangscode; eine E-Mail sagt ihr, dass eine Nachricht da ist (ohne den Text).",
                    "They read it on the status page with their access code; an e-mail tells them a message is there (without its text).",
                ) } else { t(
                    "Sie hat keinen Kontakt angegeben: Sie liest die Nachricht nur, wenn sie die Statusseite aufruft.",
                    "They left no contact: they read the message only when they open the status page.",
                ) }) }
                @if let Some(e) = text_error { p class="field-error" id="text-error" { (e) } }
                textarea id="text" name="text" rows="5" maxlength=(kernel::report_limits::MESSAGE_LIMIT) required
                    aria-describedby={ "text-hint" @if text_error.is_some() { " text-error" } }
                    aria-invalid=[text_error.map(|_| "true")] { (conversation.typed) }
                button type="submit" { (t("Nachricht senden", "Send the message")) }
            }
        }
        @if may_triage {
            h2 { (t("Sichtung", "Triage")) }
            @if duplicate_error.is_some() { (error_summary(errors)) }
            form method="post" action=(action) class="inline" {
                (form_token_field(&viewer.form_token))
                input type="hidden" name="outcome" value="spam";
                button type="submit" class="secondary" { (t("Spam", "Spam")) }
            }
            " "
            form method="post" action=(action) class="inline" {
                (form_token_field(&viewer.form_token))
                input type="hidden" name="outcome" value="not_a_breach";
                button type="submit" class="secondary" { (t("Keine Verletzung", "Not a breach")) }
            }
            @if !others.is_empty() {
                form method="post" action=(action) {
                    (form_token_field(&viewer.form_token))
                    input type="hidden" name="outcome" value="duplicate";
                    label for="of" { (t("Duplikat der Meldung", "Duplicate of the report")) }
                    @if let Some(e) = duplicate_error { p class="field-error" id="of-error" { (e) } }
                    select id="of" name="of" aria-invalid=[duplicate_error.map(|_| "true")] {
                        @for other in &others {
                            option value=(other.id) { (date_time(lang, other.received_at)) " · " (other.id) }
                        }
                    }
                    button type="submit" class="secondary" { (t("Als Duplikat schließen", "Close as a duplicate")) }
                }
            }
            @if may_open {
                h2 { (t("Vorfall eröffnen", "Open an incident")) }
                p class="hint" { (t(
                    "Die Akte nach Art. 33 Abs. 3 und 5 DSGVO; alle Felder lassen sich später ergänzen.",
                    "The file under Art. 33(3) and (5) GDPR; every field can be completed later.",
                )) }
                form method="post" action=(action) novalidate {
                    (form_token_field(&viewer.form_token))
                    input type="hidden" name="outcome" value="incident";
                    @if !errors.is_empty() { (draft_summary(errors)) }
                    (draft_fields(draft, errors, now, FileForm::Triage))
                    button type="submit" { (t("Vorfall eröffnen", "Open the incident")) }
                }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(t("Meldung", "Report"), body)
        .nav(nav(viewer))
        .status(status))
}

/// A triage form's post: the outcome and, for an incident, the file's fields (repeated
/// checkboxes, hence pairs).
pub async fn triage(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let outcome = fields
        .iter()
        .find(|(n, _)| n == "outcome")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let form = DraftForm::new(fields.clone());
    let input = match outcome.as_str() {
        "spam" => TriageInput::Spam,
        "not_a_breach" => TriageInput::NotABreach,
        "duplicate" => {
            let of = fields
                .iter()
                .find(|(n, _)| n == "of")
                .and_then(|(_, v)| ReportId::parse(v).ok());
            match of {
                Some(of) => TriageInput::Duplicate { of },
                None => return refused(&s, &viewer, &id, &form, vec![duplicate_error()]).await,
            }
        }
        "incident" => {
            let now = s.clock.now();
            let (draft, unreadable) = form.draft(now);
            if !unreadable.is_empty() {
                // Name every failing field at once: what could not be read, and what the
                // service refuses among the rest (checked on the stand-in, nothing written).
                let mut pointers: Vec<kernel::error::FieldError> = unreadable
                    .iter()
                    .map(|f| kernel::error::FieldError::new(format!("/{f}"), "unreadable"))
                    .collect();
                if let Err(Error::Validation(more)) = s.incidents.validate_draft(&draft, now).await
                {
                    pointers.extend(more);
                }
                return refused(&s, &viewer, &id, &form, draft_errors(&pointers, "")).await;
            }
            TriageInput::Incident {
                incident: Box::new(draft),
            }
        }
        _ => {
            return Err(PageError(Error::BadRequest(
                "unknown triage outcome".into(),
            )));
        }
    };
    match s.incidents.triage(&viewer.access, &id, input).await {
        Ok(summary) => match summary.triage {
            Some(Triage::Incident { incident }) => Ok(super::incidents::opened(&incident)),
            _ => Ok(see_other(&report_path(&id), &[])),
        },
        Err(Error::Validation(fields)) => {
            let errors = if outcome == "duplicate" {
                vec![duplicate_error()]
            } else {
                draft_errors(&fields, "/incident")
            };
            refused(&s, &viewer, &id, &form, errors).await
        }
        Err(e) => Err(PageError(e)),
    }
}

fn duplicate_error() -> (String, String) {
    (
        "of".into(),
        t(
            "Bitte eine andere, bestehende Meldung wählen.",
            "Please choose another, existing report.",
        )
        .into(),
    )
}

async fn refused(
    s: &Services,
    viewer: &Viewer,
    id: &ReportId,
    form: &DraftForm,
    errors: Vec<(String, String)>,
) -> PageResult<Response> {
    let view = s.incidents.get_report(&viewer.access, id).await?;
    Ok(
        render(s, viewer, &view, form, &errors, &Conversation::default())
            .await?
            .into_response(),
    )
}

#[derive(serde::Deserialize)]
pub struct MessageForm {
    #[serde(default)]
    text: Option<String>,
}

/// The message form's post: sent (and whether the reporter is told by mail), or refused with
/// what was typed kept.
pub async fn message(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<MessageForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let typed = form.text.clone().unwrap_or_default();
    let (errors, conversation) = match s
        .incidents
        .message_to_reporter(&viewer.access, &id, form.text)
        .await
    {
        Ok(mailed) => {
            let said = if mailed {
                t(
                    "Die Nachricht ist gesendet; die meldende Person erfährt es per E-Mail.",
                    "The message is sent; the reporter learns of it by e-mail.",
                )
            } else {
                t(
                    "Die Nachricht ist gesendet; sie steht auf der Statusseite der Meldung.",
                    "The message is sent; it is on the report's status page.",
                )
            };
            let notice = super::done(said);
            (
                Vec::new(),
                Conversation {
                    notice: Some(notice),
                    typed: String::new(),
                },
            )
        }
        Err(Error::Validation(fields)) => {
            let errors = fields
                .iter()
                .map(|f| {
                    let said = if f.detail.contains("required") {
                        t("Bitte eine Nachricht schreiben.", "Please write a message.")
                    } else {
                        t(
                            "Die Nachricht ist zu lang oder enthält Steuerzeichen.",
                            "The message is too long or contains control characters.",
                        )
                    };
                    ("text".to_string(), said.to_string())
                })
                .collect();
            (
                errors,
                Conversation {
                    notice: None,
                    typed,
                },
            )
        }
        Err(Error::Conflict(_)) => {
            let notice = html! { div class="errors" role="alert" { p { (t(
                "Die Meldung hat die höchste Zahl an Nachrichten erreicht.",
                "The report holds as many messages as it can.",
            )) } } };
            (
                Vec::new(),
                Conversation {
                    notice: Some(notice),
                    typed,
                },
            )
        }
        Err(e) => return Err(PageError(e)),
    };
    let view = s.incidents.get_report(&viewer.access, &id).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(render(
        &s,
        &viewer,
        &view,
        &DraftForm::default(),
        &errors,
        &conversation,
    )
    .await?
    .status(status)
    .into_response())
}
