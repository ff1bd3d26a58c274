// End-to-end test of names and DNS against `dsync-node --dev --base-path <temp> --dns-listen-addr ...`.
//
// Run: node --test --test-concurrency=1 naming.test.mjs   (or ./run.sh naming)
// Needs `dig` (Debian: bind9-dnsutils) and NSD (Debian: nsd, run by the test on a port of its
// own as the reference authoritative server); scripts/setup.sh installs both.
//
// A name is registered by commit and reveal with @polkadot/api and given A, AAAA, TXT and MX
// records, a CNAME subname and a `_dmarc` TXT subname (a service label) in one batch; once that block is finalised, `dig` against the
// node's DNS server gets exactly those records (UDP and TCP), NSD serving the same records as a
// zone file gives the same answers (status, AA, answer and additional sections: the alias
// followed, the mail exchanger's address), the runtime API agrees, other
// zones are REFUSED, unknown names are NXDOMAIN, malformed packets do not stop the server, and
// after the development preset's 20-block year the name is NXDOMAIN. Last, the node is restarted
// on its base path with the try-runtime Wasm ($DSYNC_TRY_RUNTIME_DIR) and every pallet's
// try_state runs on the final state (lib/try-runtime.mjs).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { Keyring } from '@polkadot/keyring';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, cryptoWaitReady } from '@polkadot/util-crypto';

import { connectApi, describeDispatchError, findEvent, signSendAndWait } from './lib/chain.mjs';
import { monitoredMetrics } from './lib/monitoring.mjs';
import { dumpLogs, getFreePorts, makeTempDir, NodeProcess, removeTempDir, scrapeMetrics, sleep, waitUntil } from './lib/node.mjs';
import { stepTryState } from './lib/try-runtime.mjs';

const run = promisify(execFile);
const SS58 = 7373;
const SECRET = `0x${'42'.repeat(32)}`;

let tmpDir;
let node;
let api;
let alice;
let dnsPort;
let metricsUrl;
let anyFailed = false;
let expires;

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

/** The id of a full name: blake2_256(parent ‖ blake2_256(label)) from the top-level domain. */
function namehash(name) {
  const labels = name.split('.').reverse();
  let id = new Uint8Array(32);
  for (const label of labels) id = blake2AsU8a(u8aConcat(id, blake2AsU8a(stringToU8a(label))));
  return u8aToHex(id);
}

/**
 * `dig @127.0.0.1 -p <port> -q <name> -t <type> <options>` (name and type given with -q and -t:
 * dig would read a bare `dsync` as an option): { status, flags, answers: [{ name, ttl, type, data }] }.
 * Raises when dig finds no server.
 */
async function dig(name, type, ...options) {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(dnsPort),
    '-q',
    name,
    '-t',
    type,
    '+time=3',
    '+tries=2',
    '+noall',
    '+comments',
    '+answer',
    '+authority',
    ...options,
  ]);
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1];
  const flags = /flags: ([a-z ]+);/.exec(stdout)?.[1]?.trim().split(' ') ?? [];
  const sections = stdout.split('\n').filter((line) => line && !line.startsWith(';'));
  const records = sections.map((line) => {
    const [name, ttl, , type, ...data] = line.split(/\s+/);
    return { name, ttl: Number(ttl), type, data: data.join(' ') };
  });
  if (!status) throw new Error(`dig gave no status:\n${stdout}`);
  return { status, flags, records, stdout };
}

const answers = (result, type) => result.records.filter((r) => r.type === type);

/**
 * `dig` against the server on 127.0.0.1:`port` with every section:
 * { status, flags, sections: { ANSWER, AUTHORITY, ADDITIONAL: [{ name, ttl, type, data }] } }
 * (the OPT pseudo-record left out).
 */
async function digAt(port, name, type) {
  const { stdout } = await run('dig', [
    '@127.0.0.1', '-p', String(port), '-q', name, '-t', type,
    '+time=3', '+tries=2', '+noall', '+comments', '+answer', '+authority', '+additional', '+noedns',
  ]);
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1];
  if (!status) throw new Error(`dig gave no status:\n${stdout}`);
  const flags = /flags: ([a-z ]+);/.exec(stdout)?.[1]?.trim().split(' ') ?? [];
  const sections = { ANSWER: [], AUTHORITY: [], ADDITIONAL: [] };
  let current = null;
  for (const line of stdout.split('\n')) {
    const header = /^;; ([A-Z]+) SECTION:/.exec(line);
    if (header) current = sections[header[1]] ?? null;
    else if (line && !line.startsWith(';') && current) {
      const [owner, ttl, , rtype, ...data] = line.split(/\s+/);
      current.push({ name: owner.toLowerCase(), ttl: Number(ttl), type: rtype, data: data.join(' ') });
    }
  }
  return { status, flags, sections };
}

async function tx(call) {
  const result = await signSendAndWait(api, call, alice);
  if (result.dispatchError) throw new Error(describeDispatchError(api, result.dispatchError));
  return result;
}

describe('names served over DNS', { timeout: 12 * 60_000 }, () => {
  before(
    async () => {
      await cryptoWaitReady();
      tmpDir = makeTempDir('dsync-e2e-naming-');
      const [p2pPort, rpcPort, dns, prometheus] = await getFreePorts(4);
      dnsPort = dns;
      metricsUrl = `http://127.0.0.1:${prometheus}/metrics`;
      node = new NodeProcess({
        name: 'dns',
        rpcPort,
        logDir: tmpDir,
        args: [
          '--dev',
          // not --tmp: the last step restarts the node on its state
          '--base-path',
          path.join(tmpDir, 'dns'),
          '--listen-addr',
          `/ip4/127.0.0.1/tcp/${p2pPort}`,
          // Prometheus on loopback: the DNS server's dsync_* metrics are checked.
          '--prometheus-port',
          `${prometheus}`,
          '--no-telemetry',
          '--no-mdns',
          '--dns-listen-addr',
          `127.0.0.1:${dnsPort}`,
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
      alice = new Keyring({ type: 'sr25519', ss58Format: SS58 }).addFromUri('//Alice');
    },
    { timeout: 5 * 60_000 },
  );

  after(async () => {
    if (api) await api.disconnect().catch(() => {});
    if (node) await node.stop();
    if (anyFailed) console.error(`[e2e] logs kept in ${tmpDir}`);
    else removeTempDir(tmpDir);
  });

  step('the zone apex has SOA and NS; other zones are refused; unknown names do not exist', 60_000, async () => {
    const soa = await dig('dsync', 'SOA');
    assert.equal(soa.status, 'NOERROR');
    assert.ok(soa.flags.includes('aa'), 'authoritative answer');
    assert.equal(answers(soa, 'SOA').length, 1);
    const ns = await dig('dsync', 'NS');
    assert.equal(answers(ns, 'NS').length, 1);
    assert.equal((await dig('example.com', 'A')).status, 'REFUSED');
    assert.equal((await dig('.', 'NS')).status, 'REFUSED');
    const missing = await dig('nobody-here.dsync', 'A');
    assert.equal(missing.status, 'NXDOMAIN');
    assert.equal(answers(missing, 'SOA').length, 1, 'the SOA comes with NXDOMAIN');
  });

  step('a name registered with records is answered by dig from finalised state', 4 * 60_000, async (t) => {
    // 5 DSYNC for a year of a 5-letter name on the development chain.
    const price = await api.call.namingApi.price('alice', 1);
    assert.equal(price.unwrap().toBigInt(), 5n * 10n ** 18n, 'alice.dsync is available');

    // commit, then reveal in a later block
    const owner = alice.address;
    const label = 'alice';
    // dsync_primitives::commit_reveal::commitment(Domain::NameRegistration, (label, owner, secret)):
    // blake2_256 of the domain tag (a SCALE byte string), then the SCALE payload.
    const encoded = u8aConcat(
      api.createType('Bytes', 'dsync/name-registration/v1').toU8a(),
      api.createType('Bytes', label).toU8a(),
      api.createType('AccountId', owner).toU8a(),
      api.createType('[u8; 32]', SECRET).toU8a(),
    );
    await tx(api.tx.naming.commit(u8aToHex(blake2AsU8a(encoded))));

    const name = namehash('alice.dsync');
    const www = namehash('www.alice.dsync');
    const batch = api.tx.utility.batchAll([
      api.tx.naming.register(label, owner, SECRET, 1),
      api.tx.naming.setRecords(name, 'A', ['0xc0000201', '0xc0000202']),
      api.tx.naming.setRecords(name, 'Aaaa', [`0x20010db8${'0'.repeat(22)}01`]),
      api.tx.naming.setRecords(name, 'Txt', ['hello from dsync']),
      api.tx.naming.setRecords(name, 'Mx', [u8aToHex(u8aConcat(new Uint8Array([0, 10]), stringToU8a('mail.alice.dsync')))]),
      api.tx.naming.setTtl(name, 120),
      api.tx.naming.setSubname(name, 'www', owner),
      api.tx.naming.setRecords(www, 'Cname', ['alice.dsync']),
      // A service label (underscore): a DMARC policy, as mail hosts publish it.
      api.tx.naming.setSubname(name, '_dmarc', owner),
      api.tx.naming.setRecords(namehash('_dmarc.alice.dsync'), 'Txt', ['v=DMARC1; p=none']),
      // The mail exchanger's own name, in the zone: its address goes with MX answers.
      api.tx.naming.setSubname(name, 'mail', owner),
      api.tx.naming.setRecords(namehash('mail.alice.dsync'), 'A', ['0xc0000219']),
    ]);
    const result = await tx(batch);
    const registered = findEvent(result.events, api.events.naming.NameRegistered);
    assert.ok(registered, 'NameRegistered');
    expires = registered.event.data.expires.toNumber();
    t.diagnostic(`registered in a finalised block, expires after block ${expires}`);

    const a = await dig('alice.dsync', 'A');
    assert.equal(a.status, 'NOERROR');
    assert.ok(a.flags.includes('aa'));
    assert.deepEqual(answers(a, 'A').map((r) => r.data).sort(), ['192.0.2.1', '192.0.2.2']);
    assert.ok(answers(a, 'A').every((r) => r.ttl === 120), 'the TTL set on chain');

    const aaaa = await dig('alice.dsync', 'AAAA');
    assert.deepEqual(answers(aaaa, 'AAAA').map((r) => r.data), ['2001:db8::1']);
    const txt = await dig('alice.dsync', 'TXT');
    assert.deepEqual(answers(txt, 'TXT').map((r) => r.data), ['"hello from dsync"']);
    const mx = await dig('alice.dsync', 'MX');
    assert.deepEqual(answers(mx, 'MX').map((r) => r.data), ['10 mail.alice.dsync.']);
    const dmarc = await dig('_DMARC.alice.dsync', 'TXT');
    assert.deepEqual(answers(dmarc, 'TXT').map((r) => r.data), ['"v=DMARC1; p=none"']);
    const cname = await dig('www.alice.dsync', 'CNAME');
    assert.deepEqual(answers(cname, 'CNAME').map((r) => r.data), ['alice.dsync.']);
    // An A query for the alias gets the CNAME.
    const alias = await dig('WWW.Alice.DSYNC', 'A');
    assert.equal(answers(alias, 'CNAME').length, 1);
    // No record of a type: NOERROR without answers (NODATA), with the SOA.
    const nodata = await dig('alice.dsync', 'SRV');
    assert.equal(nodata.status, 'NOERROR');
    assert.equal(answers(nodata, 'SRV').length, 0);
    assert.equal(answers(nodata, 'SOA').length, 1);
    // Over TCP too.
    const tcp = await dig('alice.dsync', 'A', '+tcp');
    assert.deepEqual(answers(tcp, 'A').map((r) => r.data).sort(), ['192.0.2.1', '192.0.2.2']);

    // The runtime API agrees.
    const records = (await api.call.namingApi.records('alice.dsync')).unwrap();
    assert.equal(records.ttl.toNumber(), 120);
    assert.equal(records.records.filter(([kind]) => kind.isA).length, 2);
    assert.equal(records.records.filter(([kind]) => kind.isMx).length, 1);
  });

  step('NSD serving the same records gives the same answers (an authoritative server side by side)', 90_000, async (t) => {
    // The zone NSD serves: what the chain holds, with each name's TTL from the runtime API.
    const ttlOf = async (n) => (await api.call.namingApi.records(n)).unwrap().ttl.toNumber();
    const [aliceTtl, wwwTtl, dmarcTtl, mailTtl] = await Promise.all(
      ['alice.dsync', 'www.alice.dsync', '_dmarc.alice.dsync', 'mail.alice.dsync'].map(ttlOf),
    );
    const zone = [
      '$ORIGIN dsync.',
      '@ 3600 IN SOA ns1.dsync. hostmaster.dsync. 1 3600 600 1209600 60',
      '@ 3600 IN NS ns1.dsync.',
      `alice ${aliceTtl} IN A 192.0.2.1`,
      `alice ${aliceTtl} IN A 192.0.2.2`,
      `alice ${aliceTtl} IN AAAA 2001:db8::1`,
      `alice ${aliceTtl} IN TXT "hello from dsync"`,
      `alice ${aliceTtl} IN MX 10 mail.alice.dsync.`,
      `www.alice ${wwwTtl} IN CNAME alice.dsync.`,
      `_dmarc.alice ${dmarcTtl} IN TXT "v=DMARC1; p=none"`,
      `mail.alice ${mailTtl} IN A 192.0.2.25`,
      '',
    ].join('\n');
    const nsdDir = path.join(tmpDir, 'nsd');
    fs.mkdirSync(nsdDir, { recursive: true });
    fs.writeFileSync(path.join(nsdDir, 'dsync.zone'), zone);
    const [nsdPort] = await getFreePorts(1);
    fs.writeFileSync(
      path.join(nsdDir, 'nsd.conf'),
      [
        'server:',
        `  ip-address: 127.0.0.1@${nsdPort}`,
        '  do-ip6: no',
        '  server-count: 1',
        '  username: ""',
        '  chroot: ""',
        `  zonesdir: "${nsdDir}"`,
        `  pidfile: "${nsdDir}/nsd.pid"`,
        `  xfrdfile: "${nsdDir}/xfrd.state"`,
        `  xfrdir: "${nsdDir}"`,
        `  zonelistfile: "${nsdDir}/zone.list"`,
        `  logfile: "${nsdDir}/nsd.log"`,
        'remote-control:',
        '  control-enable: no',
        'zone:',
        '  name: "dsync."',
        '  zonefile: "dsync.zone"',
        '',
      ].join('\n'),
    );
    const nsd = spawn(process.env.NSD ?? '/usr/sbin/nsd', ['-d', '-c', path.join(nsdDir, 'nsd.conf')], { stdio: 'ignore' });
    try {
      await waitUntil('NSD to answer', async () => (await digAt(nsdPort, 'alice.dsync', 'A').catch(() => null))?.status === 'NOERROR', {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
      // The records of a section, sorted; SOAs by type only (the serial is the block number).
      const section = (result, name) =>
        result.sections[name].map((r) => (r.type === 'SOA' ? 'SOA' : `${r.name} ${r.ttl} ${r.type} ${r.data}`)).sort();
      const queries = [
        ['alice.dsync', 'A'],
        ['alice.dsync', 'AAAA'],
        ['alice.dsync', 'TXT'],
        ['alice.dsync', 'MX'],
        ['alice.dsync', 'SRV'],
        ['www.alice.dsync', 'A'],
        ['www.alice.dsync', 'TXT'],
        ['www.alice.dsync', 'CNAME'],
        ['_dmarc.alice.dsync', 'TXT'],
        ['mail.alice.dsync', 'A'],
        ['nobody.dsync', 'A'],
        ['nobody.alice.dsync', 'TXT'],
      ];
      for (const [qname, type] of queries) {
        const ours = await digAt(dnsPort, qname, type);
        const theirs = await digAt(nsdPort, qname, type);
        const what = `${qname} ${type}`;
        assert.equal(ours.status, theirs.status, `${what}: status`);
        assert.equal(ours.flags.includes('aa'), theirs.flags.includes('aa'), `${what}: AA`);
        assert.deepEqual(section(ours, 'ANSWER'), section(theirs, 'ANSWER'), `${what}: answer section`);
        assert.deepEqual(section(ours, 'ADDITIONAL'), section(theirs, 'ADDITIONAL'), `${what}: additional section`);
        if (ours.sections.ANSWER.length === 0) {
          assert.deepEqual(section(ours, 'AUTHORITY'), section(theirs, 'AUTHORITY'), `${what}: authority (negative answer)`);
        }
      }
      t.diagnostic(`${queries.length} queries answered alike by dsync-node and NSD`);
    } finally {
      nsd.kill('SIGTERM');
    }
  });

  step('malformed packets do not stop the server', 60_000, async () => {
    const socket = dgram.createSocket('udp4');
    const send = (bytes) =>
      new Promise((resolve, reject) =>
        socket.send(Buffer.from(bytes), dnsPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    await send([]);
    await send([1, 2, 3]);
    await send(Array.from({ length: 512 }, (_, i) => (i * 37) & 0xff));
    // A header claiming 5 questions and nothing after it.
    await send([0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0]);
    socket.close();
    await sleep(500);
    node.assertRunning();
    const a = await dig('alice.dsync', 'A');
    assert.equal(answers(a, 'A').length, 2);
  });

  step('the DNS metrics on the Prometheus endpoint count the queries by response code', 60_000, async () => {
    const before = await scrapeMetrics(metricsUrl);
    const count = (read, name, labels) => read(name, labels) ?? 0;
    for (let i = 0; i < 3; i++) assert.equal((await dig(`missing-${i}.dsync`, 'A')).status, 'NXDOMAIN');
    assert.equal((await dig('example.com', 'A')).status, 'REFUSED');
    assert.equal(answers(await dig('alice.dsync', 'A'), 'A').length, 2);
    const after = await scrapeMetrics(metricsUrl);
    const delta = (name, labels) => count(after, name, labels) - count(before, name, labels);
    // dig retries only on a timeout, which loopback does not have: exact counts.
    assert.equal(delta('dsync_dns_queries_total'), 5);
    assert.equal(delta('dsync_dns_responses_total', { rcode: 'NXDOMAIN' }), 3);
    assert.equal(delta('dsync_dns_responses_total', { rcode: 'REFUSED' }), 1);
    assert.equal(delta('dsync_dns_responses_total', { rcode: 'NOERROR' }), 1);
    assert.equal(delta('dsync_dns_rate_limited_total', { limit: 'source' }), 0);
    assert.ok(after('dsync_dns_cache_total', { result: 'hit' }) !== undefined, 'cache counters are served');
    // The shipped dashboard and alert rules (docs/operators/monitoring) use only served metrics.
    for (const name of [...monitoredMetrics('substrate_'), ...monitoredMetrics('dsync_dns_')]) {
      assert.ok(after.names.has(name), `${name} (docs/operators/monitoring) is not served`);
    }
    // The probe's and the verifier worker's are checked by the proof-of-sync suite, the GPU
    // worker's and the storage node's by the gpu suite; any other family needs its own check.
    for (const name of monitoredMetrics('dsync_')) {
      assert.match(name, /^dsync_(dns|probe|pos|gpu|storage)_/, `${name}: no suite checks it`);
    }
  });

  step('after its year, the name is NXDOMAIN', 5 * 60_000, async (t) => {
    let result;
    for (;;) {
      result = await dig('alice.dsync', 'A');
      if (result.status === 'NXDOMAIN') break;
      await sleep(3000);
    }
    const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
    t.diagnostic(`NXDOMAIN at finalised block ${finalized} (expired after ${expires})`);
    assert.ok(finalized > expires, 'not before the expiry');
    assert.equal((await dig('www.alice.dsync', 'A')).status, 'NXDOMAIN');
    assert.equal((await api.call.namingApi.records('alice.dsync')).isNone, true);
  });

  stepTryState(step, () => node, { getApis: () => [api] });
});
