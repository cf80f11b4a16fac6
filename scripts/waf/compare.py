"""Prints the one side-by-side table of scripts/waf-eval, then the most telling misses and false
positives of our WAF (all of them in OUT_DIR/misses.md).

usage: compare.py OUT_DIR FILE:NAME...
NAME is `crs` (the CRS regression corpus), `attack-<class>` (an attack corpus: share blocked),
or anything else (legitimate traffic: share blocked = false positives). OUT_DIR holds, per NAME,
ours-NAME.jsonl / modsec-NAME.jsonl (verdicts) and ours-NAME.micros / modsec-NAME.micros (wall time
of the whole process), plus ours-startup.micros / modsec-startup.micros (the same on empty input).
Missing ours-* files (scripts/waf-eval --modsec-only) show as —."""
import json
import os
import sys
import urllib.parse

TARGET = ["sqli", "xss", "lfi", "rfi", "rce", "php", "java"]
PREFIX = {"942": "sqli", "941": "xss", "930": "lfi", "931": "rfi", "932": "rce", "933": "php", "944": "java"}
WAFS = ("ours", "modsec")

out = sys.argv[1]


def load(path):
    if not os.path.exists(path):
        return None
    return {str(v["id"]): v for v in map(json.loads, filter(str.strip, open(path)))}


def micros(path):
    return int(open(path).read()) if os.path.exists(path) else None


def pct(a, b):
    return f"{100 * a / b:.1f} % ({a}/{b})" if b else "—"


def blocked(verdicts, case):
    return verdicts is not None and verdicts.get(str(case["id"]), {}).get("action") == "block"


def share(verdicts, cases):
    if verdicts is None:
        return "—"
    return pct(sum(1 for c in cases if blocked(verdicts, c)), len(cases))


timing = {w: [0, 0] for w in WAFS}  # summed (wall - startup) and requests, over all corpora


def per_request(waf, name, n):
    """(wall time of the corpus run - wall time on empty input) / requests, in µs."""
    total, startup = micros(f"{out}/{waf}-{name}.micros"), micros(f"{out}/{waf}-startup.micros")
    if total is None or not n:
        return "—"
    net = max(total - (startup or 0), 0)
    timing[waf][0] += net
    timing[waf][1] += n
    return f"{net / n:.1f} µs"


def shown(case):
    if case.get("payload") or case.get("text"):
        return case.get("payload") or case["text"]
    uri = urllib.parse.unquote_plus(case.get("uri", ""))
    body = case.get("body") or ""
    return (uri + (" " + body if body else ""))[:160]


rows, misses, false_pos = [], {}, []
# What --publish writes (WAF_EVAL_JSON): per corpus, requests and how many each WAF blocked.
published = []
own_attacks = []  # (cases, verdicts) per class: published as one row


def count(verdicts, cases):
    return None if verdicts is None else sum(1 for c in cases if blocked(verdicts, c))


def publish(corpus, kind, cases, verdicts):
    """corpus: (English, German)."""
    published.append({"corpus": corpus[0], "corpus_de": corpus[1], "kind": kind, "requests": len(cases),
                      "ours_blocked": count(verdicts["ours"], cases),
                      "theirs_blocked": count(verdicts["modsec"], cases)})
in_process = {w: [] for w in WAFS}
totals = {"attacks": {w: [0, 0] for w in WAFS}}
summary_done = False
for entry in sys.argv[2:]:
    path, name = entry.rsplit(":", 1)
    cases = [json.loads(l) for l in open(path) if l.strip()]
    verdicts = {w: load(f"{out}/{w}-{name}.jsonl") for w in WAFS}
    times = [per_request(w, name, len(cases)) for w in WAFS]
    for w in WAFS:
        in_process[w] += [v["micros"] for v in (verdicts[w] or {}).values() if "micros" in v]
    if name == "crs":
        first = True
        for cls in TARGET:
            match = [c for c in cases if c["class"] == cls and c["expect"] == "match" and c.get("paranoia_level") == 1]
            rows.append([f"CRS {cls}: match cases (PL1) blocked", len(match)] + [share(verdicts[w], match) for w in WAFS]
                        + (times if first else ["", ""]))
            first = False
        match = [c for c in cases if c["class"] in TARGET and c["expect"] == "match" and c.get("paranoia_level") == 1]
        rows.append(["**CRS, seven classes, PL1**", len(match)] + [f"**{share(verdicts[w], match)}**" for w in WAFS] + ["", ""])
        publish(("OWASP CRS regression tests, seven attack classes, paranoia 1",
                 "Regressionstests des OWASP CRS, sieben Angriffsklassen, Paranoia-Stufe 1"), "attack", match, verdicts)
        match = [c for c in cases if c["class"] in TARGET and c["expect"] == "match"]
        rows.append(["CRS, seven classes, all paranoia levels", len(match)] + [share(verdicts[w], match) for w in WAFS] + ["", ""])
        neg = [c for c in cases if c["class"] in TARGET and c["expect"] == "no_match"]
        cells = []
        for w in WAFS:
            v = verdicts[w]
            if v is None:
                cells.append("—")
                continue
            trip = sum(1 for c in neg if c["class"] in {PREFIX.get(str(r)[:3]) for r in v.get(str(c["id"]), {}).get("rules", [])})
            cells.append(pct(trip, len(neg)))
        rows.append(["CRS no_match cases tripping their class", len(neg)] + cells + ["", ""])
    elif name.startswith("attack-"):
        cls = name[len("attack-"):]
        rows.append([f"attacks: {cls}", len(cases)] + [share(verdicts[w], cases) for w in WAFS] + times)
        own_attacks.append((cases, verdicts))
        for w in WAFS:
            if verdicts[w] is not None:
                totals["attacks"][w][0] += sum(1 for c in cases if blocked(verdicts[w], c))
                totals["attacks"][w][1] += len(cases)
        if verdicts["ours"] is not None:
            misses[cls] = [(c, blocked(verdicts["modsec"], c)) for c in cases if not blocked(verdicts["ours"], c)]
    else:
        label = {"ordinary": "ordinary texts (false positives)", "benign": "platform API traffic (false positives)"}.get(name, name)
        if own_attacks and not any(r["kind"] == "attack" and r["corpus"].startswith("own") for r in published):
            published.append({
                "corpus": f"own attack corpora, {len(own_attacks)} classes (written alongside the rules)",
                "corpus_de": f"eigene Angriffssammlungen, {len(own_attacks)} Klassen (mit den Regeln geschrieben)",
                "kind": "attack", "requests": sum(len(c) for c, _ in own_attacks),
                "ours_blocked": None if any(v["ours"] is None for _, v in own_attacks) else sum(count(v["ours"], c) for c, v in own_attacks),
                "theirs_blocked": None if any(v["modsec"] is None for _, v in own_attacks) else sum(count(v["modsec"], c) for c, v in own_attacks),
            })
        if totals["attacks"]["modsec"][1] and not summary_done:
            summary_done = True
            rows.append(["**attacks, all classes**", totals["attacks"]["modsec"][1]]
                        + [f"**{pct(*totals['attacks'][w])}**" if totals["attacks"][w][1] else "—" for w in WAFS] + ["", ""])
        rows.append([label, len(cases)] + [share(verdicts[w], cases) for w in WAFS] + times)
        publish({"ordinary": ("ordinary texts that only look odd", "gewöhnliche Texte, die nur ungewöhnlich aussehen"),
                 "benign": ("the platform's own API traffic", "Anfragen an die eigene API der Plattform")}.get(name, (name, name)),
                "legitimate", cases, verdicts)
        if verdicts["ours"] is not None:
            false_pos += [(name, c, verdicts["ours"][str(c["id"])], blocked(verdicts["modsec"], c))
                          for c in cases if blocked(verdicts["ours"], c)]

rows.append(["**time per request, all corpora**", timing["modsec"][1] or timing["ours"][1], "", ""]
            + [f"**{timing[w][0] / timing[w][1]:.1f} µs**" if timing[w][1] else "—" for w in WAFS])
print("| corpus, paranoia 1 | requests | ours: blocked | ModSecurity + CRS 3.3.4: blocked | ours: time/request | ModSecurity: time/request |")
print("|---|---:|---:|---:|---:|---:|")
for r in rows:
    print("| " + " | ".join(str(x) for x in r) + " |")
print()
print("Time per request: wall time of the whole process over the corpus minus its wall time on empty input "
      "(process start, rule loading), divided by the requests (ours: best of 3 runs; ModSecurity: one run; "
      "start-up: best of 3) — the same measurement for both "
      "(ours: `regrooter waf check`, the binary given; ModSecurity: libmodsecurity through Python, "
      "which adds the binding's per-call cost).")
# The same requests timed the same way inside each process: the WAF's own work per transaction,
# the request already read (ours: `waf check --timing`, Instant around the inspection;
# ModSecurity: perf_counter around one transaction in modsec.py, binding calls included).
def mean_median(values):
    values = sorted(values)
    return sum(values) / len(values), values[len(values) // 2]


if any(in_process.values()):
    cells = []
    for w, label in (("ours", "ours"), ("modsec", "ModSecurity + CRS")):
        if in_process[w]:
            mean, median = mean_median(in_process[w])
            cells.append(f"{label} mean {mean:.1f} µs, median {median:.1f} µs over {len(in_process[w])} transactions")
        else:
            cells.append(f"{label}: not timed")
    print("Time per transaction inside each process (the inspection alone, the same measurement for both): "
          + "; ".join(cells) + ".")

# The most telling misses: those ModSecurity blocks first, taken round-robin over the classes.
lines = ["# Attacks our WAF lets through", ""]
for cls, items in misses.items():
    lines.append(f"## {cls}: {len(items)} missed ({sum(1 for _, m in items if m)} of them blocked by ModSecurity)")
    lines += [f"- `{c['id']}` {c['place']}{' [ModSecurity blocks]' if m else ''}: `{shown(c)}`" for c, m in items]
    lines.append("")
lines += ["# Legitimate requests our WAF blocks", ""]
lines += [f"- `{c['id']}` ({name}, {c.get('place', c['method'] + ' ' + c['uri'][:40])}) rules {v.get('rules')}"
          f"{' [ModSecurity blocks too]' if m else ''}: `{shown(c)}`" for name, c, v, m in false_pos]
with open(f"{out}/misses.md", "w") as f:
    f.write("\n".join(lines) + "\n")

if misses:
    # One entry per distinct payload (the same payload in several places counts once here).
    ranked = []
    for items in misses.values():
        firsts = {}
        for c, m in items:
            key = shown(c)
            firsts[key] = (firsts[key][0], firsts[key][1] or m) if key in firsts else (c, m)
        ranked.append(sorted(firsts.values(), key=lambda x: not x[1]))
    top = []
    while len(top) < 30 and any(ranked):
        for items in ranked:
            if items and len(top) < 30:
                top.append(items.pop(0))
    print()
    print(f"Attacks our WAF misses ({sum(len(v) for v in misses.values())} requests; 30 most telling distinct payloads, "
          "ModSecurity-blocked first, round-robin over classes):")
    for c, m in top:
        print(f"  {c['id']:10} {c['place']:22} {'MS blocks' if m else 'both miss'}  {shown(c)[:120]!r}")
if false_pos:
    print()
    print(f"Legitimate requests our WAF blocks ({len(false_pos)}):")
    for name, c, v, m in false_pos[:30]:
        print(f"  {c['id']:14} {c.get('place', ''):20} rules {v.get('rules')}{' (MS too)' if m else ''}  {shown(c)[:100]!r}")

if os.environ.get("WAF_EVAL_JSON"):
    import datetime
    document = {
        "measured_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "paranoia": int(os.environ.get("WAF_EVAL_PARANOIA", "1")),
        "compared_with": "ModSecurity v3 + OWASP CRS 3.3.4",
        "rows": [r for r in published if r["ours_blocked"] is not None],
    }
    with open(os.environ["WAF_EVAL_JSON"], "w") as f:
        json.dump(document, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"published {os.environ['WAF_EVAL_JSON']}")
