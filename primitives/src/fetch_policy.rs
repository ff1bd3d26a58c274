//! Which URLs the off-chain workers may fetch: [`fetch_allowed`].
//!
//! GPU providers download batch inputs from a URL the job's client chose, verifiers probe the
//! endpoint a service node declared. Left alone, such URLs make a worker send requests to hosts
//! only its own machine or network can reach (blind SSRF): its loopback services, the private
//! network, the cloud's metadata service. [`fetch_allowed`] refuses, unless the operator allows
//! them, URLs whose host is
//!
//! - an IPv4 literal in `0.0.0.0/8`, `10.0.0.0/8`, `100.64.0.0/10`, `127.0.0.0/8`,
//!   `169.254.0.0/16` (with the metadata address `169.254.169.254`), `172.16.0.0/12`,
//!   `192.0.0.0/24`, `192.168.0.0/16`, `198.18.0.0/15`, `224.0.0.0/4` (multicast) or
//!   `240.0.0.0/4` (with `255.255.255.255`);
//! - a number that resolvers read as an IPv4 address although it is not a dotted quad in decimal
//!   (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`): any host whose last label is a decimal or
//!   `0x` number and which is not a canonical dotted quad (no real top-level domain is a number);
//! - an IPv6 literal that is unspecified, loopback or IPv4-compatible (`::/96`), unique local
//!   (`fc00::/7`, with AWS's metadata address `fd00:ec2::254`), link-local (`fe80::/10`),
//!   site-local (`fec0::/10`), multicast (`ff00::/8`) or local-use NAT64 (`64:ff9b:1::/48`), or
//!   that embeds a refused IPv4 address: IPv4-mapped (`::ffff:0:0/96`), IPv4-translated
//!   (`::ffff:0:0:0/96`), NAT64 (`64:ff9b::/96`), 6to4 (`2002::/16`), Teredo (`2001::/32`);
//! - a local name: `localhost`, a name under `.localhost`, `.local`, `.internal` (with
//!   `metadata.google.internal`), `.localdomain`, `.home.arpa`, `.lan`, `.intranet`, `.corp`,
//!   `.home` or `.private`, or a name without a dot (resolved through the machine's search
//!   domains).
//!
//! The host is read as the node's HTTP client reads it: after the last `@` of the authority
//! (`http://public@127.0.0.1/` goes to `127.0.0.1`), brackets around IPv6 literals, an optional
//! port, trailing dots ignored, letters in any case. URLs the client could read differently are
//! refused as malformed: spaces, control or non-ASCII characters, `\` in the authority, `%` or
//! other characters than letters, digits, `-`, `_` and `.` in a name, unbalanced brackets, a
//! port that is not a number.
//!
//! **What it cannot check:** a DNS name that resolves to a refused address
//! (`127.0.0.1.nip.io`, or any name its owner points at `10.0.0.1`). The runtime cannot resolve
//! names (the node's HTTP client resolves them itself, after the check), so operators of GPU
//! providers and validators should also keep the node's outgoing traffic away from their
//! private networks and metadata services with egress rules. The client follows no redirects,
//! so a public URL cannot redirect a worker to a private one.

use core::net::{Ipv4Addr, Ipv6Addr};

/// Why [`fetch_allowed`] refused a URL.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FetchRefused {
	/// The scheme is not `http` or `https` (refused even where private hosts are allowed).
	Scheme,
	/// No host could be read from the URL, or the URL could be read differently by the HTTP
	/// client (refused even where private hosts are allowed).
	Malformed,
	/// The host is a name of the local machine or network: `localhost`, a name under a
	/// local-only suffix, or a name without a dot.
	LocalName,
	/// The host is a number resolvers read as an IPv4 address, but not a canonical dotted quad.
	NonCanonicalIpv4,
	/// The host is an IP address that is not public, or an IPv6 address that embeds one.
	NonPublicAddress,
}

/// Whether an off-chain worker may fetch `url`: `Ok` for an `http(s)` URL whose host is public
/// as far as the URL tells (see the [module docs](crate::fetch_policy)). With `allow_private`
/// (the operator's `--allow-private-fetch`) only the scheme and the syntax are checked.
pub fn fetch_allowed(url: &str, allow_private: bool) -> Result<(), FetchRefused> {
	let host = host_of(url)?;
	if allow_private {
		return Ok(());
	}
	match host {
		Host::Ipv6(address) => public_or_refused(is_public_v6(address)),
		Host::Name(name) => {
			let last_label = name.rsplit('.').next().unwrap_or_default();
			if looks_numeric(last_label) {
				// A resolver reads this host as an IPv4 address: only the one way of writing an
				// address that every reader agrees on is accepted.
				let canonical =
					name.split('.').all(|label| label == "0" || !label.starts_with('0'));
				return match name.parse::<Ipv4Addr>() {
					Ok(address) if canonical => public_or_refused(is_public_v4(address)),
					_ => Err(FetchRefused::NonCanonicalIpv4),
				};
			}
			if is_local_name(name) {
				return Err(FetchRefused::LocalName);
			}
			Ok(())
		},
	}
}

/// The host of a URL, as the HTTP client connects to it.
enum Host<'a> {
	/// A name or an IPv4 literal, without trailing dots.
	Name(&'a str),
	/// A bracketed IPv6 literal.
	Ipv6(Ipv6Addr),
}

/// The host of `url`, or why the URL is refused whatever the host.
fn host_of(url: &str) -> Result<Host<'_>, FetchRefused> {
	let (scheme, rest) = url.split_once("://").ok_or(FetchRefused::Malformed)?;
	if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
		return Err(FetchRefused::Scheme);
	}
	// The authority ends where the path, the query or the fragment starts.
	let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
	// Some parsers read `\` as `/`, others as part of the authority: refuse both readings.
	if authority.is_empty()
		|| authority.contains('\\')
		|| !authority.bytes().all(|byte| byte.is_ascii_graphic())
	{
		return Err(FetchRefused::Malformed);
	}
	// The host and port follow the last `@`; any user information before it is not looked at.
	let host_port = authority.rsplit('@').next().unwrap_or_default();
	if let Some(bracketed) = host_port.strip_prefix('[') {
		let (literal, after) = bracketed.split_once(']').ok_or(FetchRefused::Malformed)?;
		let port = if after.is_empty() {
			after
		} else {
			after.strip_prefix(':').ok_or(FetchRefused::Malformed)?
		};
		check_port(port)?;
		let address = literal.parse::<Ipv6Addr>().map_err(|_| FetchRefused::Malformed)?;
		return Ok(Host::Ipv6(address));
	}
	let (name, port) = host_port.split_once(':').unwrap_or((host_port, ""));
	check_port(port)?;
	// `localhost.` is `localhost`: a resolver ignores the final dots.
	let name = name.trim_end_matches('.');
	let name_chars_ok = name
		.bytes()
		.all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
	if name.is_empty() || !name_chars_ok {
		return Err(FetchRefused::Malformed);
	}
	Ok(Host::Name(name))
}

/// A port is empty or at most five decimal digits.
fn check_port(port: &str) -> Result<(), FetchRefused> {
	if port.len() <= 5 && port.bytes().all(|byte| byte.is_ascii_digit()) {
		Ok(())
	} else {
		Err(FetchRefused::Malformed)
	}
}

/// `Ok` for a public address, else [`FetchRefused::NonPublicAddress`].
fn public_or_refused(public: bool) -> Result<(), FetchRefused> {
	if public {
		Ok(())
	} else {
		Err(FetchRefused::NonPublicAddress)
	}
}

/// Whether a label is a number as `inet_aton` reads it: decimal (octal with a leading zero)
/// digits, or `0x` and hexadecimal digits.
fn looks_numeric(label: &str) -> bool {
	match label.strip_prefix("0x").or_else(|| label.strip_prefix("0X")) {
		Some(hex) => hex.bytes().all(|byte| byte.is_ascii_hexdigit()),
		None => !label.is_empty() && label.bytes().all(|byte| byte.is_ascii_digit()),
	}
}

/// The suffixes of names that only a local machine or network resolves.
const LOCAL_SUFFIXES: [&str; 10] = [
	"localhost",
	"local",
	"internal",
	"localdomain",
	"home.arpa",
	"lan",
	"intranet",
	"corp",
	"home",
	"private",
];

/// Whether `name` (no trailing dot) is a name of the local machine or network.
fn is_local_name(name: &str) -> bool {
	!name.contains('.') || LOCAL_SUFFIXES.iter().any(|suffix| is_under(name, suffix))
}

/// Whether `name` is `suffix` or ends in `.suffix`, ignoring ASCII case.
fn is_under(name: &str, suffix: &str) -> bool {
	let Some(start) = name.len().checked_sub(suffix.len()) else { return false };
	let (head, tail) = name.as_bytes().split_at(start);
	tail.eq_ignore_ascii_case(suffix.as_bytes()) && (head.is_empty() || head.last() == Some(&b'.'))
}

/// Whether an IPv4 address is public: none of the refused ranges of the
/// [module docs](crate::fetch_policy).
fn is_public_v4(address: Ipv4Addr) -> bool {
	let [a, b, c, _] = address.octets();
	let refused = match a {
		// "This network", private, loopback.
		0 | 10 | 127 => true,
		// Shared address space (carrier-grade NAT), 100.64.0.0/10.
		100 => (b & 0xc0) == 64,
		// Link-local, with the cloud metadata address 169.254.169.254.
		169 => b == 254,
		// Private, 172.16.0.0/12.
		172 => (b & 0xf0) == 16,
		// Private 192.168.0.0/16; IETF protocol assignments 192.0.0.0/24.
		192 => b == 168 || (b == 0 && c == 0),
		// Benchmarking, 198.18.0.0/15.
		198 => (b & 0xfe) == 18,
		// Multicast 224.0.0.0/4, reserved 240.0.0.0/4, broadcast.
		224..=255 => true,
		_ => false,
	};
	!refused
}

/// Whether an IPv6 address is public: none of the refused ranges of the
/// [module docs](crate::fetch_policy), and any IPv4 address it embeds public.
fn is_public_v6(address: Ipv6Addr) -> bool {
	let [s0, s1, s2, s3, s4, s5, s6, s7] = address.segments();
	let embedded = |high: u16, low: u16| {
		let [a, b] = high.to_be_bytes();
		let [c, d] = low.to_be_bytes();
		Ipv4Addr::new(a, b, c, d)
	};
	match [s0, s1, s2, s3, s4, s5] {
		// ::/96: unspecified, loopback and the deprecated IPv4-compatible addresses.
		[0, 0, 0, 0, 0, 0] => false,
		// ::ffff:0:0/96, IPv4-mapped.
		[0, 0, 0, 0, 0, 0xffff] => is_public_v4(embedded(s6, s7)),
		// ::ffff:0:0:0/96, IPv4-translated.
		[0, 0, 0, 0, 0xffff, 0] => is_public_v4(embedded(s6, s7)),
		// 64:ff9b::/96, the NAT64 well-known prefix.
		[0x64, 0xff9b, 0, 0, 0, 0] => is_public_v4(embedded(s6, s7)),
		// 64:ff9b:1::/48, local-use NAT64.
		[0x64, 0xff9b, 1, ..] => false,
		// 2002::/16, 6to4: the IPv4 address in the second and third groups.
		[0x2002, ..] => is_public_v4(embedded(s1, s2)),
		// 2001::/32, Teredo: the server's IPv4 address, and the client's stored inverted.
		[0x2001, 0, ..] => is_public_v4(embedded(s2, s3)) && is_public_v4(embedded(!s6, !s7)),
		_ => {
			let unique_local = (s0 & 0xfe00) == 0xfc00;
			let link_local = (s0 & 0xffc0) == 0xfe80;
			let site_local = (s0 & 0xffc0) == 0xfec0;
			let multicast = (s0 & 0xff00) == 0xff00;
			!(unique_local || link_local || site_local || multicast)
		},
	}
}

#[cfg(test)]
mod tests {
	use super::{fetch_allowed, FetchRefused, FetchRefused::*};

	/// Why `url` is refused where private hosts are not allowed (`None`: allowed).
	fn refusal(url: &str) -> Option<FetchRefused> {
		fetch_allowed(url, false).err()
	}

	fn assert_refused(urls: &[&str], why: FetchRefused) {
		for url in urls {
			assert_eq!(refusal(url), Some(why), "{url}");
		}
	}

	#[test]
	fn public_hosts_are_allowed() {
		for url in [
			"http://example.com/x",
			"https://93.184.216.34:8443/a",
			"http://[2606:2800:220:1::1]/",
			"http://[2606:2800:220:1::1]:8080/batch.bin",
			"HTTPS://Data.Example.ORG./b?x=1#y",
			"https://user:password@data.example/b.bin",
			"http://127.0.0.1@example.com/",
			"http://example.com?@127.0.0.1/",
			"http://example.com:/x",
			"http://1.1.1.1/",
			"http://0.0.0.0.example/",
			"http://cafe.babe/",
			"http://node_1.example:9955",
			"http://[::ffff:93.184.216.34]/",
			"http://[64:ff9b::93.184.216.34]/",
			"http://[2002:5db8:d822::1]/",
			"http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
		] {
			assert_eq!(fetch_allowed(url, false), Ok(()), "{url}");
		}
		// Boundaries of the refused IPv4 ranges.
		for address in [
			"9.255.255.255",
			"11.0.0.0",
			"100.63.255.255",
			"100.128.0.0",
			"126.255.255.255",
			"128.0.0.0",
			"169.253.255.255",
			"169.255.0.0",
			"172.15.255.255",
			"172.32.0.0",
			"192.0.1.0",
			"192.167.255.255",
			"192.169.0.0",
			"198.17.255.255",
			"198.20.0.0",
			"223.255.255.255",
		] {
			let url = format!("http://{address}/");
			assert_eq!(fetch_allowed(&url, false), Ok(()), "{url}");
		}
	}

	#[test]
	fn private_ipv4_literals_are_refused() {
		for address in [
			"0.0.0.0",
			"0.1.2.3",
			"10.0.0.1",
			"10.255.255.255",
			"100.64.0.1",
			"100.127.255.254",
			"127.0.0.1",
			"127.255.255.255",
			"169.254.0.1",
			"169.254.169.254",
			"172.16.0.1",
			"172.31.255.255",
			"192.0.0.1",
			"192.0.0.255",
			"192.168.0.1",
			"192.168.255.255",
			"198.18.0.1",
			"198.19.255.255",
			"224.0.0.1",
			"239.255.255.250",
			"240.0.0.1",
			"255.255.255.255",
		] {
			for url in [
				format!("http://{address}/"),
				format!("https://{address}:8443/x"),
				format!("http://{address}./"),
			] {
				assert_eq!(refusal(&url), Some(NonPublicAddress), "{url}");
			}
		}
	}

	#[test]
	fn ipv4_in_odd_forms_is_refused() {
		assert_refused(
			&[
				"http://2130706433/",
				"http://0x7f000001/",
				"http://0x7f.1/",
				"http://0X7F.0.0.1/",
				"http://0177.0.0.1/",
				"http://017700000001/",
				"http://127.1/",
				"http://127.0.1/",
				"http://127.0.0.0x1/",
				"http://127.0.0.01/",
				"http://1.2.3.4.5/",
				"http://0x/",
				// A public address written oddly is refused too: only dotted quads are read.
				"http://93.184.216.034/",
				"http://1572395042/",
			],
			NonCanonicalIpv4,
		);
	}

	#[test]
	fn private_ipv6_literals_are_refused() {
		assert_refused(
			&[
				"http://[::1]/",
				"http://[::1]:9955/x",
				"http://[::]/",
				"http://[0:0:0:0:0:0:0:1]/",
				"http://[fc00::1]/",
				"http://[fd12:3456:789a::1]/",
				"http://[fd00:ec2::254]/",
				"http://[fe80::1]/",
				"http://[febf:ffff::1]/",
				"http://[fec0::1]/",
				"http://[ff02::1]/",
				"http://[ff0e::101]/",
				// IPv4-mapped and IPv4-translated addresses of refused IPv4 addresses.
				"http://[::ffff:127.0.0.1]/",
				"http://[::ffff:7f00:1]/",
				"http://[::ffff:169.254.169.254]/",
				"http://[::ffff:10.0.0.1]/",
				"http://[::ffff:0:127.0.0.1]/",
				// IPv4-compatible, whatever the address.
				"http://[::127.0.0.1]/",
				"http://[::93.184.216.34]/",
				// NAT64 of refused IPv4 addresses, and local-use NAT64.
				"http://[64:ff9b::7f00:1]/",
				"http://[64:ff9b::169.254.169.254]/",
				"http://[64:ff9b:1::5db8:d822]/",
				// 6to4 of refused IPv4 addresses.
				"http://[2002:7f00:1::1]/",
				"http://[2002:a9fe:a9fe::1]/",
				"http://[2002:c0a8:101::]/",
				// Teredo with a loopback client (stored inverted).
				"http://[2001:0:4136:e378::80ff:fffe]/",
			],
			NonPublicAddress,
		);
	}

	#[test]
	fn local_names_are_refused() {
		assert_refused(
			&[
				"http://localhost/",
				"http://LOCALHOST:8710/",
				"http://localhost./",
				"http://localhost../x",
				"http://api.localhost/",
				"http://printer.local/",
				"http://metadata.google.internal/computeMetadata/v1/",
				"http://METADATA.GOOGLE.INTERNAL./",
				"http://ip-10-0-0-1.ec2.internal/",
				"http://box.localdomain/",
				"http://router.home.arpa/",
				"http://nas.lan/",
				"http://wiki.intranet/",
				"http://git.corp/",
				"http://tv.home/",
				"http://db.private/",
				// Names without a dot go through the search domains.
				"http://metadata/",
				"http://instance-data/latest/meta-data/",
				"http://redis:6379/",
			],
			LocalName,
		);
	}

	#[test]
	fn the_host_after_the_user_information_is_checked() {
		assert_eq!(refusal("http://public@127.0.0.1/"), Some(NonPublicAddress));
		assert_eq!(refusal("http://example.com@127.0.0.1:80/x"), Some(NonPublicAddress));
		assert_eq!(refusal("http://user:pass@example.com@10.0.0.1/"), Some(NonPublicAddress));
		assert_eq!(refusal("http://a@b@[::1]/"), Some(NonPublicAddress));
		assert_eq!(refusal("http://user:pass@localhost/"), Some(LocalName));
		assert_eq!(refusal("http://x@2130706433/"), Some(NonCanonicalIpv4));
		// A `#` or `/` ends the authority: the `@` after it is in the fragment or the path.
		assert_eq!(refusal("http://127.0.0.1#@example.com/"), Some(NonPublicAddress));
		assert_eq!(refusal("http://127.0.0.1/@example.com/"), Some(NonPublicAddress));
	}

	#[test]
	fn malformed_urls_and_other_schemes_are_refused() {
		assert_refused(
			&["ftp://example.com/x", "file:///etc/passwd", "gopher://example.com:70/"],
			Scheme,
		);
		assert_refused(
			&[
				"",
				"127.0.0.1:8710",
				"http:/example.com",
				"http://",
				"http:///x",
				"http://@/",
				"http://user@/",
				"http://.../",
				"http://[::1/",
				"http://[::1]x/",
				"http://[::1]:port/",
				"http://[fe80::1%25eth0]/",
				"http://[v1.abc]/",
				"http://host:80:90/",
				"http://host:port/",
				"http://host:123456/",
				"http://exa mple.com/",
				"http://example.com\t/",
				"http://example.com\\@127.0.0.1/",
				"http://ex%61mple.com/",
				"http://exa\"mple.com/",
				"http://ex\u{e4}mple.com/",
				"http://\u{ff4c}\u{ff4f}\u{ff43}\u{ff41}\u{ff4c}\u{ff48}\u{ff4f}\u{ff53}\u{ff54}/",
			],
			Malformed,
		);
	}

	#[test]
	fn the_operator_allowance_lifts_only_the_host_checks() {
		for url in [
			"http://127.0.0.1:8710/",
			"http://localhost:9955",
			"http://[::1]/",
			"http://2130706433/",
			"http://169.254.169.254/latest/meta-data/",
			"http://example.com/x",
		] {
			assert_eq!(fetch_allowed(url, true), Ok(()), "{url}");
		}
		assert_eq!(fetch_allowed("ftp://127.0.0.1/", true), Err(Scheme));
		assert_eq!(fetch_allowed("http://", true), Err(Malformed));
		assert_eq!(fetch_allowed("http://127.0.0.1\\x/", true), Err(Malformed));
	}
}
