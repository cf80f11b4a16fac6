//! End-to-end through the real Worker: the edge built to wasm (scripts/edge-build) running in
//! workerd through wrangler, in front of `regrooter serve --origin-only` (the functions as the
//! Lambdas serve them: only requests signed by the edge are accepted).
//!
//! `scripts/test` builds the Worker and sets `REGROOTER_WRANGLER`; without it these tests say so
//! and skip — unless `REGROOTER_REQUIRE_WORKERD=1`, when a missing Worker is a failure.

use crate::common;

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, agent, call};
use serde_json::json;

const ORIGIN_SECRET: &str = "edge-and-origin-share-this-secret-0123456789";

struct Running {
    children: Vec<Child>,
    /// The process group of wrangler and its workerd.
    worker_group: Option<u32>,
    edge: String,
    data: tempfile::TempDir,
    _state: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // wrangler runs workerd as its own child, in the process group the test gave wrangler.
        if let Some(group) = self.worker_group {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{group}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn wrangler() -> Option<PathBuf> {
    match std::env::var("REGROOTER_WRANGLER") {
        Ok(path) => Some(PathBuf::from(path)),
        Err(_) => {
            assert!(
                std::env::var("REGROOTER_REQUIRE_WORKERD").is_err(),
                "REGROOTER_REQUIRE_WORKERD is set but REGROOTER_WRANGLER is not"
            );
            eprintln!(
                "skipping: no Worker build (run scripts/test, which builds it and starts workerd)"
            );
            None
        }
    }
}

fn start(wrangler: &Path) -> Running {
    let data = common::private_dir();
    let mut origin = Command::new(BIN)
        .args(["serve", "--origin-only", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env("REGROOTER_ORIGIN_SECRET", ORIGIN_SECRET)
        .env("RUST_LOG", "warn")
        .env_remove("REGROOTER_ENV")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("origin");
    let mut line = String::new();
    BufReader::new(origin.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("origin url");
    let origin_url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url")
        .to_string();

    // The Worker verifies tokens against the same keys the origin's development tokens use.
    let key = infra::local_keys::dev_signing_key(data.path()).expect("key");
    let jwks = json!({ "keys": [key.verification_key().to_jwk()] }).to_string();

    let state = common::private_dir();
    let port = free_port();
    let edge_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("edge");
    let mut command = Command::new(wrangler);
    command
        .current_dir(&edge_dir)
        .args([
            "dev",
            "--ip",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--inspector-port",
            &free_port().to_string(),
            // /__scheduled runs the cron handler (the edge's uptime probe) on request.
            "--test-scheduled",
        ])
        .arg("--persist-to")
        .arg(state.path())
        .env("WRANGLER_SEND_METRICS", "false")
        .env("CI", "true")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("XDG_CONFIG_HOME", state.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let vars = [
        ("REQUIRE_HTTPS", "false".to_string()),
        ("ORIGIN_SECRET", ORIGIN_SECRET.to_string()),
        (
            "IP_HASH_KEY",
            "a-key-for-hashing-client-addresses".to_string(),
        ),
        ("JWKS", jwks),
        ("TOKEN_ISSUER", "regrooter-dev".to_string()),
        ("ORIGIN_INCIDENTS", origin_url.clone()),
        ("ORIGIN_STRIPE_WEBHOOK", origin_url.clone()),
        ("ORIGIN_AUTH", origin_url.clone()),
        ("ORIGIN_SLA", origin_url.clone()),
        ("PROBE_TARGETS", format!("app={origin_url}/healthz")),
        ("ORIGIN_CONSOLE", origin_url.clone()),
        ("ORIGIN_PORTAL", origin_url),
    ];
    for (name, value) in vars {
        command.arg("--var").arg(format!("{name}:{value}"));
    }
    command.process_group(0);
    let worker = command.spawn().expect("wrangler dev");
    let edge = format!("http://127.0.0.1:{port}");
    let running = Running {
        worker_group: Some(worker.id()),
        children: vec![origin, worker],
        edge,
        data,
        _state: state,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = agent()
            .get(&format!("{}/.well-known/security.txt", running.edge))
            .call()
            .map(|r| r.status() == 200)
            .unwrap_or(false);
        if ready {
            return running;
        }
        assert!(Instant::now() < deadline, "workerd did not come up");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn token(data: &Path, role: &str) -> String {
    let output = Command::new(BIN)
        .args(["token", "--role", role, "--data"])
        .arg(data)
        .env_remove("REGROOTER_ENV")
        .output()
        .expect("token");
    String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_string()
}

#[test]
fn the_worker_in_workerd_serves_the_edge_in_front_of_signed_functions() {
    let Some(wrangler) = wrangler() else { return };
    let w = start(&wrangler);
    let url = |path: &str| format!("{}{path}", w.edge);

    // security.txt with a future Expires, and the security headers on every response.
    let mut response = agent()
        .get(&url("/.well-known/security.txt"))
        .call()
        .expect("security.txt");
    assert_eq!(response.status(), 200);
    for header in [
        "strict-transport-security",
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
        "x-request-id",
    ] {
        assert!(response.headers().contains_key(header), "missing {header}");
    }
    let txt = response.body_mut().read_to_string().expect("text");
    let expires = txt
        .lines()
        .find_map(|l| l.strip_prefix("Expires: "))
        .expect("Expires");
    let expires: kernel::time::Timestamp = expires.parse().expect("RFC 3339");
    assert!(expires > kernel::time::Clock::now(&kernel::time::SystemClock));
    assert!(txt.contains("Preferred-Languages: de, en"));

    // The form, without any script.
    let mut form = agent()
        .get(&url("/security/report?lang=en"))
        .call()
        .expect("form");
    let html = form.body_mut().read_to_string().expect("html");
    assert!(html.contains("<html lang=\"en\">") && !html.contains("<script"));
    assert!(
        html.contains("href=\"/security/policy?lang=en\"")
            && html.contains("href=\"/trust?lang=en\"")
    );

    // The disclosure policy from the edge; the trust page from the origin, marked public, twice
    // (the second time the Worker may answer from Cloudflare's cache).
    let mut policy = agent()
        .get(&url("/security/policy?lang=de"))
        .call()
        .expect("policy");
    assert!(
        policy
            .body_mut()
            .read_to_string()
            .expect("html")
            .contains("Richtlinie zur Meldung")
    );
    for _ in 0..2 {
        let mut trust = agent()
            .get(&url("/trust?lang=en"))
            .call()
            .expect("trust page");
        assert_eq!(trust.status(), 200);
        let cache_control = trust
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            cache_control.starts_with("public, max-age="),
            "{cache_control}"
        );
        assert!(trust.headers().get("set-cookie").is_none());
        assert!(
            trust
                .body_mut()
                .read_to_string()
                .expect("html")
                .contains("<html lang=\"en\">")
        );
    }

    // The second uptime vantage: the cron probes the product from the edge and reports the
    // minute to the sla function, signed; the month's report then names the edge. A client
    // cannot post results itself: /internal/ paths end at the edge.
    let mut cron = agent()
        .get(&url("/__scheduled?cron=*+*+*+*+*"))
        .call()
        .expect("cron");
    assert_eq!(
        cron.status(),
        200,
        "{}",
        cron.body_mut().read_to_string().unwrap_or_default()
    );
    // A report covers the minutes that are over: the probed one is in it once the minute ends.
    let operator = token(w.data.path(), "operator");
    let seen_from_the_edge = |report: &serde_json::Value| {
        report["vantages"]
            .as_array()
            .is_some_and(|v| v.contains(&json!("edge")))
    };
    let deadline = Instant::now() + Duration::from_secs(75);
    let report = loop {
        let month =
            kernel::time::Month::containing(kernel::time::Clock::now(&kernel::time::SystemClock));
        let (status, report) = call(
            "GET",
            &url(&format!("/api/sla/reports/{month}")),
            Some(&operator),
            None,
        );
        assert_eq!(status, 200, "{report}");
        if seen_from_the_edge(&report) || Instant::now() > deadline {
            break report;
        }
        std::thread::sleep(Duration::from_secs(2));
    };
    assert!(seen_from_the_edge(&report), "{report}");
    // The edge probes `app`; the platform's own in-process prober adds `platform` once one of
    // its minutes is over, which depends on when this test started within the minute.
    assert!(
        report["targets"]
            .as_array()
            .is_some_and(|t| t.contains(&json!("app"))),
        "{report}"
    );
    let forged =
        json!({ "minute": "2026-01-01T00:00:00Z", "results": [{ "target": "app", "up": false }] });
    let (status, _) = call(
        "POST",
        &url(kernel::vantage::EDGE_PROBE_RESULTS),
        None,
        Some(&forged),
    );
    assert_eq!(status, 404, "a client reaches no internal route");

    // The WAF answers attacks at the edge.
    let (status, problem) = call(
        "GET",
        &url("/api/x?id=1%27%20OR%20%271%27%3D%271"),
        None,
        None,
    );
    assert_eq!(status, 403, "{problem}");
    assert!(
        problem["instance"]
            .as_str()
            .is_some_and(|i| i.starts_with("req_"))
    );

    // A report goes through the edge, signed, to the function: 202 with a tracking id. Its free
    // text may quote attacks; a card number in it is removed before it leaves the edge.
    let report = json!({
        "description": "Your search takes ' OR 1=1 -- and <script>alert(1)</script>; I paid with 4111 1111 1111 1111",
        "affected_parties": "ACME", "personal_data_kind": "e-mail addresses", "scope": "all users",
        "impact_assessment": "high", "language": "en"
    });
    let (status, receipt) = call("POST", &url("/security/reports"), None, Some(&report));
    assert_eq!(status, 202, "{receipt}");
    let id = receipt["tracking_id"].as_str().expect("id").to_string();
    let secret = receipt["secret"].as_str().expect("secret").to_string();
    let (status, body) = call(
        "GET",
        &url(&format!("/security/reports/{id}/status")),
        Some(&secret),
        None,
    );
    assert_eq!((status, body["status"].clone()), (200, json!("received")));
    let security = token(w.data.path(), "security_officer");
    let (status, view) = call(
        "GET",
        &url(&format!("/api/reports/{id}")),
        Some(&security),
        None,
    );
    assert_eq!(status, 200, "{view}");
    let description = view["description"].as_str().expect("description");
    assert!(description.contains("[card number removed]") && !description.contains("4111"));
    assert!(
        description.contains("<script>alert(1)</script>"),
        "stored as written, sealed"
    );

    // A form post gets the confirmation page.
    let form_body = "description=Login+leaks+a+stack+trace&affected_parties=none&personal_data_kind=none&scope=one+page&impact_assessment=low&language=de";
    let mut confirmation = agent()
        .post(&url("/security/reports"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form_body)
        .expect("form post");
    assert_eq!(confirmation.status(), 200);
    let page = confirmation.body_mut().read_to_string().expect("html");
    assert!(
        page.contains("Vorgangsnummer") && page.contains("rep_"),
        "{page}"
    );
    // The status page, as a browser uses it: the id and the code in a form, the answer in words
    // (the JSON report above, read in German).
    let mut answer = agent()
        .post(&url("/security/reports/status"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(&format!(
            "tracking_id={id}&access_code={secret}&language=de"
        ))
        .expect("status form post");
    assert_eq!(answer.status(), 200);
    let page = answer.body_mut().read_to_string().expect("html");
    assert!(
        page.contains(&format!(
            "Ihre Sicherheitsmeldung <code>{id}</code> ist eingegangen."
        )),
        "{page}"
    );

    // The token gate: nothing under /api/ without a valid token.
    let (status, _) = call("GET", &url("/api/incidents"), None, None);
    assert_eq!(status, 401);
    let (status, list) = call("GET", &url("/api/incidents"), Some(&security), None);
    assert_eq!(status, 200, "{list}");

    // Rate limiting per client and route class: the sign-in class allows bursts of 5.
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..7 {
        let response = agent()
            .post(&url("/auth/sign-in"))
            .header("Content-Type", "application/json")
            .send(r#"{"email":"jane@acme.example","password":"wrong"}"#)
            .expect("sign-in");
        if response.status() == 429 {
            retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap_or_default().to_string());
        }
        statuses.push(response.status().as_u16());
    }
    assert!(statuses[..5].iter().all(|s| *s != 429), "{statuses:?}");
    assert_eq!(statuses[6], 429, "{statuses:?}");
    assert!(retry_after.is_some_and(|r| r.parse::<u64>().is_ok_and(|s| s > 0)));

    // Last, because `wrangler dev` drains a refused upload slowly (a request right after it once
    // waited more than 30 s on a loaded machine): a chunked body (no Content-Length) is read,
    // up to the limit; one byte over it is refused with 413 (the reader's unit tests show it
    // stops pulling past the limit).
    let chunked = |body: Vec<u8>| {
        agent()
            .post(&url("/security/reports"))
            .header("Content-Type", "application/json")
            .send(ureq::SendBody::from_owned_reader(std::io::Cursor::new(
                body,
            )))
            .expect("chunked post")
    };
    let mut accepted = chunked(serde_json::to_vec(&report).expect("json"));
    assert_eq!(
        accepted.status(),
        202,
        "{}",
        accepted.body_mut().read_to_string().unwrap_or_default()
    );
    let mut over = b"{\"description\":\"".to_vec();
    over.resize(1024 * 1024 + 1, b'a');
    let mut refused = chunked(over);
    assert_eq!(refused.status(), 413);
    let problem: serde_json::Value =
        serde_json::from_str(&refused.body_mut().read_to_string().expect("problem")).expect("json");
    assert_eq!(problem["status"], 413, "{problem}");
}

/// Needs no Worker: the origin-only server alone refuses what the edge did not sign.
#[test]
fn unsigned_requests_never_reach_the_functions() {
    let data = common::private_dir();
    let mut origin = Command::new(BIN)
        .args(["serve", "--origin-only", "--addr", "127.0.0.1:0", "--data"])
        .arg(data.path())
        .env("REGROOTER_ORIGIN_SECRET", ORIGIN_SECRET)
        .env_remove("REGROOTER_ENV")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("origin");
    let mut line = String::new();
    BufReader::new(origin.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("url");
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url")
        .to_string();
    let (status, problem) = call("GET", &format!("{base}/healthz"), None, None);
    let _ = origin.kill();
    let _ = origin.wait();
    assert_eq!(status, 403, "{problem}");
    assert_eq!(problem["type"], "/problems/forbidden");
}
