//! Cold start of the Lambda zips: for each function, start its `bootstrap` as Lambda does
//! (against a stand-in Runtime API) and measure
//! * init: from exec to the first poll for an event (what Lambda reports as Init Duration),
//! * first invoke: one `GET /healthz` function URL event (HTTP functions),
//! * peak resident memory (VmHWM),
//!
//! with DynamoDB + KMS clients — the deployed zips (`target/lambda`), when a moto server is given
//! (`REGROOTER_MOTO_ENDPOINT`) — and without AWS clients: the same functions built with the
//! embedded store (`target/lambda-embedded`), as `cargo lambda watch` runs them. Targets
//! (issue 3): zip < 5 MB; init < 20 ms without AWS clients, < 60 ms with.
//!
//! Build the zips first: `scripts/lambda-build` and `scripts/lambda-build --embedded`; then
//! `cargo bench -p functions --bench cold_start`.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/runtime_api.rs"]
mod runtime_api;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runtime_api::{FakeRuntime, Outcome, function_url_get, peak_rss_kib};

const FUNCTIONS: &[(&str, bool)] = &[
    ("incidents", true),
    ("stripe-webhook", true),
    ("auth", true),
    ("sla", true),
    ("deadline-watch", false),
    ("retention", false),
    ("sla-probe", false),
];
const ROUNDS: usize = 15;

struct Sample {
    init: Duration,
    invoke: Option<Duration>,
    rss_kib: u64,
}

fn run_once(bootstrap: &Path, http: bool, dynamo: Option<&(String, String)>) -> Sample {
    let runtime = FakeRuntime::start();
    // Only its owner may enter a data directory (the embedded store refuses others').
    let data = {
        use std::os::unix::fs::PermissionsExt;
        tempfile::Builder::new()
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()
            .expect("data dir")
    };
    let mut cmd = Command::new(bootstrap);
    cmd.env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.api())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "eu-central-1")
        .env("REGROOTER_DATA", data.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some((endpoint, key)) = dynamo {
        cmd.env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("REGROOTER_STORE", "dynamodb")
            .env("REGROOTER_TABLE", "regrooter-bench")
            .env("REGROOTER_KMS_KEY_ID", key)
            .env("REGROOTER_JWKS", r#"{"keys":[]}"#);
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn bootstrap");
    let first_poll = runtime
        .wait_first_poll(Duration::from_secs(10))
        .expect("the function never polled for an event");
    let init = first_poll.duration_since(started);
    let invoke = http.then(|| {
        let sent = Instant::now();
        runtime.push("bench", function_url_get("/healthz"));
        match runtime.wait_outcome("bench", Duration::from_secs(10)) {
            Some(Outcome::Response(r)) if r["statusCode"] == 200 => sent.elapsed(),
            other => panic!("{}: unexpected outcome {other:?}", bootstrap.display()),
        }
    });
    let rss_kib = peak_rss_kib(child.id()).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    Sample {
        init,
        invoke,
        rss_kib,
    }
}

fn percentile(mut values: Vec<Duration>, p: f64) -> Duration {
    values.sort();
    let rank = ((values.len() as f64 - 1.0) * p).round() as usize;
    values[rank]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn moto_setup() -> Option<(String, String)> {
    let endpoint = std::env::var("REGROOTER_MOTO_ENDPOINT").ok()?;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let key = rt.block_on(async {
        let aws = infra::aws::local_sdk_config(&endpoint, "eu-central-1").await;
        let clock = std::sync::Arc::new(kernel::time::SystemClock);
        let store = infra::dynamodb::DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            "regrooter-bench",
            clock,
        );
        let _ = store.create_table().await;
        let key = aws_sdk_kms::Client::new(&aws)
            .create_key()
            .send()
            .await
            .expect("kms key");
        key.key_metadata().expect("metadata").key_id().to_string()
    });
    Some((endpoint, key))
}

/// A folder of zips under the workspace's `target/`, found from the package or the workspace root.
fn zip_dir(variable: &str, name: &str) -> PathBuf {
    let dir = std::env::var(variable)
        .map_or_else(|_| PathBuf::from("../target").join(name), PathBuf::from);
    if dir.exists() {
        dir
    } else {
        PathBuf::from("target").join(name)
    }
}

/// Unpacks a function's zip and returns its `bootstrap` (exactly what Lambda runs) and the zip's
/// size, or `None` when that zip has not been built.
fn unpack(zip_path: &Path, into: &Path) -> Option<(PathBuf, u64)> {
    let Ok(zip) = std::fs::metadata(zip_path).map(|m| m.len()) else {
        eprintln!(
            "{} missing: build it with scripts/lambda-build (--embedded for target/lambda-embedded)",
            zip_path.display()
        );
        return None;
    };
    std::fs::create_dir_all(into).expect("unpack folder");
    let status = Command::new("unzip")
        .args(["-q", "-o"])
        .arg(zip_path)
        .arg("-d")
        .arg(into)
        .status()
        .expect("unzip");
    assert!(status.success(), "cannot unpack {}", zip_path.display());
    Some((into.join("bootstrap"), zip))
}

fn main() {
    let deployed = zip_dir("REGROOTER_LAMBDA_DIR", "lambda");
    let embedded = zip_dir("REGROOTER_LAMBDA_EMBEDDED_DIR", "lambda-embedded");
    let moto = moto_setup();
    if moto.is_none() {
        eprintln!(
            "REGROOTER_MOTO_ENDPOINT not set: the deployed zips (DynamoDB + KMS) are skipped"
        );
    }
    println!("| function | zip | store | init p50 | init p95 | first invoke p50 | peak RSS |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    let unpacked = tempfile::tempdir().expect("temp dir");
    for (name, http) in FUNCTIONS {
        let mut modes = Vec::new();
        if let Some(unpacked) = unpack(
            &embedded.join(name).join("bootstrap.zip"),
            &unpacked.path().join("embedded").join(name),
        ) {
            modes.push(("embedded", unpacked, None));
        }
        if let Some(m) = &moto
            && let Some(unpacked) = unpack(
                &deployed.join(name).join("bootstrap.zip"),
                &unpacked.path().join("deployed").join(name),
            )
        {
            modes.push(("DynamoDB+KMS", unpacked, Some(m)));
        }
        for (label, (bootstrap, zip), dynamo) in modes {
            let samples: Vec<Sample> = (0..ROUNDS)
                .map(|_| run_once(&bootstrap, *http, dynamo))
                .collect();
            let inits: Vec<Duration> = samples.iter().map(|s| s.init).collect();
            let invokes: Vec<Duration> = samples.iter().filter_map(|s| s.invoke).collect();
            let rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
            println!(
                "| {name} | {:.2} MB | {label} | {} | {} | {} | {:.1} MB |",
                zip as f64 / 1_000_000.0,
                ms(percentile(inits.clone(), 0.5)),
                ms(percentile(inits, 0.95)),
                if invokes.is_empty() {
                    "—".to_string()
                } else {
                    ms(percentile(invokes, 0.5))
                },
                rss as f64 / 1024.0
            );
        }
    }
}
