// Storage on the two-node network of lib/service-nodes.mjs: Bob's node B keeps storage
// (`--storage-dir`, 1 GiB) and Bob offers Storage; the gpu suite runs these steps once Proof of
// Sync made Bob Active with a positive score (a storage draw needs both).
//
//   S1. sudo: Storage.setParameters with no parity slot required (this network has one storage
//       provider, and a slot is never offered twice to one provider).
//   S2. Dave runs the real client: `dsync store put <dir> --data-shards 1 --slots 1 --epochs 2`
//       on a small website: `index.html`, `logo.png` and `data.bin` (3 MiB + 5 B). It packs the
//       directory into a CAR, places the order (the escrow held),
//       waits for the draw (Bob), uploads the slot to B (PUT on B's service endpoint) and waits
//       until B's off-chain worker accepted it. Checked: the client's exit status and output,
//       the CID (`dsync store cid` of the same file), StorageApi.order (Active, held by Bob at
//       B's endpoint), the slot file in B's storage directory with the slot's length, Dave's
//       `Storage::Order` hold = price x slots x epochs.
//   S2b. Retrieval with standard IPFS libraries, from A's view of the chain only: the delegated
//       routing client (@helia/delegated-routing-v1-http-api-client) asks B's
//       /routing/v1/providers for the CID and gets B as an HTTP gateway provider; a CAR of the
//       whole DAG from that gateway (?format=car) is read with @ipld/car, every block's SHA-256
//       checked against its CID here, and `data.bin` exported with ipfs-unixfs-exporter equals
//       the stored file; the root block alone (?format=raw) hashes to the CID; a byte range of
//       the file (Range) is the same range of the stored file; a CID nobody keeps is 404;
//       `dsync store get` writes the verified site as a directory equal to the one stored.
//   S2c. The website: Alice registers `site.dsync` with a content-hash record naming the CID.
//       B's DNS answers `site.dsync A` with its website gateway's address (the name has no
//       address record of its own); headless Chromium (playwright-core, Debian's chromium) with
//       `--host-resolver-rules` mapping `*.dsync` to B's gateway loads http://site.dsync/: the
//       stored page and its image; B's probe endpoint serves the site by Host as well.
//   S3. B's worker proves the slot in both epochs of the term (SlotProven: Bob paid the price
//       each time, 10 % burned) and the order completes (OrderCompleted: paid = 2 x the price,
//       refunded 0); Dave's hold is released; within 2.5 min B deletes the slot (its order is
//       over in finalised state); B's dsync_storage_* metrics say so. A's Proof-of-Sync worker
//       fetched a piece of Bob's slot while it was held and found it verified
//       (dsync_pos_retrievals_total{result="passed"}).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';

import { delegatedRoutingV1HttpApiClient } from '@helia/delegated-routing-v1-http-api-client';
import { defaultLogger } from '@libp2p/logger';
import { CarBlockIterator } from '@ipld/car';
import { MemoryBlockstore } from 'blockstore-core/memory';
import { exporter } from 'ipfs-unixfs-exporter';
import { u8aConcat, u8aToHex, stringToU8a } from '@polkadot/util';
import { blake2AsU8a } from '@polkadot/util-crypto';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';

import { describeDispatchError, findEvent, signSendAndWait } from './chain.mjs';
import { big, field, num, show, unwrapOption } from './decode.mjs';
import { monitoredMetrics } from './monitoring.mjs';
import { clientBinaryPath, scrapeMetrics, waitUntil } from './node.mjs';

const runFile = promisify(execFile);

// The routing client uses Promise.withResolvers (Node.js 22); the machines run Node.js 20.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** The term in epochs (dev: 10 blocks each): long enough for retrieval while it runs. */
const EPOCHS = 2;

/** The site's data file: 3 MiB and 5 bytes (four 1 MiB leaves, the last of 5 bytes). */
const FILE_BYTES = 3 * 1024 * 1024 + 5;

/** The site's page and image (a 1 x 1 PNG). */
const INDEX_HTML = '<!DOCTYPE html><html><head><title>Stored on DSYNC</title></head><body><h1 id="greeting">Hello from the DSYNC network</h1><img id="logo" src="logo.png" alt="logo"></body></html>';
const LOGO_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/** Deterministic content (xorshift32). */
function content(len) {
  const out = Buffer.alloc(len);
  let x = 0x2545f491;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The id of a full name: blake2_256(parent ‖ blake2_256(label)) from the top-level domain. */
function namehash(name) {
  let id = new Uint8Array(32);
  for (const label of name.split('.').reverse()) id = blake2AsU8a(u8aConcat(id, blake2AsU8a(stringToU8a(label))));
  return u8aToHex(id);
}

/** `GET target` on 127.0.0.1:`port` with `Host: host`: { status, headers, body }. */
function hostGet(port, host, target) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: Number(port), path: target, headers: { Host: host }, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${target} (Host ${host}) timed out`)));
    req.on('error', reject);
  });
}

/** Sum of `address`'s holds for `{ Storage: 'Order' }` at `apiLike`. */
async function storageHeld(apiLike, address) {
  let total = 0n;
  for (const hold of await apiLike.query.balances.holds(address)) {
    const id = field(hold, 'id').toHuman();
    if (id && typeof id === 'object' && id.Storage === 'Order') total += big(field(hold, 'amount'));
  }
  return total;
}

/** The storage events of blocks `from..=to` of `api`'s chain, with their block numbers. */
async function storageEvents(api, from, to) {
  const out = [];
  for (let n = from; n <= to; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    for (const { event } of await (await api.at(hash)).query.system.events()) {
      if (event.section === 'storage') out.push({ block: n, method: event.method, data: event.data });
    }
  }
  return out;
}

/**
 * The storage steps; `ctx()` gives the suite's live state: { api, alice, bob, dave, tmpDir,
 * rpcUrl (A's HTTP RPC), probeBase, metricsUrlA, metricsUrlB, gatewayPort and dnsPort (B's
 * website gateway and DNS server), sameAccount }.
 */
export function storageSteps(step, ctx) {
  const s = {};

  step('sudo: Storage.setParameters with no parity slot required (one storage provider here)', 2 * 60_000, async (t) => {
    const { api, alice } = ctx();
    const current = await api.query.storage.params();
    const params = unwrapOption(current);
    assert.ok(params, 'the development chain has storage parameters');
    const next = { ...params.toJSON(), minParityShards: 0 };
    const res = await signSendAndWait(api, api.tx.sudo.sudo(api.tx.storage.setParameters(next)), alice);
    assert.equal(res.dispatchError, undefined, describeDispatchError(api, res.dispatchError));
    const sudid = findEvent(res.events, api.events.sudo.Sudid);
    assert.ok(sudid && sudid.event.data[0].isOk, `setParameters under sudo: ${sudid && show(sudid.event.data[0])}`);
    assert.ok(findEvent(res.events, api.events.storage.ParametersSet), 'no Storage.ParametersSet');
    s.params = unwrapOption(await (await api.at(res.blockHash)).query.storage.params()).toJSON();
    assert.equal(s.params.minParityShards, 0);
    t.diagnostic(`storage parameters: ${JSON.stringify(s.params)}`);
  });

  step('dsync store put: Dave keeps a website with a 3 MiB file with Bob (packed, placed, uploaded to B, accepted)', 4 * 60_000, async (t) => {
    const { api, dave, bob, tmpDir, probeBase, sameAccount } = ctx();
    const file = path.join(tmpDir, 'site');
    fs.mkdirSync(file);
    fs.writeFileSync(path.join(file, 'index.html'), INDEX_HTML);
    fs.writeFileSync(path.join(file, 'logo.png'), LOGO_PNG);
    fs.writeFileSync(path.join(file, 'data.bin'), content(FILE_BYTES));
    const bin = clientBinaryPath();
    const cid = (await runFile(bin, ['store', 'cid', file])).stdout.trim();
    const heldBefore = await storageHeld(api, dave.address);
    const started = Date.now();
    const { stdout, stderr } = await runFile(
      bin,
      ['store', 'put', file, '--rpc', ctx().rpcUrl, '--data-shards', '1', '--slots', '1', '--epochs', String(EPOCHS), '--timeout', '180'],
      { env: { ...process.env, DSYNC_SURI: '//Dave' }, timeout: 200_000 },
    ).catch((e) => {
      throw new Error(`dsync store put failed (${e.code}): ${e.stderr || e.message}`);
    });
    t.diagnostic(`dsync store put in ${Date.now() - started} ms:\n${stderr}${stdout}`);
    const match = stdout.match(/^order (\d+) active: (\S+) kept over epochs (\d+)\.\.(\d+)/m);
    assert.ok(match, `unexpected output: ${stdout}`);
    s.order = BigInt(match[1]);
    assert.equal(match[2], cid, 'the order keeps the CID `dsync store cid` gives');
    s.cid = cid;
    const view = unwrapOption(await api.call.storageApi.order(s.order));
    assert.ok(view, `StorageApi.order(${s.order}) is None`);
    const phase = view.toJSON().phase;
    assert.ok(phase.active, `order phase ${JSON.stringify(phase)}`);
    s.start = num(phase.active.start);
    s.end = num(phase.active.end);
    assert.equal(s.end - s.start, EPOCHS);
    const slots = [...field(view, 'slots')];
    assert.equal(slots.length, 1);
    const slot = slots[0].toJSON();
    assert.ok(slot.phase.held, `slot 0 ${JSON.stringify(slot.phase)}`);
    assert.ok(sameAccount(api.createType('AccountId', slot.phase.held.provider), bob), 'slot 0 is held by Bob');
    assert.equal(Buffer.from(slot.phase.held.endpoint.slice(2), 'hex').toString(), probeBase(), "Bob's declared endpoint");
    // Not field(view, 'size'): a codec struct's own `size` (its number of fields) shadows it.
    s.size = BigInt(view.toJSON().size);
    s.slotLen = Number(slot.len);
    // CAR of the site: the bytes, the blocks' CIDs and framing; one copy, padded.
    assert.ok(s.size > BigInt(FILE_BYTES) && s.size < BigInt(FILE_BYTES + 4096), `CAR size ${s.size}`);
    assert.equal(BigInt(s.slotLen), ((s.size + 63n) / 64n) * 64n, 'one data shard: the slot is the CAR padded to 64 bytes');
    const kept = path.join(tmpDir, 'B-storage', 'slots', `${s.order}-0.bin`);
    assert.equal(fs.statSync(kept).size, s.slotLen, `B keeps ${kept}`);
    s.kept = kept;
    s.price = BigInt(s.params.minPrice);
    s.held = (await storageHeld(api, dave.address)) - heldBefore;
    assert.equal(s.held, s.price * BigInt(EPOCHS), "Dave's Storage::Order hold is price x 1 slot x the epochs");
  });

  step('retrieval: delegated routing finds B, its trustless gateway serves a CAR, raw blocks and ranges that verify', 2 * 60_000, async (t) => {
    const { probeBase } = ctx();
    const cid = CID.parse(s.cid);
    const routing = delegatedRoutingV1HttpApiClient({ url: probeBase(), cacheTTL: 0 })({ logger: defaultLogger() });
    const providers = [];
    for await (const provider of routing.getProviders(cid, { signal: AbortSignal.timeout(30_000) })) providers.push(provider);
    t.diagnostic(`providers: ${JSON.stringify(providers.map((p) => ({ ...p, ID: p.ID?.toString() })))}`);
    assert.equal(providers.length, 1, 'one provider keeps it');
    assert.ok(providers[0].Protocols.includes('transport-ipfs-gateway-http'));
    const addr = String(providers[0].Addrs[0]);
    const port = new URL(probeBase()).port;
    assert.equal(addr, `/ip4/127.0.0.1/tcp/${port}/http`);
    const gateway = `http://127.0.0.1:${addr.split('/')[4]}`;

    const car = await fetch(`${gateway}/ipfs/${s.cid}`, { headers: { Accept: 'application/vnd.ipld.car' } });
    assert.equal(car.status, 200);
    assert.match(car.headers.get('content-type'), /^application\/vnd\.ipld\.car/);
    const blocks = await CarBlockIterator.fromBytes(new Uint8Array(await car.arrayBuffer()));
    assert.equal((await blocks.getRoots())[0].toString(), s.cid);
    const store = new MemoryBlockstore();
    let count = 0;
    for await (const { cid: blockCid, bytes } of blocks) {
      const digest = await sha256.digest(bytes);
      assert.deepEqual(digest.bytes, blockCid.multihash.bytes, `block ${blockCid} does not hash to its CID`);
      await store.put(blockCid, bytes);
      count += 1;
    }
    const entry = await exporter(`${s.cid}/data.bin`, store);
    const chunks = [];
    for await (const chunk of entry.content()) chunks.push(chunk);
    const exported = Buffer.concat(chunks);
    assert.ok(exported.equals(content(FILE_BYTES)), 'the exported file is the stored file');
    t.diagnostic(`CAR of ${count} blocks verified; the exported file (${exported.length} B) is the stored one`);

    const raw = await fetch(`${gateway}/ipfs/${s.cid}?format=raw`);
    assert.equal(raw.status, 200);
    const rawBytes = new Uint8Array(await raw.arrayBuffer());
    assert.deepEqual((await sha256.digest(rawBytes)).bytes, cid.multihash.bytes, 'the raw root block hashes to the CID');
    const range = await fetch(`${gateway}/ipfs/${s.cid}/data.bin`, { headers: { Range: 'bytes=1048570-1048590' } });
    assert.equal(range.status, 206);
    assert.ok(Buffer.from(await range.arrayBuffer()).equals(content(FILE_BYTES).subarray(1048570, 1048591)));
    const unknown = await fetch(`${gateway}/ipfs/bafkreigks6arfsq3xxfpvqrrwonchxcnu6do76auprhhfomao6c273sixm`);
    assert.equal(unknown.status, 404);

    // The real client: `dsync store get` fetches the CAR from B's gateway, checks every block
    // against the CID and writes the site as a directory.
    const got = path.join(ctx().tmpDir, 'got');
    const fetched = await runFile(clientBinaryPath(), ['store', 'get', s.cid, '-o', got, '--gateway', gateway]);
    t.diagnostic(`dsync store get: ${fetched.stderr.trim()}`);
    assert.ok(fs.readFileSync(path.join(got, 'data.bin')).equals(content(FILE_BYTES)), 'data.bin');
    assert.equal(fs.readFileSync(path.join(got, 'index.html'), 'utf8'), INDEX_HTML);
    assert.ok(fs.readFileSync(path.join(got, 'logo.png')).equals(LOGO_PNG), 'logo.png');
  });

  step('website: site.dsync names the stored site; B\'s DNS points it at B\'s gateway; headless Chromium shows the page and its image', 3 * 60_000, async (t) => {
    const { api, alice, gatewayPort, dnsPort, probeBase } = ctx();
    const tx = async (call) => {
      const res = await signSendAndWait(api, call, alice);
      assert.equal(res.dispatchError, undefined, describeDispatchError(api, res.dispatchError));
      return res;
    };
    // Commit and reveal `site` for Alice, with a content-hash record: the site's binary CID.
    const label = 'site';
    const secret = `0x${'42'.repeat(32)}`;
    const commitment = blake2AsU8a(u8aConcat(
      api.createType('Bytes', 'dsync/name-registration/v1').toU8a(),
      api.createType('Bytes', label).toU8a(),
      api.createType('AccountId', alice.address).toU8a(),
      api.createType('[u8; 32]', secret).toU8a(),
    ));
    await tx(api.tx.naming.commit(u8aToHex(commitment)));
    const name = namehash('site.dsync');
    const res = await tx(api.tx.utility.batchAll([
      api.tx.naming.register(label, alice.address, secret, 1),
      api.tx.naming.setRecords(name, 'ContentHash', [u8aToHex(CID.parse(s.cid).bytes)]),
    ]));
    assert.ok(findEvent(res.events, api.events.naming.NameRegistered), 'NameRegistered');

    // B's DNS: the name has no address record, so it gets the website gateway's (127.0.0.1).
    const dig = async (qname, type) =>
      (await runFile('dig', ['@127.0.0.1', '-p', String(dnsPort), '-q', qname, '-t', type, '+short', '+tries=1', '+time=2'])).stdout.trim();
    await waitUntil('B\'s DNS to answer site.dsync A', async () => (await dig('site.dsync', 'A')) === '127.0.0.1', {
      timeoutMs: 60_000,
      intervalMs: 1000,
    });
    assert.equal(await dig('site.dsync', 'AAAA'), '', 'no IPv6 gateway configured');

    // A real browser: every *.dsync name resolves to B's website gateway.
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [`--host-resolver-rules=MAP *.dsync 127.0.0.1:${gatewayPort}`],
    });
    try {
      const page = await browser.newPage();
      const started = Date.now();
      const response = await page.goto('http://site.dsync/', { waitUntil: 'load', timeout: 30_000 });
      assert.equal(response.status(), 200);
      assert.equal(await page.title(), 'Stored on DSYNC');
      assert.equal(await page.textContent('#greeting'), 'Hello from the DSYNC network');
      const logo = await page.evaluate(() => {
        const img = document.getElementById('logo');
        return { complete: img.complete, width: img.naturalWidth, height: img.naturalHeight };
      });
      assert.deepEqual(logo, { complete: true, width: 1, height: 1 }, 'the stored image is shown');
      t.diagnostic(`Chromium loaded http://site.dsync/ with its image in ${Date.now() - started} ms`);
      const missing = await page.goto('http://nobody.dsync/', { timeout: 30_000 });
      assert.equal(missing.status(), 404, 'a name without a site');
    } finally {
      await browser.close();
    }

    // The probe endpoint hands a site's requests to the gateway too; the gateway address serves
    // neither probes nor uploads.
    const byHost = await hostGet(new URL(probeBase()).port, 'site.dsync', '/logo.png');
    assert.equal(byHost.status, 200);
    assert.equal(byHost.headers['content-type'], 'image/png');
    assert.ok(byHost.body.equals(LOGO_PNG));
    assert.equal((await hostGet(gatewayPort, '127.0.0.1', '/dsync/health')).status, 404);
  });

  step('B proves the slot in its epoch (Bob paid, 10 % burned), the order completes, Dave is settled, B deletes the slot', 5 * 60_000, async (t) => {
    const { api, dave, bob, sameAccount } = ctx();
    const from = num((await api.rpc.chain.getHeader()).number) - 60;
    await waitUntil('the order to end', async () => !unwrapOption(await api.call.storageApi.order(s.order)), {
      timeoutMs: 4 * 60_000,
      intervalMs: 3000,
    });
    const to = num((await api.rpc.chain.getHeader()).number);
    const ofOrder = (e) => /^\d+$/.test(e.data[0].toString()) && BigInt(e.data[0].toString()) === s.order;
    const events = (await storageEvents(api, Math.max(from, 1), to)).filter(ofOrder);
    t.diagnostic(events.map((e) => `#${e.block} ${e.method} ${show(e.data)}`).join('\n'));
    const proven = events.filter((e) => e.method === 'SlotProven');
    assert.equal(proven.length, EPOCHS, 'every epoch of the term proven');
    for (const [i, e] of proven.entries()) {
      const p = e.data.toJSON();
      assert.equal(num(p.epoch ?? p[2]), s.start + i);
      assert.ok(sameAccount(api.createType('AccountId', p.provider ?? p[3]), bob), 'paid to Bob');
      assert.equal(BigInt(p.paid ?? p[4]), s.price);
      assert.equal(BigInt(p.burned ?? p[5]), s.price / 10n, 'the storage burn share is 10 %');
    }
    assert.equal(events.filter((e) => e.method === 'SlotMissed').length, 0, 'no missed epoch');
    const completed = events.find((e) => e.method === 'OrderCompleted');
    assert.ok(completed, 'OrderCompleted');
    const c = completed.data.toJSON();
    assert.equal(BigInt(c.paid ?? c[1]), s.price * BigInt(EPOCHS));
    assert.equal(BigInt(c.refunded ?? c[2]), 0n);
    assert.equal(await storageHeld(api, dave.address), 0n, "Dave's hold is released");
    // B's garbage collection (every 60 s, on finalised state) deletes the slot.
    await waitUntil('B to delete the slot', async () => !fs.existsSync(s.kept), { timeoutMs: 150_000, intervalMs: 2000 });
    // B's storage metrics: one upload kept, the acceptance's and the epoch's proofs served, the
    // slot deleted and nothing kept now; every dsync_storage_* metric the shipped monitoring
    // uses is served.
    const metric = await scrapeMetrics(ctx().metricsUrlB());
    t.diagnostic(`B's storage metrics: ${[...metric.names].filter((n) => n.startsWith('dsync_storage_')).map((n) => `${n} ${metric(n) ?? ''}`).join(', ')}`);
    assert.equal(metric('dsync_storage_uploads_total', { result: 'kept' }), 1);
    assert.ok(metric('dsync_storage_proofs_served_total') >= 1 + EPOCHS * Number(s.params.challenges), 'proofs served');
    assert.equal(metric('dsync_storage_slots_deleted_total'), 1);
    assert.equal(metric('dsync_storage_slots'), 0);
    assert.equal(metric('dsync_storage_capacity_bytes'), 2 ** 30);
    for (const name of monitoredMetrics('dsync_storage_')) {
      assert.ok(metric.names.has(name), `${name} (docs/operators/monitoring) is not served`);
    }
    // A (the verifier) fetched pieces of Bob's slot from B while the term ran, each verified
    // against the slot's root: retrievability, not only possession.
    const verifier = await scrapeMetrics(ctx().metricsUrlA());
    const passed = verifier('dsync_pos_retrievals_total', { result: 'passed' });
    const failed = verifier('dsync_pos_retrievals_total', { result: 'failed' });
    t.diagnostic(`A's retrieval checks of B: ${passed} passed, ${failed} failed`);
    assert.ok(passed >= 1, 'A fetched and verified a piece of the slot B holds');
    assert.equal(failed, 0, 'an honest provider never fails a retrieval check');
  });
}
