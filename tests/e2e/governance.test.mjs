// End-to-end test of governance on a 4-validator local network without sudo: a runtime upgrade
// proposed by preimage + referendum on the root track, voted by the validators' accounts with
// @polkadot/api, is enacted; spec_version rises and the chain keeps producing and finalising.
//
// Run: node --test --test-concurrency=1 governance.test.mjs   (or ./run.sh governance)
// Binary: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node
// Upgrade blob: $DSYNC_UPGRADE_WASM (run.sh builds it with scripts/build-upgrade-runtime.sh): the
// same runtime with spec_version one higher.
//
// The chain is `--chain local` (no sudo key) with one change to its genesis: the development
// preset's fast governance timing (decision period 20 blocks, confirm 2, enactment 1), so the
// referendum is decided in about a minute instead of two weeks.
//
// The upgrade follows the path Polkadot uses: the referendum enacts
// `system.authorizeUpgrade(hash)` (a small call), then anyone submits the code itself with
// `system.applyAuthorizedUpgrade(code)` (free when it matches).
//
// Last, Dave is restarted on his base path with the try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR,
// which must hold the try-runtime build of the upgraded runtime too: run.sh builds it with
// `scripts/build-try-runtime.sh --upgrade-test`): his last finalized block, on the new runtime,
// is re-executed and every pallet's try_state runs on the final state (lib/try-runtime.mjs).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';

import { Keyring } from '@polkadot/keyring';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';

import { connectApi, describeDispatchError, findEvent, signSendAndWait, UNIT } from './lib/chain.mjs';
import { sequentialSteps } from './lib/steps.mjs';
import { stepTryState } from './lib/try-runtime.mjs';
import {
  blockHashAt,
  dumpLogs,
  finalizedHead,
  getFreePorts,
  makeTempDir,
  NodeProcess,
  peerIdFromNodeKey,
  removeTempDir,
  requireNodeBinary,
  rpc,
  waitForFinalizedAbove,
  waitUntil,
} from './lib/node.mjs';

const SUITE_TIMEOUT_MS = 10 * 60_000;
const VALIDATORS = ['alice', 'bob', 'charlie', 'dave'];
const NODE_KEYS = VALIDATORS.map((_, i) => (0x11 + i).toString(16).padStart(64, '0'));
/** What each validator's account votes with (of its 99,000,000 DSYNC). */
const VOTE_BALANCE = 98_000_000n * UNIT;
/** The well-known storage key of the runtime code. */
const CODE_KEY = new TextEncoder().encode(':code');

function upgradeWasmPath() {
  if (process.env.DSYNC_UPGRADE_WASM) return process.env.DSYNC_UPGRADE_WASM;
  const target = process.env.CARGO_TARGET_DIR || path.join(process.env.HOME, '.cache', 'dsync-target');
  return path.join(
    target,
    'release/wbuild/dsync-runtime-upgrade-test/dsync_runtime_upgrade_test.compressed.wasm',
  );
}

let tmpDir;
let specPath;
const nodes = {};
const net = {};
let api;
let signers;
const state = {};

const all = () => VALIDATORS.map((n) => nodes[n]).filter(Boolean);

/** Sequential steps: skipped once one failed; a failing step dumps all logs. */
const { step, failed } = sequentialSteps(() => dumpLogs(all()));

function argsFor(name) {
  return [
    '--chain',
    specPath,
    '--base-path',
    path.join(tmpDir, name),
    `--${name}`,
    '--validator',
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
    ...VALIDATORS.filter((n) => n !== name).map(
      (n) => `/ip4/127.0.0.1/tcp/${net[n].p2pPort}/p2p/${net[n].peerId}`,
    ),
  ];
}

/** Sends `tx` from `signer`, waits for finality and requires success. */
async function submit(tx, signer, what) {
  const res = await signSendAndWait(api, tx, signer, { timeoutMs: 120_000 });
  assert.equal(res.dispatchError, undefined, `${what} failed: ${describeDispatchError(api, res.dispatchError)}`);
  return res;
}

const specVersionOf = async (node, at) =>
  (await rpc(node.httpUrl, 'state_getRuntimeVersion', at ? [at] : [])).specVersion;

describe('governance: runtime upgrade by referendum on a local network without sudo', { timeout: SUITE_TIMEOUT_MS }, () => {
  before(async () => {
    tmpDir = makeTempDir('dsync-e2e-governance-');
    // The `local` chain spec, with the fast governance timing as its only change. Edited as
    // text: balances are u128 numbers that a JSON round trip through JS numbers would corrupt.
    const text = execFileSync(
      requireNodeBinary(),
      ['build-spec', '--chain', 'local', '--disable-default-bootnode'],
      { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    const patch = JSON.parse(text).genesis?.runtimeGenesis?.patch;
    assert.ok(patch, 'the local chain spec carries its preset as a genesis patch');
    assert.equal(patch.sudo?.key ?? null, null, `local_testnet must have no sudo key: ${JSON.stringify(patch.sudo)}`);
    assert.equal(patch.origins?.timing, 'Standard', 'local_testnet has the standard governance timing');
    const timing = /("origins"\s*:\s*\{\s*"timing"\s*:\s*)"Standard"/;
    assert.match(text, timing);
    specPath = path.join(tmpDir, 'local-fast-governance.json');
    fs.writeFileSync(specPath, text.replace(timing, '$1"Fast"'));

    const ports = await getFreePorts(VALIDATORS.length * 2);
    for (const [i, name] of VALIDATORS.entries()) {
      net[name] = { p2pPort: ports[2 * i], peerId: await peerIdFromNodeKey(NODE_KEYS[i]) };
    }
    for (const [i, name] of VALIDATORS.entries()) {
      nodes[name] = new NodeProcess({ name, rpcPort: ports[2 * i + 1], logDir: tmpDir, args: argsFor(name) });
    }
    const keyring = new Keyring({ type: 'sr25519' });
    signers = Object.fromEntries(
      [...VALIDATORS, 'eve'].map((n) => [n, keyring.addFromUri(`//${n[0].toUpperCase()}${n.slice(1)}`)]),
    );
  });

  after(async () => {
    if (api) await api.disconnect().catch(() => {});
    const results = await Promise.allSettled(all().map((n) => n.stop({ timeoutMs: 30_000 })));
    for (const r of results) if (r.status === 'rejected') console.error('[e2e] stop failed:', r.reason);
    if (failed() || process.env.DSYNC_E2E_KEEP) console.error(`[e2e] logs and base paths kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('four validators start and finalise blocks; the chain has no sudo key', 240_000, async (t) => {
    const wasm = upgradeWasmPath();
    assert.ok(fs.existsSync(wasm), `upgrade blob missing: ${wasm} (run scripts/build-upgrade-runtime.sh)`);
    for (const n of all()) n.start();
    await Promise.all(all().map((n) => n.waitForRpc(90_000)));
    await Promise.all(all().map((n) => waitForFinalizedAbove(n, 1, 150_000)));
    api = await connectApi(nodes.alice.wsUrl);
    assert.ok((await api.query.sudo.key()).isNone, 'no sudo key on this chain');
    state.specVersion = api.runtimeVersion.specVersion.toNumber();
    t.diagnostic(`spec_version ${state.specVersion}`);
  });

  step('a root referendum authorising the new code is submitted by preimage', 180_000, async (t) => {
    const code = fs.readFileSync(upgradeWasmPath());
    state.code = code;
    state.codeHash = blake2AsHex(code, 256);
    const proposal = api.tx.system.authorizeUpgrade(state.codeHash);
    const index = (await api.query.referenda.referendumCount()).toNumber();
    state.index = index;
    // As Polkadot.js apps does it: note the preimage, submit on the root track, place the
    // decision deposit (here in one batch).
    const res = await submit(
      api.tx.utility.batchAll([
        api.tx.preimage.notePreimage(proposal.method.toHex()),
        api.tx.referenda.submit(
          { system: 'Root' },
          { Lookup: { hash: proposal.method.hash, len: proposal.method.encodedLength } },
          { After: 0 },
        ),
        api.tx.referenda.placeDecisionDeposit(index),
      ]),
      signers.alice,
      'preimage + submit + decision deposit',
    );
    const submitted = findEvent(res.events, api.events.referenda.Submitted);
    assert.ok(submitted, 'Referenda.Submitted');
    assert.equal(submitted.event.data.index.toNumber(), index);
    assert.equal(submitted.event.data.track.toNumber(), 0, 'root track');
    assert.ok(findEvent(res.events, api.events.referenda.DecisionDepositPlaced), 'decision deposit placed');
    t.diagnostic(`referendum #${index} for code ${state.codeHash} (${code.length} bytes)`);
  });

  step("the validators' accounts vote aye and the referendum passes", 300_000, async (t) => {
    const vote = { Standard: { vote: { aye: true, conviction: 'None' }, balance: VOTE_BALANCE } };
    await Promise.all(
      VALIDATORS.map((n) => submit(api.tx.convictionVoting.vote(state.index, vote), signers[n], `${n}'s vote`)),
    );
    const tally = (await api.query.referenda.referendumInfoFor(state.index)).unwrap().asOngoing.tally;
    assert.equal(tally.support.toBigInt(), 4n * VOTE_BALANCE, 'all four votes counted');
    await waitUntil(
      'the referendum to be approved and the upgrade authorised',
      async () => {
        const info = await api.query.referenda.referendumInfoFor(state.index);
        const authorized = await api.query.system.authorizedUpgrade();
        return info.unwrap().isApproved && authorized.isSome ? authorized : null;
      },
      { timeoutMs: 240_000, intervalMs: 3000, nodes: all() },
    );
    const authorized = (await api.query.system.authorizedUpgrade()).unwrap();
    assert.equal(authorized.codeHash.toHex(), state.codeHash);
    t.diagnostic('approved; upgrade authorised');
  });

  step('anyone applies the authorised code: spec_version rises on every validator', 240_000, async (t) => {
    const res = await submit(
      api.tx.system.applyAuthorizedUpgrade(u8aToHex(state.code)),
      signers.eve,
      'applyAuthorizedUpgrade',
    );
    // What the block that carries the upgrade stored, read as raw state (decoding that block's
    // events races @polkadot/api's metadata switch at an upgrade): the authorisation is used up
    // and `:code` is exactly the authorised blob.
    const at = res.blockHash;
    const authorized = await rpc(nodes.alice.httpUrl, 'state_getStorage', [
      api.query.system.authorizedUpgrade.key(),
      at,
    ]);
    assert.equal(authorized, null, 'the authorisation is used up');
    const codeHash = await rpc(nodes.alice.httpUrl, 'state_getStorageHash', [u8aToHex(CODE_KEY), at]);
    assert.equal(codeHash, state.codeHash, ':code is the authorised blob');
    state.upgradedIn = (await api.rpc.chain.getHeader(res.blockHash)).number.toNumber();
    await Promise.all(
      all().map((n) =>
        waitUntil(`${n.name} on spec_version ${state.specVersion + 1}`, async () =>
          (await specVersionOf(n)) === state.specVersion + 1, { timeoutMs: 60_000, nodes: [n] }),
      ),
    );
    t.diagnostic(`code updated in #${state.upgradedIn}`);
  });

  step('blocks are still produced and finalised under the new runtime', 180_000, async (t) => {
    const heads = await Promise.all(all().map((n) => waitForFinalizedAbove(n, state.upgradedIn + 3, 150_000)));
    const common = Math.min(...heads.map((h) => h.number));
    const hashes = await Promise.all(all().map((n) => blockHashAt(n.httpUrl, common)));
    for (const h of hashes) assert.equal(h, hashes[0], `validators disagree on finalised #${common}`);
    assert.equal(await specVersionOf(nodes.alice, hashes[0]), state.specVersion + 1);
    const fin = await finalizedHead(nodes.alice.httpUrl);
    t.diagnostic(`finalised #${fin.number} on spec_version ${state.specVersion + 1}`);
  });

  // Dave, not Alice: `api` is connected to Alice.
  stepTryState(step, () => nodes.dave);
});
