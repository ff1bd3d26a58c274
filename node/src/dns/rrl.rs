//! Response rate limiting (RRL) of UDP answers, as BIND and NSD do it.
//!
//! A query's source address can be spoofed over UDP: an attacker sends small queries "from" a
//! victim and the server reflects larger answers onto it. RRL bounds what reaches one client
//! network, whoever really asked: every UDP response is accounted to a bucket keyed by
//!
//! - the client's network: IPv4 /[`RRL_IPV4_PREFIX_LEN`], IPv6 /[`RRL_IPV6_PREFIX_LEN`]
//!   (IPv4-mapped IPv6 addresses as IPv4);
//! - the response's [`Kind`] and, for answers, what was asked: an answer (`NOERROR` with records,
//!   or sent truncated because it was too large) by query name (ASCII case aside), class and type;
//!   NODATA by query name and class, whatever the type (as BIND counts it); every `NXDOMAIN` by
//!   the zone, so all of them to one network share one bucket (as BIND's `nxdomains-per-second`);
//!   every error (`REFUSED`, `FORMERR`, `NOTIMP`, `SERVFAIL`, any other code) one bucket per
//!   network. There are no referrals.
//!
//! Each bucket is a token bucket (kept as a GCRA due time: one integer) allowing `rate` responses
//! per second with bursts of as many. Beyond it a response is dropped, except every `slip`-th one,
//! which goes out rewritten by [`slip`]: its header with `TC` set and its question only, never
//! larger than the query, so a real client on the spoofed network retries over TCP (which cannot
//! be spoofed and is not limited here). `slip` 0 drops every response over the rate, 1 truncates
//! every one.
//!
//! The response is classified from its bytes (rcode: byte 3's low nibble; `ANCOUNT`: bytes 6..8;
//! the question from byte 12, which the engine echoes from the query); an extended rcode (the
//! `OPT` record's `BADVERS`) reads as `NOERROR` without answers, i.e. NODATA. The key is one
//! randomly keyed SipHash of all that, so nobody can aim collisions at a bucket; it selects one
//! of [`SHARDS`] tables behind their own locks. Each table keeps two generations of at most half
//! its share of [`MAX_RRL_ENTRIES`] (as [`crate::limits`] does for sources): the least recently
//! seen keys are forgotten first, and a forgotten key only starts again with a full burst. Once
//! the tables have grown, a response costs a hash, a lock and a table lookup: no allocation.

use super::{MAX_RRL_ENTRIES, RRL_IPV4_PREFIX_LEN, RRL_IPV6_PREFIX_LEN};
use crate::limits::Generations;
use std::{
	collections::hash_map::RandomState,
	hash::{BuildHasher, BuildHasherDefault, Hasher},
	net::IpAddr,
	sync::{Mutex, PoisonError},
	time::Instant,
};

/// Tables of buckets, each behind its own lock, so the UDP workers seldom wait for each other.
const SHARDS: usize = 16;
/// Length of a DNS header.
const HEADER_LEN: usize = 12;
/// Longest domain name in wire form, root label included (RFC 1035).
const MAX_NAME_WIRE_LEN: usize = 255;
/// Longest label (RFC 1035); a larger length byte is a compression pointer or worse.
const MAX_LABEL_LEN: usize = 63;
/// The `TC` flag, in the header's third byte.
const TC: u8 = 0x02;
const NANOS_PER_SEC: u64 = 1_000_000_000;
/// Response codes (the header's low nibble).
const NOERROR: u8 = 0;
const NXDOMAIN: u8 = 3;

/// What a response says, which decides what its bucket is keyed by (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
	/// `NOERROR` with answers, or truncated for size: keyed by name, class and type.
	Answer = 1,
	/// `NOERROR` without answers: keyed by name and class.
	NoData = 2,
	/// `NXDOMAIN`: keyed by the zone (one bucket per network).
	NxDomain = 3,
	/// Any other response code: one bucket per network.
	Error = 4,
}

/// What to do with a UDP response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
	/// Within the rate: send it as it is.
	Send,
	/// Over the rate, and its turn to slip: send it rewritten by [`slip`].
	Slip,
	/// Over the rate: send nothing.
	Drop,
}

/// The state of one bucket; the rate is the limiter's.
#[derive(Clone, Copy)]
struct Bucket {
	/// When the bucket would be full again, in nanoseconds from the limiter's epoch; a response
	/// is within the rate while this is at most a burst less one interval ahead of now.
	due: u64,
	/// Responses over the rate since the last slipped one.
	excess: u32,
}

/// The table's keys are already keyed SipHash values: hashing them again would only cost time.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
	fn finish(&self) -> u64 {
		self.0
	}

	fn write(&mut self, bytes: &[u8]) {
		for byte in bytes {
			self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
		}
	}

	fn write_u64(&mut self, value: u64) {
		self.0 = value;
	}
}

/// One shard's buckets, by key, in two generations.
type Shard = Generations<u64, Bucket, BuildHasherDefault<KeyHasher>>;

/// The buckets of a server's UDP responses (see the module docs).
pub(super) struct ResponseRateLimiter {
	/// Nanoseconds between two responses of a bucket at the rate; 0 when RRL is off.
	interval: u64,
	/// How far ahead of now a bucket's due time may be for a response to go: a burst of `rate`.
	tolerance: u64,
	slip: u32,
	keys: RandomState,
	epoch: Instant,
	shards: Box<[Mutex<Shard>]>,
}

impl ResponseRateLimiter {
	/// `responses_per_sec` responses per second to one bucket (0 = off), with bursts of as
	/// many; every `slip`-th response over it slips (0 = none).
	pub(super) fn new(responses_per_sec: u32, slip: u32) -> Self {
		Self::with_capacity(responses_per_sec, slip, MAX_RRL_ENTRIES)
	}

	fn with_capacity(responses_per_sec: u32, slip: u32, max_entries: usize) -> Self {
		let interval = match responses_per_sec {
			0 => 0,
			rate => (NANOS_PER_SEC / u64::from(rate)).max(1),
		};
		Self {
			interval,
			tolerance: interval.saturating_mul(u64::from(responses_per_sec.saturating_sub(1))),
			slip,
			keys: RandomState::new(),
			epoch: Instant::now(),
			shards: (0..SHARDS).map(|_| Mutex::new(Shard::new(max_entries / SHARDS / 2))).collect(),
		}
	}

	/// Whether `response`, about to be sent to `peer` over UDP, goes out, slips or is dropped.
	pub(super) fn check(&self, peer: IpAddr, response: &[u8]) -> Verdict {
		if self.interval == 0 {
			return Verdict::Send;
		}
		let Some(kind) = kind(response) else { return Verdict::Send };
		let key = self.key(peer, kind, response);
		let now = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
		self.account(key, now)
	}

	/// The bucket of a response of `kind` to `peer`.
	fn key(&self, peer: IpAddr, kind: Kind, response: &[u8]) -> u64 {
		let mut hasher = self.keys.build_hasher();
		let (family, network) = network(peer);
		hasher.write_u8(family);
		hasher.write_u128(network);
		hasher.write_u8(kind as u8);
		if let Some(question) = question(response) {
			match kind {
				Kind::Answer => {
					write_lower_name(&mut hasher, question.name);
					hasher.write_u16(question.qclass);
					hasher.write_u16(question.qtype);
				},
				Kind::NoData => {
					write_lower_name(&mut hasher, question.name);
					hasher.write_u16(question.qclass);
				},
				Kind::NxDomain | Kind::Error => {},
			}
		}
		hasher.finish()
	}

	/// Take a response from the bucket `key` at `now` (nanoseconds from the epoch).
	fn account(&self, key: u64, now: u64) -> Verdict {
		// Bits the tables' own hashing does not use (it takes the low and the top 7 bits).
		let index = usize::try_from(key >> 40).unwrap_or_default() % SHARDS;
		let Some(shard) = self.shards.get(index) else { return Verdict::Send };
		let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
		self.take(shard.get_or_insert_with(key, || Bucket { due: now, excess: 0 }), now)
	}

	/// GCRA: within the rate when the due time is at most `tolerance` ahead; each response sent
	/// moves it one interval on. Responses over the rate do not move it, so a steady flood still
	/// lets `rate` a second through, and no more.
	fn take(&self, bucket: &mut Bucket, now: u64) -> Verdict {
		let due = bucket.due.max(now);
		if due - now <= self.tolerance {
			bucket.due = due.saturating_add(self.interval);
			return Verdict::Send;
		}
		if self.slip == 0 {
			return Verdict::Drop;
		}
		bucket.excess = bucket.excess.saturating_add(1);
		if bucket.excess >= self.slip {
			bucket.excess = 0;
			Verdict::Slip
		} else {
			Verdict::Drop
		}
	}
}

/// The network of `ip` responses are accounted to: (4, the IPv4 /24) or (6, the IPv6 /56), by
/// [`RRL_IPV4_PREFIX_LEN`] and [`RRL_IPV6_PREFIX_LEN`]; IPv4-mapped IPv6 addresses as IPv4.
pub(super) fn network(ip: IpAddr) -> (u8, u128) {
	let v4 = |v4: std::net::Ipv4Addr| {
		let mask = u32::MAX.checked_shl(32u32.saturating_sub(RRL_IPV4_PREFIX_LEN)).unwrap_or(0);
		(4, u128::from(u32::from(v4) & mask))
	};
	match ip {
		IpAddr::V4(address) => v4(address),
		IpAddr::V6(address) => match address.to_ipv4_mapped() {
			Some(mapped) => v4(mapped),
			None => {
				let mask =
					u128::MAX.checked_shl(128u32.saturating_sub(RRL_IPV6_PREFIX_LEN)).unwrap_or(0);
				(6, u128::from(address) & mask)
			},
		},
	}
}

/// The kind of `response` from its header; `None` when it is shorter than a header.
pub(super) fn kind(response: &[u8]) -> Option<Kind> {
	if response.len() < HEADER_LEN {
		return None;
	}
	let flags = *response.get(2)?;
	let rcode = *response.get(3)? & 0x0f;
	let answers = u16_at(response, 6)?;
	Some(match rcode {
		NOERROR if answers > 0 || flags & TC != 0 => Kind::Answer,
		NOERROR => Kind::NoData,
		NXDOMAIN => Kind::NxDomain,
		_ => Kind::Error,
	})
}

/// The first question of a message.
pub(super) struct Question<'a> {
	/// The name in wire form (length-prefixed labels, root label included), as sent.
	pub(super) name: &'a [u8],
	pub(super) qtype: u16,
	pub(super) qclass: u16,
	/// Where the question ends in the message.
	pub(super) end: usize,
}

/// The first question of `message` (a query, or a response echoing it): `None` when it has
/// none, or its name is compressed, too long or cut short.
pub(super) fn question(message: &[u8]) -> Option<Question<'_>> {
	if u16_at(message, 4)? == 0 {
		return None;
	}
	let mut at = HEADER_LEN;
	loop {
		let len = usize::from(*message.get(at)?);
		if len == 0 {
			break;
		}
		if len > MAX_LABEL_LEN {
			return None;
		}
		at = at.checked_add(len + 1)?;
		if at - HEADER_LEN >= MAX_NAME_WIRE_LEN {
			return None;
		}
	}
	let name = message.get(HEADER_LEN..=at)?;
	let qtype = u16_at(message, at + 1)?;
	let qclass = u16_at(message, at + 3)?;
	Some(Question { name, qtype, qclass, end: at + 5 })
}

/// Rewrite `response` in place as the minimal truncated response of a slip: its header with
/// `TC` set, no answer, authority nor additional record (`OPT` included), and its question when
/// it has one. Never larger than the query it answers, which held the same header and question.
pub(super) fn slip(response: &mut Vec<u8>) {
	let end = question(response).map_or(HEADER_LEN, |question| question.end);
	let questions = u8::from(end > HEADER_LEN);
	response.truncate(end);
	if let Some(flags) = response.get_mut(2) {
		*flags |= TC;
	}
	if let Some(counts) = response.get_mut(4..HEADER_LEN) {
		for (count, value) in counts.iter_mut().zip([0, questions, 0, 0, 0, 0, 0, 0]) {
			*count = value;
		}
	}
}

/// The big-endian `u16` at `at`, if the bytes are there.
fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
	let high = *bytes.get(at)?;
	let low = *bytes.get(at.checked_add(1)?)?;
	Some(u16::from_be_bytes([high, low]))
}

/// Hash a wire-form name without regard to ASCII case (length bytes are below `A`, so they are
/// left as they are), through a stack buffer: one write, no allocation.
fn write_lower_name(hasher: &mut impl Hasher, name: &[u8]) {
	let mut lower = [0u8; MAX_NAME_WIRE_LEN];
	for (to, from) in lower.iter_mut().zip(name) {
		*to = from.to_ascii_lowercase();
	}
	hasher.write(lower.get(..name.len().min(MAX_NAME_WIRE_LEN)).unwrap_or_default());
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::net::{Ipv4Addr, Ipv6Addr};

	const ALICE: &[u8] = b"\x05alice\x05dsync\x00";
	const A: u16 = 1;
	const TXT: u16 = 16;
	const IN: u16 = 1;

	/// A message: flags bytes 2 and 3, `ANCOUNT`, one question, then `tail` (records).
	fn message(flags: [u8; 2], answers: u16, name: &[u8], qtype: u16, tail: &[u8]) -> Vec<u8> {
		let mut bytes = vec![0x12, 0x34, flags[0], flags[1], 0, 1];
		bytes.extend_from_slice(&answers.to_be_bytes());
		bytes.extend_from_slice(&[0, 0, 0, u8::from(!tail.is_empty())]);
		bytes.extend_from_slice(name);
		bytes.extend_from_slice(&qtype.to_be_bytes());
		bytes.extend_from_slice(&IN.to_be_bytes());
		bytes.extend_from_slice(tail);
		bytes
	}

	/// A response (`QR`, `AA`) with `rcode` and `answers` answers.
	fn response(rcode: u8, answers: u16, name: &[u8], qtype: u16) -> Vec<u8> {
		message([0x84, rcode], answers, name, qtype, &[0; 20])
	}

	fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
		IpAddr::V4(Ipv4Addr::new(a, b, c, d))
	}

	#[test]
	fn responses_are_classified_from_their_header() {
		assert_eq!(kind(&response(0, 2, ALICE, A)), Some(Kind::Answer));
		assert_eq!(kind(&response(0, 0, ALICE, A)), Some(Kind::NoData));
		// Truncated for size: an answer that did not fit.
		assert_eq!(kind(&message([0x86, 0], 0, ALICE, TXT, &[])), Some(Kind::Answer));
		assert_eq!(kind(&response(3, 0, ALICE, A)), Some(Kind::NxDomain));
		for rcode in [1, 2, 4, 5, 9] {
			assert_eq!(kind(&response(rcode, 0, ALICE, A)), Some(Kind::Error), "rcode {rcode}");
		}
		// The high nibble of byte 3 (RA, Z, AD, CD) is not the rcode.
		assert_eq!(kind(&response(0xf3, 0, ALICE, A)), Some(Kind::NxDomain));
		assert_eq!(kind(&[0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0]), None);
		assert_eq!(kind(&[]), None);
	}

	#[test]
	fn questions_are_read_safely() {
		let bytes = response(0, 1, ALICE, TXT);
		let question = question(&bytes).expect("a question");
		assert_eq!(question.name, ALICE);
		assert_eq!((question.qtype, question.qclass), (TXT, IN));
		assert_eq!(question.end, HEADER_LEN + ALICE.len() + 4);
		// No question, a compression pointer, a name cut short, a missing type.
		let mut none = bytes.clone();
		none[5] = 0;
		assert!(super::question(&none).is_none());
		assert!(super::question(&response(0, 1, b"\xc0\x0c", A)).is_none());
		for len in 0..HEADER_LEN + ALICE.len() + 4 {
			assert!(super::question(&bytes[..len]).is_none(), "{len} bytes");
		}
		// A name longer than 255 bytes.
		let long: Vec<u8> = (0..5).flat_map(|_| [&[63u8][..], &[b'a'; 63][..]].concat()).collect();
		let long = [&long[..], &[0u8][..]].concat();
		assert!(super::question(&message([0, 0], 0, &long, A, &[])).is_none());
		// Every prefix of every byte string: no panic.
		let mut seed = 0x2545_f491_4f6c_dd1du64;
		for _ in 0..2000 {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			let len = (seed % 64) as usize;
			let bytes: Vec<u8> = (0..len).map(|i| (seed >> (i % 8 * 8)) as u8 % 8).collect();
			let _ = (kind(&bytes), super::question(&bytes));
			let mut slipped = bytes.clone();
			slip(&mut slipped);
			assert!(slipped.len() <= bytes.len());
		}
	}

	#[test]
	fn networks_are_ipv4_24_and_ipv6_56() {
		assert_eq!(network(v4(192, 0, 2, 1)), network(v4(192, 0, 2, 254)));
		assert_ne!(network(v4(192, 0, 2, 1)), network(v4(192, 0, 3, 1)));
		assert_eq!(network(v4(192, 0, 2, 1)), (4, u128::from(0xc000_0200u32)));
		let v6 =
			|group: u16, low: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, group, 0, 0, 0, low));
		assert_eq!(network(v6(0x0000, 1)), network(v6(0x00ff, 2)));
		assert_ne!(network(v6(0x0000, 1)), network(v6(0x0100, 1)));
		let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 9).to_ipv6_mapped());
		assert_eq!(network(mapped), network(v4(192, 0, 2, 1)));
	}

	#[test]
	fn keys_follow_the_kind_of_response() {
		let rrl = ResponseRateLimiter::new(5, 2);
		let key = |peer: IpAddr, bytes: &[u8]| rrl.key(peer, kind(bytes).unwrap(), bytes);
		let here = v4(198, 51, 100, 7);
		// Answers: by name (any case) and type.
		let answer = key(here, &response(0, 1, ALICE, A));
		assert_eq!(answer, key(here, &response(0, 1, b"\x05ALICE\x05dsYNC\x00", A)));
		assert_eq!(answer, key(v4(198, 51, 100, 200), &response(0, 1, ALICE, A)));
		assert_ne!(answer, key(v4(198, 51, 101, 7), &response(0, 1, ALICE, A)));
		assert_ne!(answer, key(here, &response(0, 1, ALICE, TXT)));
		assert_ne!(answer, key(here, &response(0, 1, b"\x03bob\x05dsync\x00", A)));
		// NODATA: by name, whatever the type; not an answer's bucket.
		let nodata = key(here, &response(0, 0, ALICE, A));
		assert_eq!(nodata, key(here, &response(0, 0, ALICE, TXT)));
		assert_ne!(nodata, answer);
		assert_ne!(nodata, key(here, &response(0, 0, b"\x03bob\x05dsync\x00", A)));
		// NXDOMAIN: one bucket for the zone; errors: one bucket, whatever the code.
		let nxdomain = key(here, &response(3, 0, ALICE, A));
		assert_eq!(nxdomain, key(here, &response(3, 0, b"\x03bob\x05dsync\x00", TXT)));
		let error = key(here, &response(5, 0, b"\x07example\x03com\x00", A));
		assert_eq!(error, key(here, &response(1, 0, ALICE, TXT)));
		assert_eq!(error, key(here, &[0x12, 0x34, 0x84, 0x04, 0, 0, 0, 0, 0, 0, 0, 0]));
		assert_ne!(error, nxdomain);
	}

	#[test]
	fn a_bucket_sends_its_burst_then_slips_every_slip_th() {
		let rrl = ResponseRateLimiter::new(4, 2);
		let second = NANOS_PER_SEC;
		let start = 7 * second;
		let verdicts: Vec<Verdict> = (0..8).map(|_| rrl.account(1, start)).collect();
		use Verdict::{Drop, Send, Slip};
		assert_eq!(verdicts, [Send, Send, Send, Send, Drop, Slip, Drop, Slip]);
		// A token a quarter of a second later, not before.
		assert_eq!(rrl.account(1, start + second / 4 - 1), Drop);
		assert_eq!(rrl.account(1, start + second / 4), Send);
		assert_eq!(rrl.account(1, start + second / 4), Slip);
		// A long pause refills the burst, not beyond.
		let later = start + 60 * second;
		assert!((0..4).all(|_| rrl.account(1, later) == Send));
		assert_ne!(rrl.account(1, later), Send);
		// Another bucket is untouched.
		assert_eq!(rrl.account(2, start), Send);
		// A steady flood gets the rate through, no more.
		let flood = ResponseRateLimiter::new(10, 0);
		let sent = (0..10_000u64)
			.filter(|i| flood.account(3, start + i * second / 1000) == Send)
			.count();
		assert!((100..=111).contains(&sent), "{sent} sent in 10 s at 10 a second");
	}

	#[test]
	fn slip_zero_drops_and_slip_one_truncates_every_excess() {
		let never = ResponseRateLimiter::new(1, 0);
		assert_eq!(never.account(1, 0), Verdict::Send);
		assert!((0..10).all(|_| never.account(1, 0) == Verdict::Drop));
		let always = ResponseRateLimiter::new(1, 1);
		assert_eq!(always.account(1, 0), Verdict::Send);
		assert!((0..10).all(|_| always.account(1, 0) == Verdict::Slip));
		let three = ResponseRateLimiter::new(1, 3);
		assert_eq!(three.account(1, 0), Verdict::Send);
		let verdicts: Vec<Verdict> = (0..6).map(|_| three.account(1, 0)).collect();
		use Verdict::{Drop, Slip};
		assert_eq!(verdicts, [Drop, Drop, Slip, Drop, Drop, Slip]);
	}

	#[test]
	fn rrl_off_sends_everything() {
		let off = ResponseRateLimiter::new(0, 2);
		let bytes = response(0, 1, ALICE, A);
		assert!((0..1000).all(|_| off.check(v4(192, 0, 2, 1), &bytes) == Verdict::Send));
		let on = ResponseRateLimiter::new(1, 1);
		assert_eq!(on.check(v4(192, 0, 2, 1), &bytes), Verdict::Send);
		assert_eq!(on.check(v4(192, 0, 2, 2), &bytes), Verdict::Slip, "the same /24");
		assert_eq!(on.check(v4(192, 0, 3, 1), &bytes), Verdict::Send, "another /24");
	}

	#[test]
	fn the_table_is_bounded_and_keeps_recent_buckets() {
		let rrl = ResponseRateLimiter::with_capacity(1, 0, 256);
		let recent = u64::MAX;
		assert_eq!(rrl.account(recent, 0), Verdict::Send);
		for key in 0..10_000u64 {
			let key = key.wrapping_mul(0x9e37_79b9_7f4a_7c15);
			assert_eq!(rrl.account(key, 0), Verdict::Send, "a new key gets its burst");
			if key % 16 == 0 {
				assert_eq!(rrl.account(recent, 0), Verdict::Drop, "a recent key keeps its bucket");
			}
		}
		let held: usize = rrl.shards.iter().map(|shard| shard.lock().unwrap().len()).sum();
		assert!(held <= 256, "{held} buckets held");
	}

	#[test]
	fn a_slipped_response_is_its_header_and_question() {
		let query = message([0x01, 0x00], 0, ALICE, TXT, &[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
		let mut answer = message([0x85, 0x00], 3, ALICE, TXT, &[0xab; 300]);
		slip(&mut answer);
		assert_eq!(answer.len(), HEADER_LEN + ALICE.len() + 4);
		assert!(answer.len() <= query.len());
		assert_eq!(&answer[..4], &[0x12, 0x34, 0x87, 0x00], "id, QR AA TC RD, rcode kept");
		assert_eq!(&answer[4..HEADER_LEN], &[0, 1, 0, 0, 0, 0, 0, 0]);
		assert_eq!(kind(&answer), Some(Kind::Answer));
		assert_eq!(question(&answer).unwrap().name, ALICE);
		// Without a question: the header only.
		let mut formerr = vec![0x12, 0x34, 0x80, 0x01, 0, 0, 0, 0, 0, 0, 0, 0];
		slip(&mut formerr);
		assert_eq!(formerr, [0x12, 0x34, 0x82, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
	}
}
