// try_state on the real final state of a suite's chain.
//
// scripts/build-try-runtime.sh builds the runtime with its `try-runtime` feature (the same
// spec_version as the node's runtime; with `--upgrade-test` also the governance suite's upgraded
// runtime, spec_version + 1) into a directory holding only those Wasm files; tests/e2e/run.sh
// exports it as $DSYNC_TRY_RUNTIME_DIR. The last step of every suite (`stepTryState`):
//
//   1. notes the finalized head F of one of the suite's nodes, stops that node (SIGTERM) and
//      restarts it on its base path (so the node must not run with --tmp) with
//      `--wasm-runtime-overrides $DSYNC_TRY_RUNTIME_DIR`, fresh p2p/RPC ports and without the
//      flags that bind other ports (probe endpoint, DNS). The node then runs the try-runtime
//      build wherever the chain's runtime has its spec_version: `state_getRuntimeVersion` at F's
//      parent and at F must list the `TryRuntime` API, else the override is not in effect;
//   2. re-executes F on its parent's state: state_call('TryRuntime_execute_block',
//      SCALE(F without its seal, state_root_check = true, signature_check = true,
//      TryStateSelect::All), parent of F). Besides the block's own checks (signatures, digest,
//      state root, extrinsics root), every pallet's `try_state` runs on the state after F and
//      every storage item of every pallet must decode;
//   3. state_call('TryRuntime_on_runtime_upgrade', SCALE(UpgradeCheckSelect::All), F): the
//      runtime's migrations with their pre/post checks (no-ops once applied), every pallet's
//      on-chain storage version equal to its in-code version, and `try_state` again.
//
// A failed check panics in the runtime: `state_call` answers an error, and the node's log has the
// panic message, which the thrown error quotes. Everything goes over plain JSON-RPC (no metadata
// needed): the block is re-encoded from `chain_getBlock`, checked against its hash.

import fs from 'node:fs';
import path from 'node:path';

import { compactFromU8a, compactToU8a, hexToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';

import { finalizedHead, getFreePorts, rpc } from './node.mjs';

/** Bound of the whole step: stop, restart (the node compiles the override Wasm), two calls. */
export const TRY_STATE_STEP_TIMEOUT_MS = 5 * 60_000;
const STOP_TIMEOUT_MS = 60_000;
const RESTART_RPC_TIMEOUT_MS = 180_000;
const STATE_CALL_TIMEOUT_MS = 180_000;

/** The runtime API id of `frame_try_runtime::TryRuntime`: blake2_64 of the trait name. */
export const TRY_RUNTIME_API_ID = blake2AsHex('TryRuntime', 64);
/** `TryStateSelect::All` (None 0, All 1, RoundRobin 2, Only 3, AllExcept 4). */
const TRY_STATE_ALL = 1;
/** `UpgradeCheckSelect::All` (None 0, All 1, PreAndPost 2, TryState 3). */
const UPGRADE_CHECK_ALL = 1;
/** `DigestItem::Seal` (Other 0, Consensus 4, Seal 5, PreRuntime 6, RuntimeEnvironmentUpdated 8). */
const DIGEST_SEAL = 5;
/**
 * Flags with a value that bind ports the restarted node does not need (and might find taken),
 * and the storage flags, which need the probe endpoint's address.
 */
const DROPPED_FLAGS = [
  '--probe-listen-addr',
  '--dns-listen-addr',
  '--dns-website-addr',
  '--prometheus-port',
  '--storage-dir',
  '--storage-capacity',
  '--gateway-listen-addr',
];
const OVERRIDES_FLAG = '--wasm-runtime-overrides';

/**
 * The override directory from $DSYNC_TRY_RUNTIME_DIR as { dir, files } (its `.wasm` files), or
 * null when the variable is unset (the step is then skipped). Throws when it is set but holds
 * no Wasm file.
 */
export function tryRuntimeOverrides() {
  const value = process.env.DSYNC_TRY_RUNTIME_DIR;
  if (!value) return null;
  const dir = path.resolve(value);
  let files;
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.wasm'));
  } catch (e) {
    throw new Error(`DSYNC_TRY_RUNTIME_DIR=${value}: ${e.message} (scripts/build-try-runtime.sh prints the directory)`);
  }
  if (files.length === 0) {
    throw new Error(`DSYNC_TRY_RUNTIME_DIR=${value} holds no .wasm file (scripts/build-try-runtime.sh prints the directory)`);
  }
  return { dir, files };
}

// ---- SCALE ---------------------------------------------------------------------------------

/**
 * The SCALE encoding of a block as the runtime executes it, from `chain_getBlock`'s answer: the
 * header without its trailing BABE seal (block import removes it before execution; the stored
 * header keeps it), then the extrinsics (`Vec<UncheckedExtrinsic>`: a compact count, then each
 * extrinsic as the RPC gives it, with its own compact length). The header is first re-encoded
 * with the seal and checked against `hash`, so a layout mistake fails here, not in the runtime.
 * Returns { number, block: Uint8Array, sealed: bool, extrinsics: count }.
 */
export function encodeBlockForExecution(signedBlock, hash) {
  const { header, extrinsics } = signedBlock.block;
  const number = Number.parseInt(header.number, 16);
  const logs = header.digest.logs.map((l) => hexToU8a(l));
  const encodeHeader = (items) =>
    u8aConcat(
      hexToU8a(header.parentHash),
      compactToU8a(number),
      hexToU8a(header.stateRoot),
      hexToU8a(header.extrinsicsRoot),
      compactToU8a(items.length),
      ...items,
    );
  const computed = blake2AsHex(encodeHeader(logs), 256);
  if (computed !== hash) {
    throw new Error(`re-encoded header of #${number} hashes to ${computed}, not ${hash}: unexpected header layout`);
  }
  const sealed = logs.length > 0 && logs.at(-1)[0] === DIGEST_SEAL;
  const unsealed = sealed ? logs.slice(0, -1) : logs;
  if (unsealed.some((l) => l[0] === DIGEST_SEAL)) {
    throw new Error(`block #${number} has a seal that is not its last digest item`);
  }
  const xts = extrinsics.map((x, i) => {
    const bytes = hexToU8a(x);
    const [offset, length] = compactFromU8a(bytes);
    if (offset + length.toNumber() !== bytes.length) {
      throw new Error(`extrinsic ${i} of #${number} is not one length-prefixed extrinsic (${bytes.length} bytes)`);
    }
    return bytes;
  });
  return {
    number,
    sealed,
    extrinsics: xts.length,
    block: u8aConcat(encodeHeader(unsealed), compactToU8a(xts.length), ...xts),
  };
}

/** A `Weight` (compact ref_time, compact proof_size) at `offset`: { weight, length }. */
function decodeWeight(bytes, offset = 0) {
  const [a, refTime] = compactFromU8a(bytes.subarray(offset));
  const [b, proofSize] = compactFromU8a(bytes.subarray(offset + a));
  return { weight: { refTime: BigInt(refTime.toString()), proofSize: BigInt(proofSize.toString()) }, length: a + b };
}

const showWeight = (w) => `ref_time ${w.refTime}, proof_size ${w.proofSize}`;

// ---- the node ------------------------------------------------------------------------------

/**
 * `args` for the restart: the same chain, base path and keys, a fresh p2p port (the old one
 * may still be in TIME_WAIT), without the flags in DROPPED_FLAGS, with the override directory.
 */
export function restartArgs(node, args, dir, p2pPort) {
  const out = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--tmp') {
      throw new Error(`${node.name} runs with --tmp: it cannot restart on its state (give it --base-path)`);
    }
    if (arg === OVERRIDES_FLAG || DROPPED_FLAGS.includes(arg)) {
      i += 1; // and its value
      continue;
    }
    if (arg.startsWith(`${OVERRIDES_FLAG}=`) || DROPPED_FLAGS.some((f) => arg.startsWith(`${f}=`))) continue;
    if (arg === '--listen-addr') {
      out.push(arg, `/ip4/127.0.0.1/tcp/${p2pPort}`);
      i += 1;
      continue;
    }
    out.push(arg);
  }
  if (!out.some((a) => a === '--base-path' || a.startsWith('--base-path=') || a === '-d')) {
    throw new Error(`${node.name} has no --base-path: it cannot restart on its state`);
  }
  return [...out, OVERRIDES_FLAG, dir];
}

/** The lines of the node's current log about overrides (the node scans the directory twice). */
const overrideLines = (node) => [
  ...new Set(
    node
      .readLog()
      .split('\n')
      .filter((l) => /wasm override|wasm_overrides|Duplicate WASM/i.test(l)),
  ),
];

/** The last lines of the node's current log that say what a try-runtime check did. */
function checkLines(node, max = 40) {
  const lines = node
    .readLog()
    .split('\n')
    .filter((l) =>
      /try-runtime|try_state|try_runtime|TryRuntime|panicked|failure|Storage root|Digest item|Transaction trie|execute-block|Execution failed/i.test(
        l,
      ),
    );
  return lines.slice(-max).join('\n') || '(no such line)';
}

/** Throws unless the node runs a runtime with the TryRuntime API in the state of `hash`. */
async function requireTryRuntimeApi(node, overrides, hash, number) {
  const version = await rpc(node.httpUrl, 'state_getRuntimeVersion', [hash]);
  if (version.apis.some(([id]) => id === TRY_RUNTIME_API_ID)) return version;
  const found = overrideLines(node);
  throw new Error(
    `${node.name} does not run the try-runtime Wasm at #${number} (${hash}): on-chain runtime ` +
      `${version.specName} spec_version ${version.specVersion}, whose API list has no TryRuntime ` +
      `(${TRY_RUNTIME_API_ID}). The node overrides only the spec_version each file was built with ` +
      `(${overrides.dir}: ${overrides.files.join(', ')}); rebuild with scripts/build-try-runtime.sh ` +
      `(--upgrade-test for spec_version + 1). The node logged:\n${found.join('\n') || '(no "Found wasm override" line)'}`,
  );
}

/** state_call(method, data, at) as bytes; on an error, the node's try-runtime / panic lines. */
async function stateCall(node, method, data, at, what) {
  let result;
  try {
    result = await rpc(node.httpUrl, 'state_call', [method, u8aToHex(data), at], STATE_CALL_TIMEOUT_MS);
  } catch (e) {
    const state = node.running ? '' : ` (${node.name} exited: ${JSON.stringify(node.exitInfo)})`;
    throw new Error(
      `${method} ${what} failed on ${node.name}${state}: ${e.message}\n` +
        `--- try-runtime / panic lines of ${node.logPath} ---\n${checkLines(node)}`,
    );
  }
  return hexToU8a(result);
}

/**
 * Stops `node`, restarts it on its base path with the try-runtime override and checks its last
 * finalized block from before the stop (see the top of this file). `disconnect`: @polkadot/api
 * instances connected to this node, disconnected first (they would otherwise keep reconnecting
 * to its old port). `log(message)`: progress (e.g. t.diagnostic). Leaves the node running (the
 * suite's `after` stops it). Returns { number, hash, weight, upgradeWeight, maxBlock }.
 */
export async function checkTryState(node, overrides, { disconnect = [], log = () => {} } = {}) {
  node.assertRunning();
  const fin = await finalizedHead(node.httpUrl);
  if (fin.number < 1) throw new Error(`${node.name} has finalized no block after genesis: nothing to check`);

  for (const api of disconnect) if (api) await api.disconnect().catch(() => {});
  const [p2pPort, rpcPort] = await getFreePorts(2);
  const args = restartArgs(node, node.args, overrides.dir, p2pPort);
  const stopped = await node.stop({ timeoutMs: STOP_TIMEOUT_MS });
  if (stopped.forced) log(`${node.name} did not stop on SIGTERM within ${STOP_TIMEOUT_MS} ms and was SIGKILLed`);
  node.args = args;
  node.rpcPort = rpcPort;
  node.start();
  await node.waitForRpc(RESTART_RPC_TIMEOUT_MS);
  log(`${node.name} restarted with ${OVERRIDES_FLAG} ${overrides.dir} (${overrides.files.join(', ')})`);
  for (const line of overrideLines(node)) log(line.trim());

  const signedBlock = await rpc(node.httpUrl, 'chain_getBlock', [fin.hash]);
  if (!signedBlock) throw new Error(`${node.name} lost its finalized block #${fin.number} ${fin.hash} in the restart`);
  const { parentHash } = signedBlock.block.header;
  const version = await requireTryRuntimeApi(node, overrides, parentHash, fin.number - 1);
  await requireTryRuntimeApi(node, overrides, fin.hash, fin.number);
  const encoded = encodeBlockForExecution(signedBlock, fin.hash);

  // (block, state_root_check, signature_check, try_state): the arguments are SCALE-encoded one
  // after the other. Executed on the parent's state, as block import does.
  const started = Date.now();
  const executed = await stateCall(
    node,
    'TryRuntime_execute_block',
    u8aConcat(encoded.block, new Uint8Array([1, 1, TRY_STATE_ALL])),
    parentHash,
    `(#${fin.number} ${fin.hash} on its parent's state, try_state All)`,
  );
  const { weight } = decodeWeight(executed);
  log(
    `TryRuntime_execute_block: #${fin.number} (${encoded.extrinsics} extrinsic(s)${encoded.sealed ? ', seal removed' : ''}) ` +
      `re-executed with state root and signature checks on spec_version ${version.specVersion}; ` +
      `try_state of every pallet passed; block weight ${showWeight(weight)} (${Date.now() - started} ms)`,
  );

  const upgraded = await stateCall(
    node,
    'TryRuntime_on_runtime_upgrade',
    new Uint8Array([UPGRADE_CHECK_ALL]),
    fin.hash,
    `(UpgradeCheckSelect::All on the state of #${fin.number})`,
  );
  const first = decodeWeight(upgraded);
  const maxBlock = decodeWeight(upgraded, first.length).weight;
  log(
    `TryRuntime_on_runtime_upgrade: migrations' pre/post checks, storage versions and try_state passed; ` +
      `weight ${showWeight(first.weight)} of ${showWeight(maxBlock)}`,
  );
  return { number: fin.number, hash: fin.hash, weight, upgradeWeight: first.weight, maxBlock };
}

/**
 * Registers the suite's last step with its `step(name, timeoutMs, fn)`: `checkTryState` on the
 * node `getNode()` returns (read when the step runs), disconnecting the APIs `getApis()` returns
 * (those connected to that node). Skipped, saying why, when $DSYNC_TRY_RUNTIME_DIR is unset.
 */
export function stepTryState(step, getNode, { getApis = () => [] } = {}) {
  step(
    'try_state holds on the final chain state (a node restarted with the try-runtime Wasm: ' +
      'TryRuntime_execute_block of its last finalized block, TryRuntime_on_runtime_upgrade)',
    TRY_STATE_STEP_TIMEOUT_MS,
    async (t) => {
      const overrides = tryRuntimeOverrides();
      if (!overrides) {
        t.skip('DSYNC_TRY_RUNTIME_DIR is not set (tests/e2e/run.sh sets it from scripts/build-try-runtime.sh)');
        return;
      }
      const node = getNode();
      const res = await checkTryState(node, overrides, { disconnect: getApis(), log: (m) => t.diagnostic(m) });
      console.log(`[e2e] try_state passed on ${node.name} at #${res.number} ${res.hash}`);
    },
  );
}
