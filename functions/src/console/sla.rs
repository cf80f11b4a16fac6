//! `/console/sla/<month>`: the platform's availability for staff — what each probe target looks
//! like from each vantage right now (a vantage that went silent shows here first), the month's
//! figures and day chart (the portal's view of a customer's month, for the whole platform), the
//! outages and exclusions operators recorded with their evidence, and for operators the forms to
//! record both (every failing field at once; each record starts its own audit chain).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::ids::TenantId;
use kernel::rbac::Permission;
use kernel::time::{Month, Timestamp};
use maud::{Markup, html};
use serde::Deserialize;
use sla::records::Scope;
use sla::service::{ExclusionInput, OutageInput};
use sla::{ExclusionCategory, MinuteState, Vantage};

use super::{done, field_errors, nav, none_yet, staff_only};
use crate::http::Path;
use crate::portal::sla::{exclusion_category, month_figures, month_nav, range_text};
use crate::services::Services;
use crate::web::context::{current_lang, t};
use crate::web::format::{date_time, local_time, month_name};
use crate::web::layout::{error_summary, field_error, form_token_field, see_other};
use crate::web::{Page, PageError, PageForm, PageResult, Viewer};

pub const SLA: &str = "/console/sla";

/// The recent window the probe targets' state covers.
const RECENT_MINUTES: u32 = 60;
/// A vantage whose newest result is older than this has gone silent.
const SILENT_AFTER_MINUTES: i64 = 5;

const CATEGORIES: [ExclusionCategory; 5] = [
    ExclusionCategory::PlannedMaintenance,
    ExclusionCategory::ForceMajeure,
    ExclusionCategory::CustomerAct,
    ExclusionCategory::ThirdPartyAct,
    ExclusionCategory::ExternalInfrastructure,
];

/// The two forms' fields; empty strings count as not given.
#[derive(Debug, Default, Deserialize)]
pub struct RecordForm {
    start: Option<String>,
    end: Option<String>,
    tenant: Option<String>,
    description: Option<String>,
    reason: Option<String>,
    evidence: Option<String>,
    category: Option<String>,
    announced_at: Option<String>,
}

/// Which form was posted (its fields' ids and errors carry the prefix).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Outage,
    Exclusion,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Outage => "outage",
            Kind::Exclusion => "exclusion",
        }
    }
}

fn month_path(month: Month) -> String {
    format!("{SLA}/{month}")
}

fn parse_month(raw: &str) -> PageResult<Month> {
    raw.parse()
        .map_err(|_| PageError(Error::NotFound("month".into())))
}

fn vantage_words(vantage: Vantage) -> &'static str {
    match vantage {
        Vantage::Region => t(
            "AWS eu-central-1 (eigene Region)",
            "AWS eu-central-1 (own region)",
        ),
        Vantage::Edge => t("Cloudflare (Netzrand)", "Cloudflare (edge)"),
    }
}

/// `/console/sla`: the current month.
pub async fn current(State(s): State<Arc<Services>>, viewer: Viewer) -> PageResult<Response> {
    staff_only(&viewer)?;
    Ok(see_other(
        &month_path(Month::containing(s.clock.now())),
        &[],
    ))
}

pub async fn month_page(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(month): Path<String>,
) -> PageResult<Page> {
    render(
        &s,
        &viewer,
        parse_month(&month)?,
        None,
        &RecordForm::default(),
        &[],
    )
    .await
}

async fn render(
    s: &Services,
    viewer: &Viewer,
    month: Month,
    notice: Option<Markup>,
    form: &RecordForm,
    errors: &[(String, String)],
) -> PageResult<Page> {
    staff_only(viewer)?;
    let lang = current_lang();
    let now = s.clock.now();
    if month > Month::containing(now) {
        return Err(PageError(Error::NotFound("month".into())));
    }
    let report = s.sla.platform_report(&viewer.access, month).await?;
    let (outages, exclusions) = s.sla.recorded_in_month(&viewer.access, month).await?;
    let probes = s.sla.probe_state(&viewer.access, RECENT_MINUTES).await?;
    let may_record = viewer
        .access
        .permissions()
        .contains(Permission::OutagesRecord);
    let tenants = if may_record
        && viewer
            .access
            .permissions()
            .contains(Permission::TenantsManage)
    {
        kernel::tenants::list(s.store.as_ref(), &viewer.access).await?
    } else {
        Vec::new()
    };
    let scope_text = |scope: &Scope| match scope {
        Scope::Platform => t("alle Kunden", "all customers").to_string(),
        Scope::Tenant(tenant) => tenants
            .iter()
            .find(|r| &r.id == tenant)
            .map_or_else(|| tenant.to_string(), |r| r.name.clone()),
    };
    let title = format!(
        "{} · {}",
        t("Verfügbarkeit", "Availability"),
        month_name(lang, month.year(), month.month())
    );
    let silent_before = now
        .checked_sub(kernel::time::SignedDuration::from_mins(
            SILENT_AFTER_MINUTES,
        ))
        .unwrap_or(now);
    let body = html! {
        h1 { (title) }
        (month_nav(month, now, month_path))
        @if let Some(notice) = notice { (notice) }
        h2 id="probes" { (t("Messpunkte jetzt", "Probes now")) }
        p class="hint" { (t(
            "Jedes Ziel wird jede Minute aus zwei Richtungen geprüft. Schweigt ein Messpunkt, fehlen dem Monat Messungen — das zeigt sich hier zuerst.",
            "Every target is checked each minute from two vantage points. When one goes silent the month lacks measurements — that shows here first.",
        )) }
        @if probes.is_empty() {
            (none_yet("Noch kein Ziel hat ein Ergebnis gemeldet.", "No target has reported a result yet."))
        } @else {
            table id="probe-state" {
                caption class="muted" { (t("Letzte ", "Last ")) (RECENT_MINUTES) (t(" Minuten", " minutes")) }
                thead { tr {
                    th scope="col" { (t("Ziel", "Target")) }
                    th scope="col" { (t("Messpunkt", "Vantage point")) }
                    th scope="col" { (t("Stand", "State")) }
                    th scope="col" class="num" { (t("erreichbar", "up")) }
                    th scope="col" class="num" { (t("ausgefallen", "down")) }
                    th scope="col" class="num" { (t("ohne Ergebnis", "no result")) }
                } }
                tbody {
                    @for probe in &probes {
                        tr {
                            th scope="row" { (probe.target) }
                            td { (vantage_words(probe.vantage)) }
                            td {
                                @match probe.last_result {
                                    None => span class="status bad" { (t("schweigt", "silent")) },
                                    Some((at, _)) if at < silent_before => {
                                        span class="status bad" { (t("schweigt seit ", "silent since ")) (date_time(lang, at)) }
                                    },
                                    Some((at, MinuteState::Down)) => {
                                        span class="status bad" { (t("ausgefallen", "down")) } " " (date_time(lang, at))
                                    },
                                    Some((at, _)) => {
                                        span class="status good" { (t("erreichbar", "up")) } " " (date_time(lang, at))
                                    },
                                }
                            }
                            td class="num" { (probe.up) }
                            td class="num" { (probe.down) }
                            td class="num" { (probe.without_result) }
                        }
                    }
                }
            }
        }
        h2 { (t("Der Monat", "The month")) }
        (month_figures(&report, now, &title))
        h2 id="recorded-outages" { (t("Erfasste Ausfälle", "Recorded outages")) }
        @if outages.is_empty() {
            (none_yet("Kein Ausfall von Hand erfasst.", "No outage recorded by hand."))
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t("Zeitraum", "Period")) }
                    th scope="col" { (t("Betrifft", "Concerns")) }
                    th scope="col" { (t("Beschreibung", "Description")) }
                    th scope="col" { (t("Beleg", "Evidence")) }
                    th scope="col" { (t("Erfasst", "Recorded")) }
                } }
                tbody {
                    @for outage in &outages {
                        tr {
                            td { (range_text(&outage.range)) }
                            td { (scope_text(&outage.scope)) }
                            td { (outage.description) }
                            td { (outage.evidence) }
                            td { (date_time(lang, outage.recorded_at)) }
                        }
                    }
                }
            }
        }
        h2 id="recorded-exclusions" { (t("Erfasste Ausnahmen", "Recorded exclusions")) }
        @if exclusions.is_empty() {
            (none_yet("Keine Ausnahme erfasst.", "No exclusion recorded."))
        } @else {
            table {
                thead { tr {
                    th scope="col" { (t("Zeitraum", "Period")) }
                    th scope="col" { (t("Art", "Kind")) }
                    th scope="col" { (t("Betrifft", "Concerns")) }
                    th scope="col" { (t("Grund", "Reason")) }
                    th scope="col" { (t("Beleg", "Evidence")) }
                } }
                tbody {
                    @for exclusion in &exclusions {
                        tr {
                            td { (range_text(&exclusion.range)) }
                            td {
                                (exclusion_category(exclusion.category))
                                @if let Some(at) = exclusion.announced_at {
                                    br; span class="muted" { (t("angekündigt ", "announced ")) (date_time(lang, at)) }
                                }
                            }
                            td { (scope_text(&exclusion.scope)) }
                            td { (exclusion.reason) }
                            td { (exclusion.evidence) }
                        }
                    }
                }
            }
        }
        @if may_record {
            (error_summary(errors))
            (record_outage_form(viewer, month, &tenants, form, errors))
            (record_exclusion_form(viewer, month, &tenants, form, errors))
        }
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Page::new(title.clone(), body)
        .nav(nav(viewer))
        .status(status))
}

/// One labelled field of a record form, its id and error keyed `<kind>_<name>`.
fn field(
    kind: Kind,
    name: &str,
    label: &str,
    input: impl Fn(&str, Option<&str>) -> Markup,
    errors: &[(String, String)],
) -> Markup {
    let id = format!("{}_{name}", kind.prefix());
    let error = field_error(errors, &id);
    html! {
        label for=(id) { (label) }
        @if let Some(e) = error { p class="field-error" id={ (id) "-error" } { (e) } }
        (input(&id, error))
    }
}

fn value(
    form: &RecordForm,
    kind: Kind,
    posted: Kind,
    pick: fn(&RecordForm) -> &Option<String>,
) -> String {
    if kind == posted {
        pick(form).clone().unwrap_or_default()
    } else {
        String::new()
    }
}

fn text_input(value: String) -> impl Fn(&str, Option<&str>) -> Markup {
    move |id, error| html! { input type="text" id=(id) name=(id.split_once('_').map_or(id, |(_, n)| n)) value=(value) aria-invalid=[error.map(|_| "true")]; }
}

fn time_input(value: String) -> impl Fn(&str, Option<&str>) -> Markup {
    move |id, error| html! { input type="datetime-local" id=(id) name=(id.split_once('_').map_or(id, |(_, n)| n)) value=(value) aria-invalid=[error.map(|_| "true")]; }
}

fn tenant_select(
    tenants: &[kernel::tenants::TenantRecord],
    chosen: String,
) -> impl Fn(&str, Option<&str>) -> Markup + '_ {
    move |id, error| {
        html! {
            select id=(id) name="tenant" aria-invalid=[error.map(|_| "true")] {
                option value="" selected[chosen.is_empty()] { (t("alle Kunden", "all customers")) }
                @for tenant in tenants {
                    option value=(tenant.id) selected[chosen == tenant.id.as_str()] { (tenant.name) }
                }
            }
        }
    }
}

/// The kind of form whose values are shown again (the one posted, with its errors).
fn posted(errors: &[(String, String)]) -> Kind {
    if errors.iter().any(|(f, _)| f.starts_with("exclusion_")) {
        Kind::Exclusion
    } else {
        Kind::Outage
    }
}

fn record_outage_form(
    viewer: &Viewer,
    month: Month,
    tenants: &[kernel::tenants::TenantRecord],
    form: &RecordForm,
    errors: &[(String, String)],
) -> Markup {
    let kind = Kind::Outage;
    let shown = posted(errors);
    let v = |pick: fn(&RecordForm) -> &Option<String>| value(form, kind, shown, pick);
    html! {
        h2 id="record-outage" { (t("Ausfall erfassen", "Record an outage")) }
        p class="hint" { (t(
            "Für Ausfälle, die die Messung nicht sah (etwa eine Funktion, die falsche Antworten gab). Zeiten in Ortszeit Berlin.",
            "For outages the probes did not see (say a function that answered wrongly). Times in Berlin time.",
        )) }
        form method="post" action={ (month_path(month)) "/outages" } novalidate {
            (form_token_field(&viewer.form_token))
            (field(kind, "start", t("Beginn", "Start"), time_input(v(|f| &f.start)), errors))
            (field(kind, "end", t("Ende", "End"), time_input(v(|f| &f.end)), errors))
            (field(kind, "tenant", t("Betrifft", "Concerns"), tenant_select(tenants, v(|f| &f.tenant)), errors))
            (field(kind, "description", t("Beschreibung", "Description"), text_input(v(|f| &f.description)), errors))
            (field(kind, "evidence", t("Beleg (Ticket, Log-Abfrage, Statusmeldung)", "Evidence (ticket, log query, status post)"), text_input(v(|f| &f.evidence)), errors))
            button type="submit" class="secondary" { (t("Ausfall erfassen", "Record the outage")) }
        }
    }
}

fn record_exclusion_form(
    viewer: &Viewer,
    month: Month,
    tenants: &[kernel::tenants::TenantRecord],
    form: &RecordForm,
    errors: &[(String, String)],
) -> Markup {
    let kind = Kind::Exclusion;
    let shown = posted(errors);
    let v = |pick: fn(&RecordForm) -> &Option<String>| value(form, kind, shown, pick);
    let chosen = v(|f| &f.category);
    html! {
        h2 id="record-exclusion" { (t("Ausnahme erfassen", "Record an exclusion")) }
        p class="hint" { (t(
            "Nur die Ausnahmen der Vertrauensseite; ausgenommene Zeit zählt nicht gegen das Ziel. Geplante Wartung nur, wenn sie vor Beginn angekündigt war.",
            "Only the trust page's exclusions; excluded time does not count against the target. Planned maintenance only when announced before it began.",
        )) }
        form method="post" action={ (month_path(month)) "/exclusions" } novalidate {
            (form_token_field(&viewer.form_token))
            (field(kind, "start", t("Beginn", "Start"), time_input(v(|f| &f.start)), errors))
            (field(kind, "end", t("Ende", "End"), time_input(v(|f| &f.end)), errors))
            (field(kind, "category", t("Art", "Kind"), |id: &str, error: Option<&str>| html! {
                select id=(id) name="category" aria-invalid=[error.map(|_| "true")] {
                    option value="" selected[chosen.is_empty()] { (t("bitte wählen", "please choose")) }
                    @for category in CATEGORIES {
                        @let value = category_value(category);
                        option value=(value) selected[chosen == value] { (exclusion_category(category)) }
                    }
                }
            }, errors))
            (field(kind, "announced_at", t("Angekündigt am (nur geplante Wartung)", "Announced on (planned maintenance only)"), time_input(v(|f| &f.announced_at)), errors))
            (field(kind, "tenant", t("Betrifft", "Concerns"), tenant_select(tenants, v(|f| &f.tenant)), errors))
            (field(kind, "reason", t("Grund", "Reason"), text_input(v(|f| &f.reason)), errors))
            (field(kind, "evidence", t("Beleg (Ankündigung, Ticket, Meldung des Dritten)", "Evidence (announcement, ticket, the third party's notice)"), text_input(v(|f| &f.evidence)), errors))
            button type="submit" class="secondary" { (t("Ausnahme erfassen", "Record the exclusion")) }
        }
    }
}

fn category_value(category: ExclusionCategory) -> &'static str {
    match category {
        ExclusionCategory::ForceMajeure => "force_majeure",
        ExclusionCategory::CustomerAct => "customer_act",
        ExclusionCategory::ThirdPartyAct => "third_party_act",
        ExclusionCategory::ExternalInfrastructure => "external_infrastructure",
        ExclusionCategory::PlannedMaintenance => "planned_maintenance",
    }
}

/// What to fix in a record form's field.
fn message(field: &str) -> String {
    match field {
        "start" => t(
            "Bitte einen Beginn angeben, der vor dem Ende und nicht in der Zukunft liegt.",
            "Please give a start before the end and not in the future.",
        ),
        "end" => t(
            "Bitte ein Ende nach dem Beginn angeben.",
            "Please give an end after the start.",
        ),
        "tenant" => t(
            "Bitte den betroffenen Kunden wählen (bei Handlungen des Kunden nötig).",
            "Please choose the customer concerned (needed for acts of the customer).",
        ),
        "category" => t("Bitte die Art wählen.", "Please choose the kind."),
        "announced_at" => t(
            "Nur bei geplanter Wartung, und dann nötig: ein Zeitpunkt vor dem Beginn, nicht in der Zukunft.",
            "Only for planned maintenance, and then required: a time before the start, not in the future.",
        ),
        _ => t(
            "Bitte angeben (1 bis 500 Zeichen).",
            "Please fill in (1 to 500 characters).",
        ),
    }
    .to_string()
}

/// A time field as posted: `Ok(None)` when empty, `Err` when it cannot be read.
fn time_of(raw: &Option<String>) -> Result<Option<Timestamp>, ()> {
    match raw.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => local_time(raw).map(Some).ok_or(()),
    }
}

/// The fields the page could not read, and the times it could.
struct Read {
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    announced_at: Option<Timestamp>,
    tenant: Option<TenantId>,
    unreadable: Vec<&'static str>,
}

fn read(form: &RecordForm) -> Read {
    let mut unreadable = Vec::new();
    let mut time = |name: &'static str, raw: &Option<String>| {
        time_of(raw).unwrap_or_else(|()| {
            unreadable.push(name);
            None
        })
    };
    let start = time("start", &form.start);
    let end = time("end", &form.end);
    let announced_at = time("announced_at", &form.announced_at);
    let tenant = match form
        .tenant
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(raw) => match TenantId::new(raw) {
            Ok(t) => Some(t),
            Err(_) => {
                unreadable.push("tenant");
                None
            }
        },
    };
    Read {
        start,
        end,
        announced_at,
        tenant,
        unreadable,
    }
}

fn given(raw: &Option<String>) -> Option<String> {
    raw.as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// The page after a record form: what was recorded, or every failing field next to its input.
async fn after(
    s: &Services,
    viewer: &Viewer,
    month: Month,
    kind: Kind,
    form: &RecordForm,
    unreadable: Vec<&'static str>,
    result: Result<(), Error>,
) -> PageResult<Response> {
    let mut failing: Vec<String> = unreadable.iter().map(|f| f.to_string()).collect();
    match result {
        Ok(()) if failing.is_empty() => {
            let text = match kind {
                Kind::Outage => t(
                    "Ausfall erfasst; er zählt im Bericht des Monats und bei der Prüfung von Anträgen.",
                    "Outage recorded; it counts in the month's report and when claims are checked.",
                ),
                Kind::Exclusion => t(
                    "Ausnahme erfasst; die ausgenommene Zeit zählt nicht mehr gegen das Ziel.",
                    "Exclusion recorded; the excluded time no longer counts against the target.",
                ),
            };
            return Ok(render(
                s,
                viewer,
                month,
                Some(done(text)),
                &RecordForm::default(),
                &[],
            )
            .await?
            .into_response());
        }
        Ok(()) => {}
        Err(Error::Validation(fields)) => {
            failing.extend(field_errors(fields).into_iter().map(|(f, _)| f))
        }
        Err(e) => return Err(PageError(e)),
    }
    let order = [
        "start",
        "end",
        "category",
        "announced_at",
        "tenant",
        "description",
        "reason",
        "evidence",
    ];
    failing.sort_by_key(|f| order.iter().position(|o| o == f));
    failing.dedup();
    let errors: Vec<(String, String)> = failing
        .iter()
        .map(|f| (format!("{}_{f}", kind.prefix()), message(f)))
        .collect();
    Ok(render(s, viewer, month, None, form, &errors)
        .await?
        .into_response())
}

pub async fn record_outage(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<RecordForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let month = parse_month(&raw)?;
    let read = read(&form);
    if !read.unreadable.is_empty() {
        // Nothing is written while a field could not even be read.
        return after(
            &s,
            &viewer,
            month,
            Kind::Outage,
            &form,
            read.unreadable,
            Ok(()),
        )
        .await;
    }
    let input = OutageInput {
        start: read.start,
        end: read.end,
        tenant: read.tenant,
        description: given(&form.description),
        evidence: given(&form.evidence),
    };
    let result = s.sla.record_outage(&viewer.access, input).await.map(|_| ());
    after(
        &s,
        &viewer,
        month,
        Kind::Outage,
        &form,
        read.unreadable,
        result,
    )
    .await
}

pub async fn record_exclusion(
    State(s): State<Arc<Services>>,
    viewer: Viewer,
    Path(raw): Path<String>,
    PageForm(form): PageForm<RecordForm>,
) -> PageResult<Response> {
    staff_only(&viewer)?;
    let month = parse_month(&raw)?;
    let read = read(&form);
    if !read.unreadable.is_empty() {
        return after(
            &s,
            &viewer,
            month,
            Kind::Exclusion,
            &form,
            read.unreadable,
            Ok(()),
        )
        .await;
    }
    let category = form
        .category
        .as_deref()
        .and_then(|raw| CATEGORIES.into_iter().find(|c| category_value(*c) == raw));
    let input = ExclusionInput {
        start: read.start,
        end: read.end,
        category,
        tenant: read.tenant,
        reason: given(&form.reason),
        evidence: given(&form.evidence),
        announced_at: read.announced_at,
    };
    let result = s
        .sla
        .record_exclusion(&viewer.access, input)
        .await
        .map(|_| ());
    after(
        &s,
        &viewer,
        month,
        Kind::Exclusion,
        &form,
        read.unreadable,
        result,
    )
    .await
}
