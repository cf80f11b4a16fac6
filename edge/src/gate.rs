//! The JWT gate on `/api/*` (bearer tokens) and on the portal's pages (the session cookie): a
//! request without a valid access token is answered at the edge and never reaches the origin.

use http::{HeaderMap, HeaderValue, Response, header};
use kernel::authorization::{BearerError, bearer_token};
use kernel::ids::RequestId;
use kernel::time::Timestamp;
use kernel::token::{TokenError, TokenVerifier, VerifiedToken};

#[derive(Debug)]
pub enum GateError {
    /// No bearer token (no Authorization header, or another scheme).
    Missing,
    /// An Authorization header that is not `Bearer <token68>`.
    Malformed,
    Invalid(TokenError),
}

impl GateError {
    pub fn response(&self, request_id: &RequestId) -> Response<String> {
        let detail = match self {
            GateError::Missing => "a bearer token is required".to_string(),
            GateError::Malformed => "the Authorization header is malformed".to_string(),
            GateError::Invalid(e) => e.to_string(),
        };
        let mut response =
            crate::problem_response(&kernel::Error::Unauthenticated(detail), request_id);
        let challenge = match self {
            GateError::Missing => r#"Bearer realm="regrooter""#,
            GateError::Malformed => r#"Bearer realm="regrooter", error="invalid_request""#,
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
    let values = headers.get_all(header::AUTHORIZATION).iter();
    let token = bearer_token(values.map(HeaderValue::as_bytes)).map_err(|e| match e {
        BearerError::Missing | BearerError::OtherScheme => GateError::Missing,
        BearerError::Malformed => GateError::Malformed,
    })?;
    verifier.verify(token, now).map_err(GateError::Invalid)
}

/// Verifies the access token of a portal page: the `__Host-` session cookie.
pub fn authenticate_session(
    verifier: &TokenVerifier,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<VerifiedToken, GateError> {
    let values = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    let token = web::cookies::read(values, web::cookies::SESSION_COOKIE)
        .filter(|t| !t.is_empty())
        .ok_or(GateError::Missing)?;
    verifier.verify(&token, now).map_err(GateError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::token::{SigningKey, TokenAudience, TokenIssuer};

    #[test]
    fn the_scheme_is_read_as_the_functions_read_it() {
        let key = SigningKey::generate("k");
        let audience = TokenAudience {
            issuer: "i".into(),
            audience: "a".into(),
        };
        let now: Timestamp = "2026-11-27T10:00:00Z".parse().expect("ts");
        let principal = kernel::rbac::Principal {
            subject: "u".into(),
            actor: kernel::rbac::Actor::Staff,
            roles: vec!["operator".into()],
            amr: vec!["pwd".into(), "otp".into()],
        };
        let verifier = TokenVerifier::new(
            vec![key.verification_key()],
            audience.clone(),
            kernel::time::SignedDuration::from_secs(30),
        );
        let token = TokenIssuer::new(key, audience)
            .issue(&principal, now, kernel::time::SignedDuration::from_mins(5))
            .expect("token");
        let with = |value: String| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(&value).expect("header"),
            );
            authenticate(&verifier, &headers, now)
        };
        for scheme in ["Bearer", "bearer", "BEARER"] {
            assert!(with(format!("{scheme} {token}")).is_ok(), "{scheme}");
        }
        assert!(matches!(
            with(format!("Bearer  {token}")),
            Err(GateError::Malformed)
        ));
        assert!(matches!(
            with(format!("Basic {token}")),
            Err(GateError::Missing)
        ));
    }
}
