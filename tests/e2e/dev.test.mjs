// End-to-end tests against a single `dsync-node --dev` (base path in the suite's temp dir).
//
// Run: node --test --test-concurrency=1 dev.test.mjs   (or ./run.sh dev)
// Binary: $DSYNC_NODE, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync-node
//
// The tests run in order and share one node. Every chain fact checked here comes from the
// chain's specification (symbol DSYNC, 18 decimals, ss58 7373, ED 10^15, pallet list). Last, the
// node is restarted on its base path with the try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR) and every
// pallet's try_state runs on the final state (lib/try-runtime.mjs).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { merkleizeMetadata } from '@polkadot-api/merkleize-metadata';
import { Keyring } from '@polkadot/keyring';
import { compactAddLength, compactFromU8a, hexToU8a, u8aEq, u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, decodeAddress } from '@polkadot/util-crypto';

import {
  accountAt,
  authorFeeCredit,
  connectApi,
  describeDispatchError,
  feePaid,
  filterEvents,
  findEvent,
  parentOf,
  signSendAndWait,
  UNIT,
  waitForHeader,
} from './lib/chain.mjs';
import {
  dumpLogs,
  getFreePorts,
  makeTempDir,
  nodeBinaryPath,
  NodeProcess,
  removeTempDir,
  rpc,
  rpcRaw,
  waitForBestAbove,
} from './lib/node.mjs';
import { checkTryState, stepTryState, tryRuntimeOverrides, TRY_STATE_STEP_TIMEOUT_MS } from './lib/try-runtime.mjs';

const runFile = promisify(execFile);

// ---- chain facts (fixed by the chain design) -------------------------------------------
const SS58 = 7373;
const DECIMALS = 18;
const SYMBOL = 'DSYNC';
const EXISTENTIAL_DEPOSIT = 10n ** 15n; // 0.001 DSYNC
const PALLETS = [
  'System',
  'Timestamp',
  'Babe',
  'Grandpa',
  'Authorship',
  'Balances',
  'TransactionPayment',
  'Session',
  'Historical',
  'Staking',
  'Offences',
  'VoterList',
  'Utility',
  'Multisig',
  'Proxy',
  'Sudo',
  'Assets',
  'PoolAssets',
  'AssetConversion',
  'Tokenomics',
  'NodeRegistry',
  'ProofOfSync',
  'GpuJobs',
  'Naming',
  'Scheduler',
  'Preimage',
  'Treasury',
  'ConvictionVoting',
  'Referenda',
  'Origins',
];

/** 12.345 DSYNC */
const AMOUNT = (12_345n * UNIT) / 1000n;

// ---- shared state ------------------------------------------------------------------------
let tmpDir;
let node;
let api;
let alice;
let bob;
let charlie;
let anyFailed = false;

/** `it` that prints the node log tail when the test body throws. */
function step(name, timeoutMs, fn) {
  it(name, { timeout: timeoutMs }, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      anyFailed = true;
      dumpLogs([node]);
      throw e;
    }
  });
}

/** Free balance + nonce of Alice and Bob at a block. */
async function snapshot(blockHash) {
  const [a, b] = await Promise.all([
    accountAt(api, blockHash, alice.address),
    accountAt(api, blockHash, bob.address),
  ]);
  return { alice: a, bob: b };
}

/** Snapshot at the current best block. */
async function snapshotBest() {
  const hash = (await api.rpc.chain.getBlockHash()).toHex();
  return { hash, ...(await snapshot(hash)) };
}

/**
 * After a refused submission: let at least two more blocks be built, then assert that
 * nothing changed for Alice and Bob (free balances, Alice's nonce), and that the pool holds
 * nothing from us.
 */
async function assertNothingChanged(before, what) {
  const bestNow = (await api.rpc.chain.getHeader()).number.toNumber();
  await waitForBestAbove(node, bestNow + 1, 60_000);
  const afterSnap = await snapshotBest();
  assert.equal(afterSnap.alice.free, before.alice.free, `${what}: Alice's free balance changed`);
  assert.equal(afterSnap.bob.free, before.bob.free, `${what}: Bob's free balance changed`);
  assert.equal(afterSnap.alice.nonce, before.alice.nonce, `${what}: Alice's nonce changed`);
  const nextIndex = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
  assert.equal(nextIndex, before.alice.nonce, `${what}: the pool holds a transaction from Alice`);
  const pending = await api.rpc.author.pendingExtrinsics();
  assert.equal(pending.length, 0, `${what}: the transaction pool is not empty`);
}

describe('dsync-node --dev', { timeout: 12 * 60_000 }, () => {
  before(
    async () => {
      await cryptoWaitReady();
      tmpDir = makeTempDir('dsync-e2e-dev-');
      const [p2pPort, rpcPort] = await getFreePorts(2);
      node = new NodeProcess({
        name: 'dev',
        rpcPort,
        logDir: tmpDir,
        args: [
          '--dev',
          // not --tmp: the last step restarts the node on its state
          '--base-path',
          path.join(tmpDir, 'dev'),
          // p2p only on loopback (instead of --port, which binds 0.0.0.0 and conflicts with this)
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
        await node.waitForRpc(180_000);
        api = await connectApi(node.wsUrl);
      } catch (e) {
        anyFailed = true;
        dumpLogs([node]);
        throw e;
      }
      const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58 });
      alice = keyring.addFromUri('//Alice');
      bob = keyring.addFromUri('//Bob');
      charlie = keyring.addFromUri('//Charlie');
    },
    { timeout: 5 * 60_000 },
  );

  after(async () => {
    if (api) await api.disconnect().catch(() => {});
    if (node) {
      const res = await node.stop();
      if (res.forced) console.error('[e2e] dev node had to be SIGKILLed');
    }
    if (anyFailed) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('produces blocks and finalizes them', 3 * 60_000, async (t) => {
    const best0 = (await api.rpc.chain.getHeader()).number.toNumber();
    const best = await waitForHeader(
      (cb) => api.rpc.chain.subscribeNewHeads(cb),
      (h) => h.number.toNumber() >= best0 + 2,
      90_000,
      `best block >= ${best0 + 2}`,
    );
    t.diagnostic(`best block rose from ${best0} to ${best.number.toNumber()}`);

    const fin0Hash = await api.rpc.chain.getFinalizedHead();
    const fin0 = (await api.rpc.chain.getHeader(fin0Hash)).number.toNumber();
    const fin = await waitForHeader(
      (cb) => api.rpc.chain.subscribeFinalizedHeads(cb),
      (h) => h.number.toNumber() >= fin0 + 2,
      120_000,
      `finalized block >= ${fin0 + 2}`,
    );
    const finNumber = fin.number.toNumber();
    t.diagnostic(`finalized head rose from ${fin0} to ${finNumber}`);
    assert.ok(finNumber > fin0);
    // The finalized block is on the canonical chain and not ahead of the best block.
    assert.equal((await api.rpc.chain.getBlockHash(finNumber)).toHex(), fin.hash.toHex());
    assert.ok((await api.rpc.chain.getHeader()).number.toNumber() >= finNumber);
  });

  step('chain properties: DSYNC, 18 decimals, ss58 7373', 60_000, async () => {
    // Raw JSON from the node (chain spec properties), not interpreted by @polkadot/api.
    const props = await rpc(node.httpUrl, 'system_properties');
    assert.equal(props.tokenSymbol, SYMBOL, `tokenSymbol in ${JSON.stringify(props)}`);
    assert.equal(props.tokenDecimals, DECIMALS, `tokenDecimals in ${JSON.stringify(props)}`);
    assert.equal(props.ss58Format, SS58, `ss58Format in ${JSON.stringify(props)}`);

    // The same as seen through @polkadot/api, and the runtime constants.
    assert.equal(api.registry.chainSS58, SS58);
    assert.deepEqual(api.registry.chainDecimals, [DECIMALS]);
    assert.deepEqual(api.registry.chainTokens, [SYMBOL]);
    assert.equal(api.consts.system.ss58Prefix.toNumber(), SS58);
    assert.equal(api.consts.balances.existentialDeposit.toBigInt(), EXISTENTIAL_DEPOSIT);
  });

  step('runtime metadata contains every pallet', 60_000, async () => {
    const names = api.runtimeMetadata.asLatest.pallets.map((p) => p.name.toString());
    const missing = PALLETS.filter((p) => !names.includes(p));
    assert.deepEqual(missing, [], `pallets missing from metadata (present: ${names.join(', ')})`);
    // VoterList is pallet-bags-list: its storage has the bag list items.
    assert.equal(typeof api.query.voterList.listBags, 'function', 'VoterList has no ListBags storage');
    assert.equal(typeof api.query.voterList.listNodes, 'function', 'VoterList has no ListNodes storage');
  });

  step('the referendum tracks read as Polkadot.js apps reads them (development timing)', 60_000, async () => {
    // The apps' Governance pages decode this constant; its periods come from the genesis
    // timing (fast on --dev), read in the runtime when the metadata is built.
    const tracks = api.consts.referenda.tracks.map(([id, info]) => ({
      id: id.toNumber(),
      name: info.name.toString().replace(/\0+$/, ''),
      decision: info.decisionPeriod.toNumber(),
    }));
    assert.deepEqual(
      tracks.map((t) => `${t.id}:${t.name}`),
      [
        '0:root',
        '10:parameter_admin',
        '11:network_admin',
        '20:referendum_canceller',
        '21:referendum_killer',
        '30:small_spender',
        '31:medium_spender',
        '32:big_spender',
      ],
    );
    assert.ok(tracks.every((t) => t.decision === 20), `fast decision periods: ${JSON.stringify(tracks)}`);
    assert.equal((await api.query.sudo.key()).unwrap().toString(), alice.address, 'Alice is sudo on --dev');
  });

  step('transfer Alice -> Bob moves exactly the amount and charges exactly the fee', 3 * 60_000, async (t) => {
    const tx = api.tx.balances.transferKeepAlive(bob.address, AMOUNT);
    const res = await signSendAndWait(api, tx, alice, { options: { tip: 0 } });
    t.diagnostic(`included in ${res.inBlockHash}, finalized ${res.blockHash}`);

    assert.equal(res.dispatchError, undefined, `dispatch failed: ${describeDispatchError(api, res.dispatchError)}`);
    assert.ok(findEvent(res.events, api.events.system.ExtrinsicSuccess), 'no System.ExtrinsicSuccess event');

    const transfer = findEvent(res.events, api.events.balances.Transfer);
    assert.ok(transfer, 'no Balances.Transfer event');
    assert.ok(u8aEq(transfer.event.data.from.toU8a(), alice.publicKey), 'Transfer.from is not Alice');
    assert.ok(u8aEq(transfer.event.data.to.toU8a(), bob.publicKey), 'Transfer.to is not Bob');
    assert.equal(transfer.event.data.amount.toBigInt(), AMOUNT);

    const { actualFee, tip } = feePaid(api, res.events, alice.publicKey);
    assert.equal(tip, 0n);
    const fee = actualFee; // actualFee already includes the tip (0 here), see lib/chain.mjs
    assert.ok(fee > 0n, 'the fee must be > 0');

    // Balances right before (parent block) and right after (inclusion block).
    const parent = await parentOf(api, res.blockHash);
    const beforeSnap = await snapshot(parent);
    const afterSnap = await snapshot(res.blockHash);

    assert.equal(afterSnap.bob.free - beforeSnap.bob.free, AMOUNT, "Bob's balance must rise by exactly the amount");

    // Only non-zero if Alice authored this block AND the runtime pays fees to the author.
    const { credit, payerIsAuthor } = await authorFeeCredit(api, res.blockHash, res.events, alice.publicKey, fee);
    if (payerIsAuthor) t.diagnostic(`Alice authored the block; fee share credited back to her: ${credit}`);
    assert.equal(
      beforeSnap.alice.free - afterSnap.alice.free,
      AMOUNT + fee - credit,
      "Alice's balance must fall by exactly amount + fee",
    );
    assert.equal(afterSnap.alice.nonce, beforeSnap.alice.nonce + 1, "Alice's nonce must rise by 1");
    t.diagnostic(`amount ${AMOUNT}, fee ${fee}`);
  });

  step('burn totals from the tokenomics runtime API rise by the burned share of each fee', 3 * 60_000, async (t) => {
    const tx = api.tx.balances.transferKeepAlive(bob.address, AMOUNT);
    const res = await signSendAndWait(api, tx, alice, { options: { tip: 0 } });
    assert.equal(res.dispatchError, undefined, `dispatch failed: ${describeDispatchError(api, res.dispatchError)}`);
    const { actualFee } = feePaid(api, res.events, alice.publicKey);

    // The runtime API (Developer > Runtime calls > tokenomicsApi > totals in Polkadot.js apps),
    // right before and right after the block that included the transfer.
    const parent = await parentOf(api, res.blockHash);
    const [apiBefore, apiAfter] = await Promise.all([api.at(parent), api.at(res.blockHash)]);
    const before = await apiBefore.call.tokenomicsApi.totals();
    const after = await apiAfter.call.tokenomicsApi.totals();
    const burnParts = before.feeSplit.burn.toBigInt(); // Perbill: parts per billion
    assert.ok(burnParts > 0n, 'the development chain burns a share of fees');
    const expectedBurn = (actualFee * burnParts) / 1_000_000_000n;

    assert.equal(after.fees.fees.toBigInt() - before.fees.fees.toBigInt(), actualFee);
    assert.equal(after.fees.burned.toBigInt() - before.fees.burned.toBigInt(), expectedBurn);
    assert.ok(after.fees.burned.toBigInt() > before.fees.burned.toBigInt(), 'burn total must rise');

    // The burn is real: total issuance fell by exactly that amount.
    const [issuanceBefore, issuanceAfter] = await Promise.all([
      apiBefore.query.balances.totalIssuance(),
      apiAfter.query.balances.totalIssuance(),
    ]);
    assert.equal(issuanceBefore.toBigInt() - issuanceAfter.toBigInt(), expectedBurn);
    t.diagnostic(`fee ${actualFee}, burned ${expectedBurn}, total burned by fees ${after.fees.burned.toString()}`);
  });

  step('(a) transfer of more than Alice has is refused and moves nothing', 3 * 60_000, async (t) => {
    const start = await snapshotBest();
    const tooMuch = start.alice.free + UNIT; // 1 DSYNC more than her whole free balance
    const ALLOWED = ['Token.FundsUnavailable', 'Balances.FundsUnavailable', 'Balances.InsufficientBalance'];

    let res;
    let refused;
    try {
      res = await signSendAndWait(api, api.tx.balances.transferKeepAlive(bob.address, tooMuch), alice, {
        options: { tip: 0 },
      });
    } catch (e) {
      refused = e;
    }

    if (refused) {
      // Path 1: the pool refused it up front (1010 Invalid Transaction). Nothing may change.
      t.diagnostic(`refused by the pool: ${refused.message}`);
      assert.match(refused.message, /1010|Invalid Transaction/, 'unexpected kind of refusal');
      await assertNothingChanged(start, 'pool-refused overdraft');
      return;
    }

    // Path 2 (what pallet-balances does): included, dispatch fails, the fee is still charged.
    t.diagnostic(`included in ${res.blockHash}, dispatch error ${describeDispatchError(api, res.dispatchError)}`);
    assert.ok(res.dispatchError, 'the overdraft transfer must not succeed');
    assert.ok(
      ALLOWED.includes(describeDispatchError(api, res.dispatchError)),
      `dispatch error ${describeDispatchError(api, res.dispatchError)} is not one of ${ALLOWED.join(', ')}`,
    );
    assert.ok(findEvent(res.events, api.events.system.ExtrinsicFailed), 'no System.ExtrinsicFailed event');
    assert.equal(filterEvents(res.events, api.events.balances.Transfer).length, 0, 'a Transfer event was emitted');

    const { actualFee, tip } = feePaid(api, res.events, alice.publicKey);
    assert.equal(tip, 0n);
    assert.ok(actualFee > 0n);
    const parent = await parentOf(api, res.blockHash);
    const beforeSnap = await snapshot(parent);
    const afterSnap = await snapshot(res.blockHash);
    const { credit } = await authorFeeCredit(api, res.blockHash, res.events, alice.publicKey, actualFee);

    assert.equal(afterSnap.bob.free, beforeSnap.bob.free, "Bob's balance must not change");
    assert.equal(
      beforeSnap.alice.free - afterSnap.alice.free,
      actualFee - credit,
      'Alice must lose exactly the fee and nothing else',
    );
    assert.equal(afterSnap.alice.nonce, beforeSnap.alice.nonce + 1, 'an included transaction uses the nonce');
  });

  step('(b) invalid destination addresses are rejected', 3 * 60_000, async (t) => {
    const start = await snapshotBest();

    // -- b1: SS58 string with a broken checksum, rejected client side --------------------
    // Replace one base58 character in the middle by another valid base58 character: the
    // string still decodes as base58 with the right length, only the checksum is wrong.
    const good = bob.address;
    const i = Math.floor(good.length / 2);
    const bad = good.slice(0, i) + (good[i] === 'A' ? 'B' : 'A') + good.slice(i + 1);
    assert.notEqual(bad, good);
    const isChecksumError = (err) => {
      assert.match(err.message, /checksum/i);
      assert.ok(err.message.includes(bad), `error does not mention the address: ${err.message}`);
      return true;
    };
    assert.throws(() => decodeAddress(bad), isChecksumError);
    assert.throws(() => api.tx.balances.transferKeepAlive(bad, AMOUNT), isChecksumError);
    t.diagnostic(`bad SS58 ${bad} rejected client side`);

    // -- b2: raw extrinsic whose AccountId has the wrong length, via author_submitExtrinsic --
    // Build a correctly signed transfer to Bob, then cut 12 bytes out of Bob's 32-byte
    // AccountId in the call (leaving a 20-byte "AccountId") and fix the outer length prefix.
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const tx = api.tx.balances.transferKeepAlive(bob.address, AMOUNT);
    await tx.signAsync(alice, { nonce, tip: 0 });
    const full = tx.toU8a(); // compact(length) ++ body
    const [offset] = compactFromU8a(full);
    const bodyHex = u8aToHex(full.subarray(offset)).slice(2);
    const bobHex = u8aToHex(bob.publicKey).slice(2);
    assert.equal(bodyHex.split(bobHex).length - 1, 1, "Bob's AccountId must occur exactly once in the extrinsic");
    const shortBody = hexToU8a(`0x${bodyHex.replace(bobHex, bobHex.slice(0, 40))}`); // 20 bytes left
    const rawHex = u8aToHex(compactAddLength(shortBody));

    const answer = await rpcRaw(node.httpUrl, 'author_submitExtrinsic', [rawHex]);
    t.diagnostic(`author_submitExtrinsic answered ${JSON.stringify(answer.error ?? answer.result)}`);
    assert.equal(answer.result, undefined, 'a malformed extrinsic was accepted by the pool');
    assert.ok(answer.error, 'expected a JSON-RPC error');
    // 1001 "Extrinsic has invalid format", 1040 "Client error: <codec error>" (decode failure
    // in the RPC), or 1002 "Verification Error" raised by the runtime's
    // `validate_transaction` entry point, which refuses input it cannot decode (the node logs
    // "Bad input data provided to validate_transaction: Codec error").
    assert.ok([1001, 1002, 1040].includes(answer.error.code), `unexpected error code ${answer.error.code}`);
    assert.match(
      `${answer.error.message} ${JSON.stringify(answer.error.data ?? '')}`,
      /decode|invalid format|bad input|not enough data|validate_transaction/i,
      'the error must say the extrinsic could not be decoded',
    );

    await assertNothingChanged(start, 'invalid address');
  });

  step('(c) an extrinsic with a corrupted signature is rejected with BadProof', 3 * 60_000, async (t) => {
    const start = await snapshotBest();
    const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
    const tx = api.tx.balances.transferKeepAlive(bob.address, AMOUNT);
    await tx.signAsync(alice, { nonce, tip: 0 });

    const hex = tx.toHex();
    const sigHex = tx.signature.toHex().slice(2); // 64-byte sr25519 signature
    assert.equal(sigHex.length, 128);
    assert.equal(hex.split(sigHex).length - 1, 1, 'signature must occur exactly once in the extrinsic');
    // Flip all bits of signature byte 10.
    const flipped = (0xff ^ Number.parseInt(sigHex.slice(20, 22), 16)).toString(16).padStart(2, '0');
    const badSig = sigHex.slice(0, 20) + flipped + sigHex.slice(22);
    const badHex = hex.replace(sigHex, badSig);
    assert.equal(badHex.length, hex.length);
    assert.notEqual(badHex, hex);

    await assert.rejects(api.rpc.author.submitExtrinsic(badHex), (err) => {
      t.diagnostic(`rejected: ${err.message}`);
      assert.equal(err.code, 1010, `expected 1010 Invalid Transaction, got ${err.code}: ${err.message}`);
      assert.match(err.message, /Invalid Transaction/);
      assert.match(err.message, /bad signature/i);
      return true;
    });

    await assertNothingChanged(start, 'bad signature');
  });

  // Hardware wallets and offline signers (issue 19): the `CheckMetadataHash` extension (RFC-78).
  // A signer that holds the runtime's metadata computes its hash (here with
  // `@polkadot-api/merkleize-metadata`, the RFC-78 implementation wallets use) and signs in
  // mode 1: the runtime adds the hash its Wasm builder computed to the signed data, so the
  // signature verifies only when both agree. The attacker: whoever feeds a wallet other
  // metadata (a lying RPC node, an outdated or forged file) so that the user approves a call or
  // an amount that is not what the chain will execute; any other hash, even one over the right
  // metadata with the wrong decimals, makes a signature the chain refuses.
  step('CheckMetadataHash: a transfer signed with the metadata hash is accepted, a wrong hash is refused', 3 * 60_000, async (t) => {
    assert.ok(
      api.registry.signedExtensions.includes('CheckMetadataHash'),
      `transaction extensions: ${api.registry.signedExtensions}`,
    );
    assert.equal(api.runtimeVersion.transactionVersion.toNumber(), 2, 'the new extension bumped transaction_version');
    // `Metadata_metadata_at_version(15)` returns SCALE `Option<Vec<u8>>`: 1, a compact
    // length, then the metadata (the bytes signers hash).
    const raw = hexToU8a(await rpc(node.httpUrl, 'state_call', ['Metadata_metadata_at_version', '0x0f000000']));
    assert.equal(raw[0], 1, 'the runtime serves metadata v15');
    const [offset, length] = compactFromU8a(raw.subarray(1));
    const metadata = raw.subarray(1 + offset, 1 + offset + length.toNumber());
    assert.equal(metadata.length, length.toNumber(), 'the whole metadata was returned');
    assert.equal(u8aToHex(metadata.slice(0, 5)), '0x6d6574610f', 'metadata starts with "meta" and version 15');
    const hashWith = (info) => u8aToHex(merkleizeMetadata(metadata, info).digest());
    const hash = hashWith({ decimals: DECIMALS, tokenSymbol: SYMBOL });
    t.diagnostic(`metadata hash ${hash}`);

    // Mode 1 with the right hash: included, and the extrinsic in the block carries mode 1.
    const good = api.tx.balances.transferKeepAlive(bob.address, AMOUNT);
    const res = await signSendAndWait(api, good, alice, { options: { tip: 0, mode: 1, metadataHash: hash } });
    assert.equal(res.dispatchError, undefined, `dispatch failed: ${describeDispatchError(api, res.dispatchError)}`);
    const transfer = findEvent(res.events, api.events.balances.Transfer);
    assert.ok(transfer, 'no Balances.Transfer event');
    assert.equal(transfer.event.data.amount.toBigInt(), AMOUNT);
    const block = await api.rpc.chain.getBlock(res.inBlockHash ?? res.blockHash);
    const included = block.block.extrinsics.find((xt) => xt.hash.toHex() === good.hash.toHex());
    assert.ok(included, 'the signed transfer is in its block');
    assert.equal(included.mode.toNumber(), 1, 'the transfer was signed with the metadata hash');

    // A wrong hash (one bit flipped), and a hash of the right metadata with other decimals:
    // refused as a bad signature, nothing changes.
    const flipped = hexToU8a(hash);
    flipped[31] ^= 1;
    const wrongs = [
      ['one bit flipped', u8aToHex(flipped)],
      ['12 decimals', hashWith({ decimals: 12, tokenSymbol: SYMBOL })],
    ];
    for (const [what, wrong] of wrongs) {
      assert.notEqual(wrong, hash);
      const start = await snapshotBest();
      const nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
      const tx = api.tx.balances.transferKeepAlive(bob.address, AMOUNT);
      await tx.signAsync(alice, { nonce, tip: 0, mode: 1, metadataHash: wrong });
      await assert.rejects(api.rpc.author.submitExtrinsic(tx.toHex()), (err) => {
        t.diagnostic(`${what}: ${err.message}`);
        assert.equal(err.code, 1010, `expected 1010 Invalid Transaction, got ${err.code}: ${err.message}`);
        assert.match(err.message, /bad signature/i);
        return true;
      });
      await assertNothingChanged(start, `metadata hash with ${what}`);
    }
  });

  // Joining as a validator (issue 19): since polkadot-sdk 2606 `session.setKeys` checks a proof
  // that the keys' owner holds them (each key signs "POP_" ++ the account). The operator's flow:
  // `author_rotateKeysWithOwner(<stash>)` returns keys and proof, the stash submits both. The
  // attacker: someone registering another operator's public session keys as their own (the
  // victim's later setKeys would fail with DuplicatedKey); the proof is bound to the owner's
  // account, so copying keys and proof does not work, and neither do keys without a proof.
  step('session keys: the proof from author_rotateKeysWithOwner is accepted, copied or missing proofs are refused', 3 * 60_000, async (t) => {
    const owner = u8aToHex(bob.publicKey);
    const generated = await rpc(node.httpUrl, 'author_rotateKeysWithOwner', [owner]);
    assert.match(generated.keys, /^0x[0-9a-f]{128}$/, 'BABE (32 bytes) + GRANDPA (32 bytes) keys');
    assert.match(generated.proof ?? '', /^0x[0-9a-f]{256}$/, 'two 64-byte signatures');

    // A copy of Bob's keys and proof, submitted by Charlie: refused, nothing stored.
    const copied = await signSendAndWait(api, api.tx.session.setKeys(generated.keys, generated.proof), charlie);
    assert.equal(describeDispatchError(api, copied.dispatchError), 'Session.InvalidProof');
    assert.ok((await api.query.session.nextKeys(charlie.address)).isNone, 'Charlie has no keys');

    // Keys from the parameterless author_rotateKeys have no proof to give: Bob's proof for other
    // keys does not fit them.
    const bare = await rpc(node.httpUrl, 'author_rotateKeys', []);
    assert.match(bare, /^0x[0-9a-f]{128}$/);
    const unproven = await signSendAndWait(api, api.tx.session.setKeys(bare, generated.proof), bob);
    assert.equal(describeDispatchError(api, unproven.dispatchError), 'Session.InvalidProof');
    assert.ok((await api.query.session.nextKeys(bob.address)).isNone, 'Bob has no keys yet');

    // The owner's own submission: accepted, the keys are queued for Bob's next session.
    const res = await signSendAndWait(api, api.tx.session.setKeys(generated.keys, generated.proof), bob);
    assert.equal(res.dispatchError, undefined, describeDispatchError(api, res.dispatchError) ?? '');
    const next = await api.query.session.nextKeys.at(res.blockHash, bob.address);
    assert.ok(next.isSome, 'Bob has queued keys');
    assert.equal(next.unwrap().toHex(), generated.keys);
    // The node holds the private halves (it generated them in its keystore).
    const babe = `0x${generated.keys.slice(2, 66)}`;
    assert.equal(await rpc(node.httpUrl, 'author_hasKey', [babe, 'babe']), true);
    t.diagnostic(`Bob's session keys ${generated.keys.slice(0, 18)}... registered`);
  });

  // The other route of the README: keys kept outside the node's RPC (e.g. `key insert`), their
  // proof made with the node's own `sign` sub-command over "POP_" ++ the owner's account.
  step('session keys: a proof made with `dsync-node sign` is accepted for keys from their secrets', 3 * 60_000, async () => {
    const bin = nodeBinaryPath();
    const cli = async (...args) => (await runFile(bin, args)).stdout.trim();
    const publicKey = async (scheme, suri) =>
      JSON.parse(await cli('key', 'inspect', '--scheme', scheme, '--output-type', 'json', suri)).publicKey;
    const statement = `0x${Buffer.from('POP_').toString('hex')}${u8aToHex(charlie.publicKey).slice(2)}`;
    const babe = await publicKey('sr25519', '//CharlieSessionBabe');
    const gran = await publicKey('ed25519', '//CharlieSessionGran');
    const babeSig = await cli('sign', '--suri', '//CharlieSessionBabe', '--hex', '--message', statement);
    const granSig = await cli('sign', '--scheme', 'ed25519', '--suri', '//CharlieSessionGran', '--hex', '--message', statement);
    const keys = babe + gran.slice(2);
    // BABE's signature first, as the keys are declared; the other order is refused.
    const swapped = await signSendAndWait(api, api.tx.session.setKeys(keys, granSig + babeSig.slice(2)), charlie);
    assert.equal(describeDispatchError(api, swapped.dispatchError), 'Session.InvalidProof');
    const res = await signSendAndWait(api, api.tx.session.setKeys(keys, babeSig + granSig.slice(2)), charlie);
    assert.equal(res.dispatchError, undefined, describeDispatchError(api, res.dispatchError) ?? '');
    assert.equal((await api.query.session.nextKeys.at(res.blockHash, charlie.address)).unwrap().toHex(), keys);
  });

  stepTryState(step, () => node, { getApis: () => [api] });

  // The check above can fail: break one invariant on chain (sudo writes GpuJobs.OpenJobCount
  // without any job) and the same check must refuse the state, naming the broken invariant.
  step('try_state refuses a state whose invariant is broken (OpenJobCount set without jobs)', TRY_STATE_STEP_TIMEOUT_MS, async (t) => {
    const overrides = tryRuntimeOverrides();
    if (!overrides) {
      t.skip('DSYNC_TRY_RUNTIME_DIR is not set (tests/e2e/run.sh sets it from scripts/build-try-runtime.sh)');
      return;
    }
    // The node runs with the override since the previous step, on another RPC port.
    const live = await connectApi(node.wsUrl);
    try {
      const key = live.query.gpuJobs.openJobCount.key();
      const before = (await live.query.gpuJobs.openJobCount()).toNumber();
      assert.equal(before, 0, 'no job is open on this chain');
      const broken = u8aToHex(live.createType('u32', 7).toU8a()); // SCALE: little-endian
      const res = await signSendAndWait(live, live.tx.sudo.sudo(live.tx.system.setStorage([[key, broken]])), alice);
      assert.ok(!res.dispatchError, `sudo(system.setStorage) failed: ${res.dispatchError}`);
      assert.equal((await live.query.gpuJobs.openJobCount()).toNumber(), 7, 'the count is broken on chain');
    } finally {
      await live.disconnect();
    }
    await assert.rejects(
      checkTryState(node, overrides, { log: (m) => t.diagnostic(m) }),
      (e) => {
        t.diagnostic(`refused: ${e.message.split('\n').slice(0, 3).join(' | ')}`);
        return /OpenJobCount differs from the jobs/.test(e.message);
      },
      'try_state must fail, naming the broken invariant',
    );
  });
});
