//! Pallet configurations, one `impl Config` per pallet, grouped by topic.
//!
//! - [`system`]: frame-system, timestamp, utility, multisig, proxy, sudo; block limits.
//! - [`money`]: balances, transaction payment and where fees go.
//! - [`consensus`]: BABE, GRANDPA, authorship, session (+ historical), offences.
//! - [`staking`]: NPoS staking, the bags-list voter list and the on-chain election.
//! - [`tokenomics`]: the stable revenue asset, the DSYNC/stable pool, burns and buybacks.
//! - [`depin`]: the node registry and Proof of Sync.
//! - [`gpu_jobs`]: escrowed GPU inference jobs served by the registry's providers.
//! - [`naming`]: names under `.dsync` with DNS records.
//! - [`governance`]: referenda, conviction voting, scheduler, preimages and the treasury.

pub mod consensus;
pub mod depin;
pub mod governance;
pub mod gpu_jobs;
pub mod money;
pub mod naming;
pub mod staking;
pub mod system;
pub mod tokenomics;

use crate::{Runtime, RuntimeCall, UncheckedExtrinsic};

// Pallets that submit unsigned transactions from the node (BABE and GRANDPA equivocation
// reports) build them through these.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = UncheckedExtrinsic;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}

// The Proof-of-Sync verifier's off-chain worker submits its commit and reveal transactions signed
// with its `dsyn` key (an sr25519 account).
impl frame_system::offchain::SigningTypes for Runtime {
	type Public = <dsync_primitives::Signature as sp_runtime::traits::Verify>::Signer;
	type Signature = dsync_primitives::Signature;
}

impl<C> frame_system::offchain::CreateSignedTransaction<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_signed_transaction<
		S: frame_system::offchain::AppCrypto<Self::Public, Self::Signature>,
	>(
		call: RuntimeCall,
		public: Self::Public,
		account: dsync_primitives::AccountId,
		nonce: dsync_primitives::Nonce,
	) -> Option<UncheckedExtrinsic> {
		use codec::Encode;
		use sp_runtime::{
			generic::Era,
			traits::{SaturatedConversion, StaticLookup},
		};
		// A short mortality: a report that has not landed within 16 blocks is stale anyway (the
		// worker resubmits while the window is open).
		let period = 16u64;
		let current_block = crate::System::block_number().saturated_into::<u64>().saturating_sub(1);
		let extension: crate::TxExtension = (
			frame_system::CheckNonZeroSender::<Runtime>::new(),
			frame_system::CheckSpecVersion::<Runtime>::new(),
			frame_system::CheckTxVersion::<Runtime>::new(),
			frame_system::CheckGenesis::<Runtime>::new(),
			frame_system::CheckEra::<Runtime>::from(Era::mortal(period, current_block)),
			frame_system::CheckNonce::<Runtime>::from(nonce),
			frame_system::CheckWeight::<Runtime>::new(),
			pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
			frame_system::WeightReclaim::<Runtime>::new(),
		);
		let raw_payload = crate::SignedPayload::new(call, extension)
			.map_err(|error| log::warn!("cannot build a signed payload: {error:?}"))
			.ok()?;
		let signature = raw_payload.using_encoded(|payload| S::sign(payload, public))?;
		let (call, extension, _) = raw_payload.deconstruct();
		let address = <Runtime as frame_system::Config>::Lookup::unlookup(account);
		Some(UncheckedExtrinsic::new_signed(call, address, signature, extension))
	}
}
