"""Scores WAF verdicts against the CRS regression corpus: detection of `match` cases per class at
paranoia level 1, and false positives on `no_match` cases of the same class.

usage: score.py CORPUS VERDICTS [--misses CLASS]"""
import collections
import json
import sys

TARGET = ["sqli", "xss", "lfi", "rfi", "rce", "php", "java"]
PREFIX = {"942": "sqli", "941": "xss", "930": "lfi", "931": "rfi", "932": "rce", "933": "php", "944": "java",
          "934": "generic", "920": "protocol", "921": "protocol-attack", "911": "method", "913": "scanner"}


def classes_of(rules):
    return {PREFIX.get(str(r)[:3], "other") for r in rules}


def main():
    corpus = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    verdicts = {}
    for l in open(sys.argv[2]):
        if l.strip():
            v = json.loads(l)
            verdicts[str(v["id"])] = v
    misses_for = sys.argv[sys.argv.index("--misses") + 1] if "--misses" in sys.argv else None
    det = collections.Counter(); tot = collections.Counter(); fp = collections.Counter(); neg = collections.Counter()
    for case in corpus:
        v = verdicts.get(str(case["id"]))
        if v is None or "error" in v:
            continue
        cls, pl = case["class"], case.get("paranoia_level")
        if case["expect"] == "match":
            key = (cls, pl == 1)
            tot[key] += 1
            if v["action"] == "block":
                det[key] += 1
            elif misses_for == cls and pl == 1:
                print("MISS", case["id"], case.get("method"), case.get("uri", "")[:100], (case.get("body") or "")[:100])
        elif case["expect"] == "no_match":
            neg[cls] += 1
            if cls in classes_of(v.get("rules", [])):
                fp[cls] += 1
    print("class    PL1 detected      all levels        no_match tripping the class")
    all_det = all_tot = 0
    for cls in sorted({c for c, _ in tot} | set(neg)):
        d1, t1 = det[(cls, True)], tot[(cls, True)]
        da, ta = d1 + det[(cls, False)], t1 + tot[(cls, False)]
        if cls in TARGET:
            all_det += d1; all_tot += t1
        pct = lambda a, b: f"{100*a/b:5.1f}%" if b else "    -"
        print(f"{cls:16} {d1:4}/{t1:<4} {pct(d1,t1)}  {da:4}/{ta:<4} {pct(da,ta)}  {fp[cls]:3}/{neg[cls]:<3}")
    print(f"TARGET classes at PL1: {all_det}/{all_tot} = {100*all_det/max(all_tot,1):.1f}%")


main()
