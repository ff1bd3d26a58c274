//! `dsync store put` and `dsync store status`: content kept by the network.
//!
//! `put` packs a file or directory into a CAR ([`dsync_store::car`]: the UnixFS DAG of the
//! network's profile, so its CID is the one IPFS gives), codes it over the order's slots
//! ([`dsync_store::coder`]), computes each slot's root ([`dsync_store::slot::TreeWriter`]),
//! places the order (`Storage.place_order`, the escrow held), waits for the draw, uploads each
//! slot to the provider it was offered to (`PUT {endpoint}/dsync/storage/v1/slots/{order}/{slot}`;
//! again to the next provider when an offer moves on) and waits until every provider accepted
//! (the order is active). The work files live in a temporary directory removed at the end.

use crate::{
	chain::{self, AccountId, Node},
	content,
};
use dsync_primitives::storage::{api::slot_path, Cid, OrderPhase, OrderView, SlotPhase};
use dsync_runtime::{Balance, RuntimeCall, RuntimeEvent};
use dsync_store::{
	car::CarWriter,
	coder::{self, Layout},
	http::{self, Url},
	slot::TreeWriter,
};
use pallet_storage::{SlotSpec, StorageParams};
use std::{
	collections::HashMap,
	fs::{self, File},
	io::{BufReader, BufWriter, Seek, SeekFrom},
	path::{Path, PathBuf},
	time::{Duration, Instant},
};

/// What `dsync store put` was asked.
pub struct PutOptions {
	/// The file or directory.
	pub path: PathBuf,
	/// The node's RPC URL.
	pub rpc: String,
	/// The payer's secret URI.
	pub suri: String,
	/// Data shards (default: the chain's minimum).
	pub data_shards: Option<u8>,
	/// Slots in all (default: data shards plus the chain's minimum parity).
	pub slots: Option<u8>,
	/// The term in epochs (default: the chain's shortest).
	pub epochs: Option<u32>,
	/// Price per slot and epoch in plancks (default: the chain's floor).
	pub price: Option<Balance>,
	/// Where the work files go (default: the system's temporary directory).
	pub work_dir: Option<PathBuf>,
	/// How long to wait for every slot to be accepted.
	pub timeout: Duration,
}

/// A work directory removed when dropped.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
	fn drop(&mut self) {
		let _ = fs::remove_dir_all(&self.0);
	}
}

/// The chain's storage parameters.
pub fn params(node: &Node) -> Result<StorageParams<Balance, u32>, String> {
	let key = frame_support::storage::storage_prefix(b"Storage", b"Params");
	let bytes = node
		.storage(&key)?
		.ok_or("the chain has no storage parameters: it takes no storage orders yet")?;
	codec::Decode::decode(&mut bytes.as_slice())
		.map_err(|e| format!("cannot decode the storage parameters: {e}"))
}

/// Packs `path` into a CAR at `out`; returns its root and length.
pub fn pack(path: &Path, out: &Path) -> Result<(Cid, u64), String> {
	let file = File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
	let mut writer =
		CarWriter::new(BufWriter::new(file)).map_err(|e| format!("{}: {e}", out.display()))?;
	let link = content::import(path, content::STANDARD, &mut |cid, block| writer.block(cid, block))
		.map_err(|e| e.to_string())?;
	let (_, len) = writer.finish(&link.cid).map_err(|e| format!("{}: {e}", out.display()))?;
	Ok((link.cid, len))
}

/// Codes the CAR at `car` into `layout.slots` files in `dir`; returns their paths and specs.
pub fn code_slots(
	car: &Path,
	layout: &Layout,
	dir: &Path,
) -> Result<Vec<(PathBuf, SlotSpec)>, String> {
	let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
	let paths: Vec<PathBuf> =
		(0..layout.slots).map(|j| dir.join(format!("slot-{j}.bin"))).collect();
	let mut writers = paths
		.iter()
		.map(|p| File::create(p).map(BufWriter::new).map_err(|e| io(p, e)))
		.collect::<Result<Vec<_>, _>>()?;
	let input = BufReader::new(File::open(car).map_err(|e| io(car, e))?);
	coder::encode(layout, input, &mut writers).map_err(|e| e.to_string())?;
	drop(writers);
	let tree_path = dir.join("tree.tmp");
	let mut out = Vec::new();
	for path in paths {
		let tree = File::options()
			.read(true)
			.write(true)
			.create(true)
			.truncate(true)
			.open(&tree_path)
			.map_err(|e| io(&tree_path, e))?;
		let mut writer = TreeWriter::new(&tree).map_err(|e| io(&tree_path, e))?;
		let mut data = BufReader::new(File::open(&path).map_err(|e| io(&path, e))?);
		std::io::copy(&mut data, &mut writer).map_err(|e| io(&path, e))?;
		let len = writer.len();
		let root = writer.finish().map_err(|e| io(&path, e))?;
		out.push((path, SlotSpec { root, len }));
	}
	let _ = fs::remove_file(&tree_path);
	Ok(out)
}

/// Uploads the slot file at `path` to `endpoint` as slot `slot` of `order`.
fn upload(endpoint: &[u8], order: u64, slot: u8, path: &Path) -> Result<(), String> {
	let endpoint = String::from_utf8_lossy(endpoint).into_owned();
	let url = Url::parse(&endpoint).map_err(|e| format!("the provider's endpoint: {e}"))?;
	let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
	let len = file
		.seek(SeekFrom::End(0))
		.and_then(|len| file.seek(SeekFrom::Start(0)).map(|_| len))
		.map_err(|e| format!("{}: {e}", path.display()))?;
	let answer = http::request(
		&url,
		"PUT",
		&slot_path(order, slot),
		"application/octet-stream",
		len,
		BufReader::new(file),
		&mut |_| {},
	)
	.map_err(|e| e.to_string())?;
	match answer.status {
		200 | 201 => Ok(()),
		status => Err(format!("{endpoint} refused slot {slot}: {status} {}", answer.text())),
	}
}

/// `dsync store put`: prints the order and the CID once the order is active.
pub fn put(options: PutOptions) -> Result<(), String> {
	let node = Node::new(&options.rpc)?;
	node.check_runtime()?;
	let signer = chain::signer(&options.suri)?;
	let params = params(&node)?;
	let data_shards = options.data_shards.unwrap_or(params.min_data_shards);
	let slots = options.slots.unwrap_or(data_shards.saturating_add(params.min_parity_shards));
	let epochs = options.epochs.unwrap_or(params.min_duration);
	let price = options.price.unwrap_or(params.min_price);

	let base = options.work_dir.clone().unwrap_or_else(std::env::temp_dir);
	let work = WorkDir(base.join(format!("dsync-put-{}", std::process::id())));
	fs::create_dir_all(&work.0).map_err(|e| format!("{}: {e}", work.0.display()))?;
	let car = work.0.join("content.car");
	let (cid, size) = pack(&options.path, &car)?;
	eprintln!("packed {} as {cid}: {size} bytes", options.path.display());
	if size > params.max_order_bytes {
		return Err(format!(
			"{size} bytes: the chain keeps at most {} bytes per order",
			params.max_order_bytes
		));
	}
	let layout = Layout::new(size, usize::from(data_shards), usize::from(slots))
		.map_err(|e| e.to_string())?;
	let coded = code_slots(&car, &layout, &work.0)?;
	eprintln!("coded into {slots} slots of {} bytes ({data_shards} data)", layout.slot_len());
	let specs: Vec<SlotSpec> = coded.iter().map(|(_, spec)| *spec).collect();
	let call = RuntimeCall::Storage(pallet_storage::Call::place_order {
		cid,
		size,
		data_shards,
		slots: specs.try_into().map_err(|_| "too many slots for the chain")?,
		duration: epochs,
		price,
	});
	let included = node.submit_and_wait(&signer, call)?;
	let order = included
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Storage(pallet_storage::Event::OrderPlaced { order, .. }) => Some(*order),
			_ => None,
		})
		.ok_or("the order was placed but its event is missing")?;
	eprintln!("order {order} placed (block {:?}); waiting for its providers", included.block);

	let started = Instant::now();
	let mut uploaded: HashMap<u8, AccountId> = HashMap::new();
	loop {
		let view: Option<OrderView<AccountId>> = node.runtime_call("StorageApi_order", &order)?;
		let Some(view) = view else {
			return Err(format!(
				"order {order} ended before it was active (cancelled: no provider took a slot in time; the escrow was refunded)"
			));
		};
		if let OrderPhase::Active { start, end } = view.phase {
			println!(
				"order {order} active: {cid} kept over epochs {start}..{end} by {slots} providers"
			);
			return Ok(());
		}
		for (j, slot) in view.slots.iter().enumerate() {
			let j = j as u8;
			if let SlotPhase::Offered { provider, endpoint, .. } = &slot.phase {
				if uploaded.get(&j) == Some(provider) {
					continue;
				}
				match upload(endpoint, order, j, &coded[usize::from(j)].0) {
					Ok(()) => {
						eprintln!("slot {j} uploaded to {}", String::from_utf8_lossy(endpoint));
						uploaded.insert(j, provider.clone());
					},
					// Tried again at the next pass; the offer moves on if it never works.
					Err(error) => eprintln!("slot {j}: {error}"),
				}
			}
		}
		if started.elapsed() > options.timeout {
			return Err(format!(
				"order {order} not active after {:?}: see `dsync store status {order}`",
				options.timeout
			));
		}
		std::thread::sleep(Duration::from_secs(2));
	}
}

/// `dsync store status <order>`.
pub fn status(rpc: &str, order: u64) -> Result<(), String> {
	let node = Node::new(rpc)?;
	let view: Option<OrderView<AccountId>> = node.runtime_call("StorageApi_order", &order)?;
	let Some(view) = view else {
		println!("order {order}: not open (settled, cancelled, or never placed)");
		return Ok(());
	};
	println!(
		"order {order}: {} ({} bytes), {} data shards, {} epochs",
		view.cid, view.size, view.data_shards, view.duration
	);
	println!("client: {}", sp_core::crypto::Ss58Codec::to_ss58check(&view.client));
	match view.phase {
		OrderPhase::Drawing { draw_at } => {
			println!("status: placed, providers drawn at block {draw_at}")
		},
		OrderPhase::Filling => println!("status: filling (waiting for providers to accept)"),
		OrderPhase::Active { start, end } => println!("status: active over epochs {start}..{end}"),
	}
	for (j, slot) in view.slots.iter().enumerate() {
		let state = match &slot.phase {
			SlotPhase::Unassigned => "unassigned".to_string(),
			SlotPhase::Offered { provider, endpoint, deadline } => format!(
				"offered to {} at {} until block {deadline}",
				sp_core::crypto::Ss58Codec::to_ss58check(provider),
				String::from_utf8_lossy(endpoint)
			),
			SlotPhase::Held { provider, endpoint, misses } => format!(
				"held by {} at {} ({misses} missed epochs)",
				sp_core::crypto::Ss58Codec::to_ss58check(provider),
				String::from_utf8_lossy(endpoint)
			),
			SlotPhase::Lost => "lost (its epochs refunded)".to_string(),
			SlotPhase::Done => "done".to_string(),
		};
		println!("slot {j}: {} bytes, {state}", slot.len);
	}
	Ok(())
}
