// End-to-end test of Proof of Sync and GPU jobs: a validator (node A, `--dev`, Alice) verifies
// two service nodes registered in the node registry. Bob's node B really answers probes on its
// `--probe-listen-addr` endpoint and, once Active and scored, serves paid GPU inference jobs
// through its off-chain worker and a local `aivm` inference server; Charlie registers an
// endpoint where nothing listens.
//
// Run: node --test --test-concurrency=1 proof-of-sync.test.mjs   (or ./run.sh pos)
// Binaries: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node;
//           $AIVM, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm
//
// What happens, in order (each step depends on the ones before it; once one fails the later
// ones are skipped and the run fails):
//   1. aivm: `--listen 127.0.0.1:<port>` (the bundled digits model), GET /health 200.
//      A: `--dev --tmp`; B: `--chain dev --tmp --probe-listen-addr 127.0.0.1:<port>
//      --offchain-worker always --aivm-url http://127.0.0.1:<aivm port>`, not a validator,
//      bootnode A. B syncs from A.
//   2. B's probe endpoint: /dsync/health 200 "ok"; 503 while B has no `dsyn` key; after
//      author_insertKey('dsyn', '//Bob//probe') a 200-byte SCALE SignedProbeAnswer (seed echoed,
//      compute challenge (one digits inference, checked against aivm) right, sr25519 signature by //Bob//probe); 400 for malformed seeds.
//   3. `//Alice//dsync` is inserted as A's `dsyn` key (the verifier's off-chain worker signs its
//      commit/reveal transactions with it) and gets 100 DSYNC for the (refunded) fees.
//   4. `//Bob//probe` (B's `dsyn` key; B's GPU worker signs its job commit/reveal with it) gets
//      100 DSYNC for the fees paid up front (refunded on success).
//   5. sudo: ProofOfSync parameters -> 6-block epochs, 1 verifier per node, 1 warm-up epoch,
//      EMA alpha 50 %, activation 30 %, miss below 50 %, suspend after 2 misses, slash after 3
//      more (deferred 2 epochs), 1,000 DSYNC per epoch, 10 % of it to verifiers.
//   6. Alice registers as Validator, Bob and Charlie as Service nodes (bond = minimum + 1 DSYNC).
//      Bob also declares one GPU and offers GpuInference for model 0 (the digits model the
//      development genesis registers, price floor 0.001 DSYNC).
//   7. Within 6 minutes: Alice Active; Bob Active with a positive, rising score and rewards
//      (NodeRewarded events == totalRewards == the rise of his free balance); Charlie Suspended
//      with >= 2 misses and score 0. An unregistered account has no score.
//   8. Dave posts a GPU job: model 0, one 8x8 digit inline, k = 1, price = the floor, deadline
//      12 blocks ahead. JobPosted draws Bob (the only GPU provider); the price is held from Dave
//      (GpuJobs Escrow hold; free balance down by price + fee).
//   9. Within 2 minutes B's worker computes the digit with aivm, commits and reveals; the
//      reveal concludes the job (JobConcluded, payable at its dispute end = deadline + 10), and
//      at the end of that challenge window (within 4 minutes in all)
//      JobSettled { winners [Bob], paid = price, burned = price / 10, refunded 0 } whose result
//      is aivm's result hash for the same input (asked directly, and recomputed here from its
//      outputs). Bob's free balance rises by the provider share (85 %), the tokenomics
//      GpuInference ledger by the split, ProofOfSyncApi::usage shows Bob's delivered units and
//      Dave's consumed GpuInference units.
//  10. aivm is stopped; a second job (deadline 8 blocks ahead) gets no result: JobExpired with
//      refunded = price at its deadline, ProviderPenalised { Bob, NoShow } and
//      ProofOfSync.ServiceFailed for Bob; Dave's hold is released (free balance = before posting
//      minus the posting fee).
//
// Every process started here is stopped in `after` (and killed on exit as a last resort).

import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { compactAddLength, hexToU8a, stringToU8a, u8aConcat, u8aEq, u8aToHex } from '@polkadot/util';
import { blake2AsHex, blake2AsU8a, cryptoWaitReady, randomAsU8a, sr25519Verify } from '@polkadot/util-crypto';

import {
  accountAt,
  connectApi,
  describeDispatchError,
  feePaid,
  filterEvents,
  findEvent,
  parentOf,
  signSendAndWait,
  UNIT,
} from './lib/chain.mjs';
import {
  AivmProcess,
  bestHead,
  blockHashAt,
  dumpLogs,
  finalizedHead,
  getFreePorts,
  makeTempDir,
  NodeProcess,
  peerIdFromNodeKey,
  removeTempDir,
  rpc,
  sleep,
  waitForFinalizedAbove,
  waitUntil,
} from './lib/node.mjs';
import { runSettleBench, settleBenchConfig } from './lib/settle-bench.mjs';
import { sequentialSteps } from './lib/steps.mjs';

// ---- constants -----------------------------------------------------------------------------
// The optional settlement benchmark (benchmarks/settlement/run.sh) needs longer.
const SUITE_TIMEOUT_MS = (settleBenchConfig() ? 40 : 15) * 60_000;
/** How long step 7 waits for the Proof-of-Sync outcome. */
const OUTCOME_TIMEOUT_MS = 6 * 60_000;
/** How long steps 9 and 10 wait for a GPU job to end. */
const JOB_TIMEOUT_MS = 2 * 60_000;
/** Job 1 is paid at the end of its challenge window: dispute_period (10) blocks of 6 s more. */
const SETTLE_TIMEOUT_MS = JOB_TIMEOUT_MS + 2 * 60_000;
const POLL_MS = 2000;
const SS58 = 7373;
/** Fixed ed25519 node keys (32-byte secrets in hex, as --node-key takes them). */
const NODE_KEY_A = `${'00'.repeat(31)}a1`;
const NODE_KEY_B = `${'00'.repeat(31)}b2`;
const KEY_TYPE = 'dsyn';

/** Perbill from a percentage: parts per billion. */
const pct = (p) => p * 10_000_000;

/** The Proof-of-Sync parameters this test sets (everything else keeps its current value). */
const POS_PARAMS = {
  epochLength: 6,
  verifiersPerNode: 1,
  warmupEpochs: 1,
  emaAlpha: pct(50),
  activationScore: pct(30),
  missQuality: pct(50),
  suspendAfterMisses: 2,
  slashAfterMisses: 3,
  slashDeferEpochs: 2,
  epochReward: 1000n * UNIT,
  verifierShare: pct(10),
};

/** Resources declared by every node of this test: 4 + 8 + 1 + 1 = 14 capacity units. */
const RESOURCES = { cpuCores: 4, memoryMib: 8192, storageGib: 100, bandwidthMbps: 100, gpus: [] };
/**
 * Bob's resources: the same plus one GPU (offering GpuInference needs one): 14 + 1 * (4 + 1) =
 * 19 capacity units. The GPU model name is hex for an unambiguous Vec<u8>.
 */
const GPU_RESOURCES = {
  ...RESOURCES,
  gpus: [{ model: u8aToHex(stringToU8a('DSYNC e2e GPU')), count: 1, memoryMib: 1024 }],
};

// GPU jobs (pallet-gpu-jobs): the development genesis registers the digits model (64 i8 in,
// 10 i32 out) as model 0 with a price floor of 0.001 DSYNC per provider and item, and sets
// min_deadline 6, reveal_period 3, dispute_period 10. The GpuInference service split is 10 %
// burned, 5 % to the treasury, the rest to the provider.
const GPU_MODEL = 0;
/** The price per provider of every job here: the model's floor for one item (0.001 DSYNC). */
const PRICE = UNIT / 1000n;
const GPU_BURN_PCT = 10;
const GPU_TREASURY_PCT = 5;
/** Deadlines, in blocks after A's best block when posting (min_deadline is 6). */
const JOB1_DEADLINE_BLOCKS = 12;
const JOB2_DEADLINE_BLOCKS = 8;
/** 8x8 digits, values 0..16 (the first two images of the UCI / scikit-learn digits set). */
const DIGIT_ZERO = [
  0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0,
  0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
];
const DIGIT_ONE = [
  0, 0, 0, 12, 13, 5, 0, 0, 0, 0, 0, 11, 16, 9, 0, 0, 0, 0, 3, 15, 16, 6, 0, 0, 0, 7, 15, 16, 16, 2, 0, 0, 0, 0, 1, 16,
  16, 3, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 0, 11, 16, 10, 0, 0,
];

// Probe protocol (dsync_primitives::probe): SignedProbeAnswer = seed [u8;32] ++ best_number u32 ++
// best_hash H256 ++ finalized_number u32 ++ finalized_hash H256 ++ compute [u8;32] ++ sr25519
// signature [u8;64] = 200 bytes. Signed payload and challenge input are SCALE tuples whose first
// element is the context &[u8] (so it carries a compact length prefix).
const PROBE_CONTEXT = stringToU8a('dsync/probe/v1');
const SIGNED_ANSWER_LEN = 200;
const ANSWER_LEN = 136;

// ---- shared state --------------------------------------------------------------------------
let tmpDir;
let nodeA;
let nodeB;
/** B's inference server (stopped on purpose before the second job). */
let aivm;
let api;
/**
 * p2pA, rpcA, p2pB, rpcB, probe (B's endpoint), dead (Charlie's endpoint: nothing listens),
 * aivm (B's inference server)
 */
const ports = {};
let peerIdA;

let alice;
let bob;
let charlie;
let dave;
let aliceDsync;
let bobProbe;
let charlieProbe;
let nobody;
/** hex public key -> display name */
const names = new Map();

/** Block number of the setParameters extrinsic (events are scanned from the next block on). */
let paramsBlock = null;
/** name -> { blockHash, blockNumber, bond, free, nonce } from the registration */
const registered = {};
/**
 * GPU-job state shared by steps 8-10: model { hash, inputLen, outputLen, unitsPerItem,
 * priceFloor, active }, params (GpuJobs timing), job1 { id, blockHash, blockNumber, parentHash,
 * deadline, fee, escrowBefore } from posting.
 */
const gpu = {};

/** The nodes (polled for liveness everywhere). */
const all = () => [nodeA, nodeB].filter(Boolean);
/** Every process whose log is worth printing on a failure. */
const allProcesses = () => [nodeA, nodeB, aivm].filter(Boolean);

/** Sequential steps: skipped once one failed; a failing step dumps every process's log. */
const { step, failed } = sequentialSteps(() => dumpLogs(allProcesses(), 120));

// ---- defensive decoding helpers ------------------------------------------------------------

/** A value whose shape differs from what this test expects (fails at once, no retry). */
class ShapeError extends Error {}

const bigintJson = (_, x) => (typeof x === 'bigint' ? x.toString() : x);

/** Short printable form of a codec / value for messages. */
function show(v) {
  try {
    if (v && typeof v.toHuman === 'function') return JSON.stringify(v.toHuman());
    return JSON.stringify(v, bigintJson);
  } catch {
    return String(v);
  }
}

/** Field `name` (camelCase) of a Struct / event data / object; ShapeError if it is missing. */
function field(struct, name) {
  if (struct === null || struct === undefined) throw new ShapeError(`cannot read field ${name} of ${struct}`);
  let v;
  if (struct instanceof Map) v = struct.get(name);
  if (v === undefined) v = struct[name];
  if (v === undefined) {
    const type = typeof struct.toRawType === 'function' ? struct.toRawType() : typeof struct;
    throw new ShapeError(`field \`${name}\` missing in ${show(struct)} (type ${type})`);
  }
  return v;
}

/** Like `field` but undefined instead of an error (for diagnostics only). */
function softField(struct, name) {
  try {
    return field(struct, name);
  } catch {
    return undefined;
  }
}

/** Option codec -> inner codec or null; anything else unchanged. */
function unwrapOption(v) {
  if (v && typeof v.isSome === 'boolean' && typeof v.unwrap === 'function') return v.isSome ? v.unwrap() : null;
  return v;
}

/** Any integer-like value (codec, Compact, bigint, number, decimal or hex string) -> bigint. */
function big(v) {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'string') return BigInt(v);
  if (v && typeof v.toBigInt === 'function') return v.toBigInt();
  if (v && typeof v.unwrap === 'function') return big(v.unwrap());
  throw new ShapeError(`not an integer: ${show(v)}`);
}
const num = (v) => Number(big(v));

/** Enum variant name ('Active', 'Collecting', ...), or null for None; numbers stay numbers. */
function variant(v) {
  const inner = unwrapOption(v);
  if (inner === null || inner === undefined) return null;
  if (typeof inner === 'string') return inner;
  if (typeof inner.type === 'string' && typeof inner.isBasic === 'boolean') return inner.type; // Enum
  const json = typeof inner.toJSON === 'function' ? inner.toJSON() : inner;
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  if (typeof json === 'string') return cap(json);
  if (typeof json === 'number') return json; // e.g. a phase given as u8
  if (json && typeof json === 'object' && Object.keys(json).length === 1) return cap(Object.keys(json)[0]);
  throw new ShapeError(`not an enum: ${show(inner)}`);
}

/** Number of entries of a Vec, or the number itself (event fields that may be a list or a count). */
function countOf(v) {
  if (v === undefined) return '?';
  if (v && typeof v.length === 'number' && typeof v.toBigInt !== 'function') return v.length;
  try {
    return num(v);
  } catch {
    return show(v);
  }
}

const keyHex = (account) => u8aToHex(account instanceof Uint8Array ? account : account.toU8a());
const nameOf = (account) => names.get(keyHex(account)) ?? account.toString();
const sameAccount = (account, pair) => u8aEq(account.toU8a(), pair.publicKey);
const dsync = (planck) => `${planck / UNIT}.${(planck % UNIT).toString().padStart(18, '0').slice(0, 4)} DSYNC`;

// ---- chain access --------------------------------------------------------------------------

/** Fails with one clear message if the runtime lacks what this test uses. */
function requirePalletApis() {
  const wanted = {
    'api.tx.nodeRegistry.register': api.tx.nodeRegistry?.register,
    'api.query.nodeRegistry.nodes': api.query.nodeRegistry?.nodes,
    'api.query.nodeRegistry.parameters': api.query.nodeRegistry?.parameters,
    'api.tx.proofOfSync.setParameters': api.tx.proofOfSync?.setParameters,
    'api.call.proofOfSyncApi.nodeScore': api.call.proofOfSyncApi?.nodeScore,
    'api.call.proofOfSyncApi.epoch': api.call.proofOfSyncApi?.epoch,
    'api.call.proofOfSyncApi.usage': api.call.proofOfSyncApi?.usage,
    'api.tx.sudo.sudo': api.tx.sudo?.sudo,
    'api.tx.gpuJobs.postJob': api.tx.gpuJobs?.postJob,
    'api.query.gpuJobs.models': api.query.gpuJobs?.models,
    'api.query.gpuJobs.params': api.query.gpuJobs?.params,
    'api.call.gpuJobsApi.job': api.call.gpuJobsApi?.job,
    'api.query.nodeRegistry.gpuProviders': api.query.nodeRegistry?.gpuProviders,
    'api.call.tokenomicsApi.totals': api.call.tokenomicsApi?.totals,
    'api.query.balances.holds': api.query.balances?.holds,
  };
  const missing = Object.entries(wanted)
    .filter(([, f]) => typeof f !== 'function')
    .map(([k]) => k);
  if (missing.length) {
    const pallets = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
    throw new Error(
      `the runtime lacks ${missing.join(', ')}; pallets: ${pallets.join(', ')}; ` +
        `runtime APIs: ${Object.keys(api.call).join(', ')}`,
    );
  }
  posParamsItem(api); // fails clearly if neither storage name exists
}

/** Name of ProofOfSync's parameters storage item: `params` or `parameters`. */
function posParamsItem(apiLike) {
  const q = apiLike.query.proofOfSync;
  if (!q) throw new Error('the runtime has no ProofOfSync storage');
  for (const name of ['params', 'parameters']) if (typeof q[name] === 'function') return name;
  throw new Error(
    `ProofOfSync has neither a \`params\` nor a \`parameters\` storage item; it has: ${Object.keys(q).join(', ')}`,
  );
}

/** The ProofOfSync Parameters struct (codec) at `apiLike` (api or api.at(hash)). */
async function readPosParams(apiLike) {
  const item = posParamsItem(apiLike);
  const value = unwrapOption(await apiLike.query.proofOfSync[item]());
  if (!value) throw new Error(`ProofOfSync.${item} is empty`);
  if (!(value instanceof Map)) throw new ShapeError(`ProofOfSync.${item} is not a struct: ${show(value)}`);
  return value;
}

/**
 * { status, bond, offchainKey, endpoint, services, models, raw } of `pair`'s registry record, or
 * null. `services` (variant names) and `models` (numbers) are undefined if the declaration
 * cannot be read.
 */
async function nodeInfo(apiLike, pair) {
  const info = unwrapOption(await apiLike.query.nodeRegistry.nodes(pair.address));
  if (!info) return null;
  const decl = softField(info, 'declaration');
  const endpoint = decl ? softField(decl, 'endpoint') : undefined;
  const services = decl ? softField(decl, 'services') : undefined;
  const models = decl ? softField(decl, 'models') : undefined;
  return {
    status: variant(field(info, 'status')),
    bond: big(field(info, 'bond')),
    offchainKey: field(info, 'offchainKey'),
    endpoint: endpoint && typeof endpoint.toUtf8 === 'function' ? endpoint.toUtf8() : undefined,
    services: services === undefined ? undefined : [...services].map(variant),
    models: models === undefined ? undefined : [...models].map(num),
    raw: info,
  };
}

/** The runtime API's NodeScoreView of `pair` as plain JS, or null (None). */
async function scoreOf(apiLike, pair) {
  const view = unwrapOption(await apiLike.call.proofOfSyncApi.nodeScore(pair.address));
  if (!view) return null;
  return {
    score: num(field(view, 'score')),
    lastQuality: num(field(view, 'lastQuality')),
    epochs: num(field(view, 'epochs')),
    misses: num(field(view, 'misses')),
    goodStreak: num(field(view, 'goodStreak')),
    totalRewards: big(field(view, 'totalRewards')),
    status: variant(field(view, 'status')),
  };
}

/** The runtime API's EpochView as plain JS. */
async function epochOf(apiLike) {
  const e = await apiLike.call.proofOfSyncApi.epoch();
  return {
    index: num(field(e, 'index')),
    start: num(field(e, 'start')),
    phase: variant(field(e, 'phase')),
    epochLength: num(field(e, 'epochLength')),
  };
}

const showScore = (s) =>
  s === null
    ? 'None'
    : `score ${(s.score / 1e7).toFixed(2)} %, last quality ${(s.lastQuality / 1e7).toFixed(2)} %, ` +
      `epochs ${s.epochs}, misses ${s.misses}, good streak ${s.goodStreak}, rewards ${dsync(s.totalRewards)}, ` +
      `status ${s.status}`;

/** Capacity units of a declaration's resources (the registry's formula, at least 1). */
function capacityUnits(r) {
  const floorDiv = (a, b) => BigInt(Math.floor(a / b));
  let units =
    BigInt(r.cpuCores) + floorDiv(r.memoryMib, 1024) + floorDiv(r.storageGib, 100) + floorDiv(r.bandwidthMbps, 100);
  for (const g of r.gpus) units += BigInt(g.count) * (4n + floorDiv(g.memoryMib, 1024));
  return units < 1n ? 1n : units;
}

async function blockNumberOf(hash) {
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

// ---- GPU jobs ------------------------------------------------------------------------------

/** GpuJobs model `id` (storage `Models`) as plain JS; throws if it is not registered. */
async function gpuModel(apiLike, id) {
  const record = unwrapOption(await apiLike.query.gpuJobs.models(id));
  if (!record) throw new Error(`GpuJobs has no model ${id} (does the development genesis register the digits model?)`);
  return {
    // Not field(record, 'hash'): a codec's own `hash` (of its encoding) shadows the field, which
    // @polkadot/types keeps under another key; the JSON form has the field itself.
    hash: String(record.toJSON().hash).toLowerCase(),
    inputLen: num(field(record, 'inputLen')),
    outputLen: num(field(record, 'outputLen')),
    unitsPerItem: big(field(record, 'unitsPerItem')),
    priceFloor: big(field(record, 'priceFloor')),
    active: field(record, 'active').isTrue,
  };
}

/** The GpuJobsApi view of open job `id` as plain JS, or null (None: ended or never posted). */
async function jobView(apiLike, id) {
  const view = unwrapOption(await apiLike.call.gpuJobsApi.job(id));
  if (!view) return null;
  return {
    client: field(view, 'client'),
    model: num(field(view, 'model')),
    items: num(field(view, 'items')),
    replication: num(field(view, 'replication')),
    price: big(field(view, 'price')),
    escrow: big(field(view, 'escrow')),
    postedAt: num(field(view, 'postedAt')),
    commitDeadline: num(field(view, 'commitDeadline')),
    deadline: num(field(view, 'deadline')),
    disputeEnd: num(field(view, 'disputeEnd')),
    providers: [...field(view, 'providers')].map((slot) => field(slot, 'who')),
    status: variant(field(view, 'status')),
  };
}

/** Sum of `who`'s balance holds for the GpuJobs escrow (`{ GpuJobs: 'Escrow' }`) at `apiLike`. */
async function escrowHeld(apiLike, who) {
  const holds = await apiLike.query.balances.holds(who.address);
  let total = 0n;
  for (const hold of holds) {
    const id = field(hold, 'id').toHuman();
    if (id && typeof id === 'object' && id.GpuJobs === 'Escrow') total += big(field(hold, 'amount'));
  }
  return total;
}

/** `p` % of `amount` (bigint), rounded down like the tokenomics split. */
const pctOf = (amount, p) => (amount * BigInt(p)) / 100n;

/** GpuJobs timing parameters (storage `Params`) as numbers. */
async function gpuParams(apiLike) {
  const p = await apiLike.query.gpuJobs.params();
  return {
    minDeadline: num(field(p, 'minDeadline')),
    maxDeadline: num(field(p, 'maxDeadline')),
    revealPeriod: num(field(p, 'revealPeriod')),
    disputePeriod: num(field(p, 'disputePeriod')),
  };
}

/** Dave posts a one-item job on model 0 with `input`, k = 1, PRICE, due `deadlineBlocks` ahead. */
async function postJob(t, input, deadlineBlocks) {
  const best = await bestHead(nodeA.httpUrl);
  const deadline = best.number + deadlineBlocks;
  const tx = api.tx.gpuJobs.postJob(GPU_MODEL, { Inline: input }, 1, PRICE, deadline);
  const res = await signSendAndWait(api, tx, dave);
  assert.equal(res.dispatchError, undefined, `postJob failed: ${describeDispatchError(api, res.dispatchError)}`);
  const posted = findEvent(res.events, api.events.gpuJobs.JobPosted);
  assert.ok(posted, 'no GpuJobs.JobPosted event in the extrinsic');
  const d = posted.event.data;
  const id = big(field(d, 'job'));
  assert.ok(sameAccount(field(d, 'client'), dave), `JobPosted.client is ${field(d, 'client').toString()}`);
  assert.equal(num(field(d, 'model')), GPU_MODEL, 'JobPosted.model');
  assert.equal(num(field(d, 'k')), 1, 'JobPosted.k');
  assert.equal(big(field(d, 'price')), PRICE, 'JobPosted.price');
  assert.equal(num(field(d, 'deadline')), deadline, 'JobPosted.deadline');
  const providers = [...field(d, 'providers')].map(nameOf);
  assert.deepEqual(providers, ['bob'], 'JobPosted.providers: Bob is the only GPU provider of model 0');

  const blockNumber = await blockNumberOf(res.blockHash);
  const parentHash = await parentOf(api, res.blockHash);
  const { actualFee } = feePaid(api, res.events, dave.publicKey);
  t.diagnostic(
    `job ${id} posted in #${blockNumber} (best was #${best.number}), deadline #${deadline}, fee ${actualFee}`,
  );
  return { id, blockHash: res.blockHash, blockNumber, parentHash, deadline, fee: actualFee };
}

/** ProofOfSyncApi::usage(who) as { delivered, deliveredThisEpoch, consumed: { kind: units } }. */
async function usageOf(apiLike, who) {
  const view = await apiLike.call.proofOfSyncApi.usage(who.address);
  const consumed = {};
  for (const entry of field(view, 'consumed')) consumed[variant(entry[0])] = big(entry[1]);
  return {
    delivered: big(field(view, 'delivered')),
    deliveredThisEpoch: big(field(view, 'deliveredThisEpoch')),
    consumed,
  };
}

/** The GpuInference ledger of the tokenomics runtime API: { rates: {burn, treasury}, totals }. */
async function gpuLedger(apiLike) {
  const totals = await apiLike.call.tokenomicsApi.totals();
  const entry = [...field(totals, 'services')].find((s) => variant(field(s, 'kind')) === 'GpuInference');
  if (!entry) throw new ShapeError(`tokenomicsApi.totals has no GpuInference service: ${show(totals)}`);
  const rates = field(entry, 'rates');
  const ledger = field(entry, 'totals');
  return {
    burnRate: big(field(rates, 'burn')),
    treasuryRate: big(field(rates, 'treasury')),
    charged: big(field(ledger, 'charged')),
    burned: big(field(ledger, 'burned')),
    toProviders: big(field(ledger, 'toProviders')),
    toTreasury: big(field(ledger, 'toTreasury')),
    totalBurned: big(field(totals, 'totalBurned')),
  };
}

/** POST {aivm}/v1/infer with `items` (arrays of i8), asking for the result hashes. */
async function aivmInfer(modelHash, items) {
  const res = await fetch(`${aivm.baseUrl}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelHash, inputs: items, hashes: true }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `aivm POST /v1/infer answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** dsync_aivm_core::result_hash: Blake2-256 of the outputs as little-endian i32. */
function resultHashOf(outputs) {
  const bytes = new Uint8Array(outputs.length * 4);
  const view = new DataView(bytes.buffer);
  outputs.forEach((v, i) => view.setInt32(i * 4, v, true));
  return blake2AsHex(bytes, 256);
}

/** Events that end a job (JobDisputed does not end it, but k = 1 can never be disputed). */
const JOB_END_EVENTS = ['gpuJobs.JobSettled', 'gpuJobs.JobExpired', 'gpuJobs.JobRefunded', 'gpuJobs.JobDisputed'];
/** Other events step 9 and 10 look at (all of them, for any job or node). */
const WATCHED_EVENTS = [
  'proofOfSync.ServiceFailed',
  'proofOfSync.UsageRecorded',
  'proofOfSync.NodeRewarded',
  'tokenomics.ServiceCharged',
];

/**
 * Reads A's finalized blocks from `fromBlock` on until one holds an end event of job `jobId`;
 * returns { blockNumber, blockHash, end, blockEvents, events } where `events` are all
 * collected { block, key, data } (the job's GpuJobs events and WATCHED_EVENTS) and
 * `blockEvents` those of the ending block. Prints each event as a `[gpu]` line.
 */
async function watchJob(jobId, fromBlock, timeoutMs, what) {
  const log = (msg) => console.log(`[gpu] ${msg}`);
  const events = [];
  const extrinsicFailures = [];
  let next = fromBlock;
  let lastError = null;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const n of all()) n.assertRunning();
    try {
      const fin = await finalizedHead(nodeA.httpUrl);
      while (next <= fin.number) {
        const hash = await blockHashAt(nodeA.httpUrl, next);
        if (!hash) throw new Error(`A has no block #${next}`);
        const records = await api.query.system.events.at(hash);
        const mine = [];
        for (const { event } of records) {
          const key = `${event.section}.${event.method}`;
          const d = event.data;
          if (event.section === 'gpuJobs') {
            const job = softField(d, 'job');
            if (job !== undefined && big(job) === jobId) mine.push({ block: next, key, data: d });
          } else if (WATCHED_EVENTS.includes(key)) {
            mine.push({ block: next, key, data: d });
          } else if (key === 'system.ExtrinsicFailed') {
            extrinsicFailures.push(`#${next}: ${describeDispatchError(api, field(d, 'dispatchError'))}`);
          }
        }
        for (const e of mine) log(`#${next}: ${e.key} ${show(e.data)}`);
        events.push(...mine);
        const end = mine.find((e) => JOB_END_EVENTS.includes(e.key));
        next += 1;
        if (end) return { blockNumber: next - 1, blockHash: hash, end, blockEvents: mine, events, extrinsicFailures };
      }
      lastError = null;
    } catch (e) {
      if (e instanceof ShapeError) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const seen = events.map((e) => `#${e.block} ${e.key}`).join(', ') || 'none';
      const failures = extrinsicFailures.length ? `\n  failed extrinsics: ${extrinsicFailures.join('; ')}` : '';
      const err = lastError ? `\n  last error: ${lastError.message}` : '';
      throw new Error(
        `job ${jobId}: ${what} not reached within ${timeoutMs / 1000} s (read up to #${next - 1}); ` +
          `events seen: ${seen}${failures}${err}`,
      );
    }
    await sleep(POLL_MS);
  }
}

/** Lines of `node`'s log that mention the GPU-jobs pallet (diagnostics). */
const gpuLogLines = (node, max = 20) =>
  node
    .readLog()
    .split('\n')
    .filter((l) => l.includes('gpu-jobs') || l.includes('aivm'))
    .slice(-max);

// ---- probe endpoint ------------------------------------------------------------------------

async function httpGet(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, body, text: new TextDecoder().decode(body) };
}

const probeBase = () => `http://127.0.0.1:${ports.probe}`;
const probeUrl = (seedHex) => `${probeBase()}/dsync/probe/${seedHex}`;

/**
 * challenge_input(seed): 64 pixels 0..=16, value i = byte (i % 32) of
 * blake2_256(SCALE((context, seed, i / 32 as u8))) modulo 17 (dsync_primitives::probe).
 */
function challengeInput(seed) {
  const halves = [0, 1].map((j) =>
    blake2AsU8a(u8aConcat(compactAddLength(PROBE_CONTEXT), seed, new Uint8Array([j])), 256),
  );
  return Array.from({ length: 64 }, (_, i) => halves[Math.floor(i / 32)][i % 32] % 17);
}

/**
 * compute_challenge(seed): the result hash of the digits model on challengeInput(seed). The
 * model is not re-implemented here: aivm (bit-exact with the runtime's executor) computes it.
 */
async function computeChallenge(seed) {
  const res = await fetch(`${aivm.baseUrl}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'digits', inputs: [challengeInput(seed)], hashes: true }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200, `aivm answered ${res.status}`);
  return hexToU8a((await res.json()).hashes[0]);
}

/** Splits the SCALE bytes of a SignedProbeAnswer. */
function decodeSignedAnswer(bytes) {
  assert.equal(bytes.length, SIGNED_ANSWER_LEN, `a SignedProbeAnswer is ${SIGNED_ANSWER_LEN} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    answer: bytes.subarray(0, ANSWER_LEN),
    seed: bytes.subarray(0, 32),
    bestNumber: view.getUint32(32, true),
    bestHash: u8aToHex(bytes.subarray(36, 68)),
    finalizedNumber: view.getUint32(68, true),
    finalizedHash: u8aToHex(bytes.subarray(72, 104)),
    compute: bytes.subarray(104, 136),
    signature: bytes.subarray(136, 200),
  };
}

// ---- the suite -----------------------------------------------------------------------------

const SUITE =
  'Proof of Sync: a validator probes service nodes, scores, rewards and suspends them; GPU jobs paid to a scored provider';
describe(SUITE, { timeout: SUITE_TIMEOUT_MS }, () => {
  before(async () => {
    await cryptoWaitReady();
    tmpDir = makeTempDir('dsync-e2e-pos-');
    const [p2pA, rpcA, p2pB, rpcB, probe, dead, aivmPort] = await getFreePorts(7);
    Object.assign(ports, { p2pA, rpcA, p2pB, rpcB, probe, dead, aivm: aivmPort });
    peerIdA = await peerIdFromNodeKey(NODE_KEY_A);

    // B's inference server: the bundled digits model (the development genesis's model 0).
    aivm = new AivmProcess({ name: 'aivm', port: aivmPort, logDir: tmpDir });

    const common = ['--no-prometheus', '--no-telemetry', '--no-mdns', '--rpc-cors', 'all'];
    nodeA = new NodeProcess({
      name: 'A-validator',
      rpcPort: rpcA,
      logDir: tmpDir,
      args: [
        '--dev',
        '--tmp',
        // p2p only on loopback (instead of --port, which binds 0.0.0.0 and conflicts with this)
        '--listen-addr',
        `/ip4/127.0.0.1/tcp/${p2pA}`,
        '--node-key',
        NODE_KEY_A,
        // author_insertKey is an unsafe RPC ("auto" allows it on localhost anyway; be explicit)
        '--rpc-methods',
        'unsafe',
        ...common,
      ],
    });
    nodeB = new NodeProcess({
      name: 'B-service',
      rpcPort: rpcB,
      logDir: tmpDir,
      args: [
        '--chain',
        'dev',
        '--tmp',
        '--listen-addr',
        `/ip4/127.0.0.1/tcp/${p2pB}`,
        '--node-key',
        NODE_KEY_B,
        '--bootnodes',
        `/ip4/127.0.0.1/tcp/${p2pA}/p2p/${peerIdA}`,
        '--rpc-methods',
        'unsafe',
        '--probe-listen-addr',
        `127.0.0.1:${probe}`,
        // B is no validator, so its off-chain worker (the GPU provider's) must be forced on.
        '--offchain-worker',
        'always',
        '--aivm-url',
        aivm.baseUrl,
        ...common,
      ],
    });

    const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
    alice = keyring.addFromUri('//Alice');
    bob = keyring.addFromUri('//Bob');
    charlie = keyring.addFromUri('//Charlie');
    dave = keyring.addFromUri('//Dave'); // the GPU-job client: no other role in this test
    aliceDsync = keyring.addFromUri('//Alice//dsync');
    bobProbe = keyring.addFromUri('//Bob//probe');
    charlieProbe = keyring.addFromUri('//Charlie//probe');
    nobody = keyring.addFromUri('//DsyncE2eNobody');
    for (const [name, pair] of Object.entries({
      alice,
      bob,
      charlie,
      dave,
      aliceDsync,
      bobProbe,
      charlieProbe,
      nobody,
    })) {
      names.set(u8aToHex(pair.publicKey), name);
    }
  });

  after(async () => {
    if (api) await api.disconnect().catch(() => {});
    // aivm too (it is already stopped if step 10 ran; stop() is then a no-op).
    const results = await Promise.allSettled(allProcesses().map((n) => n.stop({ timeoutMs: 30_000 })));
    for (const r of results) {
      if (r.status === 'rejected') console.error('[e2e] stop failed:', r.reason);
      else if (r.value.forced) console.error('[e2e] a process had to be SIGKILLed');
    }
    if (failed()) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  const startStep =
    'aivm serves the digits model; A (--dev) and service node B (--chain dev, probe endpoint, ' +
    'off-chain worker, --aivm-url) start; B syncs from A';
  step(startStep, 4 * 60_000, async (t) => {
    aivm.start();
    const health = await aivm.waitForHealth(60_000);
    assert.equal(health.status, 'ok', `aivm /health: ${JSON.stringify(health)}`);
    assert.ok(Number(health.models) >= 1, `aivm serves no model: ${JSON.stringify(health)}`);
    t.diagnostic(`aivm at ${aivm.baseUrl}: ${JSON.stringify(health)}`);

    nodeA.start();
    await nodeA.waitForRpc(120_000);
    nodeB.start();
    await nodeB.waitForRpc(120_000);
    api = await connectApi(nodeA.wsUrl);
    requirePalletApis();

    const logged = nodeA.loggedPeerId();
    if (logged) assert.equal(logged, peerIdA, 'A: peer id differs from the one derived from --node-key');
    else t.diagnostic('A: no "Local node identity is" line found in the log');

    const [genesisA, genesisB] = await Promise.all([blockHashAt(nodeA.httpUrl, 0), blockHashAt(nodeB.httpUrl, 0)]);
    assert.equal(genesisB, genesisA, 'A and B have different genesis blocks');
    await waitUntil('B connected to A', async () => (await rpc(nodeB.httpUrl, 'system_health')).peers >= 1, {
      timeoutMs: 60_000,
      nodes: all(),
    });

    // B has A's finalized block, and its best block is (almost) A's best block.
    const finA = await waitForFinalizedAbove(nodeA, 1, 120_000);
    await waitUntil(
      `B to import A's finalized block #${finA.number}`,
      async () => (await blockHashAt(nodeB.httpUrl, finA.number)) === finA.hash,
      { timeoutMs: 90_000, nodes: all() },
    );
    const synced = await waitUntil(
      'B to be in sync with A (not syncing, best within one block of A)',
      async () => {
        const [a, b, health] = await Promise.all([
          bestHead(nodeA.httpUrl),
          bestHead(nodeB.httpUrl),
          rpc(nodeB.httpUrl, 'system_health'),
        ]);
        return !health.isSyncing && b.number + 1 >= a.number ? { a, b } : null;
      },
      { timeoutMs: 90_000, nodes: all() },
    );
    t.diagnostic(`A best #${synced.a.number}, B best #${synced.b.number}; A finalized #${finA.number}, B has it`);
  });

  const probeStep = "B's probe endpoint: health, 503 without a dsyn key, signed 200-byte answers, 400 for bad seeds";
  step(probeStep, 2 * 60_000, async (t) => {
    const health = await waitUntil(
      `B's probe endpoint ${probeBase()}/dsync/health`,
      async () => httpGet(`${probeBase()}/dsync/health`),
      { timeoutMs: 30_000, nodes: [nodeB] },
    );
    assert.equal(health.status, 200, `/dsync/health answered ${health.status}: ${health.text}`);
    assert.equal(health.text, 'ok');

    const bobProbeHex = u8aToHex(bobProbe.publicKey);
    assert.equal(await rpc(nodeB.httpUrl, 'author_hasKey', [bobProbeHex, KEY_TYPE]), false, 'B already has //Bob//probe');
    const seed = randomAsU8a(32);
    const seedHex = u8aToHex(seed).slice(2);
    const noKey = await httpGet(probeUrl(seedHex));
    assert.equal(noKey.status, 503, `a probe without a dsyn key answered ${noKey.status}: ${noKey.text}`);
    t.diagnostic(`without a key: 503 "${noKey.text}"`);

    await rpc(nodeB.httpUrl, 'author_insertKey', [KEY_TYPE, '//Bob//probe', bobProbeHex]);
    const hasKey = await rpc(nodeB.httpUrl, 'author_hasKey', [bobProbeHex, KEY_TYPE]);
    assert.equal(hasKey, true, 'author_insertKey did not add the key');

    const res = await httpGet(probeUrl(seedHex));
    assert.equal(res.status, 200, `probe answered ${res.status}: ${res.text.slice(0, 200)}`);
    assert.equal(res.body.length, SIGNED_ANSWER_LEN, `probe body is ${res.body.length} bytes`);
    const answer = decodeSignedAnswer(res.body);
    assert.ok(u8aEq(answer.seed, seed), 'the answer does not echo the seed');
    assert.ok(u8aEq(answer.compute, await computeChallenge(seed)), 'the compute challenge result is wrong');
    const payload = u8aConcat(compactAddLength(PROBE_CONTEXT), answer.answer);
    assert.ok(sr25519Verify(payload, answer.signature, bobProbe.publicKey), 'the answer is not signed by //Bob//probe');
    assert.ok(!sr25519Verify(payload, answer.signature, aliceDsync.publicKey), 'signature verifies with an unrelated key');
    // The reported heads are B's.
    assert.ok(
      answer.finalizedNumber <= answer.bestNumber,
      `finalized #${answer.finalizedNumber} > best #${answer.bestNumber}`,
    );
    assert.equal(await blockHashAt(nodeB.httpUrl, answer.bestNumber), answer.bestHash, "best hash is not B's block");
    const finalizedHash = await blockHashAt(nodeB.httpUrl, answer.finalizedNumber);
    assert.equal(finalizedHash, answer.finalizedHash, "finalized hash is not B's block");
    t.diagnostic(`answer: best #${answer.bestNumber}, finalized #${answer.finalizedNumber}, signature ok`);

    for (const bad of ['zz'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), '']) {
      const r = await httpGet(probeUrl(bad));
      assert.equal(r.status, 400, `seed "${bad}" answered ${r.status}: ${r.text}`);
    }
  });

  step("//Alice//dsync becomes A's dsyn key and holds 100 DSYNC", 3 * 60_000, async (t) => {
    const hex = u8aToHex(aliceDsync.publicKey);
    await rpc(nodeA.httpUrl, 'author_insertKey', [KEY_TYPE, '//Alice//dsync', hex]);
    assert.equal(await rpc(nodeA.httpUrl, 'author_hasKey', [hex, KEY_TYPE]), true, 'author_insertKey did not add the key');

    const res = await signSendAndWait(api, api.tx.balances.transferKeepAlive(aliceDsync.address, 100n * UNIT), alice);
    assert.equal(res.dispatchError, undefined, `transfer failed: ${describeDispatchError(api, res.dispatchError)}`);
    const acc = await accountAt(api, res.blockHash, aliceDsync.address);
    assert.equal(acc.free, 100n * UNIT, '//Alice//dsync must hold exactly 100 DSYNC');
    t.diagnostic(`//Alice//dsync = ${aliceDsync.address}, funded in ${res.blockHash}`);
  });

  step("//Bob//probe (B's dsyn key, the GPU worker's signer) holds 100 DSYNC", 3 * 60_000, async (t) => {
    // B's GPU worker signs commit_result / reveal_result with the node's registered off-chain
    // key: those calls are free when they succeed, but the fee is paid up front (and refunded),
    // so the key's account needs funds. The key is already in B's keystore (probe step).
    const hex = u8aToHex(bobProbe.publicKey);
    assert.equal(await rpc(nodeB.httpUrl, 'author_hasKey', [hex, KEY_TYPE]), true, 'B lost //Bob//probe');
    const res = await signSendAndWait(api, api.tx.balances.transferKeepAlive(bobProbe.address, 100n * UNIT), alice);
    assert.equal(res.dispatchError, undefined, `transfer failed: ${describeDispatchError(api, res.dispatchError)}`);
    const acc = await accountAt(api, res.blockHash, bobProbe.address);
    assert.equal(acc.free, 100n * UNIT, '//Bob//probe must hold exactly 100 DSYNC');
    t.diagnostic(`//Bob//probe = ${bobProbe.address}, funded in ${res.blockHash}`);
  });

  step('sudo: ProofOfSync.setParameters (6-block epochs, 1 verifier, fast warm-up, suspension)', 3 * 60_000, async (t) => {
    const item = posParamsItem(api);
    const current = await readPosParams(api);
    t.diagnostic(`ProofOfSync.${item} before: ${show(current)}`);
    const fields = [...current.keys()];
    const missing = Object.keys(POS_PARAMS).filter((k) => !fields.includes(k));
    assert.deepEqual(missing, [], `fields missing in ProofOfSync parameters (it has: ${fields.join(', ')})`);

    // Keep every other field as it is (codec values are accepted as they are).
    const next = { ...Object.fromEntries(current.entries()), ...POS_PARAMS };
    const call = api.tx.proofOfSync.setParameters(next);
    const res = await signSendAndWait(api, api.tx.sudo.sudo(call), alice);
    assert.equal(res.dispatchError, undefined, `sudo failed: ${describeDispatchError(api, res.dispatchError)}`);
    assert.ok(findEvent(res.events, api.events.system.ExtrinsicSuccess), 'no System.ExtrinsicSuccess event');
    const sudid = findEvent(res.events, api.events.sudo.Sudid);
    assert.ok(sudid, 'no Sudo.Sudid event');
    const sudoResult = softField(sudid.event.data, 'sudoResult') ?? sudid.event.data[0];
    const sudoError = sudoResult.isErr ? describeDispatchError(api, sudoResult.asErr) : show(sudoResult);
    assert.ok(sudoResult.isOk, `setParameters failed under sudo: ${sudoError}`);
    const setEvent = res.events.find(({ event }) => event.section === 'proofOfSync' && event.method === 'ParametersSet');
    if (!setEvent) t.diagnostic('note: no ProofOfSync.ParametersSet event in the extrinsic');

    const stored = await readPosParams(await api.at(res.blockHash));
    for (const [k, v] of Object.entries(POS_PARAMS)) {
      assert.equal(big(stored.get(k)), big(v), `stored ${k} is ${show(stored.get(k))}, expected ${v}`);
    }
    for (const k of fields.filter((f) => !(f in POS_PARAMS))) {
      assert.equal(stored.get(k).toHex(), current.get(k).toHex(), `${k} changed although it was not set`);
    }
    paramsBlock = await blockNumberOf(res.blockHash);
    const epoch = await epochOf(await api.at(res.blockHash)).catch((e) => ({ error: e.message }));
    t.diagnostic(`set in #${paramsBlock}; epoch then (ProofOfSyncApi.epoch): ${JSON.stringify(epoch)}`);
  });

  const registerStep =
    'Alice registers as Validator, Bob (also a GPU provider of model 0) and Charlie as Service nodes ' +
    '(bond: minimum + 1 DSYNC)';
  step(registerStep, 3 * 60_000, async (t) => {
    const rp = unwrapOption(await api.query.nodeRegistry.parameters());
    const baseBond = big(field(rp, 'baseBond'));
    const perUnit = big(field(rp, 'bondPerCapacityUnit'));
    assert.equal(capacityUnits(RESOURCES), 14n);
    assert.equal(capacityUnits(GPU_RESOURCES), 19n);
    const bondFor = (resources) => baseBond + perUnit * capacityUnits(resources) + UNIT;
    t.diagnostic(
      `registry parameters ${show(rp)}: bonding ${dsync(bondFor(RESOURCES))} for 14 units, ` +
        `${dsync(bondFor(GPU_RESOURCES))} for Bob's 19`,
    );

    const plans = [
      {
        name: 'alice',
        pair: alice,
        role: 'Validator',
        key: aliceDsync,
        endpoint: 'http://127.0.0.1:1',
        resources: RESOURCES,
        services: [],
        models: [],
      },
      {
        name: 'bob',
        pair: bob,
        role: 'Service',
        key: bobProbe,
        endpoint: probeBase(),
        // GpuInference needs a declared GPU; model 0 is the digits model B's aivm serves.
        resources: GPU_RESOURCES,
        services: ['Naming', 'GpuInference'],
        models: [GPU_MODEL],
      },
      {
        name: 'charlie',
        pair: charlie,
        role: 'Service',
        key: charlieProbe,
        endpoint: `http://127.0.0.1:${ports.dead}`, // nothing listens there
        resources: RESOURCES,
        services: ['Naming'],
        models: [],
      },
    ];
    for (const p of plans) {
      p.units = capacityUnits(p.resources);
      p.bond = bondFor(p.resources);
    }
    const results = await Promise.all(
      plans.map((p) => {
        const declaration = {
          resources: p.resources,
          services: p.services,
          models: p.models,
          endpoint: u8aToHex(stringToU8a(p.endpoint)), // hex: unambiguous Vec<u8> input
        };
        // The off-chain key proves it consents: its signature over
        // SCALE(("dsync/node-key", genesis hash, owner)).
        const message = u8aConcat(stringToU8a('dsync/node-key'), api.genesisHash.toU8a(), p.pair.publicKey);
        const keyProof = { Sr25519: u8aToHex(p.key.sign(message)) };
        const tx = api.tx.nodeRegistry.register(p.role, declaration, p.key.address, keyProof, p.bond);
        return signSendAndWait(api, tx, p.pair);
      }),
    );

    for (const [i, p] of plans.entries()) {
      const res = results[i];
      const failure = describeDispatchError(api, res.dispatchError);
      assert.equal(res.dispatchError, undefined, `${p.name}: register failed: ${failure}`);
      const ev = filterEvents(res.events, api.events.nodeRegistry.NodeRegistered);
      assert.equal(ev.length, 1, `${p.name}: expected one NodeRegistered event`);
      const data = ev[0].event.data;
      const evNode = field(data, 'node');
      assert.ok(sameAccount(evNode, p.pair), `${p.name}: NodeRegistered.node is ${evNode.toString()}`);
      const evKey = softField(data, 'offchainKey');
      if (evKey) assert.ok(sameAccount(evKey, p.key), `${p.name}: NodeRegistered.offchainKey is ${evKey.toString()}`);
      const evBond = softField(data, 'bond');
      if (evBond) assert.equal(big(evBond), p.bond, `${p.name}: NodeRegistered.bond`);
      const evUnits = softField(data, 'capacityUnits');
      if (evUnits) assert.equal(big(evUnits), p.units, `${p.name}: NodeRegistered.capacityUnits`);

      const apiAt = await api.at(res.blockHash);
      const info = await nodeInfo(apiAt, p.pair);
      assert.ok(info, `${p.name}: no NodeRegistry.nodes record after registering`);
      assert.equal(info.status, 'Pending', `${p.name}: status after registering`);
      assert.equal(info.bond, p.bond, `${p.name}: bond in the record`);
      assert.ok(sameAccount(info.offchainKey, p.key), `${p.name}: offchainKey in the record`);
      if (info.endpoint !== undefined) assert.equal(info.endpoint, p.endpoint, `${p.name}: endpoint in the record`);
      if (info.services !== undefined) assert.deepEqual(info.services, p.services, `${p.name}: services in the record`);
      if (info.models !== undefined) assert.deepEqual(info.models, p.models, `${p.name}: models in the record`);

      const blockNumber = await blockNumberOf(res.blockHash);
      const acc = await accountAt(api, res.blockHash, p.pair.address);
      if (p.name !== 'alice') {
        // The bond is held (holds count as reserved in pallet-balances).
        const prev = await accountAt(api, await parentOf(api, res.blockHash), p.pair.address);
        assert.equal(acc.reserved - prev.reserved, p.bond, `${p.name}: held balance must rise by the bond`);
      }
      registered[p.name] = { blockHash: res.blockHash, blockNumber, bond: p.bond, free: acc.free, nonce: acc.nonce };
      t.diagnostic(`${p.name} registered as ${p.role} in #${blockNumber} (${res.blockHash})`);
    }
  });

  step('within 6 min: Alice Active, Bob Active and rewarded, Charlie Suspended', OUTCOME_TIMEOUT_MS + 60_000, async (t) => {
    const obs = {
      next: paramsBlock + 1,
      counts: {},
      epochsStarted: [], // { epoch, block, targets, verifiers }
      epochsClosed: [], // { epoch, block, budget, distributed }
      scored: { bob: [], charlie: [] }, // { block, epoch, quality, score }
      bobRewards: [], // { block, epoch, amount }
      rewardedPerEpoch: new Map(), // epoch -> [names]
    };
    const log = (msg) => console.log(`[pos] ${msg}`);

    /** Parsed events of finalized block `n` (throws before anything is recorded). */
    async function readBlock(n) {
      const hash = await blockHashAt(nodeA.httpUrl, n);
      if (!hash) throw new Error(`A has no block #${n}`);
      const records = await api.query.system.events.at(hash);
      const out = [];
      for (const { event } of records) {
        const key = `${event.section}.${event.method}`;
        const d = event.data;
        if (event.section === 'proofOfSync') {
          const epoch = softField(d, 'epoch');
          const e = { key, epoch: epoch === undefined ? undefined : num(epoch) };
          if (event.method === 'EpochStarted') {
            // diagnostics only: tolerate other field names
            e.epoch = countOf(softField(d, 'epoch') ?? softField(d, 'index') ?? d[0]);
            e.targets = countOf(softField(d, 'targets'));
            e.verifiers = countOf(softField(d, 'verifiers'));
          } else if (event.method === 'EpochClosed') {
            e.epoch = countOf(softField(d, 'epoch') ?? softField(d, 'index') ?? d[0]);
            const budget = softField(d, 'budget');
            const distributed = softField(d, 'distributed');
            e.budget = budget === undefined ? undefined : big(budget);
            e.distributed = distributed === undefined ? undefined : big(distributed);
          } else if (event.method === 'NodeScored') {
            e.node = nameOf(field(d, 'node'));
            e.score = num(field(d, 'score'));
            const q = softField(d, 'quality');
            e.quality = q === undefined ? undefined : num(q);
          } else if (event.method === 'NodeRewarded') {
            e.node = nameOf(field(d, 'node'));
            e.amount = big(field(d, 'amount'));
          } else {
            e.text = show(d);
          }
          out.push(e);
        } else if (event.section === 'nodeRegistry') {
          if (event.method === 'StatusChanged') {
            out.push({ key, node: nameOf(field(d, 'node')), from: variant(field(d, 'from')), to: variant(field(d, 'to')) });
          } else {
            out.push({ key, text: show(d) });
          }
        } else if (key === 'system.ExtrinsicFailed') {
          out.push({ key, text: describeDispatchError(api, field(d, 'dispatchError')) });
        }
      }
      return out;
    }

    function record(n, events) {
      for (const e of events) {
        obs.counts[e.key] = (obs.counts[e.key] ?? 0) + 1;
        switch (e.key) {
          case 'proofOfSync.EpochStarted':
            obs.epochsStarted.push({ epoch: e.epoch, block: n, targets: e.targets, verifiers: e.verifiers });
            log(`#${n}: epoch ${e.epoch} started (targets ${e.targets}, verifiers ${e.verifiers})`);
            break;
          case 'proofOfSync.EpochClosed':
            obs.epochsClosed.push({ epoch: e.epoch, block: n, budget: e.budget, distributed: e.distributed });
            log(
              `#${n}: epoch ${e.epoch} closed (budget ${e.budget === undefined ? '?' : dsync(e.budget)}, ` +
                `distributed ${e.distributed === undefined ? '?' : dsync(e.distributed)})`,
            );
            break;
          case 'proofOfSync.NodeScored':
            if (obs.scored[e.node]) {
              obs.scored[e.node].push({ block: n, epoch: e.epoch, quality: e.quality, score: e.score });
            }
            log(`#${n}: ${e.node} scored in epoch ${e.epoch}: quality ${e.quality}, score ${e.score}`);
            break;
          case 'proofOfSync.NodeRewarded': {
            if (e.node === 'bob') obs.bobRewards.push({ block: n, epoch: e.epoch, amount: e.amount });
            const list = obs.rewardedPerEpoch.get(e.epoch) ?? [];
            list.push({ node: e.node, amount: e.amount });
            obs.rewardedPerEpoch.set(e.epoch, list);
            log(`#${n}: ${e.node} rewarded ${dsync(e.amount)} for epoch ${e.epoch}`);
            break;
          }
          case 'nodeRegistry.StatusChanged':
            log(`#${n}: ${e.node} ${e.from} -> ${e.to}`);
            break;
          case 'proofOfSync.VerifiersDrawn':
          case 'proofOfSync.ReportCommitted':
          case 'proofOfSync.ReportRevealed':
            break; // counted only (one per node and epoch)
          default:
            log(`#${n}: ${e.key} ${e.text ?? ''}`);
        }
      }
    }

    /** Catches up on finalized blocks, then observes the state at the last one. */
    async function poll() {
      const fin = await finalizedHead(nodeA.httpUrl);
      while (obs.next <= fin.number) {
        const events = await readBlock(obs.next);
        record(obs.next, events);
        obs.next += 1;
      }
      const apiAt = await api.at(fin.hash);
      const [aInfo, bInfo, cInfo, aScore, bScore, cScore, epoch, bobAcc] = await Promise.all([
        nodeInfo(apiAt, alice),
        nodeInfo(apiAt, bob),
        nodeInfo(apiAt, charlie),
        scoreOf(apiAt, alice),
        scoreOf(apiAt, bob),
        scoreOf(apiAt, charlie),
        epochOf(apiAt).catch((e) => ({ error: e.message })), // diagnostics only
        accountAt(api, fin.hash, bob.address),
      ]);
      const s = { fin, aInfo, bInfo, cInfo, aScore, bScore, cScore, epoch, bobAcc };

      const unmet = [];
      if (aInfo?.status !== 'Active') unmet.push(`Alice's node is ${aInfo?.status ?? 'not registered'}, not Active`);
      if (bInfo?.status !== 'Active') unmet.push(`Bob's node is ${bInfo?.status ?? 'not registered'}, not Active`);
      const positive = obs.scored.bob.filter((x) => x.score > 0);
      const rising = positive.some((x, i) => positive.slice(i + 1).some((y) => y.score > x.score));
      if (!rising) {
        unmet.push(`Bob's NodeScored scores ${JSON.stringify(obs.scored.bob.map((x) => x.score))} do not rise yet`);
      }
      if (!bScore || bScore.score <= 0) unmet.push(`Bob's runtime-API score: ${showScore(bScore)}`);
      if (!bScore || bScore.totalRewards <= 0n) unmet.push('Bob has no totalRewards yet');
      if (obs.bobRewards.length === 0) unmet.push('no NodeRewarded event for Bob yet');
      if (cInfo?.status !== 'Suspended') {
        let why = `Charlie's node is ${cInfo?.status ?? 'not registered'}, not Suspended`;
        if (cInfo?.status === 'Pending' && cScore && cScore.misses >= POS_PARAMS.suspendAfterMisses) {
          why +=
            ` although he has ${cScore.misses} misses` +
            ' (does the pallet suspend Pending nodes after suspendAfterMisses misses?)';
        }
        unmet.push(why);
      }
      if (!cScore || cScore.misses < 2) unmet.push(`Charlie's misses: ${showScore(cScore)}`);
      if (!cScore || cScore.score !== 0) unmet.push(`Charlie's score is not 0: ${showScore(cScore)}`);
      s.unmet = unmet;
      return s;
    }

    const summary = (s) =>
      [
        `finalized #${s?.fin?.number}, epoch ${JSON.stringify(s?.epoch)}`,
        `Alice: ${s?.aInfo?.status ?? '-'}; ${s?.aScore === undefined ? '-' : showScore(s.aScore)}`,
        `Bob: ${s?.bInfo?.status ?? '-'}; ${s?.bScore === undefined ? '-' : showScore(s.bScore)}`,
        `Charlie: ${s?.cInfo?.status ?? '-'}; ${s?.cScore === undefined ? '-' : showScore(s.cScore)}`,
        `epochs started: ${obs.epochsStarted.map((e) => `${e.epoch}@#${e.block}`).join(', ') || 'none'}`,
        `event counts: ${JSON.stringify(obs.counts)}`,
      ].join('\n  ');

    const deadline = Date.now() + OUTCOME_TIMEOUT_MS;
    let state = null;
    let lastError = null;
    let lastUnmet = '';
    for (;;) {
      for (const n of all()) n.assertRunning();
      try {
        state = await poll();
        lastError = null;
        const unmetNow = state.unmet.join('; ');
        if (unmetNow !== lastUnmet) {
          if (unmetNow) log(`#${state.fin.number} waiting for: ${unmetNow}`);
          lastUnmet = unmetNow;
        }
        if (state.unmet.length === 0) break;
      } catch (e) {
        if (e instanceof ShapeError) throw new Error(`unexpected data shape: ${e.message}\n  ${summary(state)}`);
        lastError = e;
      }
      if (Date.now() >= deadline) {
        const err = lastError ? `\n  last error: ${lastError.message}` : '';
        const hint =
          obs.epochsStarted.length === 0
            ? '\n  hint: no EpochStarted event at all: is the epoch state machine running?'
            : '';
        const unmet = (state?.unmet ?? ['(no observation)']).join('\n  - ');
        throw new Error(
          `Proof-of-Sync outcome not reached within ${OUTCOME_TIMEOUT_MS / 1000} s; still unmet:\n  - ${unmet}` +
            `\n  ${summary(state)}${err}${hint}`,
        );
      }
      await sleep(POLL_MS);
    }

    t.diagnostic(summary(state).replace(/\n {2}/g, ' | '));
    const { fin, aInfo, bInfo, cInfo, aScore, bScore, cScore, bobAcc } = state;

    // Alice: verifier node, promoted at an epoch start.
    assert.equal(aInfo.status, 'Active');
    t.diagnostic(`Alice: ${showScore(aScore)}`);

    // Bob: active, positive and rising score, the runtime API agrees with the last event.
    assert.equal(bInfo.status, 'Active');
    assert.equal(bScore.status, 'Active', 'runtime API status of Bob');
    assert.ok(bScore.score > 0);
    const bobScores = obs.scored.bob.map((x) => x.score);
    assert.ok(bobScores.length >= 2, `Bob was scored ${bobScores.length} time(s)`);
    assert.equal(bScore.score, bobScores[bobScores.length - 1], "runtime API score differs from Bob's last NodeScored");
    assert.ok(bScore.epochs >= 2, `Bob's scored epochs: ${bScore.epochs}`);

    // Bob's rewards: events == totalRewards == rise of his free balance; no transaction by him.
    const rewardSum = obs.bobRewards.reduce((acc, r) => acc + r.amount, 0n);
    assert.ok(bScore.totalRewards > 0n);
    assert.equal(rewardSum, bScore.totalRewards, "sum of Bob's NodeRewarded events != his totalRewards");
    assert.equal(bobAcc.nonce, registered.bob.nonce, 'Bob sent a transaction after registering');
    assert.equal(bobAcc.free - registered.bob.free, rewardSum, "Bob's free balance must rise by exactly his rewards");
    t.diagnostic(
      `Bob: ${showScore(bScore)}; scores by epoch ${obs.scored.bob.map((x) => `${x.epoch}:${x.score}`).join(', ')}; ` +
        `rewards ${obs.bobRewards.map((r) => `${r.epoch}:${dsync(r.amount)}`).join(', ')}`,
    );
    // Informative: with Bob the only rewarded node of an epoch he gets the whole node part.
    for (const c of obs.epochsClosed) {
      if (c.budget === undefined || c.distributed === undefined) {
        t.diagnostic(`epoch ${c.epoch}: EpochClosed has no budget/distributed fields`);
        continue;
      }
      assert.ok(c.distributed <= c.budget, `epoch ${c.epoch}: distributed ${c.distributed} > budget ${c.budget}`);
      const rewarded = obs.rewardedPerEpoch.get(c.epoch) ?? [];
      if (rewarded.length === 1 && rewarded[0].node === 'bob') {
        const nodePart = c.budget - (c.budget * BigInt(POS_PARAMS.verifierShare)) / 1_000_000_000n;
        t.diagnostic(`epoch ${c.epoch}: Bob got ${rewarded[0].amount}, node part of the budget ${nodePart}`);
      }
    }

    // Charlie: never answers, suspended with a zero score.
    assert.equal(cInfo.status, 'Suspended');
    assert.ok(cScore.misses >= 2, `Charlie's misses: ${cScore.misses}`);
    assert.equal(cScore.score, 0);
    t.diagnostic(`Charlie: ${showScore(cScore)}; scores ${JSON.stringify(obs.scored.charlie.map((x) => x.score))}`);

    const indices = [...new Set(obs.epochsStarted.map((e) => e.epoch))];
    console.log(`[pos] epochs seen after #${paramsBlock}: ${indices.join(', ')} (observed up to #${fin.number})`);
    t.diagnostic(`epoch indices seen: ${indices.join(', ')}`);

    // An account without a registered node has no score.
    const none = await api.call.proofOfSyncApi.nodeScore(nobody.address);
    assert.ok(none.isNone, `nodeScore of an unregistered account: ${show(none)}`);
  });

  const postStep = 'Dave posts a GPU job (model 0, one digit, k = 1, price = floor): Bob is drawn, the price is held';
  step(postStep, 3 * 60_000, async (t) => {
    // Model 0 is the digits model, and B's aivm serves that very model (same Blake2-256 id).
    const model = await gpuModel(api, GPU_MODEL);
    t.diagnostic(`model ${GPU_MODEL}: ${JSON.stringify(model, bigintJson)}`);
    assert.ok(model.active, 'model 0 is not active');
    assert.equal(model.inputLen, DIGIT_ZERO.length, 'model 0 input length (the digits model takes 8x8 = 64 values)');
    assert.equal(model.inputLen, DIGIT_ONE.length);
    assert.equal(model.priceFloor, PRICE, 'model 0 price floor (DIGITS_PRICE_FLOOR = 0.001 DSYNC)');
    assert.ok(model.unitsPerItem > 0n, 'model 0 is worth no usage units');
    const served = await httpGet(`${aivm.baseUrl}/v1/models`);
    assert.equal(served.status, 200, `aivm GET /v1/models answered ${served.status}: ${served.text}`);
    const ids = JSON.parse(served.text).models.map((m) => String(m.id).toLowerCase());
    assert.ok(ids.includes(model.hash), `aivm serves ${ids.join(', ')}, not model 0 ${model.hash}`);
    gpu.model = model;

    const params = await gpuParams(api);
    t.diagnostic(`GpuJobs parameters: ${JSON.stringify(params)}`);
    assert.ok(
      params.minDeadline < JOB2_DEADLINE_BLOCKS,
      `min_deadline ${params.minDeadline}: the deadlines used here (+${JOB2_DEADLINE_BLOCKS}) leave no slack`,
    );
    gpu.params = params;

    // Bob is the only GPU provider: Active, offering GpuInference for model 0, with a score.
    const providers = [...(await api.query.nodeRegistry.gpuProviders())].map(nameOf);
    assert.deepEqual(providers, ['bob'], 'NodeRegistry.gpuProviders');
    const bScore = await scoreOf(api, bob);
    assert.ok(bScore && bScore.score > 0, `Bob's score: ${showScore(bScore)}`);

    const job = await postJob(t, DIGIT_ZERO, JOB1_DEADLINE_BLOCKS);
    gpu.job1 = job;

    // The price is held from Dave: free balance down by price + fee, held (reserved) up by the
    // price, under the GpuJobs Escrow hold reason.
    const [apiBefore, apiAfter] = await Promise.all([api.at(job.parentHash), api.at(job.blockHash)]);
    const [before, after] = await Promise.all([
      accountAt(api, job.parentHash, dave.address),
      accountAt(api, job.blockHash, dave.address),
    ]);
    assert.equal(before.free - after.free, PRICE + job.fee, "Dave's free balance must fall by price + fee");
    assert.equal(after.reserved - before.reserved, PRICE, "Dave's held balance must rise by the price");
    const [heldBefore, heldAfter] = await Promise.all([escrowHeld(apiBefore, dave), escrowHeld(apiAfter, dave)]);
    assert.equal(heldAfter - heldBefore, PRICE, "Dave's GpuJobs Escrow hold must rise by the price");
    job.escrowBefore = heldBefore;

    // The runtime API shows the open job.
    const view = await jobView(apiAfter, job.id);
    assert.ok(view, `GpuJobsApi.job(${job.id}) is None right after posting`);
    assert.equal(view.status, 'Open', 'job status after posting');
    assert.ok(sameAccount(view.client, dave), 'job client');
    assert.deepEqual(view.providers.map(nameOf), ['bob'], 'job providers');
    assert.equal(view.items, 1, 'job items');
    assert.equal(view.replication, 1, 'job replication');
    assert.equal(view.price, PRICE, 'job price');
    assert.equal(view.escrow, PRICE, 'job escrow');
    assert.equal(view.postedAt, job.blockNumber, 'job postedAt');
    assert.equal(view.deadline, job.deadline, 'job deadline');
    assert.equal(view.commitDeadline, job.deadline - params.revealPeriod, 'job commitDeadline');
    assert.equal(view.disputeEnd, job.deadline + params.disputePeriod, 'job disputeEnd');
  });

  const settleStep =
    "within 2 min: B's worker runs the job on aivm, commits and reveals (JobConcluded); JobSettled pays Bob the aivm result at the dispute end";
  step(settleStep, SETTLE_TIMEOUT_MS + 60_000, async (t) => {
    const job = gpu.job1;
    // The expected result, from aivm directly: for a one-item job the result is the item's
    // result_hash, which is also recomputed here from aivm's outputs.
    const answer = await aivmInfer(gpu.model.hash, [DIGIT_ZERO]);
    assert.ok(Array.isArray(answer.outputs) && answer.outputs.length === 1, `aivm outputs: ${JSON.stringify(answer)}`);
    assert.equal(answer.outputs[0].length, gpu.model.outputLen, 'aivm output length');
    assert.ok(Array.isArray(answer.hashes) && answer.hashes.length === 1, `aivm hashes: ${JSON.stringify(answer)}`);
    const expected = String(answer.hashes[0]).toLowerCase();
    assert.match(expected, /^0x[0-9a-f]{64}$/, 'aivm hash');
    assert.equal(resultHashOf(answer.outputs[0]), expected, "aivm's hash is not Blake2-256 of its outputs (i32 LE)");
    t.diagnostic(`aivm: class ${answer.classes?.[0]}, outputs [${answer.outputs[0].join(', ')}], hash ${expected}`);

    let seen;
    try {
      seen = await watchJob(job.id, job.blockNumber + 1, SETTLE_TIMEOUT_MS, 'JobSettled');
    } catch (e) {
      e.message += `\n  B's gpu-jobs / aivm log lines:\n    ${gpuLogLines(nodeB).join('\n    ') || '(none)'}`;
      throw e;
    }
    if (seen.end.key !== 'gpuJobs.JobSettled') {
      throw new Error(
        `job ${job.id} ended with ${seen.end.key} ${show(seen.end.data)}, not JobSettled\n  ` +
          `B's gpu-jobs / aivm log lines:\n    ${gpuLogLines(nodeB).join('\n    ') || '(none)'}`,
      );
    }
    const d = seen.end.data;
    assert.deepEqual([...field(d, 'winners')].map(nameOf), ['bob'], 'JobSettled.winners');
    assert.equal(field(d, 'result').toHex(), expected, "JobSettled.result must be aivm's result hash of the digit");
    assert.equal(big(field(d, 'paid')), PRICE, 'JobSettled.paid');
    assert.equal(big(field(d, 'burned')), pctOf(PRICE, GPU_BURN_PCT), 'JobSettled.burned (10 % of the price)');
    assert.equal(big(field(d, 'refunded')), 0n, 'JobSettled.refunded');

    // Bob committed, then revealed the same result; the only reveal concluded the job, which
    // was paid when its challenge window ended.
    const ofJob = (key) => seen.events.filter((e) => e.key === key);
    const commits = ofJob('gpuJobs.ResultCommitted');
    const reveals = ofJob('gpuJobs.ResultRevealed');
    const concluded = ofJob('gpuJobs.JobConcluded');
    assert.equal(commits.length, 1, `ResultCommitted events: ${commits.length}`);
    assert.equal(reveals.length, 1, `ResultRevealed events: ${reveals.length}`);
    assert.ok(sameAccount(field(commits[0].data, 'provider'), bob), 'ResultCommitted.provider');
    assert.ok(sameAccount(field(reveals[0].data, 'provider'), bob), 'ResultRevealed.provider');
    assert.equal(field(reveals[0].data, 'result').toHex(), expected, 'ResultRevealed.result');
    assert.ok(commits[0].block < reveals[0].block, `committed in #${commits[0].block}, revealed in #${reveals[0].block}`);
    assert.equal(concluded.length, 1, `JobConcluded events: ${concluded.length}`);
    assert.equal(concluded[0].block, reveals[0].block, 'the only reveal must conclude the job in its own block');
    assert.equal(field(concluded[0].data, 'result').toHex(), expected, 'JobConcluded.result');
    const disputeEnd = job.deadline + gpu.params.disputePeriod;
    assert.equal(num(field(concluded[0].data, 'payableAt')), disputeEnd, 'JobConcluded.payableAt (the dispute end)');
    assert.ok(reveals[0].block < job.deadline, `revealed in #${reveals[0].block}, not before the deadline #${job.deadline}`);
    assert.equal(seen.blockNumber, disputeEnd, 'a concluded job is paid in its dispute-end block');
    assert.equal(ofJob('gpuJobs.ProviderPenalised').length, 0, 'nobody may be penalised for job 1');
    t.diagnostic(
      `job ${job.id}: committed #${commits[0].block}, revealed and concluded #${reveals[0].block}, ` +
        `settled #${seen.blockNumber} (posted #${job.blockNumber}, deadline #${job.deadline})`,
    );

    // Usage reported to Proof of Sync: items x units_per_item, Bob for Dave, GpuInference.
    const usageEvents = seen.blockEvents.filter(
      (e) => e.key === 'proofOfSync.UsageRecorded' && sameAccount(field(e.data, 'provider'), bob),
    );
    assert.equal(usageEvents.length, 1, 'one ProofOfSync.UsageRecorded event for Bob in the settling block');
    const ue = usageEvents[0].data;
    assert.ok(sameAccount(field(ue, 'client'), dave), 'UsageRecorded.client');
    assert.equal(variant(field(ue, 'kind')), 'GpuInference', 'UsageRecorded.kind');
    assert.equal(big(field(ue, 'units')), gpu.model.unitsPerItem, 'UsageRecorded.units (1 item x units_per_item)');

    // Balances, right before and right after the settling block.
    const settled = seen.blockHash;
    const parent = await parentOf(api, settled);
    const [apiBefore, apiAfter] = await Promise.all([api.at(parent), api.at(settled)]);
    const [bobBefore, bobAfter, daveBefore, daveAfter] = await Promise.all([
      accountAt(api, parent, bob.address),
      accountAt(api, settled, bob.address),
      accountAt(api, parent, dave.address),
      accountAt(api, settled, dave.address),
    ]);
    // Proof-of-Sync rewards paid to Bob in the same block are not part of the job.
    const bobRewards = seen.blockEvents
      .filter((e) => e.key === 'proofOfSync.NodeRewarded' && sameAccount(field(e.data, 'node'), bob))
      .reduce((acc, e) => acc + big(field(e.data, 'amount')), 0n);
    const burn = pctOf(PRICE, GPU_BURN_PCT);
    const toTreasury = pctOf(PRICE, GPU_TREASURY_PCT);
    const providerShare = PRICE - burn - toTreasury;
    assert.equal(
      bobAfter.free - bobBefore.free - bobRewards,
      providerShare,
      `Bob's free balance must rise by the provider share (85 %) (PoS rewards in the block: ${bobRewards})`,
    );
    assert.equal(daveAfter.free, daveBefore.free, "Dave's free balance: the released price is charged at once");
    assert.equal(daveBefore.reserved - daveAfter.reserved, PRICE, "Dave's held balance must fall by the price");
    assert.equal(await escrowHeld(apiAfter, dave), job.escrowBefore, "Dave's GpuJobs Escrow hold must be released");
    assert.equal(await jobView(apiAfter, job.id), null, 'the settled job must be gone from GpuJobsApi.job');

    // The tokenomics GpuInference ledger: charged, burned, paid to the provider and the treasury.
    const [ledgerBefore, ledgerAfter] = await Promise.all([gpuLedger(apiBefore), gpuLedger(apiAfter)]);
    assert.equal(ledgerBefore.burnRate, BigInt(pct(GPU_BURN_PCT)), 'GpuInference burn rate (10 %)');
    assert.equal(ledgerBefore.treasuryRate, BigInt(pct(GPU_TREASURY_PCT)), 'GpuInference treasury rate (5 %)');
    assert.equal(ledgerAfter.charged - ledgerBefore.charged, PRICE, 'GpuInference charged total');
    assert.equal(ledgerAfter.burned - ledgerBefore.burned, burn, 'GpuInference burned total must rise by price / 10');
    assert.equal(ledgerAfter.toProviders - ledgerBefore.toProviders, providerShare, 'GpuInference provider total');
    assert.equal(ledgerAfter.toTreasury - ledgerBefore.toTreasury, toTreasury, 'GpuInference treasury total');
    const [issuanceBefore, issuanceAfter] = await Promise.all([
      apiBefore.query.balances.totalIssuance(),
      apiAfter.query.balances.totalIssuance(),
    ]);
    t.diagnostic(
      `settling block #${seen.blockNumber}: Bob +${bobAfter.free - bobBefore.free} (share ${providerShare}, ` +
        `PoS rewards ${bobRewards}); burned ${burn}, treasury ${toTreasury}; total issuance change ` +
        `${issuanceAfter.toBigInt() - issuanceBefore.toBigInt()} (fees and rewards included)`,
    );

    // ProofOfSyncApi::usage: Bob delivered, Dave consumed GpuInference units.
    const [bobUsageBefore, bobUsage, daveUsageBefore, daveUsage] = await Promise.all([
      usageOf(apiBefore, bob),
      usageOf(apiAfter, bob),
      usageOf(apiBefore, dave),
      usageOf(apiAfter, dave),
    ]);
    assert.ok(bobUsage.delivered > 0n, `Bob's delivered units: ${bobUsage.delivered}`);
    assert.equal(bobUsage.delivered - bobUsageBefore.delivered, gpu.model.unitsPerItem, "rise of Bob's delivered units");
    assert.ok('GpuInference' in daveUsage.consumed, `usage(Dave).consumed: ${JSON.stringify(daveUsage, bigintJson)}`);
    assert.ok(daveUsage.consumed.GpuInference > 0n, "Dave's consumed GpuInference units");
    assert.equal(
      daveUsage.consumed.GpuInference - (daveUsageBefore.consumed.GpuInference ?? 0n),
      gpu.model.unitsPerItem,
      "rise of Dave's consumed GpuInference units",
    );
    t.diagnostic(`usage(Bob) ${JSON.stringify(bobUsage, bigintJson)}; usage(Dave) ${JSON.stringify(daveUsage, bigintJson)}`);
  });

  // Only for benchmarks/settlement/run.sh (DSYNC_BENCH_SETTLE=1): settled throughput with
  // batch jobs while Bob is the scored provider and aivm runs. Not part of the test suite.
  const bench = settleBenchConfig();
  if (bench) {
    const benchStep = `benchmark: ${bench.jobsPerBlock} batch jobs of ${bench.items} items per block for ${bench.blocks} blocks, settled`;
    step(benchStep, SUITE_TIMEOUT_MS, async (t) => {
      const results = await runSettleBench(
        {
          api,
          client: dave,
          model: { id: GPU_MODEL, hash: gpu.model.hash, inputLen: gpu.model.inputLen, priceFloor: gpu.model.priceFloor },
          params: gpu.params,
          finalizedNumber: async () => (await finalizedHead(nodeA.httpUrl)).number,
          log: (m) => console.log(`[bench] ${m}`),
        },
        bench,
      );
      const { blocks, ...summary } = results;
      console.log(`[bench] ${JSON.stringify(summary, null, 2)}`);
      t.diagnostic(`blocks: ${blocks.length}; B's gpu-jobs log tail:\n    ${gpuLogLines(nodeB, 10).join('\n    ')}`);
      // The work was real: jobs were posted, computed, revealed and paid.
      assert.ok(results.totals['gpuJobs.JobPosted'] > 0, 'no job was posted');
      assert.ok(results.totals['gpuJobs.JobSettled'] > 0, 'no job was settled');
      assert.equal(results.totals['gpuJobs.ProviderPaymentFailed'], 0, 'a payment failed');
    });
  }

  const expireStep =
    'aivm stopped: a second job gets no result and expires at its deadline, refunded; Bob penalised NoShow';
  step(expireStep, 4 * 60_000 + 30_000, async (t) => {
    const stopped = await aivm.stop({ timeoutMs: 10_000 });
    t.diagnostic(`aivm stopped: ${JSON.stringify(stopped)}`);
    await assert.rejects(aivm.health(2000), 'aivm still answers /health after being stopped');

    const job = await postJob(t, DIGIT_ONE, JOB2_DEADLINE_BLOCKS);
    const [daveBefore, daveAfterPost] = await Promise.all([
      accountAt(api, job.parentHash, dave.address),
      accountAt(api, job.blockHash, dave.address),
    ]);
    assert.equal(daveAfterPost.reserved - daveBefore.reserved, PRICE, "Dave's held balance must rise by the price");
    const escrowBefore = await escrowHeld(await api.at(job.parentHash), dave);

    const seen = await watchJob(job.id, job.blockNumber + 1, JOB_TIMEOUT_MS, 'JobExpired');
    const logLines = gpuLogLines(nodeB);
    if (seen.end.key !== 'gpuJobs.JobExpired') {
      throw new Error(
        `job ${job.id} ended with ${seen.end.key} ${show(seen.end.data)}, not JobExpired\n  ` +
          `B's gpu-jobs / aivm log lines:\n    ${logLines.join('\n    ') || '(none)'}`,
      );
    }
    assert.equal(big(field(seen.end.data, 'refunded')), PRICE, 'JobExpired.refunded');
    assert.equal(seen.blockNumber, job.deadline, 'a job without any result expires in its deadline block');
    const ofJob = (key) => seen.events.filter((e) => e.key === key);
    assert.equal(ofJob('gpuJobs.ResultCommitted').length, 0, 'Bob committed although aivm was down');
    assert.equal(ofJob('gpuJobs.ResultRevealed').length, 0, 'Bob revealed although aivm was down');

    // Bob is a no-show: penalised by the pallet, a Proof-of-Sync miss (not proven wrong).
    const penalties = seen.blockEvents.filter((e) => e.key === 'gpuJobs.ProviderPenalised');
    assert.equal(penalties.length, 1, `ProviderPenalised events for job ${job.id}: ${penalties.length}`);
    assert.ok(sameAccount(field(penalties[0].data, 'provider'), bob), 'ProviderPenalised.provider');
    assert.equal(variant(field(penalties[0].data, 'reason')), 'NoShow', 'ProviderPenalised.reason');
    const failed = seen.blockEvents.filter(
      (e) => e.key === 'proofOfSync.ServiceFailed' && sameAccount(field(e.data, 'node'), bob),
    );
    assert.equal(failed.length, 1, 'one ProofOfSync.ServiceFailed event for Bob in the expiry block');
    assert.equal(field(failed[0].data, 'provenWrong').isTrue, false, 'ServiceFailed.provenWrong');
    assert.ok(num(field(failed[0].data, 'misses')) >= 1, 'ServiceFailed.misses');

    // Dave's hold is released in full: back to before posting, less the posting fee.
    const apiEnd = await api.at(seen.blockHash);
    const daveEnd = await accountAt(api, seen.blockHash, dave.address);
    assert.equal(daveEnd.free, daveBefore.free - job.fee, "Dave's free balance: before posting minus the fee");
    assert.equal(daveEnd.reserved, daveBefore.reserved, "Dave's held balance: back to before posting");
    assert.equal(await escrowHeld(apiEnd, dave), escrowBefore, "Dave's GpuJobs Escrow hold must be released");
    assert.equal(await jobView(apiEnd, job.id), null, 'the expired job must be gone from GpuJobsApi.job');

    const failures = logLines.filter((l) => l.includes('inference failed'));
    t.diagnostic(
      `job ${job.id} expired in #${seen.blockNumber}; Bob after: ${showScore(await scoreOf(apiEnd, bob))}; ` +
        `B logged ${failures.length} failed inference(s)${failures.length ? `, last: ${failures.at(-1)}` : ''}`,
    );
  });
});
