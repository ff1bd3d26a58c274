//! Tests of the node registry, by topic. Every test runs through
//! [`ExtBuilder::build_and_execute`](crate::mock::ExtBuilder::build_and_execute), which ends by
//! checking the pallet's invariants (`do_try_state`).

mod bonding;
mod declarations;
mod invariants;
mod lifecycle;
mod parameters;
mod registration;
mod registry_trait;
mod slashing;
