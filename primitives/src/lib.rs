//! # DSYNC primitives
//!
//! The types, units and constants every DSYNC crate agrees on: the runtime, the node, the custom
//! pallets and the off-chain tooling. The crate is `no_std` so it compiles into the Wasm runtime.
//!
//! - [`AccountId`], [`Balance`], [`BlockNumber`], [`Nonce`], [`Signature`], [`Moment`], [`Hash`]:
//!   the chain's basic types.
//! - [`currency`]: DSYNC units. DSYNC has 18 decimals; the smallest unit is called a *planck*.
//! - [`time`]: block time and the derived durations.
//! - [`SS58_PREFIX`]: the address format of the chain, used by the runtime and the node.
//! - [`traits`]: the home of traits shared across pallets: [`traits::services`] (service kinds,
//!   the service-payment trait, usage recording, service faults) and [`traits::nodes`] (roles,
//!   statuses, the node registry interface, slashing, node scores).
//! - [`naming`]: labels, name ids and record encodings of names under the `.dsync` top-level
//!   domain, shared by the naming pallet and the node's DNS server.
//! - [`probe`]: the Proof-of-Sync probe protocol shared by the runtime and the node (key type,
//!   signed answers, the compute challenge, URLs).
//! - [`probe_auth`]: authenticated probes: the headers a verifier signs its probe request with,
//!   and the runtime API that tells the probe endpoint the verifiers' keys
//!   ([`probe_auth::ProbeKeysApi`]).
//! - [`offchain`]: what the off-chain workers share: the `dsyn` signing key
//!   ([`offchain::DsyncAuthId`]), bounded HTTP exchanges, signed submissions, local-storage keys.
//! - [`fetch_policy`]: which URLs the workers may fetch ([`fetch_policy::fetch_allowed`]: no
//!   loopback, private, link-local or metadata hosts unless the operator allows them).
//! - [`commit_reveal`]: the one commitment function (with a domain per use) of GPU jobs, Proof of
//!   Sync and naming, and the shared names of their window, key and assignment errors.
//! - [`worker_metrics`]: the counters the off-chain workers keep in the node's local storage
//!   for its Prometheus endpoint (the node reads them at each scrape).
//! - [`storage`]: the storage service's content identifiers (IPFS CIDs and UnixFS DAGs) and the
//!   piece proofs the runtime checks ([`storage::pieces::verify_piece`]).
//! - [`hex`]: lower-case hexadecimal; [`convert`]: saturating integer conversions.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod commit_reveal;
pub mod convert;
pub mod fetch_policy;
pub use dsync_aivm_core::hex;
pub mod naming;
pub mod offchain;
pub mod probe;
pub mod probe_auth;
pub mod storage;
pub mod traits;
pub mod worker_metrics;

use sp_runtime::{
	generic,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiSignature, OpaqueExtrinsic,
};

/// An index to a block.
pub type BlockNumber = u32;

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;

/// Some way of identifying an account on the chain. We intentionally make it equivalent to the
/// public key of our transaction signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account, in plancks (10^-18 DSYNC).
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// Milliseconds since the Unix epoch, as kept by `pallet-timestamp`.
pub type Moment = u64;

/// Block header type as expected by this chain.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Opaque block type: what the node sees without knowing the runtime's extrinsic format.
pub type OpaqueBlock = generic::Block<Header, OpaqueExtrinsic>;

/// The SS58 address prefix of the DSYNC chain.
///
/// 7373 is not registered by any chain in the `ss58-registry` (checked against version 1.51), so
/// DSYNC addresses cannot be mistaken for another network's. Runtime (`frame_system::SS58Prefix`),
/// chain-spec properties (`ss58Format`) and the node's CLI output all use this value.
pub const SS58_PREFIX: u16 = 7373;

/// Token symbol shown by wallets.
pub const TOKEN_SYMBOL: &str = "DSYNC";

/// Number of decimals of the token.
pub const TOKEN_DECIMALS: u8 = 18;

/// DSYNC units.
pub mod currency {
	use super::Balance;

	/// The smallest unit: 10^-18 DSYNC.
	pub const PLANCK: Balance = 1;
	/// 10^-15 DSYNC.
	pub const FEMTO_DSYNC: Balance = 1_000;
	/// 10^-12 DSYNC.
	pub const PICO_DSYNC: Balance = 1_000_000;
	/// 10^-9 DSYNC.
	pub const NANO_DSYNC: Balance = 1_000_000_000;
	/// 10^-6 DSYNC.
	pub const MICRO_DSYNC: Balance = 1_000_000_000_000;
	/// 10^-3 DSYNC.
	pub const MILLI_DSYNC: Balance = 1_000_000_000_000_000;
	/// One DSYNC: 10^18 plancks.
	pub const DSYNC: Balance = 1_000_000_000_000_000_000;

	/// Total issuance at genesis: one billion DSYNC.
	pub const GENESIS_TOTAL_ISSUANCE: Balance = 1_000_000_000 * DSYNC;

	/// A deposit for storing `items` entries of `bytes` total bytes, used by pallets that charge
	/// for state (multisig, proxy).
	pub const fn deposit(items: u32, bytes: u32) -> Balance {
		items as Balance * 100 * MILLI_DSYNC + (bytes as Balance) * MICRO_DSYNC * 100
	}
}

/// Time constants.
pub mod time {
	use super::{BlockNumber, Moment};

	/// Target block time in milliseconds. BABE slots have this length.
	pub const MILLISECS_PER_BLOCK: Moment = 6_000;
	/// BABE slot duration; one block per slot is the target.
	pub const SLOT_DURATION: Moment = MILLISECS_PER_BLOCK;

	/// One minute in blocks.
	pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
	/// One hour in blocks.
	pub const HOURS: BlockNumber = MINUTES * 60;
	/// One day in blocks.
	pub const DAYS: BlockNumber = HOURS * 24;

	/// The probability of a slot having a primary BABE author, as a fraction: 1/4, as on
	/// Polkadot; secondary (round-robin VRF) slots fill the rest, so every slot gets a block.
	pub const PRIMARY_PROBABILITY: (u64, u64) = (1, 4);
}

#[cfg(test)]
mod tests {
	use super::currency::*;

	#[test]
	fn units_are_consistent() {
		assert_eq!(DSYNC, 10u128.pow(super::TOKEN_DECIMALS as u32));
		assert_eq!(MILLI_DSYNC * 1_000, DSYNC);
		assert_eq!(MICRO_DSYNC * 1_000, MILLI_DSYNC);
		assert_eq!(NANO_DSYNC * 1_000, MICRO_DSYNC);
		assert_eq!(PICO_DSYNC * 1_000, NANO_DSYNC);
		assert_eq!(FEMTO_DSYNC * 1_000, PICO_DSYNC);
		assert_eq!(GENESIS_TOTAL_ISSUANCE, 10u128.pow(27));
	}

	#[test]
	fn payment_split_total_adds_the_parts() {
		let split = super::traits::PaymentSplit { burned: 3u128, provider: 5, treasury: 7 };
		assert_eq!(split.total(), 15);
		let huge = super::traits::PaymentSplit { burned: u128::MAX, provider: 1, treasury: 1 };
		assert_eq!(huge.total(), u128::MAX);
	}

	#[test]
	fn all_service_kinds_are_listed_in_encoding_order() {
		use codec::Encode;
		for (index, kind) in super::traits::ServiceKind::ALL.iter().enumerate() {
			assert_eq!(kind.encode(), vec![index as u8]);
		}
	}

	#[test]
	fn block_time_is_six_seconds() {
		assert_eq!(super::time::MILLISECS_PER_BLOCK, 6_000);
		assert_eq!(super::time::DAYS, 14_400);
	}
}
