// Watches a node's new blocks for a while and reports whether any BABE slot was missed: each
// block's slot (its BABE pre-runtime digest) must follow its parent's by exactly one.
//
// Usage: node slots.mjs <ws-url> <seconds>   (prints a JSON line; exit code 1 when a slot was
// missed). Uses @polkadot/api from tests/e2e/node_modules.

import { createRequire } from 'node:module';

const require = createRequire(new URL('../../tests/e2e/package.json', import.meta.url));
const { ApiPromise, WsProvider } = require('@polkadot/api');

const [wsUrl, secondsArg] = process.argv.slice(2);
const api = await ApiPromise.create({ provider: new WsProvider(wsUrl), noInitWarn: true });

function slotOf(header) {
  for (const log of header.digest.logs) {
    if (log.isPreRuntime && log.asPreRuntime[0].toString() === 'BABE') {
      // Primary, SecondaryPlain and SecondaryVRF digests all carry the slot.
      return api.createType('RawBabePreDigest', log.asPreRuntime[1]).value.slotNumber.toNumber();
    }
  }
  throw new Error(`block ${header.number} has no BABE digest`);
}

const blocks = [];
const unsubscribe = await api.rpc.chain.subscribeNewHeads((header) => {
  blocks.push({ number: header.number.toNumber(), slot: slotOf(header) });
});
await new Promise((resolve) => setTimeout(resolve, Number(secondsArg) * 1000));
unsubscribe();
let missed = 0;
for (let i = 1; i < blocks.length; i += 1) {
  if (blocks[i].number === blocks[i - 1].number + 1) missed += blocks[i].slot - blocks[i - 1].slot - 1;
}
console.log(JSON.stringify({ blocks: blocks.length, first: blocks[0], last: blocks.at(-1), missed_slots: missed }));
await api.disconnect();
process.exit(missed === 0 && blocks.length >= 2 ? 0 : 1);
