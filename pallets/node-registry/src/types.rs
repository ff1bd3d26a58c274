//! Data types of the node registry and the aliases used across it: what a node declares
//! ([`Declaration`], [`Resources`], [`GpuSpec`]), how it is checked ([`Declaration::validate`])
//! and weighed ([`capacity_units`]), what the registry keeps about it ([`NodeInfo`]), the
//! governed parameters ([`NodeRegistryParams`]) and scheduled slashes ([`PendingSlash`]).

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::marker::PhantomData;
use dsync_primitives::traits::{ModelId, NodeRole, NodeStatus, ServiceKind, SlashReason};
use frame_support::{
	traits::{fungible, ConstU32, Get},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedFrom, Zero},
	Perbill,
};

/// The balance type of [`Config::Currency`].
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// Funds slashed from a bond and not yet placed anywhere; handed to [`Config::Slashed`].
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;

/// The identifier of a scheduled slash: sequential, assigned by the registry.
pub type SlashId = u32;

/// The index of a Proof-of-Sync epoch, as given to
/// [`NodeRegistry::on_epoch_start`](dsync_primitives::traits::NodeRegistry::on_epoch_start).
pub type EpochIndex = u32;

/// The most services one declaration may list: one per [`ServiceKind`].
pub type MaxServices = ConstU32<4>;

/// The declaration type of a runtime.
pub type DeclarationOf<T> = Declaration<
	<T as Config>::MaxGpuKinds,
	<T as Config>::MaxGpuModelLen,
	<T as Config>::MaxModels,
	<T as Config>::MaxEndpointLen,
>;

/// The resources type of a runtime.
pub type ResourcesOf<T> = Resources<<T as Config>::MaxGpuKinds, <T as Config>::MaxGpuModelLen>;

/// The parameters type of a runtime.
pub type NodeRegistryParamsOf<T> = NodeRegistryParams<BalanceOf<T>, BlockNumberFor<T>>;

/// The bound of the list of pending declaration updates: every registered node at most once,
/// so `MaxServiceNodes + MaxValidatorNodes` (saturating).
pub struct MaxNodesOf<T>(PhantomData<T>);

impl<T: Config> Get<u32> for MaxNodesOf<T> {
	fn get() -> u32 {
		T::MaxServiceNodes::get().saturating_add(T::MaxValidatorNodes::get())
	}
}

/// The largest number of CPU cores a declaration may state.
pub const MAX_CPU_CORES: u32 = 4096;

/// The largest number of GPUs of one kind a declaration may state.
pub const MAX_GPUS_PER_KIND: u32 = 64;

/// One kind of GPU of a node: the model, how many of them, and the memory of each.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxModelLen))]
pub struct GpuSpec<MaxModelLen: Get<u32>> {
	/// The model name, printable ASCII (e.g. `NVIDIA H100 80GB`); not empty.
	pub model: BoundedVec<u8, MaxModelLen>,
	/// How many GPUs of this model the node has: 1 to [`MAX_GPUS_PER_KIND`].
	pub count: u32,
	/// Memory of each GPU, in MiB; at least 1.
	pub memory_mib: u64,
}

/// The resources a node declares. Nothing here is measured by the chain: the declaration is the
/// operator's claim, weighed by [`capacity_units`] and backed by the bond; Proof of Sync probes
/// whether the node answers.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxGpuKinds, MaxModelLen))]
pub struct Resources<MaxGpuKinds: Get<u32>, MaxModelLen: Get<u32>> {
	/// CPU cores: 1 to [`MAX_CPU_CORES`].
	pub cpu_cores: u32,
	/// Main memory in MiB; at least 1.
	pub memory_mib: u64,
	/// Storage offered, in GiB.
	pub storage_gib: u64,
	/// Network bandwidth in Mbit/s.
	pub bandwidth_mbps: u32,
	/// The GPUs, one entry per model.
	pub gpus: BoundedVec<GpuSpec<MaxModelLen>, MaxGpuKinds>,
}

/// What a node declares when it registers or updates: its resources, the services it sells,
/// the inference models it serves and its probe endpoint.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(MaxGpuKinds, MaxModelLen, MaxModels, MaxEndpointLen))]
pub struct Declaration<
	MaxGpuKinds: Get<u32>,
	MaxModelLen: Get<u32>,
	MaxModels: Get<u32>,
	MaxEndpointLen: Get<u32>,
> {
	/// The declared resources.
	pub resources: Resources<MaxGpuKinds, MaxModelLen>,
	/// The services offered, without duplicates. A service node offers at least one.
	pub services: BoundedVec<ServiceKind, MaxServices>,
	/// The inference models served, without duplicates; only with
	/// [`ServiceKind::GpuInference`].
	pub models: BoundedVec<ModelId, MaxModels>,
	/// The probe endpoint, `http(s)://host[:port][/path]`
	/// ([`dsync_primitives::probe::is_valid_endpoint`]).
	pub endpoint: BoundedVec<u8, MaxEndpointLen>,
}

/// Why a declaration is refused; each maps to the pallet error of the same name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeclarationError {
	/// The endpoint is not an `http(s)://` URL the probe can use.
	InvalidEndpoint,
	/// A resource is out of its bounds.
	InvalidResources,
	/// The services are duplicated, missing for a service node, or lack the resources they need.
	InvalidServices,
	/// Models are listed without GPU inference, or twice.
	InvalidModels,
}

impl<MaxModelLen: Get<u32>> GpuSpec<MaxModelLen> {
	/// Whether the model name is non-empty printable ASCII (space to `~`), the count within
	/// 1 to [`MAX_GPUS_PER_KIND`] and the memory at least 1 MiB.
	pub fn is_valid(&self) -> bool {
		!self.model.is_empty()
			&& self.model.iter().all(|c| (0x20..=0x7e).contains(c))
			&& (1..=MAX_GPUS_PER_KIND).contains(&self.count)
			&& self.memory_mib >= 1
	}
}

impl<MaxGpuKinds: Get<u32>, MaxModelLen: Get<u32>> Resources<MaxGpuKinds, MaxModelLen> {
	/// Whether the CPU cores are within 1 to [`MAX_CPU_CORES`], the memory at least 1 MiB and
	/// every GPU entry valid ([`GpuSpec::is_valid`]).
	pub fn is_valid(&self) -> bool {
		(1..=MAX_CPU_CORES).contains(&self.cpu_cores)
			&& self.memory_mib >= 1
			&& self.gpus.iter().all(|gpu| gpu.is_valid())
	}

	/// The capacity units of these resources ([`capacity_units`]).
	pub fn capacity_units(&self) -> u64 {
		capacity_units(self)
	}
}

impl<
		MaxGpuKinds: Get<u32>,
		MaxModelLen: Get<u32>,
		MaxModels: Get<u32>,
		MaxEndpointLen: Get<u32>,
	> Declaration<MaxGpuKinds, MaxModelLen, MaxModels, MaxEndpointLen>
{
	/// Check the declaration of a node registering (or registered) with `role`:
	///
	/// 1. the endpoint passes [`dsync_primitives::probe::is_valid_endpoint`] (both roles:
	///    validators are probed too in later versions, and the endpoint documents the node) —
	///    else [`DeclarationError::InvalidEndpoint`];
	/// 2. the resources are within bounds ([`Resources::is_valid`]) — else
	///    [`DeclarationError::InvalidResources`];
	/// 3. no service is listed twice, a service node offers at least one, `GpuInference` comes
	///    with at least one GPU and `Storage` with at least 1 GiB — else
	///    [`DeclarationError::InvalidServices`];
	/// 4. models are listed only with `GpuInference`, none twice — else
	///    [`DeclarationError::InvalidModels`].
	pub fn validate(&self, role: NodeRole) -> Result<(), DeclarationError> {
		if !dsync_primitives::probe::is_valid_endpoint(&self.endpoint) {
			return Err(DeclarationError::InvalidEndpoint);
		}
		if !self.resources.is_valid() {
			return Err(DeclarationError::InvalidResources);
		}
		if has_duplicates(self.services.as_slice()) {
			return Err(DeclarationError::InvalidServices);
		}
		if role == NodeRole::Service && self.services.is_empty() {
			return Err(DeclarationError::InvalidServices);
		}
		let gpu_inference = self.offers(ServiceKind::GpuInference);
		if gpu_inference && self.resources.gpus.is_empty() {
			return Err(DeclarationError::InvalidServices);
		}
		if self.offers(ServiceKind::Storage) && self.resources.storage_gib < 1 {
			return Err(DeclarationError::InvalidServices);
		}
		if !self.models.is_empty() && !gpu_inference {
			return Err(DeclarationError::InvalidModels);
		}
		if has_duplicates(self.models.as_slice()) {
			return Err(DeclarationError::InvalidModels);
		}
		Ok(())
	}

	/// Whether the declaration offers `kind`.
	pub fn offers(&self, kind: ServiceKind) -> bool {
		self.services.contains(&kind)
	}

	/// The capacity units of the declared resources ([`capacity_units`]).
	pub fn capacity_units(&self) -> u64 {
		capacity_units(&self.resources)
	}

	/// Whether this declaration claims more than `previous`: more capacity units, or a service
	/// or a model `previous` did not list. Such an update sends an active service node back to
	/// warm-up when it applies.
	pub fn claims_more_than(&self, previous: &Self) -> bool {
		self.capacity_units() > previous.capacity_units()
			|| self.services.iter().any(|service| !previous.services.contains(service))
			|| self.models.iter().any(|model| !previous.models.contains(model))
	}
}

/// Whether `items` holds some value twice. Quadratic, for the short bounded lists of a
/// declaration (at most `MaxModels` entries).
fn has_duplicates<Item: PartialEq>(items: &[Item]) -> bool {
	items
		.iter()
		.enumerate()
		.any(|(index, item)| items.iter().skip(index.saturating_add(1)).any(|other| other == item))
}

/// The capacity units of `resources`: one number that sizes a node for its minimum bond and,
/// in Proof of Sync, for its share of the rewards.
///
/// ```text
/// cpu_cores + memory_mib / 1024 + storage_gib / 100 + bandwidth_mbps / 100
///     + Σ over the GPU kinds: count * (4 + memory_mib / 1024)
/// ```
///
/// One unit per CPU core, per GiB of memory, per 100 GiB of storage and per 100 Mbit/s; a GPU
/// counts 4 units plus one per GiB of its memory. Divisions round down, the sum saturates at
/// `u64::MAX`, and the result is at least 1 (a valid declaration has at least one core anyway).
pub fn capacity_units<MaxGpuKinds: Get<u32>, MaxModelLen: Get<u32>>(
	resources: &Resources<MaxGpuKinds, MaxModelLen>,
) -> u64 {
	let gpus = resources.gpus.iter().fold(0u64, |sum, gpu| {
		let per_gpu = 4u64.saturating_add(gpu.memory_mib.saturating_div(1024));
		sum.saturating_add(u64::from(gpu.count).saturating_mul(per_gpu))
	});
	u64::from(resources.cpu_cores)
		.saturating_add(resources.memory_mib.saturating_div(1024))
		.saturating_add(resources.storage_gib.saturating_div(100))
		.saturating_add(u64::from(resources.bandwidth_mbps).saturating_div(100))
		.saturating_add(gpus)
		.max(1)
}

/// The governed parameters of the registry.
///
/// Valid when `base_bond > 0` and `unbonding_delay >= 1` ([`NodeRegistryParams::is_valid`]);
/// `set_parameters` and the genesis build refuse anything else.
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
	Serialize,
	Deserialize,
)]
pub struct NodeRegistryParams<Balance, BlockNumber> {
	/// The bond every node holds at least, whatever its size.
	pub base_bond: Balance,
	/// The bond added per capacity unit of the declaration.
	pub bond_per_capacity_unit: Balance,
	/// Blocks between unbonding (or exiting) and the release of the funds.
	pub unbonding_delay: BlockNumber,
}

impl<Balance, BlockNumber> NodeRegistryParams<Balance, BlockNumber>
where
	Balance: Zero + Saturating + Copy + UniqueSaturatedFrom<u64>,
	BlockNumber: Zero,
{
	/// Whether `base_bond > 0` and `unbonding_delay >= 1`.
	pub fn is_valid(&self) -> bool {
		!self.base_bond.is_zero() && !self.unbonding_delay.is_zero()
	}

	/// The minimum bond of a declaration of `capacity_units`:
	/// `base_bond + bond_per_capacity_unit * capacity_units`, saturating.
	pub fn minimum_bond(&self, capacity_units: u64) -> Balance {
		let units = Balance::unique_saturated_from(capacity_units);
		self.base_bond.saturating_add(self.bond_per_capacity_unit.saturating_mul(units))
	}
}

/// Everything the registry keeps about one node, keyed by its owner (the account that
/// registered it and holds its bond).
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
)]
#[scale_info(skip_type_params(T))]
pub struct NodeInfo<T: Config> {
	/// The role the node registered with; it never changes.
	pub role: NodeRole,
	/// Where the node is in its lifecycle.
	pub status: NodeStatus,
	/// The declaration in force.
	pub declaration: DeclarationOf<T>,
	/// A declaration waiting for the next epoch start, if any.
	pub pending_declaration: Option<DeclarationOf<T>>,
	/// The account of the node's off-chain (`dsyn`, sr25519) public key.
	pub offchain_key: T::AccountId,
	/// The active bond, held under [`crate::HoldReason::Bond`].
	pub bond: BalanceOf<T>,
	/// Funds being unbonded, still held: the amount and the block from which it can be
	/// withdrawn.
	pub unbonding: Option<(BalanceOf<T>, BlockNumberFor<T>)>,
	/// The block the node registered in.
	pub registered_at: BlockNumberFor<T>,
	/// Slashes scheduled against the node and neither applied nor cancelled yet.
	pub pending_slashes: u32,
}

impl<T: Config> NodeInfo<T> {
	/// The amount being unbonded (zero without a chunk).
	pub fn unbonding_amount(&self) -> BalanceOf<T> {
		self.unbonding.map(|(amount, _)| amount).unwrap_or_else(Zero::zero)
	}

	/// Everything held for the node: `bond + unbonding amount`.
	pub fn total_held(&self) -> BalanceOf<T> {
		self.bond.saturating_add(self.unbonding_amount())
	}
}

/// A slash scheduled against a node and not applied yet.
#[derive(
	Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo, Clone, PartialEq, Eq, Debug,
)]
pub struct PendingSlash<AccountId> {
	/// The owner of the slashed node.
	pub node: AccountId,
	/// The share of the node's held funds (bond and unbonding) to slash.
	pub fraction: Perbill,
	/// Why.
	pub reason: SlashReason,
	/// The epoch at whose start the slash applies.
	pub apply_at: EpochIndex,
}
