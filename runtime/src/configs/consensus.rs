//! Consensus: BABE block production, GRANDPA finality, sessions and offences.
//!
//! One BABE epoch is one session ([`EPOCH_DURATION_IN_BLOCKS`], 1 hour); staking decides the
//! validator set once per era ([`super::staking::SessionsPerEra`] sessions). Equivocations
//! (two blocks in one slot, two GRANDPA votes in one round) are reported by the node as unsigned
//! transactions, checked against the historical session data, and handed by `pallet-offences`
//! to staking, which slashes.

use crate::{Babe, Historical, Offences, Runtime, RuntimeEvent, Session, SessionKeys, Staking};
use dsync_primitives::{time, AccountId, BlockNumber, Moment};
use frame_support::{parameter_types, traits::KeyOwnerProofSystem};
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_core::crypto::KeyTypeId;
use sp_runtime::traits::OpaqueKeys;

/// Length of a BABE epoch and of a session: one hour.
#[cfg(not(feature = "fast-runtime"))]
pub const EPOCH_DURATION_IN_BLOCKS: BlockNumber = time::HOURS;
/// With the `fast-runtime` feature (test networks only, built as an override Wasm): one-minute
/// epochs, so sessions and eras turn within a test.
#[cfg(feature = "fast-runtime")]
pub const EPOCH_DURATION_IN_BLOCKS: BlockNumber = time::MINUTES;
/// The same, in BABE slots (one slot per block).
pub const EPOCH_DURATION_IN_SLOTS: u64 = EPOCH_DURATION_IN_BLOCKS as u64;

parameter_types! {
	/// Slots per BABE epoch.
	pub const EpochDuration: u64 = EPOCH_DURATION_IN_SLOTS;
	/// Expected time between blocks.
	pub const ExpectedBlockTime: Moment = time::MILLISECS_PER_BLOCK;
	/// Equivocation reports older than the bonding period are useless: the stake is gone.
	pub ReportLongevity: u64 = super::staking::BondingDuration::get() as u64 *
		super::staking::SessionsPerEra::get() as u64 *
		EpochDuration::get();
	/// Upper bound of the validator set, for bounded storage in BABE and GRANDPA.
	pub const MaxAuthorities: u32 = super::staking::MAX_VALIDATORS;
	/// Upper bound of nominators backing one validator that equivocation proofs carry.
	pub const MaxNominators: u32 = super::staking::MAX_EXPOSURE_PAGE_SIZE;
	/// GRANDPA set-id → session mappings kept, for equivocation proofs over the bonding period.
	pub MaxSetIdSessionEntries: u64 =
		super::staking::BondingDuration::get() as u64 * super::staking::SessionsPerEra::get() as u64;
}

impl pallet_babe::Config for Runtime {
	type EpochDuration = EpochDuration;
	type ExpectedBlockTime = ExpectedBlockTime;
	// Epochs change when the session pallet says so (every session).
	type EpochChangeTrigger = pallet_babe::ExternalTrigger;
	type DisabledValidators = Session;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type KeyOwnerProof =
		<Historical as KeyOwnerProofSystem<(KeyTypeId, pallet_babe::AuthorityId)>>::Proof;
	type EquivocationReportSystem =
		pallet_babe::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = MaxAuthorities;
	type MaxNominators = MaxNominators;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = <Historical as KeyOwnerProofSystem<(KeyTypeId, GrandpaId)>>::Proof;
	type EquivocationReportSystem =
		pallet_grandpa::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
}

impl pallet_authorship::Config for Runtime {
	type FindAuthor = pallet_session::FindAccountFromAuthorIndex<Self, Babe>;
	// Staking gives era points to block authors.
	type EventHandler = Staking;
}

impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	// Validators are identified by their stash account.
	type ValidatorIdOf = sp_runtime::traits::ConvertInto;
	type ShouldEndSession = Babe;
	type NextSessionRotation = Babe;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, Staking>;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	// Offenders are disabled for the rest of the era, at most a third of the set at once (more
	// would stall GRANDPA); a worse offender may take the place of a lighter one.
	type DisablingStrategy = pallet_session::disabling::UpToLimitWithReEnablingDisablingStrategy;
	type WeightInfo = pallet_session::weights::SubstrateWeight<Runtime>;
	type Currency = crate::Balances;
	// Setting keys needs no deposit: only bonded validators have a reason to set them.
	type KeyDeposit = ();
}

impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = pallet_staking::UnitIdentificationOf<Self>;
}

impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = Staking;
}
