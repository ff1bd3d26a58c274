// @polkadot/api helpers shared by the e2e tests: connecting, submitting and waiting for
// transactions, reading accounts at a given block, decoding dispatch errors and fee events.

import { ApiPromise, WsProvider } from '@polkadot/api';
import { u8aEq } from '@polkadot/util';

import { withTimeout } from './node.mjs';

// For scripts outside tests/e2e (benchmarks/settlement/settle-bench.mjs): their bare imports
// cannot resolve tests/e2e/node_modules, so they take these from here.
export { u8aToHex } from '@polkadot/util';
export { blake2AsU8a } from '@polkadot/util-crypto';

/** 1 DSYNC = 10^18 units (tokenDecimals 18). */
export const UNIT = 10n ** 18n;

/** Connects an ApiPromise to a node's ws endpoint (fails instead of retrying forever). */
export async function connectApi(wsUrl, timeoutMs = 60_000) {
  const provider = new WsProvider(wsUrl);
  try {
    return await withTimeout(
      ApiPromise.create({ provider, noInitWarn: true, throwOnConnect: true }),
      timeoutMs,
      `connecting @polkadot/api to ${wsUrl}`,
    );
  } catch (e) {
    await provider.disconnect().catch(() => {});
    // throwOnConnect may reject with a WebSocket event rather than an Error
    if (e instanceof Error) throw e;
    throw new Error(`could not connect @polkadot/api to ${wsUrl}: ${e?.message ?? e?.type ?? String(e)}`);
  }
}

/**
 * Subscribes with `subscribe(cb)` (e.g. api.rpc.chain.subscribeNewHeads) and resolves with
 * the first header for which `predicate(header)` is true; rejects after `timeoutMs`.
 */
export function waitForHeader(subscribe, predicate, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    let unsub = null;
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (unsub) unsub();
      fn(value);
    };
    const timer = setTimeout(
      () => finish(reject, new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
    subscribe((header) => {
      if (predicate(header)) finish(resolve, header);
    })
      .then((u) => {
        unsub = u;
        if (done) u();
      })
      .catch((e) => finish(reject, e));
  });
}

/**
 * signAndSend + wait until the transaction's block is finalized.
 * Resolves { blockHash (finalized block containing it), inBlockHash, events (this
 * extrinsic's events), dispatchError, txHash }. Rejects if the RPC refuses the transaction
 * (e.g. 1010 Invalid Transaction), if the pool reports Invalid/Dropped/Usurped/
 * FinalityTimeout, or after `timeoutMs`.
 */
export function signSendAndWait(api, tx, signer, { options = {}, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    let unsub = null;
    let done = false;
    let inBlockHash = null;
    let lastStatus = 'none';
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (unsub) unsub();
      fn(value);
    };
    const timer = setTimeout(
      () =>
        finish(
          reject,
          new Error(`transaction not finalized within ${timeoutMs} ms (last status: ${lastStatus})`),
        ),
      timeoutMs,
    );
    tx.signAndSend(signer, options, (result) => {
      const { status } = result;
      lastStatus = status.type;
      if (status.isInBlock) inBlockHash = status.asInBlock.toHex();
      if (status.isFinalized) {
        finish(resolve, {
          blockHash: status.asFinalized.toHex(),
          inBlockHash,
          events: result.events,
          dispatchError: result.dispatchError,
          txHash: result.txHash.toHex(),
        });
      } else if (result.isError) {
        finish(reject, new Error(`transaction ended with status ${status.type}: ${status.toString()}`));
      }
    })
      .then((u) => {
        unsub = u;
        if (done) u();
      })
      .catch((e) => finish(reject, e));
  });
}

/** { free, reserved, nonce } (bigints / number) of `address` in the state of block `blockHash`. */
export async function accountAt(api, blockHash, address) {
  const apiAt = await api.at(blockHash);
  const info = await apiAt.query.system.account(address);
  return {
    free: info.data.free.toBigInt(),
    reserved: info.data.reserved.toBigInt(),
    nonce: info.nonce.toNumber(),
  };
}

/** Parent hash (hex) of block `blockHash`. */
export async function parentOf(api, blockHash) {
  const header = await api.rpc.chain.getHeader(blockHash);
  return header.parentHash.toHex();
}

const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Human name of a DispatchError: "Balances.InsufficientBalance" for module errors (via the
 * metadata), "Token.FundsUnavailable" for token errors, else the variant (and its value).
 */
export function describeDispatchError(api, dispatchError) {
  if (!dispatchError) return null;
  if (dispatchError.isModule) {
    const { section, name } = api.registry.findMetaError(dispatchError.asModule);
    return `${capitalize(section)}.${name}`;
  }
  if (dispatchError.isToken) return `Token.${dispatchError.asToken.type}`;
  if (dispatchError.isArithmetic) return `Arithmetic.${dispatchError.asArithmetic.type}`;
  return dispatchError.toString();
}

/** The first event record of `section.method` (e.g. api.events.balances.Transfer). */
export function findEvent(events, eventType) {
  return events.find(({ event }) => eventType.is(event));
}

/** All event records of `section.method`. */
export function filterEvents(events, eventType) {
  return events.filter(({ event }) => eventType.is(event));
}

/**
 * What `who` actually paid for a transaction, from its TransactionPayment.TransactionFeePaid
 * event. NOTE: in pallet-transaction-payment `actual_fee` is `compute_actual_fee(.., tip)`,
 * i.e. it already INCLUDES the tip; the tests send with tip 0 and assert tip == 0, so
 * "actualFee + tip" and "actualFee" are the same number here.
 * Returns { actualFee, tip } as bigints; throws if the event is missing or for another payer.
 */
export function feePaid(api, events, who) {
  const rec = findEvent(events, api.events.transactionPayment.TransactionFeePaid);
  if (!rec) throw new Error('no TransactionPayment.TransactionFeePaid event for the extrinsic');
  const { who: payer, actualFee, tip } = rec.event.data;
  if (!u8aEq(payer.toU8a(), who)) {
    throw new Error(`TransactionFeePaid is for ${payer.toString()}, not the sender`);
  }
  return { actualFee: actualFee.toBigInt(), tip: tip.toBigInt() };
}

/**
 * Part of the fee that came back to the payer because the payer itself authored the block
 * (runtimes may pay fees/tips to the block author). Zero unless `payer` is the author.
 *
 * If the payer is the author, its fee-related Balances events in the extrinsic are:
 * Withdraw(estimated fee) , Deposit(refund = estimated - actualFee) , Deposit(author share).
 * So author share = sum(Deposit) - (sum(Withdraw) - actualFee).
 */
export async function authorFeeCredit(api, blockHash, events, payer, actualFee) {
  const { author } = await api.derive.chain.getHeader(blockHash);
  if (!author || !u8aEq(author.toU8a(), payer)) return { credit: 0n, payerIsAuthor: false };
  const sum = (type) =>
    filterEvents(events, type)
      .filter(({ event }) => u8aEq(event.data.who.toU8a(), payer))
      .reduce((acc, { event }) => acc + event.data.amount.toBigInt(), 0n);
  const withdrawn = sum(api.events.balances.Withdraw);
  const deposited = sum(api.events.balances.Deposit);
  const credit = deposited - (withdrawn - actualFee);
  if (credit < 0n || credit > actualFee) {
    throw new Error(
      `inconsistent fee events for the block author: withdrawn ${withdrawn}, deposited ${deposited}, actualFee ${actualFee}`,
    );
  }
  return { credit, payerIsAuthor: true };
}
