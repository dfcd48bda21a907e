#!/usr/bin/env python3
"""rate_load against a real mock_upstream on loopback: the number of requests it sends at a
given rate, that it reads whole (chunked) bodies on reused connections, and that it stays
bounded when the server never answers. Run by ctest (rate_load_tests) with --bin-dir BUILD/bin.
"""
import argparse
import json
import subprocess
import sys
import unittest
import urllib.request

BIN_DIR = None


def parse_result(stdout):
    line = next(l for l in stdout.splitlines() if l.startswith("RESULT "))
    fields = dict(kv.split("=", 1) for kv in line.split()[1:])
    return {k: (float(v) if "." in v else int(v)) for k, v in fields.items()}


class MockUpstream:
    def __enter__(self):
        self.proc = subprocess.Popen([f"{BIN_DIR}/mock_upstream", "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        prefix = "mock_upstream listening on "
        assert line.startswith(prefix), line
        self.addr = line[len(prefix):].strip()
        return self

    def calls(self):
        with urllib.request.urlopen(f"http://{self.addr}/mock/calls", timeout=10) as r:
            return json.load(r)["calls"]

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def rate_load(*args):
    out = subprocess.run([f"{BIN_DIR}/rate_load", *args], capture_output=True, text=True,
                         timeout=30, check=True)
    return parse_result(out.stdout)


class RateLoadTest(unittest.TestCase):
    def test_sends_rate_times_duration_requests_all_answered(self):
        with MockUpstream() as mock:
            r = rate_load("--url", f"http://{mock.addr}/v1/chat/completions", "--rate", "200",
                          "--duration", "1", "--connections", "4")
            self.assertEqual((r["scheduled"], r["ok"], r["non2xx"], r["errors"], r["timeouts"]),
                             (200, 200, 0, 0, 0))
            self.assertEqual(len(mock.calls()), 200)
            self.assertGreater(r["rate"], 190)
            self.assertLessEqual(r["rate"], 200.0)
            self.assertLessEqual(r["p50_ms"], r["p99_ms"])
            self.assertLessEqual(r["p99_ms"], r["max_ms"])

    def test_streams_are_read_to_the_end_on_reused_connections(self):
        with MockUpstream() as mock:
            # 2 connections carry 100 streams: an unread chunk would break the next response.
            r = rate_load("--url", f"http://{mock.addr}/v1/chat/completions", "--rate", "100",
                          "--duration", "1", "--connections", "2", "--stream", "--threads", "2")
            self.assertEqual((r["scheduled"], r["ok"], r["errors"], r["timeouts"]),
                             (100, 100, 0, 0))
            calls = mock.calls()
            self.assertEqual(len(calls), 100)
            self.assertTrue(all(c["stream"] and c["completed"] for c in calls))

    def test_close_mode_opens_a_connection_per_request(self):
        with MockUpstream() as mock:
            r = rate_load("--url", f"http://{mock.addr}/v1/chat/completions", "--rate", "50",
                          "--duration", "1", "--connections", "2", "--close")
            self.assertEqual((r["scheduled"], r["ok"], r["errors"]), (50, 50, 0))
            calls = mock.calls()
            self.assertEqual([c["headers"].get("connection") for c in calls], ["close"] * 50)

    def test_error_statuses_are_counted_apart(self):
        with MockUpstream() as mock:
            r = rate_load("--url", f"http://{mock.addr}/v1/chat/completions", "--rate", "20",
                          "--duration", "1", "--header", "x-mock-status: 503")
            self.assertEqual((r["scheduled"], r["ok"], r["non2xx"], r["errors"]), (20, 0, 20, 0))

    def test_unanswered_requests_end_the_run_at_the_timeout(self):
        with MockUpstream() as mock:
            # The mock reads each request and never answers: every request is given up.
            r = rate_load("--url", f"http://{mock.addr}/v1/chat/completions", "--rate", "10",
                          "--duration", "0.5", "--connections", "5", "--timeout", "0.5",
                          "--header", "x-mock-stall: 1")
            self.assertEqual((r["scheduled"], r["ok"], r["errors"], r["timeouts"]), (5, 0, 0, 5))
            self.assertEqual(len(mock.calls()), 5)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args, rest = ap.parse_known_args()
    BIN_DIR = args.bin_dir
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
