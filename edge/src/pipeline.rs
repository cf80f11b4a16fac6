//! The edge's request pipeline, written once: HTTPS, WAF, rate limits, the public report intake
//! and security.txt, brute-force defence on sign-in, the token gate, the origin lock, security
//! headers. A host supplies two things: where per-key state lives ([`EdgeStore`]: Durable
//! Objects in the Worker, memory in `regrooter serve`) and how to reach the functions
//! ([`Origin`]: HTTPS fetches in the Worker, the in-process router locally).

use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use kernel::Problem;
use kernel::ids::RequestId;
use kernel::registry::{Registry, RegistryError};
use kernel::time::Timestamp;
use kernel::token::{TokenVerifier, VerifiedToken};

use crate::bruteforce::{self, GuardOp, GuardReply, LockReason};
use crate::events::{EventKind, SecurityEvent, keyed_hash};
use crate::intake::{self, Format, Lang, Mistake};
use crate::rate::{self, Quota, RateDecision, RouteClass};
use crate::waf::{Action, Waf, WafConfig, WafRequest};

/// Which guard a key belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    Account,
    Client,
}

impl GuardKind {
    pub fn limits(self) -> &'static bruteforce::Limits {
        match self {
            GuardKind::Account => &bruteforce::ACCOUNT,
            GuardKind::Client => &bruteforce::CLIENT,
        }
    }
}

/// Per-key state of rate limits and brute-force guards.
#[allow(async_fn_in_trait)] // Worker futures are not Send; hosts are generic, never `dyn`.
pub trait EdgeStore {
    async fn rate(&self, key: &str, quota: Quota, now_us: u64) -> RateDecision;
    async fn guard(&self, key: &str, kind: GuardKind, op: GuardOp, now_us: u64) -> GuardReply;
}

/// The functions behind the edge.
#[allow(async_fn_in_trait)]
pub trait Origin {
    /// Sends a (signed) request on and returns the function's response. `verified` is the token
    /// the gate verified (caller and issue time), for hosts that can hand it over in process.
    async fn forward(
        &self,
        request: Request<Vec<u8>>,
        verified: Option<&VerifiedToken>,
    ) -> Response<Vec<u8>>;
}

#[derive(Debug, Clone)]
pub struct EdgeSettings {
    /// Redirect plain HTTP to HTTPS (off only for the local platform on 127.0.0.1).
    pub require_https: bool,
    /// security.txt: Contact, Policy and Canonical.
    pub security_contact: String,
    pub policy_url: String,
    pub canonical_url: String,
    /// Key for the keyed hashes of client addresses and accounts in events and state keys.
    pub hash_key: Vec<u8>,
    /// Secret the edge signs forwarded requests with (the origin lock).
    pub origin_secret: Vec<u8>,
    pub waf: WafConfig,
}

/// The client as the host sees it.
#[derive(Debug, Clone)]
pub struct Client {
    pub ip: String,
    /// Whether the connection was TLS (the Worker: always; locally: never).
    pub tls: bool,
}

/// What the pipeline produced: the response for the client, and the security events to log.
#[derive(Debug)]
pub struct Handled {
    pub response: Response<Vec<u8>>,
    pub events: Vec<SecurityEvent>,
}

pub struct EdgeService {
    settings: EdgeSettings,
    waf: Waf,
    verifier: TokenVerifier,
}

fn problem(
    status: StatusCode,
    slug: &str,
    title: &str,
    detail: &str,
    request_id: &RequestId,
) -> Response<Vec<u8>> {
    let p = Problem {
        problem_type: format!("/problems/{slug}"),
        title: title.to_string(),
        status: status.as_u16(),
        detail: Some(detail.to_string()),
        instance: Some(request_id.to_string()),
        errors: vec![],
    };
    let mut response = Response::new(serde_json::to_vec(&p).unwrap_or_default());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(Problem::CONTENT_TYPE),
    );
    response
}

fn with_body(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Vec<u8>>,
) -> Response<Vec<u8>> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Whether a shared cache at the edge may answer this request from a stored response: a plain
/// GET of the public trust page in a language named in the address, or of its signed statement,
/// without a cookie or credentials (an answer that could differ by who asks is never shared).
/// Only responses the origin marks `public` are stored.
pub fn shared_cache_may_answer(
    method: &str,
    path: &str,
    query: Option<&str>,
    has_cookie: bool,
    has_authorization: bool,
) -> bool {
    if method != "GET" || has_cookie || has_authorization {
        return false;
    }
    match path {
        "/trust/statement.json" => query.is_none(),
        "/trust" => matches!(query, Some("lang=de" | "lang=en")),
        _ => false,
    }
}

/// A response no cache may keep (it carries a secret or personal data).
/// A form post as the function receives it: the same request with a JSON body instead.
fn with_json_body(request: Request<Vec<u8>>, json: Vec<u8>) -> Request<Vec<u8>> {
    let (mut parts, _) = request.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Request::from_parts(parts, json)
}

const HTML: &str = "text/html; charset=utf-8";

/// A JSON POST to `path` carrying the client's headers (the origin signature is added when it
/// is forwarded): how the status page asks the incidents function.
fn json_request(
    like: &Request<Vec<u8>>,
    path: &'static str,
    json: &serde_json::Value,
) -> Request<Vec<u8>> {
    let mut request = Request::new(Vec::new());
    *request.method_mut() = Method::POST;
    *request.uri_mut() = http::Uri::from_static(path);
    *request.headers_mut() = like.headers().clone();
    with_json_body(request, json.to_string().into_bytes())
}

/// The status form again, when its id or code cannot be read: with what is wrong, and the id
/// only if it looks like one (never the code).
fn status_form_again((lang, id, mistakes): (Lang, String, Vec<Mistake>)) -> Response<Vec<u8>> {
    let page = intake::status_form_page(lang, &id, &mistakes, None);
    not_stored(with_body(StatusCode::BAD_REQUEST, HTML, page))
}

/// The status page from the incidents function's answer: the status, the conversation and the
/// reply form on success (with `status`, a notice, the message's mistakes and what was typed);
/// one notice for an unknown id or a wrong code, another when the answer cannot be had.
fn status_page_for(
    question: &intake::StatusQuestion,
    answer: &Response<Vec<u8>>,
    status: StatusCode,
    notice: Option<&str>,
    mistakes: &[Mistake],
    typed: &str,
) -> Response<Vec<u8>> {
    let lang = question.lang;
    let de = lang == Lang::De;
    let reading = (answer.status() == StatusCode::OK)
        .then(|| serde_json::from_slice::<serde_json::Value>(answer.body()).ok())
        .flatten();
    let says = reading
        .as_ref()
        .and_then(|v| v["says"][lang.code()].as_str().map(str::to_string));
    match (answer.status(), says, reading) {
        (StatusCode::OK, Some(says), Some(reading)) => {
            let messages: Vec<intake::StatusMessage> = reading["messages"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(|m| {
                            Some(intake::StatusMessage {
                                at: m["at"].as_str()?.parse().ok()?,
                                from_team: m["from"].as_str()? == "security_team",
                                text: m["text"].as_str()?.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let page = intake::status_answer_page(&intake::StatusAnswer {
                question,
                says: &says,
                messages: &messages,
                may_write: reading["may_write"].as_bool().unwrap_or(false),
                notice,
                mistakes,
                typed,
            });
            not_stored(with_body(status, HTML, page))
        }
        (StatusCode::NOT_FOUND, ..) => {
            let notice = if de {
                "Zu dieser Vorgangsnummer und diesem Zugangscode gibt es keine Meldung. Bitte prüfen Sie beide."
            } else {
                "There is no report with this tracking id and access code. Please check both."
            };
            let page = intake::status_form_page(lang, &question.tracking_id, &[], Some(notice));
            not_stored(with_body(StatusCode::NOT_FOUND, HTML, page))
        }
        _ => {
            let notice = if de {
                "Der Stand kann gerade nicht abgerufen werden. Bitte versuchen Sie es in einigen Minuten erneut."
            } else {
                "The status cannot be read just now. Please try again in a few minutes."
            };
            let page = intake::status_form_page(lang, &question.tracking_id, &[], Some(notice));
            not_stored(with_body(StatusCode::BAD_GATEWAY, HTML, page))
        }
    }
}

fn not_stored(mut response: Response<Vec<u8>>) -> Response<Vec<u8>> {
    crate::headers::no_store(response.headers_mut());
    response
}

/// `303 See Other` to a path of this site.
fn see_other(location: &'static str) -> Response<Vec<u8>> {
    see_other_to(location.to_string())
}

fn see_other_to(location: String) -> Response<Vec<u8>> {
    let mut response = with_body(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// The address a sign-in names, lower-cased: the API's JSON `email`, or the portal form's field.
fn sign_in_email(request: &Request<Vec<u8>>) -> Option<String> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|m| {
                m.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    let email = if is_form {
        form_urlencoded::parse(request.body())
            .find(|(name, _)| name == "email")
            .map(|(_, value)| value.into_owned())
    } else {
        serde_json::from_slice::<serde_json::Value>(request.body())
            .ok()
            .and_then(|v| v.get("email").and_then(|e| e.as_str()).map(str::to_string))
    };
    email.map(|e| e.trim().to_lowercase())
}

fn retry_after(mut response: Response<Vec<u8>>, secs: u64) -> Response<Vec<u8>> {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

fn micros(now: Timestamp) -> u64 {
    u64::try_from(now.as_microsecond()).unwrap_or(0)
}

/// Marks a request whose declared body was over the limit, so the host did not read it (the
/// Worker checks `Content-Length` before it reads a byte).
#[derive(Debug, Clone, Copy)]
pub struct OversizeBody;

impl EdgeService {
    /// The largest body the edge reads; hosts refuse to read more (see [`OversizeBody`]).
    pub fn max_body_bytes(&self) -> usize {
        self.settings.waf.max_body_bytes
    }

    pub fn new(settings: EdgeSettings, verifier: TokenVerifier) -> Self {
        let waf = Waf::new(settings.waf.clone());
        Self {
            settings,
            waf,
            verifier,
        }
    }

    fn event(
        &self,
        kind: EventKind,
        request_id: &RequestId,
        method: &Method,
        route: &str,
        client: &Client,
        now: Timestamp,
    ) -> SecurityEvent {
        SecurityEvent {
            event: kind,
            request_id: request_id.to_string(),
            method: method.to_string(),
            route: route.to_string(),
            client: keyed_hash(&self.settings.hash_key, &client.ip),
            rules: vec![],
            score: None,
            detail: None,
            at: now,
        }
    }

    /// Runs one request through the edge.
    pub async fn handle<S: EdgeStore, O: Origin>(
        &self,
        request: Request<Vec<u8>>,
        client: &Client,
        now: Timestamp,
        store: &S,
        origin: &O,
    ) -> Handled {
        let request_id = RequestId::generate(now);
        let mut events = Vec::new();
        let response = self
            .run(
                request,
                client,
                now,
                store,
                origin,
                &request_id,
                &mut events,
            )
            .await;
        Handled {
            response: self.finish(response, &request_id),
            events,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run<S: EdgeStore, O: Origin>(
        &self,
        request: Request<Vec<u8>>,
        client: &Client,
        now: Timestamp,
        store: &S,
        origin: &O,
        request_id: &RequestId,
        events: &mut Vec<SecurityEvent>,
    ) -> Response<Vec<u8>> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let path_and_query = request
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();

        // 1. HTTPS only.
        let forwarded_proto = request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok());
        let over_tls = forwarded_proto.map_or(client.tls, |p| p.eq_ignore_ascii_case("https"));
        if self.settings.require_https && !over_tls {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .filter(|h| {
                    h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
                })
                .unwrap_or("localhost");
            let mut response = with_body(
                StatusCode::PERMANENT_REDIRECT,
                "text/plain; charset=utf-8",
                "",
            );
            if let Ok(location) = HeaderValue::from_str(&format!("https://{host}{path_and_query}"))
            {
                response.headers_mut().insert(header::LOCATION, location);
            }
            return response;
        }

        // 2. Rate limits per client and route class, before the WAF reads the body: a client over
        //    its quota costs one counter check, whatever it sends.
        let client_key = keyed_hash(&self.settings.hash_key, &client.ip);
        let class = RouteClass::of(method.as_str(), &path);
        if let RateDecision::Deny { retry_after_secs } = store
            .rate(&rate::key(&client_key, class), class.quota(), micros(now))
            .await
        {
            let mut event = self.event(
                EventKind::RateLimited,
                request_id,
                &method,
                &path,
                client,
                now,
            );
            event.detail = Some(format!("route class {}", class.as_str()));
            events.push(event);
            return retry_after(
                problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate-limited",
                    "Too many requests",
                    &format!("Please wait {retry_after_secs} seconds."),
                    request_id,
                ),
                retry_after_secs,
            );
        }

        // 3. A body over the limit is refused unread (413), never inspected.
        if request.body().len() > self.settings.waf.max_body_bytes
            || request.extensions().get::<OversizeBody>().is_some()
        {
            let mut event =
                self.event(EventKind::WafBlock, request_id, &method, &path, client, now);
            event.rules = vec![crate::waf::LIMITS_RULE];
            event.detail = Some("body over the limit".into());
            events.push(event);
            return problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request-too-large",
                "Request body too large",
                &format!(
                    "Request bodies may be at most {} bytes.",
                    self.settings.waf.max_body_bytes
                ),
                request_id,
            );
        }

        // 4. The WAF. Every decision is an event.
        let waf_request = WafRequest::new(
            method.as_str(),
            &path_and_query,
            request
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            request.body().clone(),
        );
        let verdict = self.waf.inspect(&waf_request);
        let blocked = verdict.action == Action::Block;
        let mut event = self.event(
            match verdict.action {
                Action::Block => EventKind::WafBlock,
                Action::Log => EventKind::WafLog,
                Action::Allow => EventKind::WafAllow,
            },
            request_id,
            &method,
            &path,
            client,
            now,
        );
        event.rules = verdict.rules.clone();
        event.score = Some(verdict.score);
        if verdict.action == Action::Log {
            // Report-only: what would have blocked, so the rollout can be watched.
            event.detail = Some(format!(
                "report-only: would block (score {} + {} from report-only rules {:?})",
                verdict.score, verdict.logged_score, verdict.logged_rules
            ));
        }
        events.push(event);
        if blocked {
            return problem(
                StatusCode::FORBIDDEN,
                "request-blocked",
                "Request blocked",
                "The web application firewall blocked this request. If you believe this is a mistake, quote the request id.",
                request_id,
            );
        }

        // 5. What the edge answers itself.
        let query = request.uri().query();
        let accept_language = request
            .headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        match (method.as_str(), path.as_str()) {
            // The platform's own routes (the Worker's probe results): never from a client.
            (_, internal) if internal.starts_with(kernel::vantage::INTERNAL_PREFIX) => {
                return problem(
                    StatusCode::NOT_FOUND,
                    "not-found",
                    "Not found",
                    "There is nothing at this address.",
                    request_id,
                );
            }
            ("GET" | "HEAD", "/.well-known/security.txt") => {
                let txt = intake::security_txt(
                    &self.settings.security_contact,
                    &self.settings.policy_url,
                    &self.settings.canonical_url,
                    now,
                );
                return with_body(StatusCode::OK, "text/plain; charset=utf-8", txt);
            }
            ("GET" | "HEAD", "/security.txt") => {
                let mut response = with_body(
                    StatusCode::MOVED_PERMANENTLY,
                    "text/plain; charset=utf-8",
                    "",
                );
                response.headers_mut().insert(
                    header::LOCATION,
                    HeaderValue::from_static("/.well-known/security.txt"),
                );
                return response;
            }
            ("GET" | "HEAD", intake::POLICY_PAGE) => {
                let lang = Lang::from_query(query, accept_language);
                return with_body(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    intake::policy_page(lang),
                );
            }
            ("GET" | "HEAD", "/security/report") => {
                let lang = Lang::from_query(query, accept_language);
                return with_body(
                    StatusCode::OK,
                    "text/html; charset=utf-8",
                    intake::form_page(lang, &[], &Default::default()),
                );
            }
            // The form's old stylesheet address: the one stylesheet now (pages cached before).
            ("GET" | "HEAD", "/security/report.css") => {
                let mut response = see_other(web::assets::stylesheet_path());
                *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
                return response;
            }
            ("POST", "/security/reports") => {
                return self.intake(request, request_id, now, origin).await;
            }
            ("GET" | "HEAD", intake::STATUS_PAGE) => {
                let lang = Lang::from_query(query, accept_language);
                let page =
                    intake::status_form_page(lang, &intake::tracking_id_in(query), &[], None);
                return with_body(StatusCode::OK, "text/html; charset=utf-8", page);
            }
            ("POST", intake::STATUS_PAGE) => {
                return self.status_lookup(request, request_id, now, origin).await;
            }
            ("POST", intake::STATUS_MESSAGES) => {
                return self.status_reply(request, request_id, now, origin).await;
            }
            ("GET" | "HEAD", "/") => return see_other(web::paths::PORTAL_HOME),
            ("GET" | "HEAD", asset) if let Some(asset) = web::assets::find(asset) => {
                let mut response = with_body(StatusCode::OK, asset.content_type, asset.body);
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static(web::assets::IMMUTABLE),
                );
                return response;
            }
            _ => {}
        }

        // 6. Brute force on sign-in, before the attempt reaches the function.
        let sign_in = web::paths::is_sign_in_post(method.as_str(), &path);
        let account_key = if sign_in {
            sign_in_email(&request)
                .map(|email| keyed_hash(&self.settings.hash_key, &format!("account:{email}")))
        } else {
            None
        };
        if sign_in {
            let mut locked = None;
            for (key, kind) in [
                (account_key.clone(), GuardKind::Account),
                (Some(client_key.clone()), GuardKind::Client),
            ] {
                if let Some(key) = key
                    && let GuardReply::Locked { retry_after_secs } =
                        store.guard(&key, kind, GuardOp::Check, micros(now)).await
                {
                    locked =
                        Some(locked.map_or(retry_after_secs, |l: u64| l.max(retry_after_secs)));
                }
            }
            if let Some(secs) = locked {
                let mut event = self.event(
                    EventKind::RateLimited,
                    request_id,
                    &method,
                    &path,
                    client,
                    now,
                );
                event.detail = Some("sign-in locked".into());
                events.push(event);
                // The same answer whether or not the account exists.
                return retry_after(
                    problem(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too-many-attempts",
                        "Too many sign-in attempts",
                        &format!("Sign-in is paused. Please wait {secs} seconds."),
                        request_id,
                    ),
                    secs,
                );
            }
        }

        // 7. The token gate: bearer tokens on the API, the session cookie on portal pages (a
        //    page without a valid one goes to the refresh step, which leads on to the sign-in).
        if web::paths::needs_session(&path) {
            match crate::gate::authenticate_session(&self.verifier, request.headers(), now) {
                Ok(verified) => {
                    return origin
                        .forward(self.signed(request, request_id, now), Some(&verified))
                        .await;
                }
                Err(e) => {
                    let mut event = self.event(
                        EventKind::TokenRejected,
                        request_id,
                        &method,
                        &path,
                        client,
                        now,
                    );
                    event.detail = Some(format!("session: {e:?}"));
                    events.push(event);
                    // A redirect is followed with GET: back to the page itself, or after a form
                    // post (whose address is no page) to the start of its area.
                    let back_to = if matches!(method, Method::GET | Method::HEAD) {
                        path_and_query.as_str()
                    } else {
                        web::paths::home_of(&path)
                    };
                    let next: String =
                        form_urlencoded::byte_serialize(back_to.as_bytes()).collect();
                    return see_other_to(format!("{}?next={next}", web::paths::REFRESH));
                }
            }
        }
        let verified = if path.starts_with("/api/") {
            match crate::gate::authenticate(&self.verifier, request.headers(), now) {
                Ok(verified) => Some(verified),
                Err(e) => {
                    let mut event = self.event(
                        EventKind::TokenRejected,
                        request_id,
                        &method,
                        &path,
                        client,
                        now,
                    );
                    event.detail = Some(format!("{e:?}"));
                    events.push(event);
                    return e.response(request_id).map(String::into_bytes);
                }
            }
        } else {
            None
        };

        // 8. On to the function, signed.
        let response = origin
            .forward(self.signed(request, request_id, now), verified.as_ref())
            .await;

        if sign_in {
            let status = response.status();
            let outcome = if status == StatusCode::UNAUTHORIZED {
                Some(false)
            } else if status.is_success() || status == StatusCode::SEE_OTHER {
                // The API answers 200, the portal's form 303 (on to the portal) or 200 (on to
                // the second factor).
                Some(true)
            } else {
                None
            };
            if let (Some(success), Some(account)) = (outcome, account_key) {
                let pairs = [
                    (account.clone(), GuardKind::Account, client_key.clone()),
                    (client_key.clone(), GuardKind::Client, account.clone()),
                ];
                for (key, kind, counterpart) in pairs {
                    let op = if success {
                        GuardOp::Success
                    } else {
                        GuardOp::Failure { counterpart }
                    };
                    if success && kind == GuardKind::Client {
                        continue; // one good password does not clear a client trying many accounts
                    }
                    if let GuardReply::LockedNow {
                        retry_after_secs,
                        reason,
                    } = store.guard(&key, kind, op, micros(now)).await
                    {
                        let kind_event = match reason {
                            LockReason::CredentialStuffing => EventKind::CredentialStuffing,
                            LockReason::TooManyFailures => EventKind::Lockout,
                        };
                        let mut event =
                            self.event(kind_event, request_id, &method, &path, client, now);
                        event.detail = Some(format!("{kind:?} locked for {retry_after_secs} s"));
                        events.push(event);
                    }
                }
            }
        }
        response
    }

    async fn intake<O: Origin>(
        &self,
        request: Request<Vec<u8>>,
        request_id: &RequestId,
        now: Timestamp,
        origin: &O,
    ) -> Response<Vec<u8>> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match intake::parse(content_type.as_deref(), request.body()) {
            Err(rejected) => match rejected.format {
                // The form again, with what the reporter typed: personal data.
                Format::Form => not_stored(with_body(
                    StatusCode::BAD_REQUEST,
                    "text/html; charset=utf-8",
                    intake::form_page(rejected.lang, &rejected.errors, &rejected.values),
                )),
                Format::Json => {
                    let errors = rejected.errors.iter().map(Mistake::to_field_error);
                    let mut p = kernel::Error::Validation(errors.collect())
                        .to_problem(Some(request_id.to_string()));
                    if content_type.as_deref().is_none_or(|c| {
                        !c.to_ascii_lowercase().contains("json")
                            && !c.to_ascii_lowercase().contains("form")
                    }) {
                        p = kernel::Error::UnsupportedMediaType {
                            expected: "application/json or application/x-www-form-urlencoded",
                        }
                        .to_problem(Some(request_id.to_string()));
                    }
                    let mut response = Response::new(serde_json::to_vec(&p).unwrap_or_default());
                    *response.status_mut() =
                        StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(Problem::CONTENT_TYPE),
                    );
                    response
                }
            },
            Ok(parsed) => {
                let forwarded = self.signed(with_json_body(request, parsed.json), request_id, now);
                let response = origin.forward(forwarded, None).await;
                if parsed.format == Format::Form {
                    if response.status() == StatusCode::ACCEPTED
                        && let Ok(receipt) =
                            serde_json::from_slice::<serde_json::Value>(response.body())
                        && let (Some(id), Some(secret)) =
                            (receipt["tracking_id"].as_str(), receipt["secret"].as_str())
                    {
                        // The status page's secret: for the reporter's eyes only.
                        return not_stored(with_body(
                            StatusCode::OK,
                            "text/html; charset=utf-8",
                            intake::confirmation_page(parsed.lang, id, secret),
                        ));
                    }
                    let message = if parsed.lang == Lang::De {
                        "Ihre Meldung konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in einigen Minuten erneut."
                    } else {
                        "Your report could not be stored just now. Please try again in a few minutes."
                    };
                    let status = if response.status().is_success() {
                        StatusCode::BAD_GATEWAY
                    } else {
                        response.status()
                    };
                    return with_body(status, "text/plain; charset=utf-8", message);
                }
                response
            }
        }
    }

    /// The status page's form posted: the incidents function is asked at the same path, the
    /// form's id and code as JSON, and its answer shown. An unknown id and a wrong code get the
    /// same answer; nothing with the code in it is cached.
    async fn status_lookup<O: Origin>(
        &self,
        request: Request<Vec<u8>>,
        request_id: &RequestId,
        now: Timestamp,
        origin: &O,
    ) -> Response<Vec<u8>> {
        let question = match intake::parse_status_form(request.body()) {
            Ok(q) => q,
            Err(unreadable) => return status_form_again(unreadable),
        };
        let answer = self
            .ask_status(&request, &question, request_id, now, origin)
            .await;
        status_page_for(&question, &answer, StatusCode::OK, None, &[], "")
    }

    /// The status page's reply form posted: the message goes to the incidents function with the
    /// id and code, and the page shows the conversation with it. A refused message (the report
    /// closed, the conversation full, the text unfit) keeps what was typed.
    async fn status_reply<O: Origin>(
        &self,
        request: Request<Vec<u8>>,
        request_id: &RequestId,
        now: Timestamp,
        origin: &O,
    ) -> Response<Vec<u8>> {
        let reply = match intake::parse_reply_form(request.body()) {
            Ok(reply) => reply,
            Err(unreadable) => return status_form_again(unreadable),
        };
        let question = &reply.question;
        let de = question.lang == Lang::De;
        if !reply.mistakes.is_empty() {
            let answer = self
                .ask_status(&request, question, request_id, now, origin)
                .await;
            return status_page_for(
                question,
                &answer,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                &reply.mistakes,
                &reply.text,
            );
        }
        let json = serde_json::json!({
            "tracking_id": question.tracking_id,
            "access_code": question.access_code,
            "text": reply.text,
        });
        let sent = origin
            .forward(
                self.signed(
                    json_request(&request, intake::STATUS_MESSAGES, &json),
                    request_id,
                    now,
                ),
                None,
            )
            .await;
        let (status, notice, mistakes) = match sent.status() {
            StatusCode::OK => {
                let notice = if de {
                    "Ihre Nachricht ist beim Sicherheitsteam eingegangen."
                } else {
                    "Your message has reached the security team."
                };
                return status_page_for(question, &sent, StatusCode::OK, Some(notice), &[], "");
            }
            StatusCode::CONFLICT => (
                StatusCode::CONFLICT,
                Some(if de {
                    "Die Nachricht wurde nicht angenommen: Die Meldung ist abgeschlossen oder hat die höchste Zahl an Nachrichten erreicht. Für Neues senden Sie bitte eine neue Meldung."
                } else {
                    "The message was not taken: the report is closed or holds as many messages as it can. For anything new, please send a new report."
                }),
                Vec::new(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => (
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                vec![intake::Mistake::not_valid("text")],
            ),
            // An unknown report, or the function unavailable: the page says which.
            _ => return status_page_for(question, &sent, StatusCode::OK, None, &[], ""),
        };
        let answer = self
            .ask_status(&request, question, request_id, now, origin)
            .await;
        status_page_for(question, &answer, status, notice, &mistakes, &reply.text)
    }

    /// The incidents function's answer to a status question (id and code in the body).
    async fn ask_status<O: Origin>(
        &self,
        like: &Request<Vec<u8>>,
        question: &intake::StatusQuestion,
        request_id: &RequestId,
        now: Timestamp,
        origin: &O,
    ) -> Response<Vec<u8>> {
        let json = serde_json::json!({
            "tracking_id": question.tracking_id,
            "access_code": question.access_code,
        });
        origin
            .forward(
                self.signed(
                    json_request(like, intake::STATUS_PAGE, &json),
                    request_id,
                    now,
                ),
                None,
            )
            .await
    }

    /// The request as the function receives it: the edge's request id and origin signature.
    /// The Worker cron's report of what it saw from the edge, as the signed request the `sla`
    /// function accepts (it never passes through `handle`: clients cannot reach the route).
    pub fn edge_probe_request(
        &self,
        report: &kernel::vantage::EdgeProbeReport,
        now: Timestamp,
    ) -> Result<Request<Vec<u8>>, String> {
        let body = serde_json::to_vec(report).map_err(|e| e.to_string())?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(kernel::vantage::EDGE_PROBE_RESULTS)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| e.to_string())?;
        Ok(self.signed(request, &RequestId::generate(now), now))
    }

    fn signed(
        &self,
        request: Request<Vec<u8>>,
        request_id: &RequestId,
        now: Timestamp,
    ) -> Request<Vec<u8>> {
        let (mut parts, body) = request.into_parts();
        let headers: &mut HeaderMap = &mut parts.headers;
        for name in [crate::REQUEST_ID_HEADER, kernel::origin_lock::HEADER] {
            headers.remove(name);
        }
        if let Ok(v) = HeaderValue::from_str(&request_id.to_string()) {
            headers.insert(HeaderName::from_static(crate::REQUEST_ID_HEADER), v);
        }
        // Signed last, over the headers exactly as they leave (the request id included).
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let covered = kernel::origin_lock::covered_values(|name| {
            parts
                .headers
                .get_all(name)
                .iter()
                .map(HeaderValue::as_bytes)
                .collect()
        });
        let signature = kernel::origin_lock::sign(
            &self.settings.origin_secret,
            &kernel::origin_lock::SignedRequest::new(parts.method.as_str(), path, &covered, &body),
            now,
        );
        if let Ok(v) = HeaderValue::from_str(&signature) {
            parts
                .headers
                .insert(HeaderName::from_static(kernel::origin_lock::HEADER), v);
        }
        Request::from_parts(parts, body)
    }

    /// Security headers and the request id on every response.
    pub fn finish(
        &self,
        mut response: Response<Vec<u8>>,
        request_id: &RequestId,
    ) -> Response<Vec<u8>> {
        crate::headers::apply_security_headers(response.headers_mut());
        if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
            response
                .headers_mut()
                .insert(crate::REQUEST_ID_HEADER, value);
        }
        response
    }
}

/// The Worker's binding that holds the URL of the function serving `path`, by the registry
/// (`functions/functions.json`): `ORIGIN_` and the function's name in capitals, `-` as `_`.
pub fn origin_binding_for(path: &str) -> Result<String, RegistryError> {
    Ok(origin_binding(Registry::embedded()?.function_for(path)))
}

/// The Worker's binding name for a function's URL.
pub fn origin_binding(function: &str) -> String {
    format!("ORIGIN_{}", function.to_ascii_uppercase().replace('-', "_"))
}

/// Per-key state in this process: what one Durable Object holds for its shard in the Worker, and
/// what the local platform uses for every key.
#[derive(Debug, Default)]
pub struct MemoryStore {
    rates: rate::MemoryLimiter,
    guards:
        std::sync::Mutex<std::collections::HashMap<(String, GuardKind), bruteforce::GuardState>>,
}

impl EdgeStore for MemoryStore {
    async fn rate(&self, key: &str, quota: Quota, now_us: u64) -> RateDecision {
        self.rates.check(key, quota, now_us)
    }

    async fn guard(&self, key: &str, kind: GuardKind, op: GuardOp, now_us: u64) -> GuardReply {
        let mut guards = self.guards.lock().unwrap_or_else(|p| p.into_inner());
        let state = guards.entry((key.to_string(), kind)).or_default();
        bruteforce::apply(state, kind.limits(), &op, now_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::rbac::{Actor, Principal};
    use kernel::time::SignedDuration;
    use kernel::token::{SigningKey, TokenAudience, TokenIssuer};
    use std::sync::Mutex;

    /// Records what reaches the functions and answers like them.
    #[derive(Default)]
    struct FakeOrigin {
        seen: Mutex<Vec<Request<Vec<u8>>>>,
        sign_in_status: Mutex<Option<StatusCode>>,
    }

    impl Origin for FakeOrigin {
        async fn forward(
            &self,
            request: Request<Vec<u8>>,
            _verified: Option<&VerifiedToken>,
        ) -> Response<Vec<u8>> {
            let path = request.uri().path().to_string();
            self.seen.lock().expect("lock").push(request);
            if path == "/security/reports" {
                return with_body(
                    StatusCode::ACCEPTED,
                    "application/json",
                    r#"{"tracking_id":"rep_1","secret":"s3cret","status":"received"}"#,
                );
            }
            if path == "/auth/sign-in" || path == web::paths::SIGN_IN {
                return with_body(
                    self.sign_in_status
                        .lock()
                        .expect("lock")
                        .unwrap_or(StatusCode::UNAUTHORIZED),
                    "application/json",
                    "{}",
                );
            }
            with_body(StatusCode::OK, "application/json", "{}")
        }
    }

    fn audience() -> TokenAudience {
        TokenAudience {
            issuer: "i".into(),
            audience: "a".into(),
        }
    }

    fn service(key: &SigningKey) -> EdgeService {
        EdgeService::new(
            EdgeSettings {
                require_https: true,
                security_contact: "mailto:security@example.test".into(),
                policy_url: "https://trust.example.test/security".into(),
                canonical_url: "https://trust.example.test/.well-known/security.txt".into(),
                hash_key: b"hash-key".to_vec(),
                origin_secret: b"origin-secret-origin-secret-origin".to_vec(),
                waf: WafConfig::default(),
            },
            TokenVerifier::new(
                vec![key.verification_key()],
                audience(),
                SignedDuration::from_secs(30),
            ),
        )
    }

    fn now() -> Timestamp {
        "2026-11-27T10:00:00Z".parse().expect("ts")
    }

    /// An access token of an acme admin, valid for five minutes from [`now`].
    fn customer_token(key: SigningKey) -> String {
        let principal = Principal {
            subject: "u".into(),
            actor: Actor::Customer {
                tenant: kernel::ids::TenantId::new("acme").expect("tenant"),
            },
            roles: vec!["customer_admin".into()],
            amr: vec!["pwd".into()],
        };
        TokenIssuer::new(key, audience())
            .issue(&principal, now(), SignedDuration::from_mins(5))
            .expect("token")
    }

    fn get(uri: &str) -> Request<Vec<u8>> {
        Request::builder()
            .method("GET")
            .uri(uri)
            .header("host", "trust.example.test")
            .body(Vec::new())
            .expect("request")
    }

    fn post(uri: &str, content_type: &str, body: &str) -> Request<Vec<u8>> {
        Request::builder()
            .method("POST")
            .uri(uri)
            .header("host", "trust.example.test")
            .header("content-type", content_type)
            .body(body.as_bytes().to_vec())
            .expect("request")
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        // The pipeline awaits only the test's store and origin, which complete at once; a
        // pending poll would wait forever, so it fails the test instead.
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::pin!(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("the pipeline waited on something that never wakes"),
        }
    }

    const TLS: Client = Client {
        ip: String::new(),
        tls: true,
    };

    fn client(ip: &str) -> Client {
        Client {
            ip: ip.into(),
            tls: true,
        }
    }

    #[test]
    fn attacks_are_blocked_before_the_origin_with_an_event() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let handled = block_on(edge.handle(
            get("/api/x?id=1%27%20OR%20%271%27%3D%271"),
            &client("203.0.113.9"),
            now(),
            &store,
            &origin,
        ));
        assert_eq!(handled.response.status(), StatusCode::FORBIDDEN);
        assert!(origin.seen.lock().expect("lock").is_empty());
        assert_eq!(handled.events[0].event, EventKind::WafBlock);
        assert!(handled.events[0].rules.contains(&942100));
        assert!(
            !serde_json::to_string(&handled.events[0])
                .expect("json")
                .contains("203.0.113.9")
        );
        assert!(
            handled
                .response
                .headers()
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
        let _ = TLS;
    }

    #[test]
    fn plain_http_is_redirected() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let handled = block_on(edge.handle(
            get("/security/report?lang=en"),
            &Client {
                ip: "1.2.3.4".into(),
                tls: false,
            },
            now(),
            &store,
            &origin,
        ));
        assert_eq!(handled.response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(
            handled.response.headers()[header::LOCATION],
            "https://trust.example.test/security/report?lang=en"
        );
    }

    #[test]
    fn the_form_the_css_and_security_txt_come_from_the_edge() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let form = block_on(edge.handle(
            get("/security/report?lang=en"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ))
        .response;
        assert_eq!(form.status(), StatusCode::OK);
        let html = String::from_utf8(form.body().clone()).expect("utf8");
        assert!(html.contains("<html lang=\"en\">") && !html.contains("<script"));
        assert!(
            html.contains(web::assets::stylesheet_path()),
            "the one stylesheet"
        );
        assert!(
            html.contains("href=\"/security/policy?lang=en\"")
                && html.contains("href=\"/trust?lang=en\""),
            "the form links the disclosure policy and the trust page"
        );
        let policy = block_on(edge.handle(
            get("/security/policy?lang=de"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ))
        .response;
        assert_eq!(policy.status(), StatusCode::OK);
        let policy = String::from_utf8(policy.body().clone()).expect("utf8");
        assert!(policy.contains("<html lang=\"de\">") && policy.contains("48 Stunden"));
        let txt = block_on(edge.handle(
            get("/.well-known/security.txt"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ))
        .response;
        let txt = String::from_utf8(txt.body().clone()).expect("utf8");
        assert!(
            txt.contains("Expires: 2027-11-27")
                && txt.contains("Contact: mailto:security@example.test")
        );
        assert!(origin.seen.lock().expect("lock").is_empty());
    }

    #[test]
    fn reports_are_scrubbed_signed_and_confirmed() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let form = "description=SQLi+via+%27+OR+1%3D1+--+card+4111111111111111&affected_parties=A&personal_data_kind=B&scope=C&impact_assessment=D&language=en";
        let handled = block_on(edge.handle(
            post(
                "/security/reports",
                "application/x-www-form-urlencoded",
                form,
            ),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ));
        assert_eq!(handled.response.status(), StatusCode::OK);
        let html = String::from_utf8(handled.response.body().clone()).expect("utf8");
        assert!(html.contains("rep_1") && html.contains("s3cret"));
        assert_eq!(
            handled.response.headers()[header::CACHE_CONTROL],
            "no-store"
        );
        let seen = origin.seen.lock().expect("lock");
        let forwarded = &seen[0];
        assert_eq!(
            forwarded.headers()[header::CONTENT_TYPE],
            "application/json"
        );
        let body = String::from_utf8(forwarded.body().clone()).expect("utf8");
        assert!(body.contains("[card number removed]") && !body.contains("4111111111111111"));
        let signature = forwarded.headers()[kernel::origin_lock::HEADER]
            .to_str()
            .expect("ascii");
        let covered = kernel::origin_lock::covered_values(|name| {
            forwarded
                .headers()
                .get_all(name)
                .iter()
                .map(HeaderValue::as_bytes)
                .collect()
        });
        assert_eq!(
            covered[2],
            [forwarded.headers()[crate::REQUEST_ID_HEADER].as_bytes()]
        );
        let signed = kernel::origin_lock::SignedRequest::new(
            "POST",
            "/security/reports",
            &covered,
            forwarded.body(),
        );
        let seen = kernel::origin_lock::ReplayCache::default();
        let secrets = [b"origin-secret-origin-secret-origin".to_vec()];
        assert_eq!(
            kernel::origin_lock::verify(&secrets, Some(signature), &signed, now(), &seen),
            Ok(())
        );
        assert_eq!(
            kernel::origin_lock::verify(&secrets, Some(signature), &signed, now(), &seen),
            Err(kernel::origin_lock::OriginLockError::Replayed)
        );
        drop(seen);
        let bad = block_on(edge.handle(
            post(
                "/security/reports",
                "application/json",
                r#"{"description":"x"}"#,
            ),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ));
        assert_eq!(bad.response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            bad.response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[test]
    fn rate_limits_answer_429_with_retry_after() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let report = r#"{"description":"d","affected_parties":"a","personal_data_kind":"p","scope":"s","impact_assessment":"i"}"#;
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let h = block_on(edge.handle(
                post("/security/reports", "application/json", report),
                &client("9.9.9.9"),
                now(),
                &store,
                &origin,
            ));
            statuses.push((
                h.response.status(),
                h.response.headers().get(header::RETRY_AFTER).cloned(),
            ));
        }
        assert!(
            statuses[..5]
                .iter()
                .all(|(s, _)| *s == StatusCode::ACCEPTED),
            "{statuses:?}"
        );
        assert_eq!(statuses[5].0, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            statuses[5]
                .1
                .as_ref()
                .map(|v| v.to_str().expect("ascii").to_string()),
            Some("180".to_string())
        );
        // Another client is not affected.
        let other = block_on(edge.handle(
            post("/security/reports", "application/json", report),
            &client("8.8.8.8"),
            now(),
            &store,
            &origin,
        ));
        assert_eq!(other.response.status(), StatusCode::ACCEPTED);
    }

    #[test]
    fn sign_in_locks_after_failures_and_says_the_same_for_any_account() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let attempt = |email: &str, ip: &str, at: Timestamp| {
            let body = format!(r#"{{"email":"{email}","password":"wrong"}}"#);
            block_on(edge.handle(
                post("/auth/sign-in", "application/json", &body),
                &client(ip),
                at,
                &store,
                &origin,
            ))
        };
        let mut t = now();
        let mut lockout_events = 0;
        for _ in 0..5 {
            let h = attempt("jane@acme.example", "1.1.1.1", t);
            assert_eq!(h.response.status(), StatusCode::UNAUTHORIZED);
            lockout_events += h
                .events
                .iter()
                .filter(|e| e.event == EventKind::Lockout)
                .count();
            t = t.checked_add(SignedDuration::from_secs(7)).expect("ts"); // within the rate limit
        }
        assert_eq!(lockout_events, 1);
        let locked = attempt("jane@acme.example", "1.1.1.1", t);
        assert_eq!(locked.response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(locked.response.headers().contains_key(header::RETRY_AFTER));
        let before = origin.seen.lock().expect("lock").len();
        let again = attempt("jane@acme.example", "2.2.2.2", t);
        assert_eq!(
            again.response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the account is locked from any client"
        );
        assert_eq!(
            origin.seen.lock().expect("lock").len(),
            before,
            "locked attempts never reach the function"
        );
    }

    #[test]
    fn many_accounts_from_one_client_is_credential_stuffing() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let mut t = now();
        let mut stuffing = 0;
        for i in 0..10 {
            let body = format!(r#"{{"email":"user{i}@example.test","password":"x"}}"#);
            let h = block_on(edge.handle(
                post("/auth/sign-in", "application/json", &body),
                &client("6.6.6.6"),
                t,
                &store,
                &origin,
            ));
            stuffing += h
                .events
                .iter()
                .filter(|e| e.event == EventKind::CredentialStuffing)
                .count();
            t = t.checked_add(SignedDuration::from_secs(7)).expect("ts");
        }
        assert_eq!(stuffing, 1);
        let body = r#"{"email":"fresh@example.test","password":"x"}"#;
        let h = block_on(edge.handle(
            post("/auth/sign-in", "application/json", body),
            &client("6.6.6.6"),
            t,
            &store,
            &origin,
        ));
        assert_eq!(h.response.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn portal_pages_need_the_session_cookie_and_go_to_the_refresh_step_without_it() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let h = block_on(edge.handle(
            get("/portal/sla/2026-11?lang=en"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ));
        assert_eq!(h.response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            h.response.headers()[header::LOCATION],
            "/portal/session/refresh?next=%2Fportal%2Fsla%2F2026-11%3Flang%3Den"
        );
        assert!(
            origin.seen.lock().expect("lock").is_empty(),
            "nothing reached the origin"
        );

        // A bearer token is no session: the cookie it must be.
        let token = customer_token(key);
        let mut bearer = get("/portal/");
        bearer.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let h = block_on(edge.handle(bearer, &client("1.1.1.1"), now(), &store, &origin));
        assert_eq!(h.response.status(), StatusCode::SEE_OTHER);

        let mut page = get("/portal/");
        page.headers_mut().insert(
            header::COOKIE,
            HeaderValue::from_str(&format!(
                "{}={token}; other=1",
                web::cookies::SESSION_COOKIE
            ))
            .expect("header"),
        );
        let h = block_on(edge.handle(page, &client("1.1.1.1"), now(), &store, &origin));
        assert_eq!(h.response.status(), StatusCode::OK);
        assert_eq!(origin.seen.lock().expect("lock").len(), 1);

        // An expired or forged cookie is no session either.
        let mut forged = get("/portal/");
        forged.headers_mut().insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{}={token}x", web::cookies::SESSION_COOKIE))
                .expect("header"),
        );
        let h = block_on(edge.handle(forged, &client("1.1.1.1"), now(), &store, &origin));
        assert_eq!(h.response.status(), StatusCode::SEE_OTHER);

        // The session pages themselves are public: on to the function, no redirect.
        let h = block_on(edge.handle(
            get("/portal/session/sign-in"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ));
        assert_ne!(h.response.status(), StatusCode::SEE_OTHER);
        assert_eq!(origin.seen.lock().expect("lock").len(), 2);
    }

    #[test]
    fn the_root_leads_to_the_portal_and_the_stylesheet_is_cached_for_good() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let h = block_on(edge.handle(get("/"), &client("1.1.1.1"), now(), &store, &origin));
        assert_eq!(h.response.status(), StatusCode::SEE_OTHER);
        assert_eq!(h.response.headers()[header::LOCATION], "/portal/");
        // The stylesheet and the two scripts, each with its type (nosniff refuses others).
        for (path, content_type, body) in [
            (
                web::assets::stylesheet_path(),
                "text/css; charset=utf-8",
                web::assets::STYLESHEET,
            ),
            (
                web::assets::passkey_script_path(),
                "text/javascript; charset=utf-8",
                web::assets::PASSKEY_SCRIPT,
            ),
            (
                web::assets::countdown_script_path(),
                "text/javascript; charset=utf-8",
                web::assets::COUNTDOWN_SCRIPT,
            ),
        ] {
            let h = block_on(edge.handle(get(path), &client("1.1.1.1"), now(), &store, &origin));
            assert_eq!(h.response.status(), StatusCode::OK, "{path}");
            assert_eq!(h.response.headers()[header::CONTENT_TYPE], content_type);
            assert_eq!(
                h.response.headers()[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable"
            );
            assert_eq!(h.response.body().as_slice(), body.as_bytes());
        }
        // Another fingerprint is not ours: on to the origin (which knows no such path).
        let h = block_on(edge.handle(
            get("/assets/site.0000000000000000.css"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ));
        assert_ne!(
            h.response
                .headers()
                .get(header::CACHE_CONTROL)
                .map(|v| v.as_bytes()),
            Some(&b"public, max-age=31536000, immutable"[..])
        );
    }

    #[test]
    fn the_portal_sign_in_form_counts_for_the_brute_force_guard() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let form = "form_token=t&email=Ada%40Acme.example&password=wrong";
        let mut locked = false;
        for i in 0..12 {
            // Another client each time: only the account's counter can lock.
            let h = block_on(edge.handle(
                post(
                    web::paths::SIGN_IN,
                    "application/x-www-form-urlencoded",
                    form,
                ),
                &client(&format!("10.0.0.{i}")),
                now(),
                &store,
                &origin,
            ));
            if h.response.status() == StatusCode::TOO_MANY_REQUESTS {
                locked = true;
                break;
            }
            assert_eq!(h.response.status(), StatusCode::UNAUTHORIZED);
        }
        assert!(
            locked,
            "failed form sign-ins lock the account like the API's"
        );
    }

    #[test]
    fn the_api_needs_a_valid_token() {
        let key = SigningKey::generate("k");
        let (edge, store, origin) = (service(&key), MemoryStore::default(), FakeOrigin::default());
        let h = block_on(edge.handle(
            get("/api/incidents"),
            &client("1.1.1.1"),
            now(),
            &store,
            &origin,
        ));
        assert_eq!(h.response.status(), StatusCode::UNAUTHORIZED);
        let token = customer_token(key);
        let mut request = get("/api/incidents");
        request.headers_mut().insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        let h = block_on(edge.handle(request, &client("1.1.1.1"), now(), &store, &origin));
        assert_eq!(h.response.status(), StatusCode::OK);

        // The signature binds the token: the forwarded request with another one fails.
        let seen = origin.seen.lock().expect("lock");
        let forwarded = seen.last().expect("forwarded");
        let signature = forwarded.headers()[kernel::origin_lock::HEADER]
            .to_str()
            .expect("ascii");
        let secrets = [b"origin-secret-origin-secret-origin".to_vec()];
        let verify_with = |authorization: &[u8]| {
            let mut covered = kernel::origin_lock::covered_values(|name| {
                forwarded
                    .headers()
                    .get_all(name)
                    .iter()
                    .map(HeaderValue::as_bytes)
                    .collect()
            });
            covered[0] = vec![authorization];
            let request =
                kernel::origin_lock::SignedRequest::new("GET", "/api/incidents", &covered, b"");
            kernel::origin_lock::verify(
                &secrets,
                Some(signature),
                &request,
                now(),
                &kernel::origin_lock::ReplayCache::default(),
            )
        };
        let genuine = format!("Bearer {token}");
        assert_eq!(verify_with(genuine.as_bytes()), Ok(()));
        assert_eq!(
            verify_with(b"Bearer another.token"),
            Err(kernel::origin_lock::OriginLockError::Mismatch)
        );
    }

    #[test]
    fn routes_map_to_functions() {
        let binding = |path| origin_binding_for(path).unwrap();
        assert_eq!(binding("/stripe/webhook"), "ORIGIN_STRIPE_WEBHOOK");
        assert_eq!(binding("/auth/sign-in"), "ORIGIN_AUTH");
        assert_eq!(binding("/api/tenants/acme"), "ORIGIN_AUTH");
        assert_eq!(binding("/api/sla/claims"), "ORIGIN_SLA");
        assert_eq!(binding("/portal/sla/2026-11"), "ORIGIN_PORTAL");
        assert_eq!(binding("/portal/session/sign-in"), "ORIGIN_AUTH");
        assert_eq!(binding("/api/incidents"), "ORIGIN_INCIDENTS");
        assert_eq!(binding("/security/reports"), "ORIGIN_INCIDENTS");
    }

    #[test]
    fn only_the_public_trust_page_and_statement_are_shared_from_the_edge_cache() {
        assert!(shared_cache_may_answer(
            "GET",
            "/trust",
            Some("lang=en"),
            false,
            false
        ));
        assert!(shared_cache_may_answer(
            "GET",
            "/trust/statement.json",
            None,
            false,
            false
        ));
        // The language from the browser or a cookie: not one answer for everyone.
        assert!(!shared_cache_may_answer(
            "GET", "/trust", None, false, false
        ));
        assert!(!shared_cache_may_answer(
            "GET",
            "/trust",
            Some("lang=en"),
            true,
            false
        ));
        assert!(!shared_cache_may_answer(
            "GET",
            "/trust/statement.json",
            None,
            false,
            true
        ));
        assert!(!shared_cache_may_answer(
            "GET",
            "/trust/statement.json",
            Some("x=1"),
            false,
            false
        ));
        assert!(!shared_cache_may_answer(
            "POST",
            "/trust",
            Some("lang=en"),
            false,
            false
        ));
        assert!(!shared_cache_may_answer(
            "GET", "/portal/", None, false, false
        ));
    }
}
