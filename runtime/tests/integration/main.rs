//! Runtime integration tests: the full native runtime, built from each genesis preset, driven
//! block by block through `Executive` exactly as the node drives it (BABE pre-digest, timestamp
//! inherent, signed extrinsics, finalisation).

mod chain;
mod depin;
mod genesis;
mod governance;
mod gpu_attacks;
mod gpu_jobs;
mod naming;
mod pos_attacks;
mod staking;
mod storage;
mod tokenomics;
mod transfers;
