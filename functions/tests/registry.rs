//! The registry (`functions/functions.json`) holds the edge, the routers, the binaries, the
//! schedules and the Worker's bindings together: every route of every function's router is
//! sent by the edge to exactly that function, no registry entry is dead, every router is
//! deployed once, and every function is a binary.

// A test: a failed step fails it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use edge::pipeline::{origin_binding, origin_binding_for};
use functions::entry::{HTTP_FUNCTIONS, JOB_FUNCTIONS, ROUTERS};
use functions::routes::{router_named, routes_named};
use kernel::registry::{Kind, Registry, covers};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A concrete path for a route pattern (`/api/tenants/{tenant}` → `/api/tenants/x`).
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn every_route_reaches_the_function_that_serves_it() {
    let registry = Registry::embedded().unwrap();
    let mut checked = 0;
    for (function, _) in registry.of_kind(Kind::Http) {
        let routes = routes_named(function).unwrap();
        for pattern in routes.paths() {
            if *pattern == "/healthz" {
                continue; // every function serves it; the edge does not forward it by name
            }
            let path = concrete(pattern);
            assert_eq!(
                registry.function_for(&path),
                function,
                "{pattern} is served by {function} but the edge sends it elsewhere"
            );
            assert_eq!(origin_binding_for(&path).unwrap(), origin_binding(function));
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} routes were checked");
}

#[test]
fn no_registry_route_is_dead() {
    let registry = Registry::embedded().unwrap();
    for (function, entry) in registry.of_kind(Kind::Http) {
        let paths: Vec<String> = routes_named(function)
            .unwrap()
            .paths()
            .iter()
            .map(|p| concrete(p))
            .collect();
        for route in &entry.routes {
            assert!(
                paths.iter().any(|p| covers(route, p)),
                "{function}: route {route} covers none of its router's paths {paths:?}"
            );
        }
    }
}

#[test]
fn every_router_is_deployed_exactly_once() {
    let registry = Registry::embedded().unwrap();
    let mut deployed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (function, entry) in registry.of_kind(Kind::Http) {
        for router in &entry.routers {
            assert!(
                router_named(router).is_some(),
                "{function}: unknown router {router}"
            );
            deployed.entry(router.as_str()).or_default().push(function);
        }
    }
    for (name, _) in ROUTERS {
        match deployed.get(name).map(Vec::as_slice) {
            Some([_]) => {}
            other => panic!("router {name} must be in exactly one function, is in {other:?}"),
        }
    }
    assert_eq!(deployed.len(), ROUTERS.len(), "{deployed:?}");
    // A router module the registry does not name would be served by no function.
    let modules: BTreeSet<String> = std::fs::read_dir(repo().join("functions/src/routes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .filter(|m| m != "mod" && m != "health")
        .collect();
    let named: BTreeSet<String> = ROUTERS.iter().map(|(n, _)| n.replace('-', "_")).collect();
    assert_eq!(
        modules, named,
        "every routes/ module is a router the registry deploys"
    );
}

#[test]
fn the_generated_entries_are_the_registry() {
    let registry = Registry::embedded().unwrap();
    let schedules = functions::schedule::all().unwrap();
    let http: BTreeMap<&str, Vec<&str>> = HTTP_FUNCTIONS
        .iter()
        .map(|f| (f.name, f.routers.iter().map(|(r, _)| *r).collect()))
        .collect();
    let expected: BTreeMap<&str, Vec<&str>> = registry
        .of_kind(Kind::Http)
        .map(|(name, f)| (name, f.routers.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(http, expected);
    let jobs: BTreeMap<&str, BTreeSet<&str>> = JOB_FUNCTIONS
        .iter()
        .map(|f| (f.name, f.jobs.iter().map(|(j, _)| *j).collect()))
        .collect();
    let mut expected: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, _) in registry.of_kind(Kind::Job) {
        expected.insert(name, BTreeSet::new());
    }
    for s in &schedules {
        expected
            .entry(s.function.as_str())
            .or_default()
            .insert(s.job.as_str());
    }
    assert_eq!(jobs, expected);
}

#[test]
fn the_functions_are_the_binaries() {
    let registry = Registry::embedded().unwrap();
    let bins: BTreeSet<String> = std::fs::read_dir(repo().join("functions/src/bin"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let names: BTreeSet<String> = registry.functions.keys().cloned().collect();
    assert_eq!(names, bins);
    // Each binary hands its own generated entry (routers or jobs, and the adapters its flags
    // link) to the start-up.
    for (name, entry) in &registry.functions {
        let source =
            std::fs::read_to_string(repo().join(format!("functions/src/bin/{name}.rs"))).unwrap();
        let constant = name.replace('-', "_").to_uppercase();
        let call = match entry.kind {
            Kind::Http => format!("serve_http(functions::entry::{constant})"),
            Kind::Job => format!("run_jobs(functions::entry::{constant})"),
        };
        assert!(
            source.contains(&call),
            "functions/src/bin/{name}.rs must call {call}"
        );
    }
    let senders: Vec<&str> = registry
        .functions
        .iter()
        .filter(|(_, f)| f.mail)
        .map(|(name, _)| name.as_str())
        .collect();
    // The notice is sent where staff press the button; the drain runs with the deadline watch.
    assert_eq!(senders, ["deadline-watch", "incidents"]);
    let flagged = |flag: fn(&kernel::registry::FunctionEntry) -> bool| -> Vec<&str> {
        registry
            .functions
            .iter()
            .filter(|(_, f)| flag(f))
            .map(|(name, _)| name.as_str())
            .collect()
    };
    // Credits reach Stripe only from the credit-application job: one function holds the key.
    assert_eq!(flagged(|f| f.stripe), ["sla-probe"]);
    assert_eq!(flagged(|f| f.probes), ["sla-probe"]);
    // The generated entries link exactly what the flags say.
    let links = |name: &str| {
        HTTP_FUNCTIONS
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.links)
            .or_else(|| {
                JOB_FUNCTIONS
                    .iter()
                    .find(|f| f.name == name)
                    .map(|f| f.links)
            })
            .unwrap()
    };
    for (name, entry) in &registry.functions {
        let linked = links(name);
        assert_eq!(linked.mail.is_some(), entry.mail, "{name}: mail");
        assert_eq!(linked.stripe.is_some(), entry.stripe, "{name}: stripe");
        assert_eq!(linked.probes.is_some(), entry.probes, "{name}: probes");
    }
}

#[test]
fn every_job_function_has_jobs_and_every_job_a_job_function() {
    let registry = Registry::embedded().unwrap();
    let schedules = functions::schedule::all().unwrap();
    assert!(!schedules.is_empty());
    for schedule in &schedules {
        let entry = registry.functions.get(&schedule.function);
        assert_eq!(
            entry.map(|f| f.kind),
            Some(Kind::Job),
            "job {} runs on {}, which is not a job function",
            schedule.job,
            schedule.function
        );
    }
    for (function, _) in registry.of_kind(Kind::Job) {
        assert!(
            schedules.iter().any(|s| s.function == function),
            "job function {function} runs no job"
        );
    }
    let handlers = functions::jobs::handlers();
    let scheduled: BTreeSet<&str> = schedules.iter().map(|s| s.job.as_str()).collect();
    let handled: BTreeSet<&str> = handlers.keys().map(String::as_str).collect();
    assert_eq!(
        scheduled, handled,
        "every scheduled job has a handler and vice versa"
    );
}

/// The `ORIGIN_*` bindings of each section of edge/wrangler.toml.
fn wrangler_origins() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(repo().join("edge/wrangler.toml")).unwrap();
    let mut sections: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut section = String::from("(top)");
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if let Some((name, _)) = line.split_once('=')
            && name.trim().starts_with("ORIGIN_")
        {
            sections
                .entry(section.clone())
                .or_default()
                .insert(name.trim().to_string());
        }
    }
    sections
}

#[test]
fn the_worker_has_a_url_for_every_http_function_in_every_environment() {
    let registry = Registry::embedded().unwrap();
    let expected: BTreeSet<String> = registry
        .of_kind(Kind::Http)
        .map(|(name, _)| origin_binding(name))
        .collect();
    let sections = wrangler_origins();
    assert_eq!(
        sections.len(),
        4,
        "vars, env.dev, env.staging, env.production: {sections:?}"
    );
    for (section, origins) in sections {
        assert_eq!(origins, expected, "[{section}]");
    }
}

/// The OpenAPI document's operations, as (path, method, operation).
fn documented(document: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    operations
}

/// What `GET /api/openapi.json` serves is the document the routers make now: regenerate it with
/// `cargo run -q -- openapi > functions/openapi.json` when a route changes.
#[test]
fn the_served_openapi_document_is_the_routers_own() {
    let made = functions::openapi::to_json().unwrap();
    assert!(
        functions::openapi::COMMITTED == made,
        "functions/openapi.json is stale: run `cargo run -q -- openapi > functions/openapi.json`"
    );
    let document: serde_json::Value = serde_json::from_str(&made).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
}

/// Every route of every router is in the document with at least one operation, and the
/// document has no path that no router serves. The only routes left out are the "no such page"
/// catch-alls (`{*rest}`), which are not operations.
#[test]
fn every_route_of_every_router_is_in_the_openapi_document() {
    let document: serde_json::Value =
        serde_json::from_str(&functions::openapi::to_json().unwrap()).unwrap();
    let documented_paths: BTreeSet<String> = document["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let mut served = BTreeSet::new();
    let routers = ROUTERS
        .iter()
        .map(|(name, build)| (*name, build()))
        .chain([("health", functions::routes::health::router())]);
    for (name, routes) in routers {
        assert!(!routes.paths().is_empty(), "{name} serves nothing");
        for path in routes.paths() {
            if path.contains("{*") {
                continue;
            }
            let item = document["paths"][path.as_str()].as_object();
            assert!(
                item.is_some_and(|item| !item.is_empty()),
                "{name}: {path} is not in the OpenAPI document"
            );
            served.insert(path.clone());
        }
    }
    assert_eq!(
        documented_paths, served,
        "documented paths no router serves"
    );
    assert!(served.contains(functions::openapi::PATH));
}

/// Each API operation names what it needs: the permissions (existing ones) or, for the few public
/// operations, nothing — and those are exactly the public ones listed here, so an operation
/// cannot lose its requirement in the document unnoticed. Under `/api/` every operation needs a
/// token at least (the edge admits no request there without one).
#[test]
fn every_api_operation_names_the_permission_it_needs() {
    let public: BTreeSet<(&str, &str)> = [
        ("/auth/sign-in", "post"),
        ("/auth/otp", "post"),
        ("/auth/refresh", "post"),
        ("/auth/sign-out", "post"),
        ("/auth/activate", "post"),
        ("/healthz", "get"),
        ("/stripe/webhook", "post"),
        ("/security/reports", "post"),
        ("/security/reports/{id}/status", "get"),
        ("/security/reports/status", "post"),
        ("/security/reports/status/messages", "post"),
        ("/.well-known/jwks.json", "get"),
        ("/.well-known/deletion-certificate-keys.json", "get"),
        ("/internal/sla/edge-minutes", "post"),
        ("/trust/statement.json", "get"),
        ("/trust/subprocessors.json", "get"),
        ("/trust/subprocessors.atom", "get"),
    ]
    .into_iter()
    .collect();
    let document: serde_json::Value =
        serde_json::from_str(&functions::openapi::to_json().unwrap()).unwrap();
    let mut open = BTreeSet::new();
    let mut with_permission = 0;
    for (path, method, operation) in documented(&document) {
        let tags = operation["tags"].as_array().unwrap();
        if tags.iter().any(|t| t.as_str().unwrap().ends_with("pages")) {
            continue;
        }
        let requirements = operation["security"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if requirements.is_empty() {
            open.insert((path.clone(), method.clone()));
            assert!(
                !path.starts_with("/api/"),
                "{method} {path}: the edge admits nobody without a token under /api/"
            );
        }
        for requirement in &requirements {
            for scope in requirement["bearer"].as_array().unwrap() {
                let permission = scope.as_str().unwrap();
                assert!(
                    permission.parse::<kernel::rbac::Permission>().is_ok(),
                    "{method} {path}: no permission {permission:?}"
                );
                with_permission += 1;
            }
        }
    }
    let open: BTreeSet<(&str, &str)> = open.iter().map(|(p, m)| (p.as_str(), m.as_str())).collect();
    assert_eq!(open, public, "operations open to anyone");
    assert!(with_permission > 50, "{with_permission}");
}
