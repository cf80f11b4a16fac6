//! End-to-end: the real `regrooter` binary, started as a user would start it.

mod common;

use common::{BIN, Platform, agent};
use serde_json::Value;

fn json(response: &mut ureq::http::Response<ureq::Body>) -> Value {
    response.body_mut().read_json().expect("json body")
}

#[test]
fn serve_starts_quickly_and_answers_healthz_with_security_headers() {
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
        "2026-03-30T09:00:00Z",
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
    let data = tempfile::tempdir().expect("dir");
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
    let data = tempfile::tempdir().expect("dir");
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
