//! Unit tests of the naming pallet, by topic.

mod commitments;
mod invariants;
mod migrations;
mod names;
mod parameters;
mod records;
mod registration;
mod subnames;
