//! Sign-in (`/auth/*`, public: the edge's brute-force guard sits in front), staff on- and
//! offboarding, tenant users and custom roles.

use super::Routes;
use std::sync::Arc;
use utoipa_axum::routes;

use crate::http::Path;
use auth::service::{
    ActivateInput, ConfirmOtpInput, CreatedUser, NewUserInput, OtpInput, OtpSetup, RefreshInput,
    RoleInput, SignInInput, UserView,
};
use auth::{Account, SignInStep, Tokens, UserId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kernel::Error;
use kernel::rbac::CustomRole;

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

pub fn router() -> Routes {
    Routes::new()
        .api(routes!(sign_in))
        .api(routes!(otp))
        .api(routes!(refresh))
        .api(routes!(sign_out))
        .api(routes!(activate))
        .api(routes!(start_otp))
        .api(routes!(confirm_otp))
        .api(routes!(list_staff, create_staff))
        .api(routes!(disable_staff))
        .api(routes!(request_staff_reset, withdraw_staff_reset))
        .api(routes!(approve_staff_reset))
        .api(routes!(list_users, create_user))
        .api(routes!(disable_user))
        .api(routes!(invite_first_admin))
        .api(routes!(list_roles))
        .api(routes!(put_role))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    UserId::parse(raw).map_err(|e| ApiError(Error::validation("/user", e.to_string())))
}

/// Refusals are logged for the brute-force alarms, without the address.
fn logged<T>(step: &str, result: Result<T, Error>) -> Result<T, ApiError> {
    if let Err(e) = &result {
        tracing::warn!(target: "regrooter::auth", event = "sign_in_refused", step, error = %e, "refused");
    }
    result.map_err(ApiError)
}

#[utoipa::path(
    post,
    path = "/auth/sign-in",
    tag = "auth",
    request_body = SignInInput,
    responses((status = 200, description = "Tokens, or the second-factor step (or its enrolment) to take next"), (status = 401, description = "Wrong e-mail or password, or the account is locked"))
)]
async fn sign_in(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<SignInInput>,
) -> Result<Json<SignInStep>, ApiError> {
    Ok(Json(logged("password", s.auth.sign_in(input).await)?))
}

#[utoipa::path(
    post,
    path = "/auth/otp",
    tag = "auth",
    request_body = OtpInput,
    responses((status = 200, description = "Tokens (and the recovery codes once, after an enrolment)"), (status = 401, description = "Wrong or used code"))
)]
async fn otp(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<OtpInput>,
) -> Result<Json<Tokens>, ApiError> {
    Ok(Json(logged("otp", s.auth.verify_otp(input).await)?))
}

#[utoipa::path(
    post,
    path = "/auth/refresh",
    tag = "auth",
    request_body = RefreshInput,
    responses((status = 200, description = "New tokens; the refresh token is rotated"), (status = 401, description = "Unknown, used or expired refresh token"))
)]
async fn refresh(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<Json<Tokens>, ApiError> {
    Ok(Json(logged("refresh", s.auth.refresh(input).await)?))
}

#[utoipa::path(
    post,
    path = "/auth/sign-out",
    tag = "auth",
    request_body = RefreshInput,
    responses((status = 204, description = "The session is over"))
)]
async fn sign_out(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<StatusCode, ApiError> {
    s.auth.sign_out(input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/auth/activate",
    tag = "auth",
    request_body = ActivateInput,
    responses((status = 200, description = "The account is active; sign in next"))
)]
async fn activate(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<ActivateInput>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(logged("activate", s.auth.activate(input).await)?))
}

#[utoipa::path(
    post,
    path = "/api/me/otp",
    tag = "auth",
    responses((status = 200, description = "The TOTP key and its QR code to enrol"), (status = 409, description = "Not a user account")),
    security(("bearer" = []))
)]
async fn start_otp(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<OtpSetup>, ApiError> {
    Ok(Json(s.auth.start_otp(&access).await?))
}

/// The recovery codes, shown this once.
#[utoipa::path(
    post,
    path = "/api/me/otp/confirm",
    tag = "auth",
    request_body = ConfirmOtpInput,
    responses((status = 200, description = "The app is set up; the recovery codes, shown once")),
    security(("bearer" = []))
)]
async fn confirm_otp(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<ConfirmOtpInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let codes = s.auth.confirm_otp(&access, input).await?;
    Ok(Json(serde_json::json!({ "recovery_codes": codes })))
}

#[utoipa::path(
    get,
    path = "/api/staff",
    tag = "auth",
    responses((status = 200, description = "Every staff account")),
    security(("bearer" = ["staff:manage"]))
)]
async fn list_staff(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(s.auth.users(&access, &Account::Staff).await?))
}

#[utoipa::path(
    post,
    path = "/api/staff",
    tag = "auth",
    request_body = NewUserInput,
    responses((status = 201, description = "The staff account, invited by mail")),
    security(("bearer" = ["staff:manage"]))
)]
async fn create_staff(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let created = s.auth.create_user(&access, Account::Staff, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(
    post,
    path = "/api/staff/{user}/disable",
    tag = "auth",
    params(("user" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The account is disabled and its sessions end")),
    security(("bearer" = ["staff:manage"]))
)]
async fn disable_staff(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(
        s.auth
            .disable_user(&access, &Account::Staff, &user_id(&user)?)
            .await?,
    ))
}

/// A staff member's second factor reset, four eyes: one operator asks, another approves.
#[utoipa::path(
    post,
    path = "/api/staff/{user}/second-factor-reset",
    tag = "auth",
    params(("user" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The reset waits for a second operator")),
    security(("bearer" = ["staff:manage"]))
)]
async fn request_staff_reset(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(
        s.auth
            .request_second_factor_reset(&access, &Account::Staff, &user_id(&user)?)
            .await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/staff/{user}/second-factor-reset/approval",
    tag = "auth",
    params(("user" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The second factor is reset (four eyes: not by the one who asked)")),
    security(("bearer" = ["staff:manage"]))
)]
async fn approve_staff_reset(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(
        s.approve_second_factor_reset(&access, &Account::Staff, &user_id(&user)?)
            .await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/api/staff/{user}/second-factor-reset",
    tag = "auth",
    params(("user" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The request is withdrawn")),
    security(("bearer" = ["staff:manage"]))
)]
async fn withdraw_staff_reset(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(user): Path<String>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(
        s.auth
            .withdraw_second_factor_reset(&access, &Account::Staff, &user_id(&user)?)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/users",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's users")),
    security(("bearer" = ["tenant-users:manage"]))
)]
async fn list_users(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(
        s.auth.users(&access, &Account::Customer { tenant }).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/users",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = NewUserInput,
    responses((status = 201, description = "The user, invited by mail")),
    security(("bearer" = ["tenant-users:manage"]))
)]
async fn create_user(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let created = s
        .auth
        .create_user(&access, Account::Customer { tenant }, input)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct FirstAdminInput {
    email: Option<String>,
    name: Option<String>,
}

/// The invitation as the operator sees it: no activation token (it goes to the person only).
#[derive(Debug, serde::Serialize)]
struct Invited {
    user: auth::service::UserView,
    activation_expires_at: kernel::time::Timestamp,
    invitation: &'static str,
}

/// An operator invites a tenant's first customer admin; the activation link is mailed to the
/// person through the outbox. Should queueing fail after the account was made, disabling that
/// account lets the operator invite again.
#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/admins",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The customer's id")),
    request_body = FirstAdminInput,
    responses((status = 201, description = "The company's first administrator, invited by mail"), (status = 409, description = "The company has an administrator already")),
    security(("bearer" = ["tenants:manage"]))
)]
async fn invite_first_admin(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
    ApiJson(input): ApiJson<FirstAdminInput>,
) -> Result<(StatusCode, Json<Invited>), ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    let created = s
        .invite_first_admin(&access, &tenant, input.email, input.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Invited {
            user: created.user,
            activation_expires_at: created.activation_expires_at,
            invitation: "mailed",
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/tenants/{tenant}/users/{user}/disable",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The customer's id"), ("user" = String, Path, description = "The user's id")),
    responses((status = 200, description = "The user is disabled and their sessions end")),
    security(("bearer" = ["tenant-users:manage"]))
)]
async fn disable_user(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<Json<UserView>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(
        s.auth
            .disable_user(&access, &Account::Customer { tenant }, &user_id(&user)?)
            .await?,
    ))
}

#[utoipa::path(
    get,
    path = "/api/tenants/{tenant}/roles",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The customer's id")),
    responses((status = 200, description = "The company's roles and their permissions")),
    security(("bearer" = ["tenant-roles:manage"]))
)]
async fn list_roles(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<CustomRole>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.auth.custom_roles(&access, &tenant).await?))
}

#[utoipa::path(
    put,
    path = "/api/tenants/{tenant}/roles/{name}",
    tag = "tenants",
    params(("tenant" = String, Path, description = "The customer's id"), ("name" = String, Path, description = "The role's name (custom:…)")),
    request_body = RoleInput,
    responses((status = 200, description = "The role as defined now")),
    security(("bearer" = ["tenant-roles:manage"]))
)]
async fn put_role(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, name)): Path<(String, String)>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<CustomRole>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.auth.put_role(&access, &tenant, &name, input).await?))
}
