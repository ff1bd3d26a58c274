//! # Node registry pallet
//!
//! Who runs the DSYNC network: every service node and validator node registers here with a
//! declaration of its resources and services, an off-chain key and a bond that scales with the
//! declared capacity. Proof of Sync reads the registry to choose whom to probe and who verifies,
//! and writes back statuses and slashes, through [`dsync_primitives::traits::NodeRegistry`].
//!
//! ## Overview
//!
//! - **Registration.** An account (the node's *owner*) registers one node with a [`NodeRole`],
//!   a [`Declaration`] (resources, services, models, probe endpoint), the account of its
//!   off-chain `dsyn` key and a bond of at least the declaration's minimum. The bond is held in
//!   the owner's account under [`HoldReason::Bond`]; the node starts `Pending`.
//! - **Declarations change at epoch boundaries.** [`Pallet::update_declaration`] stores the new
//!   declaration as pending; it takes effect at the next Proof-of-Sync epoch start, so one epoch
//!   is always scored and rewarded against one declaration. A declaration that claims more than
//!   the one in force (more capacity units, a new service or model) sends an `Active` service
//!   node back to `Pending` when it applies: it is verified again through a warm-up epoch
//!   before it is rewarded or assigned jobs on the new claim ([`Declaration::claims_more_than`]).
//! - **Bonds.** [`Pallet::bond_extra`] adds to the bond; [`Pallet::unbond`] moves a part above
//!   the minimum into the unbonding chunk, still held (and slashable) until the unbonding delay
//!   has passed; [`Pallet::withdraw_unbonded`] then releases it.
//! - **Exit.** [`Pallet::exit`] moves the whole bond into the unbonding chunk and the node to
//!   `Unbonding`. After the delay, and once no slash is pending, [`Pallet::withdraw_unbonded`]
//!   releases everything and removes the node: the owner's free balance is back to what it was
//!   before registering, less any slash.
//! - **One provider index.** For every [`ServiceKind`], [`Providers`] lists the `Active` service
//!   nodes whose declaration in force offers it, kept in step by every status change, applied
//!   declaration and exit. Service pallets find their candidates there
//!   ([`NodeRegistry::providers`], [`NodeRegistry::serves_model`]), without reading every node.
//! - **Status and slashes come from Proof of Sync.** The registry does not judge nodes; it
//!   carries out what Proof of Sync decides through the [`NodeRegistry`] trait: status changes,
//!   slashes scheduled for a later epoch, and the per-epoch housekeeping
//!   ([`NodeRegistry::on_epoch_start`]). Slashes can be cancelled on appeal by
//!   [`Config::SlashCancelOrigin`] until they apply.
//!
//! ## Terminology
//!
//! - **Owner**: the account that registered a node; it pays and holds the bond and signs the
//!   node's calls. One node per owner.
//! - **Off-chain key**: the node's `dsyn` sr25519 public key as an account. Service nodes sign
//!   probe answers with it; validators' off-chain workers sign verification reports with it. A
//!   key belongs to at most one node ([`NodeOfKey`]).
//! - **Capacity units**: the size of a declaration as one number ([`capacity_units`]).
//! - **Bond**: the active bond, held; it must cover the minimum of the declaration.
//! - **Unbonding chunk**: funds on their way out: still held and slashable, withdrawable from
//!   its release block. One chunk per node; unbonding again merges into it and restarts its
//!   delay.
//! - **Epoch**: a Proof-of-Sync epoch, announced by [`NodeRegistry::on_epoch_start`]; slashes
//!   are scheduled for the start of an epoch.
//!
//! ## Calls
//!
//! | index | call | origin | what |
//! | --- | --- | --- | --- |
//! | 0 | [`register`](Pallet::register) | signed | register a node and hold its bond |
//! | 1 | [`update_declaration`](Pallet::update_declaration) | owner | new declaration, next epoch |
//! | 2 | [`bond_extra`](Pallet::bond_extra) | owner | hold more bond |
//! | 3 | [`unbond`](Pallet::unbond) | owner | start unbonding a part above the minimum |
//! | 4 | [`withdraw_unbonded`](Pallet::withdraw_unbonded) | owner | release a due chunk |
//! | 5 | [`exit`](Pallet::exit) | owner | start leaving: all of the bond unbonds |
//! | 6 | [`set_offchain_key`](Pallet::set_offchain_key) | owner | change the off-chain key |
//! | 7 | [`reactivate`](Pallet::reactivate) | owner | suspended validator back to pending |
//! | 8 | [`set_parameters`](Pallet::set_parameters) | admin | bond and delay parameters |
//! | 9 | [`cancel_slash`](Pallet::cancel_slash) | appeal | cancel a scheduled slash |
//!
//! ## Lifecycle
//!
//! ```text
//!   register
//!      |
//!      v
//!  +---------+  epoch start (validators) /   +--------+
//!  | Pending | ----------------------------> | Active |
//!  +---------+  Proof of Sync (service)      +--------+
//!      ^                                       |    ^
//!      | reactivate (validators)      misses   |    | good epochs (service nodes,
//!      |                                       v    | through Proof of Sync)
//!      |                                   +-----------+
//!      +---------------------------------- | Suspended |
//!                                          +-----------+
//!
//!  any of the three --exit--> Unbonding --withdraw_unbonded, after the delay,
//!                                         no slash pending--> exited (record removed)
//! ```
//!
//! `Unbonding` is final: neither a call nor Proof of Sync moves a node out of it.
//!
//! ## Bond
//!
//! ```text
//! minimum bond = base_bond + bond_per_capacity_unit * capacity_units(declaration)
//! capacity_units = cpu_cores + memory_mib / 1024 + storage_gib / 100 + bandwidth_mbps / 100
//!                  + Σ gpus: count * (4 + memory_mib / 1024)          (saturating, at least 1)
//! ```
//!
//! Registration needs at least the minimum of the declaration; an update needs the current
//! bond to cover the new declaration's minimum; `unbond` must leave at least the minimum of the
//! declaration in force and of the pending one. The minimum uses the parameters in force at the
//! time of the check: raising them does not touch existing bonds, it only stops their owners
//! from unbonding below the new minimum.
//!
//! ## Slashing and appeal
//!
//! Proof of Sync schedules a slash with [`NodeRegistry::schedule_slash`] for the start of epoch
//! `apply_at` (the defer gives time to appeal). Until then [`Config::SlashCancelOrigin`] may
//! cancel it ([`Pallet::cancel_slash`]); the bond stays intact. At the start of `apply_at` the
//! slash applies: `amount = fraction * (bond + unbonding)` (rounded down), taken from the bond
//! first and then from the unbonding chunk, slashed from the hold and handed to
//! [`Config::Slashed`] (the treasury, or dropped to burn). A slash with `apply_at` at or before
//! the current epoch applies at once. While a node has a slash pending it cannot withdraw, so a
//! slash always finds the funds it was scheduled against, even when the node is exiting.
//!
//! Scheduling never fails for lack of room, so no offender escapes a slash by filling a queue:
//!
//! - **One pending slash per node and reason** ([`NodeSlashes`]). A later slash for the same
//!   reason is added to the pending one: the fractions compound (`1 - (1 - a)(1 - b)`, what
//!   applying both one after the other would take) and it applies at the later of both epochs,
//!   so the newest offence keeps its whole appeal window ([`Event::SlashIncreased`]). Pending
//!   slashes are thus at most four per registered node, and every node holds a bond.
//! - **Late, never early.** An epoch start applies at most [`Config::MaxSlashesPerEpoch`] due
//!   slashes, oldest epoch first ([`DueSlashes`], [`DueCursor`]); the rest stay pending (and
//!   cancellable) until the next epoch starts.
//!
//! The appeal window is the caller's `apply_at`: Proof of Sync uses `slash_defer_epochs`, which
//! the runtime keeps at least as long as the slowest appeal referendum.
//!
//! ## Invariants
//!
//! `try_state` (`Pallet::do_try_state`) checks, besides valid parameters:
//!
//! - for every node, the balance on hold for [`HoldReason::Bond`] is exactly `bond + unbonding`;
//!   an `Unbonding` node has no active bond, an unbonding chunk and no pending declaration;
//! - [`NodeOfKey`] is exactly the inverse of the nodes' off-chain keys;
//! - [`ServiceNodes`] and [`ValidatorNodes`] hold exactly the nodes of their role, once each;
//! - [`DeclarationUpdates`] holds exactly the nodes with a pending declaration, once each;
//! - each node's `pending_slashes` is the number of [`PendingSlashes`] against it,
//!   [`PendingSlashCount`] is the number of pending slashes, [`NodeSlashes`] indexes each of
//!   them under its node and reason (so at most one per node and reason), each is listed in
//!   [`DueSlashes`] exactly at its `apply_at`, which is not before [`DueCursor`], and every entry
//!   of [`DueSlashes`] is pending; the cursor is at most one past the current epoch;
//! - for every [`ServiceKind`], [`Providers`] holds exactly the `Active` service nodes whose
//!   declaration in force offers it, once each.
//!
//! ## Design choices
//!
//! - **Holds, not transfers.** Bonds stay in the owner's account as a `fungible` hold: no
//!   pallet account, nothing to reconcile, and the owner keeps voting power or other uses of
//!   held funds the runtime allows. `try_state` checks that the hold is exactly
//!   `bond + unbonding` for every node.
//! - **One unbonding chunk.** Unbonding merges into a single chunk whose delay restarts: bounded
//!   storage per node and a simple rule (the last unbonding sets the release block).
//! - **Declarations at epoch boundaries.** Pending declarations are applied in
//!   [`NodeRegistry::on_epoch_start`], so Proof of Sync never sees a node's capacity change in
//!   the middle of an epoch.
//! - **Ordered, bounded lists.** [`ServiceNodes`] and [`ValidatorNodes`] keep registration order
//!   (probe targets and verifier candidates are deterministic) and are bounded by
//!   [`Config::MaxServiceNodes`] and [`Config::MaxValidatorNodes`]; a node stays in its list
//!   until its record is removed. Epoch-start work is bounded by those lists and by
//!   [`Config::MaxSlashesPerEpoch`].
//! - **Sequential slash ids.** Ids are assigned by the registry, so their storage uses the
//!   cheaper `Twox64Concat` hasher; the pending slashes are bounded by the registered nodes
//!   (one per node and reason).
//! - **The registry does not score.** All judgement lives in Proof of Sync, which depends only on
//!   the [`NodeRegistry`] trait of `dsync-primitives`, not on this crate.
//!
//! ## Runtime wiring
//!
//! - [`Config::Currency`]: `pallet-balances`; [`Config::RuntimeHoldReason`]: the runtime's
//!   aggregated `RuntimeHoldReason` (this pallet adds [`HoldReason::Bond`]).
//! - [`Config::Slashed`]: e.g. `ResolveTo<TreasuryAccount, Balances>`, or `()` to burn.
//! - Proof of Sync's `Registry` is this pallet; service pallets (GPU jobs) reach their providers
//!   through the runtime's glue over [`NodeRegistry::providers`].
//! - Migrations: [`migrations::v1::MigrateToV1`] (storage version 0 to 1: the provider index
//!   and [`Params`]) and [`migrations::v2::MigrateToV2`] (1 to 2: pending slashes merged per
//!   node and reason, [`DueSlashes`] and [`DueCursor`] instead of per-epoch lists) in the
//!   runtime's migrations.
//! - Genesis: [`GenesisConfig::parameters`] must be valid ([`NodeRegistryParams::is_valid`]).

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod bonding;
mod invariants;
mod lifecycle;
mod parameters;
mod registration;
mod registry_impl;
mod slashing;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub mod migrations;
pub mod types;
pub mod weights;

pub use dsync_primitives::traits::{
	ModelId, NodeRegistry, NodeRole, NodeStatus, NodeSummary, ServiceKind, SlashReason,
};
pub use pallet::*;
pub use registration::KEY_PROOF_CONTEXT;
pub use types::{
	capacity_units, BalanceOf, CreditOf, Declaration, DeclarationError, DeclarationOf, EpochIndex,
	GpuSpec, MaxNodesOf, MaxServices, NodeInfo, NodeRegistryParams, NodeRegistryParamsOf,
	PendingSlash, Resources, ResourcesOf, SlashId, MAX_CPU_CORES, MAX_GPUS_PER_KIND,
};

/// Off-chain keys with their proofs for the benchmarks: the runtime generates an sr25519 key in
/// the benchmark keystore and signs with it.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, KeyProof> {
	/// A fresh off-chain key (distinct per `seed`) and its signature over `message`.
	fn key_with_proof(seed: u32, message: &[u8]) -> (AccountId, KeyProof);
}
pub use weights::WeightInfo;

/// The log target of this pallet.
const LOG_TARGET: &str = "runtime::node-registry";

/// The pallet: configuration, storage, genesis, events, errors, hooks and calls. The logic lives
/// in the topic modules (`registration`, `bonding`, `lifecycle`, `slashing`, `parameters`,
/// `registry_impl`, `invariants`).
#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, OnUnbalanced},
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::{
		traits::{IdentifyAccount, Verify},
		Perbill,
	};

	/// The in-code storage version: 1 since the provider index ([`Providers`]) replaced the
	/// GPU-only provider list and the parameters moved to [`Params`] ([`migrations::v1`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the pallet. The events of the pallet reach the runtime through
	/// `frame_system::Config::RuntimeEvent`.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The native currency bonds are held in, `pallet-balances` in the runtime.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
			+ fungible::BalancedHold<Self::AccountId>;

		/// The runtime's aggregated hold reason; bonds are held under [`HoldReason::Bond`].
		type RuntimeHoldReason: From<HoldReason>;

		/// Receives slashed funds (e.g. the treasury); `()` burns them.
		type Slashed: OnUnbalanced<CreditOf<Self>>;

		/// The origin that sets the parameters (the DSYNC runtime: root or a passed
		/// `parameter_admin` referendum).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The origin that cancels a scheduled slash on appeal.
		type SlashCancelOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most service nodes registered at once (exiting ones included).
		#[pallet::constant]
		type MaxServiceNodes: Get<u32>;

		/// The most validator nodes registered at once (exiting ones included).
		#[pallet::constant]
		type MaxValidatorNodes: Get<u32>;

		/// The most GPU kinds (entries) in a declaration.
		#[pallet::constant]
		type MaxGpuKinds: Get<u32>;

		/// The longest GPU model name, in bytes.
		#[pallet::constant]
		type MaxGpuModelLen: Get<u32>;

		/// The most inference models in a declaration.
		#[pallet::constant]
		type MaxModels: Get<u32>;

		/// The longest probe endpoint, in bytes.
		#[pallet::constant]
		type MaxEndpointLen: Get<u32>;

		/// The most slashes applied at one epoch start. Slashes due beyond it wait for the next
		/// epoch starts (later, never earlier, than scheduled), so scheduling is never refused
		/// for room and the epoch-start work stays bounded.
		#[pallet::constant]
		type MaxSlashesPerEpoch: Get<u32>;

		/// Weights of the calls and of the epoch start.
		type WeightInfo: WeightInfo;

		/// A signature by an off-chain key: `register` and `set_offchain_key` take one over
		/// [`Pallet::key_proof_message`] to prove the caller holds the key (`MultiSignature` in
		/// the runtime).
		type KeyProof: Parameter + Verify<Signer: IdentifyAccount<AccountId = Self::AccountId>>;

		/// Off-chain keys with proofs, for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AccountId, Self::KeyProof>;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A node's bond, active or unbonding.
		#[codec(index = 0)]
		Bond,
	}

	/// The governed parameters.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, NodeRegistryParamsOf<T>, ValueQuery>;

	/// Every registered node, by owner.
	#[pallet::storage]
	pub type Nodes<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, NodeInfo<T>>;

	/// The owner of the node of each off-chain key: the inverse of `NodeInfo::offchain_key`.
	#[pallet::storage]
	pub type NodeOfKey<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, T::AccountId>;

	/// The owners of the service nodes, in registration order.
	#[pallet::storage]
	pub type ServiceNodes<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxServiceNodes>, ValueQuery>;

	/// The provider index: for each service kind, the owners of the `Active` service nodes whose
	/// declaration in force offers it, in the order they became so (the candidates of that
	/// service, [`NodeRegistry::providers`]). Kept in step with every status change, applied
	/// declaration and exit, so a service's provider draw reads one list instead of every
	/// service node.
	// `Twox64Concat`: the key is a `ServiceKind`, a closed set of four values nobody can grind.
	#[pallet::storage]
	pub type Providers<T: Config> = StorageMap<
		_,
		Twox64Concat,
		ServiceKind,
		BoundedVec<T::AccountId, T::MaxServiceNodes>,
		ValueQuery,
	>;

	/// The owners of the validator nodes, in registration order.
	#[pallet::storage]
	pub type ValidatorNodes<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, T::MaxValidatorNodes>, ValueQuery>;

	/// The owners of the nodes with a pending declaration, applied at the next epoch start.
	#[pallet::storage]
	pub type DeclarationUpdates<T: Config> =
		StorageValue<_, BoundedVec<T::AccountId, MaxNodesOf<T>>, ValueQuery>;

	/// The current Proof-of-Sync epoch, as last announced by `on_epoch_start`.
	#[pallet::storage]
	pub type CurrentEpoch<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// The slashes scheduled and neither applied nor cancelled.
	// `Twox64Concat`: slash ids are sequential and assigned by the pallet, nobody can grind them.
	#[pallet::storage]
	pub type PendingSlashes<T: Config> =
		StorageMap<_, Twox64Concat, SlashId, PendingSlash<T::AccountId>>;

	/// The id of the next slash.
	#[pallet::storage]
	pub type NextSlashId<T: Config> = StorageValue<_, SlashId, ValueQuery>;

	/// The pending slashes by the epoch they are due at: `(apply_at, id)` for every entry of
	/// [`PendingSlashes`]. At most [`PendingSlashes`] entries, so at most four per node.
	// `Twox64Concat`: epochs are indices given by Proof of Sync and ids are assigned by the
	// pallet; nobody can grind either.
	#[pallet::storage]
	pub type DueSlashes<T: Config> =
		StorageDoubleMap<_, Twox64Concat, EpochIndex, Twox64Concat, SlashId, (), OptionQuery>;

	/// The earliest epoch that may still hold due slashes not applied yet: the epoch starts
	/// apply [`DueSlashes`] from here on, at most `MaxSlashesPerEpoch` each.
	#[pallet::storage]
	pub type DueCursor<T: Config> = StorageValue<_, EpochIndex, ValueQuery>;

	/// The pending slash of each node for each reason. A node has at most one pending slash per
	/// [`SlashReason`]: a later slash for the same reason is added to it
	/// ([`Event::SlashIncreased`]), so pending slashes are bounded by the registered nodes (each
	/// holding a bond), not by a global queue that offenders could fill.
	// `Twox64Concat` for the reason: a closed set of four values.
	#[pallet::storage]
	pub type NodeSlashes<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		Twox64Concat,
		SlashReason,
		SlashId,
		OptionQuery,
	>;

	/// The number of entries of [`PendingSlashes`].
	#[pallet::storage]
	pub type PendingSlashCount<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// The initial parameters.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The registry parameters; must be valid ([`NodeRegistryParams::is_valid`]).
		pub parameters: NodeRegistryParamsOf<T>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		/// The smallest valid parameters: a base bond of one planck, nothing per capacity unit
		/// and a delay of one block. Runtimes set real values in their genesis presets.
		fn default() -> Self {
			Self {
				parameters: NodeRegistryParams {
					base_bond: One::one(),
					bond_per_capacity_unit: Zero::zero(),
					unbonding_delay: One::one(),
				},
			}
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// An invalid genesis config is a mistake of whoever wrote it; the chain must not
			// start with it.
			if !self.parameters.is_valid() {
				panic!(
					"invalid node-registry genesis parameters: base_bond must be positive and \
					 unbonding_delay at least 1"
				);
			}
			Params::<T>::put(self.parameters);
		}
	}

	/// The events of the pallet: registrations, declaration changes, bond movements, status
	/// changes, slashes and parameter changes.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A node was registered and its bond held.
		NodeRegistered {
			/// The owner.
			node: T::AccountId,
			/// Its role.
			role: NodeRole,
			/// The account of its off-chain key.
			offchain_key: T::AccountId,
			/// The bond held.
			bond: BalanceOf<T>,
			/// The capacity units of its declaration.
			capacity_units: u64,
		},
		/// A node stored a new declaration, to take effect at the start of `effective_epoch`.
		DeclarationUpdated {
			/// The owner.
			node: T::AccountId,
			/// The capacity units of the new declaration.
			capacity_units: u64,
			/// The epoch from whose start it applies (the next one).
			effective_epoch: EpochIndex,
		},
		/// A pending declaration took effect at an epoch start.
		DeclarationApplied {
			/// The owner.
			node: T::AccountId,
			/// The capacity units now in force.
			capacity_units: u64,
		},
		/// A node's bond grew.
		BondIncreased {
			/// The owner.
			node: T::AccountId,
			/// The amount added.
			amount: BalanceOf<T>,
			/// The bond now.
			bond: BalanceOf<T>,
		},
		/// Part of a node's bond moved into its unbonding chunk.
		Unbonded {
			/// The owner.
			node: T::AccountId,
			/// The amount moved.
			amount: BalanceOf<T>,
			/// The block from which the whole chunk can be withdrawn.
			release_at: BlockNumberFor<T>,
		},
		/// An unbonding chunk was released to the owner's free balance.
		Withdrawn {
			/// The owner.
			node: T::AccountId,
			/// The amount released.
			amount: BalanceOf<T>,
		},
		/// A node finished exiting: its bond is released and its record removed.
		NodeExited {
			/// The owner.
			node: T::AccountId,
		},
		/// A node's status changed.
		StatusChanged {
			/// The owner.
			node: T::AccountId,
			/// The old status.
			from: NodeStatus,
			/// The new status.
			to: NodeStatus,
		},
		/// A node started exiting: its whole bond is unbonding.
		ExitStarted {
			/// The owner.
			node: T::AccountId,
			/// The block from which the bond can be withdrawn.
			release_at: BlockNumberFor<T>,
		},
		/// A node's off-chain key changed.
		OffchainKeyChanged {
			/// The owner.
			node: T::AccountId,
			/// The previous key.
			old: T::AccountId,
			/// The new key.
			new: T::AccountId,
		},
		/// The parameters were set.
		ParametersSet {
			/// The new parameters.
			params: NodeRegistryParamsOf<T>,
		},
		/// A slash was scheduled (or, when due already, is applied right after this event).
		SlashScheduled {
			/// The slash id.
			slash: SlashId,
			/// The owner of the slashed node.
			node: T::AccountId,
			/// The share of the held funds to slash.
			fraction: Perbill,
			/// Why.
			reason: SlashReason,
			/// The epoch at whose start it applies.
			apply_at: EpochIndex,
		},
		/// A slash was applied.
		Slashed {
			/// The slash id.
			slash: SlashId,
			/// The owner of the slashed node.
			node: T::AccountId,
			/// The amount taken from the node's held funds.
			amount: BalanceOf<T>,
			/// Why.
			reason: SlashReason,
		},
		/// A scheduled slash was cancelled on appeal.
		SlashCancelled {
			/// The slash id.
			slash: SlashId,
			/// The owner of the node it was against.
			node: T::AccountId,
		},
		/// A slash was scheduled against a node that already had a pending slash for the same
		/// reason: it was added to that one (compounded: `1 - (1 - old)(1 - added)`, as if
		/// applied one after the other), which now applies at the later of both epochs, so the
		/// new offence keeps its whole appeal window. Cancelling the slash cancels both.
		SlashIncreased {
			/// The id of the pending slash that grew.
			slash: SlashId,
			/// The owner of the slashed node.
			node: T::AccountId,
			/// The share added.
			added: Perbill,
			/// The combined share now pending.
			fraction: Perbill,
			/// Why.
			reason: SlashReason,
			/// The epoch at whose start it now applies.
			apply_at: EpochIndex,
		},
	}

	/// The errors of the pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The caller already has a registered node (one per account). Use another account for
		/// another node.
		AlreadyRegistered,
		/// The caller (or the given account) has no registered node. Register first.
		NotRegistered,
		/// The off-chain key is already the key of a node (possibly of the caller's own node).
		/// Generate a fresh `dsyn` key.
		OffchainKeyInUse,
		/// The key proof is not a signature by the off-chain key over
		/// [`Pallet::key_proof_message`] of the caller: sign that message with the key (e.g.
		/// `dsync-node key sign`, or the keyring that holds it).
		InvalidKeyProof,
		/// The endpoint is not an `http://` or `https://` URL with a host, printable, without
		/// spaces, quotes, query or fragment.
		InvalidEndpoint,
		/// A declared resource is out of bounds: CPU cores must be 1 to 4096, memory at least
		/// 1 MiB, and every GPU needs a printable-ASCII model name, a count of 1 to 64 and at
		/// least 1 MiB of memory.
		InvalidResources,
		/// The services are invalid: listed twice, none for a service node, `GpuInference`
		/// without a GPU, or `Storage` without storage.
		InvalidServices,
		/// The models are invalid: listed without offering `GpuInference`, or listed twice.
		InvalidModels,
		/// The bond is below the minimum of the declaration (or the remaining bond would be, for
		/// `unbond`; or the current bond is, for `update_declaration`). Bond more.
		BondBelowMinimum,
		/// The list of nodes of this role is full. Wait for a node to exit, or ask governance
		/// for a larger bound.
		TooManyNodes,
		/// The list of pending declaration updates is full. It holds every node at most once,
		/// so this only happens if the bounds were lowered; try again after the next epoch.
		TooManyUpdates,
		/// The node is exiting (`Unbonding`): it can only withdraw.
		NodeUnbonding,
		/// The amount is zero.
		ZeroAmount,
		/// There is no unbonding chunk to withdraw. Unbond or exit first.
		NothingToWithdraw,
		/// The unbonding chunk is not released yet; wait for its release block.
		UnbondingNotDue,
		/// A slash against the node is pending; funds cannot leave until it is applied or
		/// cancelled.
		SlashPending,
		/// The node is already exiting.
		AlreadyUnbonding,
		/// The node is not suspended, so there is nothing to reactivate.
		NotSuspended,
		/// Only validator nodes reactivate by call; service nodes recover through good probes.
		NotAValidator,
		/// The parameters are invalid: the base bond must be positive and the unbonding delay at
		/// least one block.
		InvalidParameters,
		/// No pending slash has this id (it was applied, cancelled, or never existed).
		UnknownSlash,
		/// The status change is not allowed: `Unbonding` is reached only through `exit`.
		InvalidTransition,
		/// The next slash id is still in use: 2^32 slashes were scheduled while one stayed
		/// pending. Cannot happen in practice (kept for the error indices).
		TooManyPendingSlashes,
		/// No longer returned: slashes due beyond `MaxSlashesPerEpoch` wait for the next epoch
		/// start (kept for the error indices).
		SlashQueueFull,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxServiceNodes::get() > 0, "MaxServiceNodes must not be zero");
			assert!(T::MaxValidatorNodes::get() > 0, "MaxValidatorNodes must not be zero");
			assert!(T::MaxGpuKinds::get() > 0, "MaxGpuKinds must not be zero");
			assert!(T::MaxGpuModelLen::get() > 0, "MaxGpuModelLen must not be zero");
			assert!(
				T::MaxEndpointLen::get() >= 8,
				"MaxEndpointLen must fit at least `http://h` (8 bytes)"
			);
			assert!(T::MaxSlashesPerEpoch::get() > 0, "MaxSlashesPerEpoch must not be zero");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Register a node owned by the caller, holding `bond` from the caller's free balance.
		///
		/// The declaration must be valid for `role` ([`Declaration::validate`]), the key unused,
		/// the bond at least the declaration's minimum, and the role's list not full.
		/// `key_proof` is the off-chain key's signature over [`Pallet::key_proof_message`] of the
		/// caller, so nobody can register a key they do not hold (and take the rewards of the
		/// node answering with it). Fails with [`Error::InvalidKeyProof`],
		/// [`Error::AlreadyRegistered`], [`Error::OffchainKeyInUse`],
		/// [`Error::InvalidEndpoint`], [`Error::InvalidResources`], [`Error::InvalidServices`],
		/// [`Error::InvalidModels`], [`Error::BondBelowMinimum`], [`Error::TooManyNodes`], or
		/// the currency's error when the bond cannot be held (the caller keeps the existential
		/// deposit). The node starts `Pending`. Emits [`Event::NodeRegistered`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			role: NodeRole,
			declaration: DeclarationOf<T>,
			offchain_key: T::AccountId,
			key_proof: T::KeyProof,
			#[pallet::compact] bond: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_key_proof(&who, &offchain_key, &key_proof)?;
			Self::do_register(who, role, declaration, offchain_key, bond)
		}

		/// Store a new declaration for the caller's node, applied at the next epoch start
		/// (replacing an earlier pending one).
		///
		/// Fails with [`Error::NotRegistered`], [`Error::NodeUnbonding`], the validation errors
		/// of [`Pallet::register`], [`Error::BondBelowMinimum`] when the current bond does not
		/// cover the new declaration's minimum, or [`Error::TooManyUpdates`]. Emits
		/// [`Event::DeclarationUpdated`], and [`Event::DeclarationApplied`] when it applies
		/// (with [`Event::StatusChanged`] to `Pending` when an active service node claims more).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::update_declaration())]
		pub fn update_declaration(
			origin: OriginFor<T>,
			declaration: DeclarationOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_update_declaration(who, declaration)
		}

		/// Hold `amount` more of the caller's free balance as bond.
		///
		/// Fails with [`Error::NotRegistered`], [`Error::NodeUnbonding`], [`Error::ZeroAmount`]
		/// or the currency's error. Emits [`Event::BondIncreased`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::bond_extra())]
		pub fn bond_extra(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_bond_extra(who, amount)
		}

		/// Move `amount` of the bond into the unbonding chunk, keeping the node registered. The
		/// funds stay held (and slashable) until the chunk's release block, `now +
		/// unbonding_delay`, which also applies to any amount already unbonding.
		///
		/// Fails with [`Error::NotRegistered`], [`Error::NodeUnbonding`], [`Error::ZeroAmount`],
		/// or [`Error::BondBelowMinimum`] when the remaining bond would be below the minimum of
		/// the declaration in force or of the pending one. Emits [`Event::Unbonded`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::unbond())]
		pub fn unbond(
			origin: OriginFor<T>,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_unbond(who, amount)
		}

		/// Release the caller's unbonding chunk once due. When the node is exiting, this also
		/// removes it from the registry.
		///
		/// Fails with [`Error::NotRegistered`], [`Error::NothingToWithdraw`],
		/// [`Error::UnbondingNotDue`] or [`Error::SlashPending`]. Emits [`Event::Withdrawn`],
		/// then [`Event::NodeExited`] when the exit completes.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::withdraw_unbonded())]
		pub fn withdraw_unbonded(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_unbonded(who)
		}

		/// Start leaving: the whole bond joins the unbonding chunk (released `unbonding_delay`
		/// blocks from now), the node becomes `Unbonding` and a pending declaration is dropped.
		///
		/// Fails with [`Error::NotRegistered`] or [`Error::AlreadyUnbonding`]. Emits
		/// [`Event::StatusChanged`] and [`Event::ExitStarted`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::exit())]
		pub fn exit(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_exit(who)
		}

		/// Change the off-chain key of the caller's node; `key_proof` as for
		/// [`Pallet::register`].
		///
		/// Fails with [`Error::InvalidKeyProof`], [`Error::NotRegistered`],
		/// [`Error::NodeUnbonding`], or
		/// [`Error::OffchainKeyInUse`] when any node (the caller's included) has `key`. Emits
		/// [`Event::OffchainKeyChanged`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::set_offchain_key())]
		pub fn set_offchain_key(
			origin: OriginFor<T>,
			key: T::AccountId,
			key_proof: T::KeyProof,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::check_key_proof(&who, &key, &key_proof)?;
			Self::do_set_offchain_key(who, key)
		}

		/// Move the caller's suspended validator node back to `Pending`; the next epoch start
		/// promotes it to `Active`.
		///
		/// Fails with [`Error::NotRegistered`], [`Error::NotAValidator`] or
		/// [`Error::NotSuspended`]. Emits [`Event::StatusChanged`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::reactivate())]
		pub fn reactivate(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_reactivate(who)
		}

		/// Set the parameters.
		///
		/// Origin: [`Config::AdminOrigin`]. Fails with [`Error::InvalidParameters`] and changes
		/// nothing unless `base_bond > 0` and `unbonding_delay >= 1`. Emits
		/// [`Event::ParametersSet`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(
			origin: OriginFor<T>,
			params: NodeRegistryParamsOf<T>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			Self::do_set_parameters(params)
		}

		/// Cancel a scheduled slash (an upheld appeal); the node's funds stay intact.
		///
		/// Origin: [`Config::SlashCancelOrigin`]. Fails with [`Error::UnknownSlash`]. Emits
		/// [`Event::SlashCancelled`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::cancel_slash())]
		pub fn cancel_slash(origin: OriginFor<T>, slash_id: SlashId) -> DispatchResult {
			T::SlashCancelOrigin::ensure_origin(origin)?;
			Self::do_cancel_slash(slash_id)
		}
	}
}
