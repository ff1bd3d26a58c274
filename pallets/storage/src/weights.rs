// This file is part of DSYNC.
// SPDX-License-Identifier: Apache-2.0

//! Weights for `pallet_storage`: PLACEHOLDER until `scripts/benchmark.sh pallet_storage` runs
//! on the reference machine (database accesses only). Do not ship.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::ParityDbWeight}};
use core::marker::PhantomData;

/// Weight functions of `pallet_storage`.
pub trait WeightInfo {
	fn place_order() -> Weight;
	fn cancel_order() -> Weight;
	fn accept_slot() -> Weight;
	fn prove_slot(c: u32, ) -> Weight;
	fn set_parameters() -> Weight;
	fn on_initialize_epoch() -> Weight;
	fn on_initialize_draw(s: u32, ) -> Weight;
	fn on_initialize_offer_expiry() -> Weight;
	fn on_initialize_proof_due() -> Weight;
}

impl WeightInfo for () {
	fn place_order() -> Weight { ParityDbWeight::get().reads_writes(8, 8) }
	fn cancel_order() -> Weight { ParityDbWeight::get().reads_writes(40, 40) }
	fn accept_slot() -> Weight { ParityDbWeight::get().reads_writes(20, 20) }
	fn prove_slot(c: u32, ) -> Weight { ParityDbWeight::get().reads_writes(12 + u64::from(c), 10) }
	fn set_parameters() -> Weight { ParityDbWeight::get().reads_writes(1, 1) }
	fn on_initialize_epoch() -> Weight { ParityDbWeight::get().reads_writes(3, 3) }
	fn on_initialize_draw(s: u32, ) -> Weight { ParityDbWeight::get().reads_writes(4 + 40 * u64::from(s), 4 + 3 * u64::from(s)) }
	fn on_initialize_offer_expiry() -> Weight { ParityDbWeight::get().reads_writes(44, 8) }
	fn on_initialize_proof_due() -> Weight { ParityDbWeight::get().reads_writes(12, 10) }
}
