//! HTTP plumbing shared by every route: request ids, RFC 9457 problem responses, a JSON body
//! extractor that reports bad input precisely, and the authenticated caller.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kernel::Error;
use kernel::error::FieldError;
use kernel::ids::RequestId;
use kernel::rbac::{Access, Principal};
use serde::de::DeserializeOwned;

use crate::services::Services;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served (set by [`request_context`]).
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Gives every request an id (the edge's, if it sent one), makes it available to error
/// responses, echoes it in the response and logs the request without any of its content.
pub async fn request_context(
    services: axum::extract::State<Arc<Services>>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| RequestId::parse(v).is_ok())
        .map(str::to_string)
        .unwrap_or_else(|| RequestId::generate(services.clock.now()).to_string());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let started = std::time::Instant::now();
    let mut response = REQUEST_ID
        .scope(request_id.clone(), next.run(request))
        .await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    tracing::info!(
        target: "regrooter::http",
        request_id = %request_id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The origin lock: every request must carry the edge's signature (when secrets are
/// configured; production and staging refuse to start without them), over the request as it
/// arrives, and each signature is accepted once per process (`Services::origin_replay`).
pub async fn origin_lock(
    services: axum::extract::State<Arc<Services>>,
    request: Request,
    next: Next,
) -> Response {
    if services.config.origin_secrets.is_empty() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // The signature covers the body, so it is read here (bounded) and handed on unchanged.
    let limit = services.config.max_body_bytes.saturating_mul(4);
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError(Error::TooLarge { limit }).into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let header = parts
        .headers
        .get(kernel::origin_lock::HEADER)
        .and_then(|v| v.to_str().ok());
    let covered = kernel::origin_lock::covered_values(|name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .map(HeaderValue::as_bytes)
            .collect()
    });
    let verdict = kernel::origin_lock::verify(
        &services.config.origin_secrets,
        header,
        &kernel::origin_lock::SignedRequest::new(parts.method.as_str(), path, &covered, &bytes),
        services.clock.now(),
        &services.origin_replay,
    );
    if let Err(e) = verdict {
        tracing::warn!(target: "regrooter::security", event = "origin_lock_rejected", reason = %e, "request refused");
        if e == kernel::origin_lock::OriginLockError::ReplayCacheFull {
            let mut response = ApiError(Error::Unavailable(e.to_string())).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
        return ApiError(Error::Forbidden(kernel::rbac::Denied::OriginLock)).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// No cache, shared or private, keeps what the functions answer: tokens, secrets and personal
/// data are in most of it (sign-in steps, the report receipt and status, every `/api` answer),
/// and errors too. A route that wants caching sets `Cache-Control` itself and keeps it.
pub async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The longest request target (path and query) served; Cloudflare's own limit is 16 KiB.
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// At most this many request headers, of at most this many bytes together (names and values),
/// as Cloudflare allows. The local server's HTTP parser is set well above both, so these
/// limits answer (as problem+json) rather than the parser (with an empty body).
pub const MAX_HEADER_COUNT: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses request targets and header sections over the limits, as problem documents.
pub async fn request_limits(request: Request, next: Next) -> Response {
    if let Some(error) = over_limits(&request) {
        return ApiError(error).into_response();
    }
    next.run(request).await
}

/// The limit a request breaks, if any.
pub fn over_limits(request: &Request) -> Option<Error> {
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if target > MAX_URI_BYTES {
        return Some(Error::UriTooLong {
            limit: MAX_URI_BYTES,
        });
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    (headers.len() > MAX_HEADER_COUNT || bytes > MAX_HEADER_BYTES).then_some(
        Error::HeadersTooLarge {
            max_count: MAX_HEADER_COUNT,
            max_bytes: MAX_HEADER_BYTES,
        },
    )
}

/// A domain error on its way out as `application/problem+json`.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        let problem = self.0.to_problem(request_id.clone());
        if problem.status >= 500 {
            // The detail stays in the log; the client gets the request id to quote.
            tracing::error!(request_id = request_id.as_deref().unwrap_or("-"), error = %self.0, "request failed");
        }
        problem_response(&problem)
    }
}

/// A tenant named in a route's path (`{tenant}`), refused as a validation problem when malformed.
pub fn tenant_in_path(raw: &str) -> Result<kernel::ids::TenantId, ApiError> {
    kernel::ids::TenantId::new(raw)
        .map_err(|e| ApiError(Error::validation("/tenant", e.to_string())))
}

pub fn problem_response(problem: &kernel::Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_default();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(kernel::Problem::CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

/// Answers unknown routes with a problem document instead of an empty 404.
pub async fn not_found() -> ApiError {
    ApiError(Error::NotFound("no such route; the resource".into()))
}

/// Answers a known route asked with another method: a problem document (axum adds `Allow`).
pub async fn method_not_allowed() -> ApiError {
    ApiError(Error::MethodNotAllowed)
}

/// Path parameters, like axum's `Path`, refused as a problem document naming the parameter
/// (`/<name>`) — text that is not UTF-8 once percent-decoded, say.
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let detail = e.body_text();
                let error = match e.into_kind() {
                    ErrorKind::InvalidUtf8InPathParam { key } => {
                        Error::validation(&format!("/{key}"), "is not valid UTF-8")
                    }
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::DeserializeError { key, .. } => {
                        Error::validation(&format!("/{key}"), detail)
                    }
                    ErrorKind::UnsupportedType { .. }
                    | ErrorKind::WrongNumberOfParameters { .. } => Error::Internal(detail),
                    _ => Error::validation("", detail),
                };
                Err(ApiError(error))
            }
            Err(other) => Err(ApiError(Error::Internal(other.body_text()))),
        }
    }
}

/// The query string, like axum's `Query`, refused as a problem document naming the failing
/// parameter (`/<name>`).
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or_default())
            .map(Query)
            .map_err(ApiError)
    }
}

/// Deserialises a query string, turning the first mismatch into a field error.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, Error> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let pointer = json_pointer(e.path());
        Error::Validation(vec![FieldError::new(pointer, e.inner().to_string())])
    })
}

/// Whether the request's `Content-Type` is `expected` (parameters such as `charset` aside).
pub fn has_media_type(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case(expected))
}

/// A JSON request body. Refuses other media types and oversized bodies, and names the exact field
/// (as a JSON Pointer) when the body does not match the expected shape. Unknown fields are
/// refused wherever the target type says `deny_unknown_fields`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
    Arc<Services>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let services = Arc::<Services>::from_ref(state);
        if !has_media_type(req.headers(), "application/json") {
            return Err(ApiError(Error::UnsupportedMediaType {
                expected: "application/json",
            }));
        }
        let limit = services.config.max_body_bytes;
        let body = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError(Error::TooLarge { limit }))?;
        parse_json(&body).map(ApiJson).map_err(ApiError)
    }
}

/// At most this many misfits of one body are named (each costs one more pass over the body, which
/// the body limit bounds).
const MAX_MISFITS: usize = 16;

/// Deserialises JSON into `T`. A body that does not fit is refused naming every misfit (a wrong
/// type or value, an unknown or missing field) by its JSON Pointer, not only the first: serde
/// stops at the first, so each one found is taken out of the document and the rest tried again.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let first = match serde_path_to_error::deserialize(&mut deserializer) {
        Ok(value) => {
            deserializer.end().map_err(|e| {
                Error::Validation(vec![FieldError::new("", format!("trailing data: {e}"))])
            })?;
            return Ok(value);
        }
        Err(e) => Misfit::of(&e),
    };
    // Not JSON at all: its syntax error is the one thing to say.
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Err(Error::Validation(vec![first.error]));
    };
    Err(Error::Validation(every_misfit::<T>(document, first)))
}

/// One way a document does not fit its type, where (in the document as it was when found).
struct Misfit {
    pointer: Vec<String>,
    missing: bool,
    error: FieldError,
}

impl Misfit {
    fn of(e: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let mut pointer = pointer_tokens(e.path());
        let detail = e.inner().to_string();
        // serde names a missing field in its message, at the object that lacks it: the pointer
        // names the field itself.
        let missing = detail
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        if let Some(field) = missing {
            pointer.push(field.to_string());
        }
        Misfit {
            error: FieldError::new(encode_pointer(&pointer), detail.clone()),
            missing: missing.is_some(),
            pointer,
        }
    }
}

/// Every misfit of `document` (up to [`MAX_MISFITS`]), starting with `first`, each named by its
/// pointer into the body as sent.
fn every_misfit<T: DeserializeOwned>(
    mut document: serde_json::Value,
    first: Misfit,
) -> Vec<FieldError> {
    let mut removed = Removed::default();
    let mut errors: Vec<FieldError> = Vec::new();
    // What was taken out, as pointers into the body as sent.
    let mut taken: Vec<String> = Vec::new();
    let mut misfit = first;
    for _ in 0..2 * MAX_MISFITS {
        let pointer = encode_pointer(&removed.original(&document, &misfit.pointer));
        // A required value we took out comes back as missing: that is no news.
        let seen = taken.contains(&pointer) || errors.iter().any(|e| e.pointer == pointer);
        if !seen {
            errors.push(FieldError::new(pointer.clone(), misfit.error.detail));
        }
        if errors.len() >= MAX_MISFITS {
            break;
        }
        // A wrong value is taken out; for a missing one, the object that lacks it.
        let mut at = misfit.pointer;
        if misfit.missing || seen {
            at.pop();
        }
        let original = encode_pointer(&removed.original(&document, &at));
        if at.is_empty() || !removed.take_out(&mut document, &at) {
            break;
        }
        taken.push(original);
        match serde_path_to_error::deserialize::<_, T>(&document) {
            Ok(_) => break,
            Err(e) => misfit = Misfit::of(&e),
        }
    }
    errors
}

/// The array elements taken out of a document so far, each by its array's pointer and index in
/// the body as sent, so later pointers into the changed document can be told in the original's.
#[derive(Default)]
struct Removed(Vec<(Vec<String>, usize)>);

impl Removed {
    /// `pointer` (into `document` as it is now) as a pointer into the body as sent.
    fn original(&self, document: &serde_json::Value, pointer: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(pointer.len());
        let mut node = Some(document);
        for token in pointer {
            let here = node;
            node = here.and_then(|n| match n {
                serde_json::Value::Object(map) => map.get(token),
                serde_json::Value::Array(items) => {
                    token.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                _ => None,
            });
            match (here, token.parse::<usize>()) {
                (Some(serde_json::Value::Array(_)), Ok(index)) => {
                    let index = self.original_index(&out, index);
                    out.push(index.to_string());
                }
                _ => out.push(token.clone()),
            }
        }
        out
    }

    fn original_index(&self, array: &[String], index: usize) -> usize {
        let mut gone: Vec<usize> = self
            .0
            .iter()
            .filter(|(path, _)| path == array)
            .map(|(_, i)| *i)
            .collect();
        gone.sort_unstable();
        let mut original = index;
        for i in gone {
            if i <= original {
                original += 1;
            }
        }
        original
    }

    /// Takes the value at `pointer` out of `document`: false when there is none.
    fn take_out(&mut self, document: &mut serde_json::Value, pointer: &[String]) -> bool {
        let Some((last, parent_path)) = pointer.split_last() else {
            return false;
        };
        let original_parent = self.original(document, parent_path);
        let mut parent = document;
        for token in parent_path {
            let next = match parent {
                serde_json::Value::Object(map) => map.get_mut(token),
                serde_json::Value::Array(items) => token
                    .parse::<usize>()
                    .ok()
                    .and_then(move |i| items.get_mut(i)),
                _ => None,
            };
            match next {
                Some(next) => parent = next,
                None => return false,
            }
        }
        match parent {
            serde_json::Value::Object(map) => map.remove(last).is_some(),
            serde_json::Value::Array(items) => match last.parse::<usize>() {
                Ok(index) if index < items.len() => {
                    let original = self.original_index(&original_parent, index);
                    items.remove(index);
                    self.0.push((original_parent, original));
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }
}

fn encode_pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    encode_pointer(&pointer_tokens(path))
}

/// The path's reference tokens, unescaped.
fn pointer_tokens(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .map(|segment| match segment {
            Segment::Seq { index } => index.to_string(),
            Segment::Map { key } | Segment::Enum { variant: key } => key.clone(),
            Segment::Unknown => "?".into(),
        })
        .collect()
}

/// A token verified by the in-process edge: the caller and when the token was issued (the local
/// platform inserts it; it can never arrive over the network).
#[derive(Debug, Clone)]
pub struct EdgeVerified {
    pub principal: Principal,
    pub issued_at: kernel::Timestamp,
}

/// The authenticated caller with resolved permissions. The bearer token is verified here again
/// whenever the request carries one (verification is cached), so a function reached directly
/// still checks it (defence in depth); the in-process edge's verdict serves only without one.
/// Either way the token's issue time reaches `access_for`, so a token issued before its
/// account's revocation stops here on every path.
pub struct Caller(pub Access);

impl<S> FromRequestParts<S> for Caller
where
    S: Send + Sync,
    Arc<Services>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use kernel::authorization::{BearerError, bearer_token};
        let services = Arc::<Services>::from_ref(state);
        let values = parts.headers.get_all(header::AUTHORIZATION).iter();
        let token = match bearer_token(values.map(HeaderValue::as_bytes)) {
            Ok(token) => Some(token),
            Err(BearerError::Missing) => None,
            Err(e) => return Err(ApiError(Error::Unauthenticated(e.to_string()))),
        };
        Ok(Caller(access_of(&services, token, parts).await?))
    }
}

/// The access of a request's token (a bearer token, or the portal's session cookie), verified
/// here again; without one, the in-process edge's verdict. Disabled accounts and tokens issued
/// before a revocation stop here (`access_for` gets the issue time); custom roles resolve.
pub async fn access_of(
    services: &Services,
    token: Option<&str>,
    parts: &Parts,
) -> Result<Access, Error> {
    let (principal, issued_at) = match (token, parts.extensions.get::<EdgeVerified>()) {
        (Some(token), _) => {
            let verified = services.tokens.verify(token, services.clock.now())?;
            (verified.principal, verified.issued_at)
        }
        (None, Some(edge)) => (edge.principal.clone(), edge.issued_at),
        (None, None) => {
            let missing = kernel::authorization::BearerError::Missing;
            return Err(Error::Unauthenticated(missing.to_string()));
        }
    };
    services.auth.access_for(principal, Some(issued_at)).await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn a_missing_field_is_pointed_at() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Draft {
            title: String,
            inner: Inner,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            min: u32,
        }
        let pointer = |body: &str| match super::parse_json::<Draft>(body.as_bytes()) {
            Err(kernel::Error::Validation(fields)) => fields[0].pointer.clone(),
            other => panic!("refused: {other:?}"),
        };
        assert_eq!(pointer(r#"{"inner":{"min":1}}"#), "/title");
        assert_eq!(pointer(r#"{"title":"t","inner":{}}"#), "/inner/min");
        assert_eq!(pointer(r#"{"title":5,"inner":{"min":1}}"#), "/title");
    }
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        items: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn pointer_of(json: &str) -> String {
        match parse_json::<Body>(json.as_bytes()) {
            Err(Error::Validation(errors)) => errors[0].pointer.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn bad_input_names_the_field() {
        assert_eq!(
            pointer_of(r#"{"name": "x", "items": [{"count": 1}, {"count": "two"}]}"#),
            "/items/1/count"
        );
        assert_eq!(pointer_of(r#"{"name": 5, "items": []}"#), "/name");
        assert_eq!(
            pointer_of(r#"{"name": "x", "items": [], "extra": 1}"#),
            "/extra"
        );
        let trailing = parse_json::<Body>(br#"{"name": "x", "items": []} trailing"#);
        assert!(
            matches!(&trailing, Err(Error::Validation(errors))
                if errors.len() == 1 && errors[0].pointer.is_empty()
                    && errors[0].detail.starts_with("trailing data: ")),
            "{trailing:?}"
        );
        assert!(parse_json::<Body>(br#"{"name": "x", "items": []}"#).is_ok());
    }

    /// The pointers named, the first (the first misfit in the body) apart from the rest, which
    /// come in the order the parsed document keeps its members (sorted), so they are compared as
    /// a set.
    fn pointers_of(json: &str) -> (String, BTreeSet<String>) {
        match parse_json::<Body>(json.as_bytes()) {
            Err(Error::Validation(errors)) => {
                let mut pointers = errors.into_iter().map(|e| e.pointer);
                let first = pointers.next().expect("one error at least");
                let rest: Vec<String> = pointers.collect();
                let set: BTreeSet<String> = rest.iter().cloned().collect();
                assert_eq!(set.len(), rest.len(), "a pointer named twice: {rest:?}");
                (first, set)
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn set(pointers: &[&str]) -> BTreeSet<String> {
        pointers.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn every_misfit_is_named_at_once_by_its_place_in_the_body_as_sent() {
        // Wrong types in and after a removed array element, a required field inside it, and an
        // unknown field: each named where the client wrote it.
        assert_eq!(
            pointers_of(
                r#"{"name": 5, "items": [{"count": "two"}, {"count": 1}, {"count": -1}], "extra": 1}"#
            ),
            (
                "/name".into(),
                set(&["/items/0/count", "/items/2/count", "/extra"])
            )
        );
        // Missing fields, nested and at the top, beside an unknown one.
        assert_eq!(
            pointers_of(r#"{"items": [{"count": 1}, {}], "extra": true}"#),
            ("/items/1/count".into(), set(&["/extra", "/name"]))
        );
        // Pointer escaping: `~` and `/` in a key.
        assert_eq!(
            pointers_of(r#"{"name": "x", "items": [], "a/b~c": 1}"#),
            ("/a~1b~0c".into(), set(&[]))
        );
        // A body that is not JSON has one thing wrong with it.
        assert_eq!(
            pointers_of(r#"{"name": 5, "items": [}"#),
            ("/name".into(), set(&[]))
        );
    }

    #[test]
    fn the_misfits_named_are_capped() {
        let extra: Vec<String> = (0..40).map(|i| format!(r#""x{i}": {i}"#)).collect();
        let body = format!(r#"{{"name": "x", "items": [], {}}}"#, extra.join(", "));
        let (first, rest) = pointers_of(&body);
        assert_eq!(first, "/x0");
        assert_eq!(rest.len(), MAX_MISFITS - 1);
        assert!(rest.iter().all(|p| p.starts_with("/x")), "{rest:?}");
    }
}
