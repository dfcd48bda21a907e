#!/usr/bin/env python3
"""fixed_calls.py ADDR N [--stream]: N sequential chat completions on one keep-alive connection.

The fixed-count load of loadtest/instructions (wrk runs for a time, not a count). The call is
loadtest/wrk/chat.lua's. Exits 1 unless every call answers 200 with a complete body.
"""
import http.client
import sys

BODY = ('{"model":"gpt-4o-mini","messages":[{"role":"system","content":"You are a helpful '
        'assistant."},{"role":"user","content":"Summarise the quarterly report in three '
        'bullet points."}]%s}')
HEADERS = {"Content-Type": "application/json", "x-team": "bench", "x-project": "loadtest",
           "x-mock-prompt-tokens": "1500", "x-mock-completion-tokens": "400",
           "x-mock-chunks": "8"}


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: fixed_calls.py HOST:PORT N [--stream]")
    host, port = sys.argv[1].rsplit(":", 1)
    n = int(sys.argv[2])
    stream = "--stream" in sys.argv[3:]
    body = BODY % (',"stream":true' if stream else "")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    for i in range(n):
        conn.request("POST", "/v1/chat/completions", body, HEADERS)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200 or (stream and b"[DONE]" not in data):
            sys.exit(f"fixed_calls: call {i} answered {response.status}: {data[:200]!r}")
    print(f"fixed_calls: {n} calls ok")


if __name__ == "__main__":
    main()
