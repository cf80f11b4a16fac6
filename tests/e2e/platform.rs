//! End-to-end: the real `regrooter` binary, started as a user would start it.

use crate::common;

use common::{BIN, Platform, agent, call};
use serde_json::Value;

fn json(response: &mut ureq::http::Response<ureq::Body>) -> Value {
    response.body_mut().read_json().expect("json body")
}

#[test]
fn serve_starts_and_answers_healthz_with_security_headers() {
    let platform = Platform::start(&[]);
    let mut response = agent()
        .get(&platform.url("/healthz"))
        .call()
        .expect("healthz");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let body = json(&mut response);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["environment"], "dev");
    for name in [
        "strict-transport-security",
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
        "x-request-id",
    ] {
        assert!(headers.contains_key(name), "missing {name}");
    }
    // Startup is measured for information; the speed target lives in the benchmarks.
    eprintln!(
        "regrooter serve printed its URL after {:?}",
        platform.startup
    );
}

#[test]
fn the_api_needs_a_token_and_errors_are_problem_json() {
    let platform = Platform::start(&[]);
    let mut response = agent()
        .get(&platform.url("/api/anything"))
        .call()
        .expect("call");
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem = json(&mut response);
    assert_eq!(problem["status"], 401);
    assert!(
        problem["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with("req_"))
    );

    let mut response = agent()
        .get(&platform.url("/api/anything"))
        .header("Authorization", "Bearer not.a.token")
        .call()
        .expect("call");
    assert_eq!(response.status(), 401);
    assert_eq!(json(&mut response)["type"], "/problems/unauthenticated");

    let token = platform.token(&["--role", "customer_admin", "--tenant", "acme"]);
    let mut response = agent()
        .get(&platform.url("/api/no-such-route"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("call");
    assert_eq!(
        response.status(),
        404,
        "authenticated, but the route does not exist"
    );
    assert_eq!(json(&mut response)["type"], "/problems/not-found");
}

/// The OpenAPI document is served to anyone signed in (the edge asks a token for `/api/`), as the
/// committed file, through the edge to the function that serves it.
#[test]
fn the_openapi_document_is_served_to_anyone_signed_in() {
    let platform = Platform::start(&[]);
    let (status, _) = call("GET", &platform.url("/api/openapi.json"), None, None);
    assert_eq!(status, 401);
    let token = platform.token(&["--role", "customer_member", "--tenant", "acme"]);
    let (status, document) = call(
        "GET",
        &platform.url("/api/openapi.json"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200, "{document}");
    let committed: Value = serde_json::from_str(functions::openapi::COMMITTED).expect("json");
    assert_eq!(document, committed);
    assert_eq!(
        document["paths"]["/api/incidents"]["post"]["security"],
        serde_json::json!([{ "bearer": ["incidents:manage"] }])
    );
}

#[test]
fn the_manual_clock_moves_only_forward_and_rejects_bad_input() {
    let platform = Platform::start(&["--clock", "manual", "--start", "2026-03-28T09:00:00Z"]);
    let mut response = agent()
        .get(&platform.url("/_dev/clock"))
        .call()
        .expect("clock");
    assert_eq!(json(&mut response)["now"], "2026-03-28T09:00:00Z");

    let mut response = agent()
        .post(&platform.url("/_dev/clock"))
        .header("Content-Type", "application/json")
        .send(r#"{"advance": "48h"}"#)
        .expect("advance");
    assert_eq!(response.status(), 200);
    assert_eq!(json(&mut response)["now"], "2026-03-30T09:00:00Z");
    // Whole days, and a summary per job instead of every firing.
    let mut response = agent()
        .post(&platform.url("/_dev/clock"))
        .header("Content-Type", "application/json")
        .send(r#"{"advance": "2d"}"#)
        .expect("advance");
    assert_eq!(response.status(), 200);
    let moved = json(&mut response);
    assert_eq!(moved["now"], "2026-04-01T09:00:00Z");
    // The outbox drain runs every minute: its firings summed up, the last at the new time (a
    // long catch-up skips the oldest firings, so the count is not asserted).
    let drain = &moved["fired"]["outbox-drain"];
    assert!(drain["runs"].as_u64().is_some_and(|n| n > 1), "{moved}");
    assert_eq!(drain["failed"], 0, "{moved}");
    assert_eq!(drain["last"], "2026-04-01T09:00:00Z", "{moved}");
    assert_eq!(moved["failures"], serde_json::json!([]), "{moved}");

    for bad in [
        r#"{"advance": "-1h"}"#,
        r#"{"to": "2020-01-01T00:00:00Z"}"#,
        r#"{"advance": 5}"#,
        r#"{"nudge": "1h"}"#,
        "{",
    ] {
        let mut response = agent()
            .post(&platform.url("/_dev/clock"))
            .header("Content-Type", "application/json")
            .send(bad)
            .expect("call");
        assert_eq!(response.status(), 400, "{bad}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        json(&mut response);
    }
    let mut response = agent()
        .get(&platform.url("/_dev/clock"))
        .call()
        .expect("clock");
    assert_eq!(
        json(&mut response)["now"],
        "2026-04-01T09:00:00Z",
        "bad input changed nothing"
    );
}

#[test]
fn the_system_clock_platform_has_no_dev_routes() {
    let platform = Platform::start(&[]);
    let response = agent()
        .get(&platform.url("/_dev/clock"))
        .call()
        .expect("call");
    assert_eq!(response.status(), 404);
}

#[test]
fn production_refuses_development_tokens_and_the_manual_clock() {
    let data = common::private_dir();
    let output = std::process::Command::new(BIN)
        .args(["token", "--role", "operator", "--data"])
        .arg(data.path())
        .env("REGROOTER_ENV", "production")
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not issued in production"), "{stderr}");
    assert!(output.stdout.is_empty());

    let output = std::process::Command::new(BIN)
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--clock",
            "manual",
            "--data",
        ])
        .arg(data.path())
        .env("REGROOTER_ENV", "production")
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("manual clock is not available in production")
    );
}

#[test]
fn token_usage_errors_are_readable() {
    let data = common::private_dir();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(BIN)
            .arg("token")
            .args(args)
            .arg("--data")
            .arg(data.path())
            .env_remove("REGROOTER_ENV")
            .output()
            .expect("run");
        assert!(!output.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    assert!(run(&["--role", "customer_admin"]).contains("need --tenant"));
    assert!(run(&["--role", "wizard"]).contains("unknown role 'wizard'"));
    assert!(
        run(&[
            "--role",
            "operator",
            "--role",
            "customer_admin",
            "--tenant",
            "acme"
        ])
        .contains("cannot share")
    );
    assert!(run(&["--role", "customer_admin", "--tenant", "ACME!"]).contains("invalid"));
}

#[test]
fn the_printed_key_set_verifies_the_printed_tokens_and_only_those() {
    // `token --jwks` is what a local Worker is given as `JWKS` (README, scripts/edge-bench).
    let data = common::private_dir();
    let other = common::private_dir();
    let cli = |dir: &std::path::Path, args: &[&str]| {
        let output = std::process::Command::new(BIN)
            .arg("token")
            .args(args)
            .arg("--data")
            .arg(dir)
            .env_remove("REGROOTER_ENV")
            .output()
            .expect("run");
        assert!(output.status.success(), "{args:?}: {output:?}");
        String::from_utf8(output.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    };
    let jwks: kernel::token::Jwks =
        serde_json::from_str(&cli(data.path(), &["--jwks"])).expect("a JWKS document");
    assert_eq!(jwks.keys.len(), 1, "{jwks:?}");
    let audience = functions::Config::from_env()
        .expect("config")
        .token_audience();
    let verifier = kernel::token::TokenVerifier::from_jwks(
        &jwks,
        audience,
        kernel::time::SignedDuration::from_secs(30),
    )
    .expect("verifier");
    let now = kernel::Clock::now(&kernel::time::SystemClock);
    let ours = cli(data.path(), &["--role", "operator"]);
    let verified = verifier.verify_uncached(&ours, now).expect("verified");
    assert_eq!(verified.principal.roles, ["operator"]);
    let foreign = cli(other.path(), &["--role", "operator"]);
    assert!(
        matches!(
            verifier.verify_uncached(&foreign, now),
            Err(kernel::token::TokenError::UnknownKeyId)
        ),
        "a token of another data directory's key"
    );
    // The key set is asked for alone.
    let output = std::process::Command::new(BIN)
        .args(["token", "--jwks", "--role", "operator", "--data"])
        .arg(data.path())
        .output()
        .expect("run");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot be used with"),
        "{output:?}"
    );
}

// ----- hardening (issue 16): the origin lock, the Authorization scheme, caching, errors ------

const ORIGIN_SECRET: &str = "the-edge-and-the-origin-share-this-0123456789";

/// `regrooter serve --origin-only`: the functions as the Lambdas serve them.
fn origin_only(extra: &[&str]) -> Platform {
    let mut args = vec!["--origin-only"];
    args.extend_from_slice(extra);
    Platform::start_with_env(&args, &[("REGROOTER_ORIGIN_SECRET", ORIGIN_SECRET)])
}

fn system_now() -> kernel::time::Timestamp {
    kernel::time::Clock::now(&kernel::time::SystemClock)
}

/// The edge's signature for a request with these headers and this body.
fn edge_signature(
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    at: kernel::time::Timestamp,
) -> String {
    let covered = kernel::origin_lock::covered_values(|name| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
            .collect()
    });
    let request = kernel::origin_lock::SignedRequest::new(method, path, &covered, body);
    kernel::origin_lock::sign(ORIGIN_SECRET.as_bytes(), &request, at)
}

struct Reply {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::String(self.body.clone()))
    }

    fn is_problem(&self) -> bool {
        self.headers
            .get("content-type")
            .is_some_and(|c| c == "application/problem+json")
            && self.json()["status"] == self.status
    }
}

fn send(
    platform: &Platform,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(platform.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent()
        .run(request.body(body.to_string()).expect("request"))
        .expect("http");
    Reply {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.body_mut().read_to_string().unwrap_or_default(),
    }
}

/// A request as the edge forwards it: signed over exactly these headers and body.
fn send_signed(
    platform: &Platform,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    at: kernel::time::Timestamp,
) -> Reply {
    let signature = edge_signature(method, path, headers, body.as_bytes(), at);
    let mut all = headers.to_vec();
    all.push((kernel::origin_lock::HEADER, &signature));
    send(platform, method, path, &all, body)
}

#[test]
fn the_origin_lock_accepts_a_signed_request_once_and_only_with_its_own_token() {
    let platform = origin_only(&[]);
    let now = system_now();
    let signature = edge_signature("GET", "/healthz", &[], b"", now);
    let signed = [(kernel::origin_lock::HEADER, signature.as_str())];
    assert_eq!(send(&platform, "GET", "/healthz", &signed, "").status, 200);
    let replayed = send(&platform, "GET", "/healthz", &signed, "");
    assert_eq!(
        replayed.status, 403,
        "a replay is refused: {}",
        replayed.body
    );
    assert!(replayed.is_problem());

    // A request signed for one caller does not carry another caller's token.
    let officer = platform.token(&["--role", "security_officer"]);
    let intruder = platform.token(&["--role", "customer_admin", "--tenant", "acme"]);
    let theirs = format!("Bearer {officer}");
    let mine = format!("Bearer {intruder}");
    let signature = edge_signature(
        "GET",
        "/api/incidents",
        &[("authorization", &theirs)],
        b"",
        now,
    );
    let swapped = send(
        &platform,
        "GET",
        "/api/incidents",
        &[
            ("authorization", &mine),
            (kernel::origin_lock::HEADER, &signature),
        ],
        "",
    );
    assert_eq!(swapped.status, 403, "{}", swapped.body);
    let genuine = send(
        &platform,
        "GET",
        "/api/incidents",
        &[
            ("authorization", &theirs),
            (kernel::origin_lock::HEADER, &signature),
        ],
        "",
    );
    assert_eq!(genuine.status, 200, "{}", genuine.body);
}

#[test]
fn edge_and_function_read_the_authorization_scheme_alike() {
    let platform = Platform::start(&[]);
    let origin = origin_only(&[]);
    let token = platform.token(&["--role", "security_officer"]);
    let origin_token = origin.token(&["--role", "security_officer"]);
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let value = format!("{scheme} {token}");
        let reply = send(
            &platform,
            "GET",
            "/api/incidents",
            &[("authorization", &value)],
            "",
        );
        assert_eq!(reply.status, 200, "edge, {scheme}: {}", reply.body);
        let value = format!("{scheme} {origin_token}");
        let reply = send_signed(
            &origin,
            "GET",
            "/api/incidents",
            &[("authorization", &value)],
            "",
            system_now(),
        );
        assert_eq!(reply.status, 200, "function, {scheme}: {}", reply.body);
    }
    for malformed in [
        format!("Bearer  {token}"),
        format!("Bearer\t{token}"),
        format!("Bearer {token} extra"),
        format!("Basic {token}"),
        format!("Bearer{token}"),
        "Bearer".to_string(),
    ] {
        let reply = send(
            &platform,
            "GET",
            "/api/incidents",
            &[("authorization", &malformed)],
            "",
        );
        assert_eq!(reply.status, 401, "edge, {malformed:.12}: {}", reply.body);
        let malformed = malformed.replace(&token, &origin_token);
        let reply = send_signed(
            &origin,
            "GET",
            "/api/incidents",
            &[("authorization", &malformed)],
            "",
            system_now(),
        );
        assert_eq!(
            reply.status, 401,
            "function, {malformed:.12}: {}",
            reply.body
        );
    }
}

#[test]
fn responses_with_tokens_secrets_or_personal_data_are_not_stored_by_caches() {
    let platform = Platform::start(&[]);
    let operator = platform.token(&["--role", "operator"]);
    let bearer = format!("Bearer {operator}");
    let json = [("content-type", "application/json")];
    let report = r#"{"description":"d","affected_parties":"a","personal_data_kind":"p","scope":"s","impact_assessment":"i"}"#;
    let receipt = send(&platform, "POST", "/security/reports", &json, report);
    assert_eq!(receipt.status, 202, "{}", receipt.body);
    let id = receipt.json()["tracking_id"]
        .as_str()
        .expect("id")
        .to_string();
    let secret = format!(
        "Bearer {}",
        receipt.json()["secret"].as_str().expect("secret")
    );
    let form = "description=d&affected_parties=a&personal_data_kind=p&scope=s&impact_assessment=i&language=en";
    let replies = [
        ("report receipt", receipt),
        (
            "report confirmation page",
            send(
                &platform,
                "POST",
                "/security/reports",
                &[("content-type", "application/x-www-form-urlencoded")],
                form,
            ),
        ),
        (
            "report status",
            send(
                &platform,
                "GET",
                &format!("/security/reports/{id}/status"),
                &[("authorization", &secret)],
                "",
            ),
        ),
        (
            "sign-in",
            send(
                &platform,
                "POST",
                "/auth/sign-in",
                &json,
                r#"{"email":"a@b.example","password":"wrong password"}"#,
            ),
        ),
        (
            "refresh",
            send(
                &platform,
                "POST",
                "/auth/refresh",
                &json,
                r#"{"refresh_token":"x"}"#,
            ),
        ),
        (
            "api list",
            send(
                &platform,
                "GET",
                "/api/retention/plan",
                &[("authorization", &bearer)],
                "",
            ),
        ),
        (
            "api staff",
            send(
                &platform,
                "GET",
                "/api/staff",
                &[("authorization", &bearer)],
                "",
            ),
        ),
        (
            "api error",
            send(
                &platform,
                "GET",
                "/api/nothing",
                &[("authorization", &bearer)],
                "",
            ),
        ),
    ];
    for (what, reply) in replies {
        assert!(reply.status < 500, "{what}: {}", reply.body);
        assert_eq!(
            reply
                .headers
                .get("cache-control")
                .map(|v| v.to_str().expect("ascii")),
            Some("no-store"),
            "{what} ({})",
            reply.status
        );
    }
    let confirmation = send(
        &platform,
        "POST",
        "/security/reports",
        &[("content-type", "application/x-www-form-urlencoded")],
        form,
    );
    assert_eq!(confirmation.status, 200);
    assert!(confirmation.body.contains("access code"));
}

/// The tracking id and the access code a report's confirmation page shows, in that order.
fn tracking_id_and_code(page: &str) -> (&str, &str) {
    let codes: Vec<&str> = page
        .split("<code>")
        .skip(1)
        .filter_map(|c| c.split("</code>").next())
        .collect();
    let [id, code] = codes[..] else {
        panic!("id and code in {page}")
    };
    (id, code)
}

#[test]
fn the_reporter_reads_the_status_on_a_page_in_their_language() {
    let platform = Platform::start(&[]);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let sent = send(
        &platform,
        "POST",
        "/security/reports",
        &form,
        "description=d&affected_parties=a&personal_data_kind=p&scope=s&impact_assessment=i&language=en",
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    // The confirmation page shows the id and the code, and links to the status page.
    let (id, code) = tracking_id_and_code(&sent.body);
    assert!(
        sent.body.contains(&format!(
            "href=\"/security/reports/status?id={id}&amp;lang=en\""
        )),
        "{}",
        sent.body
    );
    // The link opens the form with the id filled in (a browser, no header needed).
    let page = send(
        &platform,
        "GET",
        &format!("/security/reports/status?id={id}&lang=en"),
        &[],
        "",
    );
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(&format!("value=\"{id}\"")) && page.body.contains("Access code"),
        "{}",
        page.body
    );
    // The answer in words, never cached.
    let answer = send(
        &platform,
        "POST",
        "/security/reports/status",
        &form,
        &format!("tracking_id={id}&access_code={code}&language=en"),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.contains(&format!(
            "Your security report <code>{id}</code> has been received."
        )),
        "{}",
        answer.body
    );
    assert_eq!(
        answer.headers.get("cache-control").map(|v| v.to_str().ok()),
        Some(Some("no-store"))
    );
    // A wrong code and an unknown id: one answer, the form again.
    let wrong = send(
        &platform,
        "POST",
        "/security/reports/status",
        &form,
        &format!(
            "tracking_id={id}&access_code={}&language=en",
            "0".repeat(64)
        ),
    );
    assert_eq!(wrong.status, 404, "{}", wrong.body);
    assert!(
        wrong
            .body
            .contains("There is no report with this tracking id and access code."),
        "{}",
        wrong.body
    );
    // In German, the mistakes by their German labels.
    let missing = send(
        &platform,
        "POST",
        "/security/reports/status",
        &form,
        &format!("tracking_id={id}&access_code=&language=de"),
    );
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(
        missing
            .body
            .contains("<a href=\"#access_code\">Zugangscode</a>: ist ein Pflichtfeld"),
        "{}",
        missing.body
    );
    assert!(!missing.body.contains(code));
}

/// A vulnerability report: the optional product, steps and CVSS v4.0 vector beside the five
/// breach fields — the vector checked at the edge and again at the function, every failing
/// field named at once (by its German label on the German form), the steps passing the WAF with
/// the attack they quote, and the security team reading all of it.
#[test]
fn a_vulnerability_report_carries_product_steps_and_a_cvss_vector() {
    let platform = Platform::start(&[]);
    let json = [("content-type", "application/json")];
    let report = |extra: serde_json::Value| {
        let mut body = serde_json::json!({
            "description": "Reflected XSS in the export page",
            "affected_parties": "every tenant", "personal_data_kind": "session cookies",
            "scope": "all users", "impact_assessment": "account takeover", "language": "en",
        });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body.to_string()
    };
    // A vector that is none, and an over-long product: both named, nothing stored.
    let refused = send(
        &platform,
        "POST",
        "/security/reports",
        &json,
        &report(serde_json::json!({
            "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "affected_product": "x".repeat(2_001),
        })),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    let mut pointers: Vec<String> = refused.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["/affected_product", "/cvss_vector"],
        "{}",
        refused.body
    );
    // The German form names the field by its label.
    let form = send(
        &platform,
        "POST",
        "/security/reports",
        &[("content-type", "application/x-www-form-urlencoded")],
        "description=d&affected_parties=a&personal_data_kind=p&scope=s&impact_assessment=i&cvss_vector=hoch&language=de",
    );
    assert_eq!(form.status, 400, "{}", form.body);
    assert!(
        form.body.contains(
            "<a href=\"#cvss_vector\">CVSS-v4.0-Vektor</a>: hat nicht die erwartete Form"
        ),
        "{}",
        form.body
    );
    assert!(form.body.contains("value=\"hoch\""), "what was typed stays");

    let vector = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:H/VA:N/SC:N/SI:N/SA:N";
    let steps =
        "1. open /export?name=<script>alert(document.cookie)</script>\n2. the cookie is shown";
    let accepted = send(
        &platform,
        "POST",
        "/security/reports",
        &json,
        &report(serde_json::json!({
            "affected_product": "https://app.regrooter.example/export",
            "steps_to_reproduce": steps,
            "cvss_vector": vector,
        })),
    );
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let id = accepted.json()["tracking_id"]
        .as_str()
        .expect("id")
        .to_string();
    let officer = platform.token(&["--role", "security_officer"]);
    let bearer = format!("Bearer {officer}");
    let read = send(
        &platform,
        "GET",
        &format!("/api/reports/{id}"),
        &[("authorization", bearer.as_str())],
        "",
    )
    .json();
    assert_eq!(
        read["affected_product"],
        "https://app.regrooter.example/export"
    );
    assert_eq!(read["steps_to_reproduce"], steps);
    assert_eq!(read["cvss_vector"], vector);

    // The function checks the vector again, whoever reaches it past the edge.
    let origin = origin_only(&[]);
    let direct = send_signed(
        &origin,
        "POST",
        "/security/reports",
        &json,
        &report(serde_json::json!({ "cvss_vector": "CVSS:4.0/AV:N" })),
        system_now(),
    );
    assert_eq!(direct.status, 400, "{}", direct.body);
    assert_eq!(direct.json()["errors"][0]["pointer"], "/cvss_vector");
}

/// The confidential conversation: the security team asks through the API, the reporter reads
/// the question on the status page (a mail tells them, without its text) and answers with the
/// form; each side's text passes the WAF (attacks quoted on purpose), every mistake is named,
/// a wrong code is an unknown report, and a closed report takes no more messages.
#[test]
fn the_reporter_and_the_security_team_write_to_each_other() {
    let platform = Platform::start(&["--clock", "manual", "--start", "2026-03-28T09:00:00Z"]);
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let sent = send(
        &platform,
        "POST",
        "/security/reports",
        &form,
        "description=d&affected_parties=a&personal_data_kind=p&scope=s&impact_assessment=i&reporter_contact=finder%40example.org&language=de",
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    let (id, code) = tracking_id_and_code(&sent.body);
    let officer = platform.token(&[
        "--role",
        "security_officer",
        "--sub",
        "sec-1",
        "--now",
        "2026-03-28T09:00:00Z",
    ]);
    let bearer = format!("Bearer {officer}");
    let api = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let status_page = |body: &str| send(&platform, "POST", "/security/reports/status", &form, body);
    let ask = format!("tracking_id={id}&access_code={code}&language=de");

    // Before any message: the status, and the form to write.
    let before = status_page(&ask);
    assert_eq!(before.status, 200, "{}", before.body);
    assert!(
        !before.body.contains("<h2 id=\"messages\">"),
        "{}",
        before.body
    );
    assert!(
        before
            .body
            .contains("action=\"/security/reports/status/messages\""),
        "{}",
        before.body
    );

    // The team asks; an empty message is named by its pointer.
    let empty = send(
        &platform,
        "POST",
        &format!("/api/reports/{id}/messages"),
        &api,
        r#"{"text":"  "}"#,
    );
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert_eq!(
        empty.json()["errors"][0]["pointer"],
        "/text",
        "{}",
        empty.body
    );
    let question = "Did the filter take ' OR 1=1 -- on /export?all=1?";
    let asked = send(
        &platform,
        "POST",
        &format!("/api/reports/{id}/messages"),
        &api,
        &serde_json::json!({ "text": question }).to_string(),
    );
    assert_eq!(asked.status, 201, "{}", asked.body);
    assert_eq!(asked.json()["mailed"], true);

    // The mail tells the reporter where to read it, never what.
    platform.move_clock(serde_json::json!({ "advance": "PT1M" }));
    let mail = std::fs::read_to_string(
        platform
            .data
            .path()
            .join("outbox")
            .join(format!("{id}-msg-1.eml")),
    )
    .expect("the reporter's mail");
    assert!(mail.contains("To: finder@example.org"), "{mail}");
    assert!(mail.contains("/security/reports/status?id="), "{mail}");
    assert!(
        !mail.contains("OR 1=1"),
        "the text stays out of the mail: {mail}"
    );

    // The reporter reads it on the status page, escaped, and answers.
    let read = status_page(&ask);
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(
        read.body.contains("<strong>Sicherheitsteam</strong>"),
        "{}",
        read.body
    );
    assert!(
        read.body
            .contains("Did the filter take &#39; OR 1=1 -- on /export?all=1?"),
        "{}",
        read.body
    );
    let messages = "/security/reports/status/messages";
    let missing = send(&platform, "POST", messages, &form, &format!("{ask}&text="));
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(
        missing.body.contains(
            "<a href=\"#text\">Ihre Nachricht an das Sicherheitsteam</a>: ist ein Pflichtfeld"
        ),
        "{}",
        missing.body
    );
    let answer = "Yes: ' OR 1=1 -- returned every tenant.\n<script>alert(1)</script>";
    let answered = send(
        &platform,
        "POST",
        messages,
        &form,
        &format!(
            "{ask}&text={}",
            "Yes%3A+%27+OR+1%3D1+--+returned+every+tenant.%0A%3Cscript%3Ealert(1)%3C%2Fscript%3E"
        ),
    );
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert!(
        answered
            .body
            .contains("Ihre Nachricht ist beim Sicherheitsteam eingegangen."),
        "{}",
        answered.body
    );
    assert!(
        answered.body.contains(
            "Yes: &#39; OR 1=1 -- returned every tenant.<br>&lt;script&gt;alert(1)&lt;/script&gt;"
        ),
        "{}",
        answered.body
    );
    assert_eq!(
        answered
            .headers
            .get("cache-control")
            .map(|v| v.to_str().ok()),
        Some(Some("no-store"))
    );
    // The edge allows a handful of report posts per client and burst (20 an hour).
    platform.move_clock(serde_json::json!({ "advance": "PT15M" }));
    // A wrong code is an unknown report, for writing as for reading.
    let wrong = send(
        &platform,
        "POST",
        messages,
        &form,
        &format!(
            "tracking_id={id}&access_code={}&language=de&text=hello",
            "0".repeat(64)
        ),
    );
    assert_eq!(wrong.status, 404, "{}", wrong.body);

    // The team reads both, with who on the team wrote; the audit trail has both.
    let report = send(&platform, "GET", &format!("/api/reports/{id}"), &api, "");
    let report = report.json();
    let listed = report["messages"].as_array().expect("messages");
    assert_eq!(listed.len(), 2, "{report}");
    assert_eq!(listed[0]["from"], "security_team");
    assert_eq!(listed[0]["text"], question);
    assert_eq!(listed[0]["by"], "sec-1");
    assert_eq!(listed[1]["from"], "reporter");
    assert_eq!(listed[1]["text"], answer);
    let inbox = send(&platform, "GET", "/api/reports", &api, "").json();
    assert_eq!(inbox[0]["id"], id);
    assert_eq!(
        inbox[0]["reporter_wrote_last"], true,
        "the inbox shows an answer waits"
    );
    let trail = send(
        &platform,
        "GET",
        &format!("/api/reports/{id}/audit"),
        &api,
        "",
    );
    for action in ["report.message_sent", "report.message_received"] {
        assert!(trail.body.contains(action), "{action}: {}", trail.body);
    }
    // The team's mailbox hears that the reporter wrote, not what.
    platform.move_clock(serde_json::json!({ "advance": "PT1M" }));
    let team_mail = std::fs::read_to_string(
        platform
            .data
            .path()
            .join("outbox")
            .join(format!("{id}-msg-2.eml")),
    )
    .expect("the team's mail");
    assert!(!team_mail.contains("every tenant"), "{team_mail}");

    // Closed: the page shows the conversation without the form; a late message is refused with
    // what was typed kept.
    let closed = send(
        &platform,
        "POST",
        &format!("/api/reports/{id}/triage"),
        &api,
        r#"{"outcome":"not_a_breach"}"#,
    );
    assert_eq!(closed.status, 200, "{}", closed.body);
    let after = status_page(&ask);
    assert!(!after.body.contains("<textarea"), "{}", after.body);
    assert!(
        after.body.contains("returned every tenant"),
        "{}",
        after.body
    );
    let late = send(
        &platform,
        "POST",
        messages,
        &form,
        &format!("{ask}&text=one+more+thing"),
    );
    assert_eq!(late.status, 409, "{}", late.body);
    assert!(
        late.body.contains("Die Nachricht wurde nicht angenommen"),
        "{}",
        late.body
    );
}

#[test]
fn framework_rejections_are_problem_json() {
    let origin = origin_only(&[]);
    let operator = origin.token(&["--role", "operator"]);
    let bearer = format!("Bearer {operator}");
    let auth = [("authorization", bearer.as_str())];
    let bad_query = send_signed(
        &origin,
        "GET",
        "/api/retention/plan?at=garbage",
        &auth,
        "",
        system_now(),
    );
    assert_eq!(bad_query.status, 400, "{}", bad_query.body);
    assert!(bad_query.is_problem(), "{}", bad_query.body);
    assert_eq!(
        bad_query.json()["errors"][0]["pointer"],
        "/at",
        "{}",
        bad_query.body
    );

    let bad_path = send_signed(
        &origin,
        "GET",
        "/api/tenants/%FF/retention",
        &auth,
        "",
        system_now(),
    );
    assert_eq!(bad_path.status, 400, "{}", bad_path.body);
    assert!(bad_path.is_problem(), "{}", bad_path.body);

    let wrong_method = send_signed(&origin, "DELETE", "/healthz", &[], "", system_now());
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.body);
    assert!(wrong_method.is_problem(), "{}", wrong_method.body);
    assert!(
        wrong_method
            .headers
            .get("allow")
            .is_some_and(|a| a.to_str().expect("ascii").contains("GET"))
    );

    // Limits, through the edge and straight to the functions alike.
    let platform = Platform::start(&[]);
    for target in [&platform, &origin] {
        let long = format!("/healthz?x={}", "a".repeat(20_000));
        let reply = send(target, "GET", &long, &[], "");
        assert_eq!(reply.status, 414, "{}", reply.body);
        assert!(reply.is_problem(), "{:?}", reply.headers);

        let names: Vec<String> = (0..150).map(|i| format!("x-filler-{i}")).collect();
        let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
        let reply = send(target, "GET", "/healthz", &many, "");
        assert_eq!(reply.status, 431, "{}", reply.body);
        assert!(reply.is_problem(), "{:?}", reply.headers);

        let big = "b".repeat(40_000);
        let reply = send(target, "GET", "/healthz", &[("x-big", &big)], "");
        assert_eq!(reply.status, 431, "{}", reply.body);
        assert!(reply.is_problem(), "{:?}", reply.headers);
    }
}

#[test]
fn the_dev_clock_needs_the_edge_signature_when_origin_only() {
    let start = "2026-03-28T09:00:00Z";
    let origin = origin_only(&["--clock", "manual", "--start", start]);
    let at: kernel::time::Timestamp = start.parse().expect("ts");
    let unsigned = send(&origin, "GET", "/_dev/clock", &[], "");
    assert_eq!(unsigned.status, 403, "{}", unsigned.body);
    assert!(unsigned.is_problem());
    let moved = send(
        &origin,
        "POST",
        "/_dev/clock",
        &[("content-type", "application/json")],
        r#"{"advance":"48h"}"#,
    );
    assert_eq!(moved.status, 403, "{}", moved.body);
    let signed = send_signed(&origin, "GET", "/_dev/clock", &[], "", at);
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(
        signed.json()["now"],
        start,
        "the unsigned move changed nothing"
    );
}

#[test]
fn a_function_reached_directly_refuses_forged_expired_and_revoked_tokens_and_bad_bodies() {
    // The origin lock proves a request came through the edge, not that its token is good: the
    // function checks the token again, and the body, whatever the edge let through.
    let origin = origin_only(&[]);
    let operator = format!("Bearer {}", origin.token(&["--role", "operator"]));
    let json_type = ("content-type", "application/json");
    let signed = |method: &str, path: &str, bearer: &str, body: &str| {
        send_signed(
            &origin,
            method,
            path,
            &[("authorization", bearer), json_type],
            body,
            system_now(),
        )
    };

    // An account, and a token naming it.
    let created = signed(
        "POST",
        "/api/staff",
        &operator,
        r#"{"email":"direct@regrooter.example","name":"Direct Example","roles":["security_officer"]}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["user"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mine = format!(
        "Bearer {}",
        origin.token(&["--role", "security_officer", "--sub", &id])
    );
    let read = signed("GET", "/api/incidents", &mine, "");
    assert_eq!(read.status, 200, "{}", read.body);

    // Forged: the signature of a good token changed.
    let good = mine.trim_start_matches("Bearer ").to_string();
    let (head, signature) = good.rsplit_once('.').expect("a JWS");
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("Bearer {head}.{flipped}{}", &signature[1..]);
    // Expired: issued long ago for ten minutes.
    let expired = format!(
        "Bearer {}",
        origin.token(&[
            "--role",
            "security_officer",
            "--now",
            "2020-01-01T00:00:00Z",
            "--ttl",
            "10m"
        ])
    );
    for (case, bearer) in [("forged", &forged), ("expired", &expired)] {
        let refused = signed("GET", "/api/incidents", bearer, "");
        assert_eq!(refused.status, 401, "{case}: {}", refused.body);
        assert!(refused.is_problem(), "{case}: {}", refused.body);
    }

    // Revoked: the account is disabled; its token stops at once.
    let disabled = signed("POST", &format!("/api/staff/{id}/disable"), &operator, "{}");
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    let refused = signed("GET", "/api/incidents", &mine, "");
    assert_eq!(refused.status, 401, "revoked: {}", refused.body);
    assert!(refused.is_problem(), "{}", refused.body);

    // Bad bodies: not JSON at all, and JSON with every field wrong (all named at once).
    let broken = signed("POST", "/api/staff", &operator, r#"{"email": "#);
    assert_eq!(broken.status, 400, "{}", broken.body);
    assert!(broken.is_problem(), "{}", broken.body);
    let wrong = signed(
        "POST",
        "/api/staff",
        &operator,
        r#"{"email":"not an address","name":"","roles":["no_such_role"]}"#,
    );
    assert_eq!(wrong.status, 400, "{}", wrong.body);
    assert!(wrong.is_problem(), "{}", wrong.body);
    let pointers = common::pointers(&wrong.json());
    for field in ["/email", "/name", "/roles"] {
        assert!(
            pointers.iter().any(|p| p.starts_with(field)),
            "{field} not among {pointers:?}"
        );
    }
}
