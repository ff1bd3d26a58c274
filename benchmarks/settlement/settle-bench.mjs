// Settled-throughput benchmark of GPU jobs on a running chain (benchmarks/settlement/run.sh):
// the driver the gpu end-to-end suite (tests/e2e/gpu-jobs.test.mjs) runs as an extra step when
// DSYNC_BENCH_SETTLE=1, on its chain (a validator, Bob's GPU service node scored by Proof of
// Sync, aivm).
//
// A client posts `jobsPerBlock` batch jobs (k = 1, `items` digits each, the batch served over
// loopback by this process) at every new best block for `blocks` blocks, in `utility.batchAll`s
// of at most JOBS_PER_BATCH jobs with explicit nonces (a batch that does not fit in a block
// waits in the pool; the next ones queue behind it). The provider's off-chain worker downloads each batch, runs it on `aivm`'s binary
// endpoint, commits and reveals; every job then waits out its challenge window and is paid
// in `on_initialize`. The benchmark reads every block's events until the last job ended and
// reports jobs and inferences posted, concluded (result revealed) and settled (paid) per
// second of chain time (block timestamps), plus every job that did not settle.
//
// It only measures; the suite that runs it asserts the work was real (jobs settled, paid).

import { hostname, cpus, totalmem } from 'node:os';
import http from 'node:http';
import { writeFileSync } from 'node:fs';

// The @polkadot packages live in tests/e2e/node_modules, which an import from this directory
// cannot find (ES modules resolve bare names from the importing file's directory upwards and
// ignore NODE_PATH): they come through the e2e library, a relative import.
import { blake2AsU8a, u8aToHex } from '../../tests/e2e/lib/chain.mjs';

/** The benchmark's settings from the environment, or null when it is not asked for. */
export function settleBenchConfig(env = process.env) {
  if (env.DSYNC_BENCH_SETTLE !== '1') return null;
  const int = (name, fallback) => {
    const v = Number(env[name] ?? fallback);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, not ${env[name]}`);
    return v;
  };
  return {
    blocks: int('DSYNC_BENCH_BLOCKS', 20),
    jobsPerBlock: int('DSYNC_BENCH_JOBS_PER_BLOCK', 40),
    items: int('DSYNC_BENCH_ITEMS', 16_384),
    deadlineBlocks: int('DSYNC_BENCH_DEADLINE_BLOCKS', 10),
    out: env.DSYNC_BENCH_OUT ?? null,
  };
}

/** `items` digits-like items of `inputLen` values in 0..=16 (deterministic), as bytes. */
export function batchBytes(items, inputLen, seed = 1) {
  const bytes = new Uint8Array(items * inputLen);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes.length; i += 1) {
    // xorshift32
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    bytes[i] = x % 17;
  }
  return bytes;
}

/** dsync_aivm_core::batch_merkle_root: pairs hashed as blake2_256(0x01 ++ l ++ r), odd promoted. */
export function merkleRoot(leaves) {
  if (leaves.length === 0) return new Uint8Array(32);
  let level = leaves;
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i < level.length; i += 2) {
      if (i + 1 < level.length) {
        const pre = new Uint8Array(65);
        pre[0] = 0x01;
        pre.set(level[i], 1);
        pre.set(level[i + 1], 33);
        next.push(blake2AsU8a(pre, 256));
      } else {
        next.push(level[i]);
      }
    }
    level = next;
  }
  return level[0];
}

/** pallet_gpu_jobs::inputs_root: the Merkle root of blake2_256 of each item's bytes. */
export function inputsRoot(bytes, inputLen) {
  const leaves = [];
  for (let at = 0; at + inputLen <= bytes.length; at += inputLen) {
    leaves.push(blake2AsU8a(bytes.subarray(at, at + inputLen), 256));
  }
  return u8aToHex(merkleRoot(leaves));
}

/** Serve `bytes` at `GET http://127.0.0.1:{port}/batch`; { url, close, downloads() }. */
export async function serveBatch(bytes) {
  let downloads = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/batch') {
      downloads += 1;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length });
      res.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/batch`,
    downloads: () => downloads,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The most `postJob` calls in one `utility.batchAll` (about 0.4 s of the block's weight). */
const JOBS_PER_BATCH = 16;

/** The job events this benchmark counts, by `section.method`. */
const COUNTED = [
  'gpuJobs.JobPosted',
  'gpuJobs.JobConcluded',
  'gpuJobs.JobSettled',
  'gpuJobs.JobExpired',
  'gpuJobs.JobRefunded',
  'gpuJobs.JobDisputed',
  'gpuJobs.ProviderPaymentFailed',
  'gpuJobs.ProviderPenalised',
];

/**
 * Run the benchmark. `ctx`: { api, client (a keyring pair), model: { id, hash, inputLen,
 * priceFloor }, params: { minDeadline, disputePeriod }, finalizedNumber() (async), log }.
 * Returns the results object (also written to `config.out` as JSON when set).
 */
export async function runSettleBench(ctx, config) {
  const { api, client, model, params, log } = ctx;
  if (config.deadlineBlocks < params.minDeadline + 2) {
    throw new Error(`deadline ${config.deadlineBlocks} leaves no slack over min_deadline ${params.minDeadline}`);
  }
  const bytes = batchBytes(config.items, model.inputLen);
  const inputsHash = inputsRoot(bytes, model.inputLen);
  const batch = await serveBatch(bytes);
  const price = model.priceFloor * BigInt(config.items);
  log(
    `posting ${config.jobsPerBlock} jobs x ${config.items} items per block for ${config.blocks} blocks ` +
      `(batch ${bytes.length} bytes at ${batch.url}, inputs hash ${inputsHash}, price ${price})`,
  );

  // Post at each new best block.
  const submissions = [];
  let nonce = (await api.rpc.system.accountNextIndex(client.address)).toNumber();
  let posted = 0;
  let firstHead = null;
  let lastDeadline = 0;
  await new Promise((resolve, reject) => {
    let unsubscribe = null;
    let busy = false;
    api.rpc.chain
      .subscribeNewHeads(async (header) => {
        if (busy || posted >= config.blocks) return;
        busy = true;
        try {
          const head = header.number.toNumber();
          firstHead ??= head;
          const deadline = head + config.deadlineBlocks;
          lastDeadline = Math.max(lastDeadline, deadline);
          for (let done = 0; done < config.jobsPerBlock; done += JOBS_PER_BATCH) {
            const count = Math.min(JOBS_PER_BATCH, config.jobsPerBlock - done);
            const calls = Array.from({ length: count }, () =>
              api.tx.gpuJobs.postJob(
                model.id,
                { Batch: { items: config.items, inputsHash, url: batch.url } },
                1,
                price,
                deadline,
              ),
            );
            const hash = await api.tx.utility.batchAll(calls).signAndSend(client, { nonce });
            nonce += 1;
            submissions.push({ head, deadline, jobs: count, hash: hash.toHex() });
          }
          posted += 1;
          if (posted >= config.blocks) {
            unsubscribe?.();
            resolve();
          }
        } catch (e) {
          unsubscribe?.();
          reject(e);
        } finally {
          busy = false;
        }
      })
      .then((u) => {
        unsubscribe = u;
      }, reject);
  });
  log(`sent ${submissions.length} batches in ${posted} blocks from best #${firstHead}; last deadline #${lastDeadline}`);

  // Wait until every job can have ended: its dispute end, plus slack for the expiry cursor.
  const endBlock = lastDeadline + params.disputePeriod + 4;
  const waitStart = Date.now();
  const maxWaitMs = (endBlock - firstHead + 20) * 12_000;
  for (;;) {
    const fin = await ctx.finalizedNumber();
    if (fin >= endBlock) break;
    if (Date.now() - waitStart > maxWaitMs) throw new Error(`finality did not reach #${endBlock} (at #${fin})`);
    await new Promise((r) => setTimeout(r, 3000));
  }
  await batch.close();

  // Read every block's events and timestamp.
  const blocks = [];
  const totals = Object.fromEntries(COUNTED.map((k) => [k, 0]));
  const clientHex = u8aToHex(client.publicKey);
  const ours = new Set();
  let extrinsicFailures = 0;
  for (let n = firstHead; n <= endBlock; n += 1) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const at = await api.at(hash);
    const [records, now] = await Promise.all([at.query.system.events(), at.query.timestamp.now()]);
    const counts = Object.fromEntries(COUNTED.map((k) => [k, 0]));
    for (const { event } of records) {
      const key = `${event.section}.${event.method}`;
      if (key === 'system.ExtrinsicFailed') extrinsicFailures += 1;
      if (!COUNTED.includes(key)) continue;
      // Every counted event has the job first; JobPosted has the client second.
      const job = event.data[0].toBigInt();
      if (key === 'gpuJobs.JobPosted') {
        if (u8aToHex(event.data[1]) !== clientHex) continue;
        ours.add(job);
      } else if (!ours.has(job)) {
        continue;
      }
      counts[key] += 1;
      totals[key] += 1;
    }
    blocks.push({ number: n, timestamp: now.toNumber(), ...counts });
  }

  const ts = new Map(blocks.map((b) => [b.number, b.timestamp]));
  const rate = (key) => {
    const hits = blocks.filter((b) => b[key] > 0);
    if (hits.length === 0) return { jobs: 0, firstBlock: null, lastBlock: null, seconds: 0, jobsPerSecond: 0, inferencesPerSecond: 0 };
    const first = hits[0].number;
    const last = hits.at(-1).number;
    // From the end of the block before the first to the end of the last: whole blocks of work.
    const seconds = ((ts.get(last) ?? 0) - (ts.get(first - 1) ?? ts.get(first) - 6000)) / 1000;
    const jobs = hits.reduce((acc, b) => acc + b[key], 0);
    return {
      jobs,
      firstBlock: first,
      lastBlock: last,
      seconds,
      jobsPerSecond: jobs / seconds,
      inferencesPerSecond: (jobs * config.items) / seconds,
    };
  };
  const perBlockSettled = blocks.filter((b) => b['gpuJobs.JobSettled'] > 0).map((b) => b['gpuJobs.JobSettled']);
  const results = {
    date: new Date().toISOString(),
    machine: { host: hostname(), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    config: { ...config, out: undefined, replication: 1, model: model.hash, price: price.toString() },
    totals: { ...totals, extrinsicFailures },
    posted: rate('gpuJobs.JobPosted'),
    concluded: rate('gpuJobs.JobConcluded'),
    settled: rate('gpuJobs.JobSettled'),
    settledPerBlock: {
      blocks: perBlockSettled.length,
      max: Math.max(0, ...perBlockSettled),
      min: perBlockSettled.length ? Math.min(...perBlockSettled) : 0,
    },
    batchDownloads: batch.downloads(),
    blocks,
  };
  if (config.out) writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`);
  return results;
}
