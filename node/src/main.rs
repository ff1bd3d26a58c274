//! `dsync-node`: the DSYNC chain node.
//!
//! A BABE + GRANDPA full node with off-chain workers and the standard JSON-RPC methods. See the
//! README for how to run a development chain, a validator or a service node.

#![warn(missing_docs)]
// `sc_service::Error` and `sc_cli::Error` are polkadot-sdk's error types, returned through every
// node entry point; their size is upstream's choice and they are built once, on the way out.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod dns;
mod limits;
mod metrics;
mod probe;
mod rpc;
mod service;
mod sidecars;
mod storage;

fn main() -> sc_cli::Result<()> {
	command::run()
}
