//! Names under the chain's top-level domain, shared by the naming pallet (which stores them) and
//! the node's DNS front-end (which serves them).
//!
//! - **Labels** ([`is_valid_label`]): 1 to [`MAX_LABEL_LEN`] bytes of `a-z`, `0-9` and `-`, no
//!   leading or trailing hyphen, and no hyphens in positions 3 and 4 unless the label is the
//!   punycode form of an internationalised name (`xn--…`). Anything else (upper case, Unicode,
//!   zero-width characters, dots, empty labels) is refused, so two different byte strings never
//!   show as the same name.
//!   Subnames may also take service labels ([`is_service_label`]: `_dmarc`, `_tcp`,
//!   `_domainkey`), so SRV, DMARC, DKIM and ACME records can be published.
//! - **Name ids** ([`namehash`]): `id(tld) = blake2_256(0³² ‖ blake2_256("dsync"))`,
//!   `id(label.parent) = blake2_256(id(parent) ‖ blake2_256(label))`: a subname's id follows from
//!   its parent's id and its label, so the chain never stores full names as keys.
//! - **Records** ([`RecordKind`], [`is_valid_record`]): the value encodings the pallet checks
//!   and the DNS server decodes.
//! - **Runtime API** ([`NamingApi`]): what wallets, explorers and the node's DNS server read
//!   ([`NameRecords`], [`NameView`]), declared here so the node needs no pallet to call it.

use alloc::vec::Vec;
use codec::{Codec, Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::{ConstU32, H256};
use sp_runtime::BoundedVec;

/// The chain's top-level domain.
pub const TLD: &[u8] = b"dsync";

/// The longest label (DNS's limit).
pub const MAX_LABEL_LEN: usize = 63;

/// The longest name, dots included, without the trailing dot (DNS's limit is 253).
pub const MAX_NAME_LEN: usize = 253;

/// The longest key of a [`RecordKind::Text`] record.
pub const MAX_TEXT_KEY_LEN: u32 = 32;

/// The longest DNS character string (one TXT string); longer TXT values are split.
pub const MAX_CHARACTER_STRING: usize = 255;

/// Whether `label` is a valid label: 1 to 63 bytes of `a-z0-9-`, no leading or trailing hyphen,
/// and `--` in positions 3–4 only as the punycode prefix `xn--` followed by something.
pub fn is_valid_label(label: &[u8]) -> bool {
	if label.is_empty() || label.len() > MAX_LABEL_LEN {
		return false;
	}
	if !label.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-') {
		return false;
	}
	if label.first() == Some(&b'-') || label.last() == Some(&b'-') {
		return false;
	}
	// Reserved for encodings (RFC 5891 §4.2.3.1); only punycode is accepted.
	if label.get(2..4) == Some(b"--") {
		return label.starts_with(b"xn--") && label.len() > 4;
	}
	true
}

/// Whether `label` is a service label, allowed for subnames only (`_dmarc`, `_tcp`, `_sip`,
/// `_acme-challenge`, `_domainkey`: the underscore names of RFC 8552): `_` then 1 to 62 bytes
/// of `a-z0-9-`, neither starting nor ending with a hyphen.
pub fn is_service_label(label: &[u8]) -> bool {
	let Some(rest) = label.strip_prefix(b"_") else { return false };
	!rest.is_empty()
		&& label.len() <= MAX_LABEL_LEN
		&& rest.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
		&& rest.first() != Some(&b'-')
		&& rest.last() != Some(&b'-')
}

/// Whether `label` may name a subname: a valid label ([`is_valid_label`]) or a service label
/// ([`is_service_label`]). Registered (top-level) names take valid labels only.
pub fn is_valid_subname_label(label: &[u8]) -> bool {
	is_valid_label(label) || is_service_label(label)
}

/// The id of the top-level domain.
pub fn tld_id() -> H256 {
	child_id(&H256::zero(), TLD)
}

/// The id of `label` under the name whose id is `parent`.
pub fn child_id(parent: &H256, label: &[u8]) -> H256 {
	let buffer = [parent.0, sp_crypto_hashing::blake2_256(label)].concat();
	H256(sp_crypto_hashing::blake2_256(&buffer))
}

/// Split a full name (`alice.dsync` or `www.alice.dsync.`, ASCII case ignored) into its labels
/// under the top-level domain, most specific first (`["www", "alice"]`). `None` when the name
/// is not under the top-level domain, is too long, or has an invalid label. The top-level
/// domain itself gives an empty list.
pub fn labels_of(name: &[u8]) -> Option<Vec<Vec<u8>>> {
	let name = name.strip_suffix(b".").unwrap_or(name);
	if name.is_empty() || name.len() > MAX_NAME_LEN {
		return None;
	}
	let mut labels: Vec<Vec<u8>> =
		name.split(|c| *c == b'.').map(|label| label.to_ascii_lowercase()).collect();
	if labels.pop().as_deref() != Some(TLD) {
		return None;
	}
	let valid = match labels.split_last() {
		None => true,
		Some((registered, subnames)) => {
			is_valid_label(registered) && subnames.iter().all(|label| is_valid_subname_label(label))
		},
	};
	valid.then_some(labels)
}

/// The id of a full name ([`labels_of`]); `None` when the name is not valid under the
/// top-level domain.
pub fn namehash(name: &[u8]) -> Option<H256> {
	let labels = labels_of(name)?;
	Some(labels.iter().rev().fold(tld_id(), |parent, label| child_id(&parent, label)))
}

/// Whether `host` is a valid DNS host name to point a record at (`CNAME`, `NS`, `MX`, `SRV`
/// targets): dot-separated labels of letters, digits, hyphens and underscores, each 1 to 63
/// bytes without a leading or trailing hyphen, at most 253 bytes, an optional trailing dot.
/// Targets may be outside the top-level domain.
pub fn is_valid_host(host: &[u8]) -> bool {
	let host = host.strip_suffix(b".").unwrap_or(host);
	!host.is_empty()
		&& host.len() <= MAX_NAME_LEN
		&& host.split(|c| *c == b'.').all(|label| {
			!label.is_empty()
				&& label.len() <= MAX_LABEL_LEN
				&& label.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
				&& label.first() != Some(&b'-')
				&& label.last() != Some(&b'-')
		})
}

/// The kind of a record. DNS kinds may hold several values (an RRset); the others hold one.
#[derive(
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Clone,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Debug,
)]
pub enum RecordKind {
	/// An IPv4 address: 4 bytes.
	A,
	/// An IPv6 address: 16 bytes.
	Aaaa,
	/// An alias: a host name ([`is_valid_host`]). Alone: a name with a CNAME has no A, AAAA,
	/// TXT, MX, SRV or NS record (DNS's rule).
	Cname,
	/// Text: 1 to 255 bytes per value (one DNS character string).
	Txt,
	/// A mail exchanger: preference (2 bytes, big-endian) then a host name.
	Mx,
	/// A service: priority, weight, port (2 bytes each, big-endian) then a host name.
	Srv,
	/// A name server for a delegated subname: a host name.
	Ns,
	/// A content hash (e.g. an IPFS CID in binary form), 1 byte or more. One value.
	ContentHash,
	/// An address on another chain, by SLIP-44 coin type, 1 byte or more. One value per coin.
	Address(u32),
	/// A free text entry under a key of 1 to 32 printable ASCII bytes, UTF-8 value. One value
	/// per key.
	Text(BoundedVec<u8, ConstU32<MAX_TEXT_KEY_LEN>>),
}

impl RecordKind {
	/// Whether the kind may hold several values (the DNS kinds other than CNAME).
	pub fn is_multi_valued(&self) -> bool {
		matches!(self, Self::A | Self::Aaaa | Self::Txt | Self::Mx | Self::Srv | Self::Ns)
	}

	/// Whether the kind is served over DNS.
	pub fn is_dns(&self) -> bool {
		self.is_multi_valued() || *self == Self::Cname
	}
}

/// Whether `value` is a valid value of `kind` (see each [`RecordKind`] variant), at most
/// `max_len` bytes.
pub fn is_valid_record(kind: &RecordKind, value: &[u8], max_len: usize) -> bool {
	if value.is_empty() || value.len() > max_len {
		return false;
	}
	match kind {
		RecordKind::A => value.len() == 4,
		RecordKind::Aaaa => value.len() == 16,
		RecordKind::Cname | RecordKind::Ns => is_valid_host(value),
		RecordKind::Txt => value.len() <= MAX_CHARACTER_STRING,
		RecordKind::Mx => value.get(2..).is_some_and(is_valid_host),
		RecordKind::Srv => value.get(6..).is_some_and(is_valid_host),
		RecordKind::ContentHash | RecordKind::Address(_) => true,
		RecordKind::Text(key) => {
			!key.is_empty()
				&& key.iter().all(|c| (0x21..=0x7e).contains(c))
				&& core::str::from_utf8(value).is_ok()
		},
	}
}

/// A live name's records as the runtime API returns them: what the DNS server answers with.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct NameRecords {
	/// The time to live of every record, in seconds.
	pub ttl: u32,
	/// The records, grouped by kind in [`RecordKind`] order.
	pub records: Vec<(RecordKind, Vec<u8>)>,
}

/// A name's registration as the runtime API returns it.
#[derive(Encode, Decode, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct NameView<AccountId, BlockNumber> {
	/// The owner.
	pub owner: AccountId,
	/// The last paid block of the registration the name belongs to (its own, or its
	/// top-level ancestor's for a subname).
	pub expires: BlockNumber,
	/// The last block of the grace period, in which only the owner may renew.
	pub grace_ends: BlockNumber,
	/// Whether the name resolves now (not expired, not stale).
	pub live: bool,
	/// The DNS time to live, in seconds.
	pub ttl: u32,
}

sp_api::decl_runtime_apis! {
	/// Names under `.dsync`: what wallets, explorers and the node's DNS server read.
	///
	/// The runtime implements `NamingApi<Block, AccountId, Balance, BlockNumber>` in its
	/// `impl_runtime_apis!` block with the naming pallet's views. Clients call, e.g.,
	/// `api.call.namingApi.records("alice.dsync")` (`@polkadot/api`; names as UTF-8 bytes).
	pub trait NamingApi<AccountId, Balance, BlockNumber>
	where
		AccountId: Codec,
		Balance: Codec,
		BlockNumber: Codec,
	{
		/// Every record of a live name with its TTL; `None` when the name is invalid, unknown,
		/// expired or stale (DNS: NXDOMAIN).
		fn records(name: Vec<u8>) -> Option<NameRecords>;

		/// The values of one kind on a live name (empty when none).
		fn resolve(name: Vec<u8>, kind: RecordKind) -> Vec<Vec<u8>>;

		/// The primary name of `account`, while live and owned by it.
		fn reverse(account: AccountId) -> Option<Vec<u8>>;

		/// Owner, expiry, grace end, liveness and TTL of a name.
		fn name(name: Vec<u8>) -> Option<NameView<AccountId, BlockNumber>>;

		/// What registering `label` for `years` costs now; `None` when it cannot be registered.
		fn price(label: Vec<u8>, years: u32) -> Option<Balance>;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn labels_are_strict() {
		for good in [&b"a"[..], b"alice", b"a-b", b"0", b"xn--bcher-kva", &[b'a'; 63][..]] {
			assert!(is_valid_label(good), "{good:?}");
		}
		for bad in [
			&b""[..],
			&[b'a'; 64][..],
			b"Alice",
			b"-a",
			b"a-",
			b"a.b",
			b"a_b",
			b"ab--c",
			b"xn--",
			"bücher".as_bytes(),
			"al\u{200b}ice".as_bytes(),
			"аlice".as_bytes(), // Cyrillic а
			b"a b",
			b"a\0",
		] {
			assert!(!is_valid_label(bad), "{bad:?}");
		}
	}

	#[test]
	fn service_labels_are_for_subnames_only() {
		for good in [&b"_dmarc"[..], b"_tcp", b"_acme-challenge", b"_domainkey", b"_a1", b"_0"] {
			assert!(is_service_label(good) && is_valid_subname_label(good), "{good:?}");
			assert!(!is_valid_label(good), "{good:?}");
		}
		for bad in [
			&b"_"[..],
			b"__a",
			b"_-a",
			b"_a-",
			b"_A",
			b"a_",
			b"_a_b",
			b"_a.b",
			&[b'_'; 1][..],
			&[&b"_"[..], &[b'a'; 63][..]].concat()[..],
		] {
			assert!(!is_service_label(bad), "{bad:?}");
		}
		assert!(is_service_label(&[&b"_"[..], &[b'a'; 62][..]].concat()));
		// Under a registered name, at any depth; never as the registered name itself.
		assert!(labels_of(b"_sip._tcp.alice.dsync").is_some());
		assert!(labels_of(b"selector._domainkey.alice.dsync").is_some());
		assert!(labels_of(b"_dmarc.dsync").is_none());
		assert!(labels_of(b"_x_.alice.dsync").is_none());
		assert_eq!(
			namehash(b"_DMARC.alice.dsync"),
			Some(child_id(&child_id(&tld_id(), b"alice"), b"_dmarc"))
		);
	}

	#[test]
	fn namehash_is_hierarchical_and_case_insensitive() {
		let alice = namehash(b"alice.dsync").unwrap();
		assert_eq!(alice, child_id(&tld_id(), b"alice"));
		assert_eq!(namehash(b"ALICE.DSYNC.").unwrap(), alice);
		assert_eq!(namehash(b"www.alice.dsync").unwrap(), child_id(&alice, b"www"));
		assert_eq!(namehash(b"dsync").unwrap(), tld_id());
		assert_ne!(namehash(b"bob.dsync").unwrap(), alice);
		assert_eq!(namehash(b"alice.com"), None);
		assert_eq!(namehash(b"al_ice.dsync"), None);
		assert_eq!(namehash(b"a..dsync"), None);
		assert_eq!(namehash(b""), None);
		assert_eq!(
			labels_of(b"www.alice.dsync").unwrap(),
			vec![b"www".to_vec(), b"alice".to_vec()]
		);
	}

	#[test]
	fn record_values_are_checked_per_kind() {
		assert!(is_valid_record(&RecordKind::A, &[1, 2, 3, 4], 64));
		assert!(!is_valid_record(&RecordKind::A, &[1, 2, 3], 64));
		assert!(is_valid_record(&RecordKind::Aaaa, &[0; 16], 64));
		assert!(is_valid_record(&RecordKind::Cname, b"bob.dsync.", 64));
		assert!(!is_valid_record(&RecordKind::Cname, b"bob..dsync", 64));
		assert!(is_valid_record(&RecordKind::Mx, b"\x00\x0amail.example.org", 64));
		assert!(!is_valid_record(&RecordKind::Mx, b"\x00\x0a", 64));
		assert!(is_valid_record(&RecordKind::Srv, b"\0\x01\0\x02\x01\xbbsip.example", 64));
		assert!(is_valid_record(&RecordKind::Txt, b"v=spf1 -all", 64));
		assert!(!is_valid_record(&RecordKind::Txt, &[b'a'; 256], 300));
		assert!(!is_valid_record(&RecordKind::Txt, b"", 64));
		assert!(!is_valid_record(&RecordKind::ContentHash, &[0; 65], 64));
		let key = BoundedVec::truncate_from(b"email".to_vec());
		assert!(is_valid_record(&RecordKind::Text(key.clone()), "é@x".as_bytes(), 64));
		assert!(!is_valid_record(&RecordKind::Text(key), &[0xff], 64));
		assert!(!is_valid_record(&RecordKind::Text(BoundedVec::new()), b"x", 64));
		assert!(RecordKind::Txt.is_multi_valued() && !RecordKind::Cname.is_multi_valued());
		assert!(RecordKind::Cname.is_dns() && !RecordKind::ContentHash.is_dns());
	}
}
