//! Storage migrations of the node registry, one module per storage version. The runtime lists
//! them in its migrations (`Executive`'s `OnRuntimeUpgrade` tuple).

pub mod v1;
pub mod v2;
