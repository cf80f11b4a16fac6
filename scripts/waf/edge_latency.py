"""CPU time workerd spends per request the Worker answers itself, and the wall time seen by the
client. CPU is read from the kernel's scheduler statistics of every workerd thread
(/proc/<pid>/task/*/schedstat, nanoseconds) before and after each request, sent one at a time,
so it covers everything workerd does for the request: HTTP, the JS glue, our wasm, and the rate
limiter's Durable Object. usage: edge_latency.py BASE_URL [CRS_CORPUS]"""
import http.client
import json
import os
import statistics
import sys
import time
import urllib.parse

base = urllib.parse.urlparse(sys.argv[1])
corpus = sys.argv[2] if len(sys.argv) > 2 else None


def workerd_pids():
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if open(f"/proc/{pid}/comm").read().strip() == "workerd":
                    pids.append(pid)
            except OSError:
                pass
    return pids


PIDS = workerd_pids()


def cpu_ns():
    total = 0
    for pid in PIDS:
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except OSError:
            pass
    return total


def timed(conn, method, path, headers=None, body=None):
    cpu_before = cpu_ns()
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    response.read()
    wall = (time.perf_counter() - started) * 1000
    time.sleep(0.002)  # let workerd finish what it does after answering
    cpu = (cpu_ns() - cpu_before) / 1e6
    return wall, response.status, cpu


def report(name, samples):
    for label, index in (("CPU in workerd", 2), ("wall time", 0)):
        values = sorted(s[index] for s in samples)
        p = lambda q: values[min(len(values) - 1, int(q * len(values)))]
        print(f"{name:38} {label:15} n={len(values):5}  p50 {p(0.5):6.3f} ms  p95 {p(0.95):6.3f} ms  p99 {p(0.99):6.3f} ms")


conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
for _ in range(20):  # warm the isolate
    timed(conn, "GET", "/.well-known/security.txt")
print(f"workerd processes: {PIDS}")
samples = [timed(conn, "GET", "/.well-known/security.txt") for _ in range(400)]
report("security.txt (WAF + rate limiter DO)", samples)
samples = [timed(conn, "GET", "/security/report?lang=en") for _ in range(400)]
report("report form (WAF + rate limiter DO)", samples)
if corpus and os.path.exists(corpus):
    blocked = []
    for line in open(corpus):
        case = json.loads(line)
        if case.get("raw_request_b64") or case["expect"] != "match" or case.get("paranoia_level") != 1:
            continue
        if case["class"] not in ("sqli", "xss", "lfi", "rfi", "rce", "php", "java"):
            continue
        headers = {k: v for k, v in (case.get("headers") or {}).items() if k.lower() not in ("host", "content-length", "connection")}
        body = (case.get("body") or "").encode()
        if body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            sample = timed(conn, case["method"], case["uri"], headers, body or None)
        except Exception:
            conn = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
            continue
        if sample[1] == 403:
            blocked.append(sample)
    report("CRS attacks blocked by the WAF", blocked)
else:
    print("notice: CRS corpus not found; attack latency skipped")
