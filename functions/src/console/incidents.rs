//! `/console/incidents`: the incident files with their deadlines counting down (48 h for each
//! customer, 72 h for the authority, NIS2 when flagged), coloured by urgency; an incident's
//! file, measures and assessment; the customer notices previewed as they would go out and sent.
//! Also the incident file's form, which the reports inbox uses to open an incident.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use incidents::assessment::BreachType;
use incidents::deadlines::{Deadline, DeadlineState};
use incidents::model::{
    AffectedDataSet, Approx, Duty, IncidentId, IncidentStatus, MeasureKind, MeasureStatus, Role,
};
use incidents::service::{
    AssessmentInput, EnglishInput, EnglishText, IncidentDraft, IncidentForCaller, IncidentPatch,
    IncidentView, MeasureInput, NoticeChoice, NoticePreview, OverrideInput,
};
use kernel::Error;
use kernel::crypto::Personal;
use kernel::ids::TenantId;
use kernel::inventory::DataCategory;
use kernel::rbac::Permission;
use kernel::time::Timestamp;
use maud::{Markup, html};

use super::{done, nav, none_yet, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, local_input, local_time, remaining};
use crate::web::layout::{
    countdown_control, error_summary, field_error, form_token_field, see_other,
};
use crate::web::{Page, PageError, PageForm, PageResult, Text, Viewer};

pub const INCIDENTS: &str = "/console/incidents";

/// Within this many hours of its due time an open deadline shows as urgent.
const URGENT_HOURS: i64 = 12;

fn incident_path(id: &IncidentId) -> String {
    format!("{INCIDENTS}/{id}")
}

fn parse_id(raw: &str) -> PageResult<IncidentId> {
    IncidentId::parse(raw).map_err(|_| PageError(Error::NotFound("incident".into())))
}

pub fn status(status: IncidentStatus) -> Markup {
    crate::portal::incidents::status(status)
}

fn duty(duty: &Duty) -> String {
    match duty {
        Duty::Customer { tenant } => format!("{} {tenant}", t("Kunde", "Customer")),
        Duty::SupervisoryAuthority => t("Aufsichtsbehörde", "Supervisory authority").into(),
        Duty::DataSubjects => t("Betroffene Personen", "Data subjects").into(),
        Duty::Nis2EarlyWarning => t("NIS2-Frühwarnung", "NIS2 early warning").into(),
        Duty::Nis2Notification => t("NIS2-Meldung", "NIS2 notification").into(),
        Duty::Nis2FinalReport => t("NIS2-Abschlussbericht", "NIS2 final report").into(),
    }
}

/// A deadline as people read it: met (on time or late), missed, or the time left — red when
/// it is close or passed, amber within the day, the text saying so as well as the colour.
pub fn countdown(deadline: &Deadline, now: Timestamp) -> Markup {
    let lang = current_lang();
    let hours_left = (deadline.due.as_second() - now.as_second()) / 3600;
    html! {
        @match deadline.state {
            DeadlineState::MetOnTime => {
                span class="status good" { (t("erfüllt", "met")) }
                @if let Some(at) = deadline.met_at { " " (date_time(lang, at)) }
            }
            DeadlineState::MetLate => {
                span class="status warn" { (t("verspätet erfüllt", "met late")) }
                @if let Some(at) = deadline.met_at { " " (date_time(lang, at)) }
            }
            DeadlineState::Missed => {
                span class="status bad" { (t("versäumt", "missed")) }
                " " (t("seit ", "overdue by ")) (remaining(deadline.due, now))
            }
            DeadlineState::Pending => {
                @let class = if hours_left < URGENT_HOURS { "bad" } else if hours_left < 24 { "warn" } else { "good" };
                span class={ "status " (class) } { (t("offen", "open")) }
                " "
                span data-due=(deadline.due) data-now=(now) data-urgent=(URGENT_HOURS)
                    data-passed=(t("Frist abgelaufen – Seite neu laden", "deadline passed – reload the page")) {
                    (t("noch ", "")) strong { (remaining(now, deadline.due)) } (t("", " left"))
                }
                " · " (t("fällig ", "due ")) (date_time(lang, deadline.due))
            }
        }
    }
}

/// The open deadline due first, for lists.
fn next_open(deadlines: &[Deadline]) -> Option<&Deadline> {
    deadlines
        .iter()
        .filter(|d| d.state == DeadlineState::Pending)
        .min_by_key(|d| d.due)
}

async fn staff_view(s: &Services, viewer: &Viewer, id: &IncidentId) -> PageResult<IncidentView> {
    match s.incidents.get_incident(&viewer.access, id).await? {
        IncidentForCaller::Staff(view) => Ok(*view),
        IncidentForCaller::Customer(_) => Err(PageError(Error::Forbidden(
            kernel::rbac::Denied::PlatformData,
        ))),
    }
}

/// At most this many incident files are read for the list's deadlines (newest first).
const LISTED: usize = 50;

pub async fn list(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    staff_only(&viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let (rows, more) = s.incidents.newest_incidents(&viewer.access, LISTED).await?;
    let body = html! {
        h1 { (t("Vorfälle", "Incidents")) }
        (countdown_control())
        @if rows.is_empty() {
            (none_yet("Noch kein Vorfall.", "No incident yet."))
        } @else {
            table id="incidents" {
                caption class="muted" { (t("Neueste zuerst; die nächste offene Frist jedes Vorfalls", "Newest first; each incident's next open deadline")) }
                thead { tr {
                    th scope="col" { (t("Vorfall", "Incident")) }
                    th scope="col" { (t("Stand", "Status")) }
                    th scope="col" { (t("Bekannt seit", "Aware since")) }
                    th scope="col" { (t("Nächste Frist", "Next deadline")) }
                } }
                tbody {
                    @for view in &rows {
                        tr {
                            td { a href=(incident_path(&view.id)) { (view.title) } }
                            td { (status(view.status)) }
                            td { (date_time(lang, view.aware_at)) }
                            td {
                                @match next_open(&view.deadlines) {
                                    Some(d) => { (duty(&d.duty)) ": " (countdown(d, now)) }
                                    None => { span class="muted" { (t("keine offene Frist", "no open deadline")) } }
                                }
                            }
                        }
                    }
                }
            }
            @if more {
                p class="hint" {
                    (t("Die ", "The ")) (rows.len()) (t(" neuesten Vorfälle; alle stehen im ", " newest incidents; all of them are in the "))
                    a href=(super::register::REGISTER_CSV) { (t("Verzeichnis (CSV)", "register (CSV)")) } "."
                }
            }
        }
    };
    Ok(Page::new(t("Vorfälle", "Incidents"), body)
        .nav(nav(&viewer))
        .countdown_script())
}

pub async fn detail(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> PageResult<Page> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    render(&s, &viewer, &id, None, &[]).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    id: &IncidentId,
    notice: Option<Markup>,
    errors: &[(String, String)],
) -> PageResult<Page> {
    let lang = current_lang();
    let now = s.clock.now();
    let view = staff_view(s, viewer, id).await?;
    let may_send = viewer
        .access
        .permissions()
        .contains(Permission::NotificationsSend);
    // Each customer's next notice: the first until it is told, then the follow-up.
    let previews = if may_send {
        s.incidents
            .preview_customer_notices(&viewer.access, id, NoticeChoice::Next)
            .await?
    } else {
        Vec::new()
    };
    let (firsts, told): (Vec<&NoticePreview>, Vec<&NoticePreview>) =
        previews.iter().partition(|p| p.first_sent_at.is_none());
    let sendable = firsts.iter().any(|p| p.not_sent.is_none());
    let follow_up_sendable = told.iter().any(|p| p.not_sent.is_none());
    let ours = view.data_sets.iter().any(|d| d.role == Role::Controller);
    let authority_draft = if may_send && ours {
        Some(
            s.incidents
                .authority_notice_draft(&viewer.access, id)
                .await?,
        )
    } else {
        None
    };
    let permissions = viewer.access.permissions();
    let may_manage = permissions.contains(Permission::IncidentsManage);
    let may_assess = permissions.contains(Permission::IncidentsAssess);
    let trail = if permissions.contains(Permission::AuditRead) {
        Some(
            s.incidents
                .audit_trail(&viewer.access, &id.to_string())
                .await?,
        )
    } else {
        None
    };
    let body = html! {
        p { a href=(INCIDENTS) { "← " (t("Alle Vorfälle", "All incidents")) } }
        h1 { (view.title) }
        @if let Some(notice) = notice { (notice) }
        p { (status(view.status)) " · " (t("bekannt seit ", "aware since ")) (date_time(lang, view.aware_at)) }
        h2 { (t("Fristen", "Deadlines")) }
        (countdown_control())
        @if view.deadlines.is_empty() {
            (none_yet("Keine Meldepflicht nach den Angaben der Akte.", "No duty to notify on the file's facts."))
        } @else {
            table id="deadlines" {
                thead { tr {
                    th scope="col" { (t("Wem", "To whom")) }
                    th scope="col" { (t("Stand", "State")) }
                } }
                tbody {
                    @for d in &view.deadlines {
                        tr { td { (duty(&d.duty)) } td { (countdown(d, now)) } }
                    }
                }
            }
        }
        h2 { (t("Akte", "File")) }
        @if may_manage && view.status != IncidentStatus::Closed {
            p { a href={ (incident_path(id)) "/file" } { (t("Akte ändern", "Change the file")) } }
        }
        dl {
            dt { (t("Titel für Kunden", "Title for customers")) }
            dd { (view.customer_title.as_deref().unwrap_or(t("(keiner: nach Datum benannt)", "(none: named by its date)"))) }
            dt { (t("Art und Umfang", "Nature and scope")) } dd class="prose" { (view.nature_and_scope) }
            dt { (t("Wahrscheinliche Folgen", "Likely consequences")) } dd class="prose" { (view.likely_consequences) }
            @if let Some(title) = &view.english.customer_title {
                dt { (t("Titel für Kunden, englisch", "Title for customers, in English")) } dd lang="en" { (title) }
            }
            @if let Some(text) = &view.english.nature_and_scope {
                dt { (t("Art und Umfang, englisch", "Nature and scope, in English")) } dd class="prose" lang="en" { (text) }
            }
            @if let Some(text) = &view.english.likely_consequences {
                dt { (t("Wahrscheinliche Folgen, englisch", "Likely consequences, in English")) } dd class="prose" lang="en" { (text) }
            }
            dt { (t("Betroffene Personen (ca.)", "People affected (approx.)")) } dd { (approx(view.approx_data_subjects)) }
            dt { (t("Datensätze (ca.)", "Records (approx.)")) } dd { (approx(view.approx_records)) }
            dt { (t("Datensätze und Rolle", "Data sets and role")) }
            dd { ul { @for set in &view.data_sets {
                li { (set.name) " — " (role(set.role)) @if let Some(tenant) = &set.tenant { " (" (tenant) ")" } }
            } } }
        }
        @if !errors.is_empty() { (error_summary(errors)) }
        h2 { (t("Maßnahmen", "Measures")) }
        @if view.measures.is_empty() {
            (none_yet("Noch keine Maßnahme erfasst.", "No measure recorded yet."))
        } @else {
            ol id="measures" class="timeline" { @for m in &view.measures {
                li {
                    (date_time(lang, m.at)) " · " (measure_kind(m.kind)) " · " (measure_status(m.status)) br;
                    (m.what)
                    @if let Some(english) = &m.what_en { " / " span lang="en" { (english) } }
                    " — " span class="muted" { (m.owner) }
                }
            } }
        }
        @if may_manage && view.status != IncidentStatus::Closed {
            (measure_form(viewer, id, errors))
        }
        h2 { (t("Bewertung", "Assessment")) }
        @match &view.assessment {
            Some(a) => {
                p { (t("Risiko: ", "Risk: ")) strong id="risk" { (risk(a.effective.risk)) }
                    @if a.effective.provisional { " " span class="status warn" id="provisional" { (t("vorläufig", "provisional")) } }
                    @if a.override_decision.is_some() { " " span class="status warn" { (t("abweichend entschieden", "overridden")) } } }
                @if a.effective.provisional && !a.engine.to_find_out.is_empty() {
                    h3 { (t("Noch herauszufinden", "Still to find out")) }
                    p class="hint" { (t(
                        "Bis diese Fragen beantwortet sind, gilt das vorsichtige Ergebnis.",
                        "Until these are answered, the cautious outcome applies.",
                    )) }
                    ul id="to-find-out" { @for q in &a.engine.to_find_out {
                        li { (crate::web::context::current_lang().pick(q.question_de.as_str(), q.question.as_str())) }
                    } }
                }
                h3 { (t("Gründe der Regel-Engine", "The engine's reasons")) }
                ul id="reasons" { @for line in crate::web::context::in_page_language(&a.engine.reasons, &a.engine.reasons_de) { li { (line) } } }
                h3 { (t("Was daraus folgt", "What follows")) }
                ul id="advice" { @for line in crate::web::context::in_page_language(&a.advice, &a.advice_de) { li { (line) } } }
                @if let Some(o) = &a.override_decision {
                    p { (t("Abweichende Entscheidung: ", "Override: ")) (risk(o.risk)) " — " (o.justification) }
                }
            }
            None => { (none_yet("Noch nicht bewertet.", "Not assessed yet.")) }
        }
        @if may_assess {
            (assessment_form(viewer, id, view.assessment.as_ref().map(|a| &a.facts)))
            @if view.assessment.is_some() { (override_form(viewer, id, errors)) }
        }
        @if may_send {
            h2 { (t("Benachrichtigung der Kunden", "Notice to customers")) }
            @if previews.is_empty() {
                (none_yet("Kein Kunde betroffen.", "No customer affected."))
            }
            @for p in &firsts { (notice_preview(p)) }
            @if sendable {
                form method="post" action={ (incident_path(id)) "/notices" } {
                    (form_token_field(&viewer.form_token))
                    button type="submit" { (t("Kunden jetzt benachrichtigen", "Notify the customers now")) }
                }
            }
            @if !told.is_empty() {
                h3 id="follow-up" { (t("Folgemeldung", "Follow-up notice")) }
                p class="hint" { (t(
                    "Für Kunden, die schon benachrichtigt sind: der Stand von jetzt, vollständig, als Aktualisierung — nach dem Abschluss als Abschlussbericht (Art. 33 Abs. 4 DSGVO).",
                    "For customers told already: the state as of now, complete, as an update — once closed, as the final report (Art. 33(4) GDPR).",
                )) }
                ul {
                    @for p in &told {
                        li { (p.tenant) ": " (t("erstmals benachrichtigt ", "first told ")) @if let Some(at) = p.first_sent_at { (date_time(lang, at)) } }
                    }
                }
                @for p in &told { (notice_preview(p)) }
                @if follow_up_sendable {
                    form method="post" action={ (incident_path(id)) "/notices" } {
                        (form_token_field(&viewer.form_token))
                        input type="hidden" name="follow_up" value="true";
                        button type="submit" {
                            @if view.status == IncidentStatus::Closed { (t("Abschlussbericht senden", "Send the final report")) }
                            @else { (t("Aktualisierung senden", "Send the update")) }
                        }
                    }
                }
            }
            @if let Some(draft) = &authority_draft {
                h3 id="authority-text" { (t("Text für die Aufsichtsbehörde (Art. 33 Abs. 3 DSGVO)", "Text for the supervisory authority (Art. 33(3) GDPR)")) }
                p class="hint" { (t(
                    "Aus der Akte vorbereitet, für das Formular oder Schreiben der Behörde; fällig ",
                    "Prepared from the file for the authority's form or letter; due ",
                )) (date_time(lang, draft.due)) (t(". Danach hier mit Aktenzeichen festhalten.", ". Then record it here with its reference.")) }
                @if draft.late { p class="warn" { (t("Die 72 Stunden sind vorbei: der Text fragt nach den Gründen der Verzögerung.", "The 72 hours have passed: the text asks for the reasons for the delay.")) } }
                details class="notice-message" {
                    summary { (t("Deutsch", "German")) }
                    pre class="message" lang="de" { (draft.de) }
                }
                details class="notice-message" {
                    summary { (t("Englisch", "English")) }
                    pre class="message" lang="en" { (draft.en) }
                }
            }
            (recorded_notice_form(viewer, id, errors, now))
            @if !view.messages.is_empty() {
                h3 { (t("Versandte Nachrichten", "Messages sent")) }
                ul id="messages" { @for m in &view.messages {
                    li { (m.subject) ": " (delivery(m.state)) " · " (date_time(lang, m.state_at)) }
                } }
            }
        }
    };
    let body = html! {
        (body)
        @if let Some((entries, broken)) = &trail {
            h2 { (t("Prüfpfad", "Audit trail")) }
            @match broken {
                None => p id="chain" { span class="status good" { (t("Kette geprüft: unversehrt", "Chain verified: intact")) } " · " (entries.len()) (t(" Einträge, jeder mit dem Hash seines Vorgängers", " entries, each with its predecessor's hash")) },
                Some(link) => p id="chain" { span class="status bad" { (t("Kette gebrochen", "Chain broken")) } " " (t("bei Eintrag ", "at entry ")) (link.seq) ": " (link.reason) },
            }
            table id="audit" {
                thead { tr {
                    th scope="col" class="num" { "#" }
                    th scope="col" { (t("Zeit", "Time")) }
                    th scope="col" { (t("Aktion", "Action")) }
                    th scope="col" { (t("Wer", "Who")) }
                    th scope="col" { (t("Hash", "Hash")) }
                } }
                tbody {
                    @for entry in entries {
                        tr {
                            td class="num" { (entry.seq) }
                            td { (date_time(lang, entry.at)) }
                            td { code { (entry.action) } }
                            td { (entry.actor_kind) " " code { (entry.actor) } }
                            td { code { (entry.hash.get(..12).unwrap_or(&entry.hash)) "…" } }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(view.title.clone(), body)
        .nav(nav(viewer))
        .countdown_script())
}

fn delivery(state: incidents::DeliveryState) -> &'static str {
    use incidents::DeliveryState::*;
    match state {
        Queued => t("wartet auf Versand", "queued"),
        Sending => t("wird gesendet", "sending"),
        InDoubt => t("ungewiss, wird geprüft", "in doubt, being checked"),
        Accepted => t("vom Mailserver angenommen", "accepted by the mail server"),
        Delivered => t("zugestellt", "delivered"),
        Bounced => t("unzustellbar", "bounced"),
        Complained => t("als Spam gemeldet", "marked as spam"),
        Failed => t("gescheitert", "failed"),
    }
}

fn measure_kind(kind: MeasureKind) -> &'static str {
    match kind {
        MeasureKind::Containment => t("Eindämmung", "Containment"),
        MeasureKind::Improvement => t("Verbesserung", "Improvement"),
        MeasureKind::IncidentManagement => t("Vorfallmanagement", "Incident management"),
        MeasureKind::Process => t("Prozesse", "Processes"),
    }
}

fn measure_status(status: MeasureStatus) -> &'static str {
    match status {
        MeasureStatus::Planned => t("geplant", "planned"),
        MeasureStatus::InProgress => t("in Arbeit", "in progress"),
        MeasureStatus::Done => t("erledigt", "done"),
    }
}

/// A text field of a small form, with its error (keyed by `id`).
fn small_field(id: &str, name: &str, label: &str, errors: &[(String, String)]) -> Markup {
    let error = field_error(errors, id);
    html! {
        label for=(id) { (label) }
        @if let Some(e) = error { p class="field-error" id={ (id) "-error" } { (e) } }
        input type="text" id=(id) name=(name) aria-invalid=[error.map(|_| "true")];
    }
}

fn measure_form(viewer: &Viewer, id: &IncidentId, errors: &[(String, String)]) -> Markup {
    html! {
        form method="post" action={ (incident_path(id)) "/measures" } novalidate {
            (form_token_field(&viewer.form_token))
            fieldset {
                legend { (t("Maßnahme erfassen", "Record a measure")) }
                label for="measure-kind" { (t("Wofür", "For")) }
                select id="measure-kind" name="kind" {
                    @for kind in [MeasureKind::Containment, MeasureKind::Improvement, MeasureKind::IncidentManagement, MeasureKind::Process] {
                        option value=(serde_plain(&kind)) { (measure_kind(kind)) }
                    }
                }
                (small_field("measure-what", "what", t("Was", "What"), errors))
                (small_field("measure-what-en", "what_en", t("Was, englisch (optional)", "What, in English (optional)"), errors))
                (small_field("measure-owner", "owner", t("Wer (Rolle oder Team)", "Who (role or team)"), errors))
                label for="measure-status" { (t("Stand", "State")) }
                select id="measure-status" name="status" {
                    @for status in [MeasureStatus::Done, MeasureStatus::InProgress, MeasureStatus::Planned] {
                        option value=(serde_plain(&status)) { (measure_status(status)) }
                    }
                }
                button type="submit" class="secondary" { (t("Maßnahme erfassen", "Record the measure")) }
            }
        }
    }
}

/// A yes / no / unknown question of the assessment (unknown stays unknown: the decision then
/// says it is provisional).
fn tri_state(name: &str, question: &str, known: Option<bool>) -> Markup {
    let current = match known {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    };
    html! {
        fieldset {
            legend { (question) }
            @for (value, label) in [("yes", t("ja", "yes")), ("no", t("nein", "no")), ("", t("unbekannt", "unknown"))] {
                div {
                    input type="radio" id={ (name) "-" (if value.is_empty() { "unknown" } else { value }) } name=(name) value=(value) checked[value == current];
                    label class="inline-label" for={ (name) "-" (if value.is_empty() { "unknown" } else { value }) } { (label) }
                }
            }
        }
    }
}

/// The assessment's own questions, answered as last time (unknown until answered).
fn assessment_form(
    viewer: &Viewer,
    id: &IncidentId,
    facts: Option<&incidents::assessment::Facts>,
) -> Markup {
    let known = |f: fn(&incidents::assessment::Facts) -> Option<bool>| facts.and_then(f);
    let exfiltration = facts
        .and_then(|f| f.exfiltration)
        .map(|e| serde_plain(&e))
        .unwrap_or_default();
    let hours = facts
        .and_then(|f| f.unavailability_hours)
        .map(|h| h.to_string())
        .unwrap_or_default();
    html! {
        form method="post" action={ (incident_path(id)) "/assessment" } {
            (form_token_field(&viewer.form_token))
            p class="hint" { (t(
                "Art der Verletzung, Datenkategorien und Zahl der Betroffenen kommen aus der Akte; hier nur, was die Akte nicht sagt.",
                "Kind of breach, data categories and the number of people come from the file; here only what the file does not say.",
            )) }
            (tri_state("encrypted_state_of_the_art", t("Daten nach Stand der Technik verschlüsselt?", "Data encrypted to the state of the art?"), known(|f| f.encrypted_state_of_the_art)))
            (tri_state("key_compromised", t("Schlüssel kompromittiert?", "Key compromised?"), known(|f| f.key_compromised)))
            (tri_state("backup_restorable", t("Aus einer Sicherung wiederherstellbar?", "Restorable from a backup?"), known(|f| f.backup_restorable)))
            (tri_state("recipient_trusted", t("Empfänger vertrauenswürdig (z. B. versehentlich an einen Kunden)?", "Recipient trusted (e.g. sent to a customer by mistake)?"), known(|f| f.recipient_trusted)))
            (tri_state("vulnerable_data_subjects", t("Schutzbedürftige Betroffene (z. B. Kinder, Patienten)?", "Vulnerable people affected (e.g. children, patients)?"), known(|f| f.vulnerable_data_subjects)))
            (tri_state("high_risk_averted", t("Hohes Risiko durch seither getroffene Maßnahmen gebannt (Art. 34 Abs. 3 lit. b)?", "High risk averted by measures taken since (Art. 34(3)(b))?"), known(|f| f.high_risk_averted)))
            (tri_state("disproportionate_effort", t("Einzelbenachrichtigung unverhältnismäßig, öffentliche Bekanntmachung (Art. 34 Abs. 3 lit. c)?", "Telling each person disproportionate, public communication instead (Art. 34(3)(c))?"), known(|f| f.disproportionate_effort)))
            fieldset {
                legend { (t("Abfluss der Daten", "Exfiltration")) }
                @for (value, label) in [("confirmed", t("bestätigt", "confirmed")), ("likely", t("wahrscheinlich", "likely")), ("unlikely", t("unwahrscheinlich", "unlikely")), ("none", t("keiner", "none")), ("", t("unbekannt", "unknown"))] {
                    div {
                        input type="radio" id={ "exfiltration-" (if value.is_empty() { "unknown" } else { value }) } name="exfiltration" value=(value) checked[value == exfiltration];
                        label class="inline-label" for={ "exfiltration-" (if value.is_empty() { "unknown" } else { value }) } { (label) }
                    }
                }
            }
            label for="unavailability_hours" { (t("Stunden nicht verfügbar (falls zutreffend)", "Hours unavailable (if any)")) }
            input type="text" inputmode="decimal" id="unavailability_hours" name="unavailability_hours" value=(hours);
            button type="submit" { (t("Bewerten", "Assess")) }
        }
    }
}

fn override_form(viewer: &Viewer, id: &IncidentId, errors: &[(String, String)]) -> Markup {
    let error = field_error(errors, "justification");
    html! {
        form method="post" action={ (incident_path(id)) "/override" } novalidate {
            (form_token_field(&viewer.form_token))
            fieldset {
                legend { (t("Anders entscheiden als die Regel-Engine", "Decide differently from the engine")) }
                label for="override-risk" { (t("Risiko", "Risk")) }
                select id="override-risk" name="risk" {
                    option value="none" { (t("voraussichtlich kein Risiko", "unlikely to result in a risk")) }
                    option value="risk" { (t("Risiko", "risk")) }
                    option value="high" { (t("hohes Risiko", "high risk")) }
                }
                div {
                    input type="checkbox" id="override-authority" name="notify_supervisory_authority" value="on";
                    label class="inline-label" for="override-authority" { (t("Aufsichtsbehörde melden", "Notify the supervisory authority")) }
                }
                div {
                    input type="checkbox" id="override-subjects" name="communicate_to_data_subjects" value="on";
                    label class="inline-label" for="override-subjects" { (t("Betroffene benachrichtigen", "Tell the data subjects")) }
                }
                label for="justification" { (t("Begründung (mindestens 20 Zeichen)", "Justification (at least 20 characters)")) }
                @if let Some(e) = error { p class="field-error" id="justification-error" { (e) } }
                textarea id="justification" name="justification" rows="3" aria-invalid=[error.map(|_| "true")] {}
                button type="submit" class="secondary" { (t("Entscheidung festhalten", "Record the decision")) }
            }
        }
    }
}

/// The duties notified outside the platform, as the form offers them.
const RECORDED_DUTIES: &[(&str, Duty, Text)] = &[
    (
        "supervisory_authority",
        Duty::SupervisoryAuthority,
        Text::new(
            "Aufsichtsbehörde (Art. 33)",
            "Supervisory authority (Art. 33)",
        ),
    ),
    (
        "data_subjects",
        Duty::DataSubjects,
        Text::new("Betroffene Personen (Art. 34)", "Data subjects (Art. 34)"),
    ),
    (
        "nis2_early_warning",
        Duty::Nis2EarlyWarning,
        Text::new("NIS2-Frühwarnung", "NIS2 early warning"),
    ),
    (
        "nis2_notification",
        Duty::Nis2Notification,
        Text::new("NIS2-Meldung", "NIS2 notification"),
    ),
    (
        "nis2_final_report",
        Duty::Nis2FinalReport,
        Text::new("NIS2-Abschlussbericht", "NIS2 final report"),
    ),
];

/// A notice made outside the platform (the authority's portal, letters): recorded with when
/// and its reference, so its deadline counts as met.
fn recorded_notice_form(
    viewer: &Viewer,
    id: &IncidentId,
    errors: &[(String, String)],
    now: Timestamp,
) -> Markup {
    let sent_error = field_error(errors, "notice-sent_at");
    html! {
        form method="post" action={ (incident_path(id)) "/recorded-notices" } novalidate {
            (form_token_field(&viewer.form_token))
            fieldset {
                legend { (t("Meldung außerhalb der Plattform festhalten", "Record a notice made outside the platform")) }
                label for="notice-duty" { (t("An wen", "To whom")) }
                select id="notice-duty" name="duty" {
                    @for (value, _, label) in RECORDED_DUTIES { option value=(value) { (label.get()) } }
                }
                label for="notice-sent_at" { (t("Gesendet am (Ortszeit Berlin)", "Sent at (Berlin time)")) }
                @if let Some(e) = sent_error { p class="field-error" id="notice-sent_at-error" { (e) } }
                input type="datetime-local" id="notice-sent_at" name="sent_at" value=(local_input(now)) aria-invalid=[sent_error.map(|_| "true")];
                (small_field("notice-reference", "reference", t("Aktenzeichen oder Referenz", "Case number or reference"), errors))
                button type="submit" class="secondary" { (t("Festhalten", "Record")) }
            }
        }
    }
}

pub async fn record_notice(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let duty = posted(&fields, "duty")
        .and_then(|d| RECORDED_DUTIES.iter().find(|(v, ..)| *v == d))
        .map(|(_, duty, _)| duty.clone());
    let sent_at = posted(&fields, "sent_at").and_then(local_time);
    let input = match (duty, sent_at) {
        (Some(duty), Some(sent_at)) => Some(incidents::service::RecordedNotice {
            duty,
            sent_at,
            reference: posted(&fields, "reference").unwrap_or_default().to_string(),
        }),
        _ => None,
    };
    let result = match input {
        Some(input) => s
            .incidents
            .record_notice(&viewer.access, &id, input)
            .await
            .map(|_| {
                t(
                    "Festgehalten; die Frist gilt damit als erfüllt.",
                    "Recorded; the deadline counts as met.",
                )
            }),
        // An unreadable time: named with the reference if that is missing too.
        None => {
            let mut fields_failing = vec![kernel::error::FieldError::new("/sent_at", "unreadable")];
            if posted(&fields, "reference").is_none() {
                fields_failing.push(kernel::error::FieldError::new("/reference", "missing"));
            }
            Err(Error::Validation(fields_failing))
        }
    };
    answer(&s, &viewer, &id, result, |pointer| match pointer {
        "/sent_at" => Some((
            "notice-sent_at",
            t(
                "Bitte einen Zeitpunkt nach der Kenntnis und nicht in der Zukunft angeben.",
                "Please give a time after the awareness and not in the future.",
            ),
        )),
        "/reference" => Some((
            "notice-reference",
            t(
                "Bitte das Aktenzeichen oder eine Referenz angeben (1 bis 200 Zeichen).",
                "Please give the case number or a reference (1 to 200 characters).",
            ),
        )),
        _ => None,
    })
    .await
}

/// An enum's serde name (snake_case), as the forms post it.
fn serde_plain(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn risk(level: incidents::assessment::RiskLevel) -> &'static str {
    use incidents::assessment::RiskLevel;
    match level {
        RiskLevel::None => t(
            "voraussichtlich kein Risiko",
            "unlikely to result in a risk",
        ),
        RiskLevel::Risk => t("Risiko", "risk"),
        RiskLevel::High => t("hohes Risiko", "high risk"),
    }
}

fn approx(a: Approx) -> String {
    if a.min == a.max {
        a.min.to_string()
    } else {
        format!("{} – {}", a.min, a.max)
    }
}

fn role(role: Role) -> &'static str {
    match role {
        Role::Processor => t(
            "Auftragsverarbeiter (Daten des Kunden)",
            "processor (the customer's data)",
        ),
        Role::Controller => t(
            "Verantwortlicher (eigene Daten)",
            "controller (our own data)",
        ),
    }
}

/// The send button's form: the first notice, or (`follow_up=true`) the update or final report.
#[derive(Debug, Default, serde::Deserialize)]
pub struct NotifyForm {
    follow_up: Option<String>,
}

pub async fn notify(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<NotifyForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let follow_up = form.follow_up.as_deref() == Some("true");
    let notified = s
        .incidents
        .notify_customers(&viewer.access, &id, None, follow_up)
        .await?;
    let sent = notified.messages.len();
    let text = format!(
        "{} {sent}",
        t("Benachrichtigungen übergeben:", "Notices handed over:")
    );
    Ok(render(&s, &viewer, &id, Some(done(&text)), &[])
        .await?
        .into_response())
}

/// Why a customer notice would not go out now, in words.
fn not_sent(why: incidents::service::NotSent) -> &'static str {
    use incidents::service::NotSent::*;
    match why {
        NoSuchTenant => t("kein solcher Kunde", "no such customer"),
        NoContact => t(
            "der Kunde hat keinen Meldekontakt",
            "the customer has no breach contact",
        ),
        ToldAlready => t("schon benachrichtigt", "told already"),
        OnItsWay => t("eine Nachricht ist unterwegs", "a notice is on its way"),
        NotToldYet => t(
            "noch nicht benachrichtigt: zuerst die erste Meldung",
            "not told yet: the first notice goes first",
        ),
    }
}

/// One customer notice as it would go out: recipient, subject and body, or why it would not.
fn notice_preview(p: &NoticePreview) -> Markup {
    html! {
        details class="notice-message" open[p.not_sent_because.is_none()] {
            summary { (p.tenant) ": " (p.subject) }
            p { (t("An: ", "To: ")) (p.to.as_deref().unwrap_or("—")) }
            @if let Some(why) = p.not_sent { p class="warn" { (t("Wird nicht gesendet: ", "Not sent: ")) (not_sent(why)) } }
            pre class="message" { (p.body) }
        }
    }
}

/// Pairs posted by a form, read by name.
fn posted<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn from_serde<T: serde::de::DeserializeOwned>(raw: Option<&str>) -> Option<T> {
    raw.and_then(|v| serde_json::from_value(serde_json::Value::String(v.to_string())).ok())
}

/// After an action on the file: the page again, with what happened or what to fix.
async fn answer(
    s: &Services,
    viewer: &Viewer,
    id: &IncidentId,
    result: Result<&'static str, Error>,
    field_of: impl Fn(&str) -> Option<(&'static str, &'static str)>,
) -> PageResult<Response> {
    match result {
        Ok(text) => Ok(render(s, viewer, id, Some(done(text)), &[])
            .await?
            .into_response()),
        Err(Error::Validation(fields)) => {
            let mut errors: Vec<(String, String)> = Vec::new();
            for f in &fields {
                let (field, text) =
                    field_of(&f.pointer).unwrap_or(("form", t("Bitte prüfen.", "Please check.")));
                if !errors.iter().any(|(x, _)| x == field) {
                    errors.push((field.to_string(), text.to_string()));
                }
            }
            Ok(render(s, viewer, id, None, &errors)
                .await?
                .status(StatusCode::BAD_REQUEST)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn add_measure(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let input = MeasureInput {
        kind: from_serde(posted(&fields, "kind")).unwrap_or(MeasureKind::Containment),
        what: Personal::new(posted(&fields, "what").unwrap_or_default().to_string()),
        what_en: posted(&fields, "what_en")
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| Personal::new(w.to_string())),
        owner: posted(&fields, "owner").unwrap_or_default().to_string(),
        status: from_serde(posted(&fields, "status")).unwrap_or(MeasureStatus::Done),
        at: None,
    };
    let result = s
        .incidents
        .add_measure(&viewer.access, &id, input)
        .await
        .map(|_| t("Maßnahme erfasst.", "Measure recorded."));
    answer(&s, &viewer, &id, result, |pointer| match pointer {
        "/what" => Some((
            "measure-what",
            t(
                "Bitte beschreiben, was getan wird (1 bis 5.000 Zeichen).",
                "Please describe what is done (1 to 5,000 characters).",
            ),
        )),
        "/what_en" => Some((
            "measure-what-en",
            t("Höchstens 5.000 Zeichen.", "At most 5,000 characters."),
        )),
        "/owner" => Some((
            "measure-owner",
            t(
                "Bitte eine Rolle oder ein Team nennen (1 bis 100 Zeichen).",
                "Please name a role or team (1 to 100 characters).",
            ),
        )),
        _ => None,
    })
    .await
}

pub async fn assess(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let yes_no = |name: &str| match posted(&fields, name) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let input = AssessmentInput {
        encrypted_state_of_the_art: yes_no("encrypted_state_of_the_art"),
        key_compromised: yes_no("key_compromised"),
        backup_restorable: yes_no("backup_restorable"),
        recipient_trusted: yes_no("recipient_trusted"),
        vulnerable_data_subjects: yes_no("vulnerable_data_subjects"),
        high_risk_averted: yes_no("high_risk_averted"),
        disproportionate_effort: yes_no("disproportionate_effort"),
        exfiltration: from_serde(posted(&fields, "exfiltration")),
        unavailability_hours: None,
        ..AssessmentInput::default()
    };
    // Hours as typed ("36" or "1,5"); a text that is no number is named, not taken as unknown.
    let hours = posted(&fields, "unavailability_hours").map(|h| h.trim().replace(',', "."));
    let result = match hours.as_deref().map(str::parse::<f64>) {
        Some(Err(_)) => Err(Error::validation("/unavailability_hours", "not a number")),
        parsed => {
            let input = AssessmentInput {
                unavailability_hours: parsed.and_then(Result::ok),
                ..input
            };
            s.incidents
                .assess(&viewer.access, &id, input)
                .await
                .map(|_| t("Bewertet.", "Assessed."))
        }
    };
    answer(&s, &viewer, &id, result, |pointer| {
        Some(match pointer {
            "/unavailability_hours" => (
                "unavailability_hours",
                t(
                    "Bitte die Stunden als Zahl angeben, z. B. 36 oder 1,5.",
                    "Please give the hours as a number, e.g. 36 or 1.5.",
                ),
            ),
            _ => (
                "form",
                t(
                    "Die Akte nennt noch keine Art der Verletzung.",
                    "The file names no kind of breach yet.",
                ),
            ),
        })
    })
    .await
}

pub async fn override_assessment(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let input = OverrideInput {
        risk: from_serde(posted(&fields, "risk")).unwrap_or(incidents::assessment::RiskLevel::Risk),
        notify_supervisory_authority: posted(&fields, "notify_supervisory_authority").is_some(),
        communicate_to_data_subjects: posted(&fields, "communicate_to_data_subjects").is_some(),
        justification: Personal::new(
            posted(&fields, "justification")
                .unwrap_or_default()
                .to_string(),
        ),
    };
    let result = s
        .incidents
        .override_assessment(&viewer.access, &id, input)
        .await
        .map(|_| {
            t(
                "Entscheidung festgehalten; beide Entscheidungen bleiben in der Akte.",
                "Decision recorded; both decisions stay on the file.",
            )
        });
    answer(&s, &viewer, &id, result, |_| {
        Some((
            "justification",
            t(
                "Bitte die Gründe nennen (20 bis 5.000 Zeichen).",
                "Please give the reasons (20 to 5,000 characters).",
            ),
        ))
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The incident file as a form (opening an incident from a report)

/// The form's fields: (name, label, help, what to fix when it is refused).
const FIELDS: &[(&str, Text, Text, Text)] = &[
    (
        "title",
        Text::new("Interner Titel", "Internal title"),
        Text::new(
            "Für das Sicherheitsteam; darf Details nennen.",
            "For the security team; may name details.",
        ),
        Text::new(
            "Bitte einen Titel angeben (1 bis 200 Zeichen).",
            "Please give a title (1 to 200 characters).",
        ),
    ),
    (
        "customer_title",
        Text::new(
            "Titel für Kunden (optional)",
            "Title for customers (optional)",
        ),
        Text::new(
            "Was betroffene Kunden im Portal und in der Benachrichtigung lesen.",
            "What affected customers read in the portal and the notice.",
        ),
        Text::new("Höchstens 200 Zeichen.", "At most 200 characters."),
    ),
    (
        "discovered_at",
        Text::new("Entdeckt am", "Discovered at"),
        Text::new("Ortszeit Berlin.", "Berlin time."),
        Text::new(
            "Bitte einen Zeitpunkt angeben, der nicht in der Zukunft liegt.",
            "Please give a time that does not lie in the future.",
        ),
    ),
    (
        "aware_at",
        Text::new("Kenntnis seit", "Aware since"),
        Text::new(
            "Ab hier laufen die 48 und 72 Stunden (Art. 33 DSGVO).",
            "The 48 and 72 hours run from here (Art. 33 GDPR).",
        ),
        Text::new(
            "Bitte einen Zeitpunkt angeben, nicht vor der Entdeckung und nicht in der Zukunft.",
            "Please give a time, not before the discovery and not in the future.",
        ),
    ),
    (
        "breach_types",
        Text::new("Art der Verletzung", "Kind of breach"),
        Text::new(
            "Vertraulichkeit, Integrität, Verfügbarkeit: alle zutreffenden.",
            "Confidentiality, integrity, availability: every one that applies.",
        ),
        Text::new(
            "Bitte mindestens eine Art wählen.",
            "Please choose at least one kind.",
        ),
    ),
    (
        "nature_and_scope",
        Text::new("Art und Umfang", "Nature and scope"),
        Text::new(
            "Was geschah, welche Systeme, welcher Zeitraum.",
            "What happened, which systems, which period.",
        ),
        Text::new(
            "Bitte beschreiben (1 bis 20.000 Zeichen).",
            "Please describe it (1 to 20,000 characters).",
        ),
    ),
    (
        "data_categories",
        Text::new("Datenkategorien", "Data categories"),
        Text::new(
            "Welche Arten personenbezogener Daten.",
            "Which kinds of personal data.",
        ),
        Text::new("Bitte prüfen.", "Please check."),
    ),
    (
        "subjects",
        Text::new(
            "Betroffene Personen (ca., von – bis)",
            "People affected (approx., from – to)",
        ),
        Text::new("Eine Zahl oder eine Spanne.", "A number or a range."),
        Text::new(
            "Bitte ganze Zahlen angeben, „von“ nicht größer als „bis“.",
            "Please give whole numbers, “from” not above “to”.",
        ),
    ),
    (
        "records",
        Text::new(
            "Betroffene Datensätze (ca., von – bis)",
            "Records affected (approx., from – to)",
        ),
        Text::new("Eine Zahl oder eine Spanne.", "A number or a range."),
        Text::new(
            "Bitte ganze Zahlen angeben, „von“ nicht größer als „bis“.",
            "Please give whole numbers, “from” not above “to”.",
        ),
    ),
    (
        "likely_consequences",
        Text::new("Wahrscheinliche Folgen", "Likely consequences"),
        Text::new("Für die betroffenen Personen.", "For the people affected."),
        Text::new(
            "Bitte beschreiben (1 bis 20.000 Zeichen).",
            "Please describe them (1 to 20,000 characters).",
        ),
    ),
    (
        "customer_title_en",
        Text::new(
            "Titel für Kunden, englisch (optional)",
            "Title for customers, in English (optional)",
        ),
        Text::new(
            "Für den englischen Teil der Benachrichtigung und das Portal auf Englisch.",
            "For the notice's English part and the portal in English.",
        ),
        Text::new("Höchstens 200 Zeichen.", "At most 200 characters."),
    ),
    (
        "nature_and_scope_en",
        Text::new(
            "Art und Umfang, englisch (optional)",
            "Nature and scope, in English (optional)",
        ),
        Text::new(
            "Fehlt sie, steht im englischen Teil der deutsche Text, als deutsch gekennzeichnet.",
            "Without it, the English part carries the German text, marked as German.",
        ),
        Text::new("Höchstens 20.000 Zeichen.", "At most 20,000 characters."),
    ),
    (
        "likely_consequences_en",
        Text::new(
            "Wahrscheinliche Folgen, englisch (optional)",
            "Likely consequences, in English (optional)",
        ),
        Text::new(
            "Fehlt sie, steht im englischen Teil der deutsche Text, als deutsch gekennzeichnet.",
            "Without it, the English part carries the German text, marked as German.",
        ),
        Text::new("Höchstens 20.000 Zeichen.", "At most 20,000 characters."),
    ),
    (
        "data_set_name",
        Text::new("Betroffener Datenbestand", "Affected data set"),
        Text::new(
            "Zum Beispiel „Mitarbeiterverzeichnis“.",
            "For example “employee directory”.",
        ),
        Text::new(
            "Bitte den Datenbestand nennen (1 bis 200 Zeichen).",
            "Please name the data set (1 to 200 characters).",
        ),
    ),
    (
        "data_set_tenant",
        Text::new("Kunde (Kennung)", "Customer (id)"),
        Text::new(
            "Bei Daten eines Kunden (wir sind Auftragsverarbeiter) seine Kennung; bei eigenen Daten leer.",
            "For a customer's data (we are processor) its id; empty for our own data.",
        ),
        Text::new(
            "Daten eines Kunden brauchen einen bestehenden Kunden; eigene Daten keinen.",
            "A customer's data needs an existing customer; our own data none.",
        ),
    ),
];

fn field(name: &str) -> Option<&'static (&'static str, Text, Text, Text)> {
    FIELDS.iter().find(|(n, ..)| *n == name)
}

/// The form field a service error points at (the draft's JSON pointer below `prefix`).
fn form_field(pointer: &str) -> &'static str {
    let mut segments = pointer.trim_start_matches('/').split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some("approx_data_subjects"), ..) => "subjects",
        (Some("approx_records"), ..) => "records",
        (Some("data_sets"), _, Some("tenant")) => "data_set_tenant",
        (Some("data_sets"), ..) => "data_set_name",
        (Some("english"), Some(name), _) => match name {
            "customer_title" => "customer_title_en",
            "nature_and_scope" => "nature_and_scope_en",
            _ => "likely_consequences_en",
        },
        (Some(name), ..) => field(name).map_or("title", |(n, ..)| n),
        (None, ..) => "title",
    }
}

/// The refusals of a draft as the form's (field, message) pairs, one per field, in form order.
pub fn draft_errors(fields: &[kernel::error::FieldError], prefix: &str) -> Vec<(String, String)> {
    let failing: BTreeSet<&str> = fields
        .iter()
        .map(|f| form_field(f.pointer.strip_prefix(prefix).unwrap_or(&f.pointer)))
        .collect();
    FIELDS
        .iter()
        .filter(|(name, ..)| failing.contains(name))
        .map(|(name, _, _, fix)| (name.to_string(), fix.get().to_string()))
        .collect()
}

/// What the form posted, as typed (shown again after a refusal).
#[derive(Debug, Default)]
pub struct DraftForm {
    values: Vec<(String, String)>,
}

impl DraftForm {
    pub fn new(values: Vec<(String, String)>) -> DraftForm {
        DraftForm { values }
    }

    fn one(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn checked(&self, name: &str, value: &str) -> bool {
        self.all(name).any(|v| v == value)
    }

    /// The draft, or the fields this form could not read (the others then checked by
    /// [`incidents::IncidentService::validate_draft`] on a stand-in, so every failing field is
    /// named at once).
    pub fn draft(&self, now: Timestamp) -> (IncidentDraft, Vec<&'static str>) {
        let mut unreadable = Vec::new();
        let mut time = |name: &'static str| {
            local_time(self.one(name)).unwrap_or_else(|| {
                unreadable.push(name);
                now
            })
        };
        let discovered_at = time("discovered_at");
        let aware_at = time("aware_at");
        let mut count = |name: &'static str, group: &'static str| -> u64 {
            let raw = self.one(name).trim();
            raw.parse().unwrap_or_else(|_| {
                if !unreadable.contains(&group) {
                    unreadable.push(group);
                }
                0
            })
        };
        let approx_data_subjects = Approx {
            min: count("subjects_min", "subjects"),
            max: count("subjects_max", "subjects"),
        };
        let approx_records = Approx {
            min: count("records_min", "records"),
            max: count("records_max", "records"),
        };
        let breach_types = self
            .all("breach_types")
            .filter_map(|v| BREACH_TYPES.iter().find(|(n, _)| *n == v).map(|(_, b)| *b))
            .collect();
        let data_categories = self
            .all("data_categories")
            .filter_map(|v| {
                DATA_CATEGORIES
                    .iter()
                    .find(|(n, ..)| *n == v)
                    .map(|(_, c, _)| *c)
            })
            .collect();
        let tenant_raw = self.one("data_set_tenant").trim();
        let tenant = if tenant_raw.is_empty() {
            None
        } else {
            match TenantId::new(tenant_raw) {
                Ok(t) => Some(t),
                Err(_) => {
                    unreadable.push("data_set_tenant");
                    None
                }
            }
        };
        let role = if tenant.is_some() || unreadable.contains(&"data_set_tenant") {
            Role::Processor
        } else {
            Role::Controller
        };
        let text = |name: &str| self.one(name).trim().to_string();
        let customer_title = Some(text("customer_title")).filter(|s| !s.is_empty());
        let draft = IncidentDraft {
            title: text("title"),
            customer_title,
            discovered_at,
            aware_at,
            breach_types,
            nature_and_scope: Personal::new(text("nature_and_scope")),
            data_categories,
            approx_data_subjects,
            approx_records,
            likely_consequences: Personal::new(text("likely_consequences")),
            data_sets: vec![AffectedDataSet {
                tenant: if unreadable.contains(&"data_set_tenant") {
                    None
                } else {
                    tenant
                },
                name: text("data_set_name"),
                role,
            }],
            nis2_significant: self.checked("nis2_significant", "on"),
            english: EnglishInput {
                customer_title: Some(text("customer_title_en")).filter(|s| !s.is_empty()),
                nature_and_scope: Some(text("nature_and_scope_en"))
                    .filter(|s| !s.is_empty())
                    .map(Personal::new),
                likely_consequences: Some(text("likely_consequences_en"))
                    .filter(|s| !s.is_empty())
                    .map(Personal::new),
            },
        };
        (draft, unreadable)
    }
}

const BREACH_TYPES: &[(&str, BreachType)] = &[
    ("confidentiality", BreachType::Confidentiality),
    ("integrity", BreachType::Integrity),
    ("availability", BreachType::Availability),
];

fn breach_type_label(b: BreachType) -> &'static str {
    match b {
        BreachType::Confidentiality => t(
            "Vertraulichkeit (Unbefugte konnten Daten sehen)",
            "Confidentiality (data seen by someone not allowed to)",
        ),
        BreachType::Integrity => t("Integrität (Daten verändert)", "Integrity (data altered)"),
        BreachType::Availability => t(
            "Verfügbarkeit (Daten verloren oder nicht erreichbar)",
            "Availability (data lost or out of reach)",
        ),
    }
}

pub(super) const DATA_CATEGORIES: &[(&str, DataCategory, Text)] = &[
    (
        "contact",
        DataCategory::Contact,
        Text::new("Kontaktdaten", "Contact details"),
    ),
    (
        "identification",
        DataCategory::Identification,
        Text::new("Identifikationsdaten", "Identification"),
    ),
    (
        "national_id",
        DataCategory::NationalId,
        Text::new("Ausweis- und Steuernummern", "National id numbers"),
    ),
    (
        "financial",
        DataCategory::Financial,
        Text::new("Finanzdaten", "Financial data"),
    ),
    (
        "health",
        DataCategory::Health,
        Text::new("Gesundheitsdaten", "Health data"),
    ),
    (
        "special_category",
        DataCategory::SpecialCategory,
        Text::new(
            "Besondere Kategorien (Art. 9)",
            "Special categories (Art. 9)",
        ),
    ),
    (
        "credentials",
        DataCategory::Credentials,
        Text::new("Zugangsdaten", "Credentials"),
    ),
    (
        "employment",
        DataCategory::Employment,
        Text::new("Beschäftigtendaten", "Employment data"),
    ),
    (
        "children",
        DataCategory::Children,
        Text::new("Daten von Kindern", "Children's data"),
    ),
    (
        "location",
        DataCategory::Location,
        Text::new("Standortdaten", "Location data"),
    ),
    (
        "communication_content",
        DataCategory::CommunicationContent,
        Text::new("Kommunikationsinhalte", "Communication content"),
    ),
    ("other", DataCategory::Other, Text::new("Sonstige", "Other")),
];

/// Which of the file's fields a form shows: at triage all of them; when the file is changed
/// later, not the two times (they start the clocks and stay as recorded), and the data set only
/// while the file names exactly one (several are changed through the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileForm {
    Triage,
    Edit { one_data_set: bool },
}

/// The incident file's fields, each with its label, help text and error.
pub fn draft_fields(
    form: &DraftForm,
    errors: &[(String, String)],
    now: Timestamp,
    mode: FileForm,
) -> Markup {
    let times = mode == FileForm::Triage;
    let data_set = matches!(
        mode,
        FileForm::Triage | FileForm::Edit { one_data_set: true }
    );
    let label = |name: &str| field(name).map_or("", |(_, l, ..)| l.get());
    let help = |name: &str| field(name).map_or("", |(_, _, h, _)| h.get());
    // A fresh form proposes now; a refused one shows exactly what was sent.
    let value = |name: &str, default: String| {
        if form.values.is_empty() {
            default
        } else {
            form.one(name).to_string()
        }
    };
    let text_input = |name: &'static str, required: bool| {
        let error = field_error(errors, name);
        html! {
            label for=(name) { (label(name)) }
            p class="hint" id={ (name) "-hint" } { (help(name)) }
            @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
            input type="text" id=(name) name=(name) value=(form.one(name)) required[required]
                lang=[name.ends_with("_en").then_some("en")]
                aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (name) "-hint" @if error.is_some() { " " (name) "-error" } };
        }
    };
    let area = |name: &'static str, required: bool| {
        let error = field_error(errors, name);
        html! {
            label for=(name) { (label(name)) }
            p class="hint" id={ (name) "-hint" } { (help(name)) }
            @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
            textarea id=(name) name=(name) rows="4" required[required]
                lang=[name.ends_with("_en").then_some("en")]
                aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (name) "-hint" @if error.is_some() { " " (name) "-error" } } { (form.one(name)) }
        }
    };
    let time_input = |name: &'static str| {
        let error = field_error(errors, name);
        html! {
            label for=(name) { (label(name)) }
            p class="hint" id={ (name) "-hint" } { (help(name)) }
            @if let Some(e) = error { p class="field-error" id={ (name) "-error" } { (e) } }
            input type="datetime-local" id=(name) name=(name) value=(value(name, local_input(now))) required
                aria-invalid=[error.map(|_| "true")]
                aria-describedby={ (name) "-hint" @if error.is_some() { " " (name) "-error" } };
        }
    };
    let range = |group: &'static str| {
        let error = field_error(errors, group);
        let (min, max) = (format!("{group}_min"), format!("{group}_max"));
        html! {
            fieldset id=(group) aria-describedby={ (group) "-hint" } {
                legend { (label(group)) }
                p class="hint" id={ (group) "-hint" } { (help(group)) }
                @if let Some(e) = error { p class="field-error" id={ (group) "-error" } { (e) } }
                label for=(min) { (t("von", "from")) }
                input type="text" inputmode="numeric" id=(min) name=(min) value=(form.one(&min)) required aria-invalid=[error.map(|_| "true")];
                label for=(max) { (t("bis", "to")) }
                input type="text" inputmode="numeric" id=(max) name=(max) value=(form.one(&max)) required aria-invalid=[error.map(|_| "true")];
            }
        }
    };
    let breach_error = field_error(errors, "breach_types");
    html! {
        (text_input("title", true))
        (text_input("customer_title", false))
        @if times {
            (time_input("discovered_at"))
            (time_input("aware_at"))
        }
        fieldset id="breach_types" aria-describedby="breach_types-hint" {
            legend { (label("breach_types")) }
            p class="hint" id="breach_types-hint" { (help("breach_types")) }
            @if let Some(e) = breach_error { p class="field-error" id="breach_types-error" { (e) } }
            @for (name, kind) in BREACH_TYPES {
                div {
                    input type="checkbox" id={ "breach-" (name) } name="breach_types" value=(name) checked[form.checked("breach_types", name)];
                    label class="inline-label" for={ "breach-" (name) } { (breach_type_label(*kind)) }
                }
            }
        }
        (area("nature_and_scope", true))
        fieldset id="data_categories" {
            legend { (label("data_categories")) }
            p class="hint" { (help("data_categories")) }
            @for (name, _, text) in DATA_CATEGORIES {
                div {
                    input type="checkbox" id={ "category-" (name) } name="data_categories" value=(name) checked[form.checked("data_categories", name)];
                    label class="inline-label" for={ "category-" (name) } { (text.get()) }
                }
            }
        }
        (range("subjects"))
        (range("records"))
        (area("likely_consequences", true))
        fieldset id="english" {
            legend { (t("Für den englischen Teil der Benachrichtigungen", "For the English part of the notices")) }
            p class="hint" { (t(
                "Die Akte ist deutsch; was Kunden lesen, darf zusätzlich englisch dastehen.",
                "The file is kept in German; what customers read may be given in English as well.",
            )) }
            (text_input("customer_title_en", false))
            (area("nature_and_scope_en", false))
            (area("likely_consequences_en", false))
        }
        @if data_set {
            (text_input("data_set_name", true))
            (text_input("data_set_tenant", false))
        }
        div {
            input type="checkbox" id="nis2_significant" name="nis2_significant" value="on" checked[form.checked("nis2_significant", "on")];
            label class="inline-label" for="nis2_significant" { (t("Erheblicher Sicherheitsvorfall nach NIS2 (24 h / 72 h / 1 Monat)", "Significant incident under NIS2 (24 h / 72 h / 1 month)")) }
        }
    }
}

impl DraftForm {
    /// The form as the file now reads (for changing it).
    pub fn of(view: &IncidentView) -> DraftForm {
        let mut values = vec![
            ("title".to_string(), view.title.clone()),
            (
                "customer_title".to_string(),
                view.customer_title.clone().unwrap_or_default(),
            ),
            (
                "nature_and_scope".to_string(),
                view.nature_and_scope.clone(),
            ),
            (
                "likely_consequences".to_string(),
                view.likely_consequences.clone(),
            ),
            (
                "customer_title_en".to_string(),
                view.english.customer_title.clone().unwrap_or_default(),
            ),
            (
                "nature_and_scope_en".to_string(),
                view.english.nature_and_scope.clone().unwrap_or_default(),
            ),
            (
                "likely_consequences_en".to_string(),
                view.english.likely_consequences.clone().unwrap_or_default(),
            ),
            (
                "subjects_min".to_string(),
                view.approx_data_subjects.min.to_string(),
            ),
            (
                "subjects_max".to_string(),
                view.approx_data_subjects.max.to_string(),
            ),
            (
                "records_min".to_string(),
                view.approx_records.min.to_string(),
            ),
            (
                "records_max".to_string(),
                view.approx_records.max.to_string(),
            ),
        ];
        for (name, kind) in BREACH_TYPES {
            if view.breach_types.contains(kind) {
                values.push(("breach_types".into(), name.to_string()));
            }
        }
        for (name, category, _) in DATA_CATEGORIES {
            if view.data_categories.contains(category) {
                values.push(("data_categories".into(), name.to_string()));
            }
        }
        if let [set] = view.data_sets.as_slice() {
            values.push(("data_set_name".into(), set.name.clone()));
            values.push((
                "data_set_tenant".into(),
                set.tenant
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ));
        }
        if view.nis2_significant {
            values.push(("nis2_significant".into(), "on".into()));
        }
        DraftForm { values }
    }
}

/// `/console/incidents/<id>/file`: the incident file as a form, to change what was learnt
/// since triage. Only what changed is sent, so the audit trail names exactly that; a change
/// to the facts the assessment reads re-runs it (the service does).
pub async fn file_page(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> PageResult<Page> {
    let id = parse_id(&raw)?;
    let view = s.incidents.file_to_change(&viewer.access, &id).await?;
    file_render(&s, &viewer, &view, &DraftForm::of(&view), &[])
}

fn file_render(
    s: &Services,
    viewer: &Viewer,
    view: &IncidentView,
    form: &DraftForm,
    errors: &[(String, String)],
) -> PageResult<Page> {
    let mode = FileForm::Edit {
        one_data_set: view.data_sets.len() == 1,
    };
    let title = format!("{}: {}", t("Akte ändern", "Change the file"), view.title);
    let body = html! {
        p { a href=(incident_path(&view.id)) { "← " (view.title) } }
        h1 { (t("Akte ändern", "Change the file")) }
        @if view.status == IncidentStatus::Closed {
            p class="notice" { (t("Der Vorfall ist abgeschlossen; seine Akte bleibt, wie sie ist.", "The incident is closed; its file stays as it is.")) }
        } @else {
            p class="hint" { (t(
                "Nur geänderte Angaben werden gespeichert und im Prüfpfad vermerkt. Ändern sich Art, Datenkategorien oder Zahl der Betroffenen, wird die Bewertung neu berechnet. Die Zeitpunkte bleiben, wie bei der Sichtung erfasst.",
                "Only what changed is saved and noted in the audit trail. A change to the breach types, data categories or number of people re-runs the assessment. The times stay as recorded at triage.",
            )) }
            @if view.data_sets.len() != 1 {
                p class="hint" { (t("Diese Akte nennt mehrere Datensätze; sie werden über die API geändert.", "This file names several data sets; they are changed through the API.")) }
            }
            (draft_summary(errors))
            form method="post" action={ (incident_path(&view.id)) "/file" } novalidate {
                (form_token_field(&viewer.form_token))
                (draft_fields(form, errors, s.clock.now(), mode))
                button type="submit" { (t("Änderungen speichern", "Save the changes")) }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(title, body).nav(nav(viewer)).status(status))
}

/// The changes a posted file form makes to the file as it is (`None` where a field is the same).
fn file_patch(view: &IncidentView, draft: IncidentDraft, one_data_set: bool) -> IncidentPatch {
    IncidentPatch {
        title: (draft.title != view.title).then_some(draft.title),
        customer_title: draft
            .customer_title
            .filter(|c| view.customer_title.as_ref() != Some(c)),
        breach_types: (draft.breach_types != view.breach_types).then_some(draft.breach_types),
        nature_and_scope: (draft.nature_and_scope.expose() != &view.nature_and_scope)
            .then_some(draft.nature_and_scope),
        data_categories: (draft.data_categories != view.data_categories)
            .then_some(draft.data_categories),
        approx_data_subjects: (draft.approx_data_subjects != view.approx_data_subjects)
            .then_some(draft.approx_data_subjects),
        approx_records: (draft.approx_records != view.approx_records)
            .then_some(draft.approx_records),
        likely_consequences: (draft.likely_consequences.expose() != &view.likely_consequences)
            .then_some(draft.likely_consequences),
        data_sets: (one_data_set && draft.data_sets != view.data_sets).then_some(draft.data_sets),
        nis2_significant: (draft.nis2_significant != view.nis2_significant)
            .then_some(draft.nis2_significant),
        english: english_patch(&view.english, draft.english),
    }
}

/// The English texts a posted file form changes: each that differs from the file, an emptied
/// one as an empty text (which removes it).
fn english_patch(stored: &EnglishText, posted: EnglishInput) -> EnglishInput {
    let changed = |now: &Option<String>, posted: Option<String>| {
        let posted = posted.unwrap_or_default();
        (now.as_deref().unwrap_or_default() != posted).then_some(posted)
    };
    EnglishInput {
        customer_title: changed(&stored.customer_title, posted.customer_title),
        nature_and_scope: changed(
            &stored.nature_and_scope,
            posted.nature_and_scope.map(|p| p.expose().clone()),
        )
        .map(Personal::new),
        likely_consequences: changed(
            &stored.likely_consequences,
            posted.likely_consequences.map(|p| p.expose().clone()),
        )
        .map(Personal::new),
    }
}

pub async fn change_file(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let id = parse_id(&raw)?;
    let view = s.incidents.file_to_change(&viewer.access, &id).await?;
    let form = DraftForm::new(fields);
    let one_data_set = view.data_sets.len() == 1;
    let (draft, mut unreadable) = form.draft(s.clock.now());
    // The times are not part of this form.
    unreadable.retain(|f| !matches!(*f, "discovered_at" | "aware_at"));
    let refused = |pointers: Vec<kernel::error::FieldError>| {
        file_render(&s, &viewer, &view, &form, &draft_errors(&pointers, ""))
    };
    if !unreadable.is_empty() {
        let pointers = unreadable
            .iter()
            .map(|f| kernel::error::FieldError::new(format!("/{f}"), "unreadable"))
            .collect();
        return Ok(refused(pointers)?.into_response());
    }
    let patch = file_patch(&view, draft, one_data_set);
    if patch.is_empty() {
        return Ok(render(
            &s,
            &viewer,
            &id,
            Some(super::done(t(
                "Nichts geändert: die Akte war schon so.",
                "Nothing changed: the file already read so.",
            ))),
            &[],
        )
        .await?
        .into_response());
    }
    match s
        .incidents
        .update_incident(&viewer.access, &id, patch)
        .await
    {
        Ok(_) => Ok(render(
            &s,
            &viewer,
            &id,
            Some(super::done(t(
                "Akte geändert; die Änderungen stehen im Prüfpfad.",
                "File changed; the changes are in the audit trail.",
            ))),
            &[],
        )
        .await?
        .into_response()),
        Err(Error::Validation(fields)) => Ok(refused(fields)?.into_response()),
        Err(e) => Err(PageError(e)),
    }
}

/// The incident a report was triaged into: the file's page, with a line saying so.
pub fn opened(id: &IncidentId) -> Response {
    see_other(&incident_path(id), &[])
}

/// The error summary of the draft form (each links to its field).
pub fn draft_summary(errors: &[(String, String)]) -> Markup {
    error_summary(errors)
}
