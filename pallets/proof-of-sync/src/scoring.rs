//! Scores: the exponential moving average of a node's epoch qualities, with its misses and good
//! streaks, and the scores other pallets read ([`NodeScores`]).

use crate::{BalanceOf, Config, Event, NodeScore, Pallet, ProofOfSyncParams, Scores};
use dsync_primitives::traits::NodeScores;
use sp_runtime::{traits::Saturating, Perbill};

/// `score = alpha · quality + (1 − alpha) · score`, each product rounded down.
pub fn ema(score: Perbill, quality: Perbill, alpha: Perbill) -> Perbill {
	alpha
		.saturating_mul(quality)
		.saturating_add(Perbill::one().saturating_sub(alpha).saturating_mul(score))
}

impl<T: Config> Pallet<T> {
	/// `node`'s record after an epoch of `quality`: the score moves by [`ema`], the epoch is
	/// counted, and a quality below `miss_quality` is a miss (`misses += 1`, `good_streak = 0`,
	/// [`Event::NodeMissed`]), anything else resets the misses and extends the good streak. The
	/// caller stores the record.
	pub(crate) fn score_epoch(
		epoch: u32,
		params: &ProofOfSyncParams<BalanceOf<T>>,
		node: &T::AccountId,
		quality: Perbill,
	) -> NodeScore<BalanceOf<T>> {
		let mut record = Scores::<T>::get(node).unwrap_or_default();
		record.score = ema(record.score, quality, params.ema_alpha);
		record.last_quality = quality;
		record.epochs.saturating_inc();
		record.last_epoch = epoch;
		if quality < params.miss_quality {
			record.misses.saturating_inc();
			record.good_streak = 0;
			Self::deposit_event(Event::NodeMissed {
				epoch,
				node: node.clone(),
				misses: record.misses,
			});
		} else {
			record.misses = 0;
			record.good_streak.saturating_inc();
		}
		record
	}
}

impl<T: Config> NodeScores<T::AccountId> for Pallet<T> {
	/// The score of `owner`'s Proof-of-Sync record ([`Scores`]), kept also after the node exits;
	/// `None` when the account has no record yet.
	fn score(owner: &T::AccountId) -> Option<Perbill> {
		Scores::<T>::get(owner).map(|record| record.score)
	}
}
