//! Pallet configurations, one `impl Config` per pallet, grouped by topic.
//!
//! - [`system`]: frame-system, timestamp, utility, multisig, proxy, sudo; block limits.
//! - [`money`]: balances, transaction payment and where fees go.
//! - [`consensus`]: BABE, GRANDPA, authorship, session (+ historical), offences.
//! - [`staking`]: NPoS staking, the bags-list voter list and the on-chain election.
//! - [`tokenomics`]: the stable revenue asset, the DSYNC/stable pool, burns and buybacks.

pub mod consensus;
pub mod money;
pub mod staking;
pub mod system;
pub mod tokenomics;

use crate::{Runtime, RuntimeCall, UncheckedExtrinsic};

// Pallets that submit unsigned transactions from the node (BABE and GRANDPA equivocation
// reports) build them through these.
impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type RuntimeCall = RuntimeCall;
	type Extrinsic = UncheckedExtrinsic;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}
