//! The chain adapter: the `.dsync` zone read from the client's finalised state through the naming
//! runtime API ([`NamingApi::records`]).

use super::ZoneSource;
use dsync_primitives::{
	naming::{NameRecords, NamingApi},
	AccountId, Balance, BlockNumber,
};
use dsync_runtime::opaque::Block;
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::H256;
use std::sync::Arc;

/// The `.dsync` zone read from finalised chain state through the naming runtime API.
pub struct ChainZone<C> {
	client: Arc<C>,
}

impl<C> ChainZone<C> {
	/// The zone as `client` reads it.
	pub fn new(client: Arc<C>) -> Self {
		Self { client }
	}
}

impl<C> ZoneSource for ChainZone<C>
where
	C: HeaderBackend<Block> + ProvideRuntimeApi<Block> + Send + Sync + 'static,
	C::Api: NamingApi<Block, AccountId, Balance, BlockNumber>,
{
	fn finalized(&self) -> ([u8; 32], u32) {
		let info = HeaderBackend::info(&*self.client);
		(info.finalized_hash.0, info.finalized_number)
	}

	fn lookup(&self, at: [u8; 32], name: &str) -> Result<Option<NameRecords>, ()> {
		self.client
			.runtime_api()
			.records(H256(at), name.as_bytes().to_vec())
			.map_err(|error| log::debug!("DNS lookup of {name} failed: {error}"))
	}
}
