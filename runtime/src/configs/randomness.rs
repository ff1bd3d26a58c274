//! The one randomness source of the runtime, [`ChallengeRandomness`]: Proof of Sync seeds each
//! epoch with it (verifier draw, probe challenges), GPU jobs draw each job's providers with it.

use crate::Runtime;
use dsync_primitives::Hash;
use frame_support::traits::Randomness;
use frame_system::pallet_prelude::BlockNumberFor;

/// Challenge randomness: the VRF output of the parent block (fresh every block, so a service
/// node cannot precompute its answers an epoch ahead), falling back to BABE's epoch randomness
/// in the first block, where there is no parent VRF output.
pub struct ChallengeRandomness;
impl Randomness<Hash, BlockNumberFor<Runtime>> for ChallengeRandomness {
	fn random(subject: &[u8]) -> (Hash, BlockNumberFor<Runtime>) {
		let (parent, block) = pallet_babe::ParentBlockRandomness::<Runtime>::random(subject);
		match parent {
			Some(hash) => (hash, block),
			None => pallet_babe::RandomnessFromOneEpochAgo::<Runtime>::random(subject),
		}
	}
}
