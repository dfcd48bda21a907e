#!/usr/bin/env python3
"""Balancing a pool whose endpoints differ in speed: p2c_ewma against round_robin, same run.

usage: pool_balance.py --build DIR [--calls N] [--concurrency C] [--fast-ms F] [--slow-ms S]
                       [--balancers "p2c_ewma round_robin"]

Starts three bin/mock_upstream processes from DIR on loopback, two answering after --fast-ms and
one after --slow-ms (--default-ttft-ms: the delay before the response head), then for each
balancer a fresh bin/tollgate (one worker) with one upstream whose endpoints are the three mocks,
and sends --calls non-streaming chat calls from --concurrency client threads. Prints one RESULT
line per balancer: each endpoint's share of the calls (from the mocks' own call records) and the
client latency p50 / p99 / max. Every call must answer 200. Bounded in count and time;
everything started is stopped at the end.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

CHAT = b'{"model":"pool-model","messages":[{"role":"user","content":"hi"}]}'


def start(argv, prefix):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stdout.readline()
        if line.startswith(prefix):
            return p, line[len(prefix):].strip().split()[0]
    p.kill()
    raise RuntimeError(f"{argv[0]} did not start")


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()


def mock_calls(address):
    host, port = address.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("GET", "/mock/calls")
    body = json.loads(c.getresponse().read())
    c.close()
    calls = body["calls"] if isinstance(body, dict) else body
    return sum(1 for call in calls if call.get("target") == "/v1/chat/completions")


def clear_calls(address):
    host, port = address.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request("DELETE", "/mock/calls")
    c.getresponse().read()
    c.close()


def run_load(gateway, calls, concurrency):
    host, port = gateway.rsplit(":", 1)
    latencies = []
    failures = []
    lock = threading.Lock()
    remaining = [calls]

    def worker():
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while True:
            with lock:
                if remaining[0] == 0:
                    break
                remaining[0] -= 1
            t0 = time.perf_counter()
            conn.request("POST", "/v1/chat/completions", CHAT,
                         {"content-type": "application/json"})
            r = conn.getresponse()
            r.read()
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if r.status != 200:
                    failures.append(r.status)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return sorted(latencies), failures


def pct(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--calls", type=int, default=1500)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--fast-ms", type=int, default=20)
    ap.add_argument("--slow-ms", type=int, default=100)
    ap.add_argument("--balancers", default="p2c_ewma round_robin")
    args = ap.parse_args()
    bin_dir = os.path.join(args.build, "bin")
    tmp = tempfile.mkdtemp(prefix="pool_balance.")
    mocks = []
    try:
        for ttft in (args.fast_ms, args.fast_ms, args.slow_ms):
            mocks.append(start([os.path.join(bin_dir, "mock_upstream"), "--listen",
                                "127.0.0.1:0", "--threads", "2", "--default-ttft-ms",
                                str(ttft)], "mock_upstream listening on "))
        addresses = [a for _, a in mocks]
        for balancer in args.balancers.split():
            for a in addresses:
                clear_calls(a)
            endpoints = "".join(f'      - url: "http://{a}"\n' for a in addresses)
            config = os.path.join(tmp, f"{balancer}.yaml")
            with open(config, "w") as f:
                f.write(f"""server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  workers: 1
upstreams:
  - name: pool
    dialect: openai
    models: ["pool-*"]
    balancer: {balancer}
    endpoints:
{endpoints}events:
  sink: file
  file: {{path: "{os.path.join(tmp, balancer + '.jsonl')}"}}
""")
            gateway, address = start([os.path.join(bin_dir, "tollgate"), "--config", config],
                                     "tollgate listening on ")
            try:
                latencies, failures = run_load(address, args.calls, args.concurrency)
            finally:
                stop(gateway)
            counts = [mock_calls(a) for a in addresses]
            total = sum(counts) or 1
            shares = " ".join(f"{c / total * 100:.1f}%" for c in counts)
            print(f"RESULT balancer={balancer} calls={len(latencies)} non200={len(failures)} "
                  f"shares(fast,fast,slow)={shares} "
                  f"mean_ms={sum(latencies) / len(latencies) * 1000:.1f} "
                  f"p50_ms={pct(latencies, 0.50) * 1000:.1f} "
                  f"p99_ms={pct(latencies, 0.99) * 1000:.1f} "
                  f"max_ms={latencies[-1] * 1000:.1f}", flush=True)
    finally:
        for p, _ in mocks:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
