//! `/portal/subprocessors`: the sub-processors, the changes planned, and — for a customer admin —
//! the objection to each planned change until it takes effect (Art. 28(2) GDPR), with the
//! objection shown once made.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::rbac::Permission;
use maud::html;
use serde::Deserialize;
use trust::subprocessors::ChangeId;

use super::{nav, tenant_of};
use crate::services::Services;
use crate::trust_page::{change_markup, subprocessors_table};
use crate::web::context::{current_lang, t};
use crate::web::format::date_time;
use crate::web::layout::{error_summary, field_error, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const SUBPROCESSORS: &str = "/portal/subprocessors";

#[derive(Debug, Default, Deserialize)]
pub struct ObjectionForm {
    reason: Option<String>,
}

pub async fn subprocessors_page(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
) -> PageResult<Page> {
    render(&s, &viewer, None, &[]).await
}

/// `failed`: the change whose objection form came back with `errors`.
async fn render(
    s: &Services,
    viewer: &Viewer,
    failed: Option<(&ChangeId, &str)>,
    errors: &[(String, String)],
) -> PageResult<Page> {
    let tenant = tenant_of(viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let changes = s.subprocessors.changes().await?;
    let everyone = trust::subprocessors::everyone(&changes);
    let may_object = viewer
        .access
        .permissions()
        .contains(Permission::SubprocessorsObject);
    let planned: Vec<_> = changes.iter().filter(|c| !c.in_effect(now)).collect();
    let mut own = Vec::with_capacity(planned.len());
    for change in &planned {
        own.push(if may_object {
            s.subprocessors
                .own_objection(&viewer.access, &tenant, &change.id)
                .await?
        } else {
            None
        });
    }
    let body = html! {
        h1 { (t("Unterauftragsverarbeiter", "Sub-processors")) }
        p { (t(
            "Diese Unternehmen verarbeiten in unserem Auftrag personenbezogene Daten Ihres Unternehmens. Jede Änderung kündigen wir Ihren Administratoren vorab per E-Mail an; bis sie wirksam wird, können Sie hier widersprechen.",
            "These companies process your organisation's personal data on our behalf. We announce every change to your admins by e-mail in advance; until it takes effect, you can object here.",
        )) }
        // A change that took effect meanwhile has no form left to show the mistake beside.
        @if failed.is_some_and(|(c, _)| !planned.iter().any(|p| p.id == *c)) {
            (error_summary(errors))
        }
        (subprocessors_table(&trust::subprocessors::list_at(&changes, now)))
        h2 { (t("Geplante Änderungen", "Planned changes")) }
        @if planned.is_empty() {
            p { (t("Keine.", "None.")) }
        }
        @for (change, objection) in planned.iter().zip(own.iter()) {
            section class="card" {
                (change_markup(change, &everyone, now))
                @match objection {
                    Some(o) => {
                        p class="notice" role="status" {
                            (t("Ihr Widerspruch vom ", "Your objection of ")) (date_time(lang, o.objected_at))
                            (t(" liegt uns vor: ", " has reached us: ")) "„" (o.reason) "“"
                        }
                    }
                    None if may_object => {
                        @let id = change.id.to_string();
                        @let this_failed = failed.is_some_and(|(c, _)| *c == change.id);
                        @let reason_error = field_error(errors, &format!("reason-{id}"));
                        @if this_failed { (error_summary(errors)) }
                        form method="post" action={ (SUBPROCESSORS) "/" (id) "/objection" } novalidate {
                            (form_token_field(&viewer.form_token))
                            label for={ "reason-" (id) } { (t("Ihr Widerspruch und seine Gründe", "Your objection and its reasons")) }
                            @if this_failed && let Some(e) = reason_error { p class="field-error" id={ "reason-" (id) "-error" } { (e) } }
                            textarea id={ "reason-" (id) } name="reason" rows="4" required
                                aria-invalid=[(this_failed && reason_error.is_some()).then_some("true")]
                                aria-describedby=[(this_failed && reason_error.is_some()).then(|| format!("reason-{id}-error"))] {
                                @if this_failed { (failed.map_or("", |(_, r)| r)) }
                            }
                            button type="submit" { (t("Widersprechen", "Object")) }
                        }
                    }
                    None => {}
                }
            }
        }
        p { a href=(crate::trust_page::SUBPROCESSORS) { (t("Öffentliche Liste mit früheren Änderungen", "Public list with earlier changes")) } }
    };
    Ok(Page::new(t("Unterauftragsverarbeiter", "Sub-processors"), body).nav(nav(viewer, &tenant)))
}

pub async fn object(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(change): Path<String>,
    PageForm(form): PageForm<ObjectionForm>,
) -> PageResult<Response> {
    let tenant = tenant_of(&viewer)?;
    let change = ChangeId::parse(&change)
        .map_err(|_| PageError(Error::NotFound("sub-processor change".into())))?;
    let reason = form.reason.unwrap_or_default();
    match s
        .subprocessors
        .object(&viewer.access, &tenant, &change, reason.clone())
        .await
    {
        Ok(_) => Ok(see_other(SUBPROCESSORS, &[])),
        Err(Error::Validation(fields)) => {
            let errors: Vec<(String, String)> = fields
                .iter()
                .map(|f| {
                    let on_reason = f.pointer == "/reason";
                    // Named as the form's field for this change, so the summary links to it.
                    let field = if on_reason {
                        format!("reason-{change}")
                    } else {
                        change.to_string()
                    };
                    let message = if on_reason {
                        t(
                            "Bitte nennen Sie Ihre Gründe (höchstens 4000 Zeichen).",
                            "Please give your reasons (at most 4000 characters).",
                        )
                        .to_string()
                    } else {
                        t(
                            "Diese Änderung ist schon wirksam; ein Widerspruch war bis dahin möglich.",
                            "This change is in effect already; objections were possible until then.",
                        )
                        .to_string()
                    };
                    (field, message)
                })
                .collect();
            Ok(
                render(&s, &viewer, Some((&change, reason.as_str())), &errors)
                    .await?
                    .status(StatusCode::UNPROCESSABLE_ENTITY)
                    .into_response(),
            )
        }
        Err(e) => Err(PageError(e)),
    }
}
