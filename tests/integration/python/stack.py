"""The mock upstream and the gateway as real processes on loopback, for tests that drive the
gateway through the official Python SDKs. The same stack as tests/integration/node/stack.mjs.

The mock compresses whenever the client allows it (--default-encoding auto), as real providers
do: the SDKs ask for gzip by default, so a gateway that forwarded their Accept-Encoding would
meter compressed bytes. TOLLGATE_MOCK_ENCODING overrides the default (e.g. "identity") to tell a
compression defect apart from any other.
"""

import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass

UPSTREAM_SECRET = "upstream-secret-for-tests"


def bin_dir():
    directory = os.environ.get("TOLLGATE_BIN_DIR")
    if not directory:
        raise RuntimeError("TOLLGATE_BIN_DIR is not set: point it at the build's bin/ (ctest sets it)")
    for binary in ("tollgate", "mock_upstream"):
        if not os.access(os.path.join(directory, binary), os.X_OK):
            raise RuntimeError(
                f"{os.path.join(directory, binary)} does not exist: build the tollgate and "
                "mock_upstream targets"
            )
    return directory


@dataclass
class HostPort:
    host: str
    port: int

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"


def parse_host_port(text):
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f'not host:port: "{text}"')
    return HostPort(host, int(port))


class Child:
    """A child process whose stdout is read line by line on a thread; stderr goes to a file."""

    def __init__(self, name, argv, directory):
        self.name = name
        self.stderr_path = os.path.join(directory, f"{name}.stderr")
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for_line(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f'{self.name} printed no "{prefix}" line within {timeout} s; '
                                   f"stderr:\n{self.stderr()}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f'{self.name} exited (code {self.proc.wait()}) before "{prefix}"; '
                                   f"stderr:\n{self.stderr()}")
            if line.startswith(prefix):
                return line[len(prefix):]

    def stop(self, grace=5.0):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode


def gateway_yaml(mock_port, events_path, extra_yaml=""):
    return f"""server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  workers: 2
  instance_id: python-itest
  timeouts:
    shutdown_drain_ms: 2000
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:{mock_port}"
    models: ["gpt-*", "text-embedding-*"]
    headers:
      authorization: "Bearer {UPSTREAM_SECRET}"
  - name: claude
    dialect: anthropic
    base_url: "http://127.0.0.1:{mock_port}"
    models: ["claude-*"]
  - name: gemini
    dialect: gemini
    base_url: "http://127.0.0.1:{mock_port}"
    models: ["gemini-*"]
  - name: azure
    dialect: azure_openai
    base_url: "http://127.0.0.1:{mock_port}"
    models: ["azure-*"]
    headers:
      api-key: "{UPSTREAM_SECRET}"
    deployments:
      azure-chat: gpt-test-azure
      azure-embed: text-embedding-test-azure
prices:
  "gpt-test*": {{ input: "3.00", output: "12.00" }}
  "text-embedding-test*": {{ input: "0.02", output: "0" }}
  "claude-test*": {{ input: "3.00", cache_read: "0.30", cache_write: "3.75", output: "15.00" }}
  "gemini-test*": {{ input: "1.25", cache_read: "0.125", output: "10.00" }}
price_version: "python-itest-1"
events:
  sink: file
  file:
    path: "{events_path}"
logging:
  level: info
{extra_yaml}"""


class Stack:
    def __init__(self, extra_yaml=""):
        # Appended at the top level of the gateway's config; @DIR@ is the stack's temporary
        # directory (for files the gateway writes).
        self.extra_yaml = extra_yaml
        self.dir = tempfile.mkdtemp(prefix="tollgate-python-")
        self.events_path = os.path.join(self.dir, "events.jsonl")
        self.children = []
        self.mock_encoding = os.environ.get("TOLLGATE_MOCK_ENCODING", "auto")

    @classmethod
    def start(cls, extra_yaml=""):
        stack = cls(extra_yaml)
        try:
            stack._start()
        except BaseException:
            stack.close()
            raise
        return stack

    def _start(self):
        directory = bin_dir()
        mock = Child("mock_upstream",
                     [os.path.join(directory, "mock_upstream"), "--listen", "127.0.0.1:0",
                      "--default-encoding", self.mock_encoding], self.dir)
        self.children.append(mock)
        self.mock = parse_host_port(mock.wait_for_line("mock_upstream listening on ", 10))

        config_path = os.path.join(self.dir, "tollgate.yaml")
        with open(config_path, "w") as f:
            f.write(gateway_yaml(self.mock.port, self.events_path,
                                 self.extra_yaml.replace("@DIR@", self.dir)))
        gateway = Child("tollgate", [os.path.join(directory, "tollgate"), "--config", config_path],
                        self.dir)
        self.children.append(gateway)
        listen, _, admin = gateway.wait_for_line("tollgate listening on ", 10).partition(" admin ")
        self.gateway = parse_host_port(listen)
        self.admin = parse_host_port(admin)

    def close(self):
        """Stops the gateway first, then the mock. Returns a problem per process that did not exit 0
        on SIGTERM (a crash at shutdown)."""
        problems = []
        for child in reversed(self.children):
            code = child.stop()
            if code != 0:
                problems.append(f"{child.name} exited with {code}; stderr:\n{child.stderr()}")
        self.children = []
        shutil.rmtree(self.dir, ignore_errors=True)
        return problems

    def wait_for_events(self, count, timeout=10.0):
        """The parsed cost events; waits until at least `count` exist or the deadline passes."""
        deadline = time.monotonic() + timeout
        while True:
            events = self._read_events()
            if len(events) >= count or time.monotonic() >= deadline:
                return events
            # The sink writes from its own thread: re-read the file until the events are there.
            time.sleep(0.01)

    def only_event(self):
        events = self.wait_for_events(1)
        assert len(events) == 1, f"expected one cost event, got {events}"
        return events[0]["data"]

    def _read_events(self):
        if not os.path.exists(self.events_path):
            return []
        with open(self.events_path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def metric(self, series):
        """The value of one series of the gateway's /metrics, matched whole (`name` or
        `name{labels}` exactly as exposed); None when absent."""
        with urllib.request.urlopen(f"{self.admin.url}/metrics", timeout=10) as response:
            for line in response.read().decode().splitlines():
                name, _, value = line.rpartition(" ")
                if name == series:
                    return float(value)
        return None

    def mock_calls(self):
        with urllib.request.urlopen(f"{self.mock.url}/mock/calls", timeout=10) as response:
            return json.load(response)["calls"]

    def only_call(self):
        calls = self.mock_calls()
        assert len(calls) == 1, f"expected one upstream call, got {calls}"
        return calls[0]
