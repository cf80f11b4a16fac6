//! ARCHITECTURE.md's crate table is the dependency rule: each crate depends on exactly the crates
//! of ours its last column names (read from the manifests through `cargo metadata`).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Each workspace crate and the workspace crates it depends on (normal dependencies).
fn manifest_edges() -> BTreeMap<String, BTreeSet<String>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let packages = meta["packages"].as_array().expect("packages");
    let ours: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|name| ours.contains(*name))
                .map(str::to_string)
                .collect();
            (p["name"].as_str().expect("name").to_string(), deps)
        })
        .collect()
}

/// The table under "Crates and what each may depend on": crate → the names in backticks of its
/// last column (external crates named there are left to the caller to ignore).
fn documented_edges() -> BTreeMap<String, BTreeSet<String>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md");
    let section = doc
        .split("## Crates and what each may depend on")
        .nth(1)
        .expect("the crates section");
    let backticked = |cell: &str| -> BTreeSet<String> {
        cell.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    section
        .lines()
        .skip_while(|l| !l.starts_with("| crate |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|row| {
            let cells: Vec<&str> = row.trim_matches('|').split('|').collect();
            let name = backticked(cells[0]).into_iter().next().expect("crate name");
            (name, backticked(cells[cells.len() - 1]))
        })
        .collect()
}

#[test]
fn every_crate_depends_on_exactly_the_crates_the_architecture_names() {
    let actual = manifest_edges();
    let documented = documented_edges();
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "the table lists every crate of the workspace, and only those"
    );
    for (name, deps) in &actual {
        let named: BTreeSet<String> = documented[name]
            .iter()
            .filter(|n| actual.contains_key(*n))
            .cloned()
            .collect();
        assert_eq!(
            &named, deps,
            "{name}: ARCHITECTURE.md names these crates of ours"
        );
    }
    // The edge's promise beside the table: no area crate, so no Argon2 or TOTP in the Worker.
    for area in ["incidents", "retention", "sla", "billing", "auth", "trust"] {
        assert!(!actual["edge"].contains(area), "the edge depends on {area}");
    }
}
