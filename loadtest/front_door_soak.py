#!/usr/bin/env python3
"""Hostile-input soak of the gateway's front door: memory and CPU stay bounded, and a normal
call still succeeds promptly, while one of these runs:

  sse-line       one streamed answer whose single SSE data line is --line-mib MiB long
  endless-line   one streamed answer whose data line never ends (read for --seconds)
  slowloris      --slowloris connections each sending a request head one byte at a time
  idle           --idle keep-alive connections, each after one call, left open and idle

usage: front_door_soak.py --build DIR [--scenarios "sse-line endless-line slowloris idle"]
                          [--seconds S] [--line-mib N] [--slowloris N] [--idle N]

Starts bin/mock_upstream and bin/tollgate (one worker, events to a JSONL file in a temporary
directory) from DIR on loopback, runs each scenario with a fresh gateway, and prints one RESULT
line per scenario: the gateway's RSS before, peak during and after, its CPU seconds during the
scenario, and the latency of normal calls made during it (each must answer 200). Every loop is
bounded in count and time; everything is closed at the end.
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CHAT = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
STREAM = b'{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def start(argv, prefix, env=None):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env=env)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stdout.readline()
        if line.startswith(prefix):
            return p, line[len(prefix):].strip()
    p.kill()
    raise RuntimeError(f"{argv[0]} did not start")


class Gateway:
    def __init__(self, build, tmp):
        self.mock, mock_at = start([f"{build}/bin/mock_upstream", "--listen", "127.0.0.1:0",
                                    "--no-record"], "mock_upstream listening on ")
        config = f"""server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  workers: 1
  instance_id: soak
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://{mock_at}"
    models: ["gpt-*"]
prices:
  "gpt-4o-mini*": {{ input: "0.15", output: "0.60" }}
events:
  sink: file
  file: {{ path: "{tmp}/events.jsonl" }}
logging:
  level: warn
"""
        path = os.path.join(tmp, "soak.yaml")
        with open(path, "w") as f:
            f.write(config)
        self.proc, line = start([f"{build}/bin/tollgate", "--config", path],
                                "tollgate listening on ")
        host, port = line.split(" admin ")[0].rsplit(":", 1)
        self.host, self.port = host, int(port)

    def stop(self):
        for p in (self.proc, self.mock):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def request(body, headers=b""):
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
            + headers + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


async def read_response(reader):
    """Reads one Content-Length answer; returns its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)
    return status


async def normal_calls(gw, stop, latencies, failures):
    """One fresh-connection call every 200 ms until `stop`."""
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(gw.host, gw.port), 5)
            w.write(request(CHAT))
            status = await asyncio.wait_for(read_response(r), 5)
            w.close()
            if status != 200:
                failures.append(status)
            latencies.append((time.perf_counter() - t0) * 1000)
        except Exception as e:  # a call that did not answer in time is a failure
            failures.append(type(e).__name__)
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except asyncio.TimeoutError:
            pass


async def sse_line(gw, args):
    r, w = await asyncio.open_connection(gw.host, gw.port, limit=1 << 20)
    w.write(request(STREAM, b"x-mock-line-bytes: %d\r\n" % (args.line_mib << 20)))
    got = 0
    deadline = time.time() + args.seconds * 4
    while time.time() < deadline:
        chunk = await asyncio.wait_for(r.read(1 << 20), args.seconds)
        if not chunk:
            break
        got += len(chunk)
        if b"0\r\n\r\n" in chunk[-16:]:
            break
    w.close()
    return {"relayed_mib": round(got / (1 << 20), 1)}


async def endless_line(gw, args):
    r, w = await asyncio.open_connection(gw.host, gw.port, limit=1 << 20)
    w.write(request(STREAM, b"x-mock-endless-line: 1\r\n"))
    got = 0
    end = time.time() + args.seconds
    while time.time() < end:
        try:
            chunk = await asyncio.wait_for(r.read(1 << 20), 1)
        except asyncio.TimeoutError:
            continue
        if not chunk:
            break
        got += len(chunk)
    w.close()
    return {"relayed_mib": round(got / (1 << 20), 1)}


async def slowloris(gw, args):
    head = request(CHAT)
    opened = 0
    closed_by_gateway = 0
    end = time.time() + args.seconds

    async def one():
        nonlocal opened, closed_by_gateway
        while time.time() < end:
            try:
                r, w = await asyncio.open_connection(gw.host, gw.port)
            except OSError:
                await asyncio.sleep(0.5)
                continue
            opened += 1
            i = 0
            try:
                while time.time() < end and i < len(head) - 1:
                    w.write(head[i:i + 1])
                    await w.drain()
                    i += 1
                    try:
                        if await asyncio.wait_for(r.read(1 << 16), 1.0) == b"":
                            break
                        closed_by_gateway += 1
                        break
                    except asyncio.TimeoutError:
                        pass
            except (ConnectionError, OSError):
                pass
            w.close()

    await asyncio.gather(*(one() for _ in range(args.slowloris)))
    return {"connections_opened": opened, "answered_or_closed_by_gateway": closed_by_gateway}


async def idle(gw, args):
    conns = []
    for i in range(args.idle):
        try:
            r, w = await asyncio.open_connection(gw.host, gw.port)
            w.write(request(CHAT))
            if await read_response(r) == 200:
                conns.append(w)
        except OSError:
            break
    await asyncio.sleep(args.seconds)
    for w in conns:
        w.close()
    return {"idle_connections": len(conns)}


SCENARIOS = {"sse-line": sse_line, "endless-line": endless_line, "slowloris": slowloris,
             "idle": idle}


async def run(gw, name, args):
    pid = gw.proc.pid
    before = rss_kib(pid)
    cpu0 = cpu_seconds(pid)
    peak = before
    stop = asyncio.Event()
    latencies, failures = [], []

    async def sample():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_kib(pid))
            try:
                await asyncio.wait_for(stop.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    caller = asyncio.create_task(normal_calls(gw, stop, latencies, failures))
    t0 = time.time()
    extra = await SCENARIOS[name](gw, args)
    elapsed = time.time() - t0
    stop.set()
    await asyncio.gather(sampler, caller)
    await asyncio.sleep(1)
    latencies.sort()
    result = {"scenario": name, "seconds": round(elapsed, 1), "rss_before_mib": round(before / 1024, 1),
              "rss_peak_mib": round(peak / 1024, 1), "rss_after_mib": round(rss_kib(pid) / 1024, 1),
              "cpu_s": round(cpu_seconds(pid) - cpu0, 2), "normal_calls": len(latencies),
              "normal_failures": failures[:5],
              "normal_p50_ms": round(latencies[len(latencies) // 2], 2) if latencies else None,
              "normal_max_ms": round(latencies[-1], 2) if latencies else None}
    result.update(extra)
    print("RESULT " + json.dumps(result), flush=True)
    return not failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--scenarios", default="sse-line endless-line slowloris idle")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--line-mib", type=int, default=200)
    ap.add_argument("--slowloris", type=int, default=2000)
    ap.add_argument("--idle", type=int, default=5000)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ok = True
    for name in args.scenarios.split():
        tmp = tempfile.mkdtemp(prefix="tollgate-soak-")
        gw = Gateway(args.build, tmp)
        try:
            ok = asyncio.run(run(gw, name, args)) and ok
        finally:
            gw.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
