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
//! - [`traits`]: the home of traits shared across pallets (the service-payment trait, the node
//!   registry interface Proof of Sync works through, usage recording).
//! - [`naming`]: labels, name ids and record encodings of names under the `.dsync` top-level
//!   domain, shared by the naming pallet and the node's DNS server.
//! - [`probe`]: the Proof-of-Sync probe protocol shared by the runtime and the node (key type,
//!   signed answers, the compute challenge, URLs).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod naming;
pub mod probe;

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

/// Traits shared by the DSYNC pallets.
///
/// Service pallets (GPU jobs, naming, storage) charge clients through one service-payment trait
/// declared here and implemented by `pallet-tokenomics`, so the burn rule lives in one place.
///
/// - [`traits::ServiceKind`]: which service a payment is for; every kind has its own governed burn
///   and treasury shares and its own running totals.
/// - [`traits::PaymentSplit`]: where one payment went (burned, provider, treasury).
/// - [`traits::ServicePayment`]: the charge every service pallet makes through.
pub mod traits {
	use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
	use scale_info::TypeInfo;
	use sp_runtime::{traits::Saturating, DispatchError};

	/// The services of the DSYNC chain that clients pay for.
	///
	/// Each kind has its own burn and treasury shares (set by governance in `pallet-tokenomics`)
	/// and its own totals, so the effect of each service on the supply can be followed apart.
	/// The encoding is the variant index: append new kinds at the end, never reorder.
	#[derive(
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Clone,
		Copy,
		PartialEq,
		Eq,
		PartialOrd,
		Ord,
		Debug,
	)]
	pub enum ServiceKind {
		/// GPU inference jobs.
		GpuInference,
		/// Name registration and renewal.
		Naming,
		/// Data storage.
		Storage,
		/// Any other service.
		Other,
	}

	impl ServiceKind {
		/// Every service kind, in encoding order.
		pub const ALL: [ServiceKind; 4] = [
			ServiceKind::GpuInference,
			ServiceKind::Naming,
			ServiceKind::Storage,
			ServiceKind::Other,
		];
	}

	/// Where one service payment went.
	///
	/// `burned + provider + treasury` is always the amount charged ([`PaymentSplit::total`]).
	#[derive(
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Clone,
		Copy,
		PartialEq,
		Eq,
		Debug,
		Default,
	)]
	pub struct PaymentSplit<Balance> {
		/// Removed from the total issuance.
		pub burned: Balance,
		/// Paid to the service provider.
		pub provider: Balance,
		/// Paid to the treasury account.
		pub treasury: Balance,
	}

	impl<Balance: Saturating + Copy> PaymentSplit<Balance> {
		/// The amount that was charged: the sum of the three parts (saturating, although the
		/// parts of a real payment never exceed the balance type).
		pub fn total(&self) -> Balance {
			self.burned.saturating_add(self.provider).saturating_add(self.treasury)
		}
	}

	/// The one way service pallets take payment from clients.
	///
	/// Implemented by `pallet-tokenomics`, which splits the payment by the governed rates of
	/// `kind` into a burned part, a provider part and a treasury part, and keeps per-kind totals.
	pub trait ServicePayment<AccountId, Balance> {
		/// Charge `payer` exactly `amount` for a service of `kind` rendered by `provider`.
		///
		/// The payer keeps at least the existential deposit; a payer who cannot pay gets the
		/// currency's error (e.g. `TokenError::FundsUnavailable`) and nothing changes. When
		/// `provider` is `None` (the chain itself rendered the service), the provider share goes
		/// to the treasury. Returns where the payment went; its [`PaymentSplit::total`] is
		/// `amount`.
		fn charge(
			payer: &AccountId,
			provider: Option<&AccountId>,
			amount: Balance,
			kind: ServiceKind,
		) -> Result<PaymentSplit<Balance>, DispatchError>;
	}

	/// Identifier of an inference model (registered by the GPU-jobs pallet).
	pub type ModelId = u32;

	/// The role a node registers with.
	#[derive(
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Clone,
		Copy,
		PartialEq,
		Eq,
		Debug,
	)]
	pub enum NodeRole {
		/// A validator: produces blocks and, while active, verifies service nodes.
		Validator,
		/// A service node: sells GPU inference, naming or storage and is probed every epoch.
		Service,
	}

	/// Where a registered node is in its lifecycle.
	///
	/// `Pending` (warm-up) → `Active` → `Suspended` → back to `Active` (service nodes, after
	/// good epochs) or `Pending` (validators, on `reactivate`); any of them → `Unbonding` (the
	/// operator exits) → exited (the record is removed when the bond is withdrawn).
	#[derive(
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Clone,
		Copy,
		PartialEq,
		Eq,
		Debug,
	)]
	pub enum NodeStatus {
		/// Registered and warming up: probed (service nodes) but not yet rewarded or drawn as
		/// a verifier (validators).
		Pending,
		/// In service: rewarded by score (service nodes) or drawn as a verifier (validators).
		Active,
		/// Suspended after repeated misses: neither rewarded nor drawn; still probed.
		Suspended,
		/// Leaving: neither probed, rewarded nor drawn; the bond is released after the
		/// unbonding delay (unless slashed first).
		Unbonding,
	}

	/// Why Proof of Sync slashes a node's bond.
	#[derive(
		Encode,
		Decode,
		DecodeWithMemTracking,
		MaxEncodedLen,
		TypeInfo,
		Clone,
		Copy,
		PartialEq,
		Eq,
		Debug,
	)]
	pub enum SlashReason {
		/// The node kept missing epochs while suspended.
		RepeatedMisses,
		/// The node signed a provably wrong probe answer.
		WrongAnswer,
		/// A verifier kept failing to report.
		AbsentVerifier,
		/// A service node's paid result was proven wrong on chain (GPU jobs: re-execution).
		WrongResult,
	}

	/// What the node registry tells Proof of Sync about one node.
	#[derive(Clone, PartialEq, Eq, Debug)]
	pub struct NodeSummary<AccountId, Balance> {
		/// The registered role.
		pub role: NodeRole,
		/// The lifecycle status.
		pub status: NodeStatus,
		/// The node's off-chain (`dsyn`, sr25519) public key, as an account id.
		pub offchain_key: AccountId,
		/// The probe endpoint (`http(s)://host[:port][/path]`).
		pub endpoint: alloc::vec::Vec<u8>,
		/// Capacity units of the declaration in force (see the registry's docs); at least 1.
		pub capacity_units: u64,
		/// The bond currently held (excluding any part being unbonded).
		pub bond: Balance,
	}

	/// The node registry as Proof of Sync uses it. Implemented by `pallet-node-registry`.
	pub trait NodeRegistry<AccountId, Balance> {
		/// The node registered by `owner`, if any.
		fn node(owner: &AccountId) -> Option<NodeSummary<AccountId, Balance>>;
		/// The owner of the node whose off-chain key is `key`, if any.
		fn node_of_key(key: &AccountId) -> Option<AccountId>;
		/// Service nodes to probe: role `Service`, status `Pending`, `Active` or `Suspended`,
		/// in registration order, at most `max`.
		fn probe_targets(max: u32) -> alloc::vec::Vec<AccountId>;
		/// Validator nodes in status `Active` (the verifier candidates), in registration order,
		/// at most `max`.
		fn active_validator_nodes(max: u32) -> alloc::vec::Vec<AccountId>;
		/// Move `owner`'s node to `status` (`Pending`, `Active` or `Suspended`; a node that is
		/// `Unbonding` is never moved back). Emits the registry's status event.
		fn set_status(owner: &AccountId, status: NodeStatus) -> sp_runtime::DispatchResult;
		/// Schedule a slash of `fraction` of `owner`'s held bond, applied at the start of epoch
		/// `apply_at` unless cancelled before. Returns the slash id.
		fn schedule_slash(
			owner: &AccountId,
			fraction: sp_runtime::Perbill,
			reason: SlashReason,
			apply_at: u32,
		) -> Result<u32, DispatchError>;
		/// A new Proof-of-Sync epoch starts: apply declarations updated during the last epoch,
		/// promote pending validators, apply due slashes. Returns the weight used.
		fn on_epoch_start(epoch: u32) -> sp_runtime::Weight;
	}

	/// Service pallets report what each node delivered and what each client consumed; Proof of
	/// Sync weighs usage into rewards. Implemented by `pallet-proof-of-sync`; `()` ignores it.
	pub trait UsageRecorder<AccountId> {
		/// `provider` delivered `units` of service `kind` to `client` (for GPU inference: compute
		/// milliseconds; for naming: queries or registrations).
		fn record_usage(provider: &AccountId, client: &AccountId, kind: ServiceKind, units: u64);
	}

	impl<AccountId> UsageRecorder<AccountId> for () {
		fn record_usage(_: &AccountId, _: &AccountId, _: ServiceKind, _: u64) {}
	}
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
