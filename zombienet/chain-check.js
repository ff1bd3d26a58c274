// Helper for 0001-dsync-fault-tests.zndsl (zombienet v1 `js-script`).
// Loaded by zombienet with require() (CommonJS) and called as
//   run(nodeName, networkInfo, args)   args = the `with "a,b,c"` string split on ","
// Must resolve to 1 on success (the .zndsl says `return is 1`); throw on failure.
// Uses plain JSON-RPC over HTTP (substrate serves HTTP+WS on --rpc-port) so it does not
// depend on polkadot.js decoding this runtime's metadata. Never call it on a PAUSED node
// (SIGSTOPped process: requests would just time out).
"use strict";
const fs = require("fs");
const path = require("path");

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// zombienet only races the script against `within`; it does not cancel it, so every
// polling loop carries its own deadline to avoid lingering after a failed assertion.
const DEADLINE_MS = 600 * 1000;
function guard(t0, what) {
  if (Date.now() - t0 > DEADLINE_MS) throw new Error(`gave up waiting for ${what}`);
}

function httpUri(networkInfo, nodeName) {
  const node = networkInfo.nodesByName[nodeName];
  if (!node) throw new Error(`unknown node ${nodeName}`);
  return node.wsUri.replace(/^ws/, "http");
}

async function rpc(uri, method, params = []) {
  const res = await fetch(uri, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: 1, jsonrpc: "2.0", method, params }),
    signal: AbortSignal.timeout(5000),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function heads(uri) {
  const best = await rpc(uri, "chain_getHeader");
  const finHash = await rpc(uri, "chain_getFinalizedHead");
  const fin = await rpc(uri, "chain_getHeader", [finHash]);
  return { best: parseInt(best.number, 16), fin: parseInt(fin.number, 16), finHash };
}

const snapFile = (ni, tag) => path.join(ni.tmpDir, `zn-snapshot-${tag}.json`);
const log = (...a) => console.log("    [chain-check]", ...a);

async function run(nodeName, networkInfo, args) {
  const [mode, a1, ...rest] = args.map((s) => s.trim());
  const uri = httpUri(networkInfo, nodeName);
  const t0 = Date.now();

  switch (mode) {
    // peers,<min>: wait until system_health.peers >= min
    case "peers": {
      for (;;) {
        const h = await rpc(uri, "system_health");
        if (h.peers >= Number(a1)) return 1;
        guard(t0, mode); await sleep(2000);
      }
    }
    // finalized-advances,<delta>: finalized number grows by >= delta from "now"
    case "finalized-advances": {
      const start = (await heads(uri)).fin;
      for (;;) {
        const { fin } = await heads(uri);
        if (fin >= start + Number(a1)) { log(nodeName, "finalized", start, "->", fin); return 1; }
        guard(t0, mode); await sleep(2000);
      }
    }
    // finality-stalled,<secs>,<minBestDelta>: over <secs>, finalized does not move
    // while best advances by >= minBestDelta
    case "finality-stalled": {
      const h0 = await heads(uri);
      await sleep(Number(a1) * 1000);
      const h1 = await heads(uri);
      log(nodeName, "stall window", h0, "->", h1);
      if (h1.fin !== h0.fin) throw new Error(`finality moved ${h0.fin} -> ${h1.fin}`);
      if (h1.best - h0.best < Number(rest[0])) throw new Error(`best only ${h0.best} -> ${h1.best}`);
      return 1;
    }
    // caught-up,<maxLag>: best - finalized <= maxLag
    case "caught-up": {
      for (;;) {
        const h = await heads(uri);
        if (h.best - h.fin <= Number(a1)) return 1;
        guard(t0, mode); await sleep(2000);
      }
    }
    // snapshot,<tag>: store this node's finalized {number, hash} and best number
    case "snapshot": {
      const h = await heads(uri);
      fs.writeFileSync(snapFile(networkInfo, a1),
        JSON.stringify({ node: nodeName, number: h.fin, hash: h.finHash, best: h.best }));
      log("snapshot", a1, h);
      return 1;
    }
    // same-canonical,<tag>: the block finalized at snapshot time is still canonical here
    case "same-canonical": {
      const s = JSON.parse(fs.readFileSync(snapFile(networkInfo, a1), "utf8"));
      for (;;) {
        const { fin } = await heads(uri);
        if (fin >= s.number) break;          // wait until this node finalized that height
        guard(t0, mode); await sleep(2000);
      }
      const hash = await rpc(uri, "chain_getBlockHash", [s.number]);
      if (hash !== s.hash) throw new Error(`REORG of finalized #${s.number}: ${s.hash} != ${hash}`);
      return 1;
    }
    // same-finalized-view,<other>,<other>...: others agree with this node's finalized block
    case "same-finalized-view": {
      const me = await heads(uri);
      for (const other of [a1, ...rest]) {
        const ou = httpUri(networkInfo, other);
        for (;;) { if ((await heads(ou)).fin >= me.fin) break; guard(t0, mode); await sleep(2000); }
        const h = await rpc(ou, "chain_getBlockHash", [me.fin]);
        if (h !== me.finHash) throw new Error(`${other} disagrees at #${me.fin}: ${h} != ${me.finHash}`);
      }
      return 1;
    }
    // restarted-from-db,<tag>: the node restarted with its DB: the *last* startup line
    // "Highest known block at #N" has N >= finalized number recorded before restart,
    // and finalized is immediately >= that number (nothing lost, no resync from genesis).
    case "restarted-from-db": {
      const s = JSON.parse(fs.readFileSync(snapFile(networkInfo, a1), "utf8"));
      const text = fs.readFileSync(path.join(networkInfo.tmpDir, `${nodeName}.log`), "utf8");
      const starts = [...text.matchAll(/Highest known block at #(?:\x1b\[[0-9;]*m)*(\d+)/g)];
      if (starts.length < 2) throw new Error(`expected >=2 startups in log, found ${starts.length}`);
      const n = Number(starts[starts.length - 1][1]);
      log(nodeName, "restart loaded best", n, "snapshot", s);
      if (n < s.number) throw new Error(`restart loaded #${n} < finalized-before-restart #${s.number}`);
      const { fin } = await heads(uri);
      if (fin < s.number) throw new Error(`finalized after restart ${fin} < ${s.number}`);
      return 1;
    }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

module.exports = { run };
