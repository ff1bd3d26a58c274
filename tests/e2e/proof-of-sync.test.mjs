// End-to-end test of Proof of Sync: a validator (node A, `--dev`, Alice) verifies two service
// nodes registered in the node registry. Bob's node B really answers probes on its
// `--probe-listen-addr` endpoint; Charlie registers an endpoint where nothing listens. The GPU
// jobs Bob serves once scored are the gpu suite's (gpu-jobs.test.mjs), which starts from the
// same setup (lib/service-nodes.mjs).
//
// Run: node --test --test-concurrency=1 proof-of-sync.test.mjs   (or ./run.sh pos)
// Binaries: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node;
//           $AIVM, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/aivm (it
//           computes the probe's compute challenge to check B's answer)
//
// What happens, in order (each step depends on the ones before it; once one fails the later
// ones are skipped and the run fails):
//   1. aivm: `--listen 127.0.0.1:<port>` (the bundled digits model), GET /health 200.
//      A: `--dev --tmp`; B: `--chain dev --base-path <temp dir>/B --probe-listen-addr 127.0.0.1:<port>
//      --offchain-worker always --aivm-url http://127.0.0.1:<aivm port>`, not a validator,
//      bootnode A. B syncs from A. (lib/service-nodes.mjs: stepStart)
//   2. B's probe endpoint: /dsync/health 200 "ok"; 503 while B has no `dsyn` key; after
//      author_insertKey('dsyn', '//Bob//probe') a 200-byte SCALE SignedProbeAnswer (seed echoed,
//      compute challenge (one digits inference, checked against aivm) right, sr25519 signature by //Bob//probe); 400 for malformed seeds.
//   3. `//Alice//dsync` is inserted as A's `dsyn` key (the verifier's off-chain worker signs its
//      commit/reveal transactions with it) and gets 100 DSYNC for the (refunded) fees.
//      (stepAliceKey)
//   4. sudo: ProofOfSync parameters -> 6-block epochs, 1 verifier per node, 1 warm-up epoch,
//      EMA alpha 50 %, activation 30 %, miss below 50 %, suspend after 2 misses, slash after 3
//      more (deferred 2 epochs), 1,000 DSYNC per epoch, 10 % of it to verifiers. (stepParams)
//   5. Alice registers as Validator, Bob and Charlie as Service nodes (bond = minimum + 1 DSYNC).
//      Bob also declares one GPU and offers GpuInference for model 0 (the digits model the
//      development genesis registers, price floor 0.001 DSYNC). (stepRegister)
//   6. Within 6 minutes: Alice Active; Bob Active with a positive, rising score and rewards
//      (NodeRewarded events == totalRewards == the rise of his free balance); Charlie Suspended
//      with >= 2 misses and score 0. An unregistered account has no score.
//   7. B is restarted on its base path with the try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR):
//      its last finalized block is re-executed and every pallet's try_state runs on the final
//      state (lib/service-nodes.mjs: stepFinalTryState; lib/try-runtime.mjs).
//
// Every process started here is stopped in `after` (and killed on exit as a last resort).

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { compactAddLength, hexToU8a, stringToU8a, u8aConcat, u8aEq, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, randomAsU8a, sr25519Verify } from '@polkadot/util-crypto';

import { accountAt, describeDispatchError } from './lib/chain.mjs';
import { big, countOf, field, num, show, ShapeError, softField, variant } from './lib/decode.mjs';
import { monitoredMetrics } from './lib/monitoring.mjs';
import { blockHashAt, finalizedHead, rpc, scrapeMetrics, sleep, waitUntil } from './lib/node.mjs';
import {
  aivm,
  alice,
  aliceDsync,
  all,
  api,
  bob,
  bobProbe,
  charlie,
  dsync,
  epochOf,
  httpGet,
  KEY_TYPE,
  metricsUrlA,
  metricsUrlB,
  nameOf,
  nobody,
  nodeA,
  nodeB,
  nodeInfo,
  OUTCOME_TIMEOUT_MS,
  paramsBlock,
  POLL_MS,
  POS_PARAMS,
  probeBase,
  registered,
  scoreOf,
  serviceNodeHooks,
  showScore,
  step,
  stepAliceKey,
  stepFinalTryState,
  stepParams,
  stepRegister,
  stepStart,
} from './lib/service-nodes.mjs';

// ---- constants -----------------------------------------------------------------------------
const SUITE_TIMEOUT_MS = 15 * 60_000;

// Probe protocol (dsync_primitives::probe): SignedProbeAnswer = seed [u8;32] ++ best_number u32 ++
// best_hash H256 ++ finalized_number u32 ++ finalized_hash H256 ++ compute [u8;32] ++ sr25519
// signature [u8;64] = 200 bytes. Signed payload and challenge input are SCALE tuples whose first
// element is the context &[u8] (so it carries a compact length prefix).
const PROBE_CONTEXT = stringToU8a('dsync/probe/v1');
const SIGNED_ANSWER_LEN = 200;
const ANSWER_LEN = 136;

// ---- probe endpoint ------------------------------------------------------------------------

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

const SUITE = 'Proof of Sync: a validator probes service nodes, scores, rewards and suspends them';
describe(SUITE, { timeout: SUITE_TIMEOUT_MS }, () => {
  serviceNodeHooks('dsync-e2e-pos-');

  stepStart();

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

    // The same responses, counted by outcome in B's Prometheus metrics (nothing else has probed
    // B yet: it registers later).
    const metric = await scrapeMetrics(metricsUrlB());
    const probes = (outcome) => metric('dsync_probe_responses_total', { outcome });
    assert.ok(probes('health') >= 1, `health: ${probes('health')}`);
    assert.equal(probes('no_key'), 1);
    assert.equal(probes('answered_anonymous'), 1);
    assert.equal(probes('bad_request'), 4);
    assert.equal(probes('rate_limited'), 0);
    assert.ok(metric('substrate_block_height') > 0, "the node's own Substrate metrics are served beside them");
    for (const name of monitoredMetrics('dsync_probe_')) {
      assert.ok(metric.names.has(name), `${name} (docs/operators/monitoring) is not served`);
    }
  });

  stepAliceKey();

  stepParams();

  stepRegister();

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

    // A's verifier worker counted what it did in A's metrics: every commitment and reveal on
    // chain is Alice's (the only verifier), sent by that worker after a probe (resubmissions
    // may count more, never fewer).
    const aMetrics = await scrapeMetrics(metricsUrlA());
    const onChain = (key) => obs.counts[key] ?? 0;
    const committed = onChain('proofOfSync.ReportCommitted');
    const revealed = onChain('proofOfSync.ReportRevealed');
    const sent = (phase) => aMetrics('dsync_pos_reports_total', { phase });
    assert.ok(committed > 0 && revealed > 0, `reports on chain: ${committed} committed, ${revealed} revealed`);
    assert.ok(sent('commit') >= committed, `commitments sent ${sent('commit')} < on chain ${committed}`);
    assert.ok(sent('reveal') >= revealed, `reveals sent ${sent('reveal')} < on chain ${revealed}`);
    assert.ok(aMetrics('dsync_pos_probes_total') >= committed, 'a commitment without a probe');
    for (const name of monitoredMetrics('dsync_pos_')) {
      assert.ok(aMetrics.names.has(name), `${name} (docs/operators/monitoring) is not served`);
    }
    t.diagnostic(
      `A's worker: ${aMetrics('dsync_pos_probes_total')} probes, ${sent('commit')} commitments and ` +
        `${sent('reveal')} reveals sent; on chain ${committed} and ${revealed}`,
    );

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

  stepFinalTryState();
});
