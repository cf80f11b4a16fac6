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

usage: edge_latency.py --pid PID [--floor URL] [--floor-do URL] [--warmup N] EDGE_URL [CRS_CORPUS]
"""
import argparse
import http.client
import itertools
import json
import os
import time
import urllib.parse
from collections import Counter

parser = argparse.ArgumentParser()
parser.add_argument("--pid", required=True, help="the workerd process")
parser.add_argument("--floor", help="a Worker that answers 'ok' in the same process")
parser.add_argument("--floor-do", help="a Worker making one Durable Object round trip")
parser.add_argument("--warmup", type=int, default=3000, help="requests before measuring")
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


def report(name, samples):
    samples = [s for s in samples if s is not None]
    if not samples:
        print(f"{name:40} no answered requests")
        return
    statuses = ", ".join(f"{k}×{v}" for k, v in sorted(Counter(s[1] for s in samples).items()))
    for label, index in (("CPU, main thread", 2), ("CPU, all threads", 3), ("wall time", 0)):
        values = sorted(s[index] for s in samples)
        p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
        print(f"{name:40} {label:16} n={len(values):5}  p50 {p(0.5):6.3f} ms  p95 {p(0.95):6.3f} ms  p99 {p(0.99):6.3f} ms  max {values[-1]:6.3f} ms")
    print(f"{'':40} statuses: {statuses}")
    cpu = sorted(s[2] for s in samples)
    print(f"{'':40} main-thread CPU under 1 ms: {100 * sum(c < 1 for c in cpu) / len(cpu):.2f} % of requests")


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
for request in itertools.islice(itertools.cycle(warm), args.warmup):
    edge.timed(*request)

for name, url in (("floor: a Worker answering 'ok'", args.floor), ("floor: one Durable Object round trip", args.floor_do)):
    if url:
        target = Target(url)
        for _ in range(200):
            target.timed("GET", "/")
        report(name, [target.timed("GET", "/") for _ in range(1000)])
report("security.txt (WAF + rate limiter DO)", [edge.timed("GET", "/.well-known/security.txt") for _ in range(1000)])
report("report form (WAF + rate limiter DO)", [edge.timed("GET", "/security/report?lang=en") for _ in range(1000)])
if attacks:
    samples = [s for s in (edge.timed(*a) for a in attacks) if s is not None]
    # The few the WAF lets through go on to an origin that is not running here: not counted.
    report("CRS attacks blocked by the WAF", [s for s in samples if s[1] == 403])
    print(f"{'':40} {sum(s[1] != 403 for s in samples)} of {len(samples)} attacks not blocked (not counted)")
else:
    print("notice: CRS corpus not found (../shared/corpora/crs); attack latency skipped")
