// The mock upstream and the gateway as real processes on loopback, for tests that drive the
// gateway through the official JavaScript SDKs. The same stack as tests/integration/support/stack.cc.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));

// An SDK missing from node_modules is a broken checkout, never a reason to skip: the test file
// fails with the command that fixes it.
export async function importSdk(name) {
  try {
    return await import(name);
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') {
      throw new Error(
        `the npm package "${name}" is not installed in ${join(here, 'node_modules')}; ` +
          'run: npm ci --prefix tests/integration/node',
      );
    }
    throw err;
  }
}

export function binDir() {
  const dir = process.env.TOLLGATE_BIN_DIR;
  if (!dir) {
    throw new Error('TOLLGATE_BIN_DIR is not set: point it at the build\'s bin/ (ctest sets it)');
  }
  for (const binary of ['tollgate', 'mock_upstream']) {
    if (!existsSync(join(dir, binary))) {
      throw new Error(`${join(dir, binary)} does not exist: build the tollgate and mock_upstream targets`);
    }
  }
  return dir;
}

// Every child still running when this process exits is killed and every temp dir removed, so a
// crashed or interrupted test run leaves no gateway behind.
const liveChildren = new Set();
const liveDirs = new Set();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});
// A signal (a ctest timeout, Ctrl-C) skips 'exit' unless it is turned into an exit.
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]]) {
  process.once(signal, () => process.exit(128 + number));
}

class Child {
  constructor(name, argv) {
    this.name = name;
    this.stdoutLines = [];
    this.stderr = '';
    this.exited = new Promise((resolve) => {
      this.proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc.on('exit', (code, signal) => {
        liveChildren.delete(this.proc);
        resolve({ code, signal });
      });
      this.proc.on('error', (err) => {
        liveChildren.delete(this.proc);
        this.stderr += `spawn failed: ${err.message}\n`;
        resolve({ code: null, signal: null, error: err });
      });
    });
    liveChildren.add(this.proc);
    let pending = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (text) => {
      pending += text;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        this.stdoutLines.push(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        this.onLine?.();
      }
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (text) => {
      this.stderr += text;
    });
  }

  // The rest of the first stdout line starting with `prefix`.
  waitForLine(prefix, timeoutMs) {
    return new Promise((resolve, reject) => {
      const done = (fn, value) => {
        clearTimeout(timer);
        this.onLine = undefined;
        fn(value);
      };
      const check = () => {
        const line = this.stdoutLines.find((l) => l.startsWith(prefix));
        if (line !== undefined) done(resolve, line.slice(prefix.length));
      };
      const timer = setTimeout(
        () => done(reject, new Error(`${this.name} printed no "${prefix}" line within ${timeoutMs} ms; stderr:\n${this.stderr}`)),
        timeoutMs,
      );
      this.exited.then(({ code, signal }) =>
        done(reject, new Error(`${this.name} exited (code ${code}, signal ${signal}) before "${prefix}"; stderr:\n${this.stderr}`)),
      );
      this.onLine = check;
      check();
    });
  }

  // SIGTERM, then SIGKILL when it has not exited within `graceMs`.
  async stop(graceMs = 5000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null || this.proc.pid === undefined) {
      return this.exited;
    }
    this.proc.kill('SIGTERM');
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    return this.exited;
  }
}

function parseHostPort(text) {
  const m = /^(\S+):(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`not host:port: "${text}"`);
  return { host: m[1], port: Number(m[2]), url: `http://${m[1]}:${m[2]}` };
}

export const kUpstreamSecret = 'upstream-secret-for-tests';
// AWS's documentation example credentials, which the gateway signs Bedrock calls with and the
// mock verifies the signature with.
export const kAwsAccessKeyId = 'AKIDEXAMPLE';
export const kAwsSecretAccessKey = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

function gatewayYaml(mockPort, eventsPath, extraYaml = '') {
  return `server:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  workers: 2
  instance_id: node-itest
  timeouts:
    shutdown_drain_ms: 2000
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:${mockPort}"
    models: ["gpt-*"]
    headers:
      authorization: "Bearer ${kUpstreamSecret}"
  - name: keyless
    dialect: openai
    base_url: "http://127.0.0.1:${mockPort}"
    models: ["local-*"]
  - name: claude
    dialect: anthropic
    base_url: "http://127.0.0.1:${mockPort}"
    models: ["claude-*"]
  - name: bedrock
    dialect: bedrock
    base_url: "http://127.0.0.1:${mockPort}"
    models: ["anthropic.claude-*"]
    aws:
      region: us-east-1
      access_key_id: "${kAwsAccessKeyId}"
      secret_access_key: "${kAwsSecretAccessKey}"
  - name: azure
    dialect: azure_openai
    base_url: "http://127.0.0.1:${mockPort}"
    models: ["azure-*"]
    headers:
      api-key: "${kUpstreamSecret}"
    deployments:
      azure-chat: gpt-test-azure
prices:
  "gpt-test*": { input: "3.00", output: "12.00" }
  "claude-test*": { input: "3.00", cache_read: "0.30", cache_write: "3.75", output: "15.00" }
  "local-*": { input: "0", output: "0" }
  "anthropic.claude-3-5-sonnet*": { input: "3.00", cache_read: "0.30", cache_write: "3.75", output: "15.00" }
price_version: "node-itest-1"
events:
  sink: file
  file:
    path: "${eventsPath}"
logging:
  level: info
${extraYaml}`;
}

export class Stack {
  // `extraYaml` is appended at the top level of the gateway's config; @DIR@ in it is the
  // stack's temporary directory (for files the gateway writes).
  static async start(extraYaml = '') {
    const stack = new Stack(extraYaml);
    try {
      await stack.#start();
    } catch (err) {
      await stack.close();
      throw err;
    }
    return stack;
  }

  constructor(extraYaml = '') {
    this.dir = mkdtempSync(join(tmpdir(), 'tollgate-node-'));
    this.extraYaml = extraYaml.replaceAll('@DIR@', this.dir);
    liveDirs.add(this.dir);
    this.eventsPath = join(this.dir, 'events.jsonl');
    this.children = [];
  }

  async #start() {
    const bin = binDir();
    const mock = new Child('mock_upstream', [
      join(bin, 'mock_upstream'), '--listen', '127.0.0.1:0',
      '--aws-secret-access-key', kAwsSecretAccessKey,
    ]);
    this.children.push(mock);
    this.mock = parseHostPort(await mock.waitForLine('mock_upstream listening on ', 10000));

    const configPath = join(this.dir, 'tollgate.yaml');
    writeFileSync(configPath, gatewayYaml(this.mock.port, this.eventsPath, this.extraYaml));
    const gateway = new Child('tollgate', [join(bin, 'tollgate'), '--config', configPath]);
    this.children.push(gateway);
    const line = await gateway.waitForLine('tollgate listening on ', 10000);
    const [listen, admin] = line.split(' admin ');
    this.gateway = parseHostPort(listen);
    this.admin = parseHostPort(admin);
  }

  // The gateway first, so it stops calling the mock; the temp dir goes last. Returns a problem
  // per process that did not exit 0 on SIGTERM (a crash or a sanitizer report at shutdown).
  async close() {
    const problems = [];
    for (const child of [...this.children].reverse()) {
      const { code, signal } = await child.stop();
      if (code !== 0) {
        problems.push(`${child.name} exited with code ${code}, signal ${signal}; stderr:\n${child.stderr}`);
      }
    }
    this.children = [];
    rmSync(this.dir, { recursive: true, force: true });
    liveDirs.delete(this.dir);
    return problems;
  }

  stderr(name) {
    return this.children.find((c) => c.name === name)?.stderr ?? '';
  }

  // The parsed cost events; waits until at least `count` exist or the deadline passes.
  async waitForEvents(count, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const events = this.#readEvents();
      if (events.length >= count || Date.now() >= deadline) return events;
      // The sink writes from its own thread: re-read the file until the events are there.
      await delay(10);
    }
  }

  #readEvents() {
    if (!existsSync(this.eventsPath)) return [];
    return readFileSync(this.eventsPath, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line));
  }

  // The value of one series of the gateway's /metrics, matched whole (`name` or
  // `name{labels}` exactly as exposed); undefined when absent.
  async metric(series) {
    const res = await fetch(`${this.admin.url}/metrics`);
    for (const line of (await res.text()).split('\n')) {
      const at = line.lastIndexOf(' ');
      if (line.slice(0, at) === series) return Number(line.slice(at + 1));
    }
    return undefined;
  }

  async mockCalls() {
    const res = await fetch(`${this.mock.url}/mock/calls`);
    if (!res.ok) throw new Error(`GET /mock/calls: ${res.status}`);
    return (await res.json()).calls;
  }
}
