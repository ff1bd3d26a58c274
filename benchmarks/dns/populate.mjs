// Fills a development chain with the benchmark zone: `bench.dsync` registered by Alice for ten
// (development) years after the naming year is lengthened through sudo, then COUNT subnames
// `h<i>.bench.dsync`, each with one A record 10.x.y.z, in batches; waits for finality.
// Writes the dnsperf query file and the NSD zone file of the same records.
//
// Usage: node populate.mjs <ws-url> <count> <out-dir>
// Uses @polkadot/api from tests/e2e/node_modules.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { ApiPromise, WsProvider, Keyring } = require('@polkadot/api');
const { stringToU8a, u8aConcat, u8aToHex } = require('@polkadot/util');
const { blake2AsU8a, cryptoWaitReady } = require('@polkadot/util-crypto');

const [wsUrl, countArg, outDir] = process.argv.slice(2);
const COUNT = Number(countArg ?? 2000);
// Subnames per batch: each set_subname/set_records pair has a worst-case proof of ~45 KB, and
// a block holds 3.75 MiB of proof for normal transactions.
const BATCH = 40;
const SECRET = `0x${'11'.repeat(32)}`;

function namehash(name) {
  let id = new Uint8Array(32);
  for (const label of name.split('.').reverse()) {
    id = blake2AsU8a(u8aConcat(id, blake2AsU8a(stringToU8a(label))));
  }
  return u8aToHex(id);
}

const ip = (i) => [10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];

function send(api, tx, signer, options = {}) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, options, ({ status, dispatchError, events }) => {
      if (dispatchError) {
        const text = dispatchError.isModule
          ? (({ section, name }) => `${section}.${name}`)(api.registry.findMetaError(dispatchError.asModule))
          : dispatchError.toString();
        reject(new Error(text));
      } else if (status.isFinalized) {
        const failed = events.find(({ event }) => api.events.utility.BatchInterrupted.is(event));
        if (failed) reject(new Error(`batch interrupted: ${failed.event.data.toString()}`));
        else resolve(status.asFinalized.toHex());
      }
    }).catch(reject);
  });
}

await cryptoWaitReady();
const api = await ApiPromise.create({ provider: new WsProvider(wsUrl), noInitWarn: true });
const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');

const params = (await api.query.naming.params()).toJSON();
params.yearLength = 1_000_000;
await send(api, api.tx.sudo.sudo(api.tx.naming.setParameters(params)), alice);

const label = 'bench';
// The name-registration commitment (dsync_primitives::commit_reveal): blake2_256 of the domain
// tag (a SCALE byte string), then the SCALE payload (label, owner, secret).
const encoded = u8aConcat(
  api.createType('Bytes', 'dsync/name-registration/v1').toU8a(),
  api.createType('Bytes', label).toU8a(),
  api.createType('AccountId', alice.address).toU8a(),
  api.createType('[u8; 32]', SECRET).toU8a(),
);
await send(api, api.tx.naming.commit(u8aToHex(blake2AsU8a(encoded))), alice);
await send(api, api.tx.naming.register(label, alice.address, SECRET, 1), alice);

const parent = namehash('bench.dsync');
// All batches at once, with consecutive nonces; then wait until every one is finalised.
let nonce = (await api.rpc.system.accountNextIndex(alice.address)).toNumber();
const pending = [];
for (let start = 0; start < COUNT; start += BATCH) {
  const calls = [];
  for (let i = start; i < Math.min(COUNT, start + BATCH); i += 1) {
    calls.push(api.tx.naming.setSubname(parent, `h${i}`, alice.address));
    calls.push(api.tx.naming.setRecords(namehash(`h${i}.bench.dsync`), 'A', [u8aToHex(new Uint8Array(ip(i)))]));
  }
  pending.push(send(api, api.tx.utility.batchAll(calls), alice, { nonce }));
  nonce += 1;
}
await Promise.all(pending);
console.log(`populate: ${COUNT} names finalised`);

// dnsperf input and the same zone for NSD.
const queries = [];
const zone = [
  '$ORIGIN dsync.',
  '$TTL 3600',
  '@ IN SOA ns1.dsync. hostmaster.dsync. 1 3600 600 86400 60',
  '@ IN NS ns1.dsync.',
];
for (let i = 0; i < COUNT; i += 1) {
  queries.push(`h${i}.bench.dsync A`);
  zone.push(`h${i}.bench IN A ${ip(i).join('.')}`);
}
fs.writeFileSync(path.join(outDir, 'queries.txt'), `${queries.join('\n')}\n`);
fs.writeFileSync(path.join(outDir, 'dsync.zone'), `${zone.join('\n')}\n`);
await api.disconnect();
console.log('populate: done');
