//! A name's records from chain state, decoded into DNS record data (the encodings are
//! [`RecordKind`]'s); values that do not decode and kinds DNS does not serve are skipped.

use dsync_primitives::naming::{is_valid_host, NameRecords, RecordKind, MAX_CHARACTER_STRING};
use hickory_proto::rr::{
	rdata::{A, AAAA, CNAME, MX, NS, SRV, TXT},
	Name, RData,
};
use std::{
	net::{IpAddr, Ipv4Addr, Ipv6Addr},
	sync::Arc,
};

/// A name's records decoded for DNS, as cached.
#[derive(Debug)]
pub(super) struct ZoneEntry {
	/// The time to live of every record, in seconds.
	pub(super) ttl: u32,
	/// The records DNS serves, in chain order.
	pub(super) records: Vec<RData>,
}

impl ZoneEntry {
	/// Decode the DNS records; values that do not decode and non-DNS kinds are skipped. A
	/// website (a name with a content hash) without A (AAAA) records and without a CNAME gets
	/// the IPv4 (IPv6) addresses of `website_addrs`, the gateways that serve it.
	pub(super) fn decode(records: &NameRecords, website_addrs: &[IpAddr]) -> Self {
		let mut decoded: Vec<RData> = records
			.records
			.iter()
			.filter_map(|(kind, value)| decode_record(kind, value))
			.collect();
		let website = records.records.iter().any(|(kind, _)| *kind == RecordKind::ContentHash);
		let has = |test: fn(&RData) -> bool, decoded: &[RData]| decoded.iter().any(test);
		if website && !has(|data| matches!(data, RData::CNAME(_)), &decoded) {
			let v4 = !has(|data| matches!(data, RData::A(_)), &decoded);
			let v6 = !has(|data| matches!(data, RData::AAAA(_)), &decoded);
			for addr in website_addrs {
				match addr {
					IpAddr::V4(ip) if v4 => decoded.push(RData::A(A::from(*ip))),
					IpAddr::V6(ip) if v6 => decoded.push(RData::AAAA(AAAA::from(*ip))),
					_ => {},
				}
			}
		}
		Self { ttl: records.ttl, records: decoded }
	}
}

/// A name's state as cached: `None` when the name does not exist.
pub(super) type Cached = Option<Arc<ZoneEntry>>;

/// One record value as DNS record data (see [`RecordKind`] for the encodings).
pub(super) fn decode_record(kind: &RecordKind, value: &[u8]) -> Option<RData> {
	Some(match kind {
		RecordKind::A => RData::A(A::from(Ipv4Addr::from(<[u8; 4]>::try_from(value).ok()?))),
		RecordKind::Aaaa => {
			RData::AAAA(AAAA::from(Ipv6Addr::from(<[u8; 16]>::try_from(value).ok()?)))
		},
		RecordKind::Cname => RData::CNAME(CNAME(host_name(value)?)),
		RecordKind::Ns => RData::NS(NS(host_name(value)?)),
		RecordKind::Txt => {
			if value.len() > MAX_CHARACTER_STRING {
				return None;
			}
			RData::TXT(TXT::from_bytes(vec![value]))
		},
		RecordKind::Mx => RData::MX(MX::new(be_u16(value, 0)?, host_name(value.get(2..)?)?)),
		RecordKind::Srv => RData::SRV(SRV::new(
			be_u16(value, 0)?,
			be_u16(value, 2)?,
			be_u16(value, 4)?,
			host_name(value.get(6..)?)?,
		)),
		RecordKind::ContentHash | RecordKind::Address(_) | RecordKind::Text(_) => return None,
	})
}

fn be_u16(value: &[u8], at: usize) -> Option<u16> {
	Some(u16::from_be_bytes([*value.get(at)?, *value.get(at.checked_add(1)?)?]))
}

/// A record's target host, always absolute (a trailing dot is optional in the value).
fn host_name(value: &[u8]) -> Option<Name> {
	if !is_valid_host(value) {
		return None;
	}
	let mut name = Name::from_ascii(core::str::from_utf8(value).ok()?).ok()?;
	name.set_fqdn(true);
	Some(name)
}
