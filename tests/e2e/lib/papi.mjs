// polkadot-api (PAPI) for the e2e suites: typed descriptors generated at test time from the
// runtime Wasm the node embeds, and a client over the new JSON-RPC spec (chainHead_v1,
// transaction_v1, chainSpec_v1) whose wire traffic is recorded.
//
// Where the `papi` CLI writes (read from @polkadot-api/cli's source, the version polkadot-api
// pins in package-lock.json):
//
// - the config: the file `--config <file>` names; without it `.papi/polkadot-api.json` in the
//   working directory (a `./polkadot-api.json` found there is read and copied into `.papi/`);
// - `papi add <key> --wasm <file>`: the metadata the Wasm returns (its `Metadata_metadata` run
//   in @polkadot-api/wasm-executor) always goes to `.papi/metadata/<key>.scale` under the working
//   directory (no flag moves it; `--no-persist` only concerns the -w/-c/-n sources); then, unless
//   `--skip-codegen`, it runs the codegen as `generate` does;
// - `papi generate`: the descriptors go to the config's `descriptorPath` (default
//   `.papi/descriptors`) under the working directory; it type-checks them (tsc) and bundles
//   them (rollup + esbuild) into `<descriptorPath>/dist/index.js`. Unless the config's
//   `options.noDescriptorsPackage` is true it ALSO adds
//   `"@polkadot-api/descriptors": "file:<descriptorPath>"` to the working directory's
//   package.json and runs the package manager's `install` there (found by the lock file in the
//   working directory or up to four directories above). `.papi/whitelist.ts` (working
//   directory) would restrict what is generated. PAPI_SKIP_GENERATE=1 skips `generate`.
//
// So `generateDescriptors` runs both commands in a fresh temp directory of its own, with a config
// there that sets `noDescriptorsPackage`: tests/e2e's package.json / package-lock.json are never
// touched, nothing is written to the work tree, and the descriptors are imported from the temp
// directory by absolute path. That directory gets a `node_modules` symlink to tests/e2e's, so
// that the type check and the generated code's `import ... from "polkadot-api"` resolve to the
// same polkadot-api the suite imports.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

import { createClient } from 'polkadot-api';
import { getWsProvider } from 'polkadot-api/ws';
import { getPolkadotSigner } from 'polkadot-api/signer';
import { stringToU8a, u8aConcat } from '@polkadot/util';
import { base58Encode, blake2AsU8a } from '@polkadot/util-crypto';

import { withTimeout } from './node.mjs';

const runFile = promisify(execFile);

const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE_MODULES = path.join(E2E_DIR, 'node_modules');
/** The `papi` executable of the installed polkadot-api (its package.json `bin`). */
const PAPI_CLI = path.join(NODE_MODULES, 'polkadot-api', 'bin', 'cli.js');

/**
 * The runtime Wasm the node embeds: $DSYNC_RUNTIME_WASM if set, else
 * ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/wbuild/dsync-runtime/dsync_runtime.compact.compressed.wasm
 * (what `cargo build --release --locked --workspace` builds beside the binary).
 */
export function runtimeWasmPath() {
  if (process.env.DSYNC_RUNTIME_WASM) return path.resolve(process.env.DSYNC_RUNTIME_WASM);
  const target = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), '.cache', 'dsync-target');
  return path.resolve(target, 'release', 'wbuild', 'dsync-runtime', 'dsync_runtime.compact.compressed.wasm');
}

/**
 * Generates PAPI descriptors for the runtime `wasm` into the (new, empty) directory `dir` with
 * `papi add <key> --config <dir>/polkadot-api.json --wasm <wasm> --skip-codegen` and
 * `papi generate --config <dir>/polkadot-api.json`, both run in `dir` (see the top of this
 * file), then imports them. Returns { descriptors (the chain definition for getTypedApi),
 * module (everything the descriptors export), metadata (the raw metadata the Wasm returned),
 * addMs, generateMs, importMs }.
 */
export async function generateDescriptors({ wasm, dir, key = 'dsync', timeoutMs = 5 * 60_000 }) {
  if (!fs.existsSync(wasm)) {
    throw new Error(
      `runtime Wasm not found at ${wasm}: build the node (cargo build --release --locked --workspace) ` +
        'or set DSYNC_RUNTIME_WASM to the runtime the node embeds',
    );
  }
  if (!fs.existsSync(PAPI_CLI)) throw new Error(`papi CLI not found at ${PAPI_CLI}: run npm ci in ${E2E_DIR}`);
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'polkadot-api.json');
  fs.writeFileSync(
    config,
    `${JSON.stringify(
      { version: 0, descriptorPath: '.papi/descriptors', entries: {}, options: { noDescriptorsPackage: true } },
      null,
      2,
    )}\n`,
  );
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'), 'dir');

  const papi = async (...args) => {
    try {
      return await runFile(process.execPath, [PAPI_CLI, ...args], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (e) {
      const out = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
      throw new Error(`papi ${args.join(' ')} (in ${dir}) failed: ${e.message.split('\n')[0]}\n${out}`);
    }
  };

  let started = Date.now();
  await papi('add', key, '--config', config, '--wasm', wasm, '--skip-codegen');
  const addMs = Date.now() - started;
  const metadataFile = path.join(dir, '.papi', 'metadata', `${key}.scale`);
  if (!fs.existsSync(metadataFile)) throw new Error(`papi add wrote no ${metadataFile}`);

  started = Date.now();
  await papi('generate', '--config', config);
  const generateMs = Date.now() - started;
  const entry = path.join(dir, '.papi', 'descriptors', 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`papi generate wrote no ${entry}`);

  started = Date.now();
  const module = await import(pathToFileURL(entry).href);
  const importMs = Date.now() - started;
  const descriptors = module[key];
  if (!descriptors) throw new Error(`the generated descriptors export no \`${key}\` (exports: ${Object.keys(module).join(', ')})`);
  return { descriptors, module, metadata: fs.readFileSync(metadataFile), addMs, generateMs, importMs };
}

/** The WebSocket class for PAPI: the global one (Node 22+), else the `ws` package's. */
async function webSocketClass() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  return (await import('ws')).WebSocket;
}

/**
 * A PAPI client of the node at `wsUrl` (polkadot-api's `createClient` over its WebSocket
 * provider, which speaks the new JSON-RPC spec where the node offers it). Every JSON-RPC request
 * the client puts on the socket is recorded in `sent` as { method, params } (the provider's
 * logger sees the wire, after PAPI's middleware). Resolves once the client has a finalized
 * block. Returns { client, sent, destroy } (`destroy` is idempotent).
 */
export async function connectPapi(wsUrl, { timeoutMs = 60_000 } = {}) {
  const sent = [];
  const provider = getWsProvider(wsUrl, {
    websocketClass: await webSocketClass(),
    logger: (event) => {
      if (event.type !== 'OUT') return;
      try {
        const { method, params } = JSON.parse(event.msg);
        sent.push({ method, params });
      } catch {
        sent.push({ method: undefined, params: event.msg });
      }
    },
  });
  const client = createClient(provider);
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    client.destroy();
  };
  try {
    await withTimeout(client.getFinalizedBlock(), timeoutMs, `polkadot-api client of ${wsUrl} to see a finalized block`);
  } catch (e) {
    destroy();
    throw e;
  }
  return { client, sent, destroy };
}

/** A PAPI signer (`getPolkadotSigner`, Sr25519) for a @polkadot/keyring sr25519 pair. */
export function papiSigner(pair) {
  if (pair.type !== 'sr25519') throw new Error(`papiSigner: ${pair.type} pair, want sr25519`);
  return getPolkadotSigner(pair.publicKey, 'Sr25519', (payload) => pair.sign(payload));
}

/**
 * SS58 of arbitrary bytes under `prefix` (checksum blake2b-512("SS58PRE" ++ prefix ++ bytes),
 * first 2 bytes), any length: how a wrong-length "account" with a valid checksum looks.
 */
export function ss58OfBytes(bytes, prefix) {
  const prefixBytes =
    prefix < 64 ? Uint8Array.of(prefix) : Uint8Array.of(((prefix & 0xfc) >> 2) | 0x40, (prefix >> 8) | ((prefix & 0x03) << 6));
  const body = u8aConcat(prefixBytes, bytes);
  const checksum = blake2AsU8a(u8aConcat(stringToU8a('SS58PRE'), body), 512).subarray(0, 2);
  return base58Encode(u8aConcat(body, checksum));
}

/**
 * "Pallet.Error" / "Token.FundsUnavailable" / "Arithmetic.Overflow" for a dispatch error as
 * PAPI decodes it ({ type: 'Module', value: { type: pallet, value: { type: error } } } or
 * { type: 'Token', value: { type: 'FundsUnavailable' } }), else its type.
 */
export function describePapiDispatchError(error) {
  if (!error) return null;
  if (error.type === 'Module') return `${error.value?.type}.${error.value?.value?.type}`;
  if (error.value && typeof error.value === 'object' && typeof error.value.type === 'string') {
    return `${error.type}.${error.value.type}`;
  }
  return error.type;
}

/** JSON for messages: bigints as strings, bytes as hex. */
export function papiJson(value) {
  return JSON.stringify(value, (_, v) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return `0x${Buffer.from(v).toString('hex')}`;
    return v;
  });
}

/**
 * Holds (pins) every block the client knows from now on (the finalized one, its descendants and
 * every new block), so that storage can be read at them after they are finalized and the client
 * would otherwise unpin them. Returns { parentOf(hash), release() }.
 */
export function holdBlocks(client) {
  const parents = new Map();
  const releases = [];
  const subscription = client.blocks$.subscribe((block) => {
    parents.set(block.hash, block.parent);
    try {
      releases.push(client.hodlBlock(block.hash));
    } catch {
      /* already unpinned: nothing to hold */
    }
  });
  return {
    parentOf: (hash) => parents.get(hash),
    release() {
      subscription.unsubscribe();
      for (const release of releases.splice(0)) release();
    },
  };
}
