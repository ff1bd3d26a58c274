//! The referendum tracks of the DSYNC chain.
//!
//! Every track has its own deposit, periods and pass criteria, chosen for what a wrong decision
//! on it would cost. Periods with [`Timing::Standard`] (any network holding value):
//!
//! | id | track | origin | at once | decision deposit | prepare | decision | confirm | min. enactment | approval | support |
//! | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
//! | 0 | `root` | Root | 1 | 100,000 DSYNC | 2 h | 14 d | 1 d | 1 d | 100 % → 50 % | 50 % → 5 % |
//! | 10 | `parameter_admin` | `ParameterAdmin` | 10 | 10,000 DSYNC | 1 h | 14 d | 3 h | 10 min | 100 % → 50 % | 25 % → 2 % |
//! | 11 | `network_admin` | `NetworkAdmin` | 10 | 10,000 DSYNC | 1 h | 6 d | 1 h | 10 min | 100 % → 50 % | 25 % → 2 % |
//! | 20 | `referendum_canceller` | `ReferendumCanceller` | 100 | 10,000 DSYNC | 1 h | 5 d | 1 h | 10 min | 100 % → 50 % | 10 % → 1 % |
//! | 21 | `referendum_killer` | `ReferendumKiller` | 100 | 50,000 DSYNC | 1 h | 14 d | 3 h | 10 min | 100 % → 50 % | 10 % → 1 % |
//! | 30 | `small_spender` | `SmallSpender` (≤ 100,000 DSYNC) | 50 | 1,000 DSYNC | 1 h | 7 d | 6 h | 1 d | 100 % → 50 % | 10 % → 1 % |
//! | 31 | `medium_spender` | `MediumSpender` (≤ 1,000,000 DSYNC) | 50 | 5,000 DSYNC | 2 h | 14 d | 12 h | 1 d | 100 % → 50 % | 15 % → 2 % |
//! | 32 | `big_spender` | `BigSpender` (≤ 5,000,000 DSYNC) | 50 | 20,000 DSYNC | 4 h | 28 d | 2 d | 1 d | 100 % → 50 % | 25 % → 5 % |
//!
//! Approval (conviction-weighted ayes over all conviction-weighted votes) and support (ayes,
//! without conviction, over the active issuance) both fall linearly from their first value at
//! the start of the decision period to their second at its end; a referendum passes once both
//! hold for the whole confirm period.
//!
//! Why these values:
//! - **Root** can replace the runtime, so it decides one referendum at a time, asks for the
//!   largest deposit, and needs half the active issuance behind it at first and never less than
//!   5 %: with a young token held by few, a tiny turnout must not upgrade the chain. The day of
//!   enactment delay lets operators see an upgrade coming.
//! - **Parameter admin** and **network admin** change one bounded knob or judge one appeal;
//!   every parameter setter refuses values outside its bounds, so a mistake costs less and a
//!   quarter of the issuance (falling to 2 %) is enough. Network admin judges slash appeals,
//!   so its longest referendum ([`longest_referendum`]: prepare, decision, confirm and
//!   enactment, 6 d 2 h 10 min) must end before a slash applies: staking defers slashes 27 eras
//!   (6 d 18 h) and Proof of Sync at least as long as [`SlashAppealWindow`] (checked by
//!   `proofOfSync.setParameters`; its presets defer 7 days). A 7-day decision period did not
//!   fit staking's 27 eras, so it is 6 days (and the canceller's 5, to stay quicker than every
//!   track it may stop).
//! - **Cancel / kill** stop a bad referendum before it enacts: they must be quicker than the
//!   referenda they stop (shorter decision and confirm periods) but still need real support;
//!   killing slashes the deposits of the killed referendum, so it asks for more.
//! - **Spenders** scale deposit, periods and support with the amount; no track may spend more
//!   than its origin's cap (see [`super::origins`]).
//!
//! [`Timing::Fast`] (development preset) keeps deposits and curves but shrinks every period to
//! a few blocks: prepare 1, decision 20, confirm 2, enactment 1, so tests finish in minutes.

use super::origins::{self, Timing};
use crate::{Balance, BlockNumber, OriginCaller};
use alloc::borrow::Cow;
use dsync_primitives::{
	currency::DSYNC,
	time::{DAYS, HOURS, MINUTES},
};
use pallet_referenda::{Curve, Track, TrackInfo};
use sp_runtime::Perbill;

/// Track ids: the root track.
pub const ROOT: u16 = 0;
/// Track id of `parameter_admin`.
pub const PARAMETER_ADMIN: u16 = 10;
/// Track id of `network_admin`.
pub const NETWORK_ADMIN: u16 = 11;
/// Track id of `referendum_canceller`.
pub const REFERENDUM_CANCELLER: u16 = 20;
/// Track id of `referendum_killer`.
pub const REFERENDUM_KILLER: u16 = 21;
/// Track id of `small_spender`.
pub const SMALL_SPENDER: u16 = 30;
/// Track id of `medium_spender`.
pub const MEDIUM_SPENDER: u16 = 31;
/// Track id of `big_spender`.
pub const BIG_SPENDER: u16 = 32;

/// Number of tracks.
pub const TRACK_COUNT: usize = 8;

type DsyncTrack = Track<u16, Balance, BlockNumber>;

/// A track name as the fixed-size, zero-padded byte array `pallet-referenda` stores.
const fn name(s: &str) -> [u8; 25] {
	let bytes = s.as_bytes();
	let mut out = [0u8; 25];
	let mut i = 0;
	while i < bytes.len() {
		out[i] = bytes[i];
		i += 1;
	}
	out
}

/// A curve falling linearly over the whole decision period from `from` to `to` percent.
const fn falling(from: u32, to: u32) -> Curve {
	Curve::LinearDecreasing {
		length: Perbill::from_percent(100),
		floor: Perbill::from_percent(to),
		ceil: Perbill::from_percent(from),
	}
}

/// One row of the track table; `periods` are (prepare, decision, confirm, min. enactment) with
/// standard timing and are replaced by the fast ones with [`Timing::Fast`].
const fn track(
	id: u16,
	track_name: &str,
	max_deciding: u32,
	decision_deposit: Balance,
	periods: (BlockNumber, BlockNumber, BlockNumber, BlockNumber),
	support: (u32, u32),
	timing: Timing,
) -> DsyncTrack {
	let (prepare_period, decision_period, confirm_period, min_enactment_period) = match timing {
		Timing::Standard => periods,
		Timing::Fast => (1, 20, 2, 1),
	};
	Track {
		id,
		info: TrackInfo {
			name: name(track_name),
			max_deciding,
			decision_deposit,
			prepare_period,
			decision_period,
			confirm_period,
			min_enactment_period,
			min_approval: falling(100, 50),
			min_support: falling(support.0, support.1),
		},
	}
}

/// The track table for `timing`, sorted by id.
const fn table(timing: Timing) -> [DsyncTrack; TRACK_COUNT] {
	[
		track(
			ROOT,
			"root",
			1,
			100_000 * DSYNC,
			(2 * HOURS, 14 * DAYS, DAYS, DAYS),
			(50, 5),
			timing,
		),
		track(
			PARAMETER_ADMIN,
			"parameter_admin",
			10,
			10_000 * DSYNC,
			(HOURS, 14 * DAYS, 3 * HOURS, 10 * MINUTES),
			(25, 2),
			timing,
		),
		track(
			NETWORK_ADMIN,
			"network_admin",
			10,
			10_000 * DSYNC,
			(HOURS, 6 * DAYS, HOURS, 10 * MINUTES),
			(25, 2),
			timing,
		),
		track(
			REFERENDUM_CANCELLER,
			"referendum_canceller",
			100,
			10_000 * DSYNC,
			(HOURS, 5 * DAYS, HOURS, 10 * MINUTES),
			(10, 1),
			timing,
		),
		track(
			REFERENDUM_KILLER,
			"referendum_killer",
			100,
			50_000 * DSYNC,
			(HOURS, 14 * DAYS, 3 * HOURS, 10 * MINUTES),
			(10, 1),
			timing,
		),
		track(
			SMALL_SPENDER,
			"small_spender",
			50,
			1_000 * DSYNC,
			(HOURS, 7 * DAYS, 6 * HOURS, DAYS),
			(10, 1),
			timing,
		),
		track(
			MEDIUM_SPENDER,
			"medium_spender",
			50,
			5_000 * DSYNC,
			(2 * HOURS, 14 * DAYS, 12 * HOURS, DAYS),
			(15, 2),
			timing,
		),
		track(
			BIG_SPENDER,
			"big_spender",
			50,
			20_000 * DSYNC,
			(4 * HOURS, 28 * DAYS, 2 * DAYS, DAYS),
			(25, 5),
			timing,
		),
	]
}

static STANDARD_TRACKS: [DsyncTrack; TRACK_COUNT] = table(Timing::Standard);
static FAST_TRACKS: [DsyncTrack; TRACK_COUNT] = table(Timing::Fast);

/// The longest a referendum on track `id` can take with `timing`, in blocks, from submission
/// to enactment: prepare, the whole decision period, confirm and the minimum enactment delay.
/// `None` for an unknown track.
pub fn longest_referendum(id: u16, timing: Timing) -> Option<BlockNumber> {
	let table = match timing {
		Timing::Standard => &STANDARD_TRACKS,
		Timing::Fast => &FAST_TRACKS,
	};
	let track = table.iter().find(|track| track.id == id)?;
	let info = &track.info;
	Some(
		info.prepare_period
			.saturating_add(info.decision_period)
			.saturating_add(info.confirm_period)
			.saturating_add(info.min_enactment_period),
	)
}

/// The shortest appeal window for slashes (blocks): the longest `network_admin` referendum with
/// this chain's governance timing (6 d 2 h 10 min standard, 24 blocks fast). Proof of Sync
/// refuses parameters whose `slash_defer_epochs * epoch_length` is shorter.
pub struct SlashAppealWindow;

impl frame_support::traits::Get<u32> for SlashAppealWindow {
	fn get() -> u32 {
		let timing = origins::GovernanceTiming::<crate::Runtime>::get();
		longest_referendum(NETWORK_ADMIN, timing).unwrap_or(BlockNumber::MAX)
	}
}

/// The tracks of this chain (the table of its genesis timing), for `pallet-referenda`.
pub struct TracksInfo;

impl pallet_referenda::TracksInfo<Balance, BlockNumber> for TracksInfo {
	type Id = u16;
	type RuntimeOrigin = OriginCaller;

	fn tracks() -> impl Iterator<Item = Cow<'static, DsyncTrack>> {
		let table = match origins::GovernanceTiming::<crate::Runtime>::get() {
			Timing::Standard => &STANDARD_TRACKS,
			Timing::Fast => &FAST_TRACKS,
		};
		table.iter().map(Cow::Borrowed)
	}

	fn track_for(origin: &Self::RuntimeOrigin) -> Result<Self::Id, ()> {
		match origin {
			OriginCaller::system(frame_system::RawOrigin::Root) => Ok(ROOT),
			OriginCaller::Origins(custom) => Ok(match custom {
				origins::Origin::ParameterAdmin => PARAMETER_ADMIN,
				origins::Origin::NetworkAdmin => NETWORK_ADMIN,
				origins::Origin::ReferendumCanceller => REFERENDUM_CANCELLER,
				origins::Origin::ReferendumKiller => REFERENDUM_KILLER,
				origins::Origin::SmallSpender => SMALL_SPENDER,
				origins::Origin::MediumSpender => MEDIUM_SPENDER,
				origins::Origin::BigSpender => BIG_SPENDER,
			}),
			// Signed, unsigned and any other origin have no track.
			_ => Err(()),
		}
	}
}
