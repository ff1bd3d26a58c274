//! Tests of the GPU-jobs pallet, by topic. Every test runs through
//! [`ExtBuilder::build_and_execute`](crate::mock::ExtBuilder::build_and_execute) (or, for the
//! off-chain worker, calls `do_try_state` itself), which ends by checking the pallet's invariants.

mod attacks;
mod challenges;
mod conservation;
mod disputes;
mod draws;
mod expiries;
mod invariants;
mod migrations;
mod models;
mod ocw;
mod parameters;
mod posting;
mod results;
mod settlement;
mod unavailable;
