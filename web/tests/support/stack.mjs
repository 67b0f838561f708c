// The real system for browser tests: todo-api (serving the built web app)
// and todo-worker from target/debug, on this machine's PostgreSQL and
// RabbitMQ, with a fresh database and queue names per stack. Only the
// model is replaced, by mock-openai over HTTP.
import { spawn, execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// TODO_BIN_DIR picks other builds (e.g. target/release for measurements).
const BIN = process.env.TODO_BIN_DIR ?? join(ROOT, 'target', 'debug');
export const ARTIFACTS = join(ROOT, 'target', 'web-tests');
const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECRET = 'web-test-only-secret-0123456789abcdefghijkl';

function psql(sql, url = ADMIN_URL) {
  return execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
}

async function freePort() {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function waitFor(what, check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms${last ? `: ${last}` : ''}`);
}

class Proc {
  constructor(name, command, args, env, log) {
    this.name = name;
    this.child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.pipe(log, { end: false });
    this.child.stderr.pipe(log, { end: false });
    this.exited = new Promise((r) => this.child.once('exit', r));
  }

  async stop(signal = 'SIGTERM') {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export class Stack {
  /** `env` overrides the processes' environment (e.g. OPENAI_RPM). */
  static async start(name, env = {}) {
    const stack = new Stack(name, env);
    await stack.boot();
    return stack;
  }

  constructor(name, env) {
    this.overrides = env;
    const id = `${Math.floor(Date.now() / 1000)}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    this.name = name;
    this.db = `todo_test_${id}`;
    this.prefix = `w${id}`;
    mkdirSync(ARTIFACTS, { recursive: true });
    this.log = createWriteStream(join(ARTIFACTS, `${name}.log`));
    this.procs = [];
  }

  async boot() {
    psql(`CREATE DATABASE "${this.db}"`);
    this.mock = new Proc('mock-openai', join(BIN, 'mock-openai'), ['--port', '0'], {}, this.log);
    this.procs.push(this.mock);
    this.mockUrl = await new Promise((done, fail) => {
      let seen = '';
      this.mock.child.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = /listening on (\S+)/.exec(seen);
        if (match) done(`http://${match[1]}`);
      });
      this.mock.exited.then(() => fail(new Error('mock-openai exited')));
    });
    // The model writes at a visible pace, so answers stream in several pieces.
    await this.mockConfig({ chunk_delay_ms: 25 });
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    this.env = {
      ENVIRONMENT: 'test',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'text',
      BETTER_AUTH_SECRET: SECRET,
      SECRET_KEY: 'web-test-only-secret-key-for-throttle-0001',
      DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${this.db}`),
      RABBITMQ_PREFIX: this.prefix,
      RABBITMQ_QUEUE_EXPIRES_SECONDS: '600',
      API_HOST: '127.0.0.1',
      API_PORT: String(this.port),
      ALLOWED_ORIGINS: this.base,
      WORKER_METRICS_PORT: '0',
      // Several todo-api processes run at once (peers): none takes the MCP port.
      MCP_ENABLED: 'false',
      OPENAI_API_KEY: 'test-key-not-secret',
      OPENAI_BASE_URL: `${this.mockUrl}/v1`,
      OPENAI_MODEL: 'gpt-4o-mini',
      // Every turn through mock-openai (streamed), as the tests expect;
      // hybrid would answer plain commands offline, at once.
      ASSISTANT_MODE: 'model',
      CHAT_RATE_LIMIT_PER_MINUTE: '600',
      RUST_BACKTRACE: '1',
      ...this.overrides,
    };
    await this.startApi();
    this.worker = new Proc('todo-worker', join(BIN, 'todo-worker'), [], this.env, this.log);
    this.procs.push(this.worker);
  }

  /** One value from the stack's own database (for what no API shows, e.g. pruned events). */
  sql(query) {
    return psql(query, this.env.DATABASE_URL);
  }

  async mockConfig(config) {
    const response = await fetch(`${this.mockUrl}/_mock/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    });
    if (!response.ok) throw new Error(`mock config refused: ${await response.text()}`);
  }

  async startApi() {
    this.api = new Proc('todo-api', join(BIN, 'todo-api'), ['serve'], this.env, this.log);
    this.procs.push(this.api);
    await waitFor('todo-api healthy and connected to RabbitMQ', async () => {
      const health = await (await fetch(`${this.base}/health`)).json();
      return health.status === 'healthy' && health.broker_connected === true;
    });
  }

  async stopApi() {
    await this.api.stop();
  }

  /** A second API instance on the same database and broker (a replica behind a load balancer). */
  async startPeer() {
    const port = await freePort();
    const peer = new Proc('todo-api peer', join(BIN, 'todo-api'), ['serve'], { ...this.env, API_PORT: String(port) }, this.log);
    this.procs.push(peer);
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the peer API healthy', async () => (await (await fetch(`${base}/health`)).json()).broker_connected === true);
    return { base, call: (method, path, token, body) => this.call(method, path, token, body, base) };
  }

  /** A REST call as a third-party client makes it. */
  async call(method, path, token, body, base = this.base, headers = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
  }

  async signup(email, password = 'correct horse battery') {
    const { status, body } = await this.call('POST', '/api/auth/signup', null, { email, password, name: 'Ada' });
    if (status !== 201) throw new Error(`signup: ${status} ${JSON.stringify(body)}`);
    return body;
  }

  async stop() {
    for (const proc of this.procs.reverse()) await proc.stop();
    this.log.end();
    try {
      psql(`DROP DATABASE IF EXISTS "${this.db}" WITH (FORCE)`);
    } catch {
      // Left for the next run's sweep (testkit drops todo_test_* older than an hour).
    }
  }
}

export { waitFor };
