//! Cold start of the Lambda zips: for each function, start its `bootstrap` as Lambda does
//! (against a stand-in Runtime API) and measure
//! * init: from exec to the first poll for an event (what Lambda reports as Init Duration),
//! * first invoke: one `GET /healthz` function URL event (HTTP functions),
//! * first sealed write (`incidents`): a security report taken right after, sealed under the
//!   platform's report key — through KMS (GenerateDataKey, or Decrypt of the stored key) with
//!   DynamoDB + KMS, through the local key-encryption key on the embedded build,
//! * peak resident memory (VmHWM),
//!
//! with DynamoDB + KMS clients — the deployed zips (`target/lambda`), when a moto server is given
//! (`REGROOTER_MOTO_ENDPOINT`) — and without AWS clients: the same functions built with the
//! embedded store (`target/lambda-embedded`), as `cargo lambda watch` runs them. Targets
//! (issue 3): zip < 5 MB; init < 20 ms without AWS clients, < 60 ms with.
//!
//! Build the zips first: `scripts/lambda-build` and `scripts/lambda-build --embedded`; then
//! `cargo bench -p functions --bench cold_start`. A missing zip stops the benchmark before it
//! measures anything (exit 2, naming every missing zip); each target is printed with whether it
//! was met (exit 1 when one was not). Init is judged by its median, as Lambda's Init Duration of
//! a typical cold start.

// A test or benchmark: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/runtime_api.rs"]
mod runtime_api;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runtime_api::{FakeRuntime, Outcome, function_url_get, peak_rss_kib, security_report_post};

/// Every function of the registry (`functions.json`), and whether it serves HTTP.
fn functions() -> Vec<(&'static str, bool)> {
    let http = functions::entry::HTTP_FUNCTIONS
        .iter()
        .map(|f| (f.name, true));
    let jobs = functions::entry::JOB_FUNCTIONS
        .iter()
        .map(|f| (f.name, false));
    http.chain(jobs).collect()
}
const ROUNDS: usize = 15;
/// The function whose first request after health seals a record (a security report).
const SEALS_FIRST: &str = "incidents";
const ZIP_LIMIT_BYTES: u64 = 5_000_000;
const INIT_TARGET_EMBEDDED: Duration = Duration::from_millis(20);
const INIT_TARGET_AWS: Duration = Duration::from_millis(60);

struct Sample {
    init: Duration,
    invoke: Option<Duration>,
    sealed_write: Option<Duration>,
    rss_kib: u64,
}

fn run_once(
    bootstrap: &Path,
    http: bool,
    seals: bool,
    dynamo: Option<&(String, String)>,
) -> Sample {
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
            .env("REGROOTER_JWKS", r#"{"keys":[]}"#)
            // The deployed zips link SES only (functions that mail need it configured).
            .env("REGROOTER_MAIL", "ses")
            .env("REGROOTER_SES_CONFIGURATION_SET", "regrooter-bench")
            .env("REGROOTER_MAIL_FROM", "security@notify.regrooter.test");
    }
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn bootstrap");
    let first_poll = runtime
        .wait_first_poll(Duration::from_secs(10))
        .unwrap_or_else(|| {
            panic!(
                "{} never polled for an event; its init error: {:?}",
                bootstrap.display(),
                runtime.init_error()
            )
        });
    let init = first_poll.duration_since(started);
    let invoke = http.then(|| {
        let sent = Instant::now();
        runtime.push("bench", function_url_get("/healthz"));
        match runtime.wait_outcome("bench", Duration::from_secs(10)) {
            Some(Outcome::Response(r)) if r["statusCode"] == 200 => sent.elapsed(),
            other => panic!("{}: unexpected outcome {other:?}", bootstrap.display()),
        }
    });
    let sealed_write = seals.then(|| {
        let sent = Instant::now();
        runtime.push("sealed", security_report_post());
        match runtime.wait_outcome("sealed", Duration::from_secs(30)) {
            Some(Outcome::Response(r)) if r["statusCode"] == 202 => sent.elapsed(),
            other => panic!(
                "{}: the report was not taken: {other:?}",
                bootstrap.display()
            ),
        }
    });
    let rss_kib = peak_rss_kib(child.id()).unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    Sample {
        init,
        invoke,
        sealed_write,
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
/// size (every zip was found before anything is measured).
fn unpack(zip_path: &Path, into: &Path) -> (PathBuf, u64) {
    let zip = std::fs::metadata(zip_path).expect("zip").len();
    std::fs::create_dir_all(into).expect("unpack folder");
    let status = Command::new("unzip")
        .args(["-q", "-o"])
        .arg(zip_path)
        .arg("-d")
        .arg(into)
        .status()
        .expect("unzip");
    assert!(status.success(), "cannot unpack {}", zip_path.display());
    (into.join("bootstrap"), zip)
}

/// Prints one target's verdict and returns whether it was met.
fn judge(what: &str, met: bool) -> bool {
    println!("target {what}: {}", if met { "met" } else { "NOT met" });
    met
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
    // Every zip, found before anything is measured: a table with holes would read as figures
    // for functions that were never started. The deployed zips are always weighed (the 5 MB
    // limit is theirs); they are started only with moto.
    let mut missing = Vec::new();
    let functions = functions();
    for (name, _) in &functions {
        for dir in [&embedded, &deployed] {
            let zip = dir.join(name).join("bootstrap.zip");
            if !zip.is_file() {
                missing.push(zip.display().to_string());
            }
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "missing zips — build them with scripts/lambda-build and scripts/lambda-build --embedded:"
        );
        for zip in missing {
            eprintln!("  {zip}");
        }
        std::process::exit(2);
    }
    let mut wanted = Vec::new();
    for (name, http) in &functions {
        wanted.push((
            *name,
            *http,
            "embedded",
            embedded.join(name).join("bootstrap.zip"),
        ));
        if moto.is_some() {
            wanted.push((
                *name,
                *http,
                "DynamoDB+KMS",
                deployed.join(name).join("bootstrap.zip"),
            ));
        }
    }
    println!(
        "| function | zip | store | init p50 | init p95 | first invoke p50 | first sealed write p50 | peak RSS |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    let unpacked = tempfile::tempdir().expect("temp dir");
    let mut met = true;
    let mut verdicts = Vec::new();
    for (name, http, label, zip_path) in &wanted {
        let (bootstrap, zip) = unpack(zip_path, &unpacked.path().join(label).join(name));
        let dynamo = if *label == "embedded" {
            None
        } else {
            moto.as_ref()
        };
        let seals = *name == SEALS_FIRST;
        let samples: Vec<Sample> = (0..ROUNDS)
            .map(|_| run_once(&bootstrap, *http, seals, dynamo))
            .collect();
        let inits: Vec<Duration> = samples.iter().map(|s| s.init).collect();
        let invokes: Vec<Duration> = samples.iter().filter_map(|s| s.invoke).collect();
        let sealed: Vec<Duration> = samples.iter().filter_map(|s| s.sealed_write).collect();
        let rss = samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        let median_or_dash = |values: Vec<Duration>| {
            if values.is_empty() {
                "—".to_string()
            } else {
                ms(percentile(values, 0.5))
            }
        };
        let init_p50 = percentile(inits.clone(), 0.5);
        println!(
            "| {name} | {:.2} MB | {label} | {} | {} | {} | {} | {:.1} MB |",
            zip as f64 / 1_000_000.0,
            ms(init_p50),
            ms(percentile(inits, 0.95)),
            median_or_dash(invokes),
            median_or_dash(sealed),
            rss as f64 / 1024.0
        );
        let limit = if dynamo.is_some() {
            INIT_TARGET_AWS
        } else {
            INIT_TARGET_EMBEDDED
        };
        verdicts.push((
            format!("{name} ({label}) init p50 {} < {}", ms(init_p50), ms(limit)),
            init_p50 < limit,
        ));
    }
    // Only the deployed zips are held to the size limit: the embedded ones never ship.
    for (name, _) in &functions {
        let zip = std::fs::metadata(deployed.join(name).join("bootstrap.zip"))
            .expect("zip")
            .len();
        verdicts.push((
            format!(
                "{name} deployed zip {:.2} MB < 5 MB",
                zip as f64 / 1_000_000.0
            ),
            zip < ZIP_LIMIT_BYTES,
        ));
    }
    println!();
    for (what, ok) in verdicts {
        met &= judge(&what, ok);
    }
    if !met {
        std::process::exit(1);
    }
}
