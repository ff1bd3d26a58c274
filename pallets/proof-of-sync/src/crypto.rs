//! The application crypto of Proof-of-Sync reports: the `dsyn` sr25519 key of
//! [`dsync_primitives::probe`], bound to the runtime's signing types so the off-chain worker can
//! sign `commit_report` and `reveal_report` transactions with it.
//!
//! The runtime sets `type AuthorityId = ProofOfSyncAuthId;`. A validator operator inserts the
//! key with `dsync-node key insert --key-type dsyn --scheme sr25519` and registers its public
//! key (as an account id) as the off-chain key of its validator node.

use sp_core::sr25519;
use sp_runtime::{MultiSignature, MultiSigner};

pub use dsync_primitives::probe::crypto::{Public, Signature};

/// The off-chain signer of Proof-of-Sync transactions: sr25519 keys of type `dsyn`.
pub struct ProofOfSyncAuthId;

/// For runtimes whose signatures are `MultiSignature` (the DSYNC runtime).
impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for ProofOfSyncAuthId {
	type RuntimeAppPublic = Public;
	type GenericPublic = sr25519::Public;
	type GenericSignature = sr25519::Signature;
}

/// For runtimes (and test runtimes) whose signatures are plain sr25519.
impl frame_system::offchain::AppCrypto<sr25519::Public, sr25519::Signature> for ProofOfSyncAuthId {
	type RuntimeAppPublic = Public;
	type GenericPublic = sr25519::Public;
	type GenericSignature = sr25519::Signature;
}
