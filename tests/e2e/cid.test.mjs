// CIDs computed by the Rust client (`dsync store cid`) against the official JavaScript IPFS
// importer (`ipfs-unixfs-importer`), profile "unixfs-v1-2025": CIDv1, sha2-256, raw leaves,
// fixed-size chunks of 1 MiB, balanced DAG of at most 1024 links per node, flat UnixFS
// directories. No chain node is needed.
//
// Run: node --test --test-concurrency=1 cid.test.mjs   (or ./run.sh cid)
// Binary: $DSYNC_CLIENT, else ${CARGO_TARGET_DIR:-$HOME/.cache/dsync-target}/release/dsync
//
// Interface checked: `dsync store cid <PATH> [--chunk-size BYTES] [--max-links N]` prints one
// line, the CIDv1 in base32, of a file or of a directory (the directory's own CID). The importer
// side (lib/unixfs.mjs) imports every entry under `<basename>/<relative path>` (empty
// directories as entries without content, no wrapping directory) and takes the entry whose path
// is `<basename>`. Cases: files of 0 B, 1 B, 1 MiB, 1 MiB + 1 B and 100 MiB with the profile's
// parameters; files whose DAGs have several levels with 1 KiB chunks and 4 links per node; a
// small website directory with both parameter sets; an empty directory; a path that does not
// exist (non-zero exit, the path on stderr). Each default-profile case also checks that the
// importer's explicit options equal its `profile: 'unixfs-v1-2025'`. Every file's
// content is deterministic (xorshift32), every case runs in its own temp dir under os.tmpdir(),
// removed at the end (kept with DSYNC_E2E_KEEP=1).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import { importer } from 'ipfs-unixfs-importer';
import { MemoryBlockstore } from 'blockstore-core/memory';

import {
  CHUNK_SIZE,
  importCandidates,
  importerOptions,
  importPath,
  MAX_LINKS,
  prngStream,
  SHARD_SPLIT_THRESHOLD_BYTES,
  writePrngFile,
} from './lib/unixfs.mjs';
import { clientBinaryPath } from './lib/node.mjs';

const runFile = promisify(execFile);

const MIB = 1024 * 1024;
/** The multi-level parameters: 1 KiB chunks, 4 links per node. */
const SMALL = { chunkSize: 1024, maxLinks: 4 };
const SMALL_ARGS = ['--chunk-size', String(SMALL.chunkSize), '--max-links', String(SMALL.maxLinks)];


// A missing binary fails the file at once with this message (not a skip).
const bin = clientBinaryPath();
try {
  fs.accessSync(bin, fs.constants.X_OK);
} catch {
  throw new Error(
    `dsync client binary not found or not executable at ${bin}. ` +
      'Build it first (cargo build --release --locked --workspace) or set DSYNC_CLIENT to its path.',
  );
}

let tmpDir;

/** `dsync store cid <file> [args]`: the one line it prints, checked to be a base32 CIDv1. */
async function rustCid(target, args = []) {
  let res;
  try {
    res = await runFile(bin, ['store', 'cid', target, ...args], { maxBuffer: 1 << 20 });
  } catch (e) {
    throw new Error(
      `${bin} store cid ${[target, ...args].join(' ')} failed (exit ${e.code ?? e.signal}):\n${e.stderr ?? ''}${e.stdout ?? ''}`,
    );
  }
  const lines = res.stdout.split('\n');
  assert.ok(
    lines.length === 2 && lines[1] === '',
    `store cid must print exactly one line, printed ${JSON.stringify(res.stdout)}`,
  );
  assert.match(lines[0], /^baf[ky][a-z2-7]{55}$/, 'a CIDv1 (raw or dag-pb, sha2-256) in base32');
  return lines[0];
}

/** The importer's CID for `target` with the given parameters (profile defaults if none). */
async function jsCid(target, params = {}) {
  return (await importPath(target, importerOptions(params))).cid.toString();
}

/** The importer's CID for `target` with only `profile: 'unixfs-v1-2025'` set. */
async function jsCidOfProfile(target) {
  const base = path.basename(target);
  let cid;
  for await (const e of importer(importCandidates(target), new MemoryBlockstore(), { profile: 'unixfs-v1-2025' })) {
    if (e.path === base) cid = e.cid.toString();
  }
  return cid;
}

/** A fresh directory for one case. */
function caseDir(name) {
  const dir = path.join(tmpDir, name);
  fs.mkdirSync(dir);
  return dir;
}

/** Writes `size` PRNG bytes (seed `seed`) to `<case dir>/<name>` and returns its path. */
async function writeCaseFile(caseName, name, { size, seed }) {
  const file = path.join(caseDir(caseName), name);
  await writePrngFile(file, size, seed);
  return file;
}

/**
 * A small website: pages, a stylesheet, a binary image in a subdirectory, an empty directory,
 * a file two directories down, an empty file, a 2 MiB + 3 B file (three 1 MiB chunks) and a
 * non-ASCII (UTF-8) name. `empty` and `empty.txt` also check the links' order by name bytes.
 */
async function writeSite(parent) {
  const site = path.join(parent, 'site');
  fs.mkdirSync(path.join(site, 'img'), { recursive: true });
  fs.mkdirSync(path.join(site, 'empty'));
  fs.mkdirSync(path.join(site, 'a', 'b'), { recursive: true });
  fs.writeFileSync(
    path.join(site, 'index.html'),
    '<!doctype html>\n<html><head><link rel="stylesheet" href="style.css"><title>DSYNC</title></head>\n' +
      '<body><img src="img/logo.png" alt="logo"><p>Hello, DSYNC.</p></body></html>\n',
  );
  fs.writeFileSync(path.join(site, 'style.css'), 'body { font-family: sans-serif; margin: 2em; }\n');
  // PNG signature, then 3,000 PRNG bytes
  fs.writeFileSync(
    path.join(site, 'img', 'logo.png'),
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), prngStream(7).next(3000)]),
  );
  fs.writeFileSync(path.join(site, 'a', 'b', 'deep.txt'), 'three levels down\n');
  fs.writeFileSync(path.join(site, 'empty.txt'), '');
  fs.writeFileSync(path.join(site, 'café.txt'), 'crème brûlée, naïve, 東京\n');
  await writePrngFile(path.join(site, 'big.bin'), 2 * MIB + 3, 8);
  return site;
}

describe('CIDs: dsync store cid against ipfs-unixfs-importer (unixfs-v1-2025)', { timeout: 5 * 60_000 }, () => {
  before(() => {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dsync-e2e-cid-'));
  });

  after(() => {
    if (!tmpDir) return;
    if (process.env.DSYNC_E2E_KEEP === '1') {
      console.log(`[e2e] keeping ${tmpDir} (DSYNC_E2E_KEEP=1)`);
      return;
    }
    fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  describe(`files, profile parameters (${CHUNK_SIZE}-byte chunks, ${MAX_LINKS} links)`, () => {
    const cases = [
      ['0 B', 0],
      ['1 B', 1],
      ['1 MiB', MIB],
      ['1 MiB + 1 B', MIB + 1],
      ['100 MiB', 100 * MIB],
    ];
    cases.forEach(([name, size], i) => {
      it(name, async () => {
        const file = await writeCaseFile(`profile-${i}`, 'data.bin', { size, seed: 1000 + i });
        assert.equal(fs.statSync(file).size, size);
        const js = await jsCid(file);
        // the explicit options are the profile's (a check of this file's JS side)
        assert.equal(await jsCidOfProfile(file), js, `${name}: profile 'unixfs-v1-2025' gives the same CID`);
        assert.equal(await rustCid(file), js, name);
      });
    });
  });

  describe('files, multi-level DAGs (--chunk-size 1024 --max-links 4)', () => {
    const sizes = [0, 1, 1024, 1025, 4096, 4097, 16 * 1024 + 1, 65 * 1024 + 17, 300_000];
    sizes.forEach((size, i) => {
      const name = `${size} B, 1 KiB chunks, 4 links`;
      it(name, async () => {
        const file = await writeCaseFile(`small-${i}`, 'data.bin', { size, seed: 2000 + i });
        assert.equal(await rustCid(file, SMALL_ARGS), await jsCid(file, SMALL), name);
      });
    });
  });

  describe('directory (a small website)', () => {
    let site;
    before(async () => {
      site = await writeSite(caseDir('site'));
    });

    it('profile parameters', async () => {
      const js = await importPath(site, importerOptions());
      // flat, not a HAMT shard: the block is far below the split threshold
      assert.equal(js.unixfs?.type, 'directory');
      const parts = [];
      for await (const part of js.blockstore.get(js.cid)) parts.push(part);
      const block = Buffer.concat(parts);
      assert.ok(block.length < SHARD_SPLIT_THRESHOLD_BYTES, `directory block of ${block.length} B`);
      assert.equal(await jsCidOfProfile(site), js.cid.toString(), "profile 'unixfs-v1-2025' gives the same CID");
      assert.equal(await rustCid(site), js.cid.toString(), 'site/, profile parameters');
    });

    it('1 KiB chunks, 4 links', async () => {
      const js = await importPath(site, importerOptions(SMALL));
      assert.equal(js.unixfs?.type, 'directory');
      assert.equal(await rustCid(site, SMALL_ARGS), js.cid.toString(), 'site/, 1 KiB chunks, 4 links');
    });

    it('an empty directory', async () => {
      const empty = path.join(caseDir('empty-dir'), 'nothing');
      fs.mkdirSync(empty);
      assert.equal(await rustCid(empty), await jsCid(empty), 'empty directory');
    });
  });

  it('a path that does not exist: non-zero exit, the path on stderr', async () => {
    const missing = path.join(caseDir('missing'), 'no-such-file');
    let res;
    try {
      res = await runFile(bin, ['store', 'cid', missing]);
    } catch (e) {
      res = e;
    }
    assert.ok(typeof res.code === 'number' && res.code !== 0, `exit status ${res.code} (signal ${res.signal})`);
    assert.equal(res.stdout, '', 'nothing on stdout');
    assert.ok(res.stderr.includes(missing), `stderr names ${missing}: ${JSON.stringify(res.stderr)}`);
  });
});
