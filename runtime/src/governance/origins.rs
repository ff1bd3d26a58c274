//! The runtime's own governance origins, one per referendum track besides root, and the
//! governance timing chosen at genesis.
//!
//! A referendum on a track dispatches its call with the track's origin when it passes. Each
//! origin unlocks exactly the calls the runtime's configs give it:
//!
//! | origin | track | may call |
//! | --- | --- | --- |
//! | `ParameterAdmin` | `parameter_admin` | every economic and Proof-of-Sync parameter setter of the custom pallets (`set_parameters`, tokenomics rates, buyback and oracle settings, reserved names) |
//! | `NetworkAdmin` | `network_admin` | slash appeals (`NodeRegistry::cancel_slash`, `Staking::cancel_deferred_slash`), the model registry of `GpuJobs`, staking administration |
//! | `ReferendumCanceller` | `referendum_canceller` | `Referenda::cancel` (deposits refunded) |
//! | `ReferendumKiller` | `referendum_killer` | `Referenda::kill` (deposits slashed to the treasury) |
//! | `SmallSpender` / `MediumSpender` / `BigSpender` | `small_spender` / `medium_spender` / `big_spender` | `Treasury::spend` up to [`SMALL_SPEND`] / [`MEDIUM_SPEND`] / [`BIG_SPEND`] |
//!
//! Root (the `root` track) may do all of the above and everything else, e.g. runtime upgrades.

pub use pallet::*;

use dsync_primitives::{currency::DSYNC, Balance};

/// The most one `small_spender` referendum may spend from the treasury: 100,000 DSYNC.
pub const SMALL_SPEND: Balance = 100_000 * DSYNC;
/// The most one `medium_spender` referendum may spend: 1,000,000 DSYNC.
pub const MEDIUM_SPEND: Balance = 1_000_000 * DSYNC;
/// The most one `big_spender` referendum may spend: 5,000,000 DSYNC.
pub const BIG_SPEND: Balance = 5_000_000 * DSYNC;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::pallet_prelude::*;

	/// Configuration: nothing beyond `frame_system`.
	#[pallet::config]
	pub trait Config: frame_system::Config {}

	/// The origins pallet.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// The governance origins of the DSYNC runtime: a passed referendum on a track dispatches
	/// with the track's origin.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
	)]
	#[pallet::origin]
	pub enum Origin {
		/// Economic and Proof-of-Sync parameters of the custom pallets.
		ParameterAdmin,
		/// Slash appeals, the GPU model registry and staking administration.
		NetworkAdmin,
		/// Cancels an ongoing referendum, refunding its deposits.
		ReferendumCanceller,
		/// Kills an ongoing referendum, slashing its deposits.
		ReferendumKiller,
		/// Treasury spends up to [`SMALL_SPEND`].
		SmallSpender,
		/// Treasury spends up to [`MEDIUM_SPEND`].
		MediumSpender,
		/// Treasury spends up to [`BIG_SPEND`].
		BigSpender,
	}

	/// How long referenda, vote locks and treasury payouts take on this chain.
	#[derive(
		PartialEq,
		Eq,
		Clone,
		Copy,
		Default,
		MaxEncodedLen,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		Debug,
		serde::Serialize,
		serde::Deserialize,
	)]
	pub enum Timing {
		/// Periods of hours and days, for a network holding real value
		/// (see [`crate::governance::tracks`]).
		#[default]
		Standard,
		/// Every period a few blocks long, for development chains and tests: a referendum is
		/// decided within about a minute.
		Fast,
	}

	/// The governance timing of this chain, fixed at genesis (a runtime upgrade could migrate
	/// it; no call changes it).
	#[pallet::storage]
	pub type GovernanceTiming<T> = StorageValue<_, Timing, ValueQuery>;

	/// Genesis: the chain's governance timing.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// `Standard` unless the chain is a development chain.
		pub timing: Timing,
		#[serde(skip)]
		#[doc(hidden)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			GovernanceTiming::<T>::put(self.timing);
		}
	}

	/// `EnsureOrigin` implementations succeeding for exactly one of the [`Origin`]s.
	macro_rules! ensure_one {
		($($(#[$attr:meta])* $name:ident => $variant:ident,)*) => {$(
			$(#[$attr])*
			pub struct $name;
			impl<O: Into<Result<Origin, O>> + From<Origin>> EnsureOrigin<O> for $name {
				type Success = ();
				fn try_origin(o: O) -> Result<Self::Success, O> {
					o.into().and_then(|o| match o {
						Origin::$variant => Ok(()),
						other => Err(O::from(other)),
					})
				}
				#[cfg(feature = "runtime-benchmarks")]
				fn try_successful_origin() -> Result<O, ()> {
					Ok(O::from(Origin::$variant))
				}
			}
		)*};
	}

	ensure_one! {
		/// Succeeds for [`Origin::ParameterAdmin`].
		ParameterAdmin => ParameterAdmin,
		/// Succeeds for [`Origin::NetworkAdmin`].
		NetworkAdmin => NetworkAdmin,
		/// Succeeds for [`Origin::ReferendumCanceller`].
		ReferendumCanceller => ReferendumCanceller,
		/// Succeeds for [`Origin::ReferendumKiller`].
		ReferendumKiller => ReferendumKiller,
	}

	/// Succeeds for the three spender origins, with the most that origin may spend.
	pub struct Spender;
	impl<O: Into<Result<Origin, O>> + From<Origin>> EnsureOrigin<O> for Spender {
		type Success = Balance;
		fn try_origin(o: O) -> Result<Self::Success, O> {
			o.into().and_then(|o| match o {
				Origin::SmallSpender => Ok(SMALL_SPEND),
				Origin::MediumSpender => Ok(MEDIUM_SPEND),
				Origin::BigSpender => Ok(BIG_SPEND),
				other => Err(O::from(other)),
			})
		}
		#[cfg(feature = "runtime-benchmarks")]
		fn try_successful_origin() -> Result<O, ()> {
			Ok(O::from(Origin::BigSpender))
		}
	}
}
