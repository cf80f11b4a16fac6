//! The JWT gate on `/api/*`: a request without a valid access token is answered at the edge and
//! never reaches the origin.

use http::{HeaderMap, HeaderValue, Response, header};
use shared::ids::RequestId;
use shared::time::Timestamp;
use shared::token::{TokenError, TokenVerifier, VerifiedToken};

#[derive(Debug)]
pub enum GateError {
    Missing,
    Invalid(TokenError),
}

impl GateError {
    pub fn response(&self, request_id: &RequestId) -> Response<String> {
        let detail = match self {
            GateError::Missing => "a bearer token is required".to_string(),
            GateError::Invalid(e) => e.to_string(),
        };
        let mut response =
            crate::problem_response(&shared::Error::Unauthenticated(detail), request_id);
        let challenge = match self {
            GateError::Missing => r#"Bearer realm="regrooter""#,
            GateError::Invalid(_) => r#"Bearer realm="regrooter", error="invalid_token""#,
        };
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}

/// Verifies the bearer token of a request.
pub fn authenticate(
    verifier: &TokenVerifier,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<VerifiedToken, GateError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(GateError::Missing)?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or(GateError::Missing)?
        .trim();
    verifier.verify(token, now).map_err(GateError::Invalid)
}
