//! The application crypto of a provider's results: the node's `dsyn` sr25519 key
//! ([`dsync_primitives::probe::KEY_TYPE`], the same key Proof of Sync uses), bound to the
//! runtime's signing types so the off-chain worker can sign `commit_result` and `reveal_result`
//! transactions with it.
//!
//! The runtime sets `type AuthorityId = GpuJobsAuthId;`. An operator inserts the key with
//! `dsync-node key insert --key-type dsyn --scheme sr25519` and registers its public key (as an
//! account id) as the off-chain key of its service node.

use sp_core::sr25519;
use sp_runtime::{MultiSignature, MultiSigner};

pub use dsync_primitives::probe::crypto::{Public, Signature};

/// The off-chain signer of GPU-job transactions: sr25519 keys of type `dsyn`.
pub struct GpuJobsAuthId;

/// For runtimes whose signatures are `MultiSignature` (the DSYNC runtime).
impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for GpuJobsAuthId {
	type RuntimeAppPublic = Public;
	type GenericPublic = sr25519::Public;
	type GenericSignature = sr25519::Signature;
}

/// For runtimes (and test runtimes) whose signatures are plain sr25519.
impl frame_system::offchain::AppCrypto<sr25519::Public, sr25519::Signature> for GpuJobsAuthId {
	type RuntimeAppPublic = Public;
	type GenericPublic = sr25519::Public;
	type GenericSignature = sr25519::Signature;
}
