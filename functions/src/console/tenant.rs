//! `/console/tenants/<id>`: one customer for operators — its name and breach contact (changed
//! here, each change audited), the contract's figures in force, and the service end: recorded
//! now or at a date, a date further back than the grace waiting for a second operator's
//! approval (the one who asked cannot approve it).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::policy::EffectivePolicy;
use kernel::rbac::Permission;
use kernel::tenants::{self, ServiceStatus, TenantInput};
use maud::{Markup, html};
use retention::service::{ServiceEndInput, ServiceEndOutcome};
use serde::Deserialize;

use super::tenants::{TENANTS, contact_input, message};
use super::{done, field_errors, nav, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, local_input, local_time};
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    name: Option<String>,
    contact_email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ServiceEndForm {
    ended_at: Option<String>,
}

fn tenant_id(raw: &str) -> PageResult<TenantId> {
    TenantId::new(raw).map_err(|_| PageError(Error::NotFound("tenant".into())))
}

fn path(tenant: &TenantId) -> String {
    format!("{TENANTS}/{tenant}")
}

pub async fn show(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
) -> PageResult<Page> {
    render(&s, &viewer, &tenant_id(&raw)?, None, &[]).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    tenant: &TenantId,
    notice: Option<Markup>,
    errors: &[(String, String)],
) -> PageResult<Page> {
    staff_only(viewer)?;
    viewer.access.require(
        Permission::TenantsManage,
        kernel::rbac::Scope::Tenant(tenant),
    )?;
    let lang = current_lang();
    let now = s.clock.now();
    let record = tenants::get(s.store.as_ref(), tenant)
        .await?
        .ok_or_else(|| PageError(Error::NotFound("tenant".into())))?;
    let contact = tenants::contact(&s.keyring, &record).await?;
    let policy = EffectivePolicy::for_contract(&record.contract).map_err(Error::from)?;
    let may_end = viewer
        .access
        .permissions()
        .contains(Permission::ServiceEndRecord);
    let pending = if may_end {
        s.retention
            .pending_service_end(&viewer.access, tenant)
            .await?
    } else {
        None
    };
    let me = &viewer.access.principal().subject;
    let pick = |text: trust::Text| lang.pick(text.de, text.en);
    let period = |p| pick(trust::evidence::period(p));
    // The notice period in hours, as the page and contracts state it ("48 Stunden").
    let notice_within = match policy.customer_notification {
        kernel::time::Period::Hours(h) => format!("{h} {}", t("Stunden", "hours")),
        other => period(other).to_string(),
    };
    let name_error = field_error(errors, "name");
    let contact_error = field_error(errors, "contact_email");
    let ended_error = field_error(errors, "ended_at");
    let body = html! {
        p { a href=(TENANTS) { "← " (t("Alle Kunden", "All customers")) } }
        h1 { (record.name) " " code { (record.id) } }
        @if let Some(notice) = notice { (notice) }
        (error_summary(errors))
        h2 { (t("Vertrag in Kraft", "Contract in force")) }
        dl id="contract" {
            dt { (t("Benachrichtigung bei Verletzungen", "Breach notice")) } dd { (t("binnen ", "within ")) (notice_within) }
            dt { (t("Löschung nach Leistungsende", "Deletion after the service ends")) } dd { (period(policy.deletion_after_service_end)) }
            dt { (t("Verbleibende Kopien", "Remaining copies")) } dd { (period(policy.remaining_copies_retention)) }
            dt { (t("Verfügbarkeitsziel", "Uptime target")) } dd { (policy.monthly_uptime_target) }
            dt { (t("SLA-Gutschrift", "SLA credit")) } dd { (policy.sla_credit) }
        }
        h2 { (t("Name und Meldekontakt", "Name and breach contact")) }
        form method="post" action={ (path(tenant)) "/profile" } novalidate {
            (form_token_field(&viewer.form_token))
            label for="name" { (t("Name", "Name")) }
            @if let Some(e) = name_error { p class="field-error" id="name-error" { (e) } }
            input type="text" id="name" name="name" value=(record.name) aria-invalid=[name_error.map(|_| "true")];
            label for="contact_email" { (t("Kontakt für Sicherheitsvorfälle", "Contact for security incidents")) }
            p class="hint" id="contact_email-hint" {
                (t("An diese Adresse gehen die Benachrichtigungen binnen ", "The notices within "))
                (notice_within)
                (t("; verschlüsselt gespeichert.", " go to this address; stored encrypted."))
            }
            @if let Some(e) = contact_error { p class="field-error" id="contact_email-error" { (e) } }
            input type="email" id="contact_email" name="contact_email" value=(contact.as_ref().map(|c| c.expose().as_str()).unwrap_or_default())
                aria-describedby="contact_email-hint" aria-invalid=[contact_error.map(|_| "true")];
            button type="submit" class="secondary" { (t("Speichern", "Save")) }
        }
        h2 { (t("Leistungsende", "Service end")) }
        @match record.status {
            ServiceStatus::Active => p { span class="status good" { (t("aktiv", "active")) } },
            _ => p { span class="status warn" { (t("beendet", "ended")) }
                @if let Some(at) = record.service_ended_at { " " (date_time(lang, at)) } },
        }
        @if let Some(request) = &pending {
            div class="notice" role="status" id="pending-service-end" {
                p { (t("Rückdatiertes Leistungsende zum ", "Backdated service end as of ")) (date_time(lang, request.ended_at))
                    (t(" wartet auf die Freigabe durch eine zweite Person.", " waits for a second person's approval.")) }
                @if request.requested_by != *me {
                    form method="post" action={ (path(tenant)) "/service-end/approval" } {
                        (form_token_field(&viewer.form_token))
                        button type="submit" { (t("Freigeben", "Approve")) }
                    }
                }
            }
        }
        @if may_end && record.status == ServiceStatus::Active && pending.is_none() {
            form method="post" action={ (path(tenant)) "/service-end" } novalidate {
                (form_token_field(&viewer.form_token))
                label for="ended_at" { (t("Leistung endete am (Ortszeit Berlin)", "The service ended on (Berlin time)")) }
                p class="hint" id="ended_at-hint" { (t(
                    "Weiter als 24 Stunden zurück gilt das Datum erst, wenn eine zweite Person es freigibt. Danach laufen die Löschfristen.",
                    "More than 24 hours back, the date takes effect only once a second person approves it. The deletion periods run from it.",
                )) }
                @if let Some(e) = ended_error { p class="field-error" id="ended_at-error" { (e) } }
                input type="datetime-local" id="ended_at" name="ended_at" value=(local_input(now))
                    aria-describedby="ended_at-hint" aria-invalid=[ended_error.map(|_| "true")];
                button type="submit" class="secondary" { (t("Leistungsende festhalten", "Record the service end")) }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(record.name.clone(), body)
        .nav(nav(viewer))
        .status(status))
}

pub async fn profile(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ProfileForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = tenant_id(&raw)?;
    if tenants::get(s.store.as_ref(), &tenant).await?.is_none() {
        return Err(PageError(Error::NotFound("tenant".into())));
    }
    let input = TenantInput {
        name: form.name,
        contact_email: contact_input(form.contact_email.as_deref()),
        contract: None,
    };
    let result = tenants::put(
        s.store.as_ref(),
        &s.keyring,
        &viewer.access,
        &tenant,
        input,
        s.clock.now(),
    )
    .await;
    match result {
        Ok(_) => Ok(render(
            &s,
            &viewer,
            &tenant,
            Some(done(t("Gespeichert.", "Saved."))),
            &[],
        )
        .await?
        .into_response()),
        Err(Error::Validation(fields)) => {
            let errors: Vec<(String, String)> = field_errors(fields)
                .into_iter()
                .map(|(field, _)| {
                    let text = message(&field);
                    (field, text)
                })
                .collect();
            Ok(render(&s, &viewer, &tenant, None, &errors)
                .await?
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn service_end(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<ServiceEndForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = tenant_id(&raw)?;
    let Some(ended_at) = form.ended_at.as_deref().and_then(local_time) else {
        return Ok(render(&s, &viewer, &tenant, None, &ended_at_refused())
            .await?
            .into_response());
    };
    let result = s
        .retention
        .record_service_end(
            &viewer.access,
            &tenant,
            ServiceEndInput {
                ended_at: Some(ended_at),
            },
        )
        .await;
    let notice = match result {
        Ok(ServiceEndOutcome::Ended(_)) => done(t(
            "Festgehalten; die Löschfristen laufen ab diesem Zeitpunkt.",
            "Recorded; the deletion periods run from this time.",
        )),
        Ok(ServiceEndOutcome::AwaitingApproval(_)) => done(t(
            "Rückdatiert: das Datum gilt erst, wenn eine zweite Person es freigibt.",
            "Backdated: the date takes effect only once a second person approves it.",
        )),
        Err(Error::Validation(_)) => {
            return Ok(render(&s, &viewer, &tenant, None, &ended_at_refused())
                .await?
                .into_response());
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(render(&s, &viewer, &tenant, Some(notice), &[])
        .await?
        .into_response())
}

fn ended_at_refused() -> Vec<(String, String)> {
    vec![(
        "ended_at".to_string(),
        t(
            "Bitte einen Zeitpunkt angeben, der nicht in der Zukunft liegt.",
            "Please give a time that does not lie in the future.",
        )
        .to_string(),
    )]
}

pub async fn approve_service_end(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(_): PageForm<ServiceEndForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let tenant = tenant_id(&raw)?;
    let notice = match s
        .retention
        .approve_service_end(&viewer.access, &tenant)
        .await
    {
        Ok(_) => done(t(
            "Freigegeben; das Leistungsende gilt, die Löschfristen laufen.",
            "Approved; the service end is in force and the deletion periods run.",
        )),
        Err(Error::Conflict(_) | Error::NotFound(_)) => {
            html! { div class="errors" role="alert" { p { (t(
                "Nicht freigegeben: eine zweite Person muss zustimmen, nicht die, die es festgehalten hat.",
                "Not approved: a second person must agree, not the one who recorded it.",
            )) } } }
        }
        Err(e) => return Err(PageError(e)),
    };
    Ok(render(&s, &viewer, &tenant, Some(notice), &[])
        .await?
        .into_response())
}
