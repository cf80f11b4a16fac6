"""Writes benign.jsonl: realistic legitimate traffic of this platform, for measuring the WAF's
false positives. Deterministic (fixed seed), so the corpus only changes when this script does.

Mix: browser requests for the report form and security.txt; security reports as JSON and as form
posts in German and English (apostrophes, quotes, URLs, code snippets, stack traces in the text);
portal API calls of customers and staff (incidents with narrative text, tenants, SLA claims,
retention, sign-in with real-world passwords); Stripe webhooks; health checks.

usage: python3 make_benign.py > benign.jsonl"""
import json
import random
import urllib.parse

random.seed(20261127)

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:139.0) Gecko/20100101 Firefox/139.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36",
]

REPORTS_EN = [
    ("Your export endpoint returns records of other tenants when the filter is empty. I tried "
     "GET /api/export?tenant= and got everything. It's reproducible with curl -H 'Authorization: Bearer ...'.",
     "ACME GmbH and at least two other customers", "names, e-mail addresses, salary bands", "about 140 employees",
     "High: salaries are sensitive and the data could be used for targeted phishing."),
    ("The login form seems vulnerable to SQL injection: entering admin' -- as user name returns a 500 "
     "with the message \"syntax error at or near '--'\". Payload: ' OR '1'='1' --",
     "all users of the portal", "credentials", "potentially every account", "Account takeover would be possible."),
    ("Stored XSS in the incident title: <script>alert(document.cookie)</script> is rendered in the "
     "admin dashboard at https://portal.regrooter.example/incidents.",
     "regrooter staff", "session cookies", "every staff member opening the dashboard",
     "An attacker could act as a staff member."),
    ("I found an open S3 bucket (s3://regrooter-exports-backup) listing files like tenant_acme_2026-03.csv. "
     "Opening https://regrooter-exports-backup.s3.eu-central-1.amazonaws.com/ shows the index.",
     "Customers whose exports are stored there", "employee master data", "several thousand rows",
     "Severe; the files are readable by anyone who knows the URL."),
    ("Path traversal: /download?file=../../etc/passwd returned the passwd file of your server. "
     "Also ..%2f..%2fetc%2fhosts works.", "the company itself", "none directly, system files", "one server",
     "Could lead to disclosure of configuration and credentials."),
    ("The password reset e-mail contains the reset token in the URL and your page loads a third-party "
     "analytics script, so the token leaks via the Referer header to https://analytics.example.net.",
     "every user who resets a password", "reset tokens", "unknown", "Medium: tokens are short-lived (1 hour)."),
    ("A stack trace is shown on error: java.lang.NullPointerException at com.regrooter.api.Export.run(Export.java:42) "
     "which reveals internal class names.", "none", "none", "the error page", "Low."),
    ("Your API accepts {\"role\": \"customer_admin\"} in the sign-up body and grants it. Steps: POST /api/users with "
     "that JSON; the new user can then manage other users.", "tenants with self sign-up", "user accounts",
     "any tenant", "High: privilege escalation."),
    ("We received a phishing mail pretending to be from you (from: billing@regrooter-support.com) asking "
     "customers to 'update their card' at http://regrooter-billing.top/login.php.", "your customers",
     "payment data, credentials", "unknown", "High for those who enter data."),
    ("Rate limiting is missing on /auth/sign-in: I could try 1000 passwords per minute (for i in $(seq 1 1000); "
     "do curl ...; done).", "all accounts", "credentials", "all accounts", "Brute force is feasible."),
]

REPORTS_DE = [
    ("Beim Export unter https://portal.regrooter.example/api/export?format=csv werden auch Datensätze "
     "anderer Mandanten ausgeliefert, wenn man den Parameter „tenant“ leer lässt. Das ist reproduzierbar.",
     "ACME GmbH, Globex AG", "Namen, E-Mail-Adressen, Personalnummern", "ca. 300 Beschäftigte",
     "Hoch – die Daten könnten für gezielte Phishing-Angriffe genutzt werden."),
    ("Im Suchfeld führt die Eingabe von ' OR 1=1 -- zu einem Datenbankfehler (\"ERROR: syntax error at or near\"). "
     "Das sieht nach SQL-Injection aus.", "alle Nutzerinnen und Nutzer", "Zugangsdaten", "potenziell alle Konten",
     "Kontoübernahmen wären möglich."),
    ("Die Fehlerseite zeigt interne Pfade an, z. B. /var/www/regrooter/releases/2026-11-01/app.rb:118 "
     "und die Version des Servers (nginx/1.27.3).", "keine", "keine personenbezogenen Daten", "nur die Fehlerseite",
     "Gering, erleichtert aber weitere Angriffe."),
    ("Ich habe eine E-Mail erhalten, die angeblich von Ihnen stammt (Absender: support@regrooter-de.net) und "
     "zur Eingabe des Passworts auffordert. Der Link führt auf http://regrooter-login.info/?session=abc123.",
     "Kundinnen und Kunden", "Zugangsdaten", "unbekannt", "Mittel bis hoch."),
    ("Nach dem Abmelden ist die Sitzung weiterhin gültig; mit dem alten Cookie (session=eyJhbGciOi...) kann man "
     "weiter auf /api/incidents zugreifen.", "alle Nutzer", "Sitzungen", "alle angemeldeten Konten",
     "Mittel: Wer an ein Cookie kommt, bleibt angemeldet."),
    ("Der Upload akzeptiert Dateien wie bild.php.png – ich konnte eine Datei mit <?php phpinfo(); ?> hochladen, "
     "sie wird aber nicht ausgeführt.", "keine", "keine", "Upload-Funktion", "Gering, solange nichts ausgeführt wird."),
    ("Die Seite lädt Schriften von fonts.googleapis.com – dabei wird die IP-Adresse ohne Einwilligung in die USA "
     "übertragen (vgl. LG München, 3 O 17493/20).", "alle Besucherinnen und Besucher", "IP-Adressen",
     "alle Seitenaufrufe", "Datenschutzrechtlich relevant."),
    ("In der Antwort von GET /api/tenants/acme steht die private E-Mail-Adresse der Geschäftsführerin "
     "(\"contact_email\": \"…@gmx.de\").", "ACME GmbH", "Kontaktdaten", "eine Person", "Gering bis mittel."),
]

CONTACTS = ["finder@example.org", "o'brien@example.ie", "security-research+bugbounty@example.com", "Jana Müller, jana@example.de",
            "@handle on Mastodon (infosec.exchange)", "+49 30 1234567", "anonymous", "pgp: 0x1234ABCD5678EF90"]

INCIDENT_TEXT = [
    "A missing tenant filter in the HR export (GET /api/export) exposed records across tenants between 2026-03-27 09:00 and 11:30 CET.",
    "Ein Mitarbeiter hat eine CSV-Datei mit Kundendaten versehentlich an einen falschen Empfänger geschickt (\"Müller & Söhne\").",
    "Ransomware encrypted the file server; backups from 02:00 are intact and were restored by 14:00.",
    "The attacker used credential stuffing (≈ 12 000 attempts from 40 IPs) against /auth/sign-in; 3 accounts were accessed.",
    "Laptop of a sales rep stolen from a car in Berlin; the disk is encrypted (BitLocker, XTS-AES 256) and the key was not stored with it.",
    "Misconfigured bucket policy allowed public read on s3://regrooter-exports for 6 hours; access logs show 2 downloads from 203.0.113.7.",
]

MEASURES = [
    "Export endpoint disabled; tenant filter enforced in the query layer",
    "Passwords of affected accounts reset; sessions revoked",
    "Four-eyes review for all data exports (Process PR-12)",
    "Bucket policy fixed; S3 Block Public Access enabled account-wide",
    "Mitarbeitende zu E-Mail-Versand geschult; DLP-Regel für CSV-Anhänge aktiviert",
    "Incident playbook updated: customer notification template now bilingual",
    "Alerting on more than 100 failed sign-ins per minute (CloudWatch alarm auth-failures)",
]

PASSWORDS = ["Sommer2026!", "correct horse battery staple", "Tr0ub4dor&3", "L4ngesP@sswort#2026", "7&h$k'Qp;2x",
             "Ünïcödé-Pässwört", "pa55word'with\"quotes", "{Curly}&[Square]<Angle>", "admin123", "hunter2"]

TENANT_NAMES = ["ACME GmbH", "O'Reilly Media GmbH & Co. KG", "Müller & Söhne OHG", "Globex AG",
                "Initech (Europe) Ltd.", "Schmidt-Weber Consulting e.K.", "\"Die Fabrik\" eG", "Café Zeit GmbH"]

cases = []


def add(method, uri, headers=None, body=""):
    h = {"Host": "trust.regrooter.example", "User-Agent": random.choice(BROWSERS)}
    h.update(headers or {})
    cases.append({"id": f"benign-{len(cases) + 1}", "method": method, "uri": uri, "headers": h, "body": body})


def api_headers(content_type=None):
    h = {"Accept": "application/json", "Authorization": "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSJ9.sig",
         "Accept-Language": random.choice(["de-DE,de;q=0.9,en;q=0.8", "en-GB,en;q=0.9"])}
    if content_type:
        h["Content-Type"] = content_type
    return h


def browser_headers():
    return {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": random.choice(["de-DE,de;q=0.9", "en-US,en;q=0.7"]),
            "Accept-Encoding": "gzip, deflate, br", "Sec-Fetch-Mode": "navigate",
            "Upgrade-Insecure-Requests": "1"}


# Browsers: the form, its stylesheet, security.txt.
for lang in ["de", "en", None]:
    for _ in range(8):
        uri = "/security/report" + (f"?lang={lang}" if lang else "")
        add("GET", uri, browser_headers())
for path in ["/security/report.css", "/favicon.ico", "/.well-known/security.txt", "/security.txt", "/", "/healthz"]:
    for _ in range(4):
        add("GET", path, browser_headers())

# Security reports, JSON and form, German and English.
for text in REPORTS_EN + REPORTS_DE:
    lang = "de" if text in REPORTS_DE else "en"
    fields = dict(zip(["description", "affected_parties", "personal_data_kind", "scope", "impact_assessment"], text))
    for variant in range(3):
        body = dict(fields)
        if variant != 2:
            body["reporter_contact"] = random.choice(CONTACTS)
        body["language"] = lang
        if variant == 0:
            add("POST", "/security/reports", {"Content-Type": "application/json", "Accept": "application/json"},
                json.dumps(body, ensure_ascii=False))
        else:
            add("POST", "/security/reports", {**browser_headers(), "Content-Type": "application/x-www-form-urlencoded",
                                              "Origin": "https://trust.regrooter.example",
                                              "Referer": f"https://trust.regrooter.example/security/report?lang={lang}"},
                urllib.parse.urlencode(body))
# Reporters checking their status.
for _ in range(15):
    rid = "rep_" + "".join(random.choice("0123456789abcdef") for _ in range(32))
    add("GET", f"/security/reports/{rid}/status", {"Accept": "application/json",
                                                   "Authorization": "Bearer " + "".join(random.choice("0123456789abcdef") for _ in range(64))})


def inc_id():
    return "inc_" + "".join(random.choice("0123456789abcdef") for _ in range(32))


# Portal API, customers and staff.
for _ in range(20):
    add("GET", random.choice(["/api/incidents", "/api/incidents?status=open", f"/api/incidents/{inc_id()}",
                              "/api/reports", f"/api/incidents/{inc_id()}/audit", "/api/sla/reports?month=2026-10",
                              "/api/retention/plan", "/api/billing/invoices?limit=20&starting_after=in_1QxYz2AbCdEf",
                              "/api/tenants/acme", "/api/users?page=2&per_page=50", "/api/sla/claims?status=pending"]),
        api_headers())
for text in INCIDENT_TEXT:
    draft = {"title": text[:60], "discovered_at": "2026-03-27T08:40:00Z", "aware_at": "2026-03-27T09:00:00Z",
             "breach_types": ["confidentiality"], "nature_and_scope": text, "data_categories": ["contact", "employment"],
             "approx_data_subjects": {"min": 120, "max": 150}, "approx_records": {"min": 300, "max": 300},
             "likely_consequences": "Phishing; disclosure of salary bands. Folgen: gezielte Phishing-Mails möglich.",
             "data_sets": [{"tenant": "acme", "name": "ACME HR records", "role": "processor"}]}
    add("POST", "/api/incidents", api_headers("application/json"), json.dumps(draft, ensure_ascii=False))
    add("PATCH", f"/api/incidents/{inc_id()}", api_headers("application/json"),
        json.dumps({"nature_and_scope": text + " Update: scope confirmed."}, ensure_ascii=False))
for m in MEASURES:
    add("POST", f"/api/incidents/{inc_id()}/measures", api_headers("application/json"),
        json.dumps({"kind": random.choice(["containment", "improvement", "incident_management", "process"]),
                    "what": m, "owner": random.choice(["platform team", "Security", "IT-Betrieb", "DPO office"]),
                    "status": random.choice(["planned", "in_progress", "done"])}, ensure_ascii=False))
for facts in [{"breach_types": ["confidentiality"], "data_categories": ["contact"], "exfiltration": "confirmed"},
              {"breach_types": ["availability"], "backup_restorable": True, "unavailability_hours": 6},
              {"breach_types": ["confidentiality", "availability"], "encrypted_state_of_the_art": True, "key_compromised": False}]:
    add("POST", f"/api/incidents/{inc_id()}/assessment", api_headers("application/json"), json.dumps(facts))
add("POST", f"/api/incidents/{inc_id()}/assessment/override", api_headers("application/json"),
    json.dumps({"risk": "high", "notify_supervisory_authority": True, "communicate_to_data_subjects": True,
                "justification": "Salary data of a small team allows re-identification; we treat it as high risk (Art. 34)."}))
add("POST", f"/api/incidents/{inc_id()}/notifications/customers", api_headers("application/json"), json.dumps({"tenants": ["acme"]}))
add("POST", f"/api/incidents/{inc_id()}/notifications/recorded", api_headers("application/json"),
    json.dumps({"duty": {"kind": "supervisory_authority"}, "sent_at": "2026-03-29T03:00:00Z", "reference": "BfDI-2026-0042"}))
for name in TENANT_NAMES:
    add("PUT", "/api/tenants/" + random.choice(["acme", "globex", "initech", "oreilly"]), api_headers("application/json"),
        json.dumps({"name": name, "contact_email": "privacy@" + random.choice(["acme.example", "oreilly.example", "müller.example"]),
                    "contract": {"deletion_after_service_end": {"days": 90}}}, ensure_ascii=False))
for _ in range(8):
    outages = [{"start": "2026-10-%02dT%02d:00:00Z" % (d, h), "end": "2026-10-%02dT%02d:30:00Z" % (d, h + 1)}
               for d, h in [(random.randint(1, 28), random.randint(0, 20)) for _ in range(random.randint(1, 4))]]
    add("POST", "/api/sla/claims", api_headers("application/json"),
        json.dumps({"month": "2026-10", "outages": outages,
                    "note": random.choice(["Login failed from 10:00 to 11:30 (CET) – see ticket #4711",
                                           "API returned 503 for /api/export; our monitoring (https://status.acme.example) shows it too",
                                           "Kein Zugriff möglich, Fehlermeldung: \"Service Unavailable\""])}, ensure_ascii=False))
for _ in range(4):
    add("POST", "/api/retention/final-deletion", api_headers("application/json"),
        json.dumps({"confirm": "DELETE ALL DATA OF acme", "reason": "Vertrag beendet; bitte alles löschen."}, ensure_ascii=False))
for user in ["jana.mueller@acme.example", "o'brien@oreilly.example", "ops+oncall@regrooter.example"]:
    for password in random.sample(PASSWORDS, 4):
        add("POST", "/auth/sign-in", {"Content-Type": "application/json", "Accept": "application/json"},
            json.dumps({"email": user, "password": password}, ensure_ascii=False))
    add("POST", "/auth/totp", {"Content-Type": "application/json"}, json.dumps({"challenge": "ch_" + "ab12" * 8, "code": "%06d" % random.randint(0, 999999)}))
    add("POST", "/auth/refresh", {"Content-Type": "application/json"}, json.dumps({"refresh_token": "rt_" + "".join(random.choice("ABCDEFabcdef0123456789-_") for _ in range(43))}))
add("GET", "/.well-known/jwks.json", {"Accept": "application/json"})

# Stripe webhooks (the body is passed on byte for byte).
EVENTS = ["customer.subscription.deleted", "invoice.paid", "invoice.payment_failed", "customer.updated", "invoice.finalized"]
for i in range(25):
    event = {"id": f"evt_1Q{i:04d}AbCdEfGhIjKlMnOp", "object": "event", "api_version": "2026-09-30.clover",
             "created": 1795860000 + i, "type": random.choice(EVENTS), "livemode": False,
             "data": {"object": {"id": f"in_1Q{i:04d}XyZ", "object": "invoice", "customer": "cus_QxYz123",
                                 "description": "Subscription update (Pro plan, 12 seats) – <b>thank you!</b>",
                                 "metadata": {"tenant": "acme", "note": "O'Reilly's PO #4711; ref=https://erp.example/po?id=4711&x=1"},
                                 "lines": {"data": [{"description": "1 × Pro (at €49.90 / month)"}]}}}}
    add("POST", "/stripe/webhook", {"Content-Type": "application/json; charset=utf-8",
                                    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                                    "Stripe-Signature": f"t=1795860{i:03d},v1=" + "".join(random.choice("0123456789abcdef") for _ in range(64))},
        json.dumps(event, ensure_ascii=False))

# Searches, filters, pagination and sorting as the portal sends them.
SEARCHES = ["union station", "time zone", "date format", "select box", "drop-down menu", "O'Reilly", "it's late",
            "price < 100", "50% off", "C++ compiler", "a&b", "Müller & Söhne", "order by date", "where is my invoice?",
            "delete account", "update email", "insert coin", "script error", "alert e-mail", "system outage",
            "exec summary", "include attachments", "cat photos", "file not found", "install guide", "sleep mode",
            "from 10:00 to 11:30", "1=1 matching", "SELECT plan", "\"quoted phrase\"", "#hashtag", "[draft]",
            "email@example.com", "https://example.com/page?x=1", "café", "naïve", "Straße", "≥ 95 %", "🙂"]
for q in SEARCHES:
    params = {"q": q, "sort": random.choice(["date", "created_at", "-aware_at", "status"]),
              "order": random.choice(["asc", "desc"]), "page": str(random.randint(1, 9)),
              "limit": random.choice(["20", "50", "100"])}
    add("GET", "/api/incidents?" + urllib.parse.urlencode(params), api_headers())
for _ in range(30):
    params = {"id": str(random.randint(1, 99999)), "from": "2026-%02d-01" % random.randint(1, 12),
              "to": "2026-%02d-28" % random.randint(1, 12), "cursor": "eyJwayI6IlQjYWNtZSIsInNrIjoiSU5DSURFTlQjMTIzIn0",
              "fields": random.choice(["id,status,aware_at", "title", "measures,notices"]),
              "status": random.choice(["open", "closed", "contained", "resolved"]),
              "time": random.choice(["24h", "7d", "30d"]), "date": "2026-11-27"}
    add("GET", random.choice(["/api/incidents", "/api/sla/reports", "/api/reports", "/api/billing/invoices"]) + "?" +
        urllib.parse.urlencode(random.sample(sorted(params.items()), random.randint(2, 6))), api_headers())

# Browsers with cookies and referrers.
COOKIES = ["session=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln; theme=dark",
           "cookie_consent=%7B%22necessary%22%3Atrue%2C%22analytics%22%3Afalse%7D; lang=de",
           "_ga=GA1.2.1234567890.1795860000; _gid=GA1.2.987654321.1795860000",
           "lang=en; tz=Europe%2FBerlin; last_seen=2026-11-27T10%3A00%3A00Z"]
for _ in range(40):
    h = browser_headers()
    h["Cookie"] = random.choice(COOKIES)
    h["Referer"] = random.choice(["https://www.regrooter.de/trust", "https://www.google.com/search?q=regrooter+security+report",
                                   "https://portal.regrooter.example/incidents?status=open&page=2",
                                   "https://www.bing.com/search?q=regrooter%20sicherheitsl%C3%BCcke%20melden"])
    add("GET", random.choice(["/security/report", "/security/report?lang=en", "/security/report?lang=de&utm_source=newsletter&utm_campaign=trust-2026",
                              "/.well-known/security.txt", "/security/report.css"]), h)

# Prose the security team writes into incidents, measures and overrides (narrative fields),
# and customers into SLA claims: long German and English sentences full of ordinary words that
# are also SQL, shell or script keywords.
PROSE = [
    "Please select the affected users from the list and update the table of contacts.",
    "We will delete old exports from the archive and drop the temporary tables after the review.",
    "The union of both data sets covers 140 employees; order of events: alert at 09:00, containment at 09:40.",
    "Bitte wählen Sie die betroffenen Personen aus der Liste aus; danach löschen wir die Kopien (Stand: 10:00 Uhr).",
    "The script that syncs HR data (sync_hr.py) ran with the wrong tenant id; we'll fix it and add tests.",
    "Attackers used 'admin' as user name and passwords like Summer2026!; no account with 2FA was affected.",
    "Time line: 2026-03-27 09:00 aware; 09:40 export disabled; 11:30 fix deployed; 14:00 customers informed.",
    "Die Ursache war ein fehlender Filter (WHERE tenant_id = ?) in der Export-Abfrage; der Fix ist seit 11:30 live.",
    "Cat /etc/passwd was not readable from the web server, as the pen test (ticket SEC-4711) confirmed.",
    "Impact: phishing & identity theft are possible; people should watch for e-mails asking them to 'verify' data.",
    "Der Dienst war von 10:00 bis 11:30 nicht erreichbar – siehe Ticket #4711 und https://status.regrooter.example.",
    "We'll install the patch, restart the service and watch the error rate for 24 h; rollback plan: redeploy v1.4.2.",
]
for text in PROSE:
    add("PATCH", f"/api/incidents/{inc_id()}", api_headers("application/json"),
        json.dumps({"likely_consequences": text}, ensure_ascii=False))
    add("POST", f"/api/incidents/{inc_id()}/measures", api_headers("application/json"),
        json.dumps({"kind": "process", "what": text, "owner": "Security", "status": "planned"}, ensure_ascii=False))
    add("POST", "/api/sla/claims", api_headers("application/json"),
        json.dumps({"month": "2026-10", "outages": [{"start": "2026-10-03T10:00:00Z", "end": "2026-10-03T11:30:00Z"}],
                    "note": text}, ensure_ascii=False))

# Tenant names that happen to be keywords, and exports with file names.
for name in ["Union Investment GmbH", "Select Software AG", "Alert Logic Ltd.", "Script & Co. KG", "Drop GmbH",
             "Order Management Solutions", "System One AG", "Time Systems GmbH", "Exec Consulting", "Insert Media"]:
    add("PUT", "/api/tenants/" + random.choice(["union", "select", "alert", "script"]), api_headers("application/json"),
        json.dumps({"name": name}, ensure_ascii=False))
for fmt in ["csv", "json", "pdf"]:
    add("GET", f"/api/retention/certificates?format={fmt}&file=deletion-certificate-acme-2026-11.{fmt}", api_headers())

# Non-browser clients of the API.
for ua in ["curl/8.5.0", "python-requests/2.32.3", "Go-http-client/2.0", "PostmanRuntime/7.43.0", "okhttp/4.12.0",
           "axios/1.7.9", "Java/21.0.5", "Terraform/1.9.8"]:
    for _ in range(3):
        h = api_headers()
        h["User-Agent"] = ua
        add("GET", random.choice(["/api/incidents", "/api/sla/reports?month=2026-10", "/healthz"]), h)

# Health checks and monitoring.
for _ in range(10):
    add("GET", "/healthz", {"User-Agent": random.choice(["UptimeRobot/2.0", "Better Uptime Bot", "regrooter-sla-probe/0.1"])})

for c in cases:
    print(json.dumps(c, ensure_ascii=False))
