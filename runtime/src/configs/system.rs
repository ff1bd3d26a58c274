//! frame-system and the general-purpose pallets.
//!
//! The base weight of every transaction includes the benchmarked cost of distributing its fee
//! (`pallet_tokenomics` `handle_fees`).
//!
//! ## Block limits
//!
//! - **Weight**: 2 seconds of reference compute per block ([`MAXIMUM_BLOCK_WEIGHT`]). With 6 s
//!   slots this leaves 4 s to import, gossip and finalise a block on the reference machine, the
//!   same split Polkadot uses. Proof size is not limited (`u64::MAX`): a solochain builds no
//!   proof of validity and never sends the storage witness anywhere, so the benchmarks'
//!   worst-case proof sizes (e.g. `gpuJobs.postJob`, charged for reading 256 candidate
//!   providers' records: about 1.2 MB of proof) would only cap the number of transactions per
//!   block for nothing. What travels the network is the block, limited by its length.
//! - **Length**: 5 MiB.
//! - **Normal dispatch ratio**: 75 %; the remaining 25 % is reserved for operational
//!   transactions (e.g. equivocation reports, governance) so a flood of normal transactions can
//!   never lock out the operations that keep the chain safe.

use crate::{
	Balance, Balances, Block, BlockNumber, Hash, Nonce, OriginCaller, PalletInfo, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeOrigin, RuntimeTask, RuntimeVersion, VERSION,
};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dsync_primitives::{currency::deposit, AccountId, Moment, SS58_PREFIX};
use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstU32, InstanceFilter},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		Weight,
	},
};
use frame_system::limits::{BlockLength, BlockWeights};
use pallet_tokenomics::WeightInfo as _;
use scale_info::TypeInfo;
use sp_runtime::{traits::BlakeTwo256, Perbill};

type TokenomicsWeights = pallet_tokenomics::weights::SubstrateWeight<Runtime>;

/// Share of a block's weight and length available to normal (non-operational) transactions.
pub const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

/// Time budget of a block: 2 s of compute; no proof-size limit (see the module docs).
pub const MAXIMUM_BLOCK_WEIGHT: Weight =
	Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX);

/// Maximum encoded length of a block: 5 MiB.
pub const MAXIMUM_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;

parameter_types! {
	/// Number of recent block hashes kept (for mortal transactions): 4096 blocks ≈ 6.8 hours.
	pub const BlockHashCount: BlockNumber = 4096;
	/// The runtime version.
	pub const Version: RuntimeVersion = VERSION;
	/// Block weight limits (see the module docs).
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::builder()
		.base_block(frame_support::weights::constants::BlockExecutionWeight::get())
		.for_class(DispatchClass::all(), |weights| {
			// Every signed transaction pays a fee, which the tokenomics pallet splits and burns
			// after dispatch: that work is part of every transaction's base weight.
			weights.base_extrinsic = frame_support::weights::constants::ExtrinsicBaseWeight::get()
				.saturating_add(TokenomicsWeights::handle_fees());
		})
		.for_class(DispatchClass::Normal, |weights| {
			weights.max_total = Some(NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT);
		})
		.for_class(DispatchClass::Operational, |weights| {
			weights.max_total = Some(MAXIMUM_BLOCK_WEIGHT);
			// Operational transactions have some extra reserved space, so that they
			// are included even if block reached `MAXIMUM_BLOCK_WEIGHT`.
			weights.reserved = Some(
				MAXIMUM_BLOCK_WEIGHT - NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_WEIGHT
			);
		})
		.avg_block_initialization(Perbill::from_percent(10))
		.build_or_panic();
	/// Block length limits (see the module docs).
	pub RuntimeBlockLength: BlockLength = BlockLength::builder()
		.max_length(MAXIMUM_BLOCK_LENGTH)
		.modify_max_length_for_class(DispatchClass::Normal, |max| {
			*max = NORMAL_DISPATCH_RATIO * MAXIMUM_BLOCK_LENGTH
		})
		.build();
	/// The chain's SS58 address prefix.
	pub const SS58Prefix: u16 = SS58_PREFIX;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type Hashing = BlakeTwo256;
	type BlockHashCount = BlockHashCount;
	// The node runs ParityDB, so storage access is weighed with ParityDB's costs.
	type DbWeight = ParityDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
	type SystemWeightInfo = frame_system::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Half a slot: two timestamps must be at least this far apart.
	pub const MinimumPeriod: Moment = dsync_primitives::time::SLOT_DURATION / 2;
}

impl pallet_timestamp::Config for Runtime {
	type Moment = Moment;
	type OnTimestampSet = crate::Babe;
	type MinimumPeriod = MinimumPeriod;
	type WeightInfo = pallet_timestamp::weights::SubstrateWeight<Runtime>;
}

impl pallet_utility::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type PalletsOrigin = OriginCaller;
	type WeightInfo = pallet_utility::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Deposit for creating a multisig operation: storage of the call hash and the entry.
	pub const DepositBase: Balance = deposit(1, 88);
	/// Additional deposit per signatory (32 bytes each).
	pub const DepositFactor: Balance = deposit(0, 32);
}

impl pallet_multisig::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type DepositBase = DepositBase;
	type DepositFactor = DepositFactor;
	type MaxSignatories = ConstU32<100>;
	type WeightInfo = pallet_multisig::weights::SubstrateWeight<Runtime>;
	type BlockNumberProvider = frame_system::Pallet<Runtime>;
}

/// What a proxy may do on behalf of its delegator.
#[derive(
	Copy,
	Clone,
	Eq,
	PartialEq,
	Ord,
	PartialOrd,
	Encode,
	Decode,
	DecodeWithMemTracking,
	Debug,
	MaxEncodedLen,
	TypeInfo,
	Default,
)]
pub enum ProxyType {
	/// Anything.
	#[default]
	Any,
	/// Anything but moving funds.
	NonTransfer,
	/// Staking calls only (bond, nominate, payouts...).
	Staking,
	/// Only rejecting announcements of other proxies.
	CancelProxy,
	/// Governance only: submitting and deciding referenda, voting, preimages, treasury payouts.
	Governance,
}

impl InstanceFilter<RuntimeCall> for ProxyType {
	fn filter(&self, c: &RuntimeCall) -> bool {
		match self {
			ProxyType::Any => true,
			ProxyType::NonTransfer => !matches!(
				c,
				RuntimeCall::Balances(..)
					| RuntimeCall::Staking(pallet_staking::Call::bond { .. })
					| RuntimeCall::Staking(pallet_staking::Call::bond_extra { .. })
			),
			ProxyType::Staking => matches!(
				c,
				RuntimeCall::Staking(..) | RuntimeCall::Session(..) | RuntimeCall::Utility(..)
			),
			ProxyType::CancelProxy => {
				matches!(c, RuntimeCall::Proxy(pallet_proxy::Call::reject_announcement { .. }))
			},
			ProxyType::Governance => matches!(
				c,
				RuntimeCall::Referenda(..)
					| RuntimeCall::ConvictionVoting(..)
					| RuntimeCall::Preimage(..)
					| RuntimeCall::Treasury(..)
					| RuntimeCall::Utility(..)
			),
		}
	}

	fn is_superset(&self, o: &Self) -> bool {
		match (self, o) {
			(x, y) if x == y => true,
			(ProxyType::Any, _) => true,
			(_, ProxyType::Any) => false,
			(ProxyType::NonTransfer, _) => true,
			_ => false,
		}
	}
}

parameter_types! {
	/// Deposit for the proxy list of an account.
	pub const ProxyDepositBase: Balance = deposit(1, 8);
	/// Additional deposit per proxy (account + type).
	pub const ProxyDepositFactor: Balance = deposit(0, 33);
	/// Deposit for the announcement list of an account.
	pub const AnnouncementDepositBase: Balance = deposit(1, 8);
	/// Additional deposit per announcement (account + hash + block number).
	pub const AnnouncementDepositFactor: Balance = deposit(0, 68);
}

impl pallet_proxy::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type Currency = Balances;
	type ProxyType = ProxyType;
	type ProxyDepositBase = ProxyDepositBase;
	type ProxyDepositFactor = ProxyDepositFactor;
	type MaxProxies = ConstU32<32>;
	type WeightInfo = pallet_proxy::weights::SubstrateWeight<Runtime>;
	type MaxPending = ConstU32<32>;
	type CallHasher = BlakeTwo256;
	type AnnouncementDepositBase = AnnouncementDepositBase;
	type AnnouncementDepositFactor = AnnouncementDepositFactor;
	type BlockNumberProvider = frame_system::Pallet<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}
