//! `/console/register`: the breach register of Art. 33(5) GDPR — every incident, notified or
//! not, with its facts, effects, remedial action, decision and who was told — and its export
//! as CSV (the API's format, one source).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::incidents::status;
use super::{nav, none_yet, staff_only};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::{Page, PageError, PageResult, Viewer};

pub const REGISTER: &str = "/console/register";
pub const REGISTER_CSV: &str = "/console/register.csv";

/// The page shows the newest entries; the CSV holds every one.
const SHOWN: usize = 100;

pub async fn register(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    staff_only(&viewer)?;
    let lang = current_lang();
    let (entries, more) = s.incidents.register_newest(&viewer.access, SHOWN).await?;
    let body = html! {
        h1 { (t("Verzeichnis der Verletzungen (Art. 33 Abs. 5 DSGVO)", "Breach register (Art. 33(5) GDPR)")) }
        p class="lead" { (t(
            "Jede Verletzung, gemeldet oder nicht: Fakten, Auswirkungen, ergriffene Abhilfemaßnahmen und wer wann benachrichtigt wurde — so, wie die Aufsichtsbehörde es prüfen kann.",
            "Every breach, notified or not: its facts, effects, the remedial action taken and who was told when — as the supervisory authority may check it.",
        )) }
        p { a class="button" href=(REGISTER_CSV) download { (t("Als CSV herunterladen", "Download as CSV")) } }
        @if more {
            p class="hint" {
                (t("Hier die ", "Shown here: the ")) (entries.len())
                (t(" neuesten Einträge; die CSV-Datei enthält alle.", " newest entries; the CSV file holds every one."))
            }
        }
        @if entries.is_empty() {
            (none_yet("Noch kein Eintrag.", "No entry yet."))
        } @else {
            table id="register" {
                thead { tr {
                    th scope="col" { (t("Vorfall", "Incident")) }
                    th scope="col" { (t("Bekannt seit", "Aware since")) }
                    th scope="col" { (t("Stand", "Status")) }
                    th scope="col" class="num" { (t("Personen (ca.)", "People (approx.)")) }
                    th scope="col" { (t("Benachrichtigt", "Told")) }
                } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td { a href={ (super::incidents::INCIDENTS) "/" (entry.incident) } { (entry.title) } }
                            td { (date_time(lang, entry.aware_at)) }
                            td { (status(entry.status)) }
                            td class="num" {
                                @if entry.approx_data_subjects.min == entry.approx_data_subjects.max {
                                    (entry.approx_data_subjects.min)
                                } @else {
                                    (entry.approx_data_subjects.min) "–" (entry.approx_data_subjects.max)
                                }
                            }
                            td {
                                @if !entry.notified { (t("niemand (dokumentiert)", "nobody (documented)")) }
                                @for told in &entry.customers_told { (t("Kunde ", "customer ")) (told.tenant) " " (date_time(lang, told.at)) br; }
                                @if let Some(n) = &entry.supervisory_authority_notified { (t("Aufsichtsbehörde ", "authority ")) (date_time(lang, n.at)) br; }
                                @if let Some(n) = &entry.data_subjects_told { (t("Betroffene ", "data subjects ")) (date_time(lang, n.at)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(t("Verzeichnis der Verletzungen", "Breach register"), body).nav(nav(&viewer)))
}

pub async fn register_csv(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Response> {
    staff_only(&viewer)?;
    let entries = s.incidents.register(&viewer.access).await?;
    let csv = crate::routes::incidents::register_csv(&entries)
        .map_err(|e| PageError(kernel::Error::Internal(format!("register as CSV: {e}"))))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"breach-register.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
