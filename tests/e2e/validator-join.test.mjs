// A fifth validator joins the running four-validator `local` network from scratch (issue 19,
// item 1), the way an operator does it on this chain:
//
//   1. `dsync-node key generate-node-key --file <base>/node-key` (a validator refuses to start
//      without a persisted network key), then the node starts with `--validator`;
//   2. `author_rotateKeysWithOwner(<stash>)` on the node: the session keys and their ownership
//      proof (since polkadot-sdk 2606 `session.setKeys` checks it);
//   3. from the stash (Eve, a nominator in the preset): `staking.bondExtra`, `staking.validate`,
//      `session.setKeys(keys, proof)`;
//   4. the staking rules elect her at the next era: the election keeps `validatorCount` (4, the
//      genesis validators) of the best-backed candidates, and her stake is the largest, so she
//      replaces one of the four;
//   5. she authors blocks, and she votes in GRANDPA: with one of the other three validators
//      stopped, finality goes on only because her votes make the two thirds.
//
// Every node runs the `fast-runtime` build of the runtime through `--wasm-runtime-overrides`
// (scripts/build-fast-runtime.sh: one-minute sessions, two-session eras, same spec_version), so
// the era turns within the test; the chain is otherwise the `local` chain of the other suites.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady } from '@polkadot/util-crypto';

import { connectApi, describeDispatchError, signSendAndWait, UNIT } from './lib/chain.mjs';
import {
  dumpLogs,
  finalizedHead,
  getFreePorts,
  makeTempDir,
  nodeBinaryPath,
  NodeProcess,
  peerIdFromNodeKey,
  removeTempDir,
  rpc,
  sleep,
} from './lib/node.mjs';
import { sequentialSteps } from './lib/steps.mjs';

const runFile = promisify(execFile);
const SUITE_TIMEOUT_MS = 15 * 60_000;
const VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];
const NODE_KEYS = VALIDATORS.map((_, i) => (i + 1).toString(16).padStart(64, '0'));
const SS58 = 7373;
const FAST_DIR = process.env.DSYNC_FAST_RUNTIME_DIR;

let tmpDir;
const nodes = {};
const net = {};
let api;
let eve;
const state = {};

const all = () => [...VALIDATORS, 'eve'].map((n) => nodes[n]).filter(Boolean);
const { step, failed } = sequentialSteps(() => dumpLogs(all()));
const bootnode = (name) => `/ip4/127.0.0.1/tcp/${net[name].p2pPort}/p2p/${net[name].peerId}`;

function common(name) {
  return [
    '--chain',
    'local',
    '--base-path',
    path.join(tmpDir, name),
    '--validator',
    '--wasm-runtime-overrides',
    FAST_DIR,
    '--listen-addr',
    `/ip4/127.0.0.1/tcp/${net[name].p2pPort}`,
    '--no-prometheus',
    '--no-telemetry',
    '--no-mdns',
    '--rpc-cors',
    'all',
  ];
}

describe('a fifth validator joins the local network and is elected', { timeout: SUITE_TIMEOUT_MS, skip: !FAST_DIR && 'DSYNC_FAST_RUNTIME_DIR is not set (tests/e2e/run.sh builds it)' }, () => {
  before(async () => {
    await cryptoWaitReady();
    tmpDir = makeTempDir('dsync-e2e-join-');
    const ports = await getFreePorts(10);
    for (const [i, name] of [...VALIDATORS, 'eve'].entries()) net[name] = { p2pPort: ports[2 * i], rpcPort: ports[2 * i + 1] };
    for (const [i, name] of VALIDATORS.entries()) net[name].peerId = await peerIdFromNodeKey(NODE_KEYS[i]);
    for (const [i, name] of VALIDATORS.entries()) {
      const args = [...common(name), `--${name}`, '--node-key', NODE_KEYS[i], '--bootnodes', ...VALIDATORS.filter((n) => n !== name).map(bootnode)];
      nodes[name] = new NodeProcess({ name, rpcPort: net[name].rpcPort, logDir: tmpDir, args });
    }
    eve = new Keyring({ type: 'sr25519', ss58Format: SS58 }).addFromUri('//Eve');
  });

  after(async () => {
    if (api) await api.disconnect().catch(() => {});
    await Promise.allSettled(all().map((n) => n.stop({ timeoutMs: 30_000 })));
    if (failed()) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('four validators run the fast runtime and finalise', 3 * 60_000, async (t) => {
    for (const name of VALIDATORS) nodes[name].start();
    await Promise.all(VALIDATORS.map((n) => nodes[n].waitForRpc(90_000)));
    for (;;) {
      const fin = await finalizedHead(nodes.alice.httpUrl);
      if (fin.number >= 3) break;
      await sleep(2000);
    }
    api = await connectApi(nodes.alice.wsUrl);
    const sessionLength = api.consts.babe.epochDuration.toNumber();
    assert.equal(sessionLength, 10, 'the fast runtime: one-minute epochs');
    const set = (await api.query.session.validators()).map((v) => v.toString());
    assert.equal(set.length, 4);
    assert.ok(!set.includes(eve.address), 'Eve is not a validator yet');
    t.diagnostic(`validators: ${set.join(', ')}`);
  });

  step("Eve's node: a persisted network key, then it starts as a validator and syncs", 2 * 60_000, async () => {
    // Without a network key a validator refuses to start (the README's first step).
    const keyFile = path.join(tmpDir, 'eve-node-key');
    await runFile(nodeBinaryPath(), ['key', 'generate-node-key', '--file', keyFile]);
    net.eve.peerId = (await runFile(nodeBinaryPath(), ['key', 'inspect-node-key', '--file', keyFile])).stdout.trim();
    nodes.eve = new NodeProcess({
      name: 'eve',
      rpcPort: net.eve.rpcPort,
      logDir: tmpDir,
      args: [...common('eve'), '--node-key-file', keyFile, '--rpc-methods', 'unsafe', '--bootnodes', ...VALIDATORS.map(bootnode)],
    });
    nodes.eve.start();
    await nodes.eve.waitForRpc(90_000);
    for (;;) {
      const [mine, theirs] = await Promise.all([finalizedHead(nodes.eve.httpUrl), finalizedHead(nodes.alice.httpUrl)]);
      if (mine.number >= theirs.number && mine.number >= 3) break;
      await sleep(2000);
    }
  });

  step('Eve rotates keys with their proof, bonds more, validates and sets her keys', 4 * 60_000, async (t) => {
    // The owner is the stash's account id (32 bytes, hex); the proof signs it.
    const generated = await rpc(nodes.eve.httpUrl, 'author_rotateKeysWithOwner', [u8aToHex(eve.publicKey)]);
    state.keys = generated.keys;
    const run = async (what, tx) => {
      const res = await signSendAndWait(api, tx, eve);
      assert.equal(res.dispatchError, undefined, `${what}: ${describeDispatchError(api, res.dispatchError)}`);
    };
    await run('bondExtra', api.tx.staking.bondExtra(90_000_000n * UNIT));
    await run('validate', api.tx.staking.validate({ commission: 0, blocked: false }));
    await run('setKeys', api.tx.session.setKeys(generated.keys, generated.proof));
    const next = await api.query.session.nextKeys(eve.address);
    assert.ok(next.isSome, 'Eve has next session keys');
    const ledger = await api.query.staking.ledger(eve.address);
    t.diagnostic(`Eve bonded ${ledger.unwrap().active.toBigInt() / UNIT} DSYNC`);
  });

  step('the next era elects Eve and she authors blocks', 6 * 60_000, async (t) => {
    const deadline = Date.now() + 5 * 60_000;
    let authored = null;
    while (!authored) {
      assert.ok(Date.now() < deadline, 'Eve was not elected and did not author a block within 5 minutes');
      const set = (await api.query.session.validators()).map((v) => v.toString());
      if (set.includes(eve.address)) {
        state.set = set;
        const hash = await api.rpc.chain.getBlockHash();
        const header = await api.derive.chain.getHeader(hash);
        if (header?.author?.toString() === eve.address) authored = header.number.toNumber();
      }
      await sleep(2000);
    }
    t.diagnostic(`validators now: ${state.set.join(', ')}; Eve authored #${authored}`);
    assert.equal(state.set.length, 4, 'validatorCount stays 4: Eve replaced one');
  });

  step('Eve votes in GRANDPA: with another validator stopped, finality needs her votes', 4 * 60_000, async (t) => {
    const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
    const addressOf = (name) => keyring.addFromUri(`//${name[0].toUpperCase()}${name.slice(1)}`).address;
    const stopped = VALIDATORS.find((name) => state.set.includes(addressOf(name)));
    assert.ok(stopped, 'one of the genesis validators is still in the set');
    await nodes[stopped].stop({ timeoutMs: 30_000 });
    // Give the set change (authorities enacted) and the rounds time, then finality must move.
    const start = (await finalizedHead(nodes.eve.httpUrl)).number;
    const deadline = Date.now() + 3 * 60_000;
    for (;;) {
      const fin = (await finalizedHead(nodes.eve.httpUrl)).number;
      if (fin >= start + 3) {
        t.diagnostic(`${stopped} stopped; finalised #${start} -> #${fin} with Eve among three voters of four`);
        break;
      }
      assert.ok(Date.now() < deadline, `finality stuck at #${fin} with ${stopped} stopped: Eve does not vote`);
      await sleep(2000);
    }
  });
});
