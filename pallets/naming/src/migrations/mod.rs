//! Storage migrations of naming, one module per storage version. The runtime lists them in its
//! migrations (`Executive`'s `OnRuntimeUpgrade` tuple).
//!
//! The pallet started at storage version 1; there is no migration to it.

pub mod v2;
