//! DSYNC tokenomics: burns on every use, treasury shares, the stable revenue asset and the
//! DSYNC/stable pool through which business revenue buys DSYNC back to burn it.
//!
//! - `Assets` (`pallet-assets`) holds the stable revenue asset **USDd** ([`STABLE_ASSET_ID`],
//!   6 decimals), created at genesis. Anyone may create further assets against a deposit.
//! - `PoolAssets` (a second `pallet-assets` instance) holds the liquidity tokens of
//!   `AssetConversion` pools; only the asset-conversion pallet creates them.
//! - `AssetConversion` (`pallet-asset-conversion`) runs constant-product pools between DSYNC and
//!   any asset, with a 0.3 % liquidity-provider fee; the DSYNC/USDd pool is what buybacks use.
//! - `Tokenomics` (`pallet-tokenomics`) splits every service payment and every transaction fee
//!   into burn / recipient / treasury by governed rates, and buys back DSYNC with the governed
//!   share of revenue, guarded by its own price oracle (see the pallet's docs).
//!
//! The treasury account is the one `pallet-treasury` uses (`py/trsry`), so governance spends what
//! accumulates there (see [`crate::governance`]). Tokenomics rates are set by root or a passed
//! `parameter_admin` referendum.

use crate::{
	constants::{TokenomicsPalletId, TreasuryAccount, STABLE_ASSET_ID},
	governance::ParameterAdminOrigin,
	AccountId, AssetConversion, Assets, Authorship, Balance, Balances, PoolAssets, Runtime,
	RuntimeEvent,
};
use alloc::vec;
use dsync_primitives::currency::{deposit, DSYNC, MILLI_DSYNC};
use frame_support::{
	ord_parameter_types, parameter_types,
	traits::{
		fungible::{NativeFromLeft, NativeOrWithId, UnionOf},
		tokens::imbalance::ResolveAssetTo,
		AsEnsureOriginWithArg, ConstU32,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned, EnsureSignedBy};
use pallet_asset_conversion::{AccountIdConverter, Ascending, Chain, WithFirstAsset};
use sp_runtime::{
	traits::{AccountIdConversion, Get},
	DispatchError, Perbill, Permill,
};

parameter_types! {
	/// Deposit to create an asset class.
	pub const AssetDeposit: Balance = 10 * DSYNC;
	/// Deposit for an account to hold an asset (refunded when the account is emptied).
	pub const AssetAccountDeposit: Balance = deposit(1, 16);
	/// Deposit for an approval.
	pub const ApprovalDeposit: Balance = MILLI_DSYNC;
	/// Metadata deposit base.
	pub const MetadataDepositBase: Balance = deposit(1, 68);
	/// Metadata deposit per byte.
	pub const MetadataDepositPerByte: Balance = deposit(0, 1);
}

impl pallet_assets::Config<pallet_assets::Instance1> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<1000>;
	type AssetId = u32;
	type AssetIdParameter = codec::Compact<u32>;
	type ReserveData = ();
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = AssetDeposit;
	type AssetAccountDeposit = AssetAccountDeposit;
	type MetadataDepositBase = MetadataDepositBase;
	type MetadataDepositPerByte = MetadataDepositPerByte;
	type ApprovalDeposit = ApprovalDeposit;
	type StringLimit = ConstU32<50>;
	type Holder = ();
	type Freezer = ();
	type Extra = ();
	type CallbackHandle = ();
	type AssetIdAllocator = ();
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

parameter_types! {
	/// The account of the asset-conversion pallet, owner of all pools' liquidity tokens.
	pub const AssetConversionPalletId: PalletId = PalletId(*b"py/ascon");
	/// DSYNC as an asset kind of the pools.
	pub const Native: NativeOrWithId<u32> = NativeOrWithId::Native;
	/// Liquidity-provider fee of every swap: 0.3 %.
	pub const LiquidityProviderFee: Permill = Permill::from_perthousand(3);
	/// No fee for withdrawing liquidity.
	pub const LiquidityWithdrawalFee: Permill = Permill::zero();
	/// Upper bound of any swap fee.
	pub const MaxSwapFee: Permill = Permill::from_percent(10);
	/// Fee (burned) to create a pool: deters spam pools.
	pub const PoolSetupFee: Balance = 10 * DSYNC;
	/// Liquidity tokens locked forever when a pool is first funded.
	pub const MintMinLiquidity: Balance = 100;
}

ord_parameter_types! {
	/// Origin that may create liquidity-token classes: the asset-conversion pallet itself.
	pub const AssetConversionOrigin: AccountId =
		AccountIdConversion::<AccountId>::into_account_truncating(&AssetConversionPalletId::get());
}

impl pallet_assets::Config<pallet_assets::Instance2> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<1000>;
	type AssetId = u32;
	type AssetIdParameter = u32;
	type ReserveData = ();
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSignedBy<AssetConversionOrigin, AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	// Liquidity tokens cost no deposits: the pool setup fee already paid for the class.
	type AssetDeposit = ();
	type AssetAccountDeposit = ();
	type MetadataDepositBase = ();
	type MetadataDepositPerByte = ();
	type ApprovalDeposit = ();
	type StringLimit = ConstU32<50>;
	type Holder = ();
	type Freezer = ();
	type Extra = ();
	type CallbackHandle = ();
	type AssetIdAllocator = ();
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

/// DSYNC and every asset of `Assets` as one `fungibles` type, keyed by [`NativeOrWithId`].
pub type NativeAndAssets =
	UnionOf<Balances, Assets, NativeFromLeft, NativeOrWithId<u32>, AccountId>;
type PoolIdToAccountId =
	AccountIdConverter<AssetConversionPalletId, (NativeOrWithId<u32>, NativeOrWithId<u32>)>;

impl pallet_asset_conversion::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type HigherPrecisionBalance = sp_core::U256;
	type AssetKind = NativeOrWithId<u32>;
	type Assets = NativeAndAssets;
	type PoolId = (Self::AssetKind, Self::AssetKind);
	// Pools are between DSYNC and an asset, or between two assets in ascending order.
	type PoolLocator = Chain<
		WithFirstAsset<Native, AccountId, NativeOrWithId<u32>, PoolIdToAccountId>,
		Ascending<AccountId, NativeOrWithId<u32>, PoolIdToAccountId>,
	>;
	type PoolAssetId = u32;
	type PoolAssets = PoolAssets;
	type LPFee = LiquidityProviderFee;
	type AdminOrigin = EnsureRoot<AccountId>;
	type MaxSwapFee = MaxSwapFee;
	type PoolSetupFee = PoolSetupFee;
	type PoolSetupFeeAsset = Native;
	type PoolSetupFeeTarget = ResolveAssetTo<TreasuryAccount, NativeAndAssets>;
	type LiquidityWithdrawalFee = LiquidityWithdrawalFee;
	type MintMinLiquidity = MintMinLiquidity;
	type MaxSwapPathLength = ConstU32<3>;
	type PalletId = AssetConversionPalletId;
	type WeightInfo = pallet_asset_conversion::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

parameter_types! {
	/// The stable revenue asset.
	pub const StableAsset: u32 = STABLE_ASSET_ID;
	/// Hard upper bound of the oracle tolerance governance may set: 10 %.
	pub const MaxOracleTolerance: Perbill = Perbill::from_percent(10);
	/// Prices are quoted in USDd base units per one DSYNC.
	pub const PriceUnit: Balance = DSYNC;
}

/// The author of the current block, who receives the author share of fees and the tips.
pub struct BlockAuthor;
impl Get<Option<AccountId>> for BlockAuthor {
	fn get() -> Option<AccountId> {
		Authorship::author()
	}
}

/// The DSYNC/USDd pool of `pallet-asset-conversion`, as the tokenomics pallet sees it.
pub struct DsyncStablePool;
impl pallet_tokenomics::BuybackPool<AccountId, Balance> for DsyncStablePool {
	fn reserves() -> Option<(Balance, Balance)> {
		AssetConversion::get_reserves(
			NativeOrWithId::Native,
			NativeOrWithId::WithId(STABLE_ASSET_ID),
		)
		.ok()
	}

	fn swap_stable_for_native(
		who: &AccountId,
		stable_in: Balance,
		min_native_out: Balance,
	) -> Result<Balance, DispatchError> {
		<AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_exact_tokens_for_tokens(
			who.clone(),
			vec![NativeOrWithId::WithId(STABLE_ASSET_ID), NativeOrWithId::Native],
			stable_in,
			Some(min_native_out),
			who.clone(),
			false,
		)
	}
}

impl pallet_tokenomics::Config for Runtime {
	type Balance = Balance;
	type Currency = Balances;
	type Assets = Assets;
	type StableAsset = StableAsset;
	type PalletId = TokenomicsPalletId;
	type TreasuryAccount = TreasuryAccount;
	type BlockAuthor = BlockAuthor;
	type Pool = DsyncStablePool;
	type AdminOrigin = ParameterAdminOrigin;
	type MaxOracleTolerance = MaxOracleTolerance;
	type PriceUnit = PriceUnit;
	type WeightInfo = pallet_tokenomics::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = super::benchmark_helpers::TokenomicsBenchmarkHelper;
}
