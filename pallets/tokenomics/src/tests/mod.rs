//! Tests of the tokenomics pallet, by topic. Every test runs through
//! [`ExtBuilder::build_and_execute`](crate::mock::ExtBuilder::build_and_execute), which ends by
//! checking the pallet's invariants (`do_try_state`).

mod buyback;
mod fees;
mod genesis;
mod invariants;
mod oracle;
mod parameters;
mod properties;
mod revenue;
mod service;
mod totals;
