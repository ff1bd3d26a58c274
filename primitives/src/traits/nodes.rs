//! What the node registry and Proof of Sync share: roles, statuses, summaries, the registry
//! interface, slashing and scores.

use super::services::{ModelId, ServiceKind};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::DispatchError;

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
	/// The storage the declaration in force offers, in GiB (what storage orders may reserve).
	pub storage_gib: u64,
	/// The bond currently held (excluding any part being unbonded).
	pub bond: Balance,
}

/// The node registry as Proof of Sync and the service pallets use it. Implemented by
/// `pallet-node-registry`.
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
	/// The providers of `kind`: service nodes in status `Active` whose declaration in force
	/// offers `kind`, in the order they became providers of it, at most `max`.
	fn providers(kind: ServiceKind, max: u32) -> alloc::vec::Vec<AccountId>;
	/// Whether `owner`'s node declares `model` in its declaration in force (false for an owner
	/// without a node).
	fn serves_model(owner: &AccountId, model: ModelId) -> bool;
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

/// Proof of Sync's view of node quality. Implemented by pallet_proof_of_sync::Pallet<T>.
///
/// `()` knows no score (for mocks and runtimes without Proof of Sync).
pub trait NodeScores<AccountId> {
	/// The score of `owner`'s node (exponential moving average of its epoch qualities), or
	/// `None` when the node has not been scored yet.
	fn score(owner: &AccountId) -> Option<sp_runtime::Perbill>;
}

impl<AccountId> NodeScores<AccountId> for () {
	fn score(_: &AccountId) -> Option<sp_runtime::Perbill> {
		None
	}
}
