//! `/portal/incidents`: the security incidents that affect the company, as its admins may read
//! them (the domain's customer view: never reports, reporters, other tenants or the internal
//! assessment) — the title staff wrote for customers, what happened, which data and how many
//! people, the measures under the page's four headings, whether the company was told within
//! the 48 hours and every notice as it was sent.

use std::sync::Arc;

use axum::extract::State;
use incidents::DeliveryState;
use incidents::model::{IncidentId, IncidentStatus, Language, MeasureKind};
use incidents::notice;
use incidents::service::{CustomerIncidentView, IncidentForCaller};
use kernel::Error;
use kernel::time::Timestamp;
use maud::{Markup, html};
use web::Lang;

use super::{nav, tenant_of};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date, date_time};
use crate::web::{Page, PageError, PageResult, Viewer};

pub const INCIDENTS: &str = "/portal/incidents";

fn language(lang: Lang) -> Language {
    match lang {
        Lang::De => Language::De,
        Lang::En => Language::En,
    }
}

/// A free text in the page's language: German as written; on an English page the English
/// wording where staff gave one, else the German text, marked as German (also for screen
/// readers: `lang="de"`).
fn worded(german: &str, english: Option<&str>) -> Markup {
    match (current_lang(), english) {
        (web::Lang::En, Some(english)) => html! { (english) },
        (web::Lang::En, None) => {
            html! { span class="muted" { "[in German] " } span lang="de" { (german) } }
        }
        _ => html! { (german) },
    }
}

/// The customer's title in the page's language (the English one on English pages, where staff
/// gave it), or the incident named by the day it became known.
pub fn title_in(german: Option<&str>, english: Option<&str>, aware_at: Timestamp) -> String {
    let english_page = current_lang() == web::Lang::En;
    title(english.filter(|_| english_page).or(german), aware_at)
}

/// The customer's title, or the incident named by the day it became known.
fn title(title: Option<&str>, aware_at: Timestamp) -> String {
    match title {
        Some(title) => title.to_string(),
        None => format!(
            "{}{}",
            t("Sicherheitsvorfall vom ", "Security incident of "),
            date(current_lang(), aware_at)
        ),
    }
}

pub fn status(status: IncidentStatus) -> Markup {
    let (class, text) = match status {
        IncidentStatus::Open => ("bad", t("offen", "open")),
        IncidentStatus::Contained => ("warn", t("eingedämmt", "contained")),
        IncidentStatus::Resolved => ("good", t("behoben", "resolved")),
        IncidentStatus::Closed => ("good", t("abgeschlossen", "closed")),
    };
    html! { span class={ "status " (class) } { (text) } }
}

fn delivery(state: DeliveryState) -> &'static str {
    match state {
        DeliveryState::Queued | DeliveryState::Sending | DeliveryState::InDoubt => {
            t("wird zugestellt", "being delivered")
        }
        DeliveryState::Accepted => t("versandt", "sent"),
        DeliveryState::Delivered => t("zugestellt", "delivered"),
        DeliveryState::Bounced | DeliveryState::Complained | DeliveryState::Failed => t(
            "nicht zugestellt – wir versuchen es erneut und melden uns",
            "not delivered – we try again and will reach out",
        ),
    }
}

pub async fn list(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    let lang = current_lang();
    let mut incidents = s.incidents.list_incidents(&viewer.access).await?;
    incidents.sort_by_key(|i| std::cmp::Reverse(i.aware_at));
    let body = html! {
        h1 { (t("Sicherheitsvorfälle", "Security incidents")) }
        p class="lead" { (t(
            "Vorfälle, die Daten betreffen, die wir für Ihr Unternehmen verarbeiten. Wir informieren Sie innerhalb von 48 Stunden, nachdem wir davon erfahren.",
            "Incidents that affect data we process for your company. We inform you within 48 hours of becoming aware of them.",
        )) }
        @if incidents.is_empty() {
            p { (t("Kein Vorfall betrifft Ihr Unternehmen.", "No incident affects your company.")) }
        } @else {
            table {
                caption class="muted" { (t("Neueste zuerst", "Newest first")) }
                thead { tr {
                    th scope="col" { (t("Vorfall", "Incident")) }
                    th scope="col" { (t("Stand", "State")) }
                    th scope="col" { (t("Uns bekannt seit", "Known to us since")) }
                } }
                tbody {
                    @for incident in &incidents {
                        tr {
                            td { a href={ (INCIDENTS) "/" (incident.id) } { (title_in(incident.title.as_deref(), incident.title_en.as_deref(), incident.aware_at)) } }
                            td { (status(incident.status)) }
                            td { (date_time(lang, incident.aware_at)) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(t("Sicherheitsvorfälle", "Security incidents"), body).nav(nav(&viewer, &tenant)))
}

pub async fn detail(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    let id = IncidentId::parse(&id).map_err(|_| PageError(Error::NotFound("incident".into())))?;
    let IncidentForCaller::Customer(view) = s.incidents.get_incident(&viewer.access, &id).await?
    else {
        return Err(PageError(Error::NotFound("incident".into())));
    };
    let heading = title_in(
        view.customer_title.as_deref(),
        view.english.customer_title.as_deref(),
        view.aware_at,
    );
    Ok(Page::new(heading.clone(), render(&view, &heading)).nav(nav(&viewer, &tenant)))
}

fn render(view: &CustomerIncidentView, heading: &str) -> Markup {
    let lang = current_lang();
    let words = language(lang);
    let kinds = [
        MeasureKind::Containment,
        MeasureKind::Improvement,
        MeasureKind::IncidentManagement,
        MeasureKind::Process,
    ];
    html! {
        p { a href=(INCIDENTS) { (t("← Alle Vorfälle", "← All incidents")) } }
        h1 { (heading) }
        p { (status(view.status)) " " (t("Uns bekannt seit ", "Known to us since ")) (date_time(lang, view.aware_at)) }
        section class="card" aria-labelledby="told-heading" {
            h2 id="told-heading" { (t("Ihre Benachrichtigung", "Your notification")) }
            p {
                (t("Fällig bis ", "Due by ")) (date_time(lang, view.notification_due)) " "
                (t("(48 Stunden nach Kenntnis).", "(48 hours after we became aware)."))
            }
            @match (view.notified_at, view.notified_within_deadline) {
                (Some(at), Some(true)) => p class="good" { (t("Benachrichtigt am ", "Notified on ")) (date_time(lang, at)) (t(" – fristgerecht.", " – in time.")) },
                (Some(at), _) => p class="bad" { (t("Benachrichtigt am ", "Notified on ")) (date_time(lang, at)) (t(" – nach der Frist.", " – after the deadline.")) },
                (None, _) => p class="warn" { (t("Noch nicht benachrichtigt.", "Not notified yet.")) },
            }
            @if let Some(state) = view.notice_delivery {
                p { (t("Letzte Nachricht: ", "Latest message: ")) (delivery(state)) }
            }
        }
        h2 { (t("Was geschehen ist", "What happened")) }
        p class="prose" { (worded(&view.nature_and_scope, view.english.nature_and_scope.as_deref())) }
        dl {
            dt { (t("Betroffene Daten", "Data concerned")) }
            dd {
                @if view.data_categories.is_empty() {
                    (t("keine personenbezogenen Daten", "no personal data"))
                } @else {
                    (view.data_categories.iter().map(|c| notice::category(*c, words)).collect::<Vec<_>>().join(", "))
                }
            }
            dt { (t("Betroffene Personen", "People concerned")) }
            dd { (notice::approx(view.approx_data_subjects, words)) }
            dt { (t("Betroffene Datensätze", "Records concerned")) }
            dd { (notice::approx(view.approx_records, words)) }
        }
        h2 { (t("Wahrscheinliche Folgen", "Likely consequences")) }
        p class="prose" { (worded(&view.likely_consequences, view.english.likely_consequences.as_deref())) }
        h2 { (t("Maßnahmen", "Measures")) }
        @for kind in kinds {
            @let measures: Vec<_> = view.measures.iter().filter(|m| m.kind == kind).collect();
            h3 { (notice::heading(kind, words)) }
            @if measures.is_empty() {
                p class="muted" { (t("Keine.", "None.")) }
            } @else {
                ul {
                    @for m in measures {
                        li { (worded(&m.what, m.what_en.as_deref())) " — " (notice::status(m.status, words)) ", " (date(lang, m.at)) }
                    }
                }
            }
        }
        h2 id="notices" { (t("Nachrichten an Sie", "Messages to you")) }
        @if view.notices_received.is_empty() {
            p class="muted" { (t("Noch keine.", "None yet.")) }
        }
        @for n in &view.notices_received {
            details class="notice-message" {
                summary { (n.subject) " · " (date_time(lang, n.queued_at)) " · " (delivery(n.state)) }
                pre class="message" { (n.body) }
            }
        }
        h2 { (t("Datenschutzbeauftragte", "Data protection officer")) }
        p { (view.data_protection_officer) }
    }
}
