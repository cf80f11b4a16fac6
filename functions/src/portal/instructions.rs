//! `/portal/instructions`: the company's documented instructions (Art. 28(3)(a) GDPR) as its
//! configuration amounts to them — purposes, settings, contract terms —, which version was
//! acknowledged by whom and when, the acknowledgement itself for an admin, and the processor's
//! record of processing for the company (Art. 30(2)) to print or download as JSON.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::rbac::Permission;
use maud::{Markup, html};
use serde::Deserialize;
use trust::instructions::Line;

use super::{nav, tenant_of};
use crate::services::Services;
use crate::trust_page::pick;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, record_kind};
use crate::web::layout::{error_summary, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const INSTRUCTIONS: &str = "/portal/instructions";
pub const RECORD: &str = "/portal/instructions/record";
pub const RECORD_JSON: &str = "/portal/instructions/record.json";

fn lines(lines: &[Line]) -> Markup {
    html! {
        dl {
            @for l in lines {
                dt { (pick(&l.label)) }
                dd { (pick(&l.value)) }
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AcknowledgeForm {
    digest: Option<String>,
}

pub async fn instructions_page(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &[]).await
}

async fn render(s: &Services, viewer: &Viewer, errors: &[(String, String)]) -> PageResult<Page> {
    let tenant = tenant_of(viewer)?;
    let lang = current_lang();
    let view = s
        .instructions
        .view(&viewer.access, &tenant, &s.auth)
        .await?;
    let may_acknowledge = viewer
        .access
        .permissions()
        .contains(Permission::InstructionsAcknowledge);
    let body = html! {
        h1 { (t("Dokumentierte Weisungen", "Documented instructions")) }
        p { (t(
            "Wir verarbeiten die personenbezogenen Daten Ihres Unternehmens nur auf Ihre dokumentierte Weisung (Art. 28 Abs. 3 lit. a DSGVO). Diese Weisungen ergeben sich aus dem, was Sie vereinbart und eingestellt haben; ändert sich etwas, entsteht eine neue Fassung.",
            "We process your company's personal data only on your documented instructions (Art. 28(3)(a) GDPR). These instructions follow from what you agreed and configured; when something changes, there is a new version.",
        )) }
        @match view.acknowledged.last() {
            Some(last) if view.up_to_date() => {
                p class="notice" role="status" {
                    (t("Bestätigt als Fassung ", "Acknowledged as version ")) (last.version)
                    (t(" am ", " on ")) (date_time(lang, last.acknowledged_at)) "."
                }
            }
            Some(last) => {
                div class="errors" role="status" {
                    p { strong { (t("Geändert seit Fassung ", "Changed since version ")) (last.version) ": " }
                        (t("Bitte prüfen und bestätigen Sie die aktuelle Fassung.", "Please review and acknowledge the current version.")) }
                }
            }
            None => {
                div class="errors" role="status" {
                    p { (t("Noch keine Fassung bestätigt.", "No version acknowledged yet.")) }
                }
            }
        }
        h2 { (t("Zwecke der Verarbeitung", "Purposes of processing")) }
        ul { @for p in &view.current.purposes { li { (pick(p)) } } }
        h2 { (t("Ihre Einstellungen", "Your settings")) }
        (lines(&view.current.features))
        h2 { (t("Vertragliche Bedingungen", "Contract terms")) }
        (lines(&view.current.terms))
        p class="muted" { (t("Prüfsumme dieser Fassung (SHA-256): ", "Checksum of this version (SHA-256): ")) code { (view.digest) } }
        @if may_acknowledge && !view.up_to_date() {
            (error_summary(errors))
            form method="post" action=(INSTRUCTIONS) {
                (form_token_field(&viewer.form_token))
                input type="hidden" name="digest" value=(view.digest);
                button type="submit" { (t("Diese Fassung als unsere Weisungen bestätigen", "Acknowledge this version as our instructions")) }
            }
        }
        @if !view.acknowledged.is_empty() {
            h2 { (t("Bestätigte Fassungen", "Acknowledged versions")) }
            table {
                thead { tr {
                    th scope="col" class="num" { (t("Fassung", "Version")) }
                    th scope="col" { (t("Bestätigt", "Acknowledged")) }
                    th scope="col" { (t("Prüfsumme", "Checksum")) }
                } }
                tbody {
                    @for a in view.acknowledged.iter().rev() {
                        tr {
                            td class="num" { (a.version) }
                            td { (date_time(lang, a.acknowledged_at)) }
                            td { code { (a.digest.get(..16).unwrap_or(&a.digest)) "…" } }
                        }
                    }
                }
            }
        }
        h2 { (t("Verzeichnis der Verarbeitungstätigkeiten", "Record of processing activities")) }
        p {
            (t("Unser Verzeichnis als Auftragsverarbeiter für Ihr Unternehmen (Art. 30 Abs. 2 DSGVO): ", "Our record as processor for your company (Art. 30(2) GDPR): "))
            a href=(RECORD) { (t("ansehen und drucken", "view and print")) }
            " · " a href=(RECORD_JSON) download="verarbeitungsverzeichnis.json" { (t("als JSON herunterladen", "download as JSON")) }
        }
    };
    Ok(Page::new(t("Weisungen", "Instructions"), body).nav(nav(viewer, &tenant)))
}

pub async fn acknowledge(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<AcknowledgeForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&viewer)?;
    let digest = form.digest.unwrap_or_default();
    match s
        .instructions
        .acknowledge(&viewer.access, &tenant, &digest, &s.auth)
        .await
    {
        Ok(_) => Ok(see_other(INSTRUCTIONS, &[])),
        Err(Error::Conflict(_)) => {
            let errors = vec![(
                "digest".to_string(),
                t(
                    "Die Weisungen haben sich geändert, seit Sie sie geöffnet haben. Bitte lesen Sie die aktuelle Fassung und bestätigen Sie erneut.",
                    "The instructions changed since you opened them. Please read the current version and acknowledge again.",
                )
                .to_string(),
            )];
            Ok(render(&s, &viewer, &errors)
                .await?
                .status(StatusCode::CONFLICT)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

async fn processing_record(
    s: &Services,
    viewer: &Viewer,
) -> Result<trust::instructions::ProcessingRecord, PageError> {
    let tenant = tenant_of(viewer)?;
    let subprocessors = s.subprocessors.current().await?;
    Ok(s.instructions
        .processing_record(
            &viewer.access,
            &tenant,
            &subprocessors,
            &s.config.dpo_contact,
            &s.config.security_contact,
        )
        .await?)
}

/// The record in words, for reading and printing.
pub async fn record_page(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    let tenant = tenant_of(&viewer)?;
    let lang = current_lang();
    let record = processing_record(&s, &viewer).await?;
    let body = html! {
        h1 { (t("Verzeichnis der Verarbeitungstätigkeiten (Art. 30 Abs. 2 DSGVO)", "Record of processing activities (Art. 30(2) GDPR)")) }
        p class="muted" { (t("Erstellt am ", "Generated on ")) (date_time(lang, record.generated_at)) }
        dl {
            dt { (t("Auftragsverarbeiter", "Processor")) } dd { (record.processor) " (" (record.processor_contact) ")" }
            dt { (t("Datenschutzbeauftragter", "Data protection officer")) } dd { (record.data_protection_officer) }
            dt { (t("Verantwortlicher", "Controller")) } dd { (record.controller) " (" (record.controller_id) ")" }
        }
        h2 { (t("Kategorien von Verarbeitungen im Auftrag", "Categories of processing on the controller's behalf")) }
        table {
            thead { tr {
                th scope="col" { (t("Verarbeitung", "Processing")) }
                th scope="col" { (t("Datenkategorien", "Data categories")) }
                th scope="col" { (t("Löschung", "Deletion")) }
            } }
            tbody {
                @for c in &record.categories {
                    tr { td { (record_kind(lang, c.kind)) } td { (pick(&c.data_categories)) } td { (pick(&c.deleted)) } }
                }
            }
        }
        h2 { (t("Übermittlungen an Drittländer und Unterauftragsverarbeiter", "Transfers to third countries and sub-processors")) }
        table {
            thead { tr {
                th scope="col" { (t("Empfänger", "Recipient")) }
                th scope="col" { (t("Ort", "Location")) }
                th scope="col" { (t("Garantien", "Safeguards")) }
            } }
            tbody {
                @for x in &record.transfers {
                    tr { td { (x.recipient) } td { (pick(&x.location)) } td { (pick(&x.safeguard)) } }
                }
            }
        }
        h2 { (t("Technische und organisatorische Maßnahmen (Art. 32 DSGVO)", "Technical and organisational measures (Art. 32 GDPR)")) }
        ul { @for m in &record.security_measures { li { (pick(m)) } } }
    };
    Ok(
        Page::new(t("Verarbeitungsverzeichnis", "Record of processing"), body)
            .nav(nav(&viewer, &tenant)),
    )
}

/// The record as a JSON file to keep.
pub async fn record_json(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Response> {
    let record = processing_record(&s, &viewer).await?;
    let mut response = axum::Json(&record).into_response();
    let name = format!(
        "attachment; filename=\"processing-record-{}.json\"",
        record.controller_id
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
