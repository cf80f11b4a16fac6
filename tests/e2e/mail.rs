//! Mail that really leaves: customer notices and reporter messages through a real SMTP server
//! (aiosmtpd, started here) and the file outbox, on the embedded store with a manual clock.
//!
//! The SMTP server comes from `tests/support/smtp_sink.py`, run with the Python that
//! `scripts/test` installs aiosmtpd into (`REGROOTER_SMTP_PYTHON`). Without it the SMTP tests say
//! so and skip — unless `REGROOTER_REQUIRE_SMTP=1` (set by `scripts/test`), in which case a
//! missing server is a failure.

use crate::common;
use common::crash::{CrashMode, CrashingStore};
use common::incident::IncidentDraft;
use common::{customer_access, staff_access, ts};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use incidents::service::{
    IncidentForCaller, IncidentView, NoticeChoice, ReportSubmission, TriageInput,
};
use incidents::{DeliveryState, IncidentId, IncidentStatus, NoticeSender, ReportStatus, Triage};
use kernel::Clock;
use kernel::crypto::Personal;
use kernel::ids::TenantId;
use kernel::store::Store;
use kernel::tenants::{self, TenantInput};
use kernel::time::SignedDuration;
use serde_json::{Value, json};

const START: &str = "2026-03-28T09:00:00Z";
const EVENTS_TOPIC: &str = "arn:aws:sns:eu-central-1:123456789012:regrooter-test-mail-events";
const FROM: &str = "regrooter Sicherheit <security@notify.regrooter.test>";

// ----- the SMTP server -------------------------------------------------------------------------

/// aiosmtpd on a free port, writing what it accepts into a directory; stopped when dropped.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SmtpSink {
    fn start() -> Option<Self> {
        let Ok(python) = std::env::var("REGROOTER_SMTP_PYTHON") else {
            assert!(
                std::env::var("REGROOTER_REQUIRE_SMTP").is_err(),
                "REGROOTER_REQUIRE_SMTP is set but REGROOTER_SMTP_PYTHON is not"
            );
            eprintln!("skipping: no SMTP server (run scripts/test, which installs aiosmtpd)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = common::private_dir();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        assert!(line.starts_with("listening"), "SMTP sink said '{line}'");
        Some(Self { child, port, dir })
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// What the server accepted, in order: raw, as received.
    fn raw_messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort_by_key(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.parse::<u32>().ok())
        });
        files
            .iter()
            .map(|p| std::fs::read(p).expect("message"))
            .collect()
    }

    /// What the server accepted, parsed as a mail client would.
    fn messages(&self) -> Vec<Received> {
        self.raw_messages()
            .iter()
            .map(|raw| Received::parse(raw))
            .collect()
    }
}

/// One message as its recipient reads it: headers unfolded and decoded, the text out of its
/// transfer encoding.
#[derive(Debug)]
struct Received {
    envelope_to: String,
    from: String,
    to: String,
    subject: String,
    message_id: String,
    has_date: bool,
    text: String,
}

impl Received {
    fn parse(raw: &[u8]) -> Self {
        let message = mail_parser::MessageParser::default()
            .parse(raw)
            .expect("a parseable message");
        let address = |a: Option<&mail_parser::Address>| {
            a.and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string()
        };
        Self {
            envelope_to: message
                .header_raw("X-Envelope-To")
                .unwrap_or_default()
                .trim()
                .to_string(),
            from: address(message.from()),
            to: address(message.to()),
            subject: message.subject().unwrap_or_default().to_string(),
            message_id: message.message_id().unwrap_or_default().to_string(),
            has_date: message.date().is_some(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
        }
    }
}

// ----- the world -------------------------------------------------------------------------------

/// The incident and mail services through the composition root, over a store that can be made
/// to crash after a number of writes.
struct World {
    base: common::world::World,
    crashing: Arc<CrashingStore>,
}

impl std::ops::Deref for World {
    type Target = common::world::World;

    fn deref(&self) -> &Self::Target {
        &self.base
    }
}

impl World {
    fn new(sender: Arc<dyn NoticeSender>) -> Self {
        Self::with_store(sender, |store| store)
    }

    /// A world whose store is `wrap`ped (e.g. by a gate that makes requests collide).
    fn with_store(
        sender: Arc<dyn NoticeSender>,
        wrap: impl FnOnce(Arc<dyn Store>) -> Arc<dyn Store> + 'static,
    ) -> Self {
        let (base, crashing) = common::world::World::at(START)
            .env("REGROOTER_MAIL_EVENTS_TOPIC", EVENTS_TOPIC)
            .env("REGROOTER_PUBLIC_URL", "https://trust.regrooter.test")
            .kek(kernel::random::bytes::<32>())
            .sender(sender)
            .store(wrap)
            .crashing();
        Self { base, crashing }
    }

    fn with_smtp(sink: &SmtpSink) -> Self {
        let sender = infra::smtp::SmtpSender::new(&sink.url(), FROM).expect("smtp sender");
        Self::new(Arc::new(sender))
    }

    async fn tenant(&self, id: &str, contact: &str) {
        tenants::put(
            self.store.as_ref(),
            &self.keyring,
            &staff_access("operator"),
            &TenantId::new(id).expect("tenant"),
            TenantInput {
                name: Some(format!("{id} GmbH")),
                contact_email: Some(Personal::new(contact.to_string())),
                contract: None,
            },
            self.clock.now(),
        )
        .await
        .expect("tenant");
    }

    /// An incident affecting `acme`'s data (we are its processor), aware now.
    async fn incident(&self) -> IncidentId {
        self.tenant("acme", "privacy@acme.example").await;
        let draft = IncidentDraft::new("HR export returned other tenants' records", START)
            .nature("A missing tenant filter in the HR export exposed records.")
            .categories(&["contact", "employment"])
            .people(120, 150)
            .records(300, 300)
            .consequences("Phishing, disclosure of salary bands.")
            .affecting("acme", "ACME HR records")
            .input();
        self.services
            .incidents
            .create_incident(&staff_access("security_officer"), draft)
            .await
            .expect("incident")
            .id
    }

    async fn notify(&self, id: &IncidentId) -> Result<IncidentView, kernel::Error> {
        self.services
            .incidents
            .notify_customers(&staff_access("security_officer"), id, None, false)
            .await
            .map(|notified| notified.view)
    }

    /// An update (or, once closed, the final report) to the customers told already.
    async fn follow_up(&self, id: &IncidentId) -> Result<IncidentView, kernel::Error> {
        self.services
            .incidents
            .notify_customers(&staff_access("security_officer"), id, None, true)
            .await
            .map(|notified| notified.view)
    }

    async fn staff_view(&self, id: &IncidentId) -> Value {
        match self
            .services
            .incidents
            .get_incident(&staff_access("security_officer"), id)
            .await
            .expect("view")
        {
            IncidentForCaller::Staff(view) => serde_json::to_value(view).expect("json"),
            IncidentForCaller::Customer(_) => panic!("staff got the customer view"),
        }
    }

    async fn customer_view(&self, id: &IncidentId) -> Value {
        match self
            .services
            .incidents
            .get_incident(&customer_access("acme", "customer_admin"), id)
            .await
            .expect("view")
        {
            IncidentForCaller::Customer(view) => serde_json::to_value(view).expect("json"),
            IncidentForCaller::Staff(_) => panic!("a customer got the staff view"),
        }
    }

    async fn drain(&self) -> incidents::DrainReport {
        self.services
            .incidents
            .drain_outbox(self.clock.now())
            .await
            .expect("drain")
    }

    fn advance(&self, minutes: i64) {
        self.clock
            .advance(SignedDuration::from_mins(minutes))
            .expect("advance");
    }
}

fn acme_deadline(view: &Value) -> Value {
    view["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["duty"]["tenant"] == "acme")
        .expect("acme deadline")
        .clone()
}

fn alerts_of_kind(view: &Value, kind: &str) -> usize {
    view["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == kind)
        .count()
}

// ----- SMTP ------------------------------------------------------------------------------------

#[tokio::test]
async fn smtp_the_customer_notice_arrives_in_both_languages_and_counts_from_acceptance() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let incident = w.incident().await;
    w.advance(60);
    // The title customers read names the notice in its subject.
    let security = staff_access("security_officer");
    w.services
        .incidents
        .update_incident(
            &security,
            &incident,
            serde_json::from_value(json!({ "customer_title": "HR export exposed records" }))
                .expect("patch"),
        )
        .await
        .expect("customer title");
    // The preview: what would go out, to whom — nothing is sent.
    let preview = w
        .services
        .incidents
        .preview_customer_notices(&security, &incident, NoticeChoice::First)
        .await
        .expect("preview");
    assert_eq!(preview.len(), 1);
    assert_eq!(preview[0].to.as_deref(), Some("privacy@acme.example"));
    assert_eq!(preview[0].not_sent_because, None);
    assert!(
        preview[0]
            .subject
            .contains(&format!("HR export exposed records ({incident})")),
        "{}",
        preview[0].subject
    );
    assert!(sink.messages().is_empty(), "a preview sends nothing");
    let view = serde_json::to_value(w.notify(&incident).await.expect("notify")).expect("json");

    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let mail = &messages[0];
    assert_eq!(mail.envelope_to, "privacy@acme.example");
    assert_eq!(mail.to, "privacy@acme.example");
    assert_eq!(mail.from, "security@notify.regrooter.test");
    assert_eq!(
        mail.message_id,
        format!("{incident}-acme-1@notify.regrooter.test")
    );
    assert!(mail.has_date, "{mail:?}");
    assert!(
        mail.subject
            .contains("Meldung einer Verletzung des Schutzes personenbezogener Daten")
            && mail
                .subject
                .contains("Notification of a personal data breach"),
        "{}",
        mail.subject
    );
    for needle in [
        "Art und Umfang der Verletzung",
        "Ungefähre Zahl betroffener Personen: zwischen 120 und 150",
        "Nature and scope of the breach",
        "Approximate number of people concerned: between 120 and 150",
        "datenschutz@regrooter.de",
    ] {
        assert!(
            mail.text.contains(needle),
            "missing {needle} in\n{}",
            mail.text
        );
    }

    // Accepted by the server: the notice counts, with the server's reply as the transport id.
    let notice = &view["notices"][0];
    assert_eq!(notice["delivery"], "accepted");
    assert_eq!(notice["sent_at"], "2026-03-28T10:00:00Z");
    assert!(
        notice["transport_id"]
            .as_str()
            .is_some_and(|t| t.starts_with("250") && t.contains("sink-1")),
        "{notice}"
    );
    assert_eq!(view["messages"][0]["state"], "accepted");
    assert_eq!(acme_deadline(&view)["state"], "met_on_time");
    // A second press of the button sends nothing.
    assert!(matches!(
        w.notify(&incident).await,
        Err(kernel::Error::Conflict(_))
    ));
    assert_eq!(sink.messages().len(), 1);
    // What went out is what the preview showed; now the preview says it was sent.
    assert_eq!(mail.subject, preview[0].subject);
    for line in preview[0]
        .body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(5)
    {
        assert!(mail.text.contains(line.trim()), "{line} in\n{}", mail.text);
    }
    let again = w
        .services
        .incidents
        .preview_customer_notices(&security, &incident, NoticeChoice::First)
        .await
        .expect("preview");
    assert_eq!(
        again[0].not_sent_because.as_deref(),
        Some("has been told already")
    );
}

#[tokio::test]
async fn smtp_a_told_customer_gets_updates_and_the_final_report_once_the_incident_is_closed() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let incident = w.incident().await;
    w.advance(60);
    let security = staff_access("security_officer");
    let incidents = &w.services.incidents;
    // No follow-up before the first notice.
    assert!(matches!(
        w.follow_up(&incident).await,
        Err(kernel::Error::Conflict(m)) if m.contains("told yet")
    ));
    w.notify(&incident).await.expect("first notice");
    w.advance(3600);
    // More is known: the file changes, and the update carries the state as of now.
    incidents
        .update_incident(
            &security,
            &incident,
            serde_json::from_value(json!({ "approx_data_subjects": { "min": 120, "max": 400 } }))
                .expect("patch"),
        )
        .await
        .expect("more people");
    let preview = incidents
        .preview_customer_notices(&security, &incident, NoticeChoice::FollowUp)
        .await
        .expect("preview");
    assert_eq!(preview[0].kind, incidents::notice::NoticeKind::Update);
    assert_eq!(preview[0].first_sent_at, Some(ts("2026-03-28T10:00:00Z")));
    assert_eq!(preview[0].not_sent_because, None);
    let view = serde_json::to_value(w.follow_up(&incident).await.expect("update")).expect("json");
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    let update = &messages[1];
    assert_eq!(
        update.message_id,
        format!("{incident}-acme-2@notify.regrooter.test")
    );
    assert!(
        update.subject.starts_with("Aktualisierung: ")
            && update.subject.contains("Update: personal data breach"),
        "{}",
        update.subject
    );
    for needle in [
        "Dies ergänzt unsere Meldung vom 28.03.2026 11:00 CET",
        "zwischen 120 und 400",
        "This updates our notice of 28.03.2026 11:00 CET",
    ] {
        assert!(
            update.text.contains(needle),
            "missing {needle} in\n{}",
            update.text
        );
    }
    // The 48-hour deadline stays met by the first notice; both notices are on the file.
    assert_eq!(acme_deadline(&view)["state"], "met_on_time");
    assert_eq!(acme_deadline(&view)["met_at"], "2026-03-28T10:00:00Z");
    assert_eq!(view["notices"].as_array().map(Vec::len), Some(2));

    // Closed: the follow-up is the final report.
    let facts = serde_json::from_value(json!({
        "breach_types": ["confidentiality"], "data_categories": ["contact"],
        "approx_data_subjects": 400, "exfiltration": "none"
    }))
    .expect("facts");
    incidents
        .assess(&staff_access("data_protection_officer"), &incident, facts)
        .await
        .expect("assess");
    for to in [IncidentStatus::Resolved, IncidentStatus::Closed] {
        incidents
            .transition(&security, &incident, to)
            .await
            .expect("transition");
    }
    w.follow_up(&incident).await.expect("final report");
    let messages = sink.messages();
    assert_eq!(messages.len(), 3);
    let last = &messages[2];
    assert!(
        last.subject.starts_with("Abschlussbericht: ")
            && last.subject.contains("Final report: personal data breach"),
        "{}",
        last.subject
    );
    assert!(
        last.text.contains("Dies ist unser Abschlussbericht"),
        "{}",
        last.text
    );
    assert!(!last.text.contains("keep you informed"), "{}", last.text);
}

#[tokio::test]
async fn smtp_the_deadline_watch_mails_the_security_team_once_per_alert() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let incident = w.incident().await;
    let watch = |w: &World| {
        let services = w.services.clone();
        let at = w.clock.now();
        async move {
            let report = services.incidents.watch_deadlines(at).await.expect("watch");
            report
                .alerts
                .iter()
                .map(|(_, a)| format!("{:?}", a.kind))
                .collect::<Vec<_>>()
        }
    };
    // 36 hours on, ACME's 48 hours are 12 hours away: one alert, and its mail waits in the
    // outbox until the drain hands it to the transport.
    w.advance(36 * 60);
    assert_eq!(watch(&w).await, ["DueSoon"]);
    assert!(sink.messages().is_empty());
    w.drain().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let mail = &messages[0];
    // The security contact's mailbox (the default when no REGROOTER_ALERT_EMAIL is set).
    assert_eq!(mail.envelope_to, "security@regrooter.de");
    assert_eq!(mail.from, "security@notify.regrooter.test");
    assert!(mail.has_date && !mail.message_id.is_empty(), "{mail:?}");
    assert_eq!(
        mail.subject,
        format!("Frist läuft ab / Deadline due soon: {incident}")
    );
    for needle in [
        "Benachrichtigung des Kunden acme (48 Stunden): Frist läuft bald ab, fällig 30.03.2026 11:00 CEST",
        "notice to customer acme (48 hours): the deadline is due soon, due 30.03.2026 11:00 CEST",
        &format!("https://trust.regrooter.test/api/incidents/{incident}"),
    ] {
        assert!(
            mail.text.contains(needle),
            "missing {needle} in\n{}",
            mail.text
        );
    }
    // No facts of the incident leave in an alert.
    assert!(!mail.text.contains("HR export"), "{}", mail.text);

    // The watch again: nothing new, nothing sent.
    w.advance(5);
    assert!(watch(&w).await.is_empty());
    w.drain().await;
    assert_eq!(sink.messages().len(), 1);

    // 48 hours passed without the notice: missed, and mailed.
    w.advance(12 * 60);
    assert_eq!(watch(&w).await, ["Missed"]);
    w.drain().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert_eq!(
        messages[1].subject,
        format!("Frist verpasst / Deadline missed: {incident}")
    );
    assert!(
        messages[1]
            .text
            .contains("notice to customer acme (48 hours): the deadline has passed"),
        "{}",
        messages[1].text
    );
}

#[tokio::test]
async fn smtp_a_5xx_leaves_the_notice_unsent_and_the_duty_open_until_resent_to_a_corrected_address()
{
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let incident = w.incident().await;
    w.tenant("acme", "reject@acme.example").await;
    let view = serde_json::to_value(w.notify(&incident).await.expect("notify")).expect("json");
    assert_eq!(view["messages"][0]["state"], "failed");
    assert_eq!(view["messages"][0]["last_failure"], "SMTP 550");
    assert_eq!(view["notices"], json!([]));
    assert_eq!(acme_deadline(&view)["state"], "pending");
    assert_eq!(alerts_of_kind(&view, "undelivered"), 1);
    assert!(sink.messages().is_empty());
    // The customer's view: not notified.
    let mine = w.customer_view(&incident).await;
    assert_eq!(mine["notified_at"], Value::Null);
    assert_eq!(mine["notice_delivery"], "failed");
    // The drain does not retry a permanent refusal.
    w.advance(5);
    assert!(w.drain().await.messages.is_empty());

    // Staff correct the breach contact and send again: a new message, which arrives.
    w.tenant("acme", "privacy@acme.example").await;
    let view = serde_json::to_value(w.notify(&incident).await.expect("resend")).expect("json");
    let states: Vec<&str> = view["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["state"].as_str())
        .collect();
    assert_eq!(states, ["failed", "accepted"]);
    assert_eq!(view["messages"][1]["id"], format!("{incident}-acme-2"));
    assert_eq!(acme_deadline(&view)["state"], "met_on_time");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn smtp_a_4xx_is_retried_by_the_drain_after_its_backoff() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let incident = w.incident().await;
    w.tenant("acme", "busy@acme.example").await;
    let view = serde_json::to_value(w.notify(&incident).await.expect("notify")).expect("json");
    assert_eq!(view["messages"][0]["state"], "queued");
    assert_eq!(view["messages"][0]["last_failure"], "SMTP 451");
    assert_eq!(
        view["messages"][0]["next_attempt_at"],
        "2026-03-28T09:01:00Z"
    );
    assert_eq!(view["notices"], json!([]));
    // Not before its time.
    assert!(w.drain().await.messages.is_empty());
    assert!(sink.messages().is_empty());
    w.advance(1);
    let report = w.drain().await;
    assert_eq!(
        report.messages,
        vec![(format!("{incident}-acme-1"), DeliveryState::Accepted)]
    );
    assert_eq!(sink.messages().len(), 1);
    let view = w.staff_view(&incident).await;
    assert_eq!(view["notices"][0]["sent_at"], "2026-03-28T09:01:00Z");
    assert_eq!(view["messages"][0]["attempts"], 2);
}

#[tokio::test]
async fn smtp_a_drain_killed_between_send_and_record_never_sends_twice() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let incident = w.incident().await;
    // The notice's writes: queue (0), claim (1), record of the hand-over (2). The process dies
    // at the third, after the server took the message.
    w.crashing.arm(2, CrashMode::Before);
    let crashed = w.notify(&incident).await;
    assert!(
        matches!(
            &crashed,
            Err(kernel::Error::Store(kernel::store::StoreError::Unavailable(why)))
                if why == "injected crash"
        ),
        "{crashed:?}"
    );
    assert!(w.crashing.crashed());
    w.crashing.disarm();
    assert_eq!(sink.messages().len(), 1);

    // Reruns while the claim holds, and after it ran out: nothing is sent again.
    assert!(w.drain().await.messages.is_empty());
    w.advance(3);
    let report = w.drain().await;
    assert_eq!(
        report.messages,
        vec![(format!("{incident}-acme-1"), DeliveryState::InDoubt)]
    );
    w.advance(60);
    assert!(w.drain().await.messages.is_empty());
    assert_eq!(
        sink.messages().len(),
        1,
        "exactly one message at the server"
    );
    // In doubt is not a notice: the duty stays open and staff are alerted.
    let view = w.staff_view(&incident).await;
    assert_eq!(view["notices"], json!([]));
    assert_eq!(alerts_of_kind(&view, "undelivered"), 1);
    assert_eq!(acme_deadline(&view)["state"], "pending");
}

#[test]
fn smtp_two_drains_at_once_hand_a_message_over_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let w = Arc::new(runtime.block_on(async {
        let w = World::with_smtp(&sink);
        // Queued by the report intake, sent by the drain.
        for n in 0..6 {
            submit_report(&w, &format!("finder{n}@example.org")).await;
        }
        w
    }));
    // Two runs of the drain on two threads, at the same minute.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let w = w.clone();
            runtime.spawn(async move { w.drain().await })
        })
        .collect();
    let reports: Vec<incidents::DrainReport> = runtime.block_on(async {
        let mut out = Vec::new();
        for run in runs {
            out.push(run.await.expect("join"));
        }
        out
    });
    let accepted: usize = reports
        .iter()
        .map(|r| r.count(DeliveryState::Accepted))
        .sum();
    assert_eq!(accepted, 6, "{reports:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 6);
    let mut recipients: Vec<&str> = messages.iter().map(|m| m.envelope_to.as_str()).collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert_eq!(recipients.len(), 6, "each reporter got exactly one message");
}

async fn submit_report(w: &World, contact: &str) -> incidents::service::Receipt {
    let submission: ReportSubmission = serde_json::from_value(json!({
        "description": "SECRET-REPORT-TEXT: the export returns other customers' records.",
        "affected_parties": "ACME employees",
        "personal_data_kind": "names, salary bands",
        "scope": "about 140 people",
        "impact_assessment": "phishing risk",
        "reporter_contact": contact,
        "language": "de"
    }))
    .expect("submission");
    w.services
        .incidents
        .submit_report(submission)
        .await
        .expect("report")
}

#[tokio::test]
async fn smtp_the_reporter_is_acknowledged_with_the_tracking_id_and_told_of_status_changes() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let w = World::with_smtp(&sink);
    let receipt = submit_report(&w, "finder@example.org").await;
    // The intake does not wait for the mail server; the next minute's drain sends it.
    assert!(sink.messages().is_empty());
    let report = w.drain().await;
    assert_eq!(report.count(DeliveryState::Accepted), 1);
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let ack = &messages[0];
    assert_eq!(ack.envelope_to, "finder@example.org");
    let id = receipt.tracking_id.to_string();
    assert!(ack.subject.contains(&id), "{}", ack.subject);
    assert!(
        ack.text.contains(&format!("Your tracking id: {id}")),
        "{}",
        ack.text
    );
    assert!(
        ack.text.contains(&format!(
            "https://trust.regrooter.test/security/reports/status?id={id}"
        )),
        "status page in\n{}",
        ack.text
    );
    assert!(ack.text.contains("Ihre Vorgangsnummer"), "{}", ack.text);
    let raw = String::from_utf8_lossy(&sink.raw_messages()[0]).into_owned();
    for secret in ["SECRET-REPORT-TEXT", "salary", "ACME", &receipt.secret] {
        assert!(
            !ack.text.contains(secret) && !ack.subject.contains(secret) && !raw.contains(secret),
            "the acknowledgement leaks {secret}"
        );
    }

    // Triage closes it: the reporter is told, again without the report's text.
    w.services
        .incidents
        .triage(
            &staff_access("security_officer"),
            &receipt.tracking_id,
            TriageInput::NotABreach,
        )
        .await
        .expect("triage");
    w.drain().await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 2);
    assert!(
        messages[1]
            .text
            .contains(&format!("your security report {id} has been closed")),
        "{}",
        messages[1].text
    );
    assert!(!messages[1].text.contains("SECRET-REPORT-TEXT"));
    // With the reason, in both languages; the status page answers it too.
    for reason in [
        "Nach unserer Prüfung liegt keine Verletzung des Schutzes personenbezogener Daten vor.",
        "Having looked into it, we found no breach of personal data.",
    ] {
        assert!(messages[1].text.contains(reason), "{}", messages[1].text);
    }
    assert_eq!(
        w.services
            .incidents
            .report_status(&receipt.tracking_id, &receipt.secret)
            .await
            .map(|view| (view.status, view.closed_because))
            .expect("status"),
        (
            ReportStatus::Closed,
            Some(incidents::model::ClosedBecause::NotABreach)
        )
    );

    // A second report becomes an incident. Closing the incident closes the report in the same
    // step, on the report's own audit chain, and its reporter is told why.
    let second = submit_report(&w, "finder@example.org").await;
    let security = staff_access("security_officer");
    let draft = IncidentDraft::new("Export shows other customers' records", START)
        .nature("A missing filter in the export.")
        .people(1, 1)
        .records(1, 1)
        .consequences("None expected: the only record shown was the reporter's own.")
        .ours("sales contacts")
        .input();
    let triaged = w
        .services
        .incidents
        .triage(
            &security,
            &second.tracking_id,
            TriageInput::Incident {
                incident: Box::new(draft),
            },
        )
        .await
        .expect("triage");
    let Some(Triage::Incident { incident }) = triaged.triage else {
        panic!("{triaged:?}")
    };
    // The minute's drain tells the reporter the report is in review.
    w.drain().await;
    let facts = serde_json::from_value(json!({
        "breach_types": ["confidentiality"], "data_categories": ["contact"],
        "approx_data_subjects": 1, "exfiltration": "none"
    }))
    .expect("facts");
    let dpo = staff_access("data_protection_officer");
    let incidents = &w.services.incidents;
    incidents
        .assess(&dpo, &incident, facts)
        .await
        .expect("assess");
    incidents
        .override_assessment(
            &dpo,
            &incident,
            incidents::service::OverrideInput {
                risk: incidents::assessment::RiskLevel::None,
                notify_supervisory_authority: false,
                communicate_to_data_subjects: false,
                justification: Personal::new(
                    "Only the reporter's own record was shown, to the reporter.".into(),
                ),
            },
        )
        .await
        .expect("override");
    for to in [
        IncidentStatus::Contained,
        IncidentStatus::Resolved,
        IncidentStatus::Closed,
    ] {
        incidents
            .transition(&security, &incident, to)
            .await
            .expect("transition");
    }
    assert_eq!(
        incidents
            .report_status(&second.tracking_id, &second.secret)
            .await
            .map(|view| (view.status, view.closed_because))
            .expect("status"),
        (
            ReportStatus::Closed,
            Some(incidents::model::ClosedBecause::IncidentClosed)
        )
    );
    let trail = kernel::audit::chain_entries(w.store.as_ref(), &second.tracking_id.to_string())
        .await
        .expect("trail");
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["report.received", "report.triaged", "report.closed"]
    );
    w.drain().await;
    let told = sink.messages();
    let last = told.last().expect("a message");
    assert_eq!(last.envelope_to, "finder@example.org");
    let closed = format!(
        "your security report {} has been closed.",
        second.tracking_id
    );
    for text in [
        closed.as_str(),
        "The security incident we opened from your report has been closed.",
        "Der Sicherheitsvorfall, den wir aus Ihrer Meldung eröffnet haben, ist abgeschlossen.",
    ] {
        assert!(last.text.contains(text), "{}", last.text);
    }
}

// ----- delivery events (SES through SNS), on the file outbox ------------------------------------

fn sns_event(topic: &str, event_type: &str, message_id: &str, at: &str) -> Value {
    // SES's event record: the mail, and a detail object named after the event type.
    let mut ses = json!({
        "eventType": event_type,
        "mail": {
            "timestamp": "2026-03-28T10:00:00.000Z",
            "messageId": "0102018e-ses",
            "source": "security@notify.regrooter.test",
            "destination": ["privacy@acme.example"],
            "tags": { "message": [message_id], "ses:configuration-set": ["regrooter-test"] }
        }
    });
    ses[event_type.to_lowercase()] = json!({ "timestamp": at, "bounceType": "Permanent" });
    json!({ "Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "Sns": {
            "Type": "Notification",
            "MessageId": "sns-1",
            "TopicArn": topic,
            "Message": ses.to_string(),
            "Timestamp": at
        }
    }]})
}

#[tokio::test]
async fn a_bounce_event_reopens_the_duty_alerts_and_tells_the_customer_the_notice_did_not_reach_them()
 {
    let outbox = common::private_dir();
    let w = World::new(Arc::new(infra::outbox::FileSender::new(
        outbox.path(),
        FROM,
    )));
    let incident = w.incident().await;
    w.advance(60);
    let view = serde_json::to_value(w.notify(&incident).await.expect("notify")).expect("json");
    assert_eq!(acme_deadline(&view)["state"], "met_on_time");
    let message = format!("{incident}-acme-1");
    assert!(outbox.path().join(format!("outbox/{message}.eml")).exists());

    // Delivered first: the notice stays made.
    let delivered = sns_event(EVENTS_TOPIC, "Delivery", &message, "2026-03-28T10:00:03Z");
    let outcome = functions::mail::handle_events(&w.services, delivered)
        .await
        .expect("delivery");
    assert_eq!(
        outcome.recorded,
        vec![(message.clone(), DeliveryState::Delivered)]
    );
    let mine = w.customer_view(&incident).await;
    assert_eq!(mine["notice_delivery"], "delivered");
    assert_eq!(mine["notified_within_deadline"], true);

    // Then it bounces (the mailbox was deleted): not a notice any more.
    w.advance(10);
    let bounced = sns_event(EVENTS_TOPIC, "Bounce", &message, "2026-03-28T10:10:00Z");
    let outcome = functions::mail::handle_events(&w.services, bounced.clone())
        .await
        .expect("bounce");
    assert_eq!(
        outcome.recorded,
        vec![(message.clone(), DeliveryState::Bounced)]
    );
    let view = w.staff_view(&incident).await;
    assert_eq!(view["notices"][0]["delivery"], "bounced");
    assert_eq!(acme_deadline(&view)["state"], "pending");
    assert_eq!(alerts_of_kind(&view, "undelivered"), 1);
    let mine = w.customer_view(&incident).await;
    assert_eq!(mine["notified_at"], Value::Null);
    assert_eq!(mine["notified_within_deadline"], Value::Null);
    assert_eq!(mine["notice_delivery"], "bounced");

    // SNS delivers again: nothing changes, no second alert.
    functions::mail::handle_events(&w.services, bounced)
        .await
        .expect("repeat");
    assert_eq!(
        alerts_of_kind(&w.staff_view(&incident).await, "undelivered"),
        1
    );

    // The watch treats the duty as open: at 48 h it is missed.
    let due = ts("2026-03-30T09:00:00Z");
    let report = w
        .services
        .incidents
        .watch_deadlines(due)
        .await
        .expect("watch");
    let kinds: Vec<String> = report
        .alerts
        .iter()
        .map(|(_, a)| format!("{:?}", a.kind))
        .collect();
    assert!(kinds.contains(&"Missed".to_string()), "{kinds:?}");

    // An event from another topic is refused; an event for mail we never sent is ignored.
    let foreign = sns_event(
        "arn:aws:sns:eu-central-1:123456789012:someone-else",
        "Delivery",
        &message,
        "2026-03-28T10:20:00Z",
    );
    let refused = functions::mail::handle_events(&w.services, foreign).await;
    assert!(
        matches!(&refused, Err(kernel::Error::BadRequest(why))
            if why == "mail events are accepted from the configured topic only"),
        "{refused:?}"
    );
    let unknown = sns_event(
        EVENTS_TOPIC,
        "Delivery",
        "inc_x-nobody-1",
        "2026-03-28T10:20:00Z",
    );
    let outcome = functions::mail::handle_events(&w.services, unknown)
        .await
        .expect("unknown");
    assert_eq!((outcome.recorded.len(), outcome.ignored), (0, 1));

    // The audit trail holds each step of the notice.
    let (entries, broken) = w
        .services
        .incidents
        .audit_trail(
            &staff_access("data_protection_officer"),
            &incident.to_string(),
        )
        .await
        .expect("trail");
    assert!(broken.is_none());
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.ends_with(&[
            "notice.sent",
            "notice.delivery",
            "notice.delivery",
            "deadline.alert"
        ]),
        "{actions:?}"
    );
}

// ----- the incident file's audit chain under crashes ---------------------------------------------

/// Every audit chain verifies, and the incident's chain ends at the head its record keeps.
async fn chains_whole(w: &World, incident: &IncidentId) {
    let heads = incidents::service::audit_heads(w.store.as_ref())
        .await
        .expect("heads");
    assert!(heads.contains_key(&incident.to_string()), "{heads:?}");
    let reports = incidents::service::verify_all_chains_to(w.store.as_ref(), &heads)
        .await
        .expect("verify");
    assert!(reports.iter().any(|r| r.chain == incident.to_string()));
    for report in &reports {
        assert!(report.broken.is_none(), "{report:?}");
    }
}

#[tokio::test]
async fn a_crash_at_any_write_of_an_incident_change_leaves_the_file_and_its_audit_chain_whole() {
    let outbox = common::private_dir();
    let w = World::new(Arc::new(infra::outbox::FileSender::new(
        outbox.path(),
        FROM,
    )));
    let incident = w.incident().await;
    let security = staff_access("security_officer");
    let measure = |what: &str| {
        serde_json::from_value::<incidents::service::MeasureInput>(json!({
            "kind": "containment", "what": what, "owner": "platform team", "status": "done"
        }))
        .expect("measure")
    };
    // Each change is one transaction (record and audit entry together): a crash before it
    // writes nothing, a crash after it has written all of it; either way the chain is whole,
    // and the change is either absent or complete.
    for (i, mode) in [CrashMode::Before, CrashMode::After]
        .into_iter()
        .enumerate()
    {
        let before = w.staff_view(&incident).await["measures"]
            .as_array()
            .map_or(0, Vec::len);
        w.crashing.arm(0, mode);
        let crashed = w
            .services
            .incidents
            .add_measure(&security, &incident, measure(&format!("Step {i}")))
            .await;
        assert!(
            matches!(
                &crashed,
                Err(kernel::Error::Store(kernel::store::StoreError::Unavailable(why)))
                    if why == "injected crash"
            ),
            "{mode:?}: {crashed:?}"
        );
        assert!(w.crashing.crashed(), "{mode:?}");
        w.crashing.disarm();
        chains_whole(&w, &incident).await;
        let after = w.staff_view(&incident).await["measures"]
            .as_array()
            .map_or(0, Vec::len);
        let expected = match mode {
            CrashMode::Before => before,
            CrashMode::After => before + 1,
        };
        assert_eq!(after, expected, "{mode:?}");
        // And the file goes on: the next change appends to the chain.
        w.services
            .incidents
            .add_measure(&security, &incident, measure(&format!("Step {i} again")))
            .await
            .expect("after the crash");
        chains_whole(&w, &incident).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_changes_at_once_extend_the_audit_chain_one_after_the_other_never_fork_it() {
    // Both read the incident (and its chain head) before either writes: the second append
    // finds its link taken and must read again, not write a second entry after the same head.
    let gate = common::gate::Gate::new(|key| key.pk.starts_with("INCIDENT#"));
    let outbox = common::private_dir();
    let gated = gate.clone();
    let w = Arc::new(World::with_store(
        Arc::new(infra::outbox::FileSender::new(outbox.path(), FROM)),
        move |s| gated.store(s),
    ));
    let incident = w.incident().await;
    gate.arm(2);
    let changes: Vec<_> = ["Export disabled", "Filter fixed"]
        .into_iter()
        .map(|what| {
            let w = w.clone();
            tokio::spawn(async move {
                let input = serde_json::from_value::<incidents::service::MeasureInput>(json!({
                    "kind": "containment", "what": what, "owner": "platform team", "status": "done"
                }))
                .expect("measure");
                w.services
                    .incidents
                    .add_measure(&staff_access("security_officer"), &incident, input)
                    .await
            })
        })
        .collect();
    let mut made = 0;
    for change in changes {
        match change.await.expect("joined") {
            Ok(_) => made += 1,
            Err(kernel::Error::Conflict(_)) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert!(gate.conflicts() >= 1, "the two changes collided");
    chains_whole(&w, &incident).await;
    let view = w.staff_view(&incident).await;
    assert_eq!(
        view["measures"].as_array().map(Vec::len),
        Some(made),
        "every change that succeeded is in the file, none that failed"
    );
    let entries = kernel::audit::chain_entries(w.store.as_ref(), &incident.to_string())
        .await
        .expect("entries");
    let measures_logged = entries
        .iter()
        .filter(|e| e.action.starts_with("measure"))
        .count();
    assert_eq!(
        measures_logged, made,
        "one audit entry per change that happened"
    );
}
