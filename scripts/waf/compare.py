"""Prints the side-by-side table of scripts/waf-eval. usage: compare.py OUT_DIR FILE:NAME..."""
import json
import os
import sys

TARGET = ["sqli", "xss", "lfi", "rfi", "rce", "php", "java"]
PREFIX = {"942": "sqli", "941": "xss", "930": "lfi", "931": "rfi", "932": "rce", "933": "php", "944": "java"}

out = sys.argv[1]
rows = []


def load(path):
    return {str(v["id"]): v for v in map(json.loads, filter(str.strip, open(path)))}


def pct(a, b):
    return f"{100 * a / b:.1f} % ({a}/{b})" if b else "—"


for entry in sys.argv[2:]:
    path, name = entry.rsplit(":", 1)
    cases = [json.loads(l) for l in open(path) if l.strip()]
    ours, modsec = load(f"{out}/ours-{name}.jsonl"), load(f"{out}/modsec-{name}.jsonl")
    ours_micros = int(open(f"{out}/ours-{name}.micros").read()) / max(len(cases), 1)
    modsec_micros = sum(v.get("micros", 0) for v in modsec.values()) / max(len(modsec), 1)
    if name == "crs":
        print("| CRS corpus, paranoia 1 | ours | ModSecurity + CRS 3.3.4 |")
        print("|---|---:|---:|")
        total = {"ours": [0, 0], "modsec": [0, 0]}
        for cls in TARGET:
            match = [c for c in cases if c["class"] == cls and c["expect"] == "match" and c.get("paranoia_level") == 1]
            cells = []
            for key, verdicts in (("ours", ours), ("modsec", modsec)):
                hit = sum(1 for c in match if verdicts.get(str(c["id"]), {}).get("action") == "block")
                total[key][0] += hit
                total[key][1] += len(match)
                cells.append(pct(hit, len(match)))
            print(f"| {cls}: match cases blocked | {cells[0]} | {cells[1]} |")
        print(f"| **all seven classes** | **{pct(*total['ours'])}** | **{pct(*total['modsec'])}** |")
        for label, level in (("all paranoia levels", None),):
            match = [c for c in cases if c["class"] in TARGET and c["expect"] == "match"]
            cells = [pct(sum(1 for c in match if v.get(str(c["id"]), {}).get("action") == "block"), len(match)) for v in (ours, modsec)]
            print(f"| seven classes, cases of {label} | {cells[0]} | {cells[1]} |")
        neg = [c for c in cases if c["class"] in TARGET and c["expect"] == "no_match"]
        cells = []
        for verdicts in (ours, modsec):
            trip = sum(1 for c in neg if c["class"] in {PREFIX.get(str(r)[:3]) for r in verdicts.get(str(c["id"]), {}).get("rules", [])})
            cells.append(pct(trip, len(neg)))
        print(f"| no_match cases tripping their class | {cells[0]} | {cells[1]} |")
        print(f"| time per request | {ours_micros:.1f} µs | {modsec_micros:.1f} µs |")
    else:
        blocked = {k: [c for c in cases if v.get(str(c["id"]), {}).get("action") == "block"] for k, v in (("ours", ours), ("modsec", modsec))}
        print()
        print(f"| benign corpus ({len(cases)} requests) | ours | ModSecurity + CRS 3.3.4 |")
        print("|---|---:|---:|")
        print(f"| false positives (blocked) | {pct(len(blocked['ours']), len(cases))} | {pct(len(blocked['modsec']), len(cases))} |")
        print(f"| time per request | {ours_micros:.1f} µs | {modsec_micros:.1f} µs |")
        for key in ("ours", "modsec"):
            for c in blocked[key][:15]:
                v = (ours if key == "ours" else modsec)[str(c["id"])]
                print(f"  {key} blocks {c['id']}: {c['method']} {c['uri'][:60]} rules {v.get('rules')}")
