// The JavaScript side of the CID oracle (cid.test.mjs): CIDs of files and directories on disk as
// the official IPFS importer (`ipfs-unixfs-importer`) computes them for the "unixfs-v1-2025"
// profile (CIDv1, sha2-256, raw leaves, fixed-size chunks of 1 MiB, balanced DAG of at most
// 1024 links per node, flat UnixFS directories), and deterministic test content.
//
// The importer options are spelled out (not only `profile: 'unixfs-v1-2025'`) so that the
// chunk size and the links per node can be made small; `importerOptions()` with the defaults is
// what the profile sets (ipfs-unixfs-importer 17.1.1, dist/src/index.js, the
// `options.profile === 'unixfs-v1-2025'` branch), which cid.test.mjs also checks.

import fs from 'node:fs';
import path from 'node:path';

import { MemoryBlockstore } from 'blockstore-core/memory';
import { importer } from 'ipfs-unixfs-importer';
import { fixedSize } from 'ipfs-unixfs-importer/chunker';
import { balanced } from 'ipfs-unixfs-importer/layout';

/** Chunk size of the unixfs-v1-2025 profile (bytes). */
export const CHUNK_SIZE = 1_048_576;
/** Most links per node of the unixfs-v1-2025 profile's balanced layout. */
export const MAX_LINKS = 1024;
/**
 * A flat directory becomes a HAMT shard once its block would be larger than this many bytes
 * (importer option `shardSplitThresholdBytes`, default 262,144; with the profile's
 * `shardSplitStrategy: 'block-bytes'` the exact size of the encoded directory block is
 * compared, with '>'). The Rust side supports flat directories only.
 */
export const SHARD_SPLIT_THRESHOLD_BYTES = 262_144;

/** Importer options for the unixfs-v1-2025 profile, with the chunk size and links per node given. */
export function importerOptions({ chunkSize = CHUNK_SIZE, maxLinks = MAX_LINKS } = {}) {
  return {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize }),
    layout: balanced({ maxChildrenPerNode: maxLinks }),
    shardSplitStrategy: 'block-bytes',
    shardSplitThresholdBytes: SHARD_SPLIT_THRESHOLD_BYTES,
    fieldOrder: 'links-first',
    wrapWithDirectory: false,
  };
}

/** Names in a directory, sorted by their bytes (the order does not change any CID). */
function sortedEntries(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/**
 * Import candidates for `root` (a file or a directory), every path starting with
 * `basename(root)`: one per file (content streamed from disk) and one without content per
 * empty directory (the root included, if empty). Directories with entries are not candidates:
 * the tree builder creates them from their entries' paths (a directory candidate imported after
 * its entries would replace them).
 */
export function importCandidates(root) {
  const base = path.basename(root);
  const out = [];
  const walk = (abs, rel) => {
    const st = fs.statSync(abs);
    if (st.isFile()) {
      out.push({ path: rel, content: fs.createReadStream(abs) });
    } else if (st.isDirectory()) {
      const entries = sortedEntries(abs);
      if (entries.length === 0) out.push({ path: rel });
      for (const e of entries) walk(path.join(abs, e.name), `${rel}/${e.name}`);
    } else {
      throw new Error(`not a file or a directory: ${abs}`);
    }
  };
  walk(root, base);
  return out;
}

/**
 * Imports `root` (file or directory) with `options` and returns the importer's entry for
 * `root` itself: `{ cid, path, unixfs, size }` (`unixfs` is undefined for a raw leaf), plus the
 * blockstore holding every block.
 */
export async function importPath(root, options = importerOptions()) {
  const base = path.basename(root);
  const blockstore = new MemoryBlockstore();
  const found = [];
  for await (const entry of importer(importCandidates(root), blockstore, options)) {
    if (entry.path === base) found.push(entry);
  }
  if (found.length !== 1) {
    throw new Error(`the importer gave ${found.length} entries for path '${base}' (expected 1)`);
  }
  return { ...found[0], blockstore };
}

/** The CIDv1 (base32 string) the importer gives `root` (file or directory) with `options`. */
export async function jsCid(root, options = importerOptions()) {
  return (await importPath(root, options)).cid.toString();
}

/**
 * Deterministic bytes: xorshift32 (13, 17, 5) from a non-zero 32-bit seed, each state written
 * little-endian (4 bytes per step). `next(n)` returns the next n bytes of the stream.
 */
export function prngStream(seed) {
  let x = seed >>> 0 || 0x9e3779b9;
  let pending = Buffer.alloc(0);
  return {
    next(n) {
      const out = Buffer.allocUnsafe(n);
      let o = 0;
      const fromPending = Math.min(pending.length, n);
      pending.copy(out, 0, 0, fromPending);
      pending = pending.subarray(fromPending);
      o = fromPending;
      while (o + 4 <= n) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        out.writeUInt32LE(x >>> 0, o);
        o += 4;
      }
      if (o < n) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        const word = Buffer.allocUnsafe(4);
        word.writeUInt32LE(x >>> 0, 0);
        word.copy(out, o, 0, n - o);
        pending = word.subarray(n - o);
      }
      return out;
    },
  };
}

/** Writes `size` PRNG bytes (seed `seed`) to `file`, 1 MiB at a time. */
export async function writePrngFile(file, size, seed) {
  const rng = prngStream(seed);
  const fh = await fs.promises.open(file, 'w');
  try {
    for (let left = size; left > 0; ) {
      const n = Math.min(left, 1 << 20);
      await fh.write(rng.next(n));
      left -= n;
    }
  } finally {
    await fh.close();
  }
}
