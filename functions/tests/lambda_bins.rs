//! The real Lambda binaries, started as AWS starts them: with `AWS_LAMBDA_RUNTIME_API` pointing
//! at a Runtime API (here a faithful stand-in) and the environment Terraform sets.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support::runtime_api::{FakeRuntime, Outcome, function_url_get, security_report_post};

const HTTP_FUNCTIONS: &[(&str, &str)] = &[
    ("incidents", env!("CARGO_BIN_EXE_incidents")),
    ("stripe-webhook", env!("CARGO_BIN_EXE_stripe-webhook")),
    ("auth", env!("CARGO_BIN_EXE_auth")),
    ("sla", env!("CARGO_BIN_EXE_sla")),
    ("portal", env!("CARGO_BIN_EXE_portal")),
    ("console", env!("CARGO_BIN_EXE_console")),
];

const JOB_FUNCTIONS: &[(&str, &str)] = &[
    ("deadline-watch", env!("CARGO_BIN_EXE_deadline-watch")),
    ("retention", env!("CARGO_BIN_EXE_retention")),
    ("sla-probe", env!("CARGO_BIN_EXE_sla-probe")),
];

/// A fresh data directory only its owner may enter, as the embedded store requires.
fn private_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .expect("private dir")
}

fn command(bin: &str, runtime: &FakeRuntime, data: &std::path::Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "test")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("REGROOTER_DATA", data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Runs a start that must be refused. A binary that starts instead would poll the Runtime API
/// forever, so it is killed after a while and the test fails saying so (rather than hanging).
fn refusal(mut cmd: Command, what: &str) -> std::process::Output {
    let mut child = cmd.spawn().expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().expect("wait");
            panic!(
                "{what} started instead of refusing: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("wait")
}

#[test]
fn every_function_refuses_to_start_outside_the_eu() {
    let runtime = FakeRuntime::start();
    let data = private_dir();
    for (name, bin) in HTTP_FUNCTIONS.iter().chain(JOB_FUNCTIONS) {
        for region in ["us-east-1", "eu-west-2", "eu-central-2"] {
            let mut cmd = command(bin, &runtime, data.path());
            cmd.env("AWS_REGION", region);
            let output = refusal(cmd, &format!("{name} in {region}"));
            assert_eq!(output.status.code(), Some(2), "{name} in {region}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                stderr.contains(&format!("refusing to start in AWS region '{region}'")),
                "{name}: {stderr}"
            );
        }
        let output = refusal(
            command(bin, &runtime, data.path()),
            &format!("{name} without a region"),
        );
        assert_eq!(output.status.code(), Some(2), "{name} without a region");
        assert!(String::from_utf8_lossy(&output.stderr).contains("AWS_REGION is not set"));
        // An allowed list that names a non-EU region is itself refused.
        let output = command(bin, &runtime, data.path())
            .env("AWS_REGION", "eu-central-1")
            .env("REGROOTER_ALLOWED_REGIONS", "eu-central-1,us-east-1")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&output.stderr)
                .contains("'us-east-1', which is not an EU region")
        );
    }
    assert!(
        runtime.wait_first_poll(Duration::from_millis(10)).is_none(),
        "nothing polled for work"
    );
}

#[test]
fn http_functions_answer_function_url_events_on_the_embedded_store() {
    for (name, bin) in HTTP_FUNCTIONS {
        let runtime = FakeRuntime::start();
        let data = private_dir();
        let mut child = command(bin, &runtime, data.path())
            .env("AWS_REGION", "eu-central-1")
            .spawn()
            .expect("spawn");
        runtime.push("r1", function_url_get("/healthz"));
        runtime.push("r2", function_url_get("/nope"));
        let outcome = runtime.wait_outcome("r1", Duration::from_secs(20));
        let missing = runtime.wait_outcome("r2", Duration::from_secs(20));
        let _ = child.kill();
        let _ = child.wait();
        let Some(Outcome::Response(response)) = outcome else {
            panic!("{name}: no response: {outcome:?}");
        };
        assert_eq!(response["statusCode"], 200, "{name}: {response}");
        let body: Value =
            serde_json::from_str(response["body"].as_str().expect("body")).expect("json");
        assert_eq!(body["status"], "ok");
        let Some(Outcome::Response(missing)) = missing else {
            panic!("{name}: no 404: {missing:?}");
        };
        assert_eq!(missing["statusCode"], 404);
        assert_eq!(
            missing["headers"]["content-type"],
            "application/problem+json"
        );
    }
}

#[test]
fn job_functions_run_their_own_jobs_and_refuse_every_other() {
    let schedules = functions::schedule::all().expect("schedules.json");
    for (name, bin) in JOB_FUNCTIONS {
        let runtime = FakeRuntime::start();
        let data = private_dir();
        let mut child = command(bin, &runtime, data.path())
            .env("AWS_REGION", "eu-central-1")
            .spawn()
            .expect("spawn");
        let at = "2026-11-27T10:00:00Z";
        let mut own = Vec::new();
        let mut others = Vec::new();
        for (n, schedule) in schedules.iter().enumerate() {
            let id = format!("job-{n}");
            runtime.push(&id, json!({"job": schedule.job, "scheduled_time": at}));
            if schedule.function == *name {
                own.push((id, schedule.job.clone()));
            } else {
                others.push((id, schedule.job.clone()));
            }
        }
        runtime.push("unknown", json!({"job": "not-a-job", "scheduled_time": at}));
        runtime.push(
            "malformed",
            json!({"job": "retention", "scheduled": "malformed"}),
        );
        let outcomes: Vec<(String, String, Option<Outcome>)> = own
            .iter()
            .chain(&others)
            .map(|(id, job)| {
                let outcome = runtime.wait_outcome(id, Duration::from_secs(20));
                (id.clone(), job.clone(), outcome)
            })
            .collect();
        let unknown = runtime.wait_outcome("unknown", Duration::from_secs(20));
        let malformed = runtime.wait_outcome("malformed", Duration::from_secs(20));
        let _ = child.kill();
        let _ = child.wait();
        assert!(!own.is_empty(), "{name} runs no job");
        assert!(!others.is_empty(), "no other function's job to refuse");
        for (id, job, outcome) in outcomes {
            if own.iter().any(|(own_id, _)| *own_id == id) {
                // Its own job, on an empty store: runs, with every adapter it needs linked.
                let Some(Outcome::Response(done)) = &outcome else {
                    panic!("{name}: its own job {job} did not run: {outcome:?}");
                };
                assert_eq!(done["job"], job.as_str(), "{name}: {done}");
                assert_eq!(done["scheduled_time"], at, "{name}: {done}");
            } else {
                let Some(Outcome::Error(error)) = &outcome else {
                    panic!("{name} ran {job}, another function's job: {outcome:?}");
                };
                assert!(
                    error
                        .to_string()
                        .contains(&format!("no job '{job}' in this function")),
                    "{name}: {error}"
                );
            }
        }
        assert!(
            matches!(unknown, Some(Outcome::Error(_))),
            "{name}: {unknown:?}"
        );
        assert!(
            matches!(malformed, Some(Outcome::Error(_))),
            "{name}: {malformed:?}"
        );
    }
}

#[test]
fn a_stripe_key_given_to_a_function_that_does_not_use_stripe_refuses_the_start() {
    let runtime = FakeRuntime::start();
    let data = private_dir();
    let registry = kernel::registry::Registry::embedded().expect("registry");
    for (name, bin) in HTTP_FUNCTIONS.iter().chain(JOB_FUNCTIONS) {
        if registry.functions[*name].stripe {
            continue;
        }
        let output = command(bin, &runtime, data.path())
            .env("AWS_REGION", "eu-central-1")
            .env("STRIPE_SECRET_KEY", "sk_test_aaaaaaaaaaaaaaaa")
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(&format!(
                "STRIPE_SECRET_KEY is set, but the registry does not let {name} use Stripe"
            )),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn in_staging_and_production_no_function_starts_without_the_origin_secret() {
    // Without the secret the origin lock could not tell the edge's requests from anyone's.
    for environment in ["staging", "production"] {
        for (name, bin) in HTTP_FUNCTIONS.iter().chain(JOB_FUNCTIONS) {
            let runtime = FakeRuntime::start();
            let data = private_dir();
            let output = command(bin, &runtime, data.path())
                .env("AWS_REGION", "eu-central-1")
                .env("REGROOTER_ENV", environment)
                .env("REGROOTER_PUBLIC_URL", "https://staging.regrooter.example")
                .env_remove("REGROOTER_ORIGIN_SECRET")
                .output()
                .expect("run");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{name} in {environment}: {stderr}"
            );
            assert!(
                stderr.contains("REGROOTER_ORIGIN_SECRET"),
                "{name} in {environment}: {stderr}"
            );
        }
    }
}

#[test]
fn in_staging_only_the_functions_that_send_mail_need_mail_settings() {
    let registry = kernel::registry::Registry::embedded().expect("registry");
    for (name, bin) in HTTP_FUNCTIONS.iter().chain(JOB_FUNCTIONS) {
        let runtime = FakeRuntime::start();
        let data = private_dir();
        // What Terraform gives every function; the mail settings go to the senders only.
        let mut cmd = command(bin, &runtime, data.path());
        cmd.env("AWS_REGION", "eu-central-1")
            .env("REGROOTER_ENV", "staging")
            .env(
                "REGROOTER_ORIGIN_SECRET",
                "0123456789abcdef0123456789abcdef",
            )
            .env("REGROOTER_PUBLIC_URL", "https://staging.regrooter.example");
        if registry.functions[*name].mail {
            let output = cmd.output().expect("run");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
            assert!(
                stderr.contains("REGROOTER_MAIL must be 'ses' or 'smtp'"),
                "{name}: {stderr}"
            );
        } else {
            let mut child = cmd.spawn().expect("spawn");
            let polled = runtime.wait_first_poll(Duration::from_secs(20));
            let _ = child.kill();
            let output = child.wait_with_output().expect("wait");
            assert!(
                polled.is_some(),
                "{name} did not start: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

const MAIL_TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:regrooter-lambda-mail-events";

/// An SNS delivery of one SES delivery event, as Lambda hands it to a subscribed function.
fn sns_delivery(topic: &str, message: &str) -> serde_json::Value {
    let ses = serde_json::json!({
        "eventType": "Delivery",
        "mail": { "timestamp": "2026-03-28T10:00:00.000Z", "messageId": "ses-1",
                  "tags": { "message": [message] } },
        "delivery": { "timestamp": "2026-03-28T10:00:02.000Z" }
    });
    serde_json::json!({ "Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": format!("{topic}:sub"),
        "Sns": { "Type": "Notification", "MessageId": "sns-1", "TopicArn": topic,
                 "Message": ses.to_string(), "Timestamp": "2026-03-28T10:00:03.000Z" }
    }]})
}

#[test]
fn moto_http_functions_run_on_dynamodb_and_kms() {
    let Ok(endpoint) = std::env::var("REGROOTER_MOTO_ENDPOINT") else {
        assert!(
            std::env::var("REGROOTER_REQUIRE_MOTO").is_err(),
            "moto required but not started"
        );
        eprintln!("skipping: no moto server (run scripts/test, which starts one)");
        return;
    };
    ureq::post(&format!("{endpoint}/moto-api/reset"))
        .send_empty()
        .expect("reset moto");
    let setup = tokio::runtime::Runtime::new().expect("runtime");
    let key_id = setup.block_on(async {
        let aws = infra::aws::local_sdk_config(&endpoint, "eu-central-1").await;
        let clock = std::sync::Arc::new(kernel::time::SystemClock);
        infra::dynamodb::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            "regrooter-lambda",
            clock,
        )
        .create_table()
        .await
        .expect("table");
        let key = aws_sdk_kms::Client::new(&aws)
            .create_key()
            .send()
            .await
            .expect("key");
        key.key_metadata().expect("metadata").key_id().to_string()
    });

    // The incidents function on DynamoDB and KMS (moto), mailing through SES (on moto) and
    // accepting delivery events from its topic.
    let on_moto = |runtime: &FakeRuntime, data: &std::path::Path| {
        let mut cmd = command(HTTP_FUNCTIONS[0].1, runtime, data);
        cmd.env("AWS_REGION", "eu-central-1")
            .env("AWS_ENDPOINT_URL", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("REGROOTER_STORE", "dynamodb")
            .env("REGROOTER_TABLE", "regrooter-lambda")
            .env("REGROOTER_KMS_KEY_ID", &key_id)
            .env("REGROOTER_JWKS", r#"{"keys":[]}"#)
            .env("REGROOTER_MAIL", "ses")
            .env("REGROOTER_SES_CONFIGURATION_SET", "regrooter-lambda")
            .env("REGROOTER_MAIL_FROM", "security@notify.regrooter.test")
            .env("REGROOTER_MAIL_EVENTS_TOPIC", MAIL_TOPIC);
        cmd
    };
    let runtime = FakeRuntime::start();
    let data = private_dir();
    let mut child = on_moto(&runtime, data.path()).spawn().expect("spawn");
    runtime.push("r1", function_url_get("/healthz"));
    let outcome = runtime.wait_outcome("r1", Duration::from_secs(30));
    // The same function receives SES's delivery events from SNS: one for mail it never sent
    // is read and ignored; one from another topic is refused (the invocation fails).
    runtime.push("r2", sns_delivery(MAIL_TOPIC, "inc_x-nobody-1"));
    let from_topic = runtime.wait_outcome("r2", Duration::from_secs(30));
    runtime.push(
        "r3",
        sns_delivery(
            "arn:aws:sns:eu-central-1:123456789012:other",
            "inc_x-nobody-1",
        ),
    );
    let from_elsewhere = runtime.wait_outcome("r3", Duration::from_secs(30));
    // A security report is sealed: the first makes the platform's report key through KMS
    // (GenerateDataKey with the context {tenant, purpose}).
    runtime.push("r4", security_report_post());
    let sealed_first = runtime.wait_outcome("r4", Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    match outcome {
        Some(Outcome::Response(r)) => assert_eq!(r["statusCode"], 200, "{r}"),
        other => panic!("no response from incidents on DynamoDB: {other:?}"),
    }
    match from_topic {
        Some(Outcome::Response(r)) => {
            assert_eq!(r, serde_json::json!({ "recorded": [], "ignored": 1 }))
        }
        other => panic!("the delivery event was not handled: {other:?}"),
    }
    assert!(
        matches!(from_elsewhere, Some(Outcome::Error(_))),
        "{from_elsewhere:?}"
    );
    match sealed_first {
        Some(Outcome::Response(r)) => assert_eq!(r["statusCode"], 202, "{r}"),
        other => panic!("the report was not taken: {other:?}"),
    }
    // A fresh container (nothing cached) seals the next report with the same key: it can only
    // unwrap it through KMS (Decrypt with the same context).
    let runtime = FakeRuntime::start();
    let mut child = on_moto(&runtime, data.path()).spawn().expect("spawn");
    runtime.push("r5", security_report_post());
    let sealed_again = runtime.wait_outcome("r5", Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    match sealed_again {
        Some(Outcome::Response(r)) => assert_eq!(r["statusCode"], 202, "{r}"),
        other => panic!("the second container did not take the report: {other:?}"),
    }
    let report_keys: Vec<String> = setup.block_on(async {
        let aws = infra::aws::local_sdk_config(&endpoint, "eu-central-1").await;
        let store = infra::dynamodb::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            "regrooter-lambda",
            std::sync::Arc::new(kernel::time::SystemClock),
        );
        kernel::store::query_all(&store, kernel::store::Query::partition("PLATFORM"))
            .await
            .expect("keys")
            .into_iter()
            .filter(|item| item.key.sk.starts_with("KEY#reports#"))
            .map(|item| serde_json::Value::Object(item.data).to_string())
            .collect()
    });
    assert_eq!(
        report_keys.len(),
        1,
        "one report key, reused: {report_keys:?}"
    );
    assert!(
        report_keys[0].contains(&key_id),
        "wrapped by the KMS key: {}",
        report_keys[0]
    );
    // Missing configuration is refused at start.
    let output = command(HTTP_FUNCTIONS[0].1, &FakeRuntime::start(), data.path())
        .env("AWS_REGION", "eu-central-1")
        .env("REGROOTER_STORE", "dynamodb")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("REGROOTER_TABLE is required"));
}

#[test]
fn the_origin_lock_refuses_requests_the_edge_did_not_sign() {
    let secret = "an-origin-secret-of-at-least-32-characters";
    let runtime = FakeRuntime::start();
    let data = private_dir();
    let mut child = command(HTTP_FUNCTIONS[0].1, &runtime, data.path())
        .env("AWS_REGION", "eu-central-1")
        .env("REGROOTER_ORIGIN_SECRET", secret)
        .spawn()
        .expect("spawn");
    let now = kernel::time::Clock::now(&kernel::time::SystemClock);
    let no_headers = [vec![], vec![], vec![]];
    let healthz = kernel::origin_lock::SignedRequest::new("GET", "/healthz", &no_headers, b"");
    let mut signed = function_url_get("/healthz");
    signed["headers"]["x-regrooter-origin"] =
        json!(kernel::origin_lock::sign(secret.as_bytes(), &healthz, now));
    let mut forged = function_url_get("/healthz");
    forged["headers"]["x-regrooter-origin"] = json!(kernel::origin_lock::sign(
        b"not-the-secret-but-long-enough-xxxxx",
        &healthz,
        now
    ));
    let old = now
        .checked_sub(kernel::time::SignedDuration::from_mins(6))
        .expect("ts");
    let mut replayed = function_url_get("/healthz");
    replayed["headers"]["x-regrooter-origin"] =
        json!(kernel::origin_lock::sign(secret.as_bytes(), &healthz, old));
    runtime.push("unsigned", function_url_get("/healthz"));
    runtime.push("signed", signed.clone());
    runtime.push("forged", forged);
    runtime.push("replayed", replayed);
    runtime.push("again", signed);
    let status = |id: &str| match runtime.wait_outcome(id, Duration::from_secs(20)) {
        Some(Outcome::Response(r)) => r["statusCode"].as_u64(),
        other => panic!("{id}: {other:?}"),
    };
    let results = [
        status("unsigned"),
        status("signed"),
        status("forged"),
        status("replayed"),
        status("again"),
    ];
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        results,
        [Some(403), Some(200), Some(403), Some(403), Some(403)],
        "unsigned, signed, forged, expired, the signed one again"
    );
}
