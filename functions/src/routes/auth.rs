//! Sign-in (`/auth/*`, public: the edge's brute-force guard sits in front), staff on- and
//! offboarding, tenant users and custom roles.

use super::Routes;
use std::sync::Arc;

use crate::http::Path;
use auth::service::{
    ActivateInput, ConfirmOtpInput, CreatedUser, NewUserInput, OtpInput, OtpSetup, RefreshInput,
    RoleInput, SignInInput, UserView,
};
use auth::{Account, SignInStep, Tokens, UserId};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use kernel::Error;
use kernel::rbac::CustomRole;

use crate::http::{ApiError, ApiJson, Caller, tenant_in_path};
use crate::services::Services;

pub fn router() -> Routes {
    Routes::new()
        .route("/auth/sign-in", post(sign_in))
        .route("/auth/otp", post(otp))
        .route("/auth/refresh", post(refresh))
        .route("/auth/sign-out", post(sign_out))
        .route("/auth/activate", post(activate))
        .route("/api/me/otp", post(start_otp))
        .route("/api/me/otp/confirm", post(confirm_otp))
        .route("/api/staff", get(list_staff).post(create_staff))
        .route("/api/staff/{user}/disable", post(disable_staff))
        .route(
            "/api/staff/{user}/second-factor-reset",
            post(request_staff_reset).delete(withdraw_staff_reset),
        )
        .route(
            "/api/staff/{user}/second-factor-reset/approval",
            post(approve_staff_reset),
        )
        .route(
            "/api/tenants/{tenant}/users",
            get(list_users).post(create_user),
        )
        .route(
            "/api/tenants/{tenant}/users/{user}/disable",
            post(disable_user),
        )
        .route("/api/tenants/{tenant}/admins", post(invite_first_admin))
        .route("/api/tenants/{tenant}/roles", get(list_roles))
        .route("/api/tenants/{tenant}/roles/{name}", put(put_role))
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

async fn sign_in(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<SignInInput>,
) -> Result<Json<SignInStep>, ApiError> {
    Ok(Json(logged("password", s.auth.sign_in(input).await)?))
}

async fn otp(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<OtpInput>,
) -> Result<Json<Tokens>, ApiError> {
    Ok(Json(logged("otp", s.auth.verify_otp(input).await)?))
}

async fn refresh(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<Json<Tokens>, ApiError> {
    Ok(Json(logged("refresh", s.auth.refresh(input).await)?))
}

async fn sign_out(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> Result<StatusCode, ApiError> {
    s.auth.sign_out(input).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn activate(
    State(s): State<Arc<Services>>,
    ApiJson(input): ApiJson<ActivateInput>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(logged("activate", s.auth.activate(input).await)?))
}

async fn start_otp(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<OtpSetup>, ApiError> {
    Ok(Json(s.auth.start_otp(&access).await?))
}

/// The recovery codes, shown this once.
async fn confirm_otp(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<ConfirmOtpInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let codes = s.auth.confirm_otp(&access, input).await?;
    Ok(Json(serde_json::json!({ "recovery_codes": codes })))
}

async fn list_staff(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(s.auth.users(&access, &Account::Staff).await?))
}

async fn create_staff(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    ApiJson(input): ApiJson<NewUserInput>,
) -> Result<(StatusCode, Json<CreatedUser>), ApiError> {
    let created = s.auth.create_user(&access, Account::Staff, input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

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

#[derive(Debug, serde::Deserialize)]
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

async fn list_roles(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Vec<CustomRole>>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.auth.custom_roles(&access, &tenant).await?))
}

async fn put_role(
    State(s): State<Arc<Services>>,
    Caller(access): Caller,
    Path((tenant, name)): Path<(String, String)>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<CustomRole>, ApiError> {
    let tenant = tenant_in_path(&tenant)?;
    Ok(Json(s.auth.put_role(&access, &tenant, &name, input).await?))
}
