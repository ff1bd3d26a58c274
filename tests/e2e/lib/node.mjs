// Helpers for the dsync-node end-to-end tests.
//
// - locate the node binary (and the `aivm` inference server's),
// - pick free loopback ports,
// - spawn nodes (and aivm) in their own process group with stdout+stderr going to a log file,
// - wait until a node's JSON-RPC answers (aivm: until GET /health answers 200),
// - plain JSON-RPC over HTTP (independent of @polkadot/api, usable for raw submissions),
// - wait for best / finalized block numbers with timeouts,
// - make sure every process we started is killed: on normal stop, on test failure,
//   on process exit, on SIGINT/SIGTERM/SIGHUP and on uncaught exceptions.
//
// Only loopback addresses are used: RPC listens on 127.0.0.1 (the node default without
// --rpc-external) and p2p listens on /ip4/127.0.0.1 (via --listen-addr), so no traffic
// ever leaves this machine.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { base58Encode, cryptoWaitReady, ed25519PairFromSeed } from '@polkadot/util-crypto';
import { hexToU8a, u8aConcat } from '@polkadot/util';

// ---------------------------------------------------------------------------------------
// Binary
// ---------------------------------------------------------------------------------------

/**
 * Path of the dsync-node binary: $DSYNC_NODE if set, else
 * ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node.
 */
export function nodeBinaryPath() {
  if (process.env.DSYNC_NODE) return path.resolve(process.env.DSYNC_NODE);
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'dsync-target');
  return path.resolve(target, 'release', 'dsync-node');
}

/** Returns the binary path or throws a clear error if it is missing / not executable. */
export function requireNodeBinary() {
  const bin = nodeBinaryPath();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(
      `dsync-node binary not found or not executable at ${bin}. ` +
        'Build it first (cargo build --release --locked --workspace) or set DSYNC_NODE to its path.',
    );
  }
  return bin;
}

/** Path of the Rust client: $DSYNC_CLIENT, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync. */
export function clientBinaryPath() {
  if (process.env.DSYNC_CLIENT) return path.resolve(process.env.DSYNC_CLIENT);
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'dsync-target');
  return path.resolve(target, 'release', 'dsync');
}

/**
 * Path of the aivm inference server binary: $AIVM if set, else
 * ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm.
 */
export function aivmBinaryPath() {
  if (process.env.AIVM) return path.resolve(process.env.AIVM);
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'dsync-target');
  return path.resolve(target, 'release', 'aivm');
}

/** Returns the aivm binary path or throws a clear error if it is missing / not executable. */
export function requireAivmBinary() {
  const bin = aivmBinaryPath();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(
      `aivm binary not found or not executable at ${bin}. ` +
        'Build it first (cargo build --release -p dsync-aivm) or set AIVM to its path.',
    );
  }
  return bin;
}

// ---------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with a descriptive error if `promise` does not settle within `ms`. */
export async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `fn` every `intervalMs` until it returns a truthy value, which is returned.
 * Errors thrown by `fn` are remembered and retried (the node may be briefly busy); the last
 * one is reported on timeout. `nodes` (optional) are checked for liveness on each round so a
 * crashed node fails fast with its log tail instead of waiting for the full timeout.
 */
export async function waitUntil(what, fn, { timeoutMs, intervalMs = 1000, nodes = [] } = {}) {
  if (!timeoutMs) throw new Error('waitUntil: timeoutMs is required');
  const deadline = Date.now() + timeoutMs;
  let lastError;
  let lastValue;
  for (;;) {
    for (const n of nodes) n.assertRunning();
    try {
      lastValue = await fn();
      if (lastValue) return lastValue;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Creates a fresh temp directory for one test run (logs, base paths). */
export function makeTempDir(prefix = 'dsync-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a temp dir unless DSYNC_E2E_KEEP=1 (then it is kept for inspection). */
export function removeTempDir(dir) {
  if (!dir) return;
  if (process.env.DSYNC_E2E_KEEP === '1') {
    console.log(`[e2e] keeping ${dir} (DSYNC_E2E_KEEP=1)`);
    return;
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------

const handedOutPorts = new Set();

function listenOnce(host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => resolve(srv));
  });
}

/**
 * Returns `count` distinct free TCP ports on 127.0.0.1. All probe sockets are held open
 * until every port is chosen, so the same port is never returned twice; ports handed out
 * earlier in this process are never reused.
 */
export async function getFreePorts(count) {
  const servers = [];
  const ports = [];
  try {
    while (ports.length < count) {
      const srv = await listenOnce('127.0.0.1');
      servers.push(srv);
      const { port } = srv.address();
      if (handedOutPorts.has(port)) continue;
      handedOutPorts.add(port);
      ports.push(port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r()))));
  }
  return ports;
}

// ---------------------------------------------------------------------------------------
// libp2p peer id of a node key
// ---------------------------------------------------------------------------------------

/**
 * The libp2p PeerId (base58 "12D3KooW...") of an ed25519 node key given as the 32-byte
 * secret seed in hex (exactly what `--node-key` takes).
 * PeerId = base58btc(multihash-identity(protobuf PublicKey{ Type: Ed25519, Data: pk })).
 * Checked against the well-known vector: key 00..01 -> 12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp.
 */
export async function peerIdFromNodeKey(nodeKeyHex) {
  await cryptoWaitReady();
  const seed = hexToU8a(nodeKeyHex.startsWith('0x') ? nodeKeyHex : `0x${nodeKeyHex}`);
  if (seed.length !== 32) throw new Error(`node key must be 32 bytes, got ${seed.length}`);
  const { publicKey } = ed25519PairFromSeed(seed);
  // protobuf: field 1 (KeyType) varint = 1 (Ed25519); field 2 (Data) bytes, len 32
  const protobuf = u8aConcat(new Uint8Array([0x08, 0x01, 0x12, 0x20]), publicKey);
  // multihash: code 0x00 (identity), length
  const multihash = u8aConcat(new Uint8Array([0x00, protobuf.length]), protobuf);
  return base58Encode(multihash);
}

// ---------------------------------------------------------------------------------------
// Process bookkeeping / cleanup
// ---------------------------------------------------------------------------------------

/** Every NodeProcess whose process may still be alive. */
const liveNodes = new Set();
let cleanupInstalled = false;

function killAllSync(signal = 'SIGKILL') {
  for (const node of liveNodes) node.killGroupSync(signal);
}

function installCleanupHandlers() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  // Last line of defence: whatever happens, no node outlives this process.
  process.on('exit', () => killAllSync('SIGKILL'));
  // Interrupted from outside: kill the nodes, then exit with the conventional code.
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ]) {
    process.on(sig, () => {
      console.error(`[e2e] received ${sig}, killing ${liveNodes.size} node process(es)`);
      killAllSync('SIGKILL');
      process.exit(code);
    });
  }
  // Observe (without changing the test runner's own handling) uncaught exceptions.
  process.on('uncaughtExceptionMonitor', (err) => {
    console.error(`[e2e] uncaught exception, killing ${liveNodes.size} node process(es):`, err);
    killAllSync('SIGKILL');
  });
}

/** Optional pid registry used by run.sh as an extra safety net (see run.sh). */
function registerPid(pid) {
  const dir = process.env.DSYNC_E2E_PIDDIR;
  if (!dir) return;
  try {
    fs.writeFileSync(path.join(dir, String(pid)), '');
  } catch {
    /* best effort */
  }
}
function unregisterPid(pid) {
  const dir = process.env.DSYNC_E2E_PIDDIR;
  if (!dir) return;
  fs.rmSync(path.join(dir, String(pid)), { force: true });
}

// ---------------------------------------------------------------------------------------
// JSON-RPC over HTTP
// ---------------------------------------------------------------------------------------

let rpcId = 0;

/** Error thrown for a JSON-RPC error response; keeps code / data. */
export class JsonRpcError extends Error {
  constructor(method, error) {
    const data = error.data === undefined ? '' : ` (data: ${JSON.stringify(error.data)})`;
    super(`${method} failed: ${error.code}: ${error.message}${data}`);
    this.code = error.code;
    this.rpcMessage = error.message;
    this.data = error.data;
  }
}

/** Sends one JSON-RPC request over HTTP and returns the raw response object. */
export async function rpcRaw(url, method, params = [], timeoutMs = 15000) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${method}: HTTP ${res.status}, non-JSON answer: ${text.slice(0, 200)}`);
  }
}

/**
 * The samples of a Prometheus text exposition at `url`, as a function
 * `(name, labels = {}) => value`: the sum of the samples of metric `name` whose labels include
 * `labels` (other labels, such as the node's `chain`, are ignored); undefined when none does.
 * Its `names` property is the set of metric names served.
 */
export async function scrapeMetrics(url, timeoutMs = 15000) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  const samples = [];
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]] = pair[2];
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  const lookup = (name, labels = {}) => {
    const matching = samples.filter(
      (sample) => sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v),
    );
    return matching.length ? matching.reduce((sum, sample) => sum + sample.value, 0) : undefined;
  };
  /** The metric names served. */
  lookup.names = new Set(samples.map((sample) => sample.name));
  return lookup;
}

/** JSON-RPC call returning `result`, throwing JsonRpcError on an error response. */
export async function rpc(url, method, params = [], timeoutMs) {
  const body = await rpcRaw(url, method, params, timeoutMs);
  if (body.error) throw new JsonRpcError(method, body.error);
  return body.result;
}

const hexNum = (hex) => Number.parseInt(hex, 16);

/** { number, hash } of the node's best block. */
export async function bestHead(url) {
  // chain_getBlockHash without a number = best hash; then its header (consistent pair)
  const hash = await rpc(url, 'chain_getBlockHash', []);
  const header = await rpc(url, 'chain_getHeader', [hash]);
  return { number: hexNum(header.number), hash };
}

/** { number, hash } of the node's finalized head. */
export async function finalizedHead(url) {
  const hash = await rpc(url, 'chain_getFinalizedHead', []);
  const header = await rpc(url, 'chain_getHeader', [hash]);
  return { number: hexNum(header.number), hash };
}

/** Canonical block hash at `number` (null if the node has no block there). */
export async function blockHashAt(url, number) {
  return rpc(url, 'chain_getBlockHash', [number]);
}

// ---------------------------------------------------------------------------------------
// Node process
// ---------------------------------------------------------------------------------------

/**
 * One dsync-node process. `args` are the CLI args; the RPC port must be given as
 * `rpcPort` and is added as --rpc-port, and `--allow-private-fetch` is added unless `args`
 * already say it (every test network runs on 127.0.0.1, where the off-chain workers' fetches
 * of probe endpoints and GPU batches are refused without it). stdout+stderr go to
 * `<logDir>/<name>.<n>.log` (n counts starts, so a restarted node gets a fresh file and the old
 * one stays).
 */
export class NodeProcess {
  constructor({ name, args, rpcPort, logDir, env = {} }) {
    this.name = name;
    this.args = args;
    this.rpcPort = rpcPort;
    this.logDir = logDir;
    this.env = env;
    this.child = null;
    this.exitInfo = null;
    this.starts = 0;
    this.logPath = null;
    this._exitPromise = null;
  }

  get httpUrl() {
    return `http://127.0.0.1:${this.rpcPort}`;
  }

  get wsUrl() {
    return `ws://127.0.0.1:${this.rpcPort}`;
  }

  get running() {
    return this.child !== null && this.exitInfo === null;
  }

  /** The executable to spawn (checked to exist); subclasses run another program. */
  binary() {
    return requireNodeBinary();
  }

  /**
   * The full argument list: `args`, the RPC port and `--allow-private-fetch` (the test
   * networks' probe endpoints, aivm servers and batch servers are all on loopback).
   */
  commandArgs() {
    const fetch = this.args.some((arg) => arg.startsWith('--allow-private-fetch'))
      ? []
      : ['--allow-private-fetch'];
    return [...this.args, '--rpc-port', String(this.rpcPort), ...fetch];
  }

  /** Spawns the node (in a new process group). Does not wait for RPC. */
  start() {
    if (this.running) throw new Error(`${this.name} is already running`);
    installCleanupHandlers();
    const bin = this.binary();
    this.starts += 1;
    this.logPath = path.join(this.logDir, `${this.name}.${this.starts}.log`);
    const fullArgs = this.commandArgs();
    fs.writeFileSync(this.logPath, `# ${bin} ${fullArgs.join(' ')}\n`);
    const fd = fs.openSync(this.logPath, 'a');
    let child;
    try {
      child = spawn(bin, fullArgs, {
        // own process group, so we can signal the whole group with kill(-pid)
        detached: true,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, RUST_BACKTRACE: '1', ...this.env },
      });
    } finally {
      fs.closeSync(fd); // the child has its own copy
    }
    this.child = child;
    this.exitInfo = null;
    liveNodes.add(this);
    registerPid(child.pid);
    this._exitPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        liveNodes.delete(this);
        unregisterPid(child.pid);
        resolve(this.exitInfo);
      });
      child.once('error', (err) => {
        // spawn failure (ENOENT, EACCES...)
        this.exitInfo = { code: null, signal: null, error: err };
        liveNodes.delete(this);
        unregisterPid(child.pid);
        resolve(this.exitInfo);
      });
    });
    // Do not keep the test process alive just because a node runs; the 'exit' handler
    // kills anything still running.
    child.unref();
    console.log(`[e2e] started ${this.name} (pid ${child.pid}), log: ${this.logPath}`);
    return this;
  }

  /** Throws (with the log tail) if the node process has exited. */
  assertRunning() {
    if (!this.child) throw new Error(`${this.name} was never started`);
    if (this.exitInfo) {
      const { code, signal, error } = this.exitInfo;
      const why = error ? `failed to spawn: ${error.message}` : `exited (code ${code}, signal ${signal})`;
      throw new Error(`${this.name} ${why}\n--- last log lines of ${this.logPath} ---\n${this.logTail()}`);
    }
  }

  /** Waits until the node answers system_health over HTTP JSON-RPC. */
  async waitForRpc(timeoutMs = 120_000) {
    try {
      await waitUntil(
        `${this.name} RPC at ${this.httpUrl}`,
        async () => {
          await rpc(this.httpUrl, 'system_health', [], 5000);
          return true;
        },
        { timeoutMs, intervalMs: 500, nodes: [this] },
      );
    } catch (e) {
      if (!this.exitInfo) e.message += `\n--- last log lines of ${this.logPath} ---\n${this.logTail()}`;
      throw e;
    }
    return this;
  }

  /** Sends `signal` to the node's whole process group (synchronously, best effort). */
  killGroupSync(signal) {
    if (!this.child || this.exitInfo) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      try {
        this.child.kill(signal);
      } catch {
        /* already gone */
      }
    }
  }

  /**
   * Stops the node: `signal` (default SIGTERM) to its process group, then waits up to
   * `timeoutMs`. If it is still alive then, it is SIGKILLed and `forced: true` is reported.
   * Returns { code, signal, forced }.
   */
  async stop({ signal = 'SIGTERM', timeoutMs = 60_000 } = {}) {
    if (!this.child) return { code: null, signal: null, forced: false };
    if (this.exitInfo) return { ...this.exitInfo, forced: false };
    this.killGroupSync(signal);
    let forced = false;
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const first = await Promise.race([this._exitPromise, timeout]);
    clearTimeout(timer); // do not keep the event loop alive
    if (first === 'timeout') {
      forced = true;
      console.error(`[e2e] ${this.name} did not exit ${timeoutMs} ms after ${signal}; sending SIGKILL`);
      this.killGroupSync('SIGKILL');
      await withTimeout(this._exitPromise, 10_000, `${this.name} to die after SIGKILL`);
    }
    // also reap anything else left in the group (e.g. if DSYNC_NODE is a wrapper script)
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      /* group already empty */
    }
    return { ...this.exitInfo, forced };
  }

  /** Full text of the current log file. */
  readLog() {
    if (!this.logPath) return '';
    try {
      return fs.readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Last `lines` lines of the current log file. */
  logTail(lines = 60) {
    const all = this.readLog().split('\n');
    return all.slice(-lines - 1).join('\n');
  }

  /** The peer id the node printed ("Local node identity is: <id>"), or null. */
  loggedPeerId() {
    const m = /Local node identity is: (\w+)/.exec(this.readLog());
    return m ? m[1] : null;
  }
}

/**
 * One `aivm` inference server process (the bundled digits model unless `args` name models),
 * listening on 127.0.0.1:`port`. Spawned, logged, killed and cleaned up exactly like a node
 * (own process group, `<logDir>/<name>.<n>.log`, killed on exit / signals / uncaught errors).
 */
export class AivmProcess extends NodeProcess {
  constructor({ name = 'aivm', port, args = [], logDir, env = {} }) {
    super({ name, args, rpcPort: null, logDir, env });
    this.port = port;
  }

  /** `http://127.0.0.1:<port>`: what `dsync-node --aivm-url` points to. */
  get baseUrl() {
    return `http://127.0.0.1:${this.port}`;
  }

  get httpUrl() {
    return this.baseUrl;
  }

  binary() {
    return requireAivmBinary();
  }

  commandArgs() {
    return ['--listen', `127.0.0.1:${this.port}`, ...this.args];
  }

  /** GET /health: the parsed JSON body of a 200 answer; throws on anything else. */
  async health(timeoutMs = 5000) {
    const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`${this.name}: GET /health answered ${res.status}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${this.name}: GET /health answered non-JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Waits until GET /health answers 200 with `"status":"ok"`; returns that body. */
  async waitForHealth(timeoutMs = 60_000) {
    try {
      return await waitUntil(
        `${this.name} health at ${this.baseUrl}/health`,
        async () => {
          const body = await this.health();
          return body && body.status === 'ok' ? body : null;
        },
        { timeoutMs, intervalMs: 250, nodes: [this] },
      );
    } catch (e) {
      if (!this.exitInfo) e.message += `\n--- last log lines of ${this.logPath} ---\n${this.logTail()}`;
      throw e;
    }
  }

  /** Not a node: use waitForHealth. */
  async waitForRpc(timeoutMs = 60_000) {
    await this.waitForHealth(timeoutMs);
    return this;
  }
}

/** Prints the log tail of every given node (used when a test fails). */
export function dumpLogs(nodes, lines = 80) {
  for (const n of nodes) {
    if (!n || !n.logPath) continue;
    const state = n.running ? 'running' : `exited ${JSON.stringify(n.exitInfo)}`;
    console.error(`\n===== ${n.name} (${state}) — last ${lines} lines of ${n.logPath} =====`);
    console.error(n.logTail(lines));
  }
}

// ---------------------------------------------------------------------------------------
// Waiting for blocks (RPC polling, works for any number of nodes)
// ---------------------------------------------------------------------------------------

/** Waits until the node's best block number is > n; returns { number, hash }. */
export function waitForBestAbove(node, n, timeoutMs) {
  return waitUntil(
    `${node.name} best block > ${n}`,
    async () => {
      const head = await bestHead(node.httpUrl);
      return head.number > n ? head : null;
    },
    { timeoutMs, nodes: [node] },
  );
}

/** Waits until the node's finalized block number is > n; returns { number, hash }. */
export function waitForFinalizedAbove(node, n, timeoutMs) {
  return waitUntil(
    `${node.name} finalized block > ${n}`,
    async () => {
      const head = await finalizedHead(node.httpUrl);
      return head.number > n ? head : null;
    },
    { timeoutMs, nodes: [node] },
  );
}
