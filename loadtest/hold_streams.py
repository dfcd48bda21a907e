#!/usr/bin/env python3
"""Memory per open streaming call: open N streaming calls through the gateway, hold them open,
and report the gateway's RSS growth per call.

usage: hold_streams.py --gateway HOST:PORT --pid PID [--calls N] [--batch B] [--deadline S]

Each call is a streaming chat completion that the mock upstream answers with its first event at
once and the rest 60 s later, so every call stays open (a client socket, an upstream socket and
the gateway's session state) while RSS is read from /proc/PID/status. Bounded: every socket is
closed at the end, and the run gives up after --deadline seconds.

A proxied call holds two of the gateway's file descriptors (client and upstream sockets), so the
gateway's open-file limit caps how many calls it can hold; when --calls is above that cap the
run holds what fits and says why (the RESULT line's `capped_by`, e.g.
gateway_open_files_limit_20000).
"""
import argparse
import asyncio
import os
import resource
import sys
import time

BODY = b'{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hold"}]}'


def proc_field(path, prefix, index):
    """The index-th word of the line of a /proc file that starts with prefix, as an int."""
    with open(path) as f:
        for line in f:
            if line.startswith(prefix):
                return int(line.split()[index])
    raise RuntimeError(f"no {prefix} in {path}")


def rss_kib(pid):
    return proc_field(f"/proc/{pid}/status", "VmRSS:", 1)


def open_files_limit(pid):
    return proc_field(f"/proc/{pid}/limits", "Max open files", 3)


def calls_that_fit(pid, wanted):
    """How many proxied calls fit in the gateway's and this process's open-file limits."""
    margin = 16  # listeners, the sink, the event loop, the admin port
    gateway = (open_files_limit(pid) - len(os.listdir(f"/proc/{pid}/fd")) - margin) // 2
    own = resource.getrlimit(resource.RLIMIT_NOFILE)[0] - len(os.listdir("/proc/self/fd")) - margin
    if wanted <= min(gateway, own):
        return wanted, "none"
    if gateway <= own:
        return gateway, f"gateway_open_files_limit_{open_files_limit(pid)}"
    return own, f"client_open_files_limit_{resource.getrlimit(resource.RLIMIT_NOFILE)[0]}"


async def open_call(host, port, writers):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n"
                 b"Content-Type: application/json\r\nx-team: memory\r\n"
                 b"x-mock-chunks: 50\r\nx-mock-chunk-delay-ms: 60000\r\n"
                 b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head[:80])
    await reader.readuntil(b"\n\n")  # the first SSE event: the call is streaming
    writers.append(writer)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateway", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=200)
    ap.add_argument("--deadline", type=float, default=120)
    a = ap.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket per held call here
    host, port = a.gateway.rsplit(":", 1)
    start = time.monotonic()
    base = rss_kib(a.pid)
    calls, capped_by = calls_that_fit(a.pid, a.calls)
    writers = []
    failures = 0
    while len(writers) < calls and time.monotonic() - start < a.deadline:
        n = min(a.batch, calls - len(writers))
        results = await asyncio.gather(*[open_call(host, int(port), writers) for _ in range(n)],
                                       return_exceptions=True)
        failures += sum(1 for r in results if isinstance(r, Exception))
        if failures > calls // 10:
            print(f"too many failures ({failures}): {[r for r in results if isinstance(r, Exception)][:3]}",
                  file=sys.stderr)
            break
    await asyncio.sleep(1.0)  # let the gateway settle
    held = len(writers)
    rss = rss_kib(a.pid)
    per_call = (rss - base) * 1024 / held if held else 0
    print(f"RESULT calls_wanted={a.calls} calls_held={held} capped_by={capped_by} failures={failures} "
          f"rss_base_kib={base} rss_held_kib={rss} bytes_per_call={per_call:.0f}")
    for w in writers:
        w.close()


asyncio.run(main())
