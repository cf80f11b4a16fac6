//! `/portal/retention`: when the company's data is deleted — "service active", or the dates of
//! both stages after the service ended (30 days, then a further year for remaining copies) —,
//! legal holds that keep data longer, the deletion certificates (what was deleted, which keys
//! were destroyed, when the last backup expires), and the request for final deletion, which
//! needs the typed phrase the domain asks for.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::rbac::Permission;
use maud::{Markup, html};
use retention::service::{StageStatus, final_deletion_phrase};
use serde::Deserialize;

use super::{nav, tenant_of};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date, date_time};
use crate::web::layout::{error_summary, field_error, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const RETENTION: &str = "/portal/retention";
pub const FINAL_DELETION: &str = "/portal/retention/final-deletion";

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    confirmation: Option<String>,
}

fn stage_text(status: &StageStatus, now: kernel::time::Timestamp) -> Markup {
    let lang = current_lang();
    html! {
        @match status {
            StageStatus::Scheduled { due } => { (t("geplant für ", "scheduled for ")) (date(lang, *due)) }
            // Due before its date: final deletion was asked for.
            StageStatus::Due { due } if *due > now => { (t("fällig mit dem nächsten Lauf (endgültige Löschung verlangt)", "due with the next run (final deletion asked for)")) }
            StageStatus::Due { due } => { (t("fällig seit ", "due since ")) (date(lang, *due)) }
            StageStatus::Running { since } => { (t("läuft seit ", "running since ")) (date_time(lang, *since)) }
            StageStatus::Done { finished_at, .. } => {
                span class="status good" { (t("erledigt", "done")) } " " (date_time(lang, *finished_at))
            }
        }
    }
}

pub async fn retention_page(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &[]).await
}

async fn render(s: &Services, viewer: &Viewer, errors: &[(String, String)]) -> PageResult<Page> {
    let tenant = tenant_of(viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let plan = s.retention.tenant_plan(&viewer.access, &tenant).await?;
    let holds = s.retention.list_holds(&viewer.access, &tenant).await?;
    let certificates = s.retention.certificates(&viewer.access, &tenant).await?;
    let may_request = viewer
        .access
        .permissions()
        .contains(Permission::FinalDeletionRequest);
    let phrase = final_deletion_phrase(&tenant);
    let confirmation_error = field_error(errors, "confirmation");
    // The tenant's own periods: the contract may set others than the page.
    let policy = kernel::tenants::policy_for(s.store.as_ref(), &tenant).await?;
    let pick = |text: trust::Text| lang.pick(text.de, text.en);
    let deletion = pick(trust::evidence::period(policy.deletion_after_service_end));
    let copies = pick(trust::evidence::period(policy.remaining_copies_retention));
    let backups = pick(trust::evidence::period(policy.backup_retention));
    let body = html! {
        h1 { (t("Löschung Ihrer Daten", "Deletion of your data")) }
        @match &plan {
            None => {
                div class="card" {
                    h2 { (t("Dienst aktiv", "Service active")) }
                    p { (t(
                        "Solange der Dienst läuft, ist keine Löschung geplant. Nach dem Ende des Dienstes löschen wir personenbezogene Daten nach Ablauf von ",
                        "While the service runs, no deletion is scheduled. After the service ends we delete personal data after ",
                    )) (deletion) (t(
                        " und verbleibende Kopien nach einer weiteren Frist von ",
                        " and remaining copies after a further ",
                    )) (copies) (t("; Sicherungen halten wir ", "; backups are kept for ")) (backups) "." }
                }
            }
            Some(plan) => {
                p { (t("Der Dienst endete am ", "The service ended on ")) (date(lang, plan.service_ended_at)) "." }
                table {
                    thead { tr {
                        th scope="col" { (t("Stufe", "Stage")) }
                        th scope="col" { (t("Stand", "State")) }
                    } }
                    tbody {
                        tr { td { (t("Personenbezogene Daten (", "Personal data (")) (deletion) (t(" nach Dienstende)", " after the service ended)")) } td { (stage_text(&plan.stage1, now)) } }
                        tr { td { (t("Verbleibende Kopien (Frist danach: ", "Remaining copies (period after that: ")) (copies) ")" } td { (stage_text(&plan.stage2, now)) } }
                    }
                }
                @if plan.final_deletion_requested {
                    p class="notice" { (t(
                        "Sie haben die endgültige Löschung verlangt: Ihre Daten und alle verbleibenden Kopien werden mit dem nächsten täglichen Lauf gelöscht, ohne die Fristen abzuwarten.",
                        "You asked for final deletion: your data and every remaining copy go with the next daily run, without waiting for the periods.",
                    )) }
                }
            }
        }
        h2 { (t("Gesetzliche Aufbewahrung", "Legal holds")) }
        @if holds.is_empty() {
            p { (t("Keine: nichts wird über die Fristen hinaus aufbewahrt.", "None: nothing is kept beyond the periods above.")) }
        } @else {
            ul {
                @for hold in &holds {
                    li { (hold.legal_basis) " – " (t("bis ", "until ")) (date(lang, hold.until)) }
                }
            }
        }
        h2 { (t("Löschbescheinigungen", "Deletion certificates")) }
        p { (t(
            "Jede Löschstufe wird mit einer signierten Bescheinigung belegt. Stufe 1 löscht auch die Konten dieses Portals; eine Bescheinigung, die Sie erhalten haben, prüfen Sie jederzeit öffentlich: ",
            "Each deletion stage is attested by a signed certificate. Stage 1 deletes this portal's accounts too; a certificate you received can be checked publicly at any time: ",
        )) a href=(crate::routes::keys::VERIFY_CERTIFICATE) { (t("Bescheinigung prüfen", "check a certificate")) } "." }
        @if certificates.is_empty() {
            p { (t("Noch keine.", "None yet.")) }
        }
        @for stored in &certificates {
            @let c = &stored.certificate;
            section class="card" {
                h3 { (t("Bescheinigung ", "Certificate ")) code { (c.id) } }
                p { (crate::web::certificate::scope(c)) }
                p { (t("Abgeschlossen: ", "Finished: ")) (date_time(lang, c.finished_at)) }
                p { (t("Gelöschte Einträge: ", "Items deleted: ")) (c.deleted.values().sum::<u64>())
                    " · " (t("Vernichtete Schlüssel: ", "Keys destroyed: ")) (c.keys_destroyed.len()) }
                p { (t("Die letzte Sicherung mit diesen Daten läuft ab am ", "The last backup holding this data expires on ")) (date_time(lang, c.backups_expire_by)) "." }
            }
        }
        @if may_request && plan.as_ref().is_some_and(|p| !p.final_deletion_requested) {
            h2 id="final-deletion" { (t("Endgültige Löschung verlangen", "Ask for final deletion")) }
            p { (t(
                "Damit werden auch die verbleibenden Kopien gelöscht, ohne das weitere Jahr abzuwarten. Das lässt sich nicht rückgängig machen. Geben Sie zur Bestätigung genau Folgendes ein:",
                "This deletes the remaining copies too, without waiting for the further year. It cannot be undone. To confirm, type exactly:",
            )) " " code { (phrase) } }
            (error_summary(errors))
            form method="post" action=(FINAL_DELETION) novalidate {
                (form_token_field(&viewer.form_token))
                label for="confirmation" { (t("Bestätigung", "Confirmation")) }
                @if let Some(e) = confirmation_error { p class="field-error" id="confirmation-error" { (e) } }
                input type="text" id="confirmation" name="confirmation" autocomplete="off" required
                    aria-invalid=[confirmation_error.map(|_| "true")] aria-describedby=[confirmation_error.map(|_| "confirmation-error")];
                button type="submit" { (t("Endgültig löschen lassen", "Delete for good")) }
            }
        }
    };
    Ok(Page::new(t("Löschung", "Deletion"), body).nav(nav(viewer, &tenant)))
}

pub async fn request_final_deletion(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<ConfirmForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&viewer)?;
    let input = retention::service::FinalDeletionInput {
        confirmation: form.confirmation,
    };
    match s
        .retention
        .request_final_deletion(&viewer.access, &tenant, input)
        .await
    {
        Ok(_) => Ok(see_other(RETENTION, &[])),
        Err(Error::Validation(_)) => {
            let phrase = final_deletion_phrase(&tenant);
            let message = format!(
                "{} {phrase}",
                t(
                    "Bitte geben Sie zur Bestätigung genau ein:",
                    "To confirm, please type exactly:"
                )
            );
            let errors = vec![("confirmation".to_string(), message)];
            Ok(render(&s, &viewer, &errors)
                .await?
                .status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}
