// End-to-end test of a 4-validator `--chain local` network (Alice, Bob, Charlie, Dave) on
// loopback, including stopping and restarting one validator with its database, and a fresh full
// node joining with warp sync (`--sync warp`, its time reported). Last, Dave is
// restarted once more, with the try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR): his last finalized
// block is re-executed and every pallet's try_state runs on the final state (lib/try-runtime.mjs).
//
// Run: node --test --test-concurrency=1 multinode.test.mjs   (or ./run.sh multinode)
// Binary: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node
//
// GRANDPA needs > 2/3 of the 4 voters (= 3) online, so finality must continue with Dave down.
// The steps depend on each other: once one fails, the later ones are skipped (reported as
// skipped, the run still fails). The whole suite is bounded by SUITE_TIMEOUT_MS and every
// process started here is stopped in `after` (and, as a last resort, killed on process exit).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import {
  blockHashAt,
  bestHead,
  dumpLogs,
  finalizedHead,
  getFreePorts,
  makeTempDir,
  NodeProcess,
  peerIdFromNodeKey,
  removeTempDir,
  rpc,
  waitForFinalizedAbove,
  waitUntil,
} from './lib/node.mjs';
import { sequentialSteps } from './lib/steps.mjs';
import { stepTryState } from './lib/try-runtime.mjs';

const SUITE_TIMEOUT_MS = 12 * 60_000;
const VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];
// Fixed ed25519 node keys (32-byte secrets, hex without 0x as --node-key takes them), so the
// peer ids are known before the nodes start: 00..01, 00..02, 00..03, 00..04.
const NODE_KEYS = VALIDATORS.map((_, i) => (i + 1).toString(16).padStart(64, '0'));
/** The network must finalize beyond this block before the stop/restart part starts. */
const MIN_FINALIZED = 3;
/** The warp-syncing node joins once the network has finalized this block. */
const WARP_AFTER = 40;

let tmpDir;
/** name -> NodeProcess */
const nodes = {};
/** name -> { p2pPort, peerId } (Dave's port changes on restart) */
const net = {};

// State carried between steps.
const daveBeforeStop = {};

// The validators, then the warp-syncing full node once it exists.
const all = () => [...VALIDATORS, 'warp'].map((n) => nodes[n]).filter(Boolean);
const others = () => ['alice', 'bob', 'charlie'].map((n) => nodes[n]);

/** Sequential steps: skipped once one failed; a failing step dumps all logs. */
const { step, failed } = sequentialSteps(() => dumpLogs(all()));

function bootnode(name) {
  return `/ip4/127.0.0.1/tcp/${net[name].p2pPort}/p2p/${net[name].peerId}`;
}

/** CLI args of validator `name` (bootnodes: all the other validators). */
function argsFor(name) {
  return [
    '--chain',
    'local',
    '--base-path',
    path.join(tmpDir, name), // not --tmp: Dave is restarted with his data
    `--${name}`,
    '--validator',
    // p2p only on loopback (instead of --port, which binds 0.0.0.0 and conflicts with this)
    '--listen-addr',
    `/ip4/127.0.0.1/tcp/${net[name].p2pPort}`,
    '--node-key',
    NODE_KEYS[VALIDATORS.indexOf(name)],
    '--no-prometheus',
    '--no-telemetry',
    '--no-mdns',
    '--rpc-cors',
    'all',
    '--bootnodes',
    ...VALIDATORS.filter((n) => n !== name).map(bootnode),
  ];
}

/** { name: {number, hash} } finalized heads of the given nodes. */
async function finalizedOf(list) {
  const heads = await Promise.all(list.map((n) => finalizedHead(n.httpUrl)));
  return Object.fromEntries(list.map((n, i) => [n.name, heads[i]]));
}

/** Asserts that all `list` nodes have the same block hash at `number`; returns it. */
async function assertSameHashAt(list, number, what) {
  const hashes = await Promise.all(list.map((n) => blockHashAt(n.httpUrl, number)));
  const byNode = Object.fromEntries(list.map((n, i) => [n.name, hashes[i]]));
  assert.ok(hashes[0], `${what}: ${list[0].name} has no block #${number}`);
  for (const h of hashes) {
    assert.equal(h, hashes[0], `${what}: nodes disagree on block #${number}: ${JSON.stringify(byNode)}`);
  }
  return hashes[0];
}

describe('4-validator local network', { timeout: SUITE_TIMEOUT_MS }, () => {
  before(async () => {
    tmpDir = makeTempDir('dsync-e2e-multinode-');
    const ports = await getFreePorts(VALIDATORS.length * 2);
    for (const [i, name] of VALIDATORS.entries()) {
      net[name] = { p2pPort: ports[2 * i], peerId: await peerIdFromNodeKey(NODE_KEYS[i]) };
    }
    for (const [i, name] of VALIDATORS.entries()) {
      nodes[name] = new NodeProcess({ name, rpcPort: ports[2 * i + 1], logDir: tmpDir, args: argsFor(name) });
    }
  });

  after(async () => {
    // Stop everything we started, even after a failure (SIGTERM, SIGKILL after 30 s).
    const results = await Promise.allSettled(all().map((n) => n.stop({ timeoutMs: 30_000 })));
    for (const r of results) if (r.status === 'rejected') console.error('[e2e] stop failed:', r.reason);
    if (failed()) console.error(`[e2e] logs and base paths kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('all four validators start and connect to each other', 150_000, async (t) => {
    for (const n of all()) n.start();
    await Promise.all(all().map((n) => n.waitForRpc(90_000)));

    // The peer id we computed from the node key is the one the node uses.
    for (const n of all()) {
      const logged = n.loggedPeerId();
      if (logged) assert.equal(logged, net[n.name].peerId, `${n.name}: peer id differs from the one derived from --node-key`);
      else t.diagnostic(`${n.name}: no "Local node identity is" line found in the log`);
    }
    // Same genesis everywhere (same chain spec).
    await assertSameHashAt(all(), 0, 'genesis');
    // Each node is connected to the three others.
    await Promise.all(
      all().map((n) =>
        waitUntil(
          `${n.name} connected to 3 peers`,
          async () => (await rpc(n.httpUrl, 'system_health')).peers >= 3,
          { timeoutMs: 60_000, nodes: [n] },
        ),
      ),
    );
  });

  step(`blocks are produced and finalized (> #${MIN_FINALIZED}) and agree on all four`, 150_000, async (t) => {
    const heads = await Promise.all(all().map((n) => waitForFinalizedAbove(n, MIN_FINALIZED, 120_000)));
    const common = Math.min(...heads.map((h) => h.number));
    const hash = await assertSameHashAt(all(), common, 'finalized chain');
    t.diagnostic(`all four finalized #${common} = ${hash}`);
    for (const n of all()) {
      const best = await bestHead(n.httpUrl);
      assert.ok(best.number >= common, `${n.name}: best #${best.number} is behind finalized #${common}`);
    }
  });

  step('finality continues on the other three after Dave is stopped with SIGTERM', 120_000, async (t) => {
    const dave = nodes.dave;
    // Pick Dave's best block at a moment where the three others have the same block at that
    // height, so it is not a short-lived fork that is expected to disappear.
    const best = await waitUntil(
      "Dave's best block to be known to the other validators",
      async () => {
        const b = await bestHead(dave.httpUrl);
        const theirs = await Promise.all(others().map((n) => blockHashAt(n.httpUrl, b.number)));
        return theirs.every((h) => h === b.hash) ? b : null;
      },
      { timeoutMs: 45_000, nodes: all() },
    );
    const fin = await finalizedHead(dave.httpUrl);
    Object.assign(daveBeforeStop, { best, fin });
    t.diagnostic(`Dave before stop: best #${best.number} ${best.hash}, finalized #${fin.number} ${fin.hash}`);

    const exit = await dave.stop({ signal: 'SIGTERM', timeoutMs: 45_000 });
    t.diagnostic(`Dave exited: ${JSON.stringify(exit)}`);
    assert.equal(exit.forced, false, 'Dave did not shut down within 45 s of SIGTERM');
    assert.ok(exit.code === 0 || exit.signal === 'SIGTERM', `Dave exited abnormally: ${JSON.stringify(exit)}`);

    // Finality on Alice, Bob and Charlie must rise by >= 2 blocks from where it is now.
    const start = await finalizedOf(others());
    const heads = await Promise.all(
      others().map((n) => waitForFinalizedAbove(n, start[n.name].number + 1, 90_000)),
    );
    const common = Math.min(...heads.map((h) => h.number));
    await assertSameHashAt(others(), common, 'finalized chain without Dave');
    t.diagnostic(
      `finalized without Dave: ${others()
        .map((n, i) => `${n.name} ${start[n.name].number} -> ${heads[i].number}`)
        .join(', ')}`,
    );
  });

  step('Dave restarts from his base path, keeps his data and catches up', 150_000, async (t) => {
    const dave = nodes.dave;
    const { best, fin } = daveBeforeStop;
    // Fresh ports: the old ones may still be in TIME_WAIT. Same base path and node key.
    const [p2pPort, rpcPort] = await getFreePorts(2);
    net.dave.p2pPort = p2pPort;
    dave.rpcPort = rpcPort;
    dave.args = argsFor('dave');
    dave.start();
    await dave.waitForRpc(90_000);

    // Right after the restart, before catching up: the old data is there.
    const finNow = await finalizedHead(dave.httpUrl);
    assert.ok(finNow.number >= fin.number, `Dave's finalized head went back from #${fin.number} to #${finNow.number}`);
    assert.equal(await blockHashAt(dave.httpUrl, fin.number), fin.hash, `Dave's finalized block #${fin.number} changed`);
    const oldBest = await rpc(dave.httpUrl, 'chain_getHeader', [best.hash]);
    assert.ok(oldBest, `Dave lost his pre-stop best block #${best.number} ${best.hash}`);
    assert.equal(Number.parseInt(oldBest.number, 16), best.number);

    // Catch up: Dave must finalize the height the others have finalized now (and at least
    // his own pre-stop best block, so that block is checked as a finalized block below).
    const othersNow = Math.max(...Object.values(await finalizedOf(others())).map((h) => h.number));
    const target = Math.max(othersNow, best.number);
    const reached = await Promise.all(all().map((n) => waitForFinalizedAbove(n, target - 1, 120_000)));
    t.diagnostic(
      `Dave finalized #${reached[VALIDATORS.indexOf('dave')].number} ` +
        `(target #${target}, was #${fin.number} before the stop)`,
    );

    // Same chain as the others, and the pre-stop blocks unchanged.
    await assertSameHashAt(all(), target, 'after catch-up');
    assert.equal(await blockHashAt(dave.httpUrl, fin.number), fin.hash, 'finalized block before the stop changed');
    assert.equal(
      await assertSameHashAt(all(), best.number, "Dave's pre-stop best height"),
      best.hash,
      `block #${best.number} is no longer Dave's pre-stop best block ${best.hash}`,
    );
  });

  // A new full node joins with warp sync: GRANDPA's finality proof from genesis to the latest
  // finalised block, then that block's state, then the blocks after it (and the history behind
  // it in the background), instead of importing every block from genesis.
  step(`a fresh full node joining after #${WARP_AFTER} warp-syncs (--sync warp) to the finalized head, and its time is recorded`, 9 * 60_000, async (t) => {
    const validators = VALIDATORS.map((n) => nodes[n]);
    // Enough history that a full sync would import a few dozen blocks first.
    await waitForFinalizedAbove(validators[0], WARP_AFTER - 1, 6 * 60_000);
    const target = Math.max(...Object.values(await finalizedOf(validators)).map((h) => h.number));
    const [p2pPort, rpcPort] = await getFreePorts(2);
    const warp = new NodeProcess({
      name: 'warp',
      rpcPort,
      logDir: tmpDir,
      args: [
        '--chain',
        'local',
        '--base-path',
        path.join(tmpDir, 'warp'),
        '--sync',
        'warp',
        '--listen-addr',
        `/ip4/127.0.0.1/tcp/${p2pPort}`,
        '--no-prometheus',
        '--no-telemetry',
        '--no-mdns',
        '--bootnodes',
        ...VALIDATORS.map(bootnode),
      ],
    });
    nodes.warp = warp;
    const started = Date.now();
    warp.start();
    await warp.waitForRpc(90_000);
    const reached = await waitForFinalizedAbove(warp, target - 1, 180_000);
    const seconds = (Date.now() - started) / 1000;
    // Its finalized block is the network's (blocks behind the warp target come later, in the
    // background: the node may not know their numbers yet).
    for (const v of validators) {
      assert.equal(await blockHashAt(v.httpUrl, reached.number), reached.hash, `${v.name} disagrees on #${reached.number}`);
    }
    const log = warp.readLog();
    assert.match(log, /Warp sync is complete, continuing with state sync/, 'the node did not warp-sync');
    assert.match(log, /State sync is complete, continuing with block sync/, 'no state download after the warp');
    t.diagnostic(
      `warp sync: finalized #${reached.number} (network at #${target}) ${seconds.toFixed(1)} s after the start`,
    );
  });

  stepTryState(step, () => nodes.dave);
});
