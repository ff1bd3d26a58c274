//! On-chain governance: DSYNC holders decide by referendum.
//!
//! - [`origins`]: the runtime's own governance origins (parameter admin, network admin,
//!   referendum canceller and killer, treasury spenders) and the governance timing fixed at
//!   genesis.
//! - [`tracks`]: the referendum tracks, one per origin plus root, with their deposits, periods
//!   and pass curves.
//!
//! The pallets themselves (`Referenda`, `ConvictionVoting`, `Scheduler`, `Preimage`, `Treasury`)
//! are configured in [`crate::configs::governance`]. The README's governance guide explains how
//! to propose and vote in Polkadot.js apps.

pub mod origins;
pub mod tracks;
