//! End-to-end through `regrooter serve` on simulated time: a report comes in, is triaged into an
//! incident, assessed, and customers are told within 48 hours; the deadline watch alerts exactly
//! at 36 h and 48 h, once each; the audit trail catches tampering; customers never see reports.

use crate::common;

use common::incident::IncidentDraft;
use common::{BIN, Platform, call};
use serde_json::{Value, json};

const START: &str = "2026-03-27T09:00:00Z";

struct Actors {
    operator: String,
    security: String,
    dpo: String,
    acme_admin: String,
    globex_admin: String,
    initech_admin: String,
}

fn actors(p: &Platform) -> Actors {
    let at = ["--now", START, "--ttl", "720h"];
    let token = |role: &[&str]| p.token(&[role, &at[..]].concat());
    Actors {
        operator: token(&["--role", "operator", "--sub", "op-1"]),
        security: token(&["--role", "security_officer", "--sub", "sec-1"]),
        dpo: token(&["--role", "data_protection_officer", "--sub", "dpo-1"]),
        acme_admin: token(&[
            "--role",
            "customer_admin",
            "--tenant",
            "acme",
            "--sub",
            "acme-1",
        ]),
        globex_admin: token(&[
            "--role",
            "customer_admin",
            "--tenant",
            "globex",
            "--sub",
            "globex-1",
        ]),
        initech_admin: token(&[
            "--role",
            "customer_admin",
            "--tenant",
            "initech",
            "--sub",
            "initech-1",
        ]),
    }
}

fn advance(p: &Platform, by: &str) -> Value {
    p.move_clock(json!({ "advance": by }))
}

/// ACME GmbH, created by an operator, with its breach contact (customer notices go there).
fn acme_with_breach_contact(p: &Platform, operator: &str) {
    let (status, body) = call(
        "PUT",
        &p.url("/api/tenants/acme"),
        Some(operator),
        Some(&json!({ "name": "ACME GmbH", "contact_email": "privacy@acme.example" })),
    );
    assert_eq!(status, 200, "{body}");
}

/// Opens an incident from `draft` through the API (201 Created): its id and the staff view.
fn open_incident(p: &Platform, token: &str, draft: &Value) -> (String, Value) {
    let (status, view) = call("POST", &p.url("/api/incidents"), Some(token), Some(draft));
    assert_eq!(status, 201, "{view}");
    let id = view["id"].as_str().expect("id").to_string();
    (id, view)
}

fn report() -> Value {
    json!({
        "description": "Your export endpoint returns other customers' HR records. I tried ' OR 1=1 -- in the \
                        filter and got everything. Paid for a test with card 4111 1111 1111 1111.",
        "affected_parties": "ACME GmbH and Globex AG employees",
        "personal_data_kind": "names, e-mail addresses, salary bands",
        "scope": "about 140 people",
        "impact_assessment": "Colleagues' salaries exposed; phishing risk",
        "reporter_contact": "finder@example.org",
        "language": "en"
    })
}

#[test]
fn report_to_notification_with_deadline_alerts_and_audit() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let a = actors(&p);

    // Tenants with their breach contacts.
    for (id, name, email) in [
        ("acme", "ACME GmbH", "privacy@acme.example"),
        ("globex", "Globex AG", "dpo@globex.example"),
        ("initech", "Initech", "legal@initech.example"),
    ] {
        let (status, body) = call(
            "PUT",
            &p.url(&format!("/api/tenants/{id}")),
            Some(&a.operator),
            Some(&json!({ "name": name, "contact_email": email })),
        );
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["has_contact"], true);
    }

    // 1. The public reports; the card number never reaches the store.
    let (status, receipt) = call("POST", &p.url("/security/reports"), None, Some(&report()));
    assert_eq!(status, 202, "{receipt}");
    let report_id = receipt["tracking_id"].as_str().expect("id").to_string();
    let secret = receipt["secret"].as_str().expect("secret").to_string();
    let (status, body) = call(
        "GET",
        &p.url(&format!("/security/reports/{report_id}/status")),
        Some(&secret),
        None,
    );
    assert_eq!((status, body["status"].as_str()), (200, Some("received")));
    let (status, _) = call(
        "GET",
        &p.url(&format!("/security/reports/{report_id}/status")),
        Some("wrong"),
        None,
    );
    assert_eq!(status, 404);

    // Customers cannot read reports; the security team can, with the card number removed.
    let (status, problem) = call("GET", &p.url("/api/reports"), Some(&a.acme_admin), None);
    assert_eq!(status, 403, "{problem}");
    let (status, _) = call(
        "GET",
        &p.url(&format!("/api/reports/{report_id}")),
        Some(&a.acme_admin),
        None,
    );
    assert_eq!(status, 403);
    let (status, view) = call(
        "GET",
        &p.url(&format!("/api/reports/{report_id}")),
        Some(&a.security),
        None,
    );
    assert_eq!(status, 200, "{view}");
    let description = view["description"].as_str().expect("description");
    assert!(
        description.contains("[card number removed]") && !description.contains("4111"),
        "{description}"
    );
    // The edge took it out before forwarding; the report still counts it.
    assert_eq!(view["scrubbed_card_numbers"], 1, "{view}");
    assert!(
        description.contains("' OR 1=1 --"),
        "attack strings in report text are kept"
    );

    // 2. Triage into an incident: awareness now (t = 0). ACME and Globex are customers whose data
    // we process; the website's newsletter list is our own.
    let draft = IncidentDraft::new("HR export returned other tenants' records", START)
        .nature("A missing tenant filter in the HR export exposed records across tenants.")
        .categories(&["contact", "employment"])
        .people(120, 150)
        .records(300, 300)
        .consequences("Phishing, disclosure of salary bands.")
        .affecting("acme", "ACME HR records")
        .affecting("globex", "Globex HR records")
        .ours("website newsletter list")
        .triage();
    let (status, triaged) = call(
        "POST",
        &p.url(&format!("/api/reports/{report_id}/triage")),
        Some(&a.security),
        Some(&draft),
    );
    assert_eq!(status, 200, "{triaged}");
    let incident = triaged["triage"]["incident"]
        .as_str()
        .expect("incident id")
        .to_string();
    let (_, body) = call(
        "GET",
        &p.url(&format!("/security/reports/{report_id}/status")),
        Some(&secret),
        None,
    );
    assert_eq!(body["status"], "in_review");

    // 3. Assessment by the engine.
    let facts = json!({ "breach_types": ["confidentiality"], "data_categories": ["contact", "employment"],
                        "approx_data_subjects": 150, "exfiltration": "confirmed" });
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{incident}/assessment")),
        Some(&a.dpo),
        Some(&facts),
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["assessment"]["engine"]["risk"], "high");
    assert_eq!(
        view["assessment"]["effective"]["notify_supervisory_authority"],
        true
    );

    // Containment measure.
    let (status, _) = call(
        "POST",
        &p.url(&format!("/api/incidents/{incident}/measures")),
        Some(&a.security),
        Some(
            &json!({ "kind": "containment", "what": "Export endpoint disabled", "owner": "platform team", "status": "done" }),
        ),
    );
    assert_eq!(status, 200);

    // 4. 35h45: no alert yet. 36 h: the 12-hours-left alert for both customers, exactly at 36 h.
    advance(&p, "35h45m");
    let staff_view = |p: &Platform| {
        call(
            "GET",
            &p.url(&format!("/api/incidents/{incident}")),
            Some(&a.security),
            None,
        )
        .1
    };
    assert_eq!(staff_view(&p)["alerts"].as_array().map(Vec::len), Some(0));
    advance(&p, "15m");
    let view = staff_view(&p);
    let alerts = view["alerts"].as_array().expect("alerts").clone();
    assert_eq!(alerts.len(), 2, "{alerts:#?}");
    for alert in &alerts {
        assert_eq!(alert["kind"], "due_soon");
        assert_eq!(alert["raised_at"], "2026-03-28T21:00:00Z");
        assert_eq!(alert["due"], "2026-03-29T09:00:00Z");
    }

    // 5. At 40 h ACME is told (inside 48 h); Globex is not, yet.
    advance(&p, "4h");
    let (status, view) = call(
        "POST",
        &p.url(&format!(
            "/api/incidents/{incident}/notifications/customers"
        )),
        Some(&a.security),
        Some(&json!({ "tenants": ["acme"] })),
    );
    assert_eq!(status, 200, "{view}");
    let notice = &view["notices"][0];
    assert_eq!(
        notice["duty"],
        json!({ "kind": "customer", "tenant": "acme" })
    );
    assert_eq!(notice["sent_at"], "2026-03-29T01:00:00Z");
    let acme_deadline = view["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["duty"]["tenant"] == "acme")
        .expect("acme deadline")
        .clone();
    assert_eq!(acme_deadline["state"], "met_on_time");

    // The message, in German and English, with the page's four contents and the DPO contact.
    let outbox = p
        .data
        .path()
        .join("outbox")
        .join(format!("{incident}-acme-1.eml"));
    let message = std::fs::read_to_string(&outbox).expect("outbox file");
    for needle in [
        "To: privacy@acme.example",
        "Art und Umfang der Verletzung",
        "Nature and scope of the breach",
        "Export endpoint disabled (done)",
        "Technical and organisational improvements",
        "Changes to incident management",
        "Updates to processes",
        "datenschutz@regrooter.de",
        "between 120 and 150",
    ] {
        assert!(message.contains(needle), "missing {needle} in\n{message}");
    }

    // Customers see only their view, only of incidents that affect them.
    let (status, mine) = call(
        "GET",
        &p.url(&format!("/api/incidents/{incident}")),
        Some(&a.acme_admin),
        None,
    );
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["notified_within_deadline"], true);
    assert_eq!(mine["notified_at"], "2026-03-29T01:00:00Z");
    for internal in [
        "title",
        "assessment",
        "source_report",
        "data_sets",
        "alerts",
        "notices",
    ] {
        assert!(
            mine.get(internal).is_none(),
            "customer view leaks {internal}"
        );
    }
    let (_, globex) = call(
        "GET",
        &p.url(&format!("/api/incidents/{incident}")),
        Some(&a.globex_admin),
        None,
    );
    assert_eq!(globex["notified_at"], Value::Null);
    let (status, _) = call(
        "GET",
        &p.url(&format!("/api/incidents/{incident}")),
        Some(&a.initech_admin),
        None,
    );
    assert_eq!(
        status, 404,
        "an unaffected customer does not learn of the incident"
    );
    let (_, list) = call(
        "GET",
        &p.url("/api/incidents"),
        Some(&a.initech_admin),
        None,
    );
    assert_eq!(list, json!([]));
    let (_, list) = call("GET", &p.url("/api/incidents"), Some(&a.acme_admin), None);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["title"], Value::Null);
    assert_eq!(mine["customer_title"], Value::Null);
    // The notice as ACME received it, with where its delivery stands.
    let received = mine["notices_received"]
        .as_array()
        .expect("notices received");
    assert_eq!(received.len(), 1, "{mine}");
    assert!(
        received[0]["body"]
            .as_str()
            .is_some_and(|b| b.contains("Export endpoint disabled")),
        "{received:?}"
    );
    // Staff give the incident a title for customers; the internal one stays internal.
    let (status, _) = call(
        "PATCH",
        &p.url(&format!("/api/incidents/{incident}")),
        Some(&a.security),
        Some(&json!({ "customer_title": "Export of HR records" })),
    );
    assert_eq!(status, 200);
    let (_, list) = call("GET", &p.url("/api/incidents"), Some(&a.acme_admin), None);
    assert_eq!(list[0]["title"], "Export of HR records");
    let (_, mine) = call(
        "GET",
        &p.url(&format!("/api/incidents/{incident}")),
        Some(&a.acme_admin),
        None,
    );
    assert_eq!(mine["customer_title"], "Export of HR records");
    assert!(!mine.to_string().contains("other tenants' records"));

    // The authority and the data subjects (our own newsletter list) are told at 42 h.
    advance(&p, "2h");
    for duty in ["supervisory_authority", "data_subjects"] {
        let (status, body) = call(
            "POST",
            &p.url(&format!("/api/incidents/{incident}/notifications/recorded")),
            Some(&a.dpo),
            Some(
                &json!({ "duty": { "kind": duty }, "sent_at": "2026-03-29T03:00:00Z", "reference": "BfDI-2026-0042" }),
            ),
        );
        assert_eq!(status, 200, "{body}");
    }

    // 6. 48 h: the missed alert for Globex, exactly at 48 h; nothing for ACME.
    advance(&p, "6h");
    let view = staff_view(&p);
    let alerts = view["alerts"].as_array().expect("alerts");
    let missed: Vec<&Value> = alerts.iter().filter(|a| a["kind"] == "missed").collect();
    assert_eq!(missed.len(), 1, "{alerts:#?}");
    assert_eq!(
        missed[0]["duty"],
        json!({ "kind": "customer", "tenant": "globex" })
    );
    assert_eq!(missed[0]["raised_at"], "2026-03-29T09:00:00Z");

    // Days later: no alert repeats, and the met duties never alerted.
    advance(&p, "72h");
    let view = staff_view(&p);
    assert_eq!(
        view["alerts"].as_array().map(Vec::len),
        Some(3),
        "{:#?}",
        view["alerts"]
    );

    // 7. The audit trail is complete and intact.
    let (status, trail) = call(
        "GET",
        &p.url(&format!("/api/incidents/{incident}/audit")),
        Some(&a.dpo),
        None,
    );
    assert_eq!(status, 200, "{trail}");
    assert_eq!(trail["intact"], true);
    let actions: Vec<&str> = trail["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "incident.created",
            "assessment.engine",
            "measure.added",
            "deadline.alert",
            "notice.sent",
            // The title for customers, set after ACME was told.
            "incident.updated",
            "notice.sent",
            "notice.sent",
            "deadline.alert"
        ]
    );
    assert_eq!(trail["entries"][3]["actor"], "deadline-watch");
    let (status, _) = call(
        "GET",
        &p.url(&format!("/api/incidents/{incident}/audit")),
        Some(&a.acme_admin),
        None,
    );
    assert_eq!(status, 403);

    let verify = |data: &std::path::Path| {
        std::process::Command::new(BIN)
            .args(["audit", "verify", "--data"])
            .arg(data)
            .output()
            .expect("audit verify")
    };
    let ok = verify(p.data.path());
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(
        String::from_utf8_lossy(&ok.stdout).contains(&format!("ok      {incident} (9 entries)"))
    );

    // One statement on one entry of the incident's chain, straight in the database file.
    let edit_entry = |sql: &str, seq: &str| {
        let db = rusqlite::Connection::open(p.data.path().join("store.db")).expect("open db");
        let edited = db
            .execute(sql, rusqlite::params![format!("AUDIT#{incident}"), seq])
            .expect("edit");
        assert_eq!(edited, 1, "{sql}");
    };
    // `audit verify` fails saying `says`, and the API reports the chain broken at `seq`.
    let broken_at = |seq: u64, says: &str| {
        let broken = verify(p.data.path());
        assert!(!broken.status.success());
        let out = String::from_utf8_lossy(&broken.stdout);
        assert!(out.contains(says), "{out}");
        let (_, trail) = call(
            "GET",
            &p.url(&format!("/api/incidents/{incident}/audit")),
            Some(&a.dpo),
            None,
        );
        assert_eq!(trail["intact"], false, "{trail}");
        assert_eq!(trail["broken"]["seq"], seq, "{trail}");
    };

    // Someone deletes the newest entry: the chain still links, but the incident's own head
    // names entry 9, so both `audit verify` and the API say entries are missing.
    edit_entry(
        "DELETE FROM items WHERE pk = ?1 AND sk = ?2",
        "000000000009",
    );
    broken_at(
        9,
        &format!("BROKEN  {incident} at entry 9: entries 9 to 9 are missing"),
    );

    // Someone edits the third entry in the database file: `audit verify` names it.
    edit_entry(
        "UPDATE items SET data = json_set(data, '$.action', 'measure.removed') WHERE pk = ?1 AND sk = ?2",
        "000000000003",
    );
    broken_at(3, &format!("BROKEN  {incident} at entry 3"));
}

/// A draft that does not fit its schema in five places is refused naming all five, each where
/// the client wrote it (serde alone stops at the first).
#[test]
fn a_body_that_does_not_fit_names_every_misfit_at_once() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let draft = IncidentDraft::new("Lost laptop", START)
        .nature("An unencrypted laptop was stolen.")
        .people(10, 10)
        .records(10, 10)
        .consequences("Identity theft.")
        .ours("sales contacts")
        .set("title", json!(5))
        .set("breach_types", json!(["confidentiality", "fire"]))
        .set("approx_data_subjects", json!(true))
        .set("data_sets", json!([{ "name": 3, "role": "controller" }]))
        .set("severity", json!("high"))
        .json();
    let (status, problem) = call(
        "POST",
        &p.url("/api/incidents"),
        Some(&security),
        Some(&draft),
    );
    assert_eq!(status, 400, "{problem}");
    let mut named = common::pointers(&problem);
    named.sort();
    assert_eq!(
        named,
        [
            "/approx_data_subjects",
            "/breach_types/1",
            "/data_sets/0/name",
            "/severity",
            "/title"
        ],
        "{problem}"
    );
    let (status, list) = call("GET", &p.url("/api/incidents"), Some(&security), None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list, json!([]), "nothing was stored");
}

#[test]
fn bad_reports_get_problem_json_and_store_nothing() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let mut missing = report();
    missing.as_object_mut().expect("object").remove("scope");
    let mut wrong_type = report();
    wrong_type["description"] = json!(42);
    let mut unknown_enum = report();
    unknown_enum["language"] = json!("fr");
    let mut unknown_field = report();
    unknown_field["priority"] = json!("urgent");
    let mut blank = report();
    blank["impact_assessment"] = json!("   ");
    let mut too_long = report();
    too_long["reporter_contact"] = json!("x".repeat(400));
    for (body, pointer) in [
        (missing, "/scope"),
        (wrong_type, "/description"),
        (unknown_enum, "/language"),
        (unknown_field, "/priority"),
        (blank, "/impact_assessment"),
        (too_long, "/reporter_contact"),
    ] {
        // The intake allows a few reports per client every few minutes; stay under the limit.
        advance(&p, "4m");
        let (status, problem) = call("POST", &p.url("/security/reports"), None, Some(&body));
        assert_eq!(status, 400, "{pointer}: {problem}");
        assert_eq!(problem["type"], "/problems/validation-failed");
        assert!(
            problem["errors"]
                .as_array()
                .expect("errors")
                .iter()
                .any(|e| e["pointer"] == pointer),
            "{pointer}: {problem}"
        );
    }
    // Oversize and not JSON at all.
    let mut huge = report();
    huge["description"] = json!("x".repeat(200_000));
    advance(&p, "4m");
    let (status, problem) = call("POST", &p.url("/security/reports"), None, Some(&huge));
    assert!(status == 413 || status == 400, "{status} {problem}");
    advance(&p, "4m");
    let response = common::agent()
        .post(&p.url("/security/reports"))
        .header("Content-Type", "text/plain")
        .send("hello")
        .expect("call");
    assert_eq!(response.status(), 415);

    let (status, reports) = call("GET", &p.url("/api/reports"), Some(&security), None);
    assert_eq!(status, 200);
    assert_eq!(reports, json!([]), "nothing was stored");
    let db = rusqlite::Connection::open(p.data.path().join("store.db")).expect("db");
    let audit: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM items WHERE kind IN ('security_report', 'audit_entry')",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(audit, 0);
}

/// Without the permission to read incidents, an incident's id tells nothing: an existing and an
/// unknown one get the same 403 (it was 403 against 404, the record loaded before the check).
#[test]
fn whether_an_incident_exists_is_told_only_to_those_who_may_read_it() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let billing = p.token(&["--role", "billing_admin", "--now", START]);
    let draft = IncidentDraft::new("Lost laptop", START)
        .nature("An unencrypted laptop was stolen.")
        .people(10, 10)
        .records(10, 10)
        .consequences("Identity theft.")
        .ours("sales contacts")
        .json();
    let (id, _) = open_incident(&p, &security, &draft);
    let unknown = "inc_0190d0c2a4f87b3e9c1d2e3f4a5b6c7d";
    let (existing, first) = call(
        "GET",
        &p.url(&format!("/api/incidents/{id}")),
        Some(&billing),
        None,
    );
    let (missing, second) = call(
        "GET",
        &p.url(&format!("/api/incidents/{unknown}")),
        Some(&billing),
        None,
    );
    assert_eq!((existing, missing), (403, 403), "{first} {second}");
    assert_eq!(first["type"], second["type"]);
    let (status, _) = call(
        "GET",
        &p.url(&format!("/api/incidents/{unknown}")),
        Some(&security),
        None,
    );
    assert_eq!(
        status, 404,
        "who may read incidents learns that it does not exist"
    );
}

#[test]
fn staff_cannot_skip_the_lifecycle_or_close_with_duties_open() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let draft = IncidentDraft::new("Lost laptop", START)
        .breach_types(&["confidentiality", "availability"])
        .nature("An unencrypted laptop was stolen.")
        .people(10, 10)
        .records(10, 10)
        .consequences("Identity theft.")
        .ours("sales contacts")
        .json();
    let (id, _) = open_incident(&p, &security, &draft);
    let go = |to: &str| {
        call(
            "POST",
            &p.url(&format!("/api/incidents/{id}/status")),
            Some(&security),
            Some(&json!({ "to": to })),
        )
    };
    assert_eq!(go("closed").0, 409, "open cannot jump to closed");
    assert_eq!(go("contained").0, 200);
    assert_eq!(go("open").0, 409, "no way back");
    assert_eq!(go("resolved").0, 200);
    let (status, problem) = go("closed");
    assert_eq!(
        status, 409,
        "not assessed and the authority is owed a notification: {problem}"
    );
    let mut bad = draft.clone();
    bad["aware_at"] = json!("2026-03-20T00:00:00Z");
    bad["data_sets"] = json!([{ "name": "x", "role": "processor" }]);
    let (status, problem) = call(
        "POST",
        &p.url("/api/incidents"),
        Some(&security),
        Some(&bad),
    );
    assert_eq!(status, 400);
    let pointers = common::pointers(&problem);
    assert!(
        pointers.iter().any(|p| p == "/aware_at")
            && pointers.iter().any(|p| p == "/data_sets/0/tenant"),
        "{pointers:?}"
    );
}

#[test]
fn the_breach_register_lists_every_breach_notified_or_not_for_the_authority() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START, "--ttl", "12h"]);
    let dpo = p.token(&[
        "--role",
        "data_protection_officer",
        "--now",
        START,
        "--ttl",
        "12h",
    ]);
    let draft = |title: &str| {
        IncidentDraft::new(title, START)
            .nature("A laptop was stolen.")
            .categories(&["contact"])
            .people(10, 12)
            .records(10, 10)
            .consequences("Phishing.")
            .ours("sales contacts")
            .json()
    };
    let create = |title: &str| open_incident(&p, &security, &draft(title)).0;
    let told = create("Stolen laptop, authority notified");
    // A title a spreadsheet would run as a formula.
    let untold = create("=HYPERLINK(\"https://evil.example\")");
    advance(&p, "2h");
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{told}/notifications/recorded")),
        Some(&security),
        Some(&json!({
            "duty": { "kind": "supervisory_authority" },
            "sent_at": "2026-03-27T10:30:00Z",
            "reference": "LfD-2026-0042"
        })),
    );
    assert_eq!(status, 200, "{view}");
    // Assessed with only what the file says: whether the laptop was encrypted decides it, so the
    // decision waits for that, and the register says so.
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{untold}/assessment")),
        Some(&dpo),
        Some(&json!({})),
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["assessment"]["effective"]["provisional"], true,
        "{view}"
    );

    let (status, register) = call("GET", &p.url("/api/incidents/register"), Some(&dpo), None);
    assert_eq!(status, 200, "{register}");
    let entries = register.as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{register}");
    let entry = |id: &str| {
        entries
            .iter()
            .find(|e| e["incident"] == id)
            .unwrap_or_else(|| panic!("{id} in {register}"))
    };
    assert_eq!(entry(&told)["notified"], true);
    assert_eq!(
        entry(&told)["supervisory_authority_notified"],
        json!({ "at": "2026-03-27T10:30:00Z", "reference": "LfD-2026-0042" })
    );
    // The breach nobody was told of is in the register too, with its facts and effects.
    let quiet = entry(&untold);
    assert_eq!(quiet["notified"], false);
    assert_eq!(quiet["supervisory_authority_notified"], Value::Null);
    assert_eq!(quiet["nature_and_scope"], "A laptop was stolen.");
    assert_eq!(quiet["likely_consequences"], "Phishing.");
    assert_eq!(
        quiet["approx_data_subjects"],
        json!({ "min": 10, "max": 12 })
    );
    assert_eq!(quiet["our_roles"], json!(["controller"]));
    assert_eq!(quiet["decision_provisional"], true);
    assert!(
        quiet["decision_reasons"]
            .as_array()
            .and_then(|r| r.last())
            .and_then(Value::as_str)
            .is_some_and(|r| r.starts_with("Provisional:")),
        "{quiet}"
    );
    assert_eq!(entry(&told)["decision_provisional"], false, "not assessed");

    // The same as CSV, for the authority: a header and one row per breach; a cell that would
    // be a formula is neutralised.
    let mut reply = common::agent()
        .get(&p.url("/api/incidents/register?format=csv"))
        .header("Authorization", &format!("Bearer {dpo}"))
        .call()
        .expect("csv");
    assert_eq!(reply.status(), 200);
    assert_eq!(
        reply
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = reply.body_mut().read_to_string().expect("text");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header = rows.headers().expect("header").clone();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 2, "{text}");
    let row = |id: &str| {
        records
            .iter()
            .find(|r| &r[column("incident")] == id)
            .unwrap_or_else(|| panic!("{id} in {text}"))
    };
    assert_eq!(
        &row(&untold)[column("title")],
        "'=HYPERLINK(\"https://evil.example\")"
    );
    assert_eq!(&row(&untold)[column("notified")], "no");
    assert_eq!(&row(&untold)[column("approx_data_subjects")], "10–12");
    assert_eq!(&row(&untold)[column("decision_provisional")], "yes");
    assert_eq!(
        &row(&told)[column("supervisory_authority_reference")],
        "LfD-2026-0042"
    );
    assert_eq!(&row(&told)[column("notified")], "yes");

    // Staff only; a bad format is named.
    let customer = p.token(&[
        "--role",
        "customer_admin",
        "--tenant",
        "acme",
        "--now",
        "2026-03-27T11:00:00Z",
    ]);
    let (status, _) = call(
        "GET",
        &p.url("/api/incidents/register"),
        Some(&customer),
        None,
    );
    assert_eq!(status, 403);
    let (status, problem) = call(
        "GET",
        &p.url("/api/incidents/register?format=xlsx"),
        Some(&dpo),
        None,
    );
    assert_eq!(status, 400, "{problem}");
    assert_eq!(common::pointers(&problem), ["/format"]);
}

#[test]
fn a_significant_incident_under_nis2_runs_its_24_hour_72_hour_and_one_month_clocks() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = |now: &str| p.token(&["--role", "security_officer", "--now", now]);
    let draft = |nis2: bool| {
        IncidentDraft::new("Ransomware on the build servers", START)
            .breach_types(&["availability"])
            .nature("Build servers encrypted.")
            .people(0, 0)
            .records(0, 0)
            .consequences("Delayed releases.")
            .ours("build logs")
            .set("nis2_significant", json!(nis2))
            .json()
    };
    let (id, view) = open_incident(&p, &security(START), &draft(true));
    let deadline = |view: &Value, kind: &str| {
        view["deadlines"]
            .as_array()
            .expect("deadlines")
            .iter()
            .find(|d| d["duty"]["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("{kind} in {}", view["deadlines"]))
    };
    assert_eq!(
        deadline(&view, "nis2_early_warning")["due"],
        "2026-03-28T09:00:00Z"
    );
    assert_eq!(
        deadline(&view, "nis2_notification")["due"],
        "2026-03-30T09:00:00Z"
    );
    // A calendar month after the notification is due, in company time (CEST by then).
    assert_eq!(
        deadline(&view, "nis2_final_report")["due"],
        "2026-04-30T09:00:00Z"
    );

    // 13 hours on, the watch warns: the early warning is due in 11 hours.
    advance(&p, "13h");
    let now = "2026-03-27T22:00:00Z";
    let view = |now: &str| {
        let (status, view) = call(
            "GET",
            &p.url(&format!("/api/incidents/{id}")),
            Some(&security(now)),
            None,
        );
        assert_eq!(status, 200, "{view}");
        view
    };
    let alerts = view(now)["alerts"].clone();
    assert!(
        alerts
            .as_array()
            .expect("alerts")
            .iter()
            .any(|a| a["duty"]["kind"] == "nis2_early_warning" && a["kind"] == "due_soon"),
        "{alerts}"
    );
    let record = |now: &str, kind: &str, reference: &str| {
        let (status, body) = call(
            "POST",
            &p.url(&format!("/api/incidents/{id}/notifications/recorded")),
            Some(&security(now)),
            Some(&json!({ "duty": { "kind": kind }, "sent_at": now, "reference": reference })),
        );
        assert_eq!(status, 200, "{body}");
    };
    record(now, "nis2_early_warning", "BSI-EW-2026-17");
    // The notification goes out at 50 hours; the final report is due a month after it.
    advance(&p, "37h");
    let now = "2026-03-29T11:00:00Z";
    record(now, "nis2_notification", "BSI-N-2026-17");
    let after = view(now);
    assert_eq!(
        deadline(&after, "nis2_early_warning")["state"],
        "met_on_time"
    );
    assert_eq!(
        deadline(&after, "nis2_notification")["state"],
        "met_on_time"
    );
    let report = deadline(&after, "nis2_final_report");
    assert_eq!(report["due"], "2026-04-29T11:00:00Z");
    assert_eq!(report["state"], "pending");

    // Without the mark, none of NIS2's clocks runs.
    let (_, plain) = open_incident(&p, &security(now), &draft(false));
    let kinds: Vec<&str> = plain["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .filter_map(|d| d["duty"]["kind"].as_str())
        .collect();
    assert!(!kinds.iter().any(|k| k.starts_with("nis2")), "{kinds:?}");
}

#[test]
fn the_assessment_reads_the_incident_file_and_follows_its_changes() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let dpo = p.token(&["--role", "data_protection_officer", "--now", START]);
    let (id, _) = open_incident(
        &p,
        &security,
        &IncidentDraft::new("Misdirected export", START)
            .nature("An export went to the wrong customer.")
            .categories(&["contact"])
            .people(10, 12)
            .records(12, 12)
            .consequences("Unwanted mail.")
            .ours("newsletter list")
            .json(),
    );
    // Only what the file does not hold is typed: the rest is read from the file. (Every fact
    // the decision turns on is given, so that the category alone decides it.)
    let own = json!({
        "exfiltration": "confirmed", "encrypted_state_of_the_art": false,
        "recipient_trusted": false, "vulnerable_data_subjects": false
    });
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{id}/assessment")),
        Some(&dpo),
        Some(&own),
    );
    assert_eq!(status, 200, "{view}");
    let assessment = &view["assessment"];
    assert_eq!(
        assessment["from_file"],
        json!(["breach_types", "data_categories", "approx_data_subjects"])
    );
    assert_eq!(assessment["facts"]["data_categories"], json!(["contact"]));
    assert_eq!(
        assessment["facts"]["approx_data_subjects"], 12,
        "the upper end"
    );
    let engine = |categories: &[&str]| {
        let mut facts = own.clone();
        facts["breach_types"] = json!(["confidentiality"]);
        facts["data_categories"] = json!(categories);
        facts["approx_data_subjects"] = json!(12);
        let facts: incidents::Facts = serde_json::from_value(facts).expect("facts");
        serde_json::to_value(incidents::assess(&facts).expect("decision")).expect("json")
    };
    assert_eq!(assessment["engine"], engine(&["contact"]));
    assert_eq!(assessment["previous_engine"], Value::Null);

    // The file changes: the engine decides again on the new facts, and keeps what it said.
    let (status, view) = call(
        "PATCH",
        &p.url(&format!("/api/incidents/{id}")),
        Some(&security),
        Some(&json!({ "data_categories": ["contact", "health"] })),
    );
    assert_eq!(status, 200, "{view}");
    let assessment = &view["assessment"];
    assert_eq!(
        assessment["facts"]["data_categories"],
        json!(["contact", "health"])
    );
    assert_eq!(assessment["engine"], engine(&["contact", "health"]));
    assert_eq!(assessment["previous_engine"], engine(&["contact"]));
    assert_ne!(
        assessment["engine"]["risk"], assessment["previous_engine"]["risk"],
        "health data changes the risk"
    );
    // A fact given with the assessment does not follow the file.
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{id}/assessment")),
        Some(&dpo),
        Some(&json!({
            "data_categories": ["contact"], "exfiltration": "confirmed",
            "encrypted_state_of_the_art": false, "recipient_trusted": false,
            "vulnerable_data_subjects": false
        })),
    );
    assert_eq!(status, 200, "{view}");
    let (status, view) = call(
        "PATCH",
        &p.url(&format!("/api/incidents/{id}")),
        Some(&security),
        Some(&json!({ "data_categories": ["health"] })),
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        view["assessment"]["facts"]["data_categories"],
        json!(["contact"])
    );
    assert_eq!(view["assessment"]["previous_engine"], Value::Null);
}

#[test]
fn the_advice_follows_our_role_a_processor_tells_the_controller_not_the_authority() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let operator = p.token(&["--role", "operator", "--now", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let dpo = p.token(&["--role", "data_protection_officer", "--now", START]);
    acme_with_breach_contact(&p, &operator);
    let assessed = |data_sets: Value| {
        let (id, _) = open_incident(
            &p,
            &security,
            &IncidentDraft::new("Exposed export", START)
                .nature("An export was readable without sign-in.")
                .categories(&["contact", "health"])
                .people(500, 500)
                .records(500, 500)
                .consequences("Disclosure of health data.")
                .set("data_sets", data_sets)
                .json(),
        );
        let (status, view) = call(
            "POST",
            &p.url(&format!("/api/incidents/{id}/assessment")),
            Some(&dpo),
            Some(&json!({ "exfiltration": "confirmed" })),
        );
        assert_eq!(status, 200, "{view}");
        assert_eq!(
            view["assessment"]["effective"]["notify_supervisory_authority"],
            true
        );
        view["assessment"]["advice"]
            .as_array()
            .expect("advice")
            .iter()
            .map(|a| a.as_str().expect("text").to_string())
            .collect::<Vec<String>>()
    };
    // Only the customer's data: tell the customer; the authority is the customer's decision.
    let processor =
        assessed(json!([{ "tenant": "acme", "name": "HR records", "role": "processor" }]));
    assert_eq!(processor.len(), 1, "{processor:?}");
    assert!(
        processor[0].starts_with("We are processor for acme: tell each"),
        "{processor:?}"
    );
    assert!(
        !processor
            .iter()
            .any(|a| a.contains("notify the supervisory authority")),
        "a processor-only incident never advises our own authority notice: {processor:?}"
    );
    // Our own data as well: our own Art. 33 and 34 duties are added.
    let both = assessed(json!([
        { "tenant": "acme", "name": "HR records", "role": "processor" },
        { "name": "newsletter list", "role": "controller" }
    ]));
    assert_eq!(both.len(), 3, "{both:?}");
    assert!(
        both[1]
            .contains("notify the supervisory authority without undue delay and within 72 hours")
    );
    assert!(
        both[2].starts_with("For our own data: communicate the breach to the data subjects"),
        "{both:?}"
    );
}

#[test]
fn the_authority_text_is_prepared_from_the_file_only_where_the_data_is_our_own() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let a = actors(&p);
    acme_with_breach_contact(&p, &a.operator);
    let open = |data_sets: Value| {
        open_incident(
            &p,
            &a.security,
            &IncidentDraft::new("Exposed export", START)
                .nature("An export was readable without sign-in.")
                .categories(&["contact"])
                .people(40, 60)
                .records(60, 60)
                .consequences("Unwanted mail.")
                .set("data_sets", data_sets)
                .json(),
        )
        .0
    };
    let draft = |id: &str, token: &str| {
        call(
            "GET",
            &p.url(&format!(
                "/api/incidents/{id}/notifications/authority/draft"
            )),
            Some(token),
            None,
        )
    };
    // Only a customer's data: the authority is the customer's to notify.
    let processor = open(json!([{ "tenant": "acme", "name": "HR records", "role": "processor" }]));
    let (status, body) = draft(&processor, &a.dpo);
    assert_eq!(status, 409, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("as processor")),
        "{body}"
    );
    // Our own data: the text carries the Art. 33(3) contents from the file, in both languages.
    let ours = open(json!([{ "name": "newsletter list", "role": "controller" }]));
    let (status, body) = draft(&ours, &a.dpo);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["late"], false);
    let de = body["de"].as_str().expect("de");
    for needle in [
        "a) Art der Verletzung: Verletzung der Vertraulichkeit",
        "An export was readable without sign-in.",
        "Ungefähre Zahl betroffener Personen: zwischen 40 und 60",
        "b) Datenschutzbeauftragter: ",
        "c) Wahrscheinliche Folgen:\nUnwanted mail.",
        "d) Ergriffene oder vorgeschlagene Maßnahmen",
    ] {
        assert!(de.contains(needle), "missing {needle} in\n{de}");
    }
    assert!(
        body["en"]
            .as_str()
            .is_some_and(|en| en.contains("a) Nature of the breach"))
    );
    // Past the 72 hours it asks why; a customer may not read it at all.
    advance(&p, "PT73H");
    let (_, body) = draft(&ours, &a.dpo);
    assert_eq!(body["late"], true);
    assert!(
        body["de"]
            .as_str()
            .is_some_and(|de| de.contains("Gründe für die Verzögerung"))
    );
    let (status, _) = draft(&ours, &a.acme_admin);
    assert_eq!(status, 403);
}

#[test]
fn card_numbers_in_any_spelling_are_neither_echoed_nor_stored() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let draft = IncidentDraft::new("Leaked card 4111.1111.1111.1111 in a ticket", START)
        .nature("A support ticket held x4111111111111111.")
        .people(1, 1)
        .records(1, 1)
        .consequences("Card fraud.")
        .ours("tickets 5555  5555  5555  4444")
        .json();
    let (id, view) = open_incident(&p, &security, &draft);
    let (status, measure) = call(
        "POST",
        &p.url(&format!("/api/incidents/{id}/measures")),
        Some(&security),
        Some(&json!({
            "kind": "containment", "what": "Ticket redacted",
            "owner": "support \u{ff14}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}",
            "status": "done"
        })),
    );
    assert_eq!(status, 200, "{measure}");
    let (status, read) = call(
        "GET",
        &p.url(&format!("/api/incidents/{id}")),
        Some(&security),
        None,
    );
    assert_eq!(status, 200, "{read}");
    for (what, answer) in [("create", &view), ("measure", &measure), ("read", &read)] {
        let text = answer.to_string();
        assert!(
            !text.contains("1111") && !text.contains("4444") && !text.contains('\u{ff11}'),
            "{what} echoes a card number: {text}"
        );
    }
    assert!(
        read.to_string().matches("[card number removed]").count() >= 4,
        "{read}"
    );
    // Nor is any of them in the store's files (database, WAL).
    for (path, bytes) in common::files_under(p.data.path()) {
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            "4111.1111",
            "4111111111111111",
            "5555  5555",
            "\u{ff14}\u{ff11}",
        ] {
            assert!(!text.contains(needle), "{needle} in {path:?}");
        }
    }
}

/// What customers read in German and in English: the file is German, staff add English
/// wording; the notice's German part carries only German, its English part the English (a
/// measure without English wording in German, said so); a change replaces or removes a text;
/// the customer's view carries both; and over-long English text is named by its pointer.
#[test]
fn notices_carry_the_german_text_in_german_and_the_english_in_english() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let operator = p.token(&["--role", "operator", "--now", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let admin = p.token(&[
        "--role",
        "customer_admin",
        "--tenant",
        "acme",
        "--now",
        START,
    ]);
    acme_with_breach_contact(&p, &operator);
    let mut draft = json!({
        "title": "Export offen", "customer_title": "Offener Datenexport",
        "discovered_at": START, "aware_at": START, "breach_types": ["confidentiality"],
        "nature_and_scope": "Der Export war zwei Stunden ohne Anmeldung lesbar.",
        "approx_data_subjects": { "min": 10, "max": 20 }, "approx_records": { "min": 20, "max": 20 },
        "likely_consequences": "Phishing-Versuche.",
        "data_sets": [{ "tenant": "acme", "name": "HR-Export", "role": "processor" }],
        "english": { "nature_and_scope": "x".repeat(20_001) }
    });
    let (status, refused) = call(
        "POST",
        &p.url("/api/incidents"),
        Some(&security),
        Some(&draft),
    );
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["errors"][0]["pointer"], "/english/nature_and_scope");
    draft["english"] = json!({
        "customer_title": "Exposed data export",
        "nature_and_scope": "The export was readable without sign-in for two hours."
    });
    let (id, view) = open_incident(&p, &security, &draft);
    assert_eq!(view["english"]["customer_title"], "Exposed data export");
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{id}/measures")),
        Some(&security),
        Some(
            &json!({ "kind": "containment", "what": "Export abgeschaltet",
                      "what_en": "Export switched off", "owner": "Plattform-Team", "status": "done" }),
        ),
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["measures"][0]["what_en"], "Export switched off");
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{id}/measures")),
        Some(&security),
        Some(
            &json!({ "kind": "process", "what": "Vier-Augen-Prüfung für Exporte",
                      "owner": "Plattform-Team", "status": "planned" }),
        ),
    );
    assert_eq!(status, 200, "{view}");

    let (status, preview) = call(
        "GET",
        &p.url(&format!(
            "/api/incidents/{id}/notifications/customers/preview"
        )),
        Some(&security),
        None,
    );
    assert_eq!(status, 200, "{preview}");
    let subject = preview[0]["subject"].as_str().expect("subject");
    let body = preview[0]["body"].as_str().expect("body");
    assert!(
        subject.contains("Offener Datenexport") && subject.contains("Exposed data export"),
        "{subject}"
    );
    let (german, english) = body.split_once("---- English ----").expect("both parts");
    for text in [
        "Der Export war zwei Stunden ohne Anmeldung lesbar.",
        "Phishing-Versuche.",
        "- Export abgeschaltet (umgesetzt)",
    ] {
        assert!(german.contains(text), "{text}: {german}");
    }
    assert!(!german.contains("readable without sign-in"), "{german}");
    for text in [
        "The export was readable without sign-in for two hours.",
        "[in German] Phishing-Versuche.",
        "- Export switched off (done)",
        "- [in German] Vier-Augen-Prüfung für Exporte (planned)",
    ] {
        assert!(english.contains(text), "{text}: {english}");
    }
    assert!(!english.contains("zwei Stunden"), "{english}");

    // A change adds the consequences in English and removes the English title.
    let (status, view) = call(
        "PATCH",
        &p.url(&format!("/api/incidents/{id}")),
        Some(&security),
        Some(
            &json!({ "english": { "likely_consequences": "Phishing attempts.", "customer_title": "" } }),
        ),
    );
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["english"]["likely_consequences"], "Phishing attempts.");
    assert!(view["english"].get("customer_title").is_none(), "{view}");

    // The customer reads both wordings.
    let (status, mine) = call(
        "GET",
        &p.url(&format!("/api/incidents/{id}")),
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["english"]["likely_consequences"], "Phishing attempts.");
    assert_eq!(mine["measures"][0]["what_en"], "Export switched off");
}

#[test]
fn titles_owners_and_data_set_names_are_sealed_in_the_store() {
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let security = p.token(&["--role", "security_officer", "--now", START]);
    let draft = IncidentDraft::new("Payroll of Erika Mustermann mailed to Jan Kowalski", START)
        .nature("One e-mail to the wrong person.")
        .people(1, 1)
        .records(1, 1)
        .consequences("Disclosure of salary.")
        .ours("Personnel file Erika Mustermann")
        .json();
    let (id, _) = open_incident(&p, &security, &draft);
    let (status, view) = call(
        "POST",
        &p.url(&format!("/api/incidents/{id}/measures")),
        Some(&security),
        Some(&json!({ "kind": "containment", "what": "Recall requested",
                      "owner": "Hans Beispielmann", "status": "done" })),
    );
    assert_eq!(status, 200, "{view}");
    // Staff read them back in clear.
    assert_eq!(
        view["title"],
        "Payroll of Erika Mustermann mailed to Jan Kowalski"
    );
    assert_eq!(view["measures"][0]["owner"], "Hans Beispielmann");
    assert_eq!(
        view["data_sets"][0]["name"],
        "Personnel file Erika Mustermann"
    );
    let (status, list) = call("GET", &p.url("/api/incidents"), Some(&security), None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(
        list[0]["title"],
        "Payroll of Erika Mustermann mailed to Jan Kowalski"
    );
    // The store's files (database and WAL) hold none of them in clear.
    for (path, bytes) in common::files_under(p.data.path()) {
        let text = String::from_utf8_lossy(&bytes);
        for needle in ["Mustermann", "Kowalski", "Beispielmann", "Payroll"] {
            assert!(!text.contains(needle), "{needle} in {path:?}");
        }
    }
}

/// Every item of the platform's store, as stored (key, version, content), read from its file.
fn store_snapshot(p: &Platform) -> Vec<(String, String, i64, String)> {
    let db = rusqlite::Connection::open(p.data.path().join("store.db")).expect("open db");
    let mut rows = db
        .prepare("SELECT pk, sk, version, data FROM items ORDER BY pk, sk")
        .expect("query");
    rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect()
}

#[test]
fn bad_input_changes_nothing_in_the_store() {
    // Each refused request names every failing field and leaves every item as it was: nothing
    // half-written, no audit entry for a change that did not happen.
    let p = Platform::start(&["--clock", "manual", "--start", START]);
    let a = actors(&p);
    acme_with_breach_contact(&p, &a.operator);
    let mut reports = Vec::new();
    for _ in 0..2 {
        let (status, receipt) = call("POST", &p.url("/security/reports"), None, Some(&report()));
        assert_eq!(status, 202, "{receipt}");
        reports.push(receipt["tracking_id"].as_str().expect("id").to_string());
    }
    let draft = |title: &str, subjects: Value| {
        IncidentDraft::new(title, START)
            .nature("A missing tenant filter in the HR export.")
            .categories(&["contact"])
            .set("approx_data_subjects", subjects)
            .records(1, 10)
            .consequences("Phishing.")
            .affecting("acme", "ACME HR records")
            .triage()
    };
    let (status, triaged) = call(
        "POST",
        &p.url(&format!("/api/reports/{}/triage", reports[0])),
        Some(&a.security),
        Some(&draft("HR export", json!({ "min": 1, "max": 10 }))),
    );
    assert_eq!(status, 200, "{triaged}");
    let incident = triaged["triage"]["incident"].as_str().expect("incident");

    let before = store_snapshot(&p);
    assert!(before.len() > 10, "{} items", before.len());
    let bad: [(&str, String, &str, Value, &[&str]); 4] = [
        (
            "PATCH",
            format!("/api/incidents/{incident}"),
            a.security.as_str(),
            json!({ "title": "", "approx_data_subjects": { "min": 10, "max": 5 } }),
            &["/title", "/approx_data_subjects"][..],
        ),
        (
            "POST",
            format!("/api/reports/{}/triage", reports[1]),
            a.security.as_str(),
            draft("", json!({ "min": 10, "max": 5 })),
            &["/incident/title", "/incident/approx_data_subjects"][..],
        ),
        (
            "PUT",
            "/api/tenants/acme".to_string(),
            a.operator.as_str(),
            json!({ "name": "", "contact_email": "not an address" }),
            &["/name", "/contact_email"][..],
        ),
        (
            "POST",
            "/api/tenants/acme/service-end".to_string(),
            a.operator.as_str(),
            json!({ "ended_at": "2030-01-01T00:00:00Z" }),
            &["/ended_at"][..],
        ),
    ];
    for (method, path, token, body, fields) in bad {
        let (status, problem) = call(method, &p.url(&path), Some(token), Some(&body));
        assert_eq!(status, 400, "{method} {path}: {problem}");
        let pointers = common::pointers(&problem);
        for field in fields {
            assert!(
                pointers.iter().any(|p| p.starts_with(field)),
                "{method} {path}: {field} not among {pointers:?}"
            );
        }
        assert!(
            store_snapshot(&p) == before,
            "{method} {path} changed the store"
        );
    }
}
