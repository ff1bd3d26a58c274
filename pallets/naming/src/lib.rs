//! # Naming pallet
//!
//! ENS-style names under the chain's top-level domain `.dsync`: users register names, point
//! them at addresses, content and other chains, hand out subnames, and every `dsync-node` with
//! its DNS front-end on answers ordinary DNS queries for them from finalised state.
//!
//! ## Overview
//!
//! - **Labels and ids.** A name is a dot-separated list of labels under `dsync`. Labels are
//!   checked on chain ([`dsync_primitives::naming::is_valid_label`]): lower-case ASCII letters,
//!   digits and hyphens, 1 to 63 bytes, no leading or trailing hyphen, internationalised names
//!   only in their punycode form (`xn--…`). Upper case, Unicode look-alikes and zero-width
//!   characters are refused, so one name has exactly one spelling. Subnames may also take
//!   service labels (`_dmarc`, `_tcp`, `_domainkey`:
//!   [`dsync_primitives::naming::is_service_label`]), for SRV, DMARC, DKIM and ACME records. Names are stored under their
//!   *id*, a namehash: `id(label.parent) = blake2_256(id(parent) ‖ blake2_256(label))`.
//! - **Registration by commit-reveal.** [`Pallet::commit`] stores the commitment to `(label,
//!   owner, secret)` in the name-registration domain of the shared commit-reveal primitive
//!   ([`Pallet::commitment_of`], [`dsync_primitives::commit_reveal`]); after at least
//!   `min_commitment_age` and at most `max_commitment_age` blocks, [`Pallet::register`] reveals
//!   it. Nobody watching the pool can see the name before the commitment is old enough, so
//!   nobody can front-run it. Each open commitment holds `commitment_deposit` from the
//!   committer ([`HoldReason::CommitmentDeposit`]); the deposit goes back when the commitment
//!   is revealed, or once it has expired (older than `max_commitment_age`) and is removed: by
//!   the committer's next commit, or by anyone through [`Pallet::remove_expired_commitments`].
//! - **Rent.** A registration pays `rent_per_year[len]` per year (labels of 1, 2, 3, 4 and 5 or
//!   more characters cost differently) through the service-payment trait, so the burn share
//!   applies ([`Config::Payment`], provider `None`: the chain renders the service). A name
//!   expires after its paid years; for `grace_period` blocks only its owner may renew it; then
//!   anyone may register it, paying a *premium* on top of the rent that starts at
//!   `premium_start` and decays linearly to zero over `premium_period` blocks.
//! - **Renewal** ([`Pallet::renew`]) is open to anyone for any live name (a gift), and to the
//!   owner alone during the grace period; at most `max_years` ahead.
//! - **Transfer and release** ([`Pallet::transfer`], [`Pallet::release`]).
//! - **Subnames.** The owner of a name creates subnames ([`Pallet::set_subname`]) for a
//!   deposit ([`HoldReason::SubnameDeposit`]), and may revoke them ([`Pallet::revoke_subname`])
//!   unless it gave up control ([`Pallet::give_up_control`], for good: the subname's owner
//!   can then rely on it). A subname lives as long as its parent: when the parent expires,
//!   is released or registered anew, its subnames go *stale* (they stop resolving) and anyone
//!   may remove them ([`Pallet::remove_stale`]), returning their deposits.
//! - **Records** ([`Pallet::set_records`]): per name at most `MaxRecords` values of at most
//!   `MaxRecordLen` bytes: A, AAAA, CNAME, TXT, MX, SRV, NS (served over DNS), a content hash
//!   (an IPFS CID), addresses on other chains by SLIP-44 coin type, and free text entries. A
//!   CNAME stands alone (DNS's rule). One TTL per name ([`Pallet::set_ttl`]).
//! - **Reverse names** ([`Pallet::set_primary_name`]): an account names its primary name; the
//!   reverse lookup returns it only while the name is live and still owned by that account.
//! - **Reserved labels** ([`Pallet::set_reserved`]): protocol names (e.g. `ns1`, `www`) that
//!   cannot be registered; governance may reserve or free labels.
//!
//! ## Terminology
//!
//! - *Live*: a registration before its expiry block (inclusive); a subname whose parent is live
//!   and was not replaced since the subname was made.
//! - *Available*: a top-level label that is not reserved and has no registration, or whose
//!   registration is past its grace period.
//!
//! ## Calls
//!
//! | index | call | origin |
//! | --- | --- | --- |
//! | 0 | [`commit`](Pallet::commit) | signed |
//! | 1 | [`register`](Pallet::register) | signed (the committer) |
//! | 2 | [`renew`](Pallet::renew) | signed (anyone; the owner in the grace period) |
//! | 3 | [`transfer`](Pallet::transfer) | owner |
//! | 4 | [`release`](Pallet::release) | owner |
//! | 5 | [`set_subname`](Pallet::set_subname) | parent's owner |
//! | 6 | [`revoke_subname`](Pallet::revoke_subname) | parent's owner, while in control |
//! | 7 | [`give_up_control`](Pallet::give_up_control) | parent's owner |
//! | 8 | [`set_records`](Pallet::set_records) | owner |
//! | 9 | [`set_ttl`](Pallet::set_ttl) | owner |
//! | 10 | [`set_primary_name`](Pallet::set_primary_name) | signed |
//! | 11 | [`remove_stale`](Pallet::remove_stale) | signed (anyone) |
//! | 12 | [`set_parameters`](Pallet::set_parameters) | [`Config::AdminOrigin`] |
//! | 13 | [`set_reserved`](Pallet::set_reserved) | [`Config::AdminOrigin`] |
//! | 14 | [`remove_expired_commitments`](Pallet::remove_expired_commitments) | signed (anyone) |
//!
//! ## Design choices
//!
//! - Expiry, grace and premium are measured in blocks, like every period on chain; a year is
//!   `year_length` blocks (5_256_000 at 6-second blocks).
//! - Subnames cost a deposit rather than rent: their storage is paid back when removed, and a
//!   parent's owner can run a whole zone without a yearly bill per host name.
//! - Stale entries are cleaned up by anyone rather than by a hook walking the map: the work is
//!   paid by the caller, bounded per call, and the deposit goes back to whoever paid it.
//! - Commitments cost a deposit too: a commitment that is never revealed stays in the state
//!   until it is removed, so without one a farm of accounts could each commit once and grow
//!   the state for the fees alone. At most `MaxCommitments` per account, each with its
//!   deposit; an expired one is removed by its committer's next commit or by anyone
//!   ([`Pallet::remove_expired_commitments`]), and the deposit always goes back to the
//!   committer. Each commitment records the deposit held for it ([`Commitment`]), so a change
//!   of `commitment_deposit` applies to new commitments only and every release returns exactly
//!   what was held. The deposit is no fee: an attacker gets it back, but must lock it for as
//!   long as the state lives, which is the rule for all user-grown state on the chain.
//! - The DNS front-end reads [`runtime_api::NamingApi::records`] at the finalised block; the
//!   value encodings are in [`dsync_primitives::naming`].
//!
//! ## Runtime wiring
//!
//! `Currency`: `Balances`; `Payment`: `Tokenomics`; `AdminOrigin`: root or a passed
//! `parameter_admin` referendum.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod invariants;
pub mod migrations;
mod records;
mod registration;
mod subnames;
mod views;

pub mod runtime_api;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use pallet::*;
pub use types::{
	BalanceOf, Commitment, CommitmentOf, CommitmentsOf, Label, NameId, NameInfo, NameRecords,
	NameView, NamingParams, Record, RecordKind, RecordValue, RecordValues, RecordsOf,
	DEFAULT_COMMITMENT_DEPOSIT, MAX_LABEL_LEN,
};
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use dsync_primitives::traits::ServicePayment;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, BuildGenesisConfig},
	};
	use frame_system::pallet_prelude::*;
	use sp_core::H256;

	/// The in-code storage version: 2 since commitments carry a deposit
	/// ([`crate::migrations::v2`]).
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the naming pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The native currency: rent is paid and subname and commitment deposits are held in
		/// it.
		type Currency: fungible::Inspect<Self::AccountId>
			+ fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The runtime's aggregated hold reason; deposits are held under
		/// [`HoldReason::SubnameDeposit`] and [`HoldReason::CommitmentDeposit`].
		type RuntimeHoldReason: From<HoldReason>;

		/// How rent is paid (tokenomics: the burn share is applied there).
		type Payment: ServicePayment<Self::AccountId, BalanceOf<Self>>;

		/// The origin that sets the parameters and reserves labels (the DSYNC runtime: root or a
		/// passed `parameter_admin` referendum).
		type AdminOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The most records (values) per name (16 in the runtime).
		#[pallet::constant]
		type MaxRecords: Get<u32>;

		/// The longest record value, in bytes (255 in the runtime).
		#[pallet::constant]
		type MaxRecordLen: Get<u32>;

		/// The most commitments an account keeps at once (4 in the runtime).
		#[pallet::constant]
		type MaxCommitments: Get<u32>;

		/// The most labels under the top-level domain (8 in the runtime: `a.b.c.d.e.f.g.name`).
		#[pallet::constant]
		type MaxDepth: Get<u32>;

		/// The shortest TTL a name may set, in seconds.
		#[pallet::constant]
		type MinTtl: Get<u32>;

		/// The longest TTL a name may set, in seconds.
		#[pallet::constant]
		type MaxTtl: Get<u32>;

		/// Weights of the calls of this pallet.
		type WeightInfo: WeightInfo;
	}

	/// Why the pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit of a subname, returned when it is removed.
		SubnameDeposit,
		/// The deposit of an open registration commitment, returned to the committer when the
		/// commitment is revealed or, once expired, removed.
		CommitmentDeposit,
	}

	/// The governed parameters.
	#[pallet::storage]
	pub type Params<T: Config> =
		StorageValue<_, NamingParams<BalanceOf<T>, BlockNumberFor<T>>, ValueQuery>;

	/// Every name, by id.
	// `Blake2_128Concat`: ids are hashes of labels users choose.
	#[pallet::storage]
	pub type Names<T: Config> = StorageMap<_, Blake2_128Concat, NameId, NameInfo<T>, OptionQuery>;

	/// How many times a name was created: subnames made under an earlier generation are stale.
	// `Blake2_128Concat`: ids are hashes of labels users choose.
	#[pallet::storage]
	pub type Generations<T: Config> = StorageMap<_, Blake2_128Concat, NameId, u32, ValueQuery>;

	/// The records of each name.
	// `Blake2_128Concat`: ids are hashes of labels users choose.
	#[pallet::storage]
	pub type Records<T: Config> = StorageMap<_, Blake2_128Concat, NameId, RecordsOf<T>, ValueQuery>;

	/// The open commitments of each account, each with the block it was made in and the
	/// deposit held for it. No empty list is stored: the entry goes with its last commitment.
	#[pallet::storage]
	pub type Commitments<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, CommitmentsOf<T>, ValueQuery>;

	/// Labels nobody may register.
	#[pallet::storage]
	pub type Reserved<T: Config> = StorageMap<_, Blake2_128Concat, Label, (), OptionQuery>;

	/// The primary name (reverse record) each account chose.
	#[pallet::storage]
	pub type PrimaryNames<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, NameId, OptionQuery>;

	/// Genesis: parameters and reserved labels.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The parameters; must be valid ([`NamingParams::is_valid`]).
		pub parameters: Option<NamingParams<BalanceOf<T>, BlockNumberFor<T>>>,
		/// Reserved labels; each must be a valid label.
		pub reserved: Vec<Vec<u8>>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// An invalid genesis config is a mistake of whoever wrote it; the chain must not
			// start with it.
			if let Some(parameters) = self.parameters {
				if !parameters.is_valid() {
					panic!("invalid naming genesis parameters: {parameters:?}");
				}
				Params::<T>::put(parameters);
			}
			for label in &self.reserved {
				let Some(label) = Pallet::<T>::checked_label(label) else {
					panic!("naming genesis: reserved label {label:?} is not a valid label");
				};
				Reserved::<T>::insert(label, ());
			}
		}
	}

	/// Events of the naming pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` committed to a registration.
		Committed {
			/// The committer (who must register).
			who: T::AccountId,
			/// The commitment.
			commitment: H256,
			/// The deposit held from the committer until the commitment is revealed or removed.
			deposit: BalanceOf<T>,
		},
		/// Expired commitments of `who` were removed (by its next commit or by
		/// [`Pallet::remove_expired_commitments`]) and their deposits released to `who`.
		CommitmentsExpired {
			/// The committer.
			who: T::AccountId,
			/// How many commitments were removed.
			count: u32,
			/// The deposits released to the committer.
			released: BalanceOf<T>,
		},
		/// A name was registered.
		NameRegistered {
			/// The name's id.
			name: NameId,
			/// Its label under the top-level domain.
			label: Label,
			/// Its owner.
			owner: T::AccountId,
			/// Its last paid block.
			expires: BlockNumberFor<T>,
			/// What the registrant paid: rent plus premium.
			cost: BalanceOf<T>,
		},
		/// A registration was extended.
		NameRenewed {
			/// The name's id.
			name: NameId,
			/// Who paid.
			payer: T::AccountId,
			/// The new last paid block.
			expires: BlockNumberFor<T>,
			/// What was paid.
			cost: BalanceOf<T>,
		},
		/// A name has a new owner.
		NameTransferred {
			/// The name's id.
			name: NameId,
			/// The previous owner.
			from: T::AccountId,
			/// The new owner.
			to: T::AccountId,
		},
		/// A name and its records were removed (released by its owner, revoked by its parent's
		/// owner, or removed as stale or expired).
		NameRemoved {
			/// The name's id.
			name: NameId,
			/// Its last owner.
			owner: T::AccountId,
		},
		/// A subname was created.
		SubnameCreated {
			/// The subname's id.
			name: NameId,
			/// The parent's id.
			parent: NameId,
			/// Its label under the parent.
			label: Label,
			/// Its owner.
			owner: T::AccountId,
			/// The deposit held from the parent's owner.
			deposit: BalanceOf<T>,
		},
		/// The parent's owner can no longer revoke this subname.
		ControlGivenUp {
			/// The subname's id.
			name: NameId,
		},
		/// The records of one kind were replaced.
		RecordsSet {
			/// The name's id.
			name: NameId,
			/// The kind.
			kind: RecordKind,
			/// How many values the kind has now (0: removed).
			count: u32,
		},
		/// A name's TTL changed.
		TtlSet {
			/// The name's id.
			name: NameId,
			/// The TTL in seconds.
			ttl: u32,
		},
		/// An account chose (or cleared) its primary name.
		PrimaryNameSet {
			/// The account.
			who: T::AccountId,
			/// The name's id, `None` when cleared.
			name: Option<NameId>,
		},
		/// The parameters were replaced.
		ParametersSet {
			/// The new parameters.
			parameters: NamingParams<BalanceOf<T>, BlockNumberFor<T>>,
		},
		/// A label was reserved or freed.
		ReservationSet {
			/// The label.
			label: Label,
			/// Whether it is reserved now.
			reserved: bool,
		},
	}

	/// Errors of the naming pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// The label is not 1 to 63 bytes of `a-z0-9-` without leading or trailing hyphen (or
		/// `xn--` punycode). Use the lower-case punycode form.
		InvalidLabel,
		/// The label is reserved for the protocol.
		Reserved,
		/// The name is registered and not past its grace period. Pick another name.
		NotAvailable,
		/// No commitment by the caller matches `(label, owner, secret)`. Commit first, with the
		/// same values.
		NoCommitment,
		/// The commitment is younger than `min_commitment_age`. Wait a few blocks.
		CommitmentTooNew,
		/// The commitment is older than `max_commitment_age`. Commit again.
		CommitmentTooOld,
		/// The caller has `MaxCommitments` open commitments. Use or let them expire.
		TooManyCommitments,
		/// The same commitment is already open.
		DuplicateCommitment,
		/// Zero years, or more than `max_years` paid ahead.
		InvalidYears,
		/// No such name.
		UnknownName,
		/// The caller does not own the name.
		NotOwner,
		/// The name is expired or stale.
		NameNotLive,
		/// The name is past its grace period: register it anew.
		PastGracePeriod,
		/// Only the owner may renew during the grace period.
		GracePeriodOwnerOnly,
		/// The subname already exists and is live.
		SubnameExists,
		/// The name is a registration, not a subname.
		NotSubname,
		/// The parent's owner gave up control of this subname.
		ControlGivenUp,
		/// More than `MaxDepth` labels.
		TooDeep,
		/// The full name would be longer than 253 bytes (DNS's limit).
		NameTooLong,
		/// A record value does not match its kind's encoding, or is empty or too long.
		InvalidRecord,
		/// Several values for a kind that holds one (CNAME, content hash, address, text).
		SingleValueKind,
		/// A CNAME together with other DNS records of the same name.
		CnameConflict,
		/// More than `MaxRecords` values on the name.
		TooManyRecords,
		/// The TTL is outside `MinTtl..=MaxTtl`.
		InvalidTtl,
		/// The name is still live (only stale or expired names can be removed).
		StillLive,
		/// The parameters are outside their bounds ([`NamingParams::is_valid`]).
		InvalidParameters,
		/// The reservation is already as asked.
		ReservationUnchanged,
		/// An amount overflowed.
		Overflow,
		/// The account has no expired commitment: nothing to remove.
		NoExpiredCommitments,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxRecords::get() >= 1, "MaxRecords must be at least 1");
			assert!(T::MaxRecordLen::get() >= 16, "MaxRecordLen must hold an IPv6 address");
			assert!(T::MaxCommitments::get() >= 1, "MaxCommitments must be at least 1");
			assert!(
				(1..=127).contains(&T::MaxDepth::get()),
				"MaxDepth must be 1..=127 (a name has at most 253 bytes)"
			);
			assert!(T::MinTtl::get() <= T::MaxTtl::get(), "MinTtl must not exceed MaxTtl");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_now: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Commit to registering a name: `commitment = blake2_256(SCALE((tag, (label, owner,
		/// secret))))` with `tag = b"dsync/name-registration/v1"` (a byte string), `label:
		/// Vec<u8>`, `owner: AccountId`, `secret: [u8; 32]` ([`Pallet::commitment_of`]). The
		/// caller's expired commitments are removed first and their deposits released; then
		/// `commitment_deposit` is held from the caller ([`HoldReason::CommitmentDeposit`])
		/// until the commitment is revealed or, once expired, removed.
		///
		/// Fails with [`Error::DuplicateCommitment`], [`Error::TooManyCommitments`], or the
		/// currency's error when the deposit cannot be held (e.g. `TokenError::FundsUnavailable`),
		/// changing nothing. Emits [`Event::CommitmentsExpired`] when expired commitments were
		/// removed, then [`Event::Committed`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::commit())]
		pub fn commit(origin: OriginFor<T>, commitment: H256) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_commit(who, commitment)
		}

		/// Register `label.dsync` for `owner` for `years`, revealing the caller's commitment.
		/// The caller pays the rent, plus the premium of a recently expired name; the
		/// commitment's deposit is released to the caller.
		///
		/// Fails with [`Error::InvalidLabel`], [`Error::Reserved`], [`Error::InvalidYears`],
		/// [`Error::NoCommitment`], [`Error::CommitmentTooNew`], [`Error::CommitmentTooOld`],
		/// [`Error::NotAvailable`], or the payment's error. Emits [`Event::NameRegistered`]
		/// (after [`Event::NameRemoved`] when an expired registration is replaced).
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::register())]
		pub fn register(
			origin: OriginFor<T>,
			label: Vec<u8>,
			owner: T::AccountId,
			secret: [u8; 32],
			years: u32,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_register(who, label, owner, secret, years)
		}

		/// Extend a registration by `years`, paid by the caller. Anyone may renew a live name;
		/// in the grace period only its owner.
		///
		/// Fails with [`Error::UnknownName`], [`Error::NotSubname`] (a subname has no rent:
		/// renew its registration), [`Error::InvalidYears`] (zero, or beyond `max_years` ahead),
		/// [`Error::PastGracePeriod`], [`Error::GracePeriodOwnerOnly`], or the payment's error.
		/// Emits [`Event::NameRenewed`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::renew())]
		pub fn renew(origin: OriginFor<T>, name: NameId, years: u32) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_renew(who, name, years)
		}

		/// Give a live name to `to`.
		///
		/// Fails with [`Error::UnknownName`], [`Error::NotOwner`] or [`Error::NameNotLive`].
		/// Emits [`Event::NameTransferred`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::transfer())]
		pub fn transfer(origin: OriginFor<T>, name: NameId, to: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_transfer(who, name, to)
		}

		/// Give up a name: it and its records are removed (a registration becomes available at
		/// once, without refund; its subnames go stale). A subname's deposit goes back to its
		/// depositor.
		///
		/// Fails with [`Error::UnknownName`] or [`Error::NotOwner`]. Emits
		/// [`Event::NameRemoved`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::release())]
		pub fn release(origin: OriginFor<T>, name: NameId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_release(who, name)
		}

		/// Create `label` under the caller's live name `parent` for `owner`, holding
		/// `subname_deposit` from the caller. A stale subname of the same label is replaced
		/// (its deposit returned).
		///
		/// Fails with [`Error::InvalidLabel`], [`Error::UnknownName`], [`Error::NotOwner`],
		/// [`Error::NameNotLive`], [`Error::TooDeep`], [`Error::NameTooLong`],
		/// [`Error::SubnameExists`], or the
		/// currency's error when the deposit cannot be held. Emits [`Event::SubnameCreated`].
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::set_subname())]
		pub fn set_subname(
			origin: OriginFor<T>,
			parent: NameId,
			label: Vec<u8>,
			owner: T::AccountId,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_subname(who, parent, label, owner)
		}

		/// Remove a subname of the caller's live name (with its records); its deposit goes
		/// back to its depositor.
		///
		/// Fails with [`Error::UnknownName`], [`Error::NotSubname`], [`Error::NotOwner`] (of
		/// the parent), [`Error::NameNotLive`] (the parent) or [`Error::ControlGivenUp`]. Emits
		/// [`Event::NameRemoved`].
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::revoke_subname())]
		pub fn revoke_subname(origin: OriginFor<T>, name: NameId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_revoke_subname(who, name)
		}

		/// Give up, for good, the right to revoke a subname of the caller's live name.
		///
		/// Fails like [`Pallet::revoke_subname`]. Emits [`Event::ControlGivenUp`].
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::give_up_control())]
		pub fn give_up_control(origin: OriginFor<T>, name: NameId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_give_up_control(who, name)
		}

		/// Replace the values of `kind` on the caller's live name; an empty list removes them.
		///
		/// Fails with [`Error::UnknownName`], [`Error::NotOwner`], [`Error::NameNotLive`],
		/// [`Error::InvalidRecord`], [`Error::SingleValueKind`], [`Error::CnameConflict`] or
		/// [`Error::TooManyRecords`]. Emits [`Event::RecordsSet`].
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::set_records())]
		pub fn set_records(
			origin: OriginFor<T>,
			name: NameId,
			kind: RecordKind,
			values: RecordValues<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_records(who, name, kind, values)
		}

		/// Set the DNS time to live of the caller's live name.
		///
		/// Fails with [`Error::UnknownName`], [`Error::NotOwner`], [`Error::NameNotLive`] or
		/// [`Error::InvalidTtl`]. Emits [`Event::TtlSet`].
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::set_ttl())]
		pub fn set_ttl(origin: OriginFor<T>, name: NameId, ttl: u32) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_ttl(who, name, ttl)
		}

		/// Choose the caller's primary name (`None` clears it). The name must be live and owned
		/// by the caller; the reverse lookup checks it again every time.
		///
		/// Fails with [`Error::UnknownName`], [`Error::NotOwner`] or [`Error::NameNotLive`].
		/// Emits [`Event::PrimaryNameSet`].
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::set_primary_name())]
		pub fn set_primary_name(origin: OriginFor<T>, name: Option<NameId>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_set_primary_name(who, name)
		}

		/// Remove a registration past its grace period or a stale subname, with its records,
		/// returning a subname's deposit to its depositor. Open to anyone: it cleans up state.
		///
		/// Fails with [`Error::UnknownName`] or [`Error::StillLive`] (also for a registration
		/// in its grace period). Emits [`Event::NameRemoved`].
		#[pallet::call_index(11)]
		#[pallet::weight(T::WeightInfo::remove_stale())]
		pub fn remove_stale(origin: OriginFor<T>, name: NameId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_remove_stale(name)
		}

		/// Replace the parameters. A new `commitment_deposit` applies to new commitments: open
		/// ones keep, and get back, what was held for them.
		///
		/// Fails with `BadOrigin` or [`Error::InvalidParameters`]. Emits
		/// [`Event::ParametersSet`].
		#[pallet::call_index(12)]
		#[pallet::weight(T::WeightInfo::set_parameters())]
		pub fn set_parameters(
			origin: OriginFor<T>,
			parameters: NamingParams<BalanceOf<T>, BlockNumberFor<T>>,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			ensure!(parameters.is_valid(), Error::<T>::InvalidParameters);
			Params::<T>::put(parameters);
			Self::deposit_event(Event::ParametersSet { parameters });
			Ok(())
		}

		/// Reserve a label (nobody may register it) or free it. Reserving does not touch an
		/// existing registration; it blocks the next one.
		///
		/// Fails with `BadOrigin`, [`Error::InvalidLabel`] or [`Error::ReservationUnchanged`].
		/// Emits [`Event::ReservationSet`].
		#[pallet::call_index(13)]
		#[pallet::weight(T::WeightInfo::set_reserved())]
		pub fn set_reserved(
			origin: OriginFor<T>,
			label: Vec<u8>,
			reserved: bool,
		) -> DispatchResult {
			T::AdminOrigin::ensure_origin(origin)?;
			let label = Self::checked_label(&label).ok_or(Error::<T>::InvalidLabel)?;
			ensure!(
				Reserved::<T>::contains_key(&label) != reserved,
				Error::<T>::ReservationUnchanged
			);
			if reserved {
				Reserved::<T>::insert(&label, ());
			} else {
				Reserved::<T>::remove(&label);
			}
			Self::deposit_event(Event::ReservationSet { label, reserved });
			Ok(())
		}

		/// Remove the expired commitments of `who` (older than `max_commitment_age`: they can
		/// no longer be revealed) and release their deposits to `who`. Open to anyone: it
		/// shrinks the state, and the funds go back to the committer whoever calls.
		///
		/// Fails with [`Error::NoExpiredCommitments`] when `who` has none, changing nothing.
		/// Emits [`Event::CommitmentsExpired`].
		#[pallet::call_index(14)]
		#[pallet::weight(T::WeightInfo::remove_expired_commitments())]
		pub fn remove_expired_commitments(
			origin: OriginFor<T>,
			who: T::AccountId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_remove_expired_commitments(who)
		}
	}
}
