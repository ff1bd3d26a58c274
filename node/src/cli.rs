//! Command-line interface of `dsync-node`, the parameters of its sidecars included.

use sp_core::sr25519;
use std::net::SocketAddr;

/// Sub-commands besides running the node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys (session keys of validators, node keys).
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Sign a message with a key (e.g. the key proof of `nodeRegistry.register`: the `dsyn`
	/// key's signature over `"dsync/node-key" ‖ genesis hash ‖ owner public key`, given with
	/// `--hex --message 0x…`).
	Sign(sc_cli::SignCmd),

	/// Build a chain specification (deprecated upstream in favour of `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification (`--raw` for the raw, storage-level form).
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks to a file.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks from a file.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain database.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Print information about the database (best and finalized block).
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Benchmark the runtime's pallets (only in builds with `--features runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),
}

/// The `dsync-node` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A sub-command; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of the running node.
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	/// Options of the services the node runs beside the chain.
	#[clap(flatten)]
	pub sidecars: SidecarParams,
}

/// Options of the sidecars ([`crate::sidecars`]): each is off unless its options turn it on.
#[derive(Debug, Clone, clap::Args)]
pub struct SidecarParams {
	/// Options of the Proof-of-Sync probe endpoint (service nodes).
	#[clap(flatten)]
	pub probe: ProbeParams,

	/// Options of GPU providers.
	#[clap(flatten)]
	pub gpu: GpuParams,

	/// Options of the DNS server for `.dsync` names (naming service nodes).
	#[clap(flatten)]
	pub dns: DnsParams,

	/// Which hosts the off-chain workers may fetch from (GPU providers, verifiers).
	#[clap(flatten)]
	pub fetch: FetchParams,

	/// Options of storage providers.
	#[clap(flatten)]
	pub storage: StorageParams,
}

/// Options of a storage provider's node ([`crate::storage`]).
#[derive(Debug, Clone, clap::Args)]
pub struct StorageParams {
	/// Keep storage slots in this directory: take clients' uploads of the slots offered to this
	/// node's provider, and accept and prove them every epoch (the off-chain worker signs with
	/// the node's `dsyn` key). The slot endpoints are served on the probe endpoint's address
	/// (`--probe-listen-addr`, required), under `/dsync/storage/v1/`. Off by default.
	#[arg(long, value_name = "PATH", requires_all = ["probe_listen_addr", "storage_capacity"])]
	pub storage_dir: Option<std::path::PathBuf>,

	/// The most storage this node keeps in `--storage-dir`, in GiB (slots and their proof
	/// trees, 1.6 % more than the slots): uploads beyond it get `507`. Declare at most this as the
	/// node's storage on chain.
	#[arg(long, value_name = "GIB", requires = "storage_dir", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
	pub storage_capacity: Option<u64>,

	/// Serve the IPFS gateway (`/ipfs/`), delegated routing (`/routing/v1/`) and `.dsync`
	/// websites on the probe endpoint's address (`--probe-listen-addr`, required) without keeping
	/// storage slots: content is rebuilt from its providers, checked, and cached in this
	/// directory (at most 4 GiB). A node with `--storage-dir` is a gateway already (its cache is
	/// `{storage-dir}/content`). Off by default.
	#[arg(
		long,
		value_name = "PATH",
		requires = "probe_listen_addr",
		conflicts_with = "storage_dir"
	)]
	pub gateway_cache_dir: Option<std::path::PathBuf>,

	/// Also serve the gateway's public part (websites by `Host`, `/ipfs/`, `/routing/v1/`; no
	/// probe, no uploads) on this address, e.g. `0.0.0.0:80`, so that browsers reach
	/// `http://<name>.dsync/`. Needs `--storage-dir` or `--gateway-cache-dir`. Off by default.
	#[arg(long, value_name = "ADDR")]
	pub gateway_listen_addr: Option<SocketAddr>,
}

/// Options of the Proof-of-Sync probe endpoint ([`crate::probe`]).
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeParams {
	/// Serve the Proof-of-Sync probe endpoint on this address (e.g. `0.0.0.0:9955`). Service
	/// nodes register `http://<public address>:<port>` as their probe endpoint. Off by default.
	#[arg(long, value_name = "ADDR")]
	pub probe_listen_addr: Option<SocketAddr>,

	/// The `dsyn` key that signs probe answers, as a hex sr25519 public key. By default the
	/// only `dsyn` key in the keystore (the endpoint answers `503` while there is none, or more
	/// than one and none was chosen).
	#[arg(long, value_name = "PUBLIC_KEY_HEX", value_parser = parse_public)]
	pub probe_key: Option<sr25519::Public>,

	/// Anonymous probe answers per second, with bursts of the same size; further requests get
	/// `429`. Verifiers' signed probes are answered from their own budget, outside this limit.
	#[arg(long, value_name = "COUNT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
	pub probe_rate_limit: u32,

	/// Anonymous probes answered at once; further ones get `503`. Connections still sending their
	/// request are bounded apart (the oldest is closed to make room for a new one).
	#[arg(long, value_name = "COUNT", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
	pub probe_max_connections: u32,

	/// Anonymous probe answers per second to one source address (IPv6: one /64), with bursts of
	/// the same size; further requests from it get `429`.
	#[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10_000))]
	pub probe_peer_rate_limit: u32,
}

/// Options of the authoritative DNS server for the `.dsync` zone.
#[derive(Debug, Clone, clap::Args)]
pub struct DnsParams {
	/// Serve the `.dsync` zone over DNS (UDP and TCP) on this address, e.g. `0.0.0.0:53` or
	/// `127.0.0.1:5353`. Answers come from finalised state only; every other zone is refused.
	/// Off by default (validators should leave it off).
	#[arg(long, value_name = "ADDR")]
	pub dns_listen_addr: Option<SocketAddr>,

	/// Queries per second from one source address (IPv6: one /64), with bursts of twice as
	/// many; beyond it UDP queries are dropped and TCP queries refused. 0 = unlimited (only
	/// behind a trusted front-end, or for benchmarks).
	#[arg(long, value_name = "COUNT", default_value_t = 200)]
	pub dns_rate_limit: u32,

	/// Response rate limiting of UDP answers, as BIND's and NSD's RRL: answers per second to one
	/// client network (IPv4 /24, IPv6 /56) for one key (the same name and type; NODATA for the
	/// same name; any NXDOMAIN; any error), with bursts of as many. Beyond it answers are
	/// dropped, except every `--dns-rrl-slip`-th, sent truncated so a real client retries over
	/// TCP. Bounds what queries spoofing a victim's address reflect onto it. 0 = off. TCP answers
	/// are not limited by it.
	#[arg(long, value_name = "COUNT", default_value_t = 20)]
	pub dns_rrl_rate: u32,

	/// Of the UDP answers over `--dns-rrl-rate`, every how many is sent as a minimal truncated
	/// answer (`TC` set, the question only: never larger than the query) instead of being
	/// dropped. 2 = every other one, 1 = all of them, 0 = none.
	#[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=10))]
	pub dns_rrl_slip: u32,

	/// UDP worker threads of the DNS server (1 to 8); 0 = one per core. A node whose cores also
	/// produce and import blocks may want fewer.
	#[arg(long, value_name = "COUNT", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=8))]
	pub dns_udp_workers: u64,

	/// Entries of each DNS cache: names' records (kept across finalised blocks until a block
	/// changes the name) and whole UDP responses (kept per finalised block).
	#[arg(long, value_name = "COUNT", default_value_t = 65_536)]
	pub dns_cache_entries: usize,

	/// The name server host the zone apex advertises (`NS`, `SOA`); set it to the public name of
	/// this server.
	#[arg(long, value_name = "HOST", default_value = "ns1.dsync.")]
	pub dns_ns_host: String,

	/// The address (IPv4 or IPv6; repeat the flag for several) of a website gateway: a node
	/// serving `.dsync` websites on port 80 (`--gateway-listen-addr`). A name with a content hash
	/// and no A (AAAA) records is answered with these IPv4 (IPv6) addresses, so a browser that
	/// resolves it reaches a gateway that serves its site. None by default: such names then have
	/// no address.
	#[arg(long, value_name = "IP")]
	pub dns_website_addr: Vec<std::net::IpAddr>,
}

/// Options of a GPU provider's node.
#[derive(Debug, Clone, clap::Args)]
pub struct GpuParams {
	/// The base URL of the local `aivm` inference server the off-chain worker posts its
	/// assigned GPU jobs to (stored in the node's persistent off-chain storage, so it applies
	/// until changed). Default of the worker: `http://127.0.0.1:8710`.
	#[arg(long, value_name = "URL", value_parser = parse_http_url)]
	pub aivm_url: Option<String>,
}

/// Which hosts the off-chain workers may fetch from: GPU providers download batch inputs from
/// URLs that job clients chose, verifiers probe the endpoints service nodes declared
/// ([`dsync_primitives::fetch_policy`]).
#[derive(Debug, Clone, clap::Args)]
pub struct FetchParams {
	/// Let the off-chain workers fetch from hosts that are not public: loopback, private,
	/// shared, link-local and cloud-metadata addresses, and local names (`localhost`,
	/// `*.local`, `*.internal`, names without a dot). Refused by default, so job clients and
	/// service nodes cannot make this node send requests into its own machine or network. For
	/// test networks on one machine or a private network. `--dev` implies it;
	/// `--allow-private-fetch=false` refuses them there too. Written to the node's off-chain
	/// storage at every start, so a restart without it takes the allowance back. DNS names that
	/// resolve to private addresses cannot be caught: keep the node's outgoing traffic away from
	/// private networks and metadata services with egress rules as well.
	#[arg(
		long,
		value_name = "BOOL",
		action = clap::ArgAction::Set,
		num_args = 0..=1,
		require_equals = true,
		default_missing_value = "true",
		default_value = "false",
		default_value_if("dev", "true", "true")
	)]
	pub allow_private_fetch: bool,
}

fn parse_public(value: &str) -> Result<sr25519::Public, String> {
	let hex = value.strip_prefix("0x").unwrap_or(value);
	let bytes: [u8; 32] = dsync_primitives::hex::decode_array(hex.as_bytes())
		.ok_or_else(|| "expected a 32-byte sr25519 public key in hex".to_string())?;
	Ok(sr25519::Public::from_raw(bytes))
}

fn parse_http_url(value: &str) -> Result<String, String> {
	let trimmed = value.trim().trim_end_matches('/');
	let rest = trimmed
		.strip_prefix("http://")
		.or_else(|| trimmed.strip_prefix("https://"))
		.ok_or_else(|| "expected an http:// or https:// URL".to_string())?;
	if rest.is_empty() || trimmed.len() > 256 || trimmed.chars().any(|c| c.is_whitespace()) {
		return Err("expected an http(s) URL of at most 256 characters, without spaces".into());
	}
	Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
	use super::{parse_http_url, parse_public, Cli};
	use clap::Parser;

	/// `--allow-private-fetch` as parsed from `args` (after the program's name).
	fn allows_private_fetch(args: &[&str]) -> bool {
		let cli = Cli::try_parse_from(std::iter::once("dsync-node").chain(args.iter().copied()))
			.expect("the arguments parse");
		cli.sidecars.fetch.allow_private_fetch
	}

	#[test]
	fn private_fetches_are_refused_unless_allowed_or_on_a_dev_chain() {
		assert!(!allows_private_fetch(&[]));
		assert!(!allows_private_fetch(&["--chain", "local"]));
		// `--chain dev` is not `--dev`: only the flag allows them there.
		assert!(!allows_private_fetch(&["--chain", "dev"]));
		assert!(allows_private_fetch(&["--chain", "dev", "--allow-private-fetch"]));
		assert!(allows_private_fetch(&["--allow-private-fetch"]));
		assert!(allows_private_fetch(&["--allow-private-fetch=true"]));
		assert!(!allows_private_fetch(&["--allow-private-fetch=false"]));
		assert!(allows_private_fetch(&["--dev"]));
		assert!(allows_private_fetch(&["--allow-private-fetch", "--dev"]));
		assert!(!allows_private_fetch(&["--dev", "--allow-private-fetch=false"]));
		assert!(!allows_private_fetch(&["--allow-private-fetch=false", "--dev"]));
		assert!(Cli::try_parse_from(["dsync-node", "--allow-private-fetch=maybe"]).is_err());
	}

	#[test]
	fn dns_response_rate_limiting_is_on_by_default() {
		let dns = |args: &[&str]| {
			Cli::try_parse_from(std::iter::once("dsync-node").chain(args.iter().copied()))
				.map(|cli| (cli.sidecars.dns.dns_rrl_rate, cli.sidecars.dns.dns_rrl_slip))
		};
		assert_eq!(dns(&[]).unwrap(), (20, 2));
		assert_eq!(dns(&["--dns-rrl-rate", "0", "--dns-rrl-slip", "1"]).unwrap(), (0, 1));
		assert!(dns(&["--dns-rrl-slip", "11"]).is_err());
	}

	#[test]
	fn gateway_and_website_flags_need_what_they_serve_from() {
		let parse = |args: &[&str]| {
			Cli::try_parse_from(std::iter::once("dsync-node").chain(args.iter().copied()))
		};
		let probe = ["--probe-listen-addr", "127.0.0.1:9955"];
		// A gateway without storage: its cache, beside the probe endpoint.
		let cli = parse(&[&probe[..], &["--gateway-cache-dir", "/var/lib/gw"]].concat()).unwrap();
		assert_eq!(
			cli.sidecars.storage.gateway_cache_dir.as_deref(),
			Some(std::path::Path::new("/var/lib/gw"))
		);
		assert!(parse(&["--gateway-cache-dir", "/var/lib/gw"]).is_err(), "needs the probe port");
		let both = [
			&probe[..],
			&["--gateway-cache-dir", "/a", "--storage-dir", "/b", "--storage-capacity", "1"],
		]
		.concat();
		assert!(parse(&both).is_err(), "storage nodes cache in their storage directory");
		// The website gateway's address and the DNS website addresses.
		let cli = parse(&[
			"--gateway-listen-addr",
			"0.0.0.0:80",
			"--dns-website-addr",
			"203.0.113.7",
			"--dns-website-addr",
			"2001:db8::7",
		])
		.unwrap();
		assert_eq!(cli.sidecars.storage.gateway_listen_addr, Some("0.0.0.0:80".parse().unwrap()));
		assert_eq!(cli.sidecars.dns.dns_website_addr.len(), 2);
		assert!(parse(&["--dns-website-addr", "gateway.example"]).is_err(), "addresses only");
	}

	#[test]
	fn aivm_urls_are_checked() {
		assert_eq!(parse_http_url("http://127.0.0.1:8710/").unwrap(), "http://127.0.0.1:8710");
		assert_eq!(parse_http_url("https://gpu.example").unwrap(), "https://gpu.example");
		for bad in ["127.0.0.1:8710", "ftp://x", "http://", "http://a b"] {
			assert!(parse_http_url(bad).is_err(), "{bad}");
		}
	}

	#[test]
	fn parses_probe_keys() {
		let key = format!("0x{}", "ab".repeat(32));
		assert_eq!(parse_public(&key).unwrap().0, [0xab; 32]);
		assert!(parse_public("0x1234").is_err());
	}
}
