//! Pallet configurations, grouped by topic, and the runtime glue they share.
//!
//! - [`system`]: frame-system, timestamp, utility, multisig, proxy, sudo; block limits.
//! - [`money`]: balances, transaction payment and where fees go.
//! - [`consensus`]: BABE, GRANDPA, authorship, session (+ historical), offences.
//! - [`staking`]: NPoS staking, the bags-list voter list and the on-chain election.
//! - [`tokenomics`]: the stable revenue asset, the DSYNC/stable pool, burns and buybacks.
//! - [`depin`]: the node registry and Proof of Sync.
//! - [`gpu_jobs`]: escrowed GPU inference jobs served by the registry's providers.
//! - [`naming`]: names under `.dsync` with DNS records.
//! - [`storage`]: content kept by the registry's storage providers, proven every epoch.
//! - [`randomness`]: the randomness Proof of Sync and GPU jobs draw from.
//! - [`offchain`]: how transactions from the node are built, among them the signed transactions
//!   of both off-chain workers (Proof of Sync and GPU jobs).
//! - `benchmark_helpers` (with `runtime-benchmarks`): what the custom pallets' benchmarks cannot
//!   set up by themselves.
//!
//! The governance pallets (referenda, conviction voting, scheduler, preimages, treasury) are
//! configured in [`crate::governance`], beside their origins and tracks. The configs here take
//! their admin origins from there and the shared ids, accounts and bounds from
//! [`crate::constants`]; neither imports from this module.

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_helpers;
pub mod consensus;
pub mod depin;
pub mod gpu_jobs;
pub mod money;
pub mod naming;
pub mod offchain;
pub mod randomness;
pub mod staking;
pub mod storage;
pub mod system;
pub mod tokenomics;
