//! Naming: names under `.dsync`, paid through `Tokenomics` (the naming burn share applies
//! there), served over DNS by the node from finalised state.

use crate::{governance::ParameterAdminOrigin, Balances, Runtime, RuntimeHoldReason, Tokenomics};
use frame_support::traits::ConstU32;

impl pallet_naming::Config for Runtime {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Payment = Tokenomics;
	type AdminOrigin = ParameterAdminOrigin;
	/// 16 values per name: e.g. 4 A, 4 AAAA, 4 TXT, 2 MX and 2 more.
	type MaxRecords = ConstU32<16>;
	/// One DNS character string.
	type MaxRecordLen = ConstU32<255>;
	type MaxCommitments = ConstU32<4>;
	type MaxDepth = ConstU32<8>;
	/// From 30 seconds to one week.
	type MinTtl = ConstU32<30>;
	type MaxTtl = ConstU32<604_800>;
	type WeightInfo = pallet_naming::weights::SubstrateWeight<Runtime>;
}
