"""CPU time workerd spends per request, and the wall time the client sees.

CPU is read from the kernel's scheduler statistics of the workerd process's threads
(/proc/<pid>/task/*/schedstat, nanoseconds) before and after each request, sent one at a time:
* the main thread — where workerd runs the Worker (JS, wasm, garbage collection pauses) and the
  Durable Object, and also parses and writes HTTP: the counterpart of what Workers bill as CPU
  time, plus the runtime's own share;
* all threads — adding V8's background threads (optimising compilation of hot wasm functions,
  concurrent marking) for whatever of theirs lands in the window: an upper bound.

Each request comes from its own client address (cf-connecting-ip), as on the internet: the rate
limiter then answers with its normal decision, not with 429s for one hammering client.

With --tokens (one bearer token per line, each for a distinct subject) and a signing origin
behind the edge, the costliest paths are measured as well: a token's first verification
(signature and claims), a token verified before, the origin signature and the forwarding, and
the report intake (validation, then forwarding). The target — the Worker's CPU p99 < 1 ms for
every path, bundle < 1 MB gzipped — is printed with whether it was met; the exit code is 1 when
it was not. The Worker's share of a path is estimated as the path's main-thread CPU p99 minus
that of the floor doing the same I/O (one Durable Object round trip; and one fetch to the origin
for forwarded paths): what workerd spends on HTTP, the Durable Object and the outbound fetch is
not the Worker's CPU time as Workers count it.

usage: edge_latency.py --pid PID [--tokens FILE] [--bundle-gzipped BYTES] [--floor URL]
                       [--floor-do URL] [--warmup N] EDGE_URL [CRS_CORPUS]
"""
import argparse
import http.client
import itertools
import json
import os
import sys
import time
import urllib.parse
from collections import Counter

parser = argparse.ArgumentParser()
parser.add_argument("--pid", required=True, help="the workerd process")
parser.add_argument("--floor", help="a Worker that answers 'ok' in the same process")
parser.add_argument("--floor-do", help="a Worker making one Durable Object round trip")
parser.add_argument("--floor-forward", help="a Worker making that round trip and one fetch to the origin")
parser.add_argument("--warmup", type=int, default=3000, help="requests before measuring")
parser.add_argument("--tokens", help="bearer tokens, one per line, for the API paths")
parser.add_argument("--bundle-gzipped", type=int, help="the wasm bundle's gzipped size in bytes")
parser.add_argument("edge")
parser.add_argument("corpus", nargs="?")
args = parser.parse_args()

addresses = (f"198.51.{a}.{b}" for a, b in itertools.cycle(itertools.product(range(256), range(1, 255))))


def cpu_ns():
    """(main thread, all threads) CPU time of workerd so far, in nanoseconds."""
    main = total = 0
    for task in os.listdir(f"/proc/{args.pid}/task"):
        try:
            ns = int(open(f"/proc/{args.pid}/task/{task}/schedstat").read().split()[0])
        except OSError:
            continue  # a thread that ended between listing and reading
        total += ns
        if task == args.pid:
            main = ns
    return main, total


class Target:
    def __init__(self, url):
        self.url = urllib.parse.urlparse(url)
        self.conn = None

    def timed(self, method, path, headers=None, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=10)
        headers = dict(headers or {})
        headers["cf-connecting-ip"] = next(addresses)
        cpu_before = cpu_ns()
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException, ValueError):
            # ValueError: a corpus header that HTTP/1.1 cannot carry (not Latin-1); skipped.
            self.conn = None
            return None
        wall = (time.perf_counter() - started) * 1000
        time.sleep(0.002)  # let workerd finish what it does after answering
        cpu_after = cpu_ns()
        return (
            wall,
            response.status,
            (cpu_after[0] - cpu_before[0]) / 1e6,
            (cpu_after[1] - cpu_before[1]) / 1e6,
        )


CPU_TARGET_MS = 1.0
BUNDLE_TARGET_BYTES = 1_000_000
# (path, main-thread CPU p99 in ms, its floor) of every edge path measured.
edge_p99 = []
floor_p99 = {}


def report(name, samples, floor=None):
    """Prints a path's figures; with `floor` (the floor doing its I/O) it is an edge path."""
    samples = [s for s in samples if s is not None]
    if not samples:
        print(f"{name:40} no answered requests")
        if floor:
            edge_p99.append((name, None, floor))
        return None
    statuses = ", ".join(f"{k}×{v}" for k, v in sorted(Counter(s[1] for s in samples).items()))
    for label, index in (("CPU, main thread", 2), ("CPU, all threads", 3), ("wall time", 0)):
        values = sorted(s[index] for s in samples)
        p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
        print(f"{name:40} {label:16} n={len(values):5}  p50 {p(0.5):6.3f} ms  p95 {p(0.95):6.3f} ms  p99 {p(0.99):6.3f} ms  max {values[-1]:6.3f} ms")
    print(f"{'':40} statuses: {statuses}")
    cpu = sorted(s[2] for s in samples)
    print(f"{'':40} main-thread CPU under 1 ms: {100 * sum(c < 1 for c in cpu) / len(cpu):.2f} % of requests")
    p99 = cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]
    if floor:
        edge_p99.append((name, p99, floor))
    return p99


def crs_attacks():
    if not args.corpus or not os.path.exists(args.corpus):
        return []
    cases = []
    for line in open(args.corpus):
        case = json.loads(line)
        if case.get("raw_request_b64") or case["expect"] != "match" or case.get("paranoia_level") != 1:
            continue
        if case["class"] not in ("sqli", "xss", "lfi", "rfi", "rce", "php", "java"):
            continue
        headers = {k: v for k, v in (case.get("headers") or {}).items() if k.lower() not in ("host", "content-length", "connection")}
        body = (case.get("body") or "").encode()
        if body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        cases.append((case["method"], case["uri"], headers, body or None))
    return cases


edge = Target(args.edge)
first = edge.timed("GET", "/.well-known/security.txt")
if first:
    print(f"first request after start: CPU {first[2]:.3f} ms main thread, {first[3]:.3f} ms all threads, wall {first[0]:.3f} ms (wasm compilation)")
attacks = crs_attacks()
# Warm up as a running isolate is: V8 compiles wasm with its baseline tier first and optimises
# hot functions in the background, which would otherwise be counted against the first requests.
warm = [("GET", "/.well-known/security.txt", None, None), ("GET", "/security/report?lang=en", None, None)] + attacks
tokens = [t.strip() for t in open(args.tokens)] if args.tokens else []
tokens = [t for t in tokens if t]


def api(token):
    return edge.timed("GET", "/api/incidents", {"Authorization": f"Bearer {token}"})


# The first 50 tokens warm the verification path; the others stay unseen until measured.
for token in tokens[:50]:
    api(token)
    api(token)
tokens = tokens[50:]
for request in itertools.islice(itertools.cycle(warm), args.warmup):
    edge.timed(*request)

FLOORS = (
    ("ok", "floor: a Worker answering 'ok'", args.floor),
    ("do", "floor: one Durable Object round trip", args.floor_do),
    ("forward", "floor: that round trip and one fetch", args.floor_forward),
)
for key, name, url in FLOORS:
    if url:
        target = Target(url)
        for _ in range(200):
            target.timed("GET", "/")
        floor_p99[key] = report(name, [target.timed("GET", "/") for _ in range(1000)])
report("security.txt (WAF + rate limiter DO)", [edge.timed("GET", "/.well-known/security.txt") for _ in range(1000)], "do")
report("report form (WAF + rate limiter DO)", [edge.timed("GET", "/security/report?lang=en") for _ in range(1000)], "do")
if tokens:
    # Each token once: the signature and every claim are checked (first sight).
    first_sight = [api(t) for t in tokens]
    report("API, token at first sight (verify, sign, forward)", first_sight, "forward")
    # One token again and again: the verified token comes from the isolate's cache.
    report("API, token seen before (sign, forward)", [api(tokens[0]) for _ in range(1000)], "forward")
    report_body = json.dumps({
        "description": "The export endpoint returns other customers' records when the id is changed.",
        "affected_parties": "ACME GmbH employees",
        "personal_data_kind": "names and e-mail addresses",
        "scope": "about 10 people",
        "impact_assessment": "Disclosure of contact data to another customer.",
        "language": "en",
    }).encode()
    report("report intake (validate, sign, forward)", [
        edge.timed("POST", "/security/reports", {"Content-Type": "application/json"}, report_body)
        for _ in range(1000)
    ], "forward")
    if not any(s and s[1] == 200 for s in first_sight):
        print("the API requests were not answered 200: no origin behind the edge?", file=sys.stderr)
        sys.exit(1)
else:
    print("notice: no --tokens: token verification, origin signature and forwarding not measured")
if attacks:
    samples = [s for s in (edge.timed(*a) for a in attacks) if s is not None]
    # The few the WAF lets through go on to an origin that is not running here: not counted.
    report("CRS attacks blocked by the WAF", [s for s in samples if s[1] == 403], "do")
    print(f"{'':40} {sum(s[1] != 403 for s in samples)} of {len(samples)} attacks not blocked (not counted)")
else:
    print("notice: CRS corpus not found (../shared/corpora/crs); attack latency skipped")

print()
met = True
for name, p99, floor in edge_p99:
    base = floor_p99.get(floor)
    if p99 is None or base is None:
        met = False
        print(f"target Worker CPU p99 < {CPU_TARGET_MS:g} ms, {name}: not measured (no answers, or no floor): NOT met")
        continue
    own = p99 - base
    ok = own < CPU_TARGET_MS
    met &= ok
    print(f"target Worker CPU p99 < {CPU_TARGET_MS:g} ms, {name}: {p99:.3f} ms − floor {base:.3f} ms = {own:.3f} ms: {'met' if ok else 'NOT met'}")
if args.bundle_gzipped is not None:
    ok = args.bundle_gzipped < BUNDLE_TARGET_BYTES
    met &= ok
    print(f"target bundle < 1 MB gzipped: {args.bundle_gzipped} bytes: {'met' if ok else 'NOT met'}")
sys.exit(0 if met else 1)
