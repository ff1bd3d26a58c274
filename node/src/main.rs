//! `dsync-node`: the DSYNC chain node.
//!
//! A BABE + GRANDPA full node with off-chain workers and the standard JSON-RPC methods. See the
//! README for how to run a development chain, a validator or a service node.

#![warn(missing_docs)]

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> sc_cli::Result<()> {
	command::run()
}
