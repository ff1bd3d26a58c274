//! The pallet's data types.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::fungible, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::{ConstU32, H256};
use sp_runtime::traits::{Bounded, UniqueSaturatedFrom, Zero};

pub use dsync_primitives::naming::{NameRecords, NameView, RecordKind, MAX_LABEL_LEN};

/// The balance type of the pallet's currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The id of a name ([`dsync_primitives::naming::namehash`]).
pub type NameId = H256;

/// A label: 1 to 63 bytes ([`dsync_primitives::naming::is_valid_label`]).
pub type Label = BoundedVec<u8, ConstU32<{ MAX_LABEL_LEN as u32 }>>;

/// One value of a record.
pub type RecordValue<T> = BoundedVec<u8, <T as Config>::MaxRecordLen>;

/// The values of one record kind, as `set_records` takes them.
pub type RecordValues<T> = BoundedVec<RecordValue<T>, <T as Config>::MaxRecords>;

/// A record: its kind and one value.
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
pub struct Record<T: Config> {
	/// What the value means.
	pub kind: RecordKind,
	/// The value, encoded as [`RecordKind`] says.
	pub value: RecordValue<T>,
}

/// The records of one name, sorted by kind (values of a kind in the order they were given).
pub type RecordsOf<T> = BoundedVec<Record<T>, <T as Config>::MaxRecords>;

/// An open commitment to a registration ([`crate::Pallet::commit`]), kept until it is revealed
/// ([`crate::Pallet::register`]) or removed once expired.
///
/// It carries the deposit held for it, so that the release returns exactly what was held even
/// after governance changed `commitment_deposit`.
#[derive(Encode, Decode, MaxEncodedLen, TypeInfo, Clone, Copy, PartialEq, Eq, Debug)]
pub struct Commitment<Balance, BlockNumber> {
	/// The commitment ([`crate::Pallet::commitment_of`]).
	pub hash: H256,
	/// The block it was made in: its age decides whether it may be revealed and when it
	/// expires.
	pub at: BlockNumber,
	/// What is held from the committer for it under
	/// [`crate::HoldReason::CommitmentDeposit`], released when it is revealed or removed
	/// (zero for the commitments made before storage version 2, when nothing was held).
	pub deposit: Balance,
}

/// A commitment of the runtime.
pub type CommitmentOf<T> = Commitment<BalanceOf<T>, BlockNumberFor<T>>;

/// The open commitments of one account, at most `MaxCommitments`.
pub type CommitmentsOf<T> = BoundedVec<CommitmentOf<T>, <T as Config>::MaxCommitments>;

/// A name on chain: a top-level registration (`alice.dsync`) or a subname (`www.alice.dsync`).
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
pub struct NameInfo<T: Config> {
	/// Who controls the name: its records, subnames, transfer and release.
	pub owner: T::AccountId,
	/// The id of the parent name (the top-level domain's id for a registration).
	pub parent: NameId,
	/// The label under the parent.
	pub label: Label,
	/// How many labels under the top-level domain: 1 for a registration.
	pub depth: u8,
	/// Registrations: the last block of the paid period. Subnames live as long as their parent
	/// (`None`).
	pub expires: Option<BlockNumberFor<T>>,
	/// The parent's generation when this name was created: a subname whose parent was released
	/// or registered again by someone else is stale (it no longer resolves).
	pub parent_generation: u32,
	/// Subnames: whether the parent's owner may still revoke it. Giving up control is for good.
	pub parent_controlled: bool,
	/// The time to live of the name's DNS records, in seconds.
	pub ttl: u32,
	/// Subnames: the deposit held from `depositor` for the entry, returned when it is removed.
	pub deposit: BalanceOf<T>,
	/// Who paid the deposit (the parent's owner at creation).
	pub depositor: T::AccountId,
}

/// The governed parameters of the naming service, set as a whole by [`Config::AdminOrigin`].
///
/// Valid when `min_commitment_age < max_commitment_age`, `year_length >= 1`, `max_years >= 1`,
/// `premium_period >= 1`, every rent is above zero and `commitment_deposit` is above zero
/// ([`NamingParams::is_valid`]). Anything else is refused with `Error::InvalidParameters`.
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
	Serialize,
	Deserialize,
)]
pub struct NamingParams<Balance, BlockNumber> {
	/// Blocks a commitment must wait before its registration (front-running protection).
	pub min_commitment_age: BlockNumber,
	/// Blocks after which a commitment can no longer be used.
	pub max_commitment_age: BlockNumber,
	/// Blocks in one year of rent.
	pub year_length: BlockNumber,
	/// Blocks after expiry during which only the owner may renew.
	pub grace_period: BlockNumber,
	/// The premium a name costs at the end of the grace period, decaying linearly to zero over
	/// `premium_period` blocks (so released names are not sniped for the bare rent).
	pub premium_start: Balance,
	/// Blocks over which the premium decays.
	pub premium_period: BlockNumber,
	/// Rent per year for labels of 1, 2, 3, 4 and 5 or more characters.
	pub rent_per_year: [Balance; 5],
	/// The most years a name may be paid ahead.
	pub max_years: u32,
	/// The deposit held per subname, returned when it is removed.
	pub subname_deposit: Balance,
	/// The deposit held per open commitment ([`crate::HoldReason::CommitmentDeposit`]),
	/// returned to the committer when the commitment is revealed or, once expired, removed (by
	/// the committer's next commit, or by anyone through
	/// [`crate::Pallet::remove_expired_commitments`]). Above zero: a commitment stays in the
	/// state until then, so without a deposit anyone could grow the state for the fee alone.
	/// Appended in storage version 2 ([`DEFAULT_COMMITMENT_DEPOSIT`] on migrated chains).
	pub commitment_deposit: Balance,
}

/// The default `commitment_deposit`: 113.3 mDSYNC (1.133 × 10^17 planck with 18 decimals), the
/// chain's price of storage ([`dsync_primitives::currency::deposit`], as multisig and proxy
/// charge it) for one item of 133 bytes: the most state one commitment pins. An account's
/// first commitment creates the `Commitments` entry: an 80-byte key (two 16-byte prefixes, a
/// 16-byte `Blake2_128Concat` hash and the 32-byte account) and a 53-byte value (a one-byte
/// length, the 32-byte hash, the 4-byte block and the 16-byte deposit); each further one adds
/// 52 bytes to the same entry, so every commitment's deposit covers at least the state it adds.
pub const DEFAULT_COMMITMENT_DEPOSIT: u128 = dsync_primitives::currency::deposit(1, 133);

impl<Balance: Bounded + Zero + UniqueSaturatedFrom<u128>, BlockNumber: From<u32>> Default
	for NamingParams<Balance, BlockNumber>
{
	/// Parameters under which nothing can be registered (the rent is the largest balance):
	/// the runtime's genesis preset, or governance, sets real ones. Periods as at 6-second
	/// blocks: commitments from 1 block to 1 hour, a 90-day grace and premium period; a
	/// commitment holds [`DEFAULT_COMMITMENT_DEPOSIT`].
	fn default() -> Self {
		Self {
			min_commitment_age: 1u32.into(),
			max_commitment_age: 600u32.into(),
			year_length: 5_256_000u32.into(),
			grace_period: 1_296_000u32.into(),
			premium_start: Zero::zero(),
			premium_period: 1_296_000u32.into(),
			rent_per_year: [
				Balance::max_value(),
				Balance::max_value(),
				Balance::max_value(),
				Balance::max_value(),
				Balance::max_value(),
			],
			max_years: 10,
			subname_deposit: Zero::zero(),
			commitment_deposit: Balance::unique_saturated_from(DEFAULT_COMMITMENT_DEPOSIT),
		}
	}
}

impl<Balance: Default + PartialOrd, BlockNumber: PartialOrd + From<u32>>
	NamingParams<Balance, BlockNumber>
{
	/// Whether the parameters are within their bounds (see the type's docs).
	pub fn is_valid(&self) -> bool {
		self.min_commitment_age < self.max_commitment_age
			&& self.year_length >= BlockNumber::from(1u32)
			&& self.premium_period >= BlockNumber::from(1u32)
			&& self.max_years >= 1
			&& self.rent_per_year.iter().all(|rent| *rent > Balance::default())
			&& self.commitment_deposit > Balance::default()
	}
}
