//! Unit tests of the naming pallet, by topic.

mod invariants;
mod names;
mod parameters;
mod records;
mod registration;
mod subnames;
