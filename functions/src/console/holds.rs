//! `/console/holds`: the legal holds across customers — the statutory duty, the data
//! categories, until when, who set it — a new one set by the data protection officer, and one
//! lifted. A hold keeps the named data from the deletion stages while it lasts.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::rbac::Permission;
use maud::{Markup, html};
use retention::LegalHold;
use retention::records::HoldId;
use retention::service::HoldInput;

use super::incidents::DATA_CATEGORIES;
use super::{done, field_errors, nav, none_yet, staff_only};
use crate::http::Path;
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, local_input, local_time};
use crate::web::layout::{error_summary, field_error, form_token_field};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const HOLDS: &str = "/console/holds";

fn category_label(category: kernel::inventory::DataCategory) -> &'static str {
    DATA_CATEGORIES
        .iter()
        .find(|(_, c, _)| *c == category)
        .map_or("", |(_, _, label)| label.get())
}

fn state(hold: &LegalHold, now: kernel::time::Timestamp) -> Markup {
    let (class, text) = if hold.lifted_at.is_some() {
        ("muted", t("aufgehoben", "lifted"))
    } else if hold.active(now) {
        ("warn", t("wirksam", "in force"))
    } else {
        ("muted", t("abgelaufen", "expired"))
    };
    html! { span class={ "status " (class) } { (text) } }
}

pub async fn list(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Page> {
    render(&s, &viewer, &[], &[], None).await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    form: &[(String, String)],
    errors: &[(String, String)],
    notice: Option<Markup>,
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    let holds = s.retention.all_holds(&viewer.access).await?;
    let may_manage = viewer
        .access
        .permissions()
        .contains(Permission::LegalHoldsManage);
    let value = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let checked = |name: &str| form.iter().any(|(n, v)| n == "categories" && v == name);
    let until_default = now
        .checked_add(jiff::SignedDuration::from_hours(24 * 365))
        .map(local_input)
        .unwrap_or_default();
    let tenant_error = field_error(errors, "tenant");
    let basis_error = field_error(errors, "legal_basis");
    let categories_error = field_error(errors, "categories");
    let until_error = field_error(errors, "until");
    let body = html! {
        h1 { (t("Aufbewahrungspflichten (Legal Holds)", "Legal holds")) }
        p class="lead" { (t(
            "Solange eine Pflicht wirkt, löschen die Löschstufen die genannten Daten des Kunden nicht; die Löschbescheinigung nennt sie.",
            "While a hold is in force, the deletion stages keep the customer's data it names; the deletion certificate names the hold.",
        )) }
        @if let Some(notice) = notice { (notice) }
        @if holds.is_empty() {
            (none_yet("Keine Aufbewahrungspflicht gesetzt.", "No legal hold set."))
        } @else {
            table id="holds" {
                thead { tr {
                    th scope="col" { (t("Kunde", "Customer")) }
                    th scope="col" { (t("Rechtsgrundlage", "Legal basis")) }
                    th scope="col" { (t("Datenkategorien", "Data categories")) }
                    th scope="col" { (t("Bis", "Until")) }
                    th scope="col" { (t("Stand", "State")) }
                } }
                tbody {
                    @for hold in &holds {
                        tr {
                            td { (hold.tenant) }
                            td { (hold.legal_basis) }
                            td { (hold.categories.iter().map(|c| category_label(*c)).collect::<Vec<_>>().join(", ")) }
                            td { (date_time(lang, hold.until)) }
                            td {
                                (state(hold, now))
                                @if may_manage && hold.active(now) {
                                    form method="post" action={ (HOLDS) "/" (hold.tenant) "/" (hold.id) "/lift" } {
                                        (form_token_field(&viewer.form_token))
                                        button type="submit" class="secondary" { (t("Aufheben", "Lift")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if may_manage {
            h2 { (t("Neue Aufbewahrungspflicht", "New legal hold")) }
            (error_summary(errors))
            form method="post" action=(HOLDS) novalidate {
                (form_token_field(&viewer.form_token))
                label for="tenant" { (t("Kunde (Kennung)", "Customer (id)")) }
                @if let Some(e) = tenant_error { p class="field-error" id="tenant-error" { (e) } }
                input type="text" id="tenant" name="tenant" value=(value("tenant")) autocomplete="off" aria-invalid=[tenant_error.map(|_| "true")];
                label for="legal_basis" { (t("Rechtsgrundlage", "Legal basis")) }
                p class="hint" id="legal_basis-hint" { (t(
                    "Die gesetzliche Pflicht, z. B. „§ 147 Abs. 1 Nr. 4 AO: Buchungsbelege, 8 Jahre“.",
                    "The statutory duty, e.g. “§ 147(1) no. 4 AO: accounting records, 8 years”.",
                )) }
                @if let Some(e) = basis_error { p class="field-error" id="legal_basis-error" { (e) } }
                input type="text" id="legal_basis" name="legal_basis" value=(value("legal_basis")) aria-describedby="legal_basis-hint" aria-invalid=[basis_error.map(|_| "true")];
                fieldset id="categories" {
                    legend { (t("Datenkategorien", "Data categories")) }
                    @if let Some(e) = categories_error { p class="field-error" id="categories-error" { (e) } }
                    @for (name, _, label) in DATA_CATEGORIES {
                        div {
                            input type="checkbox" id={ "hold-" (name) } name="categories" value=(name) checked[checked(name)];
                            label class="inline-label" for={ "hold-" (name) } { (label.get()) }
                        }
                    }
                }
                label for="until" { (t("Bis (Ortszeit Berlin)", "Until (Berlin time)")) }
                @if let Some(e) = until_error { p class="field-error" id="until-error" { (e) } }
                input type="datetime-local" id="until" name="until" value=(if form.is_empty() { until_default.as_str() } else { value("until") }) aria-invalid=[until_error.map(|_| "true")];
                button type="submit" { (t("Aufbewahrungspflicht setzen", "Set the legal hold")) }
            }
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(t("Aufbewahrungspflichten", "Legal holds"), body)
        .nav(nav(viewer))
        .status(status))
}

fn message(field: &str) -> String {
    match field {
        "tenant" => t(
            "Bitte einen bestehenden Kunden angeben.",
            "Please name an existing customer.",
        ),
        "legal_basis" => t(
            "Bitte die gesetzliche Pflicht nennen (3 bis 500 Zeichen).",
            "Please name the statutory duty (3 to 500 characters).",
        ),
        "categories" => t(
            "Bitte mindestens eine Datenkategorie wählen.",
            "Please choose at least one data category.",
        ),
        _ => t(
            "Bitte einen Zeitpunkt in der Zukunft angeben.",
            "Please give a time in the future.",
        ),
    }
    .to_string()
}

pub async fn set(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let value = |name: &str| {
        form.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
    };
    let categories: BTreeSet<_> = form
        .iter()
        .filter(|(n, _)| n == "categories")
        .filter_map(|(_, v)| {
            DATA_CATEGORIES
                .iter()
                .find(|(name, ..)| name == v)
                .map(|(_, c, _)| *c)
        })
        .collect();
    let input = HoldInput {
        legal_basis: value("legal_basis"),
        categories: Some(categories),
        until: value("until").as_deref().and_then(local_time),
    };
    let tenant = value("tenant").and_then(|t| TenantId::new(t).ok());
    let tenant = match tenant {
        Some(t) if kernel::tenants::get(s.store.as_ref(), &t).await?.is_some() => Some(t),
        _ => None,
    };
    // Every failing field at once: the service checks the hold itself; with no such customer,
    // on a stand-in that writes nothing (its checks come before any write).
    let result = match &tenant {
        Some(tenant) => s.retention.set_hold(&viewer.access, tenant, input).await,
        None => match retention::service::check_hold(&input, s.clock.now()) {
            Ok(()) => Err(Error::Validation(vec![])),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(hold) => {
            let text = format!("{} {}", t("Gesetzt für", "Set for"), hold.tenant);
            Ok(render(&s, &viewer, &[], &[], Some(done(&text)))
                .await?
                .into_response())
        }
        Err(Error::Validation(fields)) => {
            let mut failing: Vec<String> =
                field_errors(fields).into_iter().map(|(f, _)| f).collect();
            if tenant.is_none() {
                failing.push("tenant".into());
            }
            let errors: Vec<(String, String)> = ["tenant", "legal_basis", "categories", "until"]
                .iter()
                .filter(|f| failing.iter().any(|x| x == *f))
                .map(|f| (f.to_string(), message(f)))
                .collect();
            Ok(render(&s, &viewer, &form, &errors, None)
                .await?
                .into_response())
        }
        Err(e) => Err(PageError(e)),
    }
}

pub async fn lift(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path((tenant, hold)): Path<(String, String)>,
    PageForm(_): PageForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let not_found = || PageError(Error::NotFound("legal hold".into()));
    let tenant = TenantId::new(tenant).map_err(|_| not_found())?;
    let hold = HoldId::parse(&hold).map_err(|_| not_found())?;
    let notice = match s.retention.lift_hold(&viewer.access, &tenant, &hold).await {
        Ok(_) => done(t("Aufgehoben.", "Lifted.")),
        Err(Error::Conflict(_)) => done(t("War schon aufgehoben.", "Was lifted already.")),
        Err(e) => return Err(PageError(e)),
    };
    Ok(render(&s, &viewer, &[], &[], Some(notice))
        .await?
        .into_response())
}
