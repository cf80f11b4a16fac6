//! The edge: what runs in front of every request, in plain Rust.
//!
//! The same code runs natively inside `regrooter serve` (as an axum middleware) and as wasm in
//! Cloudflare Workers (a thin `worker` entry calls these functions). Nothing here touches a
//! platform API: inputs are `http` types and the current time, outputs are decisions.

pub mod gate;
pub mod headers;
pub mod rate;
pub mod waf;

use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri, header};
use shared::ids::RequestId;
use shared::rbac::Principal;
use shared::time::Timestamp;
use shared::token::TokenVerifier;

pub use gate::GateError;

/// Header carrying the request id to the origin and back to the client.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Redirect plain HTTP to HTTPS (on in every deployed environment; off for the local
    /// platform on 127.0.0.1, which has no certificate).
    pub require_https: bool,
    /// Paths under this prefix need a valid access token.
    pub api_prefix: &'static str,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        Self {
            require_https: true,
            api_prefix: "/api/",
        }
    }
}

/// The request as the edge sees it.
#[derive(Debug)]
pub struct Inbound<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    /// Whether the connection the request came in on was TLS.
    pub tls: bool,
}

/// What the origin learns about a request the edge let through.
#[derive(Debug, Clone)]
pub struct Forwarded {
    pub request_id: RequestId,
    /// The verified caller, for `/api/*` requests.
    pub principal: Option<Principal>,
}

/// The edge's verdict.
#[derive(Debug)]
pub enum Decision {
    Forward(Forwarded),
    /// Answer at the edge; the origin never sees the request.
    Respond(Response<String>),
}

pub struct Edge {
    config: EdgeConfig,
    verifier: TokenVerifier,
}

impl Edge {
    pub fn new(config: EdgeConfig, verifier: TokenVerifier) -> Self {
        Self { config, verifier }
    }

    pub fn inspect(&self, req: &Inbound<'_>, now: Timestamp) -> Decision {
        let request_id = RequestId::generate(now);
        if self.config.require_https && !arrived_over_tls(req) {
            return Decision::Respond(self.finish(https_redirect(req), &request_id));
        }
        let principal = if req.uri.path().starts_with(self.config.api_prefix) {
            match gate::authenticate(&self.verifier, req.headers, now) {
                Ok(verified) => Some(verified.principal),
                Err(e) => {
                    return Decision::Respond(self.finish(e.response(&request_id), &request_id));
                }
            }
        } else {
            None
        };
        Decision::Forward(Forwarded {
            request_id,
            principal,
        })
    }

    /// Adds the security headers and the request id to a response leaving the edge.
    pub fn finish<B>(&self, mut response: Response<B>, request_id: &RequestId) -> Response<B> {
        headers::apply_security_headers(response.headers_mut());
        if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        response
    }
}

fn arrived_over_tls(req: &Inbound<'_>) -> bool {
    // Behind a TLS-terminating proxy the scheme is in X-Forwarded-Proto.
    match req
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some(proto) => proto.eq_ignore_ascii_case("https"),
        None => req.tls,
    }
}

fn https_redirect(req: &Inbound<'_>) -> Response<String> {
    let host = req
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let path = req.uri.path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{path}");
    let mut response = Response::new(String::new());
    // 308 keeps the method and body, so a POST is not silently turned into a GET.
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// An RFC 9457 problem response produced at the edge.
pub(crate) fn problem_response(error: &shared::Error, request_id: &RequestId) -> Response<String> {
    let problem = error.to_problem(Some(request_id.to_string()));
    let body = serde_json::to_string(&problem).unwrap_or_else(|_| String::from("{}"));
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(shared::Problem::CONTENT_TYPE),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::rbac::Actor;
    use shared::time::SignedDuration;
    use shared::token::{SigningKey, TokenAudience, TokenIssuer};

    fn audience() -> TokenAudience {
        TokenAudience {
            issuer: "regrooter-dev".into(),
            audience: "regrooter-api".into(),
        }
    }

    fn setup(require_https: bool) -> (Edge, TokenIssuer) {
        let key = SigningKey::generate("k1");
        let verifier = TokenVerifier::new(
            vec![key.verification_key()],
            audience(),
            SignedDuration::from_secs(30),
        );
        (
            Edge::new(
                EdgeConfig {
                    require_https,
                    ..EdgeConfig::default()
                },
                verifier,
            ),
            TokenIssuer::new(key, audience()),
        )
    }

    fn now() -> Timestamp {
        "2026-07-01T12:00:00Z".parse().expect("ts")
    }

    fn inspect(edge: &Edge, path: &str, headers: &HeaderMap, tls: bool) -> Decision {
        let uri: Uri = path.parse().expect("uri");
        edge.inspect(
            &Inbound {
                method: &Method::GET,
                uri: &uri,
                headers,
                tls,
            },
            now(),
        )
    }

    #[test]
    fn plain_http_is_redirected_to_https() {
        let (edge, _) = setup(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("trust.example"));
        let Decision::Respond(response) =
            inspect(&edge, "/security/report?lang=de", &headers, false)
        else {
            panic!("expected a redirect");
        };
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            response.headers()[header::LOCATION],
            "https://trust.example/security/report?lang=de"
        );
        assert!(
            response
                .headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
        assert!(matches!(
            inspect(&edge, "/", &headers, true),
            Decision::Forward(_)
        ));
    }

    #[test]
    fn api_requests_need_a_valid_token() {
        let (edge, issuer) = setup(false);
        let Decision::Respond(response) =
            inspect(&edge, "/api/incidents", &HeaderMap::new(), false)
        else {
            panic!("expected 401");
        };
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(
            response.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .expect("ascii")
                .starts_with("Bearer")
        );

        let principal = Principal {
            subject: "u1".into(),
            actor: Actor::Customer {
                tenant: shared::ids::TenantId::new("acme").expect("tenant"),
            },
            roles: vec!["customer_admin".into()],
            amr: vec!["pwd".into()],
        };
        let token = issuer
            .issue(&principal, now(), SignedDuration::from_mins(5))
            .expect("token");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let Decision::Forward(forwarded) = inspect(&edge, "/api/incidents", &headers, false) else {
            panic!("expected the request to pass");
        };
        assert_eq!(forwarded.principal, Some(principal));
        // Public paths need no token.
        assert!(matches!(
            inspect(&edge, "/healthz", &HeaderMap::new(), false),
            Decision::Forward(_)
        ));
    }
}
