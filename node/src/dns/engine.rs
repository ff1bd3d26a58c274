//! Answering one DNS message, whatever the transport: parsing, the zone apex (`SOA`, `NS`), names
//! from the zone index or their read records, EDNS(0), and truncation to the transport's size.

use super::{
	cache::{Finalized, ResponseCache},
	index::{Resolved, ZoneIndex},
	records::Cached,
	stats::{bump, DnsStats},
	DnsConfig, ZoneSource, LOG_TARGET, MAX_PENDING_LOOKUPS, MAX_TRACKED_SOURCES, PLAIN_UDP_PAYLOAD,
};
use crate::limits::RateLimiter;
use dsync_primitives::naming::{is_valid_label, is_valid_subname_label, TLD};
use hickory_proto::{
	op::{Edns, Header, Message, MessageType, Metadata, OpCode, Query, ResponseCode},
	rr::{
		rdata::{NS, SOA},
		DNSClass, Name, RData, Record, RecordType,
	},
	serialize::binary::{BinDecodable, BinDecoder, BinEncodable, BinEncoder},
};
use std::{io, net::IpAddr, sync::Arc};
use tokio::sync::Semaphore;

/// Largest message over TCP (the length prefix is 16 bits).
const MAX_TCP_MESSAGE: usize = u16::MAX as usize;
/// Time to live of the apex `NS` record.
const APEX_NS_TTL: u32 = 3600;
/// `SOA` timers (seconds): secondaries are not used, the values are conventional.
const SOA_REFRESH: i32 = 3600;
const SOA_RETRY: i32 = 600;
const SOA_EXPIRE: i32 = 1_209_600;

/// The transport a message came over, which bounds the size of its response.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
	Udp,
	Tcp,
}

/// What to do after handling a message.
pub(super) enum Step {
	/// Send the response written to the output buffer.
	Reply,
	/// Send nothing.
	Drop,
	/// The name must be read from state, then answered ([`Engine::complete`]).
	Lookup(Box<Pending>),
}

/// A well-formed query in the zone.
struct Request {
	/// The query's header.
	metadata: Metadata,
	query: Query,
	/// Whether the query had an `OPT` record.
	edns: bool,
	/// Largest response for the query's transport and EDNS payload size.
	limit: usize,
}

/// A query waiting for a state read: of the asked name, or (`primary` known) of a name its
/// answer follows (a CNAME's target, an MX, SRV or NS target's addresses).
pub(super) struct Pending {
	request: Request,
	at: [u8; 32],
	number: u32,
	key: String,
	/// The asked name's state, once read.
	primary: Option<Result<Cached, ()>>,
	/// Names read for this answer so far, with their state.
	chased: Vec<(String, Cached)>,
}

/// The most CNAME records one answer follows in the zone (a chain, or a loop, ends there).
const MAX_CHAIN: usize = 8;
/// The most names read from state for one answer beyond the asked one.
const MAX_CHASED_READS: usize = 8;

/// A name an answer follows, as far as the cache and this answer's reads know it.
enum Chased {
	/// Known: `None` when the name does not exist.
	Known(Cached),
	/// It must be read from state.
	Unread,
}

/// Where a query name stands with respect to the zone.
pub(super) enum ZoneName {
	/// Not `dsync.` nor under it.
	Outside,
	/// `dsync.` itself.
	Apex,
	/// Under `dsync.` but with a label no name can have.
	Invalid,
	/// A name that may exist; its lookup key was written.
	Name,
}

/// Classify `name`, writing its lower-case lookup key (`www.alice.dsync`) to `key` when it is a
/// possible name.
pub(super) fn classify(name: &Name, key: &mut String) -> ZoneName {
	let mut labels = name.iter();
	match labels.next_back() {
		Some(last) if last.eq_ignore_ascii_case(TLD) => {},
		_ => return ZoneName::Outside,
	}
	if labels.len() == 0 {
		return ZoneName::Apex;
	}
	key.clear();
	while let Some(label) = labels.next() {
		if !label.is_ascii() {
			return ZoneName::Invalid;
		}
		let start = key.len();
		key.extend(label.iter().map(|byte| char::from(byte.to_ascii_lowercase())));
		let label = key.as_bytes().get(start..).unwrap_or_default();
		// The label next to the top-level domain is a registered name's; the ones before it
		// may also be service labels (`_dmarc`).
		let valid =
			if labels.len() == 0 { is_valid_label(label) } else { is_valid_subname_label(label) };
		if !valid {
			return ZoneName::Invalid;
		}
		key.push('.');
	}
	key.extend(TLD.iter().map(|byte| char::from(*byte)));
	ZoneName::Name
}

/// The transport-independent server: parsing, answers, caches, limits, counters.
pub(super) struct Engine {
	/// The zone as answered: the name set and the records cache over the zone source.
	/// `source.finalized()` is the block to answer at.
	pub(super) source: Arc<ZoneIndex>,
	/// Whole UDP responses by query bytes, for the block answers are of.
	pub(super) responses: ResponseCache,
	limiter: RateLimiter,
	pub(super) stats: Arc<DnsStats>,
	pub(super) lookup_slots: Arc<Semaphore>,
	apex: Name,
	ns_host: Name,
	soa_email: Name,
	negative_ttl: u32,
	pub(super) max_udp_payload: u16,
	/// The `OPT` record of responses to EDNS queries.
	edns: Edns,
}

impl Engine {
	pub(super) fn new(config: &DnsConfig, source: Arc<dyn ZoneSource>) -> io::Result<Self> {
		let tld = String::from_utf8_lossy(TLD);
		let apex = config_name("zone apex", &format!("{tld}."))?;
		let ns_host = config_name("name server host", &config.ns_host)?;
		let soa_email = config_name("SOA contact", &config.soa_email.replacen('@', ".", 1))?;
		let max_udp_payload = config.max_udp_payload.max(PLAIN_UDP_PAYLOAD as u16);
		let mut edns = Edns::new();
		edns.set_max_payload(max_udp_payload);
		edns.set_version(0);
		let source =
			Arc::new(ZoneIndex::new(source, config.cache_entries, config.website_addrs.clone()));
		// Scan the names now (when bound within a Tokio runtime) rather than at the first query.
		source.refresh();
		Ok(Self {
			source,
			responses: ResponseCache::new(config.cache_entries),
			limiter: RateLimiter::new(config.rate_limit_per_sec, config.burst, MAX_TRACKED_SOURCES),
			stats: Arc::new(DnsStats::default()),
			lookup_slots: Arc::new(Semaphore::new(MAX_PENDING_LOOKUPS)),
			apex,
			ns_host,
			soa_email,
			negative_ttl: config.negative_ttl,
			max_udp_payload,
			edns,
		})
	}

	/// Count a received message and check its source's rate limit.
	pub(super) fn admit(&self, peer: IpAddr) -> bool {
		bump(&self.stats.queries);
		if self.limiter.allow(peer) {
			true
		} else {
			bump(&self.stats.rate_limited);
			false
		}
	}

	/// Handle one received message against the finalised block `(at, number)` the caller read;
	/// a response, if any, is written to `out`. `key` is scratch space for the lookup key.
	pub(super) fn handle(
		&self,
		packet: &[u8],
		transport: Transport,
		(at, number): Finalized,
		key: &mut String,
		out: &mut Vec<u8>,
	) -> Step {
		let Ok(header) = Header::read(&mut BinDecoder::new(packet)) else {
			bump(&self.stats.dropped);
			return Step::Drop;
		};
		if header.metadata.message_type != MessageType::Query {
			bump(&self.stats.dropped);
			return Step::Drop;
		}
		if header.metadata.op_code != OpCode::Query {
			bump(&self.stats.notimp);
			return self.header_reply(&header.metadata, ResponseCode::NotImp, out);
		}
		if header.counts.queries != 1 {
			bump(&self.stats.formerr);
			return self.header_reply(&header.metadata, ResponseCode::FormErr, out);
		}
		let mut message = match Message::from_vec(packet) {
			Ok(message) => message,
			Err(error) => {
				log::trace!(target: LOG_TARGET, "malformed query: {error}");
				bump(&self.stats.formerr);
				return self.header_reply(&header.metadata, ResponseCode::FormErr, out);
			},
		};
		let Some(query) = message.queries.pop() else {
			bump(&self.stats.formerr);
			return self.header_reply(&header.metadata, ResponseCode::FormErr, out);
		};
		let edns = message.edns.take();
		let limit = match (transport, &edns) {
			(Transport::Tcp, _) => MAX_TCP_MESSAGE,
			(Transport::Udp, None) => PLAIN_UDP_PAYLOAD,
			(Transport::Udp, Some(edns)) => {
				usize::from(edns.max_payload().min(self.max_udp_payload)).max(PLAIN_UDP_PAYLOAD)
			},
		};
		let request = Request { metadata: message.metadata, query, edns: edns.is_some(), limit };
		if edns.as_ref().is_some_and(|edns| edns.version() > 0) {
			return self.error(request, ResponseCode::BADVERS, out);
		}

		let zone_name = classify(request.query.name(), key);
		if matches!(zone_name, ZoneName::Outside) || request.query.query_class() != DNSClass::IN {
			return self.error(request, ResponseCode::Refused, out);
		}
		match request.query.query_type() {
			RecordType::AXFR | RecordType::IXFR => {
				return self.error(request, ResponseCode::Refused, out)
			},
			RecordType::OPT => return self.error(request, ResponseCode::FormErr, out),
			_ => {},
		}

		match zone_name {
			ZoneName::Apex => self.answer_apex(request, number, out),
			ZoneName::Name => {
				let mut block = (at, number);
				let mut resolved = self.source.resolve(block, key.as_str());
				if matches!(resolved, Resolved::Moved) {
					// The index moved to a newer block since the caller read it: answer there,
					// once (a name read from state only if the new block does not know it).
					block = self.source.finalized();
					resolved = self.source.resolve(block, key.as_str());
				}
				let (at, number) = block;
				match resolved {
					Resolved::Known(known) => {
						bump(&self.stats.cache_hits);
						let primary = Ok(known);
						match self.answer_name(request, (at, number), &primary, &[], out) {
							Ok(step) => step,
							// A name the answer follows is not in the cache: read it first.
							Err((request, chase)) => Step::Lookup(Box::new(Pending {
								request,
								at,
								number,
								key: chase,
								primary: Some(primary),
								chased: Vec::new(),
							})),
						}
					},
					Resolved::Unknown | Resolved::Moved => {
						bump(&self.stats.cache_misses);
						Step::Lookup(Box::new(Pending {
							request,
							at,
							number,
							key: key.clone(),
							primary: None,
							chased: Vec::new(),
						}))
					},
				}
			},
			ZoneName::Invalid | ZoneName::Outside => self
				.answer_name(request, (at, number), &Ok(None), &[], out)
				.unwrap_or(Step::Drop),
		}
	}

	/// A `REFUSED` response to a message over its source's rate limit (TCP).
	pub(super) fn refuse(&self, packet: &[u8], out: &mut Vec<u8>) -> Step {
		match Header::read(&mut BinDecoder::new(packet)) {
			Ok(header) if header.metadata.message_type == MessageType::Query => {
				self.header_reply(&header.metadata, ResponseCode::Refused, out)
			},
			_ => Step::Drop,
		}
	}

	/// Read a name from state (on the blocking pool), keep it in the zone index and answer;
	/// then read the names the answer follows that are not in the cache (at most
	/// [`MAX_CHASED_READS`]; beyond, the answer goes without them).
	pub(super) async fn complete(&self, pending: Pending, out: &mut Vec<u8>) -> Step {
		let Pending { mut request, at, number, key, primary, mut chased } = pending;
		let primary = match primary {
			Some(primary) => {
				let state = self.source.read_name((at, number), key.clone()).await;
				// A failed read of a followed name: the answer goes without it.
				chased.push((key, state.unwrap_or(None)));
				primary
			},
			None => self.source.read_name((at, number), key).await,
		};
		loop {
			let (again, chase) =
				match self.answer_name(request, (at, number), &primary, &chased, out) {
					Ok(step) => return step,
					Err(unread) => unread,
				};
			// Out of reads, the name counts as absent for this answer.
			let state = if chased.len() < MAX_CHASED_READS {
				self.source.read_name((at, number), chase.clone()).await.unwrap_or(None)
			} else {
				None
			};
			chased.push((chase, state));
			request = again;
		}
	}

	/// What is known of the name `key` the answer follows: this answer's reads, then the cache.
	fn chased(&self, block: Finalized, key: &str, chased: &[(String, Cached)]) -> Chased {
		if let Some((_, state)) = chased.iter().find(|(name, _)| name == key) {
			return Chased::Known(state.clone());
		}
		match self.source.resolve(block, key) {
			Resolved::Known(state) => Chased::Known(state),
			Resolved::Unknown | Resolved::Moved => Chased::Unread,
		}
	}

	/// The answer for the apex: `SOA`, `NS`, or NODATA.
	fn answer_apex(&self, request: Request, serial: u32, out: &mut Vec<u8>) -> Step {
		let owner = request.query.name().clone();
		let (answers, authorities) = match request.query.query_type() {
			// RFC 8482: one RRset for `ANY`, here the SOA.
			RecordType::SOA | RecordType::ANY => (vec![self.soa_record(owner, serial)], Vec::new()),
			RecordType::NS => (
				vec![Record::from_rdata(owner, APEX_NS_TTL, RData::NS(NS(self.ns_host.clone())))],
				Vec::new(),
			),
			_ => (Vec::new(), vec![self.soa_record(self.apex.clone(), serial)]),
		};
		self.respond(request, ResponseCode::NoError, true, answers, authorities, out)
	}

	/// The answer for a name under the apex from its state, as an authoritative server gives
	/// it: the records of the asked type, or the name's CNAME followed through the zone (the
	/// target's records, or its own CNAME, up to [`MAX_CHAIN`]; `NXDOMAIN` when the last name
	/// does not exist, RFC 6604), and in the additional section the addresses of the zone's
	/// names an MX, SRV or NS answer points at. `Err` gives the request back with a name that
	/// must be read from state first.
	fn answer_name(
		&self,
		request: Request,
		block: Finalized,
		state: &Result<Cached, ()>,
		chased: &[(String, Cached)],
		out: &mut Vec<u8>,
	) -> Result<Step, (Request, String)> {
		let serial = block.1;
		let entry = match state {
			Err(()) => return Ok(self.error(request, ResponseCode::ServFail, out)),
			Ok(None) => {
				let soa = self.soa_record(self.apex.clone(), serial);
				return Ok(self.respond(
					request,
					ResponseCode::NXDomain,
					true,
					Vec::new(),
					vec![soa],
					out,
				));
			},
			Ok(Some(entry)) => entry,
		};
		let qtype = request.query.query_type();
		let owner = request.query.name();
		let record = |data: &RData| Record::from_rdata(owner.clone(), entry.ttl, data.clone());
		let cname = entry.records.iter().find(|data| matches!(data, RData::CNAME(_)));
		// RFC 8482: `ANY` gets one RRset of the name (its alias, else its first record's type),
		// never the whole name: no amplification, and a client sees the name exists.
		let qtype = match qtype {
			RecordType::ANY => match cname.or(entry.records.first()) {
				Some(data) => data.record_type(),
				None => RecordType::ANY,
			},
			other => other,
		};
		let answers: Vec<Record> = match cname {
			Some(cname) if qtype != RecordType::CNAME => vec![record(cname)],
			_ => entry
				.records
				.iter()
				.filter(|data| data.record_type() == qtype)
				.map(record)
				.collect(),
		};
		let mut answers = answers;
		let mut response_code = ResponseCode::NoError;
		// Whether the last name of the answer has records of the asked type.
		let mut found = !answers.is_empty() && cname.is_none_or(|_| qtype == RecordType::CNAME);
		if let Some(RData::CNAME(first)) = cname.filter(|_| qtype != RecordType::CNAME) {
			let mut seen: Vec<Name> = vec![owner.clone()];
			let mut target = first.0.clone();
			for _ in 0..MAX_CHAIN {
				let mut key = String::new();
				if !matches!(classify(&target, &mut key), ZoneName::Name) || seen.contains(&target)
				{
					// Outside the zone (the resolver follows it), not a possible name, or a loop.
					found = true;
					break;
				}
				let next = match self.chased(block, &key, chased) {
					Chased::Unread => return Err((request, key)),
					Chased::Known(None) => {
						response_code = ResponseCode::NXDomain;
						break;
					},
					Chased::Known(Some(next)) => next,
				};
				let record =
					|data: &RData| Record::from_rdata(target.clone(), next.ttl, data.clone());
				if let Some(alias) =
					next.records.iter().find(|data| matches!(data, RData::CNAME(_)))
				{
					answers.push(record(alias));
					seen.push(target.clone());
					let RData::CNAME(alias) = alias else { break };
					target = alias.0.clone();
					continue;
				}
				let before = answers.len();
				answers.extend(
					next.records.iter().filter(|data| data.record_type() == qtype).map(record),
				);
				found = answers.len() > before;
				break;
			}
		}
		// The addresses of the zone's names MX, SRV and NS answers point at.
		let mut additionals = Vec::new();
		let targets: Vec<Name> = answers
			.iter()
			.filter_map(|record| match &record.data {
				RData::MX(mx) => Some(mx.exchange.clone()),
				RData::SRV(srv) => Some(srv.target.clone()),
				RData::NS(ns) => Some(ns.0.clone()),
				_ => None,
			})
			.collect();
		for target in targets {
			let mut key = String::new();
			if !matches!(classify(&target, &mut key), ZoneName::Name) {
				continue;
			}
			match self.chased(block, &key, chased) {
				Chased::Unread => return Err((request, key)),
				Chased::Known(Some(entry)) => additionals.extend(
					entry
						.records
						.iter()
						.filter(|data| matches!(data, RData::A(_) | RData::AAAA(_)))
						.map(|data| Record::from_rdata(target.clone(), entry.ttl, data.clone())),
				),
				Chased::Known(None) => {},
			}
		}
		let authorities = if !found || response_code == ResponseCode::NXDomain {
			vec![self.soa_record(self.apex.clone(), serial)]
		} else {
			Vec::new()
		};
		let sections = (answers, authorities, additionals);
		Ok(self.respond_with(request, response_code, true, sections, out))
	}

	/// The zone's `SOA` record under `owner`.
	fn soa_record(&self, owner: Name, serial: u32) -> Record {
		let soa = SOA::new(
			self.ns_host.clone(),
			self.soa_email.clone(),
			serial,
			SOA_REFRESH,
			SOA_RETRY,
			SOA_EXPIRE,
			self.negative_ttl,
		);
		Record::from_rdata(owner, self.negative_ttl, RData::SOA(soa))
	}

	/// Write the response to a well-formed query.
	fn respond(
		&self,
		request: Request,
		response_code: ResponseCode,
		authoritative: bool,
		answers: Vec<Record>,
		authorities: Vec<Record>,
		out: &mut Vec<u8>,
	) -> Step {
		let sections = (answers, authorities, Vec::new());
		self.respond_with(request, response_code, authoritative, sections, out)
	}

	/// [`Engine::respond`] with an additional section: `sections` are the answer, authority and
	/// additional records.
	fn respond_with(
		&self,
		request: Request,
		response_code: ResponseCode,
		authoritative: bool,
		(answers, authorities, additionals): (Vec<Record>, Vec<Record>, Vec<Record>),
		out: &mut Vec<u8>,
	) -> Step {
		self.count(response_code);
		let mut message =
			Message::new(request.metadata.id, MessageType::Response, request.metadata.op_code);
		message.metadata = Metadata::response_from_request(&request.metadata);
		message.metadata.authoritative = authoritative;
		message.metadata.response_code = response_code;
		message.queries.push(request.query);
		message.answers = answers;
		message.authorities = authorities;
		message.additionals = additionals;
		if request.edns {
			message.edns = Some(self.edns.clone());
		}
		self.encode(message, request.limit, out)
	}

	/// Write a non-authoritative response without records to a well-formed query.
	fn error(&self, request: Request, response_code: ResponseCode, out: &mut Vec<u8>) -> Step {
		self.respond(request, response_code, false, Vec::new(), Vec::new(), out)
	}

	/// Write a response with the header only (the query could not be read, or is not a query we
	/// answer).
	fn header_reply(
		&self,
		query: &Metadata,
		response_code: ResponseCode,
		out: &mut Vec<u8>,
	) -> Step {
		let mut message = Message::new(query.id, MessageType::Response, query.op_code);
		message.metadata = Metadata::response_from_request(query);
		message.metadata.response_code = response_code;
		self.encode(message, PLAIN_UDP_PAYLOAD, out)
	}

	fn count(&self, response_code: ResponseCode) {
		let counter = match response_code {
			ResponseCode::NXDomain => &self.stats.nxdomain,
			ResponseCode::Refused => &self.stats.refused,
			ResponseCode::FormErr => &self.stats.formerr,
			ResponseCode::ServFail => &self.stats.servfail,
			ResponseCode::NotImp => &self.stats.notimp,
			_ => return,
		};
		bump(counter);
	}

	/// Encode `message` to `out` within `limit` bytes: over it, again with `TC` and without
	/// records; if it cannot be encoded, as `SERVFAIL` without records.
	fn encode(&self, mut message: Message, limit: usize, out: &mut Vec<u8>) -> Step {
		let mut encoded = emit(&message, out);
		if encoded && out.len() > limit && !message.additionals.is_empty() {
			// The additional section is a courtesy: dropped first, without TC (RFC 2181 §9).
			message.additionals.clear();
			encoded = emit(&message, out);
		}
		if encoded && out.len() <= limit {
			bump(&self.stats.answered);
			return Step::Reply;
		}
		if encoded {
			bump(&self.stats.truncated);
			message.metadata.truncation = true;
		} else {
			log::warn!(target: LOG_TARGET, "cannot encode a response: {message}");
			bump(&self.stats.servfail);
			message.metadata.response_code = ResponseCode::ServFail;
			message.metadata.authoritative = false;
		}
		message.answers.clear();
		message.authorities.clear();
		message.additionals.clear();
		if emit(&message, out) && out.len() <= limit {
			bump(&self.stats.answered);
			Step::Reply
		} else {
			bump(&self.stats.dropped);
			Step::Drop
		}
	}
}

/// Encode `message` to `out` (cleared first); whether it could be.
fn emit(message: &Message, out: &mut Vec<u8>) -> bool {
	out.clear();
	let mut encoder = BinEncoder::new(out);
	message.emit(&mut encoder).is_ok()
}

/// Read a host name from the configuration.
fn config_name(what: &str, text: &str) -> io::Result<Name> {
	let mut name = Name::from_ascii(text).map_err(|error| {
		io::Error::new(io::ErrorKind::InvalidInput, format!("invalid DNS {what} `{text}`: {error}"))
	})?;
	name.set_fqdn(true);
	Ok(name)
}
