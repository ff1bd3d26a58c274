//! Tests of the Proof-of-Sync pallet, by topic. Every test runs through
//! [`ExtBuilder::build_and_execute`](crate::mock::ExtBuilder::build_and_execute) (or, for the
//! off-chain worker, calls `do_try_state` itself), which ends by checking the pallet's invariants.

mod aggregation;
mod attacks;
mod epochs;
mod invariants;
mod migrations;
mod ocw;
mod parameters;
mod penalties;
mod reports;
mod rewards;
mod scores;
mod usage;
