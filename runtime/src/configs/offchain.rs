//! How the runtime builds the transactions that come from the node: the unsigned equivocation
//! reports of BABE and GRANDPA, and the signed transactions of the off-chain workers of Proof of
//! Sync and GPU jobs.

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

// The off-chain workers of Proof of Sync (a verifier's commits and reveals) and of GPU jobs (a
// provider's commits, reveals, re-executions and challenges) submit transactions signed with the
// node's `dsyn` key (an sr25519 account).
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
			// Mode 0: no metadata hash in the signed data (the default of every client).
			frame_metadata_hash_extension::CheckMetadataHash::<Runtime>::new(false),
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
