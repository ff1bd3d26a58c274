// The two-node Proof-of-Sync network the `pos` and `gpu` suites both start from, on loopback:
// validator A (`--dev`, Alice, the verifier) and service node B (`--chain dev`, not a
// validator) with its probe endpoint, its off-chain worker forced on and a local `aivm`.
// Each suite runs alone from fresh nodes: it calls `serviceNodeHooks` and then the setup steps
// it needs, in this order:
//
//   stepStart(requiredApis)  aivm (`--listen 127.0.0.1:<port>`, the bundled digits model,
//                            GET /health 200); A: `--dev --tmp`; B: `--chain dev --base-path
//                            <temp dir>/B --probe-listen-addr 127.0.0.1:<port> --offchain-worker always
//                            --aivm-url http://127.0.0.1:<aivm port> --allow-private-fetch`,
//                            bootnode A (both get `--allow-private-fetch`: A probes B on
//                            loopback, B downloads batches from a loopback server). B syncs from
//                            A. The runtime must have what the suite uses (`requiredApis`).
//   (the suite puts //Bob//probe into B's keystore as its `dsyn` key: the pos suite while it
//    checks the probe endpoint, the gpu suite directly)
//   stepAliceKey()           `//Alice//dsync` is inserted as A's `dsyn` key (the verifier's
//                            off-chain worker signs its commit/reveal transactions with it) and
//                            gets 100 DSYNC for the (refunded) fees.
//   stepParams()             sudo: ProofOfSync parameters -> 6-block epochs, 1 verifier per
//                            node, 1 warm-up epoch, EMA alpha 50 %, activation 30 %, miss below
//                            50 %, suspend after 2 misses, slash after 3 more (deferred 2
//                            epochs), 1,000 DSYNC per epoch, 10 % of it to verifiers.
//   stepRegister()           Alice registers as Validator, Bob and Charlie as Service nodes
//                            (bond = minimum + 1 DSYNC). Bob also declares one GPU and offers
//                            Storage (B: --storage-dir, 1 GiB) and GpuInference for model 0 (the digits model the development
//                            genesis registers, price floor 0.001 DSYNC); Charlie's endpoint is
//                            a port where nothing listens.
//   (the suite's own steps)
//   stepFinalTryState()      the last step: B is restarted on its base path with the
//                            try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR) and every pallet's
//                            try_state runs on the final state (lib/try-runtime.mjs).
//
// The suite's state (processes, api, accounts, what the steps recorded) is exported as live
// bindings: a suite reads `api`, `nodeA`, `bob`... once `before` / the steps have set them.
// Every process started here is stopped in `after` (and killed on exit as a last resort).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aConcat, u8aEq, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import {
  accountAt,
  connectApi,
  describeDispatchError,
  filterEvents,
  findEvent,
  parentOf,
  signSendAndWait,
  UNIT,
} from './chain.mjs';
import { big, field, num, show, ShapeError, softField, unwrapOption, variant } from './decode.mjs';
import {
  AivmProcess,
  bestHead,
  blockHashAt,
  dumpLogs,
  getFreePorts,
  makeTempDir,
  NodeProcess,
  peerIdFromNodeKey,
  removeTempDir,
  rpc,
  waitForFinalizedAbove,
  waitUntil,
} from './node.mjs';
import { sequentialSteps } from './steps.mjs';
import { stepTryState } from './try-runtime.mjs';

// ---- constants -----------------------------------------------------------------------------
/** How long a suite waits for Proof of Sync to activate (and suspend) the registered nodes. */
export const OUTCOME_TIMEOUT_MS = 6 * 60_000;
export const POLL_MS = 2000;
export const SS58 = 7373;
/** Fixed ed25519 node keys (32-byte secrets in hex, as --node-key takes them). */
export const NODE_KEY_A = `${'00'.repeat(31)}a1`;
export const NODE_KEY_B = `${'00'.repeat(31)}b2`;
export const KEY_TYPE = 'dsyn';

/** Perbill from a percentage: parts per billion. */
export const pct = (p) => p * 10_000_000;

/** The Proof-of-Sync parameters stepParams sets (everything else keeps its current value). */
export const POS_PARAMS = {
  epochLength: 6,
  verifiersPerNode: 1,
  warmupEpochs: 1,
  emaAlpha: pct(50),
  activationScore: pct(30),
  missQuality: pct(50),
  suspendAfterMisses: 2,
  slashAfterMisses: 3,
  slashDeferEpochs: 4,
  epochReward: 1000n * UNIT,
  verifierShare: pct(10),
};

/** Resources declared by every node of these suites: 4 + 8 + 1 + 1 = 14 capacity units. */
export const RESOURCES = { cpuCores: 4, memoryMib: 8192, storageGib: 100, bandwidthMbps: 100, gpus: [] };
/**
 * Bob's resources: the same plus one GPU (offering GpuInference needs one): 14 + 1 * (4 + 1) =
 * 19 capacity units. The GPU model name is hex for an unambiguous Vec<u8>.
 */
export const GPU_RESOURCES = {
  ...RESOURCES,
  gpus: [{ model: u8aToHex(stringToU8a('DSYNC e2e GPU')), count: 1, memoryMib: 1024 }],
};

// GPU jobs (pallet-gpu-jobs): the development genesis registers the digits model (64 i8 in,
// 10 i32 out) as model 0; Bob declares it (stepRegister).
export const GPU_MODEL = 0;

// ---- shared state --------------------------------------------------------------------------
export let tmpDir;
export let nodeA;
export let nodeB;
/** B's inference server (the gpu suite stops it on purpose before its second job). */
export let aivm;
export let api;
/**
 * p2pA, rpcA, p2pB, rpcB, probe (B's endpoint), dead (Charlie's endpoint: nothing listens),
 * aivm (B's inference server)
 */
export const ports = {};
export let peerIdA;

export let alice;
export let bob;
export let charlie;
export let dave;
export let aliceDsync;
export let bobProbe;
export let charlieProbe;
export let nobody;
/** hex public key -> display name */
export const names = new Map();

/** Block number of the setParameters extrinsic (events are scanned from the next block on). */
export let paramsBlock = null;
/** name -> { blockHash, blockNumber, bond, free, nonce } from the registration */
export const registered = {};

/** The nodes (polled for liveness everywhere). */
export const all = () => [nodeA, nodeB].filter(Boolean);
/** Every process whose log is worth printing on a failure. */
export const allProcesses = () => [nodeA, nodeB, aivm].filter(Boolean);

/** Sequential steps: skipped once one failed; a failing step dumps every process's log. */
export const { step, failed } = sequentialSteps(() => dumpLogs(allProcesses(), 120));

/** Display helpers: accounts by name (`names`), plancks as DSYNC. */
export const keyHex = (account) => u8aToHex(account instanceof Uint8Array ? account : account.toU8a());
export const nameOf = (account) => names.get(keyHex(account)) ?? account.toString();
export const sameAccount = (account, pair) => u8aEq(account.toU8a(), pair.publicKey);
export const dsync = (planck) => `${planck / UNIT}.${(planck % UNIT).toString().padStart(18, '0').slice(0, 4)} DSYNC`;

// ---- chain access --------------------------------------------------------------------------

/**
 * Fails with one clear message if the runtime lacks what the setup uses or what the suite
 * uses: `extra` maps a name to the function (e.g. `{ 'api.tx.gpuJobs.postJob':
 * api.tx.gpuJobs?.postJob }`).
 */
export function requirePalletApis(extra = {}) {
  const wanted = {
    'api.tx.nodeRegistry.register': api.tx.nodeRegistry?.register,
    'api.query.nodeRegistry.nodes': api.query.nodeRegistry?.nodes,
    'api.tx.proofOfSync.setParameters': api.tx.proofOfSync?.setParameters,
    'api.call.proofOfSyncApi.nodeScore': api.call.proofOfSyncApi?.nodeScore,
    'api.call.proofOfSyncApi.epoch': api.call.proofOfSyncApi?.epoch,
    'api.tx.sudo.sudo': api.tx.sudo?.sudo,
    ...extra,
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
export function posParamsItem(apiLike) {
  const q = apiLike.query.proofOfSync;
  if (!q) throw new Error('the runtime has no ProofOfSync storage');
  for (const name of ['params', 'parameters']) if (typeof q[name] === 'function') return name;
  throw new Error(
    `ProofOfSync has neither a \`params\` nor a \`parameters\` storage item; it has: ${Object.keys(q).join(', ')}`,
  );
}

/** The ProofOfSync Parameters struct (codec) at `apiLike` (api or api.at(hash)). */
export async function readPosParams(apiLike) {
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
export async function nodeInfo(apiLike, pair) {
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
export async function scoreOf(apiLike, pair) {
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
export async function epochOf(apiLike) {
  const e = await apiLike.call.proofOfSyncApi.epoch();
  return {
    index: num(field(e, 'index')),
    start: num(field(e, 'start')),
    phase: variant(field(e, 'phase')),
    epochLength: num(field(e, 'epochLength')),
  };
}

export const showScore = (s) =>
  s === null
    ? 'None'
    : `score ${(s.score / 1e7).toFixed(2)} %, last quality ${(s.lastQuality / 1e7).toFixed(2)} %, ` +
      `epochs ${s.epochs}, misses ${s.misses}, good streak ${s.goodStreak}, rewards ${dsync(s.totalRewards)}, ` +
      `status ${s.status}`;

/** Capacity units of a declaration's resources (the registry's formula, at least 1). */
export function capacityUnits(r) {
  const floorDiv = (a, b) => BigInt(Math.floor(a / b));
  let units =
    BigInt(r.cpuCores) + floorDiv(r.memoryMib, 1024) + floorDiv(r.storageGib, 100) + floorDiv(r.bandwidthMbps, 100);
  for (const g of r.gpus) units += BigInt(g.count) * (4n + floorDiv(g.memoryMib, 1024));
  return units < 1n ? 1n : units;
}

export async function blockNumberOf(hash) {
  return (await api.rpc.chain.getHeader(hash)).number.toNumber();
}

// ---- HTTP --------------------------------------------------------------------------------

export async function httpGet(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, body, text: new TextDecoder().decode(body) };
}

export const probeBase = () => `http://127.0.0.1:${ports.probe}`;

/** B's website gateway (--gateway-listen-addr) and DNS server (--dns-listen-addr) ports. */
export const gatewayPortB = () => ports.gatewayB;
export const dnsPortB = () => ports.dnsB;

/** B's Prometheus metrics. */
export const metricsUrlB = () => `http://127.0.0.1:${ports.promB}/metrics`;
/** A's Prometheus endpoint: its Proof-of-Sync worker's dsync_pos_* metrics. */
export const metricsUrlA = () => `http://127.0.0.1:${ports.promA}/metrics`;

// ---- hooks and setup steps -------------------------------------------------------------------

/**
 * Registers the suite's `before` (temp dir `tmpPrefix…`, free ports, the processes, the
 * accounts) and `after` (every process stopped; the temp dir kept when a step failed). Call
 * it first inside the suite's `describe`.
 */
export function serviceNodeHooks(tmpPrefix) {
  before(async () => {
    await cryptoWaitReady();
    tmpDir = makeTempDir(tmpPrefix);
    const [p2pA, rpcA, p2pB, rpcB, probe, dead, aivmPort, promB, promA, gatewayB, dnsB] = await getFreePorts(11);
    Object.assign(ports, { p2pA, rpcA, p2pB, rpcB, probe, dead, aivm: aivmPort, promB, promA, gatewayB, dnsB });
    peerIdA = await peerIdFromNodeKey(NODE_KEY_A);

    // B's inference server: the bundled digits model (the development genesis's model 0).
    aivm = new AivmProcess({ name: 'aivm', port: aivmPort, logDir: tmpDir });

    const common = ['--no-telemetry', '--no-mdns', '--rpc-cors', 'all'];
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
        // A's Prometheus endpoint (loopback): the pos suite reads its verifier worker's metrics.
        '--prometheus-port',
        `${promA}`,
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
        // not --tmp: the last step (stepFinalTryState) restarts B on its state
        '--base-path',
        path.join(tmpDir, 'B'),
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
        // B keeps storage (1 GiB): its slot endpoints share the probe endpoint's address, and
        // its off-chain worker accepts and proves the slots offered to Bob.
        '--storage-dir',
        path.join(tmpDir, 'B-storage'),
        '--storage-capacity',
        '1',
        // B is also a website gateway (websites by Host, /ipfs/, no probe) on an address of its
        // own, and serves DNS whose content-hash names resolve to that gateway (127.0.0.1).
        '--gateway-listen-addr',
        `127.0.0.1:${gatewayB}`,
        '--dns-listen-addr',
        `127.0.0.1:${dnsB}`,
        '--dns-website-addr',
        '127.0.0.1',
        // Batch URLs (and the other probe endpoints) are on 127.0.0.1: without this B's
        // off-chain worker refuses to fetch them (`--chain dev` does not imply it as `--dev`
        // does; NodeProcess adds it to every node anyway).
        '--allow-private-fetch',
        // B's Prometheus endpoint (loopback): the suites read its dsync_* metrics.
        '--prometheus-port',
        `${promB}`,
        ...common,
      ],
    });

    const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
    alice = keyring.addFromUri('//Alice');
    bob = keyring.addFromUri('//Bob');
    charlie = keyring.addFromUri('//Charlie');
    dave = keyring.addFromUri('//Dave'); // the gpu suite's job client: no other role
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
    // aivm too (the gpu suite may have stopped it already; stop() is then a no-op).
    const results = await Promise.allSettled(allProcesses().map((n) => n.stop({ timeoutMs: 30_000 })));
    for (const r of results) {
      if (r.status === 'rejected') console.error('[e2e] stop failed:', r.reason);
      else if (r.value.forced) console.error('[e2e] a process had to be SIGKILLed');
    }
    if (failed()) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });
}

/**
 * The first step: aivm, A and B start, B syncs from A. `requiredApis(api)` returns what the
 * suite needs beyond the setup (see `requirePalletApis`), checked once connected.
 */
export function stepStart(requiredApis = () => ({})) {
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
    requirePalletApis(requiredApis(api));

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
}

/** `//Alice//dsync` becomes A's `dsyn` key, funded for the verifier's report fees. */
export function stepAliceKey() {
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
}

/** sudo: ProofOfSync.setParameters with POS_PARAMS; records `paramsBlock`. */
export function stepParams() {
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
}

/** Alice (Validator), Bob (Service, GPU provider of model 0) and Charlie (Service) register. */
export function stepRegister() {
  const registerStep =
    'Alice registers as Validator, Bob (also a GPU provider of model 0) and Charlie as Service nodes ' +
    '(bond: minimum + 1 DSYNC)';
  step(registerStep, 3 * 60_000, async (t) => {
    const rp = unwrapOption(await api.query.nodeRegistry.params());
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
        // Storage: B keeps slots (--storage-dir); the gpu suite stores a file there.
        resources: GPU_RESOURCES,
        services: ['Naming', 'GpuInference', 'Storage'],
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
}

/**
 * The suite's last step: service node B (not a validator, so A keeps producing and finalising)
 * is restarted on its base path with the try-runtime Wasm, re-executes its last finalized block
 * and runs every pallet's try_state on the final state (lib/try-runtime.mjs).
 */
export function stepFinalTryState() {
  stepTryState(step, () => nodeB);
}
