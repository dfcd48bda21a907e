#!/usr/bin/env python3
"""Memory per open streaming call: open N streaming calls through the gateway, hold them open,
and report the gateway's RSS growth per call.

usage: hold_streams.py --gateway HOST:PORT --pid PID [--calls N] [--batch B]

Each call is a streaming chat completion that the mock upstream answers with its first event at
once and the rest 60 s later, so every call stays open (a client socket, an upstream socket and
the gateway's session state) while RSS is read from /proc/PID/status. Bounded: every socket is
closed at the end, and the run gives up after --deadline seconds.
"""
import argparse
import asyncio
import sys
import time

BODY = b'{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hold"}]}'


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


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
    host, port = a.gateway.rsplit(":", 1)
    start = time.monotonic()
    base = rss_kib(a.pid)
    writers = []
    failures = 0
    while len(writers) < a.calls and time.monotonic() - start < a.deadline:
        n = min(a.batch, a.calls - len(writers))
        results = await asyncio.gather(*[open_call(host, int(port), writers) for _ in range(n)],
                                       return_exceptions=True)
        failures += sum(1 for r in results if isinstance(r, Exception))
        if failures > a.calls // 10:
            print(f"too many failures ({failures}): {[r for r in results if isinstance(r, Exception)][:3]}",
                  file=sys.stderr)
            break
    await asyncio.sleep(1.0)  # let the gateway settle
    held = len(writers)
    rss = rss_kib(a.pid)
    per_call = (rss - base) * 1024 / held if held else 0
    print(f"RESULT calls_held={held} failures={failures} rss_base_kib={base} rss_held_kib={rss} "
          f"bytes_per_call={per_call:.0f}")
    for w in writers:
        w.close()


asyncio.run(main())
