"""Runs ModSecurity v3 with the OWASP Core Rule Set over JSONL requests (the same format and the
same request construction as `regrooter waf check`) and writes one verdict line per request:
{"id", "action", "score", "rules", "micros"}.

usage: modsec.py CRS_DIR PARANOIA < requests.jsonl > verdicts.jsonl
CRS_DIR holds crs-setup.conf and rules/ (Debian's modsecurity-crs 3.3.4 unpacked)."""
import base64
import json
import os
import sys
import time

from libmodsecurity import ModSecurity, RulesSet

crs, paranoia = sys.argv[1], int(sys.argv[2])

BASE = f"""
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 1048576
SecRequestBodyLimitAction Reject
SecPcreMatchLimit 100000
SecPcreMatchLimitRecursion 100000
SecArgumentSeparator &
SecCookieFormat 0
SecStatusEngine Off
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.'"
SecAction "id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level={paranoia}"
SecAction "id:900200,phase:1,nolog,pass,t:none,setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'"
"""

# The same per-route exclusions the edge WAF has (edge/src/waf/mod.rs): the report's free-text
# fields and the narrative fields of incidents and SLA claims are not inspected, and the Stripe
# webhook body is passed on uninspected.
FIELDS = ["description", "affected_parties", "personal_data_kind", "scope", "impact_assessment"]
NARRATIVE = ["nature_and_scope", "likely_consequences", "what", "justification", "title", "note", "reason"]
EXCLUSIONS = "\n".join([
    'SecRule REQUEST_FILENAME "@streq /security/reports" "id:1000,phase:1,pass,nolog,' +
    ",".join(f"ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:{p}{f}" for f in FIELDS for p in ("", "json.")) + '"',
    'SecRule REQUEST_FILENAME "@streq /stripe/webhook" "id:1001,phase:1,pass,nolog,ctl:requestBodyAccess=Off"',
    'SecRule REQUEST_FILENAME "@rx ^/api/(?:incidents|sla|reports/)" "id:1002,phase:1,pass,nolog,' +
    ",".join(f"ctl:ruleRemoveTargetByTag=OWASP_CRS;ARGS:{p}{f}" for f in NARRATIVE for p in ("", "json.")) + '"',
])

rules = RulesSet()
if rules.load(BASE + EXCLUSIONS) < 0:
    sys.exit(rules.get_parser_error())
for path in [os.path.join(crs, "crs-setup.conf")] + sorted(
        os.path.join(crs, "rules", f) for f in os.listdir(os.path.join(crs, "rules"))
        if f.endswith(".conf") and f.startswith("REQUEST-") and "910" not in f):
    if rules.load_from_uri(path) < 0:
        sys.exit(f"{path}: {rules.get_parser_error()}")

engine = ModSecurity()
engine.set_connector_information("regrooter-waf-eval")

for line in sys.stdin:
    if not line.strip():
        continue
    case = json.loads(line)
    if case.get("raw_request_b64"):
        raw = base64.b64decode("".join(case["raw_request_b64"].split()))
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        method, uri, version = (parts + ["", "", ""])[:3]
        headers = [l.split(":", 1) for l in lines[1:] if ":" in l]
        headers = [(k, v.strip()) for k, v in headers]
    else:
        method, uri, version = case["method"], case["uri"], case.get("version", "HTTP/1.1")
        headers = list((case.get("headers") or {}).items())
        body = (case.get("body") or "").encode()
        names = {k.lower() for k, _ in headers}
        if "host" not in names:
            headers.append(("Host", "localhost"))
        if body and "content-length" not in names and "transfer-encoding" not in names:
            headers.append(("Content-Length", str(len(body))))
        if body and "content-type" not in names:
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
    started = time.perf_counter()
    with engine.transaction(rules) as t:
        t.process_connection("203.0.113.10", 40000, "127.0.0.1", 80)
        t.process_uri(uri, method, version.replace("HTTP/", "") or "1.1")
        for k, v in headers:
            t.add_request_header(k, v)
        t.process_request_headers()
        it = t.intervention()
        if not (it and it.disruptive):
            if body:
                t.append_request_body(body)
            t.process_request_body()
            it = t.intervention()
        blocked = bool(it and it.disruptive)
        matched = sorted({m.rule_id for m in t.get_rule_messages() if 900000 < m.rule_id < 949000})
        t.process_logging()
    micros = (time.perf_counter() - started) * 1e6
    print(json.dumps({"id": case.get("id"), "action": "block" if blocked else "allow",
                      "score": None, "rules": matched, "micros": round(micros, 1)}))
