//! The `incidents` function's routes: the public report intake and status, and the security
//! team's and customers' incident API. Every error is problem+json; every change is audited.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use crate::http::{Path, Query};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use incidents::model::{IncidentStatus, MeasureId, MeasureStatus, ReportStatus};
use incidents::service::{
    AssessmentInput, IncidentDraft, IncidentForCaller, IncidentPatch, IncidentSummary,
    IncidentView, MeasureInput, NoticePreview, NotifyInput, OverrideInput, Receipt, RecordedNotice,
    ReportSubmission, ReportSummary, ReportView, TriageInput,
};
use incidents::{IncidentId, ReportId};
use kernel::Error;
use serde::{Deserialize, Serialize};

use crate::http::{ApiError, ApiJson, Caller};
use crate::services::Services;

type Shared = State<Arc<Services>>;
type ApiResult<T> = Result<Json<T>, ApiError>;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(submit_report))
        .api(routes!(report_status))
        .api(routes!(ask_report_status))
        .api(routes!(reporter_message))
        .api(routes!(list_reports))
        .api(routes!(get_report))
        .api(routes!(triage))
        .api(routes!(team_message))
        .api(routes!(report_audit))
        .api(routes!(list_incidents, create_incident))
        .api(routes!(register))
        .api(routes!(get_incident, update_incident))
        .api(routes!(add_measure))
        .api(routes!(measure_status))
        .api(routes!(transition))
        .api(routes!(assess))
        .api(routes!(override_assessment))
        .api(routes!(notify_customers))
        .api(routes!(preview_customer_notices))
        .api(routes!(record_notice))
        .api(routes!(authority_notice_draft))
        .api(routes!(incident_audit))
        .api(routes!(crate::openapi::served))
}

fn report_id(raw: &str) -> Result<ReportId, ApiError> {
    ReportId::parse(raw).map_err(|_| ApiError(Error::NotFound("report".into())))
}

fn incident_id(raw: &str) -> Result<IncidentId, ApiError> {
    IncidentId::parse(raw).map_err(|_| ApiError(Error::NotFound("incident".into())))
}

/// Public: anyone may report a suspected incident. Answers 202 with the tracking id and the
/// secret for the status page.
#[utoipa::path(
    post,
    path = "/security/reports",
    tag = "reports",
    request_body = ReportSubmission,
    responses((status = 202, description = "The tracking id and the access code for the status page (shown once)"))
)]
async fn submit_report(
    State(s): Shared,
    ApiJson(submission): ApiJson<ReportSubmission>,
) -> Result<(StatusCode, Json<Receipt>), ApiError> {
    let receipt = s.incidents.submit_report(submission).await?;
    tracing::info!(target: "regrooter::security", event = "report_received", report = %receipt.tracking_id, "security report received");
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}

#[derive(Serialize)]
struct StatusView {
    tracking_id: ReportId,
    status: ReportStatus,
    /// Why it was closed (absent while it is open).
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_because: Option<incidents::model::ClosedBecause>,
    /// The status (and reason) in words, as the status mail says it: what the status page shows.
    says: Says,
    /// The conversation with the security team, oldest first.
    messages: Vec<incidents::service::ReportMessageView>,
    /// Whether the reporter may still write (the report is open, the conversation not full).
    may_write: bool,
}

#[derive(Serialize)]
struct Says {
    de: String,
    en: String,
}

/// Public: the reporter reads the status with the secret (`Authorization: Bearer <secret>`).
/// A wrong secret and an unknown id get the same answer.
#[utoipa::path(
    get,
    path = "/security/reports/{id}/status",
    tag = "reports",
    params(("id" = String, Path, description = "The id (report)")),
    responses((status = 200, description = "The report's status and its conversation"), (status = 404, description = "Unknown id or wrong access code (the same answer)"))
)]
async fn report_status(
    State(s): Shared,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<StatusView> {
    let id = report_id(&id)?;
    let values = headers.get_all(header::AUTHORIZATION).iter();
    let secret = kernel::authorization::bearer_token(values.map(|v| v.as_bytes()))
        .map_err(|_| ApiError(Error::NotFound("report".into())))?;
    status_view(&s, id, secret).await
}

/// The status page's question, as the edge forwards the reporter's form.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct StatusQuestion {
    tracking_id: String,
    access_code: String,
}

/// Public: the same answer for the edge's status page (the code in the body, not a header).
#[utoipa::path(
    post,
    path = kernel::report_limits::STATUS_PAGE,
    tag = "reports",
    request_body = StatusQuestion,
    responses((status = 200, description = "The report's status and its conversation"), (status = 404, description = "Unknown id or wrong access code (the same answer)"))
)]
async fn ask_report_status(
    State(s): Shared,
    ApiJson(question): ApiJson<StatusQuestion>,
) -> ApiResult<StatusView> {
    let id = report_id(&question.tracking_id)?;
    status_view(&s, id, &question.access_code).await
}

async fn status_view(s: &Services, id: ReportId, secret: &str) -> ApiResult<StatusView> {
    Ok(Json(status_json(
        id,
        s.incidents.report_status(&id, secret).await?,
    )))
}

fn status_json(id: ReportId, view: incidents::service::ReporterView) -> StatusView {
    let says = |lang| incidents::notice::status_sentence(view.status, view.closed_because, lang);
    StatusView {
        tracking_id: id,
        status: view.status,
        closed_because: view.closed_because,
        says: Says {
            de: says(incidents::model::Language::De),
            en: says(incidents::model::Language::En),
        },
        messages: view.messages,
        may_write: view.may_write,
    }
}

/// The status page's reply form, as the edge forwards it: the code in the body, and the text.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReporterMessage {
    tracking_id: String,
    access_code: String,
    #[serde(default)]
    text: Option<String>,
}

/// Public: the reporter writes to the security team with the access code; answers with the
/// status as it is now (the message in it). A wrong code gets the unknown report's answer.
#[utoipa::path(
    post,
    path = kernel::report_limits::STATUS_MESSAGES,
    tag = "reports",
    request_body = ReporterMessage,
    responses((status = 200, description = "The status with the message added"), (status = 409, description = "The report is closed or the conversation full"))
)]
async fn reporter_message(
    State(s): Shared,
    ApiJson(message): ApiJson<ReporterMessage>,
) -> ApiResult<StatusView> {
    let id = report_id(&message.tracking_id)?;
    let view = s
        .incidents
        .message_from_reporter(&id, &message.access_code, message.text)
        .await?;
    Ok(Json(status_json(id, view)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TeamMessage {
    #[serde(default)]
    text: Option<String>,
}

#[derive(Serialize)]
struct TeamMessageSent {
    /// Whether the reporter is told by mail (only when they left a contact).
    mailed: bool,
}

/// The security team writes to a report's reporter.
#[utoipa::path(
    post,
    path = "/api/reports/{id}/messages",
    tag = "reports",
    params(("id" = String, Path, description = "The id (report)")),
    request_body = TeamMessage,
    responses((status = 201, description = "The message is on the report; whether the reporter was mailed")),
    security(("bearer" = ["reports:triage"]))
)]
async fn team_message(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(message): ApiJson<TeamMessage>,
) -> Result<(StatusCode, Json<TeamMessageSent>), ApiError> {
    let mailed = s
        .incidents
        .message_to_reporter(&access, &report_id(&id)?, message.text)
        .await?;
    Ok((StatusCode::CREATED, Json(TeamMessageSent { mailed })))
}

#[utoipa::path(
    get,
    path = "/api/reports",
    tag = "reports",
    responses((status = 200, description = "Every report, newest first")),
    security(("bearer" = ["reports:read"]))
)]
async fn list_reports(State(s): Shared, Caller(access): Caller) -> ApiResult<Vec<ReportSummary>> {
    Ok(Json(s.incidents.list_reports(&access).await?))
}

#[utoipa::path(
    get,
    path = "/api/reports/{id}",
    tag = "reports",
    params(("id" = String, Path, description = "The id (report)")),
    responses((status = 200, description = "The report, opened")),
    security(("bearer" = ["reports:read"]))
)]
async fn get_report(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> ApiResult<ReportView> {
    Ok(Json(
        s.incidents.get_report(&access, &report_id(&id)?).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/reports/{id}/triage",
    tag = "reports",
    params(("id" = String, Path, description = "The id (report)")),
    request_body = TriageInput,
    responses((status = 200, description = "The report triaged (an incident opened needs incidents:manage as well)")),
    security(("bearer" = ["reports:triage"]))
)]
async fn triage(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TriageInput>,
) -> ApiResult<ReportSummary> {
    Ok(Json(
        s.incidents.triage(&access, &report_id(&id)?, input).await?,
    ))
}

#[derive(Serialize)]
struct AuditView {
    entries: Vec<kernel::audit::AuditEntry>,
    intact: bool,
    broken: Option<kernel::audit::BrokenLink>,
}

#[utoipa::path(
    get,
    path = "/api/reports/{id}/audit",
    tag = "reports",
    params(("id" = String, Path, description = "The id (report)")),
    responses((status = 200, description = "The report's audit trail and whether its chain verifies")),
    security(("bearer" = ["audit:read"]))
)]
async fn report_audit(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> ApiResult<AuditView> {
    let id = report_id(&id)?;
    let (entries, broken) = s.incidents.audit_trail(&access, &id.to_string()).await?;
    Ok(Json(AuditView {
        intact: broken.is_none(),
        entries,
        broken,
    }))
}

#[utoipa::path(
    get,
    path = "/api/incidents/{id}/audit",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    responses((status = 200, description = "The incident's audit trail and whether its chain verifies")),
    security(("bearer" = ["audit:read"]))
)]
async fn incident_audit(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> ApiResult<AuditView> {
    let id = incident_id(&id)?;
    let (entries, broken) = s.incidents.audit_trail(&access, &id.to_string()).await?;
    Ok(Json(AuditView {
        intact: broken.is_none(),
        entries,
        broken,
    }))
}

#[utoipa::path(
    get,
    path = "/api/incidents",
    tag = "incidents",
    responses((status = 200, description = "Incidents: all for staff; for a customer those that affect their company, in the customer view")),
    security(("bearer" = ["incidents:read"]), ("bearer" = ["tenant-incidents:read"]))
)]
async fn list_incidents(
    State(s): Shared,
    Caller(access): Caller,
) -> ApiResult<Vec<IncidentSummary>> {
    Ok(Json(s.incidents.list_incidents(&access).await?))
}

#[utoipa::path(
    post,
    path = "/api/incidents",
    tag = "incidents",
    request_body = IncidentDraft,
    responses((status = 201, description = "The incident opened, with its deadlines")),
    security(("bearer" = ["incidents:manage"]))
)]
async fn create_incident(
    State(s): Shared,
    Caller(access): Caller,
    ApiJson(draft): ApiJson<IncidentDraft>,
) -> Result<(StatusCode, Json<IncidentView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(s.incidents.create_incident(&access, draft).await?),
    ))
}

#[utoipa::path(
    get,
    path = "/api/incidents/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    responses((status = 200, description = "The incident: the full file for staff, the customer view for an affected customer")),
    security(("bearer" = ["incidents:read"]), ("bearer" = ["tenant-incidents:read"]))
)]
async fn get_incident(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> ApiResult<IncidentForCaller> {
    Ok(Json(
        s.incidents
            .get_incident(&access, &incident_id(&id)?)
            .await?,
    ))
}

#[utoipa::path(
    patch,
    path = "/api/incidents/{id}",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = IncidentPatch,
    responses((status = 200, description = "The changed file (re-assessed, with what changed)")),
    security(("bearer" = ["incidents:manage"]))
)]
async fn update_incident(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<IncidentPatch>,
) -> ApiResult<IncidentView> {
    Ok(Json(
        s.incidents
            .update_incident(&access, &incident_id(&id)?, patch)
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/measures",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = MeasureInput,
    responses((status = 200, description = "The incident with the measure")),
    security(("bearer" = ["incidents:manage"]))
)]
async fn add_measure(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MeasureInput>,
) -> ApiResult<IncidentView> {
    Ok(Json(
        s.incidents
            .add_measure(&access, &incident_id(&id)?, input)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct MeasureStatusInput {
    status: MeasureStatus,
}

#[utoipa::path(
    put,
    path = "/api/incidents/{id}/measures/{measure}/status",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)"), ("measure" = String, Path, description = "The measure's id")),
    request_body = MeasureStatusInput,
    responses((status = 200, description = "The incident with the measure's new status")),
    security(("bearer" = ["incidents:manage"]))
)]
async fn measure_status(
    State(s): Shared,
    Caller(access): Caller,
    Path((id, measure)): Path<(String, String)>,
    ApiJson(input): ApiJson<MeasureStatusInput>,
) -> ApiResult<IncidentView> {
    let measure =
        MeasureId::parse(&measure).map_err(|_| ApiError(Error::NotFound("measure".into())))?;
    Ok(Json(
        s.incidents
            .set_measure_status(&access, &incident_id(&id)?, &measure, input.status)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TransitionInput {
    to: IncidentStatus,
}

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/status",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = TransitionInput,
    responses((status = 200, description = "The incident in its new status"), (status = 409, description = "Not a transition the incident allows now")),
    security(("bearer" = ["incidents:manage"]))
)]
async fn transition(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TransitionInput>,
) -> ApiResult<IncidentView> {
    Ok(Json(
        s.incidents
            .transition(&access, &incident_id(&id)?, input.to)
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/assessment",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = AssessmentInput,
    responses((status = 200, description = "The risk assessment: the engine's decision with its reasons (provisional, with what to find out, while a fact that decides it is unknown) and the advice for our role")),
    security(("bearer" = ["incidents:assess"]))
)]
async fn assess(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<AssessmentInput>,
) -> ApiResult<IncidentView> {
    Ok(Json(
        s.incidents
            .assess(&access, &incident_id(&id)?, input)
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/assessment/override",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = OverrideInput,
    responses((status = 200, description = "The assessment with the human decision and its written justification beside the engine's")),
    security(("bearer" = ["incidents:assess"]))
)]
async fn override_assessment(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<OverrideInput>,
) -> ApiResult<IncidentView> {
    Ok(Json(
        s.incidents
            .override_assessment(&access, &incident_id(&id)?, input)
            .await?,
    ))
}

/// The text for the supervisory authority (Art. 33(3)) where the incident holds our own data.
#[utoipa::path(
    get,
    path = "/api/incidents/{id}/notifications/authority/draft",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    responses((status = 200, description = "The pre-filled notification to the supervisory authority (Art. 33(3)), German and English"), (status = 409, description = "We are only processor: the customer notifies their authority")),
    security(("bearer" = ["notifications:send"]))
)]
async fn authority_notice_draft(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> ApiResult<incidents::service::AuthorityNoticeDraft> {
    Ok(Json(
        s.incidents
            .authority_notice_draft(&access, &incident_id(&id)?)
            .await?,
    ))
}

/// `?follow_up=true`: the update (or final report) customers told already would get.
#[derive(Debug, Default, serde::Deserialize)]
struct PreviewQuery {
    #[serde(default)]
    follow_up: bool,
}

/// The customer notices as they would go out now, sending nothing.
#[utoipa::path(
    get,
    path = "/api/incidents/{id}/notifications/customers/preview",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)"), ("follow_up" = Option<bool>, Query, description = "Preview a follow-up notice")),
    responses((status = 200, description = "Each customer notice as it would go out now, in both languages; nothing is sent")),
    security(("bearer" = ["notifications:send"]))
)]
async fn preview_customer_notices(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    Query(query): Query<PreviewQuery>,
) -> ApiResult<Vec<NoticePreview>> {
    Ok(Json(
        s.incidents
            .preview_customer_notices(
                &access,
                &incident_id(&id)?,
                if query.follow_up {
                    incidents::service::NoticeChoice::FollowUp
                } else {
                    incidents::service::NoticeChoice::First
                },
            )
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/notifications/customers",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = NotifyInput,
    responses((status = 200, description = "Each affected customer told (initial, follow-up or closing notice), with the delivery state")),
    security(("bearer" = ["notifications:send"]))
)]
async fn notify_customers(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NotifyInput>,
) -> ApiResult<IncidentView> {
    let notified = s
        .incidents
        .notify_customers(&access, &incident_id(&id)?, input.tenants, input.follow_up)
        .await?;
    for (message, state) in &notified.messages {
        tracing::info!(target: "regrooter::outbox", message = %message, state = %state, "customer notice handed to the transport");
    }
    crate::jobs::log_alerts(&notified.alerts);
    Ok(Json(notified.view))
}

#[utoipa::path(
    post,
    path = "/api/incidents/{id}/notifications/recorded",
    tag = "incidents",
    params(("id" = String, Path, description = "The id (incident)")),
    request_body = RecordedNotice,
    responses((status = 200, description = "A notice made outside the platform (authority, data subjects, NIS2) recorded with its reference")),
    security(("bearer" = ["notifications:send"]))
)]
async fn record_notice(
    State(s): Shared,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<RecordedNotice>,
) -> ApiResult<IncidentView> {
    Ok(Json(
        s.incidents
            .record_notice(&access, &incident_id(&id)?, input)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFormat {
    /// `csv` downloads the register as a spreadsheet; `json` (the default) as data.
    format: Option<String>,
}

/// The breach register of Art. 33(5) GDPR, for the authority: every breach, notified or not.
#[utoipa::path(
    get,
    path = "/api/incidents/register",
    tag = "incidents",
    params(("format" = Option<String>, Query, description = "`json` (the default) or `csv`")),
    responses((status = 200, description = "The breach register of Art. 33(5) GDPR: every breach, notified or not (JSON, or CSV with format=csv)")),
    security(("bearer" = ["incidents:read"]))
)]
async fn register(
    State(s): Shared,
    Caller(access): Caller,
    Query(format): Query<RegisterFormat>,
) -> Result<Response, ApiError> {
    let entries = s.incidents.register(&access).await?;
    match format.format.as_deref() {
        None | Some("json") => Ok(Json(entries).into_response()),
        Some("csv") => {
            let csv = register_csv(&entries)
                .map_err(|e| ApiError(Error::Internal(format!("register as CSV: {e}"))))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"breach-register.csv\"".to_string(),
                    ),
                ],
                csv,
            )
                .into_response())
        }
        Some(other) => Err(ApiError(Error::validation(
            "/format",
            format!("'{other}' is not json or csv"),
        ))),
    }
}

/// The register as CSV: one row per breach, lists joined with "; ", enums by their API names.
pub(crate) fn register_csv(
    entries: &[incidents::register::RegisterEntry],
) -> Result<Vec<u8>, csv::Error> {
    fn name<T: Serialize>(value: &T) -> String {
        match serde_json::to_value(value) {
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => String::new(),
        }
    }
    fn names<'a, T: Serialize + 'a>(values: impl IntoIterator<Item = &'a T>) -> String {
        values.into_iter().map(name).collect::<Vec<_>>().join("; ")
    }
    fn approx(a: &incidents::model::Approx) -> String {
        if a.min == a.max {
            a.min.to_string()
        } else {
            format!("{}–{}", a.min, a.max)
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "incident",
        "title",
        "status",
        "discovered_at",
        "aware_at",
        "closed_at",
        "breach_types",
        "nature_and_scope",
        "data_categories",
        "approx_data_subjects",
        "approx_records",
        "our_roles",
        "likely_consequences",
        "remedial_action",
        "risk",
        "decision_provisional",
        "decision_reasons",
        "override_justification",
        "supervisory_authority_notified_at",
        "supervisory_authority_reference",
        "data_subjects_told_at",
        "customers_told",
        "notified",
    ])?;
    for e in entries {
        let at = |t: Option<kernel::time::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        let row = [
            e.incident.to_string(),
            e.title.clone(),
            name(&e.status),
            e.discovered_at.to_string(),
            e.aware_at.to_string(),
            at(e.closed_at),
            names(&e.breach_types),
            e.nature_and_scope.clone(),
            names(&e.data_categories),
            approx(&e.approx_data_subjects),
            approx(&e.approx_records),
            names(&e.our_roles),
            e.likely_consequences.clone(),
            e.remedial_action
                .iter()
                .map(|m| {
                    format!(
                        "{}: {} ({}, {})",
                        name(&m.kind),
                        m.what,
                        name(&m.status),
                        m.at
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            e.risk.as_ref().map(name).unwrap_or_default(),
            if e.decision_provisional { "yes" } else { "no" }.to_string(),
            e.decision_reasons.join("; "),
            e.override_justification.clone().unwrap_or_default(),
            at(e.supervisory_authority_notified.as_ref().map(|n| n.at)),
            e.supervisory_authority_notified
                .as_ref()
                .map(|n| n.reference.clone())
                .unwrap_or_default(),
            at(e.data_subjects_told.as_ref().map(|n| n.at)),
            e.customers_told
                .iter()
                .map(|c| format!("{} {}", c.tenant, c.at))
                .collect::<Vec<_>>()
                .join("; "),
            if e.notified { "yes" } else { "no" }.to_string(),
        ];
        out.write_record(row.iter().map(|cell| spreadsheet_safe(cell)))?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first)
/// gets a leading apostrophe: the register is opened by people, in spreadsheet programs.
fn spreadsheet_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}
