//! The runtime API of the tokenomics pallet, so that wallets and explorers (Polkadot.js apps,
//! `@polkadot/api`, PAPI) read every total in one call.
//!
//! The runtime implements `TokenomicsApi<Block, Balance>` in its `impl_runtime_apis!` block, with
//! `totals` returning [`Pallet::totals`](crate::Pallet::totals). Clients call it as
//! `api.call.tokenomicsApi.totals()` (`@polkadot/api`, from the metadata's runtime API section).

pub use crate::types::{ServiceOverview, TokenomicsTotals};
use codec::Codec;

sp_api::decl_runtime_apis! {
	/// Totals, parameters and the oracle price of the tokenomics pallet.
	pub trait TokenomicsApi<Balance> where Balance: Codec {
		/// Everything burned, paid and bought since genesis, per service kind, for fees and for
		/// buybacks, with the current parameters and the oracle price.
		fn totals() -> TokenomicsTotals<Balance>;
	}
}
