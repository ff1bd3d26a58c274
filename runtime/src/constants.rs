//! Ids, accounts and bounds that several parts of the runtime share.
//!
//! - The treasury: its pallet id `py/trsry` ([`TreasuryPalletId`]) and account
//!   ([`TreasuryAccount`]), which receives the treasury shares of fees, service payments, name
//!   rents, pool setup fees, slashes and killed deposits, pays the Proof-of-Sync rewards and is
//!   spent by referendum.
//! - The tokenomics pallet's id `dsy/tkns` ([`TokenomicsPalletId`]), whose account holds the
//!   buyback budget.
//! - The stable revenue asset USDd ([`STABLE_ASSET_ID`], [`USDD`]).
//! - [`MaxServiceNodes`]: the most service nodes the registry holds.
//!
//! A leaf: it imports nothing from [`crate::governance`] or [`crate::configs`], which both use
//! it (the runtime's modules depend one way: `constants` ← `governance` ← `configs` ←
//! `benchmarks`).

use dsync_primitives::{AccountId, Balance};
use frame_support::{parameter_types, traits::ConstU32, PalletId};
use sp_runtime::traits::AccountIdConversion;

/// Asset id of the stable revenue asset, USDd.
pub const STABLE_ASSET_ID: u32 = 1;
/// One USDd in its base units (6 decimals).
pub const USDD: Balance = 1_000_000;

parameter_types! {
	/// The treasury's pallet id, the same `pallet-treasury` uses.
	pub const TreasuryPalletId: PalletId = PalletId(*b"py/trsry");
	/// The treasury account: treasury shares of fees and service payments land here.
	pub TreasuryAccount: AccountId = TreasuryPalletId::get().into_account_truncating();
	/// The tokenomics pallet's id: its revenue account holds the buyback budget.
	pub const TokenomicsPalletId: PalletId = PalletId(*b"dsy/tkns");
}

/// The most service nodes; it also bounds the GPU providers a job's draw examines.
pub type MaxServiceNodes = ConstU32<1000>;
