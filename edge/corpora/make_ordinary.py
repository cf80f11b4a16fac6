"""Writes ordinary.jsonl: legitimate German and English texts that only look odd to a WAF — prose
that starts with command names, SQL words, quotes and apostrophes, math, paths, code-ish but harmless
text — in the platform's real request shapes (search queries, customer and user names, sign-in with
real-world passwords, reporter contacts, incident and SLA claim notes). Every request must pass: a
block is a false positive. Deterministic (no randomness: choices rotate through fixed lists).

Most texts land in inspected places (search `q`, names, passwords, contacts, a search-engine
Referer); some in the narrative fields the WAF leaves uninspected by design (`note`,
`nature_and_scope`, `what`), as the platform really sends them. Each line carries `place`.

usage: python3 make_ordinary.py > ordinary.jsonl"""
import json
import urllib.parse

HOST = "trust.regrooter.example"
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:139.0) Gecko/20100101 Firefox/139.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Mobile/15E148 Safari/604.1",
]
BEARER = "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSJ9.sig"

# Prose and phrases people really type: search queries, questions, notes.
TEXTS = [
    # Prose that starts with (or contains) command names.
    "bash is my favourite shell", "curl up with a book and forget the outage", "ls ist die Abkürzung für list",
    "nc steht für North Carolina", "zsh vs bash: which one?", "cat pictures from the office party",
    "find my invoice from October", "more details on the SLA claim", "less is more: our new dashboard",
    "sort by date, newest first", "kill the noise: fewer alerts, better alerts", "ping me when the fix is live",
    "make sure the export is encrypted", "man page for the CLI?", "top 10 incidents this year",
    "who is the data protection officer?", "time zone of the report: Europe/Berlin", "date format DD.MM.YYYY",
    "echo from the past: old tickets resurfacing", "touch base next week about retention",
    "tail end of the incident: customer calls", "head of IT at Müller & Söhne", "grep through the audit log for 'acme'",
    "sudo make me a sandwich (xkcd 149)", "git push failed, is the portal down?", "python script for the HR export",
    "perl and ruby are still used in our legacy stack", "wget is not installed on the jump host",
    "java update broke the VPN client", "node version 20 required", "sh: the abbreviation of Schleswig-Holstein",
    "rm 12 – Raummiete für 12 Monate", "cp = Customer Portal", "df – Datenschutzfolgenabschätzung (DSFA)",
    "ps: bitte Rückruf bis Freitag", "id card lost at the train station", "env variables are documented in README",
    "exec summary for the board", "system outage on Monday morning", "shell company? no, Shell plc is our customer",
    "at 10:00 the service was back", "ssh access for the auditor", "telnet is disabled everywhere",
    "dig deeper into the root cause", "host name changed after migration", "whoami – Kundennummer vergessen",
    # JavaScript and code-ish but harmless.
    "JavaScript: the good parts", "Java vs. JavaScript – not the same thing", "alert e-mails arrive twice",
    "script error on the report page in Safari", "onload of the page takes 8 s", "document.cookie banner is annoying",
    "window.open does not work in the app", "use <b>bold</b> in the e-mail template?", "Markdown: **bold** and _italic_",
    "# Heading\n\n- item 1\n- item 2", "`npm install` fails with EACCES", "[link](https://status.regrooter.example)",
    "C:\\Users\\Jana\\Documents\\Berichte\\2026", "Windows 11/10: export fails", "D:\\Backups\\acme_2026-10.zip not found",
    "path /home/jana/exports is full", "file:incident-4711.pdf", "Version 2.4.1/2.5.0 changelog",
    "TCP/IP settings for the VPN", "and/or: both apply", "km/h and m/s", "24/7 support?", "I/O error on upload",
    "https://portal.regrooter.example/incidents?status=open&page=2", "https://example.com/a?b=1&c=2#top",
    "e-mail signature: --\nJana Müller | IT-Sicherheit\nMüller & Söhne OHG | Tel. +49 30 1234-567",
    "Mit freundlichen Grüßen\n-- \nDr. Hans-Jürgen Öztürk", "Regards,\nO'Neil\n\"Security is a process\"",
    "Math::BigInt overflow in the Perl export", "std::string vs. char* in the C++ SDK",
    "Nokogiri::XML::Text in the Ruby client", "u64::MAX in the Rust SDK", "PostgreSQL: is id::text slow?",
    "rename `old` as `new` from the next release", "alias names: Jana, J. Müller", "Alias +49 Nummer",
    "{name} placeholder is not replaced in the mail", "{{ customer }} shows up literally in the PDF",
    "${amount} appears instead of the amount", "the <select> box is empty", "<3 thanks for the quick fix",
    "a -> b -> c", "x => x * 2", "foo(bar)", "if (a > b) then escalate", "price < 100 EUR",
    "SELECT plan: which is cheaper?", "array[0] is empty", "key=value pairs in the CSV", "50% of tickets closed",
    "100 % Verfügbarkeit im Oktober?", "#hashtag #infosec", "@jana please check", "user@example.com cannot sign in",
    # Quotes and apostrophes.
    "O'Reilly", "O'Brien & Partners", "it's 5' 10\"", "Don't delete the 'old' exports", "the \"Monday\" outage",
    "Shaquille O'Neal", "Rock 'n' Roll Café", "L'Oréal Deutschland GmbH", "D'Angelo's Pizza", "it's not a bug, it's a feature",
    "„Anführungszeichen“ und ‚halbe‘", "»Guillemets« sind auch erlaubt", "'single' and \"double\" quotes",
    "he said: 'select the best one'", "5'11\" tall", "the 90's", "Ma'am, your ticket", "can't log in since Tuesday",
    # SQL words in prose.
    "select the best option and update your profile", "drop us a line", "insert coin to continue",
    "delete my account please", "union station", "order by date", "where is my invoice?", "join the webinar",
    "group by department", "from 10:00 to 11:30", "create a new tenant for Globex", "alter ego of the admin",
    "table of contents", "truncate the long description?", "grant access to the DPO", "revoke the old API key",
    "commit to the SLA", "rollback plan for the release", "having trouble with the export", "case closed",
    "null and void", "Select Software AG", "Union Investment", "Drop GmbH", "1 or 2 users affected",
    "she works as admin from home", "known as Jana from the sales team", "same as yesterday from the portal",
    # A command name as the first word after a semicolon, a line break or an ampersand: prose.
    "Das ist gut; man kann es nutzen.", "Preis fair; top Qualität", "see below; more info soon",
    "we tried; find out more", "it works; less is more", "done; make sure it works", "it failed; who knows why",
    "later; time will tell", "the meeting; date is open", "it was; sort of fine",
    "Hallo Team,\nman sieht den Fehler seit Montag", "Danke & dir ein schönes Wochenende",
    "Der Ort hieß früher Haßelt (1599) und Herslo (1475)",
    # A bracket or quote closed before a semicolon.
    "Meeting (Raum 3); bring laptop", "Termin: Mo (12.10.); Di (13.10.)", "Überweisung (Ref. 2026-10); Betrag 49,90 €",
    "He said \"yes\"; then he left", "the 'old' export; the new one works",
    "between 10 and 20 records", "like last time", "and then there were none", "or else the data is lost",
    "Bitte wählen Sie (select) die richtige Option", "Update: Ursache gefunden", "Insert-Taste klemmt",
    # Math and comparisons.
    "1=1", "a<b", "x > y", "2+2=4", "a <= b and b >= c", "x != y", "1 = 1 is always true", "3 < 4 > 2",
    "E = mc^2", "f(x) = x^2 + 1", "sqrt(16) = 4", "10 % 3 = 1", "1/3 ≈ 0,333", "∑ aller Ausfälle < 4 h",
    "2 > 1 and 1 > 0", "x == y", "a || b", "a && b", "100 > 99", "-1", "0x1F", "1e10",
    # German umlauts, ß, addresses, names.
    "Straße", "Grüße aus Köln", "Müller-Lüdenscheidt", "Fußgängerzone", "Größe: XL", "Übersicht der Vorfälle",
    "Äpfel & Birnen GmbH", "Schloßallee 1, 12345 Berlin", "Hauptstraße 5a, 80331 München", "c/o Meier, Postfach 10 20 30",
    "Königstraße 12 / Hinterhaus, 3. OG", "Rue de l'Église 4, 1000 Bruxelles", "10 Downing St, London SW1A 2AA",
    "1600 Pennsylvania Ave NW, Washington, DC 20500", "Zoë Çelik-Ñúñez", "Jürgen Groß", "Ärzte ohne Grenzen e.V.",
    "Café Zeit GmbH", "naïve façade", "Øresund A/S", "Łódź", "Ľubomír Šťastný",
    # Product names with dots and slashes.
    "Node.js", "ASP.NET Core", "Vue.js/Nuxt", "C/C++", "C#", "F#", ".NET 8", "Windows Server 2022 R2",
    "macOS 14.6 / iOS 18.3", "Office 365 / Microsoft 365", "SAP S/4HANA", "TCP/UDP 443", "AT&T", "H&M", "P&G",
    "Procter & Gamble", "Ben & Jerry's", "Yahoo!", "Toys\"R\"Us", "E*TRADE", "Panic! at the Disco",
    # Support questions with odd characters.
    "Why does the report say \"access denied\" for C:\\Users\\Jana?", "Is the export compliant with Art. 28 (3) GDPR?",
    "Fehler: \"Service Unavailable\" (503) seit 10:00", "HTTP 500 – what's wrong?", "Error: ENOENT: no such file or directory",
    "NullPointerException in the mobile app", "stack trace: at com.example.App.main(App.java:42)",
    "Wie lösche ich Daten (Art. 17 DSGVO)?", "§ 26 BDSG: Beschäftigtendaten", "Ticket #4711 / #4712",
    "Can I use ; or , as CSV separator?", "Tab\tseparated\tvalues", "Umlaute im Export: ä ö ü ß kaputt?",
    "emoji in names 🙂 break the PDF", "≥ 99,9 % Verfügbarkeit", "€ 49,90 / Monat", "£/$ conversion",
    # Near the rules added after the held-out lists (quoted words, paths, variables, returns).
    "Is the field 'email' or phone required?", "Filter: 'active' and archived items like before",
    "Die Zertifikate liegen unter /etc/ssl/certs auf dem Host", "Config path: /etc/regrooter (read-only)",
    "Set LANG=de_DE; then restart the app", "(Berlin) or (Munich) = both offices", "Cost: 10 or 12 -- depends",
    "The check should return true; it returns false", "Header: Subject and To are both missing",
]

NAMES = ["O'Reilly Media GmbH & Co. KG", "Müller & Söhne OHG", "\"Die Fabrik\" eG", "L'Oréal Deutschland GmbH",
         "Select Software AG", "Union Investment GmbH", "Drop GmbH", "Script & Co. KG", "Alert Logic Ltd.",
         "Exec Consulting", "Shell Deutschland GmbH", "Curl & Locke Friseure", "Cat Construction", "Bash Brothers Ltd.",
         "Java Kaffeerösterei", "Python Software Foundation", "Ruby's Diner", "Perl Schmuck GmbH", "Find & Seek e.K.",
         "Ping An Insurance", "Tail Spin Toys", "Head & Shoulders", "AT&T Germany", "Ben & Jerry's", "Yahoo! Inc.",
         "Toys\"R\"Us", "E*TRADE", "Øresund A/S", "Zoë Çelik-Ñúñez", "Dr. Hans-Jürgen Öztürk", "Shaquille O'Neal",
         "D'Angelo's Pizza", "Rock 'n' Roll Café", "Äpfel & Birnen GmbH", "1&1 Versatel", "C&A Mode", "Sky & Sand (Pty) Ltd.",
         "Smith, Jones & Co.", "Cost+ Market", "Alpha/Beta Labs"]

PASSWORDS = ["Sommer2026!", "correct horse battery staple", "Tr0ub4dor&3", "L4ngesP@sswort#2026", "7&h$k'Qp;2x",
             "Ünïcödé-Pässwört", "pa55word'with\"quotes", "{Curly}&[Square]<Angle>", "1=1isTrue!", "<3MyCat2026",
             "C:\\Temp\\pw2026", "$(Sommer)2026", "%Herbst%2026", "a'b\"c;d", "Dr0p$hip!", "Select*From2026",
             "ls-la!2026", "|Pipe|Dream|99", "`Backtick`2026", "Grüße/Köln/2026", "~!@#$%^&*()_+", "--Minus--2026",
             "Or1=1notreally", "P@ss w0rd mit Leerzeichen", "echo$HOME2026",
             "Pa$$w0rd;", "O'Brien#1965", "semi;colon;2026"]

CONTACTS = ["o'brien@example.ie", "Jana Müller, jana@example.de", "+49 (0)30 1234-567, nicht vor 9 Uhr",
            "@handle on Mastodon (infosec.exchange)", "pgp: 0x1234ABCD5678EF90", "security-research+bugbounty@example.com",
            "Signal: +49 170 1234567 / Threema: ABCD1234", "Dr. Öztürk (IT-Sicherheit), Tel. 089/123456",
            "\"Max\" Mustermann <max@example.org>", "anonymous – please reply via the status page",
            "Keybase: jana; Matrix: @jana:matrix.org", "C/O Meier, Postfach 10 20 30, 10115 Berlin"]

SORTS = ["date", "created_at", "-aware_at", "status"]

cases = []


def add(place, text, method, uri, headers, body=""):
    h = {"Host": HOST, "User-Agent": UAS[len(cases) % len(UAS)]}
    h.update(headers)
    cases.append({"id": f"ordinary-{len(cases) + 1:04d}", "place": place, "text": text, "method": method, "uri": uri,
                  "headers": h, "body": body})


def api(content_type=None):
    h = {"Accept": "application/json", "Authorization": BEARER,
         "Accept-Language": ["de-DE,de;q=0.9,en;q=0.8", "en-GB,en;q=0.9"][len(cases) % 2]}
    if content_type:
        h["Content-Type"] = content_type
    return h


def browser():
    return {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "de-DE,de;q=0.9", "Accept-Encoding": "gzip, deflate, br"}


def inc(i):
    return "inc_%032x" % (0x5f0c3a9e2b7d4c18a6e3f90b1d2c4e7a + i)


for i, text in enumerate(TEXTS):
    # Every text is a search query (the portal's search box, inspected).
    params = {"q": text, "sort": SORTS[i % len(SORTS)], "order": ["asc", "desc"][i % 2], "page": str(1 + i % 5)}
    add("query:q", text, "GET", "/api/incidents?" + urllib.parse.urlencode(params), api())
    # ...and one more real shape, rotating.
    shape = i % 6
    if shape == 0:
        add("json:note", text, "POST", "/api/sla/claims", api("application/json"),
            json.dumps({"month": "2026-10", "outages": [{"start": "2026-10-03T10:00:00Z", "end": "2026-10-03T11:30:00Z"}],
                        "note": text}, ensure_ascii=False))
    elif shape == 1:
        add("json:nature_and_scope", text, "PATCH", f"/api/incidents/{inc(i)}", api("application/json"),
            json.dumps({"nature_and_scope": text}, ensure_ascii=False))
    elif shape == 2:
        h = browser()
        h["Referer"] = "https://www.google.com/search?" + urllib.parse.urlencode({"q": text, "hl": "de"})
        add("header:Referer", text, "GET", "/security/report", h)
    elif shape == 3:
        add("query:search", text, "GET", "/api/users?" + urllib.parse.urlencode({"search": text, "per_page": "50"}), api())
    elif shape == 4:
        add("json:what", text, "POST", f"/api/incidents/{inc(i)}/measures", api("application/json"),
            json.dumps({"kind": "process", "what": text, "owner": "Security", "status": "planned"}, ensure_ascii=False))
    else:
        add("json:display_name", text[:80], "PATCH", "/api/users/u_42", api("application/json"),
            json.dumps({"display_name": text[:80]}, ensure_ascii=False))

for i, name in enumerate(NAMES):
    add("json:name", name, "PUT", "/api/tenants/" + ["acme", "globex", "initech", "oreilly"][i % 4], api("application/json"),
        json.dumps({"name": name, "contact_email": "privacy@acme.example"}, ensure_ascii=False))
    add("json:display_name", name, "POST", "/api/users", api("application/json"),
        json.dumps({"display_name": name, "email": f"user{i}@acme.example", "role": "customer"}, ensure_ascii=False))

for i, password in enumerate(PASSWORDS):
    user = ["jana.mueller@acme.example", "o'brien@oreilly.example", "ops+oncall@regrooter.example"][i % 3]
    add("json:password", password, "POST", "/auth/sign-in", {"Content-Type": "application/json", "Accept": "application/json"},
        json.dumps({"email": user, "password": password}, ensure_ascii=False))

for i, contact in enumerate(CONTACTS):
    body = {"description": "Der Export zeigt Daten anderer Mandanten.", "affected_parties": "ACME GmbH",
            "personal_data_kind": "Namen", "scope": "ca. 300", "impact_assessment": "hoch",
            "reporter_contact": contact, "language": ["de", "en"][i % 2]}
    h = browser()
    h.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://{HOST}",
              "Referer": f"https://{HOST}/security/report?lang=de"})
    add("form:reporter_contact", contact, "POST", "/security/reports", h, urllib.parse.urlencode(body))
    add("json:reporter_contact", contact, "POST", "/security/reports", {"Content-Type": "application/json", "Accept": "application/json"},
        json.dumps(body, ensure_ascii=False))

for c in cases:
    print(json.dumps(c, ensure_ascii=False))
