//! The domain's error type and its HTTP form, RFC 9457 `application/problem+json`.
//!
//! Each layer has its own error (`StoreError`, `CryptoError`, `TokenError`, …); services return
//! [`Error`], which says what the *caller* can do about it. Internal detail never reaches the
//! problem document: it goes to the log, and the response carries the request id to find it.

use serde::{Deserialize, Serialize};

use crate::crypto::CryptoError;
use crate::policy::PolicyError;
use crate::rbac::Denied;
use crate::store::StoreError;
use crate::token::TokenError;

/// One invalid input field, located by a JSON Pointer (RFC 6901) into the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            detail: detail.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    /// A request that cannot be taken as a whole (an unverifiable webhook, say), with a
    /// message safe to show the caller.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not authenticated: {0}")]
    Unauthenticated(String),
    #[error("forbidden: {0}")]
    Forbidden(#[from] Denied),
    #[error("request body too large (limit {limit} bytes)")]
    TooLarge { limit: usize },
    #[error("unsupported media type: expected {expected}")]
    UnsupportedMediaType { expected: &'static str },
    /// The route exists, but not for this method (the response lists the allowed ones).
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request target too long (limit {limit} bytes)")]
    UriTooLong { limit: usize },
    #[error("request headers too large (limit {max_count} headers, {max_bytes} bytes)")]
    HeadersTooLarge { max_count: usize, max_bytes: usize },
    /// Safe to retry shortly (a bounded resource is momentarily full).
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether a write failed only because another writer changed the record first.
    pub fn is_lost_race(&self) -> bool {
        matches!(self, Error::Store(e) if e.is_lost_race())
    }
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        Error::Unauthenticated(e.to_string())
    }
}

impl Error {
    pub fn validation(pointer: &str, detail: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(pointer, detail)])
    }

    /// The same error, its field pointers moved under `prefix` (`/title` → `/incident/title`
    /// when the checked value sits at `/incident` of the request body); other errors unchanged.
    pub fn under(self, prefix: &str) -> Self {
        match self {
            Error::Validation(errors) => Error::Validation(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(format!("{prefix}{}", e.pointer), e.detail))
                    .collect(),
            ),
            other => other,
        }
    }

    /// The problem document for this error. `instance` is the request id.
    pub fn to_problem(&self, instance: Option<String>) -> Problem {
        let (status, slug, title, detail, errors) = match self {
            Error::Validation(errors) => (
                400,
                "validation-failed",
                "Your request is not valid",
                Some(format!("{} field(s) need attention", errors.len())),
                errors.clone(),
            ),
            Error::BadRequest(detail) => (
                400,
                "bad-request",
                "Bad request",
                Some(detail.clone()),
                vec![],
            ),
            Error::NotFound(what) => (
                404,
                "not-found",
                "Not found",
                Some(format!("{what} not found")),
                vec![],
            ),
            Error::Conflict(detail) => (409, "conflict", "Conflict", Some(detail.clone()), vec![]),
            Error::Unauthenticated(_) => (
                401,
                "unauthenticated",
                "Authentication required",
                Some("a valid access token is required".into()),
                vec![],
            ),
            Error::Forbidden(denied) => (
                403,
                "forbidden",
                "Forbidden",
                Some(denied.to_string()),
                vec![],
            ),
            Error::TooLarge { limit } => (
                413,
                "too-large",
                "Request body too large",
                Some(format!("the limit is {limit} bytes")),
                vec![],
            ),
            Error::UnsupportedMediaType { expected } => (
                415,
                "unsupported-media-type",
                "Unsupported media type",
                Some(format!("send {expected}")),
                vec![],
            ),
            Error::MethodNotAllowed => (
                405,
                "method-not-allowed",
                "Method not allowed",
                Some("the resource does not support this method; see the Allow header".into()),
                vec![],
            ),
            Error::UriTooLong { limit } => (
                414,
                "uri-too-long",
                "Request target too long",
                Some(format!("the limit is {limit} bytes")),
                vec![],
            ),
            Error::HeadersTooLarge {
                max_count,
                max_bytes,
            } => (
                431,
                "headers-too-large",
                "Request headers too large",
                Some(format!(
                    "the limits are {max_count} headers and {max_bytes} bytes of headers"
                )),
                vec![],
            ),
            Error::Unavailable(_) => (
                503,
                "unavailable",
                "Temporarily unavailable",
                Some("please retry shortly".into()),
                vec![],
            ),
            Error::Policy(e) => (
                422,
                "policy-violation",
                "Not allowed by policy",
                Some(e.to_string()),
                vec![],
            ),
            Error::Store(
                StoreError::ConditionFailed(_) | StoreError::TransactionCanceled { .. },
            ) => (
                409,
                "conflict",
                "Conflict",
                Some("the record was changed concurrently; read it again and retry".into()),
                vec![],
            ),
            Error::Store(StoreError::Unavailable(_)) => (
                503,
                "unavailable",
                "Temporarily unavailable",
                Some("please retry shortly".into()),
                vec![],
            ),
            Error::Crypto(CryptoError::KeyDestroyed(_)) => (
                410,
                "deleted",
                "Gone",
                Some("this data has been deleted".into()),
                vec![],
            ),
            Error::Crypto(_) | Error::Store(_) | Error::Internal(_) => {
                (500, "internal", "Internal error", None, vec![])
            }
        };
        Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_string(),
            status,
            detail,
            instance,
            errors,
        }
    }
}

/// An RFC 9457 problem details document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type, resolved against the API's base.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id, so support can find the log entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Extension member: every invalid field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub const CONTENT_TYPE: &'static str = "application/problem+json";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_never_reaches_the_problem() {
        let p =
            Error::Internal("db password wrong at /etc/x".into()).to_problem(Some("req_1".into()));
        assert_eq!(p.status, 500);
        let json = serde_json::to_string(&p).expect("json");
        assert!(!json.contains("password"));
        assert!(json.contains("\"instance\":\"req_1\""));
    }

    #[test]
    fn validation_lists_every_field() {
        let p = Error::Validation(vec![
            FieldError::new("/description", "is required"),
            FieldError::new("/language", "must be de or en"),
        ])
        .to_problem(None);
        assert_eq!(p.status, 400);
        assert_eq!(p.errors.len(), 2);
        assert_eq!(p.problem_type, "/problems/validation-failed");
    }
}
