//! Starting the real `regrooter` binary for end-to-end tests.

pub mod crash;
pub mod gate;
pub mod incident;
pub mod stripe;
pub mod world;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_regrooter");

/// A timestamp written in RFC 3339.
pub fn ts(s: &str) -> kernel::time::Timestamp {
    s.parse().expect("timestamp")
}

/// A staff member with one role, signed in with password and TOTP.
pub fn staff_access(role: &str) -> kernel::rbac::Access {
    kernel::rbac::Access::resolve(
        kernel::rbac::Principal {
            subject: format!("{role}-1"),
            actor: kernel::rbac::Actor::Staff,
            roles: vec![role.to_string()],
            amr: vec!["pwd".into(), "otp".into()],
        },
        &[],
    )
}

/// A customer's user with one built-in role in `tenant`.
pub fn customer_access(tenant: &str, role: &str) -> kernel::rbac::Access {
    kernel::rbac::Access::resolve(
        kernel::rbac::Principal {
            subject: format!("{tenant}-{role}"),
            actor: kernel::rbac::Actor::Customer {
                tenant: kernel::ids::TenantId::new(tenant).expect("tenant"),
            },
            roles: vec![role.to_string()],
            amr: vec!["pwd".into()],
        },
        &[],
    )
}

/// The field pointers of a problem+json body's `errors`, in order.
pub fn pointers(problem: &serde_json::Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["pointer"].as_str().map(str::to_string))
        .collect()
}

/// A fresh directory only its owner may enter, as the platform requires of its data directory
/// (`tempfile` makes them 0755 here).
pub fn private_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .expect("private dir")
}

/// A running `regrooter serve`, stopped when dropped.
pub struct Platform {
    child: Child,
    pub base: String,
    pub data: tempfile::TempDir,
    pub startup: Duration,
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Platform {
    /// Starts the platform on a free port with a fresh data directory.
    pub fn start(extra_args: &[&str]) -> Self {
        Self::start_with_env(extra_args, &[])
    }

    /// Starts the platform with extra environment variables (e.g. Stripe settings).
    pub fn start_with_env(extra_args: &[&str], env: &[(&str, &str)]) -> Self {
        let data = private_dir();
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data.path())
            .args(extra_args)
            .env("RUST_LOG", "warn")
            .env_remove("REGROOTER_ENV")
            .env_remove("STRIPE_SECRET_KEY")
            .env_remove("STRIPE_WEBHOOK_SECRET")
            .env_remove("STRIPE_API_BASE")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn regrooter serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let startup = started.elapsed();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in '{line}'"))
            .to_string();
        Self {
            child,
            base,
            data,
            startup,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Moves the platform's manual clock (`{"to": …}` or `{"advance": …}`) and answers with
    /// what the platform says: the new time and the jobs that fired on the way.
    pub fn move_clock(&self, how: serde_json::Value) -> serde_json::Value {
        let (status, body) = call("POST", &self.url("/_dev/clock"), None, Some(&how));
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A development token signed with this platform's key.
    pub fn token(&self, args: &[&str]) -> String {
        let output = Command::new(BIN)
            .arg("token")
            .args(args)
            .arg("--data")
            .arg(self.data.path())
            .env_remove("REGROOTER_ENV")
            .output()
            .expect("regrooter token");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("utf8")
            .trim()
            .to_string()
    }
}

/// An HTTP agent that hands back 4xx/5xx responses instead of turning them into errors.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A liveness guard, not a speed check (speed is for the benchmarks): under a loaded CI
        // machine a request through `wrangler dev` right after a refused 1 MiB upload once took
        // longer than 10 s.
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A JSON call against the platform; returns status and body (problem documents included).
pub fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let agent = agent();
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = match body {
        Some(body) => agent.run(
            request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .expect("request"),
        ),
        None => agent.run(request.body(()).expect("request")),
    };
    let mut response = response.expect("http");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}

/// What `chains_end_at_their_records_heads` found: the chains checked against a record's head,
/// and those whose record is gone (deleted by retention, say), which only link.
#[derive(Debug)]
pub struct ChainCheck {
    pub with_head: std::collections::BTreeSet<String>,
    pub without_head: std::collections::BTreeSet<String>,
}

impl ChainCheck {
    /// The kinds of chain checked against a head: the chain names' prefixes (`tenant`, `hold`, …).
    pub fn kinds(&self) -> std::collections::BTreeSet<&str> {
        self.with_head
            .iter()
            .filter_map(|c| c.split(':').next())
            .collect()
    }
}

/// Every audit chain in the store links, and each whose record still exists ends at the head
/// the record keeps (`functions::audit::record_heads`, as `regrooter audit verify` checks it).
/// Then, for every such chain, its newest entry and its first are taken out of the store one at a
/// time: the check must name that chain — and only that one — broken, and the entry is put back.
/// So a chain cut at either end, or to nothing, is found for every kind of record there is.
pub async fn chains_end_at_their_records_heads(store: &dyn kernel::store::Store) -> ChainCheck {
    use kernel::audit::{chain_entries, verify_all_chains_to};
    use kernel::store::Condition;
    let heads = functions::audit::record_heads(store).await.expect("heads");
    let reports = verify_all_chains_to(store, &heads).await.expect("verify");
    let mut check = ChainCheck {
        with_head: Default::default(),
        without_head: Default::default(),
    };
    for report in &reports {
        assert!(report.broken.is_none(), "{report:?}");
        match heads.get(&report.chain) {
            Some(head) => {
                assert_eq!(head.seq, report.entries, "{}", report.chain);
                check.with_head.insert(report.chain.clone());
            }
            None => {
                check.without_head.insert(report.chain.clone());
            }
        }
    }
    for chain in &check.with_head {
        let entries = chain_entries(store, chain).await.expect("entries");
        let mut cuts = vec![entries.last().expect("an entry").clone()];
        if entries.len() > 1 {
            cuts.push(entries[0].clone());
        }
        for cut in cuts {
            let key = cut.key().expect("key");
            assert!(
                store.delete(&key, Condition::Always).await.expect("delete"),
                "{chain}: entry {} was there",
                cut.seq
            );
            let after = verify_all_chains_to(store, &heads).await.expect("verify");
            let broken: Vec<&str> = after
                .iter()
                .filter(|r| r.broken.is_some())
                .map(|r| r.chain.as_str())
                .collect();
            assert_eq!(
                broken,
                [chain.as_str()],
                "entry {} of {chain} taken out",
                cut.seq
            );
            store
                .put(cut.to_item().expect("item"), Condition::NotExists)
                .await
                .expect("put back");
        }
    }
    let whole = verify_all_chains_to(store, &heads).await.expect("verify");
    assert!(whole.iter().all(|r| r.broken.is_none()), "{whole:?}");
    check
}

/// Every file below `dir` (subfolders too) with its bytes. A file or folder that cannot be read
/// fails the test: a scan for what must not be stored may not skip anything silently.
pub fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                out.push((path, bytes));
            }
        }
    }
    out
}
