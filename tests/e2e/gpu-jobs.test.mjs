// End-to-end test of GPU jobs: a provider scored by Proof of Sync serves paid inference jobs
// through its off-chain worker and a local `aivm` inference server. It starts from the same two
// nodes as the Proof-of-Sync suite (lib/service-nodes.mjs): validator A (`--dev`, Alice, the
// verifier) and service node B, whose owner Bob registers as a GPU provider of model 0 (the
// digits model) and is activated and scored by Proof of Sync before the first job.
//
// Run: node --test --test-concurrency=1 gpu-jobs.test.mjs   (or ./run.sh gpu)
// Binaries: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node;
//           $AIVM, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm
// With DSYNC_BENCH_SETTLE=1 (benchmarks/settlement/run.sh) an extra step before the aivm stop
// measures batch jobs settled per second (benchmarks/settlement/settle-bench.mjs).
//
// What happens, in order (each step depends on the ones before it; once one fails the later
// ones are skipped and the run fails):
//   1. aivm, A and B start; B syncs from A (lib/service-nodes.mjs: stepStart).
//   2. `//Bob//probe` becomes B's `dsyn` key: B's probe endpoint signs its answers with it and
//      B's GPU worker signs its job commit/reveal with it.
//   3. `//Alice//dsync` becomes A's `dsyn` key with 100 DSYNC (stepAliceKey).
//   4. `//Bob//probe` gets 100 DSYNC for the fees paid up front (refunded on success).
//   5. sudo: short Proof-of-Sync epochs (stepParams: 6 blocks, 1 verifier, 1 warm-up epoch...).
//   6. Alice registers as Validator, Bob and Charlie as Service nodes (stepRegister); Bob also
//      declares one GPU and offers GpuInference for model 0 (the digits model the development
//      genesis registers, price floor 0.001 DSYNC).
//   7. Within 6 minutes Proof of Sync makes Bob's node Active with a positive score.
//   8. Dave posts a GPU job: model 0, one 8x8 digit inline, k = 1, price = the floor, deadline
//      14 blocks ahead. JobPosted names the draw block (DrawDelay = 2 blocks later), whose
//      JobAssigned draws Bob (the only GPU provider); the price is held from Dave (GpuJobs
//      Escrow hold; free balance down by price + fee).
//   9. Within 2 minutes B's worker computes the digit with aivm, commits and reveals; the
//      reveal concludes the job (JobConcluded, payable at its dispute end = deadline + 10), and
//      at the end of that challenge window (within 4 minutes in all)
//      JobSettled { winners [Bob], paid = price, burned = price / 10, refunded 0 } whose result
//      is aivm's result hash for the same input (asked directly, and recomputed here from its
//      outputs). Bob's free balance rises by the provider share (85 %), the tokenomics
//      GpuInference ledger by the split, ProofOfSyncApi::usage shows Bob's delivered units;
//      Dave's consumed units are those of the UsageRecorded event (the chain keeps no
//      per-client totals: no ProofOfSync.ClientUsage storage).
//  S1-S3. Storage (lib/storage-steps.mjs): the real `dsync store put` keeps a small website
//      with a 3 MiB file with Bob (B: --storage-dir), standard IPFS clients retrieve it, a name
//      points at it and headless Chromium loads it through B's website gateway, B's worker
//      accepts and proves it, A's verifier checks that a piece of it is retrievable, the order
//      is paid, settled and the slot deleted by B.
//  10. aivm is stopped; a second job (deadline 10 blocks ahead) gets no result: JobExpired with
//      refunded = price at its deadline, ProviderPenalised { Bob, NoShow } and
//      ProofOfSync.ServiceFailed for Bob; Dave's hold is released (free balance = before posting
//      minus the posting fee).
//  11. B is restarted on its base path with the try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR): its
//      last finalized block is re-executed and every pallet's try_state runs on the final state
//      (lib/service-nodes.mjs: stepFinalTryState; lib/try-runtime.mjs).
//
// Every process started here is stopped in `after` (and killed on exit as a last resort).

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';

import { runSettleBench, settleBenchConfig } from '../../benchmarks/settlement/settle-bench.mjs';
import {
  accountAt,
  describeDispatchError,
  feePaid,
  findEvent,
  parentOf,
  signSendAndWait,
  UNIT,
} from './lib/chain.mjs';
import { big, bigintJson, field, num, show, ShapeError, softField, unwrapOption, variant } from './lib/decode.mjs';
import { monitoredMetrics } from './lib/monitoring.mjs';
import { storageSteps } from './lib/storage-steps.mjs';
import { bestHead, blockHashAt, finalizedHead, rpc, scrapeMetrics, sleep, waitUntil } from './lib/node.mjs';
import {
  aivm,
  alice,
  all,
  api,
  blockNumberOf,
  bob,
  bobProbe,
  dave,
  dnsPortB,
  gatewayPortB,
  GPU_MODEL,
  httpGet,
  KEY_TYPE,
  metricsUrlA,
  metricsUrlB,
  nameOf,
  nodeA,
  nodeB,
  nodeInfo,
  OUTCOME_TIMEOUT_MS,
  pct,
  POLL_MS,
  ports,
  probeBase,
  sameAccount,
  scoreOf,
  serviceNodeHooks,
  showScore,
  step,
  stepAliceKey,
  stepFinalTryState,
  stepParams,
  stepRegister,
  stepStart,
  tmpDir,
} from './lib/service-nodes.mjs';

// ---- constants -----------------------------------------------------------------------------
// The optional settlement benchmark (benchmarks/settlement/run.sh) needs longer.
const SUITE_TIMEOUT_MS = (settleBenchConfig() ? 40 : 15) * 60_000;
/** How long steps 9 and 10 wait for a GPU job to end. */
const JOB_TIMEOUT_MS = 2 * 60_000;
/** Job 1 is paid at the end of its challenge window: dispute_period (10) blocks of 6 s more. */
const SETTLE_TIMEOUT_MS = JOB_TIMEOUT_MS + 2 * 60_000;

// GPU jobs (pallet-gpu-jobs): the development genesis registers the digits model (64 i8 in,
// 10 i32 out) as model 0 (GPU_MODEL) with a price floor of 0.001 DSYNC per provider and item,
// and sets min_deadline 8, reveal_period 3, dispute_period 10. The GpuInference service split
// is 10 % burned, 5 % to the treasury, the rest to the provider.
/** The price per provider of every job here: the model's floor for one item (0.001 DSYNC). */
const PRICE = UNIT / 1000n;
const GPU_BURN_PCT = 10;
const GPU_TREASURY_PCT = 5;
/** Deadlines, in blocks after A's best block when posting (min_deadline is 8). */
const JOB1_DEADLINE_BLOCKS = 14;
const JOB2_DEADLINE_BLOCKS = 10;
/** 8x8 digits, values 0..16 (the first two images of the UCI / scikit-learn digits set). */
const DIGIT_ZERO = [
  0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0,
  0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
];
const DIGIT_ONE = [
  0, 0, 0, 12, 13, 5, 0, 0, 0, 0, 0, 11, 16, 9, 0, 0, 0, 0, 3, 15, 16, 6, 0, 0, 0, 7, 15, 16, 16, 2, 0, 0, 0, 0, 1, 16,
  16, 3, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 1, 16, 16, 6, 0, 0, 0, 0, 0, 11, 16, 10, 0, 0,
];

// ---- shared state --------------------------------------------------------------------------
/**
 * GPU-job state shared by steps 8-10: model { hash, inputLen, outputLen, unitsPerItem,
 * priceFloor, active }, params (GpuJobs timing), job1 { id, blockHash, blockNumber, parentHash,
 * deadline, fee, escrowBefore } from posting.
 */
const gpu = {};

// ---- GPU jobs ------------------------------------------------------------------------------

/** The registry's GPU providers of `apiLike` (account codecs, in index order). */
async function gpuProviderList(apiLike) {
  return [...(await apiLike.query.nodeRegistry.providers('GpuInference'))];
}

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
  const blockNumber = await blockNumberOf(res.blockHash);
  // The providers are drawn DrawDelay blocks later, with randomness nobody knew at posting.
  const drawAt = num(field(d, 'drawAt'));
  assert.equal(drawAt, blockNumber + num(api.consts.gpuJobs.drawDelay), 'JobPosted.drawAt');
  const assigned = await assignedAt(id, drawAt);
  assert.deepEqual(assigned.providers, ['bob'], 'JobAssigned.providers: Bob is the only GPU provider of model 0');

  const parentHash = await parentOf(api, res.blockHash);
  const { actualFee } = feePaid(api, res.events, dave.publicKey);
  t.diagnostic(
    `job ${id} posted in #${blockNumber} (best was #${best.number}), deadline #${deadline}, fee ${actualFee}`,
  );
  return { id, blockHash: res.blockHash, blockNumber, parentHash, deadline, fee: actualFee, drawAt, drawHash: assigned.hash };
}

/** Waits for block `drawAt` on A; the providers (by name) its GpuJobs.JobAssigned event of job `id` drew. */
async function assignedAt(id, drawAt) {
  await waitUntil(`block #${drawAt}`, async () => (await bestHead(nodeA.httpUrl)).number >= drawAt, {
    timeoutMs: 60_000,
    nodes: all(),
  });
  const hash = await blockHashAt(nodeA.httpUrl, drawAt);
  const records = await api.query.system.events.at(hash);
  const event = records
    .map(({ event }) => event)
    .find((e) => e.section === 'gpuJobs' && e.method === 'JobAssigned' && big(field(e.data, 'job')) === id);
  assert.ok(event, `no GpuJobs.JobAssigned of job ${id} in its draw block #${drawAt}`);
  return { hash, providers: [...field(event.data, 'providers')].map(nameOf) };
}

/** ProofOfSyncApi::usage(who) as { delivered, deliveredThisEpoch } (what `who` delivered as a provider). */
async function usageOf(apiLike, who) {
  const view = await apiLike.call.proofOfSyncApi.usage(who.address);
  return {
    delivered: big(field(view, 'delivered')),
    deliveredThisEpoch: big(field(view, 'deliveredThisEpoch')),
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

// ---- the suite -----------------------------------------------------------------------------

const SUITE = 'GPU jobs: paid to a provider scored by Proof of Sync, computed with aivm; refunded when nobody answers';
describe(SUITE, { timeout: SUITE_TIMEOUT_MS }, () => {
  serviceNodeHooks('dsync-e2e-gpu-');

  stepStart((a) => ({
    'api.call.proofOfSyncApi.usage': a.call.proofOfSyncApi?.usage,
    'api.tx.gpuJobs.postJob': a.tx.gpuJobs?.postJob,
    'api.query.gpuJobs.models': a.query.gpuJobs?.models,
    'api.query.gpuJobs.params': a.query.gpuJobs?.params,
    'api.call.gpuJobsApi.job': a.call.gpuJobsApi?.job,
    'api.query.nodeRegistry.providers': a.query.nodeRegistry?.providers,
    'api.call.tokenomicsApi.totals': a.call.tokenomicsApi?.totals,
    'api.query.balances.holds': a.query.balances?.holds,
  }));

  step("//Bob//probe becomes B's dsyn key (B's probe answers and GPU worker sign with it)", 60_000, async (t) => {
    const hex = u8aToHex(bobProbe.publicKey);
    await rpc(nodeB.httpUrl, 'author_insertKey', [KEY_TYPE, '//Bob//probe', hex]);
    assert.equal(await rpc(nodeB.httpUrl, 'author_hasKey', [hex, KEY_TYPE]), true, 'author_insertKey did not add the key');
    t.diagnostic(`//Bob//probe = ${bobProbe.address}`);
  });

  stepAliceKey();

  step("//Bob//probe (B's dsyn key, the GPU worker's signer) holds 100 DSYNC", 3 * 60_000, async (t) => {
    // B's GPU worker signs commit_result / reveal_result with the node's registered off-chain
    // key: those calls are free when they succeed, but the fee is paid up front (and refunded),
    // so the key's account needs funds. The key is already in B's keystore (step 2).
    const hex = u8aToHex(bobProbe.publicKey);
    assert.equal(await rpc(nodeB.httpUrl, 'author_hasKey', [hex, KEY_TYPE]), true, 'B lost //Bob//probe');
    const res = await signSendAndWait(api, api.tx.balances.transferKeepAlive(bobProbe.address, 100n * UNIT), alice);
    assert.equal(res.dispatchError, undefined, `transfer failed: ${describeDispatchError(api, res.dispatchError)}`);
    const acc = await accountAt(api, res.blockHash, bobProbe.address);
    assert.equal(acc.free, 100n * UNIT, '//Bob//probe must hold exactly 100 DSYNC');
    t.diagnostic(`//Bob//probe = ${bobProbe.address}, funded in ${res.blockHash}`);
  });

  stepParams();

  stepRegister();

  step("within 6 min: Proof of Sync makes Bob's node Active with a positive score", OUTCOME_TIMEOUT_MS + 60_000, async (t) => {
    const state = await waitUntil(
      "Bob's node Active with a positive Proof-of-Sync score",
      async () => {
        const fin = await finalizedHead(nodeA.httpUrl);
        const apiAt = await api.at(fin.hash);
        const [info, score] = await Promise.all([nodeInfo(apiAt, bob), scoreOf(apiAt, bob)]);
        return info?.status === 'Active' && score && score.score > 0 ? { fin, score } : null;
      },
      { timeoutMs: OUTCOME_TIMEOUT_MS, intervalMs: POLL_MS, nodes: all() },
    );
    t.diagnostic(`finalized #${state.fin.number}: Bob ${showScore(state.score)}`);
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
    const providers = (await gpuProviderList(api)).map(nameOf);
    assert.deepEqual(providers, ['bob'], 'NodeRegistry.providers(GpuInference)');
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

    // The runtime API shows the open job: being drawn right after posting, with Bob from its
    // draw block on.
    const view = await jobView(apiAfter, job.id);
    assert.ok(view, `GpuJobsApi.job(${job.id}) is None right after posting`);
    assert.equal(view.status, 'Drawing', 'job status after posting');
    assert.deepEqual(view.providers, [], 'no provider before the draw');
    const drawnView = await jobView(await api.at(job.drawHash), job.id);
    assert.equal(drawnView.status, 'Open', 'job status after the draw');
    assert.ok(sameAccount(view.client, dave), 'job client');
    assert.deepEqual(drawnView.providers.map(nameOf), ['bob'], 'job providers');
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
    // A job of one provider is checked by nobody: delivered, but it weighs nothing into rewards.
    assert.equal(big(field(ue, 'rewardable')), 0n, 'UsageRecorded.rewardable of an unverified job');

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

    // ProofOfSyncApi::usage: Bob delivered. Dave consumed the units of the UsageRecorded event
    // above; the chain keeps no per-client totals (storage any account could grow).
    const [bobUsageBefore, bobUsage, daveUsageBefore, daveUsage] = await Promise.all([
      usageOf(apiBefore, bob),
      usageOf(apiAfter, bob),
      usageOf(apiBefore, dave),
      usageOf(apiAfter, dave),
    ]);
    assert.ok(bobUsage.delivered > 0n, `Bob's delivered units: ${bobUsage.delivered}`);
    assert.equal(bobUsage.delivered - bobUsageBefore.delivered, gpu.model.unitsPerItem, "rise of Bob's delivered units");
    // (It can only stay, or fall to 0 when an epoch's tally starts in this block.)
    assert.ok(bobUsage.deliveredThisEpoch <= bobUsageBefore.deliveredThisEpoch, "Bob's rewardable usage rose (unverified)");
    assert.equal(daveUsage.delivered, daveUsageBefore.delivered, 'Dave, a client, delivered nothing');
    assert.equal(apiAfter.query.proofOfSync?.clientUsage, undefined, 'no ProofOfSync.ClientUsage storage');
    t.diagnostic(`usage(Bob) ${JSON.stringify(bobUsage, bigintJson)}; usage(Dave) ${JSON.stringify(daveUsage, bigintJson)}`);

    // B's GPU worker counted the job through every stage in B's metrics (issue 19).
    const metric = await scrapeMetrics(metricsUrlB());
    const stage = (name) => metric('dsync_gpu_jobs_total', { stage: name });
    for (const name of ['seen', 'fetched', 'inferred', 'committed', 'revealed']) {
      assert.ok(stage(name) >= 1, `dsync_gpu_jobs_total{stage="${name}"} is ${stage(name)}`);
    }
    assert.ok(stage('fetched') >= stage('inferred'), 'inferred without an input');
    assert.ok(metric.names.has('dsync_gpu_stage_milliseconds_total'), 'stage durations are served');
    for (const name of monitoredMetrics('dsync_gpu_')) {
      assert.ok(metric.names.has(name), `${name} (docs/operators/monitoring) is not served`);
    }
    t.diagnostic(
      `B's worker: ${['seen', 'fetched', 'inferred', 'committed', 'revealed'].map((n) => `${n} ${stage(n)}`).join(', ')}; ` +
        `fetch ${metric('dsync_gpu_stage_milliseconds_total', { stage: 'fetch' })} ms, ` +
        `infer ${metric('dsync_gpu_stage_milliseconds_total', { stage: 'infer' })} ms`,
    );
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

  // Storage on the same network (lib/storage-steps.mjs): Bob is Active and scored, B keeps
  // storage; a website is stored with the real client, served to a browser, proven by B's
  // worker and settled.
  storageSteps(step, () => ({
    api,
    alice,
    bob,
    dave,
    tmpDir,
    rpcUrl: `http://127.0.0.1:${ports.rpcA}`,
    probeBase,
    metricsUrlA,
    metricsUrlB,
    gatewayPort: gatewayPortB(),
    dnsPort: dnsPortB(),
    sameAccount,
  }));

  const expireStep =
    'aivm stopped: a second job gets no result and expires at its deadline, refunded; Bob penalised NoShow';
  step(expireStep, 4 * 60_000 + 30_000, async (t) => {
    const unreachable = async () =>
      (await scrapeMetrics(metricsUrlB()))('dsync_gpu_failures_total', { reason: 'aivm_unreachable' });
    const unreachableBefore = await unreachable();
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
    // The worker's failures with aivm down are counted by reason in B's metrics.
    const unreachableAfter = await unreachable();
    assert.ok(
      unreachableAfter > unreachableBefore,
      `dsync_gpu_failures_total{reason="aivm_unreachable"} stayed at ${unreachableBefore}`,
    );
    t.diagnostic(
      `job ${job.id} expired in #${seen.blockNumber}; Bob after: ${showScore(await scoreOf(apiEnd, bob))}; ` +
        `B logged ${failures.length} failed inference(s)${failures.length ? `, last: ${failures.at(-1)}` : ''}`,
    );
  });

  stepFinalTryState();
});
