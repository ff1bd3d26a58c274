//! The sidecars: what a node runs beside the chain for the services it offers, each off unless
//! its options turn it on ([`SidecarParams`]).
//!
//! - The Proof-of-Sync probe endpoint ([`crate::probe`], `--probe-listen-addr`): service nodes
//!   answer verifiers' probes.
//! - The authoritative DNS server for `.dsync` names ([`crate::dns`], `--dns-listen-addr`), with
//!   its counters logged every ten minutes.
//! - Both endpoints' counters, and those the off-chain workers keep in the node's off-chain
//!   storage, as `dsync_*` Prometheus metrics ([`crate::metrics`]) when the node serves
//!   Prometheus.
//! - The base URL of the local `aivm` inference server (`--aivm-url`), written to the node's
//!   persistent off-chain storage, where the GPU-jobs off-chain worker reads it.
//! - Whether the off-chain workers may fetch from hosts that are not public
//!   (`--allow-private-fetch`, implied by `--dev`), written there at every start for both
//!   workers' HTTP helper (`dsync_primitives::offchain::http_get`).

use crate::{
	cli::{DnsParams, FetchParams, GpuParams, ProbeParams, SidecarParams, StorageParams},
	dns, metrics, probe, storage,
};
use dsync_primitives::{
	naming::{NamingApi, RecordKind},
	offchain::{AIVM_URL_KEY, ALLOW_PRIVATE_FETCH_KEY, STORAGE_URL_KEY},
	storage::api::StorageApi,
	AccountId, Balance, BlockNumber,
};
use dsync_runtime::opaque::Block;
use sc_client_api::{Backend, BlockchainEvents};
use sc_service::{error::Error as ServiceError, SpawnTaskHandle};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::offchain::OffchainStorage;
use sp_keystore::KeystorePtr;
use std::{sync::Arc, time::Duration};
use substrate_prometheus_endpoint::Registry;

/// How often the DNS server's counters are logged.
const DNS_STATS_PERIOD: Duration = Duration::from_secs(600);

/// Start the sidecars `params` turn on: write the fetch allowance and the `aivm` URL, then bind
/// the probe endpoint and the DNS server and spawn their tasks. Fails when an endpoint cannot be
/// bound.
pub fn start<C, B, S>(
	params: &SidecarParams,
	client: Arc<C>,
	backend: Arc<B>,
	offchain_storage: Option<S>,
	keystore: KeystorePtr,
	spawn: &SpawnTaskHandle,
	registry: Option<&Registry>,
) -> Result<(), ServiceError>
where
	C: HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ ProvideRuntimeApi<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: NamingApi<Block, AccountId, Balance, BlockNumber>
		+ dsync_primitives::probe_auth::ProbeKeysApi<Block>
		+ StorageApi<Block, AccountId>,
	B: Backend<Block> + 'static,
	S: OffchainStorage + 'static,
{
	if let (Some(registry), Some(storage)) = (registry, offchain_storage.clone()) {
		metrics::register_workers(storage, registry).map_err(|error| {
			ServiceError::Other(format!("cannot register the off-chain workers' metrics: {error}"))
		})?;
	}
	set_private_fetch(&params.fetch, offchain_storage.clone());
	set_aivm_url(&params.gpu, offchain_storage.clone());
	let storage = start_storage(&params.storage, client.clone(), keystore.clone(), spawn)?;
	if let (Some(registry), Some(service)) = (registry, &storage) {
		metrics::register_storage(service, registry).map_err(|error| {
			ServiceError::Other(format!("cannot register the storage metrics: {error}"))
		})?;
	}
	let keeps_slots = params.storage.storage_dir.is_some();
	set_storage_url(params.probe.probe_listen_addr.filter(|_| keeps_slots), offchain_storage);
	if let Some(addr) = params.storage.gateway_listen_addr {
		let Some(service) = storage.clone() else {
			return Err(ServiceError::Other(
				"--gateway-listen-addr needs --storage-dir or --gateway-cache-dir".into(),
			));
		};
		let (_, serve) = probe::bind_gateway(addr, service).map_err(|error| {
			ServiceError::Other(format!("cannot serve the website gateway on {addr}: {error}"))
		})?;
		spawn.spawn("dsync-gateway", None, serve);
	}
	start_probe(&params.probe, client.clone(), keystore, spawn, registry, storage)?;
	start_dns(&params.dns, client, backend, spawn, registry)
}

/// Write `--aivm-url` where the GPU-jobs off-chain worker reads it (it applies until changed).
fn set_aivm_url<S: OffchainStorage>(params: &GpuParams, offchain_storage: Option<S>) {
	let Some(url) = &params.aivm_url else { return };
	match offchain_storage {
		Some(mut storage) => {
			storage.set(sc_offchain::STORAGE_PREFIX, AIVM_URL_KEY, url.as_bytes());
			log::info!("GPU jobs go to the aivm server at {url}");
		},
		None => log::warn!("no off-chain storage: --aivm-url is ignored"),
	}
}

/// Open the storage directory (`--storage-dir`) and spawn its garbage collection; `None` when
/// the node keeps no storage.
fn start_storage<C>(
	params: &StorageParams,
	client: Arc<C>,
	keystore: KeystorePtr,
	spawn: &SpawnTaskHandle,
) -> Result<Option<Arc<storage::StorageService>>, ServiceError>
where
	C: HeaderBackend<Block> + ProvideRuntimeApi<Block> + Send + Sync + 'static,
	C::Api: StorageApi<Block, AccountId> + NamingApi<Block, AccountId, Balance, BlockNumber>,
{
	// Slots and their capacity, or only the gateway's cache (no capacity for slots).
	let (dir, gib, keeps_slots) = match (&params.storage_dir, params.storage_capacity) {
		(Some(dir), Some(gib)) => (dir, gib, true),
		_ => match &params.gateway_cache_dir {
			Some(dir) => (dir, 0, false),
			None => return Ok(None),
		},
	};
	let name_client = client.clone();
	let slot_client = client.clone();
	let cid_client = client.clone();
	let order_client = client.clone();
	let work_client = client.clone();
	let chain = storage::SlotChain {
		provider_work: Box::new(move |provider| {
			let best = HeaderBackend::info(&*work_client).best_hash;
			work_client
				.runtime_api()
				.provider_work(best, provider)
				.map_err(|error| error.to_string())
		}),
		orders_of_cid: Box::new(move |cid| {
			let best = HeaderBackend::info(&*cid_client).best_hash;
			cid_client
				.runtime_api()
				.orders_of_cid(best, cid)
				.map_err(|error| error.to_string())
		}),
		order: Box::new(move |order| {
			let best = HeaderBackend::info(&*order_client).best_hash;
			order_client.runtime_api().order(best, order).map_err(|error| error.to_string())
		}),
		slot: Box::new(move |order, slot, finalized| {
			let info = HeaderBackend::info(&*slot_client);
			let at = if finalized { info.finalized_hash } else { info.best_hash };
			slot_client
				.runtime_api()
				.slot(at, order, slot)
				.map_err(|error| error.to_string())
		}),
		owner_of_key: Box::new(move |key| {
			let best = HeaderBackend::info(&*client).best_hash;
			client.runtime_api().owner_of_key(best, key).map_err(|error| error.to_string())
		}),
		content_hash: Box::new(move |name| {
			let best = HeaderBackend::info(&*name_client).best_hash;
			name_client
				.runtime_api()
				.resolve(best, name.into_bytes(), RecordKind::ContentHash)
				.map_err(|error| error.to_string())
		}),
	};
	let service = storage::StorageService::open(dir, gib.saturating_mul(1 << 30), keystore, chain)
		.map_err(|error| {
			ServiceError::Other(format!(
				"cannot open the storage directory {}: {error}",
				dir.display()
			))
		})?;
	if !keeps_slots {
		log::info!("serving the gateway, its content cached in {}", dir.display());
		return Ok(Some(service));
	}
	log::info!(
		"keeping storage in {} ({gib} GiB, {} bytes used by {} slots)",
		dir.display(),
		service.used(),
		service.slots_kept()
	);
	let repairer = Arc::clone(&service);
	spawn.spawn("dsync-storage-repair", None, async move {
		loop {
			tokio::time::sleep(storage::REPAIR_PERIOD).await;
			let repairer = Arc::clone(&repairer);
			let _ = tokio::task::spawn_blocking(move || repairer.repair()).await;
		}
	});
	let collector = Arc::clone(&service);
	spawn.spawn("dsync-storage-gc", None, async move {
		loop {
			tokio::time::sleep(storage::GC_PERIOD).await;
			let collector = Arc::clone(&collector);
			let _ = tokio::task::spawn_blocking(move || collector.collect_garbage()).await;
		}
	});
	Ok(Some(service))
}

/// Write the node's own storage endpoint (`http://{probe address}`, loopback when it listens on
/// every address) where the storage off-chain worker reads its proofs, or clear it when the node
/// keeps no storage (so a restart without `--storage-dir` stops the worker).
fn set_storage_url<S: OffchainStorage>(
	listen: Option<std::net::SocketAddr>,
	offchain_storage: Option<S>,
) {
	let Some(mut storage) = offchain_storage else { return };
	match listen {
		Some(mut addr) => {
			if addr.ip().is_unspecified() {
				addr.set_ip(if addr.is_ipv4() {
					std::net::Ipv4Addr::LOCALHOST.into()
				} else {
					std::net::Ipv6Addr::LOCALHOST.into()
				});
			}
			let url = format!("http://{addr}");
			storage.set(sc_offchain::STORAGE_PREFIX, STORAGE_URL_KEY, url.as_bytes());
		},
		None => storage.remove(sc_offchain::STORAGE_PREFIX, STORAGE_URL_KEY),
	}
}

/// Write `--allow-private-fetch` where the off-chain workers read it: `1` to allow fetches from
/// hosts that are not public, `0` otherwise. Written at every start, so a restart without the
/// flag takes an earlier allowance back.
fn set_private_fetch<S: OffchainStorage>(params: &FetchParams, offchain_storage: Option<S>) {
	let allowed = params.allow_private_fetch;
	match offchain_storage {
		Some(mut storage) => {
			storage.set(sc_offchain::STORAGE_PREFIX, ALLOW_PRIVATE_FETCH_KEY, &[u8::from(allowed)]);
			if allowed {
				log::warn!(
					"off-chain workers may fetch from loopback, private, link-local and metadata \
					 addresses (--allow-private-fetch): for test networks only"
				);
			}
		},
		None if allowed => log::warn!("no off-chain storage: --allow-private-fetch is ignored"),
		None => {},
	}
}

/// Bind the probe endpoint on `--probe-listen-addr`, reporting the client's chain heads and
/// answering the verifiers whose keys the runtime API `ProbeKeysApi::verifier_keys` names at the
/// best block from their own budget.
fn start_probe<C>(
	params: &ProbeParams,
	client: Arc<C>,
	keystore: KeystorePtr,
	spawn: &SpawnTaskHandle,
	registry: Option<&Registry>,
	storage: Option<Arc<storage::StorageService>>,
) -> Result<(), ServiceError>
where
	C: HeaderBackend<Block> + ProvideRuntimeApi<Block> + Send + Sync + 'static,
	C::Api: dsync_primitives::probe_auth::ProbeKeysApi<Block>,
{
	use dsync_primitives::probe_auth::ProbeKeysApi;
	let Some(addr) = params.probe_listen_addr else { return Ok(()) };
	let keys_client = client.clone();
	let verifier_keys: probe::VerifierKeysProvider = Arc::new(move || {
		let best = HeaderBackend::info(&*keys_client).best_hash;
		keys_client.runtime_api().verifier_keys(best).map_err(|error| error.to_string())
	});
	let heads: probe::HeadsProvider = Arc::new(move || {
		let info = HeaderBackend::info(&*client);
		probe::ChainHeads {
			best_number: info.best_number,
			best_hash: info.best_hash,
			finalized_number: info.finalized_number,
			finalized_hash: info.finalized_hash,
		}
	});
	let stats = Arc::new(probe::ProbeStats::default());
	let (_, serve) =
		probe::bind(params, addr, keystore, heads, verifier_keys, stats.clone(), storage).map_err(
			|error| {
				ServiceError::Other(format!("cannot serve the probe endpoint on {addr}: {error}"))
			},
		)?;
	if let Some(registry) = registry {
		metrics::register_probe(&stats, registry).map_err(|error| {
			ServiceError::Other(format!("cannot register the probe endpoint's metrics: {error}"))
		})?;
	}
	spawn.spawn("dsync-probe", None, serve);
	Ok(())
}

/// Bind the DNS server on `--dns-listen-addr`, answering from the client's finalised state (with
/// a task recording the naming changes of new blocks, see [`dns::ChainZone`]), and log its
/// counters every [`DNS_STATS_PERIOD`].
fn start_dns<C, B>(
	params: &DnsParams,
	client: Arc<C>,
	backend: Arc<B>,
	spawn: &SpawnTaskHandle,
	registry: Option<&Registry>,
) -> Result<(), ServiceError>
where
	C: HeaderBackend<Block>
		+ BlockchainEvents<Block>
		+ ProvideRuntimeApi<Block>
		+ Send
		+ Sync
		+ 'static,
	C::Api: NamingApi<Block, AccountId, Balance, BlockNumber>,
	B: Backend<Block> + 'static,
{
	let Some(listen) = params.dns_listen_addr else { return Ok(()) };
	let config = dns::DnsConfig {
		listen,
		rate_limit_per_sec: params.dns_rate_limit,
		burst: params.dns_rate_limit.saturating_mul(2).max(1),
		rrl_responses_per_sec: params.dns_rrl_rate,
		rrl_slip: params.dns_rrl_slip,
		cache_entries: params.dns_cache_entries,
		ns_host: params.dns_ns_host.clone(),
		udp_workers: usize::try_from(params.dns_udp_workers).unwrap_or(0),
		website_addrs: params.dns_website_addr.clone(),
		..Default::default()
	};
	let zone = Arc::new(dns::ChainZone::new(client, backend));
	// Subscribed before the server is bound (and first scans the names): only blocks imported
	// before now can be missing from the record (the names are then scanned again).
	let track_changes = Arc::clone(&zone).track_changes().map_err(|error| {
		ServiceError::Other(format!("cannot follow storage changes for DNS: {error}"))
	})?;
	spawn.spawn("dsync-dns-changes", None, track_changes);
	let source: Arc<dyn dns::ZoneSource> = zone;
	let server = futures::executor::block_on(dns::bind(config, source))
		.map_err(|error| ServiceError::Other(format!("cannot serve DNS on {listen}: {error}")))?;
	log::info!(
		"serving the .dsync zone over DNS on {} (UDP) and {} (TCP)",
		server.udp_addr(),
		server.tcp_addr()
	);
	let stats = server.stats();
	if let Some(registry) = registry {
		metrics::register_dns(&stats, registry).map_err(|error| {
			ServiceError::Other(format!("cannot register the DNS server's metrics: {error}"))
		})?;
	}
	spawn.spawn("dsync-dns", None, async move {
		if let Err(error) = server.serve().await {
			log::error!("the DNS server stopped: {error}");
		}
	});
	spawn.spawn("dsync-dns-stats", None, dns::log_stats(stats, DNS_STATS_PERIOD));
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::{set_private_fetch, FetchParams, ALLOW_PRIVATE_FETCH_KEY};
	use sp_core::offchain::{testing::TestPersistentOffchainDB, OffchainStorage};

	#[test]
	fn the_private_fetch_allowance_is_written_at_every_start() {
		let storage = TestPersistentOffchainDB::new();
		let stored =
			|| OffchainStorage::get(&storage, sc_offchain::STORAGE_PREFIX, ALLOW_PRIVATE_FETCH_KEY);
		set_private_fetch(&FetchParams { allow_private_fetch: true }, Some(storage.clone()));
		assert_eq!(stored(), Some(vec![1]));
		// A restart without the flag takes the allowance back.
		set_private_fetch(&FetchParams { allow_private_fetch: false }, Some(storage.clone()));
		assert_eq!(stored(), Some(vec![0]));
		// Without off-chain storage there is nothing to write (and nothing fails).
		set_private_fetch(
			&FetchParams { allow_private_fetch: true },
			None::<TestPersistentOffchainDB>,
		);
		assert_eq!(stored(), Some(vec![0]));
	}
}
