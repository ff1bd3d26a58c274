// End-to-end test of Proof of Sync: a validator (node A, `--dev`, Alice) verifies two service
// nodes registered in the node registry. Bob's node B really answers probes on its
// `--probe-listen-addr` endpoint; Charlie registers an endpoint where nothing listens.
//
// Run: node --test --test-concurrency=1 proof-of-sync.test.mjs   (or ./run.sh pos)
// Binary: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node
//
// What happens, in order (each step depends on the ones before it; once one fails the later
// ones are skipped and the run fails):
//   1. A: `--dev --tmp`; B: `--chain dev --tmp --probe-listen-addr 127.0.0.1:<port>`, not a
//      validator, bootnode A. B syncs from A.
//   2. B's probe endpoint: /dsync/health 200 "ok"; 503 while B has no `dsyn` key; after
//      author_insertKey('dsyn', '//Bob//probe') a 200-byte SCALE SignedProbeAnswer (seed echoed,
//      compute challenge right, sr25519 signature by //Bob//probe); 400 for malformed seeds.
//   3. `//Alice//dsync` is inserted as A's `dsyn` key (the verifier's off-chain worker signs its
//      commit/reveal transactions with it) and gets 100 DSYNC for the (refunded) fees.
//   4. sudo: ProofOfSync parameters -> 6-block epochs, 1 verifier per node, 1 warm-up epoch,
//      EMA alpha 50 %, activation 30 %, miss below 50 %, suspend after 2 misses, slash after 3
//      more (deferred 2 epochs), 1,000 DSYNC per epoch, 10 % of it to verifiers.
//   5. Alice registers as Validator, Bob and Charlie as Service nodes (bond = minimum + 1 DSYNC).
//   6. Within 6 minutes: Alice Active; Bob Active with a positive, rising score and rewards
//      (NodeRewarded events == totalRewards == the rise of his free balance); Charlie Suspended
//      with >= 2 misses and score 0. An unregistered account has no score.
//
// Every process started here is stopped in `after` (and killed on exit as a last resort).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { compactAddLength, stringToU8a, u8aConcat, u8aEq, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady, randomAsU8a, sr25519Verify } from '@polkadot/util-crypto';

import {
  accountAt,
  connectApi,
  describeDispatchError,
  filterEvents,
  findEvent,
  parentOf,
  signSendAndWait,
  UNIT,
} from './lib/chain.mjs';
import {
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

// ---- constants -----------------------------------------------------------------------------
const SUITE_TIMEOUT_MS = 11 * 60_000;
/** How long step 6 waits for the Proof-of-Sync outcome. */
const OUTCOME_TIMEOUT_MS = 6 * 60_000;
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

// Probe protocol (dsync_primitives::probe): SignedProbeAnswer = seed [u8;32] ++ best_number u32 ++
// best_hash H256 ++ finalized_number u32 ++ finalized_hash H256 ++ compute [u8;32] ++ sr25519
// signature [u8;64] = 200 bytes. Signed payload and challenge input are SCALE tuples whose first
// element is the context &[u8] (so it carries a compact length prefix).
const PROBE_CONTEXT = stringToU8a('dsync/probe/v1');
const CHALLENGE_ROUNDS = 256;
const SIGNED_ANSWER_LEN = 200;
const ANSWER_LEN = 136;

// ---- shared state --------------------------------------------------------------------------
let tmpDir;
let nodeA;
let nodeB;
let api;
let anyFailed = false;
let brokenAt = null;
/** p2pA, rpcA, p2pB, rpcB, probe (B's endpoint), dead (Charlie's endpoint: nothing listens) */
const ports = {};
let peerIdA;

let alice;
let bob;
let charlie;
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

const all = () => [nodeA, nodeB].filter(Boolean);

/** Sequential step: skipped if an earlier step failed; dumps both logs when it fails. */
function step(name, timeoutMs, fn) {
  it(name, { timeout: timeoutMs }, async (t) => {
    if (brokenAt) {
      t.skip(`an earlier step failed: ${brokenAt}`);
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      anyFailed = true;
      brokenAt = name;
      dumpLogs(all(), 120);
      throw e;
    }
  });
}

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
    'api.tx.sudo.sudo': api.tx.sudo?.sudo,
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

/** { status, bond, offchainKey, endpoint, raw } of `pair`'s registry record, or null. */
async function nodeInfo(apiLike, pair) {
  const info = unwrapOption(await apiLike.query.nodeRegistry.nodes(pair.address));
  if (!info) return null;
  const decl = softField(info, 'declaration');
  const endpoint = decl ? softField(decl, 'endpoint') : undefined;
  return {
    status: variant(field(info, 'status')),
    bond: big(field(info, 'bond')),
    offchainKey: field(info, 'offchainKey'),
    endpoint: endpoint && typeof endpoint.toUtf8 === 'function' ? endpoint.toUtf8() : undefined,
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

// ---- probe endpoint ------------------------------------------------------------------------

async function httpGet(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, body, text: new TextDecoder().decode(body) };
}

const probeBase = () => `http://127.0.0.1:${ports.probe}`;
const probeUrl = (seedHex) => `${probeBase()}/dsync/probe/${seedHex}`;

/** compute_challenge(seed): 256 rounds of Blake2-256 from blake2_256(SCALE((context, seed))). */
function computeChallenge(seed) {
  let state = blake2AsU8a(u8aConcat(compactAddLength(PROBE_CONTEXT), seed), 256);
  for (let i = 1; i < CHALLENGE_ROUNDS; i += 1) state = blake2AsU8a(state, 256);
  return state;
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

const SUITE = 'Proof of Sync: a validator probes service nodes, scores, rewards and suspends them';
describe(SUITE, { timeout: SUITE_TIMEOUT_MS }, () => {
  before(async () => {
    await cryptoWaitReady();
    tmpDir = makeTempDir('dsync-e2e-pos-');
    const [p2pA, rpcA, p2pB, rpcB, probe, dead] = await getFreePorts(6);
    Object.assign(ports, { p2pA, rpcA, p2pB, rpcB, probe, dead });
    peerIdA = await peerIdFromNodeKey(NODE_KEY_A);

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
        ...common,
      ],
    });

    const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
    alice = keyring.addFromUri('//Alice');
    bob = keyring.addFromUri('//Bob');
    charlie = keyring.addFromUri('//Charlie');
    aliceDsync = keyring.addFromUri('//Alice//dsync');
    bobProbe = keyring.addFromUri('//Bob//probe');
    charlieProbe = keyring.addFromUri('//Charlie//probe');
    nobody = keyring.addFromUri('//DsyncE2eNobody');
    for (const [name, pair] of Object.entries({ alice, bob, charlie, aliceDsync, bobProbe, charlieProbe, nobody })) {
      names.set(u8aToHex(pair.publicKey), name);
    }
  });

  after(async () => {
    if (api) await api.disconnect().catch(() => {});
    const results = await Promise.allSettled(all().map((n) => n.stop({ timeoutMs: 30_000 })));
    for (const r of results) {
      if (r.status === 'rejected') console.error('[e2e] stop failed:', r.reason);
      else if (r.value.forced) console.error('[e2e] a node had to be SIGKILLed');
    }
    if (anyFailed) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('A (--dev) and service node B (--chain dev, probe endpoint) start; B syncs from A', 4 * 60_000, async (t) => {
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
    assert.ok(u8aEq(answer.compute, computeChallenge(seed)), 'the compute challenge result is wrong');
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

  step('Alice registers as Validator, Bob and Charlie as Service nodes (bond: minimum + 1 DSYNC)', 3 * 60_000, async (t) => {
    const rp = unwrapOption(await api.query.nodeRegistry.parameters());
    const baseBond = big(field(rp, 'baseBond'));
    const perUnit = big(field(rp, 'bondPerCapacityUnit'));
    const units = capacityUnits(RESOURCES);
    assert.equal(units, 14n);
    const minimum = baseBond + perUnit * units;
    const bond = minimum + UNIT;
    t.diagnostic(
      `registry parameters ${show(rp)}: minimum bond for ${units} units ${dsync(minimum)}, bonding ${dsync(bond)}`,
    );

    const plans = [
      { name: 'alice', pair: alice, role: 'Validator', key: aliceDsync, endpoint: 'http://127.0.0.1:1', services: [] },
      { name: 'bob', pair: bob, role: 'Service', key: bobProbe, endpoint: probeBase(), services: ['Naming'] },
      {
        name: 'charlie',
        pair: charlie,
        role: 'Service',
        key: charlieProbe,
        endpoint: `http://127.0.0.1:${ports.dead}`, // nothing listens there
        services: ['Naming'],
      },
    ];
    const results = await Promise.all(
      plans.map((p) => {
        const declaration = {
          resources: RESOURCES,
          services: p.services,
          models: [],
          endpoint: u8aToHex(stringToU8a(p.endpoint)), // hex: unambiguous Vec<u8> input
        };
        return signSendAndWait(api, api.tx.nodeRegistry.register(p.role, declaration, p.key.address, bond), p.pair);
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
      if (evBond) assert.equal(big(evBond), bond, `${p.name}: NodeRegistered.bond`);
      const evUnits = softField(data, 'capacityUnits');
      if (evUnits) assert.equal(big(evUnits), units, `${p.name}: NodeRegistered.capacityUnits`);

      const apiAt = await api.at(res.blockHash);
      const info = await nodeInfo(apiAt, p.pair);
      assert.ok(info, `${p.name}: no NodeRegistry.nodes record after registering`);
      assert.equal(info.status, 'Pending', `${p.name}: status after registering`);
      assert.equal(info.bond, bond, `${p.name}: bond in the record`);
      assert.ok(sameAccount(info.offchainKey, p.key), `${p.name}: offchainKey in the record`);
      if (info.endpoint !== undefined) assert.equal(info.endpoint, p.endpoint, `${p.name}: endpoint in the record`);

      const blockNumber = await blockNumberOf(res.blockHash);
      const acc = await accountAt(api, res.blockHash, p.pair.address);
      if (p.name !== 'alice') {
        // The bond is held (holds count as reserved in pallet-balances).
        const prev = await accountAt(api, await parentOf(api, res.blockHash), p.pair.address);
        assert.equal(acc.reserved - prev.reserved, bond, `${p.name}: held balance must rise by the bond`);
      }
      registered[p.name] = { blockHash: res.blockHash, blockNumber, bond, free: acc.free, nonce: acc.nonce };
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
});
