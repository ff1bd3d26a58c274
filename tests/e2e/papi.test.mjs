// polkadot-api (PAPI), the second client library, against one `dsync-node --dev` (base path in the
// suite's temp dir), beside the @polkadot/api suites.
//
// Run: node --test --test-concurrency=1 papi.test.mjs   (or ./run.sh papi)
// Binary: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node
// Runtime Wasm: $DSYNC_RUNTIME_WASM, else the one built beside the binary,
// ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/wbuild/dsync-runtime/dsync_runtime.compact.compressed.wasm
//
// The descriptors are generated while the node starts, from that Wasm, with the `papi` CLI of the
// pinned polkadot-api (`papi add dsync --wasm`, `papi generate`) into the suite's temp dir and
// imported from there (lib/papi.mjs): the runtime changes often, committed descriptors would go
// stale. The suite checks first that the Wasm is the chain's `:code` and that the descriptors are
// identical to the live runtime for everything it uses. PAPI talks to the node over the new
// JSON-RPC spec (chainHead_v1, transaction_v1, chainSpec_v1); the requests it puts on the socket
// are recorded and checked. Results are compared with the same reads through @polkadot/api (at
// the same block), byte for byte after re-encoding PAPI's values with its own codecs. Last, the
// try_state step of every suite (lib/try-runtime.mjs).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CompatibilityLevel, Enum, getTypedCodecs, InvalidTxError, Binary } from 'polkadot-api';
import { withMetadataHash } from 'polkadot-api/signer';
import { Keyring } from '@polkadot/keyring';
import { u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady } from '@polkadot/util-crypto';

import { connectApi, UNIT } from './lib/chain.mjs';
import {
  dumpLogs,
  getFreePorts,
  makeTempDir,
  NodeProcess,
  removeTempDir,
  rpc,
  waitUntil,
  withTimeout,
} from './lib/node.mjs';
import {
  connectPapi,
  describePapiDispatchError,
  generateDescriptors,
  holdBlocks,
  papiJson,
  papiSigner,
  runtimeWasmPath,
  ss58OfBytes,
} from './lib/papi.mjs';
import { sequentialSteps } from './lib/steps.mjs';
import { stepTryState } from './lib/try-runtime.mjs';

const SUITE_TIMEOUT_MS = 8 * 60_000;
const TX_TIMEOUT_MS = 120_000;

// ---- chain facts (fixed by the chain design) -------------------------------------------
const SS58 = 7373;
const DECIMALS = 18;
const SYMBOL = 'DSYNC';
/** 7.654321 DSYNC */
const AMOUNT = 7_654_321n * 10n ** 12n;
/** The development genesis: 10-block Proof-of-Sync epochs, one verifier, 10 DSYNC per epoch. */
const DEV_EPOCH_LENGTH = 10;
/** The digits model of the development genesis (GpuJobs model 0): 64 inputs, 10 outputs. */
const DIGITS_MODEL = fileURLToPath(new URL('../../models/digits/digits-64-128-64-10.aivm', import.meta.url));
/** Its price floor: 0.001 DSYNC per provider and item. */
const DIGITS_PRICE_FLOOR = UNIT / 1000n;

/** The runtime APIs of polkadot-sdk that the runtime implements; every other one is DSYNC's. */
const SDK_APIS = [
  'AccountNonceApi',
  'BabeApi',
  'BlockBuilder',
  'Core',
  'GenesisBuilder',
  'GrandpaApi',
  'Metadata',
  'OffchainWorkerApi',
  'SessionKeys',
  'StakingApi',
  'TaggedTransactionQueue',
  'TransactionPaymentApi',
  'TransactionPaymentCallApi',
];
/** Every DSYNC runtime API with its methods (runtime/src/apis.rs): each is called below. */
const DSYNC_APIS = {
  GpuJobsApi: ['job', 'model'],
  NamingApi: ['name', 'price', 'records', 'resolve', 'reverse'],
  ProbeKeysApi: ['verifier_keys'],
  ProofOfSyncApi: ['epoch', 'node_score', 'usage'],
  StorageApi: ['challenges', 'current_epoch', 'order', 'orders_of_cid', 'owner_of_key', 'provider_work', 'slot'],
  TokenomicsApi: ['totals'],
};

// ---- shared state ------------------------------------------------------------------------
let tmpDir;
let node;
let papi; // { client, sent, destroy }
let typedApi;
let codecs;
let descriptors;
let generated;
let api; // @polkadot/api, for comparison
let alice;
let bob;
let aliceSigner;
let setupFailed = false;

const { step, failed } = sequentialSteps(() => dumpLogs([node]));

/** The requests with `method` PAPI has put on the socket so far. */
const sentCount = (method) => papi.sent.filter((r) => r.method === method).length;
/** chainHead_v1_call requests for runtime function `fn` (e.g. ProofOfSyncApi_node_score). */
const callsSent = (fn) => papi.sent.filter((r) => r.method === 'chainHead_v1_call' && r.params?.[2] === fn).length;

/** SCALE of a PAPI value with PAPI's codec, as hex. */
const encodeHex = (codec, value) => u8aToHex(codec.enc(value));

/**
 * Asserts that PAPI's decoded `value`, re-encoded with its codec, is byte for byte the SCALE
 * value @polkadot/api decoded (`pjs`, a codec) from the same call or storage item.
 */
function assertSameAsPjs(what, codec, value, pjs) {
  const mine = encodeHex(codec, value);
  const theirs = u8aToHex(pjs.toU8a());
  assert.equal(mine, theirs, `${what}: PAPI ${papiJson(value)} vs @polkadot/api ${pjs.toString()}`);
}

/** { free, reserved, nonce } of `address` at `at` (hash, 'best' or 'finalized'), through PAPI. */
async function accountAt(address, at) {
  const info = await typedApi.query.System.Account.getValue(address, { at });
  return { free: info.data.free, reserved: info.data.reserved, nonce: info.nonce };
}

/** Alice's and Bob's accounts at the best block, through PAPI. */
async function snapshotBest() {
  const [best] = await papi.client.getBestBlocks();
  return { hash: best.hash, number: best.number, alice: await accountAt(alice.address, best.hash), bob: await accountAt(bob.address, best.hash) };
}

/**
 * After refused submissions: two more blocks, then Alice's nonce and balances and Bob's balance
 * are those of `start`, and the node's pool holds nothing.
 */
async function assertNothingChanged(start, what) {
  await waitUntil(
    `PAPI's best block >= #${start.number + 2}`,
    async () => (await papi.client.getBestBlocks())[0].number >= start.number + 2,
    { timeoutMs: 60_000, nodes: [node] },
  );
  const now = await snapshotBest();
  assert.deepEqual(now.alice, start.alice, `${what}: Alice's account changed`);
  assert.deepEqual(now.bob, start.bob, `${what}: Bob's account changed`);
  const pending = await rpc(node.httpUrl, 'author_pendingExtrinsics');
  assert.deepEqual(pending, [], `${what}: the transaction pool is not empty`);
}

/** The typed API's compatibility helpers for the live runtime (at the finalized block). */
async function liveCompat() {
  return (await typedApi.getStaticApis()).compat;
}

describe('polkadot-api (PAPI): typed descriptors from the runtime Wasm, the new JSON-RPC spec', { timeout: SUITE_TIMEOUT_MS }, () => {
  before(
    async () => {
      await cryptoWaitReady();
      tmpDir = makeTempDir('dsync-e2e-papi-');
      const [p2pPort, rpcPort] = await getFreePorts(2);
      node = new NodeProcess({
        name: 'papi-dev',
        rpcPort,
        logDir: tmpDir,
        args: [
          '--dev',
          // not --tmp: the last step restarts the node on its state
          '--base-path',
          path.join(tmpDir, 'dev'),
          '--listen-addr',
          `/ip4/127.0.0.1/tcp/${p2pPort}`,
          '--no-prometheus',
          '--no-telemetry',
          '--no-mdns',
          '--rpc-cors',
          'all',
        ],
      });
      try {
        node.start();
        // the descriptors are generated while the node starts
        const wasm = runtimeWasmPath();
        const [gen] = await Promise.all([
          generateDescriptors({ wasm, dir: path.join(tmpDir, 'papi') }),
          node.waitForRpc(180_000),
        ]);
        generated = { ...gen, wasm };
        descriptors = gen.descriptors;
        console.log(
          `[e2e] PAPI descriptors from ${wasm}: papi add --wasm ${gen.addMs} ms, papi generate ${gen.generateMs} ms, import ${gen.importMs} ms`,
        );
        papi = await connectPapi(node.wsUrl);
        typedApi = papi.client.getTypedApi(descriptors);
        codecs = await getTypedCodecs(descriptors);
        api = await connectApi(node.wsUrl);
      } catch (e) {
        setupFailed = true;
        dumpLogs([node]);
        throw e;
      }
      const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
      alice = keyring.addFromUri('//Alice');
      bob = keyring.addFromUri('//Bob');
      aliceSigner = papiSigner(alice);
    },
    { timeout: 5 * 60_000 },
  );

  after(async () => {
    if (papi) papi.destroy();
    if (api) await api.disconnect().catch(() => {});
    if (node) {
      const res = await node.stop();
      if (res.forced) console.error('[e2e] papi-dev node had to be SIGKILLed');
    }
    if (setupFailed || failed()) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('the client follows the chain over the new JSON-RPC spec, with descriptors of the running runtime', 60_000, async (t) => {
    // The node offers the new spec; PAPI's provider routes each group to it when offered.
    const { methods } = await rpc(node.httpUrl, 'rpc_methods');
    for (const m of ['chainHead_v1_follow', 'chainHead_v1_call', 'chainHead_v1_storage', 'chainHead_v1_body', 'transaction_v1_broadcast', 'chainSpec_v1_genesisHash']) {
      assert.ok(methods.includes(m), `the node does not offer ${m}`);
    }
    const chainSpec = await papi.client.getChainSpecData();
    assert.ok(sentCount('chainHead_v1_follow') >= 1, 'PAPI sent no chainHead_v1_follow');
    assert.ok(sentCount('chainSpec_v1_properties') >= 1, 'PAPI sent no chainSpec_v1_properties');
    assert.equal(chainSpec.genesisHash, (await api.rpc.chain.getBlockHash(0)).toHex());
    assert.equal(chainSpec.properties.tokenSymbol, SYMBOL);
    assert.equal(chainSpec.properties.tokenDecimals, DECIMALS);
    assert.equal(chainSpec.properties.ss58Format, SS58);

    // The Wasm the descriptors come from is the chain's runtime (the genesis `:code`)...
    const code = await papi.client.rawQuery(':code');
    const wasmHex = u8aToHex(fs.readFileSync(generated.wasm));
    assert.ok(
      code === wasmHex,
      `the chain's :code (blake2 ${code ? blake2AsHex(code) : 'none'}) is not ${generated.wasm} (blake2 ${blake2AsHex(wasmHex)}): ` +
        'rebuild the node, or point DSYNC_RUNTIME_WASM at the runtime DSYNC_NODE embeds',
    );
    // ... and for everything this suite uses, the descriptors are identical to the live runtime.
    const compat = await liveCompat();
    const identical = (what, helper) =>
      assert.ok(helper.isCompatible(CompatibilityLevel.Identical), `${what}: descriptors not identical to the live runtime`);
    identical('System.Account', compat.query.System.Account);
    identical('Balances.TotalIssuance', compat.query.Balances.TotalIssuance);
    identical('Balances.transfer_keep_alive', compat.tx.Balances.transfer_keep_alive);
    identical('Balances.Transfer', compat.event.Balances.Transfer);
    for (const [apiName, fns] of Object.entries(DSYNC_APIS)) {
      for (const fn of fns) identical(`${apiName}.${fn}`, compat.apis[apiName][fn]);
    }
    t.diagnostic(`chain ${chainSpec.name}, genesis ${chainSpec.genesisHash}, runtime blake2 ${blake2AsHex(code)}`);
  });

  step('typed storage reads: System.Account, Balances.TotalIssuance, Proof of Sync, registry and tokenomics', 60_000, async (t) => {
    const fin = await papi.client.getFinalizedBlock();
    const at = fin.hash;
    const apiAt = await api.at(at);
    const storageSent = sentCount('chainHead_v1_storage');

    const account = await typedApi.query.System.Account.getValue(alice.address, { at });
    assert.equal(typeof account.data.free, 'bigint');
    assert.ok(account.data.free > 0n, `Alice's free balance ${account.data.free}`);
    assertSameAsPjs('System.Account(Alice)', codecs.query.System.Account.value, account, await apiAt.query.system.account(alice.address));

    const issuance = await typedApi.query.Balances.TotalIssuance.getValue({ at });
    assert.ok(issuance >= account.data.free, 'the total issuance covers Alice');
    assert.equal(issuance, (await apiAt.query.balances.totalIssuance()).toBigInt());

    const posParams = await typedApi.query.ProofOfSync.Params.getValue({ at });
    assert.equal(posParams.epoch_length, DEV_EPOCH_LENGTH);
    assert.equal(posParams.verifiers_per_node, 1);
    assert.equal(posParams.epoch_reward, 10n * UNIT);
    assertSameAsPjs('ProofOfSync.Params', codecs.query.ProofOfSync.Params.value, posParams, await apiAt.query.proofOfSync.params());

    const epoch = await typedApi.query.ProofOfSync.Epoch.getValue({ at });
    assertSameAsPjs('ProofOfSync.Epoch', codecs.query.ProofOfSync.Epoch.value, epoch, await apiAt.query.proofOfSync.epoch());

    const registryParams = await typedApi.query.NodeRegistry.Params.getValue({ at });
    assertSameAsPjs('NodeRegistry.Params', codecs.query.NodeRegistry.Params.value, registryParams, await apiAt.query.nodeRegistry.params());

    const feeSplit = await typedApi.query.Tokenomics.FeeSplit.getValue({ at });
    assertSameAsPjs('Tokenomics.FeeSplit', codecs.query.Tokenomics.FeeSplit.value, feeSplit, await apiAt.query.tokenomics.feeSplit());
    const feeTotals = await typedApi.query.Tokenomics.FeeTotals.getValue({ at });
    assertSameAsPjs('Tokenomics.FeeTotals', codecs.query.Tokenomics.FeeTotals.value, feeTotals, await apiAt.query.tokenomics.feeTotals());

    // The same storage keys as @polkadot/api's.
    assert.equal(await typedApi.query.System.Account.getKey(alice.address), apiAt.query.system.account.key(alice.address));
    assert.equal(await typedApi.query.ProofOfSync.Params.getKey(), apiAt.query.proofOfSync.params.key());

    assert.ok(sentCount('chainHead_v1_storage') > storageSent, 'the reads did not go through chainHead_v1_storage');
    t.diagnostic(
      `at #${fin.number}: Alice free ${account.data.free}, issuance ${issuance}, epoch ${papiJson(epoch)}, ` +
        `PoS epoch_length ${posParams.epoch_length}, fee split ${papiJson(feeSplit)}`,
    );
  });

  step('every DSYNC runtime API through the typed `apis`, equal to the runtime\'s answer and to @polkadot/api', 90_000, async (t) => {
    // The metadata's runtime APIs: polkadot-sdk's, and exactly DSYNC_APIS besides.
    const { apis } = await descriptors.descriptors;
    const dsyncApis = Object.fromEntries(
      Object.entries(apis)
        .filter(([name]) => !SDK_APIS.includes(name))
        .map(([name, fns]) => [name, Object.keys(fns).sort()]),
    );
    assert.deepEqual(dsyncApis, DSYNC_APIS, `the runtime's APIs: ${Object.keys(apis).join(', ')}`);

    const fin = await papi.client.getFinalizedBlock();
    const at = fin.hash;
    const apiAt = await api.at(at);
    const calls = [];
    const pjsMisdecoded = [];
    const camel = (s) => s.charAt(0).toLowerCase() + s.slice(1).replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    /**
     * Calls `apiName.fn` through PAPI's typed `apis` with `args`, and checks it against the
     * runtime and @polkadot/api at the same block: the arguments @polkadot/api encodes from
     * `pjsArgs` (with the parameter types of its metadata) are the bytes PAPI encodes from `args`;
     * PAPI's value, re-encoded with its codec, is the runtime's raw answer to `state_call` with
     * those bytes; and so is @polkadot/api's `api.call` value (a mismatch is recorded).
     */
    const call = async (apiName, fn, args, pjsArgs = args) => {
      const name = `${apiName}.${fn}`;
      const value = await typedApi.apis[apiName][fn](...args, { at });
      const pjsCall = apiAt.call[camel(apiName)][camel(fn)];
      const pjsData = u8aToHex(
        u8aConcat(...pjsCall.meta.params.map((p, i) => apiAt.registry.createType(p.type, pjsArgs[i]).toU8a())),
      );
      assert.equal(encodeHex(codecs.apis[apiName][fn].args, args), pjsData, `${name}: PAPI and @polkadot/api encode the arguments alike`);
      const raw = await rpc(node.httpUrl, 'state_call', [`${apiName}_${fn}`, pjsData, at]);
      assert.equal(encodeHex(codecs.apis[apiName][fn].value, value), raw, `${name}: PAPI ${papiJson(value)} is the runtime's answer`);
      const pjs = await pjsCall(...pjsArgs);
      if (u8aToHex(pjs.toU8a()) !== raw) pjsMisdecoded.push(`${name} -> ${pjs.toRawType()} ${u8aToHex(pjs.toU8a())} from ${raw}`);
      calls.push(name);
      return value;
    };
    const callsBefore = sentCount('chainHead_v1_call');

    // TokenomicsApi
    const totals = await call('TokenomicsApi', 'totals', []);
    assert.ok(Array.isArray(totals.services) && totals.services.length > 0, `services ${papiJson(totals.services)}`);
    assert.deepEqual(totals.fee_split, await typedApi.query.Tokenomics.FeeSplit.getValue({ at }), 'totals.fee_split is the FeeSplit storage');
    assert.deepEqual(totals.fees, await typedApi.query.Tokenomics.FeeTotals.getValue({ at }), 'totals.fees is the FeeTotals storage');

    // ProofOfSyncApi
    const epoch = await call('ProofOfSyncApi', 'epoch', []);
    const stored = await typedApi.query.ProofOfSync.Epoch.getValue({ at });
    assert.equal(epoch.index, stored.index);
    assert.equal(epoch.start, stored.start);
    assert.deepEqual(epoch.phase, stored.phase);
    assert.equal(epoch.epoch_length, (await typedApi.query.ProofOfSync.Params.getValue({ at })).epoch_length);
    assert.equal(epoch.epoch_length, DEV_EPOCH_LENGTH);
    await call('ProofOfSyncApi', 'node_score', [alice.address]);
    const nobody = ss58OfBytes(new Uint8Array(32).fill(0x5a), SS58);
    assert.equal(await call('ProofOfSyncApi', 'node_score', [nobody]), undefined, 'an unknown account has no score');
    const usage = await call('ProofOfSyncApi', 'usage', [alice.address]);
    assert.deepEqual(usage, { delivered: 0n, delivered_this_epoch: 0n }, 'nobody delivered anything on a fresh chain');

    // GpuJobsApi: model 0 is the development genesis's digits model.
    const model = await call('GpuJobsApi', 'model', [0]);
    assert.ok(model, 'no model 0');
    assert.equal(model.hash, blake2AsHex(fs.readFileSync(DIGITS_MODEL)), 'model 0 is models/digits/digits-64-128-64-10.aivm');
    assert.equal(model.input_len, 64);
    assert.equal(model.output_len, 10);
    assert.equal(model.units_per_item, 18, 'ceil(17,024 weights / 1000)');
    assert.equal(model.price_floor, DIGITS_PRICE_FLOOR);
    assert.equal(model.active, true);
    assert.equal(await call('GpuJobsApi', 'model', [1]), undefined, 'only one model');
    assert.equal(await call('GpuJobsApi', 'job', [0n]), undefined, 'no job was posted');
    assert.equal(await call('GpuJobsApi', 'job', [2n ** 64n - 1n]), undefined);

    // NamingApi (names as UTF-8 bytes; @polkadot/api takes the strings)
    const text = (s) => Binary.fromText(s);
    const price = await call('NamingApi', 'price', [text('alice'), 1], ['alice', 1]);
    assert.equal(price, 5n * UNIT, 'a 5-letter name costs 5 DSYNC a year on the development chain');
    assert.equal(await call('NamingApi', 'price', [text('admin'), 1], ['admin', 1]), undefined, 'a reserved label has no price');
    assert.equal(await call('NamingApi', 'price', [text('alice'), 0], ['alice', 0]), undefined, 'nor has a registration for 0 years');
    assert.equal(await call('NamingApi', 'records', [text('alice.dsync')], ['alice.dsync']), undefined, 'alice.dsync is not registered');
    await call('NamingApi', 'records', [text('dsync')], ['dsync']);
    assert.deepEqual(await call('NamingApi', 'resolve', [text('alice.dsync'), Enum('A')], ['alice.dsync', 'A']), []);
    assert.deepEqual(
      await call('NamingApi', 'resolve', [text('alice.dsync'), Enum('Text', text('url'))], ['alice.dsync', { Text: 'url' }]),
      [],
    );
    assert.equal(await call('NamingApi', 'reverse', [alice.address]), undefined, 'Alice has no primary name');
    assert.equal(await call('NamingApi', 'name', [text('alice.dsync')], ['alice.dsync']), undefined);

    // StorageApi: no order on a fresh chain; the epoch is the Storage pallet's clock.
    const storageEpoch = await call('StorageApi', 'current_epoch', []);
    assert.equal(storageEpoch, (await typedApi.query.Storage.Clock.getValue({ at })).epoch);
    assert.deepEqual(await call('StorageApi', 'provider_work', [alice.address]), [], 'nobody has storage work on a fresh chain');
    assert.equal(await call('StorageApi', 'challenges', [0n, 0, storageEpoch]), undefined, 'no order 0');
    assert.equal(await call('StorageApi', 'order', [0n]), undefined, 'no order 0');
    assert.equal(await call('StorageApi', 'slot', [0n, 0]), undefined, 'no slot of order 0');
    assert.equal(await call('StorageApi', 'owner_of_key', [alice.address]), undefined, 'no node has a key yet');
    // A fixed-size byte array is a hex string (`SizedHex<32>`) in PAPI 2.
    const someCid = { codec: Enum('Raw'), digest: `0x${'ab'.repeat(32)}` };
    assert.deepEqual(
      await call('StorageApi', 'orders_of_cid', [someCid], [{ codec: 'Raw', digest: `0x${'ab'.repeat(32)}` }]),
      [],
      'no order keeps anything',
    );

    // ProbeKeysApi
    const keys = await call('ProbeKeysApi', 'verifier_keys', []);
    assert.ok(Array.isArray(keys), `verifier_keys ${papiJson(keys)}`);
    for (const key of keys) assert.match(key, /^0x[0-9a-f]{64}$/);

    // Every DSYNC runtime API was called, each through chainHead_v1_call.
    const called = new Set(calls);
    for (const [apiName, fns] of Object.entries(DSYNC_APIS)) {
      for (const fn of fns) assert.ok(called.has(`${apiName}.${fn}`), `${apiName}.${fn} was not called`);
    }
    assert.ok(sentCount('chainHead_v1_call') - callsBefore >= calls.length, 'the calls did not go through chainHead_v1_call');

    // @polkadot/api 16.5 decodes a `None` of an `Option<Bytes>` runtime-API result as
    // `Some(0x00)` (NamingApi.reverse of an account without a name: raw 0x00, isSome true); PAPI
    // decodes it as the runtime meant. Every other result is the same in both libraries.
    for (const m of pjsMisdecoded) t.diagnostic(`@polkadot/api misdecodes ${m}`);
    assert.ok(
      pjsMisdecoded.every((m) => m.startsWith('NamingApi.reverse -> Option<Bytes> 0x010400 from 0x00')),
      `@polkadot/api and the runtime disagree: ${pjsMisdecoded.join('; ')}`,
    );
    t.diagnostic(
      `${calls.length} calls at #${fin.number}: model 0 ${papiJson(model)}, price(alice, 1) ${price}, ` +
        `epoch ${papiJson(epoch)}, verifier keys ${keys.length}, total burned ${totals.total_burned}`,
    );
  });

  step('a transfer Alice -> Bob, signed by PAPI and submitted with transaction_v1_broadcast', 3 * 60_000, async (t) => {
    const broadcasts = sentCount('transaction_v1_broadcast');
    const hold = holdBlocks(papi.client);
    try {
      const tx = typedApi.tx.Balances.transfer_keep_alive({ dest: Enum('Id', bob.address), value: AMOUNT });
      const res = await withTimeout(tx.signAndSubmit(aliceSigner), TX_TIMEOUT_MS, 'the transfer to be finalized');
      assert.equal(res.ok, true, `dispatch failed: ${describePapiDispatchError(res.dispatchError)}`);
      assert.equal(sentCount('transaction_v1_broadcast'), broadcasts + 1, 'one transaction_v1_broadcast');
      assert.deepEqual(
        papi.sent.filter((r) => /^author_/.test(r.method)).map((r) => r.method),
        [],
        'no legacy author_* submission',
      );

      const transfers = typedApi.event.Balances.Transfer.filter(res.events).map((e) => e.payload);
      assert.deepEqual(transfers, [{ from: alice.address, to: bob.address, amount: AMOUNT }]);
      const failedEvents = res.events.filter((e) => e.type === 'System' && e.value.type === 'ExtrinsicFailed');
      assert.deepEqual(failedEvents, []);

      // Bob's free balance rose by exactly the amount from the parent block to the inclusion block.
      const included = res.block.hash;
      const parent = hold.parentOf(included) ?? (await papi.client.getBlockHeader(included)).parentHash;
      assert.equal((await papi.client.getBlockHeader(included)).parentHash, parent);
      const bobBefore = await accountAt(bob.address, parent);
      const bobAfter = await accountAt(bob.address, included);
      assert.equal(bobAfter.free - bobBefore.free, AMOUNT, "Bob's free balance rose by exactly the amount");
      const aliceBefore = await accountAt(alice.address, parent);
      const aliceAfter = await accountAt(alice.address, included);
      assert.equal(aliceAfter.nonce, aliceBefore.nonce + 1, "the transfer used Alice's nonce");
      assert.ok(aliceBefore.free - aliceAfter.free >= AMOUNT, 'Alice paid the amount');

      // @polkadot/api sees the same transfer in that block.
      const events = await (await api.at(included)).query.system.events();
      const seen = events.filter(({ event }) => api.events.balances.Transfer.is(event));
      assert.deepEqual(
        seen.map(({ event }) => [event.data.from.toString(), event.data.to.toString(), event.data.amount.toBigInt()]),
        [[alice.address, bob.address, AMOUNT]],
      );
      t.diagnostic(`included in #${res.block.number} ${included} (index ${res.block.index}); Bob ${bobBefore.free} -> ${bobAfter.free}`);
    } finally {
      hold.release();
    }
  });

  // CheckMetadataHash (RFC-78, transaction version 2): PAPI's plain signer signs in mode 0 (the
  // transfer above, whichever runtime); its `withMetadataHash` signer computes the hash of the
  // metadata it holds and signs in mode 1, which the runtime accepts only with the same hash.
  step('CheckMetadataHash: a transfer signed by withMetadataHash (mode 1) is included', 3 * 60_000, async (t) => {
    if (!api.registry.signedExtensions.includes('CheckMetadataHash')) {
      t.skip(`the runtime has no CheckMetadataHash extension (${api.registry.signedExtensions.join(', ')})`);
      return;
    }
    const signer = withMetadataHash({ decimals: DECIMALS, tokenSymbol: SYMBOL }, aliceSigner);
    const tx = typedApi.tx.Balances.transfer_keep_alive({ dest: Enum('Id', bob.address), value: AMOUNT });
    const res = await withTimeout(tx.signAndSubmit(signer), TX_TIMEOUT_MS, 'the mode-1 transfer to be finalized');
    assert.equal(res.ok, true, `dispatch failed: ${describePapiDispatchError(res.dispatchError)}`);
    const block = await api.rpc.chain.getBlock(res.block.hash);
    const xt = block.block.extrinsics[res.block.index];
    assert.equal(xt.hash.toHex(), res.txHash, 'the extrinsic at the reported index');
    assert.equal(xt.mode.toNumber(), 1, 'signed with the metadata hash (mode 1)');
    t.diagnostic(`mode-1 transfer included in #${res.block.number}`);
  });

  step('bad input: an overdraft fails to dispatch, a tip beyond the balance and a stale nonce are refused before broadcast', 3 * 60_000, async (t) => {
    // (1) More than Alice has: valid (the fee is payable), included, and the dispatch fails.
    const start = await snapshotBest();
    const tooMuch = start.alice.free + UNIT;
    const hold = holdBlocks(papi.client);
    try {
      const tx = typedApi.tx.Balances.transfer_keep_alive({ dest: Enum('Id', bob.address), value: tooMuch });
      let res;
      try {
        res = await withTimeout(tx.signAndSubmit(aliceSigner), TX_TIMEOUT_MS, 'the overdraft to be finalized');
      } catch (e) {
        // A runtime that refuses it up front: an InvalidTxError, and nothing may change.
        assert.ok(e instanceof InvalidTxError, `unexpected error: ${e?.stack ?? e}`);
        t.diagnostic(`overdraft refused before broadcast: ${papiJson(e.error)}`);
        await assertNothingChanged(start, 'refused overdraft');
        res = null;
      }
      if (res) {
        const error = describePapiDispatchError(res.dispatchError);
        t.diagnostic(`overdraft included in #${res.block.number}: ok ${res.ok}, dispatch error ${papiJson(res.dispatchError)}`);
        assert.equal(res.ok, false, 'the overdraft must not succeed');
        assert.ok(
          ['Token.FundsUnavailable', 'Balances.FundsUnavailable', 'Balances.InsufficientBalance'].includes(error),
          `dispatch error ${error}`,
        );
        assert.deepEqual(typedApi.event.Balances.Transfer.filter(res.events), [], 'no Transfer event');
        const [failedEvent] = typedApi.event.System.ExtrinsicFailed.filter(res.events);
        assert.ok(failedEvent, 'a System.ExtrinsicFailed event');
        assert.deepEqual(failedEvent.payload.dispatch_error, res.dispatchError);

        // Nothing moved: Bob unchanged; Alice lost what her fee events say (the fee, less her share
        // as the block's author) and used her nonce.
        const included = res.block.hash;
        const parent = hold.parentOf(included) ?? (await papi.client.getBlockHeader(included)).parentHash;
        const [bobBefore, bobAfter, aliceBefore, aliceAfter] = await Promise.all([
          accountAt(bob.address, parent),
          accountAt(bob.address, included),
          accountAt(alice.address, parent),
          accountAt(alice.address, included),
        ]);
        assert.equal(bobAfter.free, bobBefore.free, "Bob's balance must not change");
        const [feePaid] = typedApi.event.TransactionPayment.TransactionFeePaid.filter(res.events).map((e) => e.payload);
        assert.ok(feePaid && feePaid.who === alice.address && feePaid.actual_fee > 0n, `fee event ${papiJson(feePaid)}`);
        const sum = (event) =>
          event.filter(res.events).reduce((acc, { payload }) => acc + (payload.who === alice.address ? payload.amount : 0n), 0n);
        const lost = sum(typedApi.event.Balances.Withdraw) - sum(typedApi.event.Balances.Deposit);
        assert.ok(lost > 0n && lost <= feePaid.actual_fee, `Alice's net fee ${lost} of ${feePaid.actual_fee}`);
        assert.equal(aliceBefore.free - aliceAfter.free, lost, 'Alice lost the fee and nothing else');
        assert.equal(aliceAfter.nonce, aliceBefore.nonce + 1, 'an included transaction uses the nonce');
      }
    } finally {
      hold.release();
    }

    // (2) A tip beyond Alice's balance, (3) a nonce already used: PAPI validates the transaction
    // at the best blocks (TaggedTransactionQueue_validate_transaction) and refuses it with an
    // InvalidTxError whose `error` is the TransactionValidityError; nothing is broadcast.
    const before = await snapshotBest();
    const broadcasts = sentCount('transaction_v1_broadcast');
    const refusals = [
      ['a tip beyond her balance', { tip: before.alice.free + UNIT }, 'Payment'],
      ['a stale nonce', { nonce: before.alice.nonce - 1 }, 'Stale'],
    ];
    assert.ok(before.alice.nonce >= 1, 'Alice has used a nonce');
    for (const [what, options, reason] of refusals) {
      const tx = typedApi.tx.Balances.transfer_keep_alive({ dest: Enum('Id', bob.address), value: AMOUNT });
      await assert.rejects(withTimeout(tx.signAndSubmit(aliceSigner, options), TX_TIMEOUT_MS, what), (e) => {
        t.diagnostic(`${what}: ${e.name} ${papiJson(e.error)}`);
        assert.ok(e instanceof InvalidTxError, `${what}: ${e?.stack ?? e}`);
        assert.equal(e.error?.type, 'Invalid', what);
        assert.equal(e.error?.value?.type, reason, what);
        assert.match(e.message, new RegExp(reason));
        return true;
      });
    }
    assert.equal(sentCount('transaction_v1_broadcast'), broadcasts, 'a refused transaction was broadcast');
    await assertNothingChanged(before, 'refused transactions');
  });

  step('bad input: a malformed account is refused client side, nothing is sent', 60_000, async () => {
    // A well-formed SS58 string (prefix 7373, valid checksum) of 20 bytes: not an AccountId32.
    assert.equal(ss58OfBytes(alice.publicKey, SS58), alice.address, 'the SS58 helper agrees with @polkadot/keyring');
    const short = ss58OfBytes(alice.publicKey.subarray(0, 20), SS58);
    const badChecksum = `${alice.address.slice(0, -1)}${alice.address.endsWith('A') ? 'B' : 'A'}`;
    const scoreCalls = callsSent('ProofOfSyncApi_node_score');
    const usageCalls = callsSent('ProofOfSyncApi_usage');
    const broadcasts = sentCount('transaction_v1_broadcast');

    await assert.rejects(typedApi.apis.ProofOfSyncApi.node_score(short), /Invalid public key length/);
    await assert.rejects(typedApi.apis.ProofOfSyncApi.usage(badChecksum), /Invalid checksum/);
    await assert.rejects(typedApi.query.System.Account.getValue(short), /Invalid public key length/);
    const tx = typedApi.tx.Balances.transfer_keep_alive({ dest: Enum('Id', short), value: AMOUNT });
    await assert.rejects(tx.signAndSubmit(aliceSigner), /Invalid public key length/);

    // The API still answers well-formed calls, and none of the refused ones reached the node.
    assert.ok(await typedApi.apis.ProofOfSyncApi.usage(alice.address));
    assert.equal(callsSent('ProofOfSyncApi_node_score'), scoreCalls, 'node_score with a 20-byte account was sent');
    assert.equal(callsSent('ProofOfSyncApi_usage'), usageCalls + 1, 'only the well-formed usage call was sent');
    assert.equal(sentCount('transaction_v1_broadcast'), broadcasts, 'a transfer to a 20-byte account was broadcast');
  });

  step('the client used only the new JSON-RPC spec', 30_000, async (t) => {
    const methods = [...new Set(papi.sent.map((r) => r.method))].sort();
    t.diagnostic(`PAPI sent ${papi.sent.length} requests: ${methods.join(', ')}`);
    const legacy = methods.filter((m) => !/^(chainHead_v1_|transaction_v1_|chainSpec_v1_)/.test(m) && m !== 'rpc_methods');
    assert.deepEqual(legacy, [], 'legacy JSON-RPC methods');
    // Clean shutdown of the client (the node keeps running for the last step).
    papi.destroy();
  });

  stepTryState(step, () => node, { getApis: () => [api, { disconnect: async () => papi?.destroy() }] });
});
