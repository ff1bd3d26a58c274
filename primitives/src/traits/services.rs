//! What services share: service kinds, payments, usage and faults.

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
	pub const ALL: [ServiceKind; 4] =
		[ServiceKind::GpuInference, ServiceKind::Naming, ServiceKind::Storage, ServiceKind::Other];
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
	/// The reason escrowed payments are held under: the runtime's aggregated hold reason.
	type HoldReason;

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

	/// Charge exactly `amount` for a service of `kind` rendered by `provider` from the funds
	/// `payer` holds for `reason` (an escrow), split as [`ServicePayment::charge`] splits.
	///
	/// The payment never passes through the payer's free balance, so nothing the payer does
	/// with its free balance (spending it, freezing it with a vote or a lock) can make an
	/// escrowed payment fail. Fails when less than `amount` is held for `reason` or the
	/// provider cannot receive its share; then nothing changes.
	fn charge_held(
		reason: &Self::HoldReason,
		payer: &AccountId,
		provider: Option<&AccountId>,
		amount: Balance,
		kind: ServiceKind,
	) -> Result<PaymentSplit<Balance>, DispatchError>;
}

/// Identifier of an inference model (registered by the GPU-jobs pallet).
pub type ModelId = u32;

/// What backs one recorded delivery: whether someone other than its provider checked it, and
/// what its payment burned.
///
/// Proof of Sync counts every delivery in its usage totals but weighs into rewards only
/// verified ones, and of those at most as many units as the burned fee pays for (its governed
/// `burn_per_usage_unit`): a client that posts work to its own node, which nobody else can
/// check, or pays for much usage with a tiny fee, buys no rewards with it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UsageProof {
	/// The delivery was checked independently of its provider. For GPU jobs: the result was
	/// confirmed by at least two independently drawn providers agreeing (a job with `k >= 2`
	/// whose paid result at least two providers revealed), or proven right by an on-chain
	/// re-execution. A job of one provider (`k = 1`), which a client may post to its own node, is
	/// never verified by agreement.
	pub verified: bool,
	/// The fee burned by the payment of this delivery, in planck (for GPU jobs: the burned
	/// part of this provider's payment, `PaymentSplit::burned`).
	pub burned: u128,
}

/// Service pallets report what each node delivered, and to which client; Proof of Sync counts
/// it for the provider, weighs it into rewards and reports each delivery in an event (it keeps
/// no per-client state). Implemented by `pallet-proof-of-sync`; `()` ignores it.
pub trait UsageRecorder<AccountId> {
	/// `provider` delivered `units` of service `kind` to `client` (for GPU inference: the
	/// model's usage units per item times the items; for naming: queries or registrations),
	/// backed by `proof` ([`UsageProof`]: whether it was checked independently and what its
	/// payment burned).
	fn record_usage(
		provider: &AccountId,
		client: &AccountId,
		kind: ServiceKind,
		units: u64,
		proof: UsageProof,
	);
}

impl<AccountId> UsageRecorder<AccountId> for () {
	fn record_usage(_: &AccountId, _: &AccountId, _: ServiceKind, _: u64, _: UsageProof) {}
}

/// How services report a provider's fault. Implemented by pallet_proof_of_sync::Pallet<T>.
///
/// `()` ignores every report (for mocks and runtimes without Proof of Sync).
pub trait ServiceFaults<AccountId> {
	/// `provider` did not deliver (or dissented from the majority) for `kind`: a Proof-of-Sync
	/// miss.
	fn missed(provider: &AccountId, kind: ServiceKind);
	/// `provider`'s result for `kind` was proven wrong on chain: suspension and a deferred slash.
	fn proven_wrong(provider: &AccountId, kind: ServiceKind);
}

impl<AccountId> ServiceFaults<AccountId> for () {
	fn missed(_: &AccountId, _: ServiceKind) {}
	fn proven_wrong(_: &AccountId, _: ServiceKind) {}
}

/// One piece a verifier fetches from a storage provider's endpoint, to check that what the
/// provider holds can be retrieved (not merely proven to the chain): the piece's proof at
/// [`proof_path`](crate::storage::api::proof_path)`(order, slot, piece)` must verify against
/// `root` and `len` ([`verify_piece`](crate::storage::pieces::verify_piece)).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct RetrievalCheck {
	/// The order.
	pub order: u64,
	/// The slot of the order the provider holds.
	pub slot: u8,
	/// The piece asked for.
	pub piece: u64,
	/// The slot's root on chain.
	pub root: [u8; 32],
	/// The slot's length in bytes.
	pub len: u64,
}

/// What Proof of Sync's verifiers ask the storage service for: a piece of something `provider`
/// holds, chosen by `seed`. Implemented by pallet_storage::Pallet<T>; read by the verifiers'
/// off-chain workers only (never in a transaction).
///
/// `()` knows no storage (every check is `None`: nothing to fetch).
pub trait StorageRetrieval<AccountId> {
	/// A piece of one slot `provider` holds and must keep for at least the rest of the current
	/// storage epoch, chosen by `seed` among them; `None` when it holds none.
	fn retrieval_check(provider: &AccountId, seed: &[u8; 32]) -> Option<RetrievalCheck>;
}

impl<AccountId> StorageRetrieval<AccountId> for () {
	fn retrieval_check(_: &AccountId, _: &[u8; 32]) -> Option<RetrievalCheck> {
		None
	}
}
