//! The signed-in person behind a page: the access token from the `__Host-` session cookie,
//! verified here (as the edge verified it), resolved to permissions, with revocation and disabled
//! accounts checked on every page. Without a valid session the page leads to the refresh step.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use kernel::rbac::Access;

use super::context::{FormToken, cookie_values, new_form_token};
use super::errors::{PageError, to_refresh};
use crate::services::Services;

pub struct Viewer {
    pub access: Access,
    /// What the page's forms carry.
    pub form_token: String,
    /// This browser's session, by name (see `auth::service::Tokens::session`).
    pub session: Option<String>,
}

impl<S> FromRequestParts<S> for Viewer
where
    S: Send + Sync,
    Arc<Services>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let services = Arc::<Services>::from_ref(state);
        // A redirect is followed with GET: back to the page, or after a form post to the start.
        let back_to = match parts.method {
            axum::http::Method::GET | axum::http::Method::HEAD => parts
                .uri
                .path_and_query()
                .map_or(web::paths::PORTAL_HOME, |p| p.as_str())
                .to_string(),
            _ => web::paths::home_of(parts.uri.path()).to_string(),
        };
        let token = web::cookies::read(cookie_values(&parts.headers), web::cookies::SESSION_COOKIE);
        // Any token refusal (expired, forged, revoked, account disabled) leads to the refresh
        // step, which renews the session or ends at the sign-in.
        let access = crate::http::access_of(&services, token.as_deref(), parts)
            .await
            .map_err(|e| match e {
                kernel::Error::Unauthenticated(_) => to_refresh(&back_to),
                other => PageError(other).into_response(),
            })?;
        let form_token = parts
            .extensions
            .get::<FormToken>()
            .map_or_else(new_form_token, |t| t.0.clone());
        let session = web::cookies::read(
            cookie_values(&parts.headers),
            web::cookies::SESSION_ID_COOKIE,
        );
        Ok(Viewer {
            access,
            form_token,
            session,
        })
    }
}
