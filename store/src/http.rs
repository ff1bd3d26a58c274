//! A small blocking HTTP/1.1 client over plain TCP: the client's JSON-RPC calls and slot
//! uploads, a gateway's slot downloads. One request per connection (`Connection: close`),
//! bounded answers, timeouts on every read and write. `https://` is not spoken (put a
//! TLS-terminating proxy in front, or use the node's plain endpoint on a trusted network).

use std::{
	fmt,
	io::{self, Read, Write},
	net::{TcpStream, ToSocketAddrs},
	time::Duration,
};

/// The longest answer read.
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;
/// Connection, read and write timeout.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// An `http://host[:port][/path]` URL, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
	/// `host:port` to connect to.
	pub authority: String,
	/// The host as the `Host` header gives it.
	pub host: String,
	/// The path prefix (no trailing `/`), possibly empty.
	pub path: String,
}

impl Url {
	/// Parses an `http://` URL (`ws://` is taken as `http://`: a node serves both on its RPC
	/// port).
	pub fn parse(text: &str) -> Result<Url, String> {
		let rest = text
			.strip_prefix("http://")
			.or_else(|| text.strip_prefix("ws://"))
			.ok_or_else(|| format!("{text}: only http:// (or ws://) URLs are supported"))?;
		let (authority, path) = match rest.find('/') {
			Some(at) => (&rest[..at], rest[at..].trim_end_matches('/')),
			None => (rest, ""),
		};
		if authority.is_empty() || authority.contains('@') {
			return Err(format!("{text}: no host (or user information, which is refused)"));
		}
		let has_port = match authority.rfind(']') {
			Some(bracket) => authority[bracket..].contains(':'),
			None => authority.contains(':'),
		};
		let connect = if has_port { authority.to_string() } else { format!("{authority}:80") };
		Ok(Url { authority: connect, host: authority.to_string(), path: path.to_string() })
	}
}

/// Why an exchange failed.
#[derive(Debug)]
pub enum HttpError {
	/// Connecting, sending or receiving failed.
	Io(String, io::Error),
	/// The answer is not HTTP/1.x or is too long.
	Malformed(String),
}

impl fmt::Display for HttpError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			HttpError::Io(url, error) => write!(f, "{url}: {error}"),
			HttpError::Malformed(url) => write!(f, "{url}: malformed or oversized HTTP answer"),
		}
	}
}

impl std::error::Error for HttpError {}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
	/// The status code.
	pub status: u16,
	/// The body (de-chunked).
	pub body: Vec<u8>,
}

impl Answer {
	/// The body as text, for error messages.
	pub fn text(&self) -> String {
		String::from_utf8_lossy(&self.body).trim().to_string()
	}
}

fn connect(url: &Url, shown: &str) -> Result<TcpStream, HttpError> {
	let io = |e| HttpError::Io(shown.to_string(), e);
	let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
	for addr in url.authority.to_socket_addrs().map_err(io)? {
		match TcpStream::connect_timeout(&addr, TIMEOUT) {
			Ok(stream) => {
				stream.set_read_timeout(Some(TIMEOUT)).map_err(io)?;
				stream.set_write_timeout(Some(TIMEOUT)).map_err(io)?;
				return Ok(stream);
			},
			Err(error) => last = error,
		}
	}
	Err(io(last))
}

/// Sends `method path` with `body` (its length given, streamed from the reader) and reads the
/// answer. `progress` is called with the bytes of the body sent so far.
pub fn request(
	url: &Url,
	method: &str,
	path: &str,
	content_type: &str,
	body_len: u64,
	mut body: impl Read,
	progress: &mut dyn FnMut(u64),
) -> Result<Answer, HttpError> {
	let shown = format!("http://{}{}{}", url.host, url.path, path);
	let io = |e| HttpError::Io(shown.clone(), e);
	let mut stream = connect(url, &shown)?;
	let target = format!("{}{path}", url.path);
	let target = if target.is_empty() { "/" } else { target.as_str() };
	let head = format!(
		"{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Type: {content_type}\r\nContent-Length: {body_len}\r\nConnection: close\r\n\r\n",
		url.host
	);
	stream.write_all(head.as_bytes()).map_err(io)?;
	let mut buffer = vec![0u8; 1 << 16];
	let mut sent = 0u64;
	while sent < body_len {
		let want = (buffer.len() as u64).min(body_len - sent) as usize;
		let n = body.read(&mut buffer[..want]).map_err(io)?;
		if n == 0 {
			return Err(io(io::ErrorKind::UnexpectedEof.into()));
		}
		if let Err(error) = stream.write_all(&buffer[..n]) {
			// The server may have answered early (a refusal) and closed: read its answer.
			if let Ok(answer) = read_answer(&mut stream, &shown) {
				return Ok(answer);
			}
			return Err(io(error));
		}
		sent += n as u64;
		progress(sent);
	}
	stream.flush().map_err(io)?;
	read_answer(&mut stream, &shown)
}

/// `GET path` expecting `200` and a body of exactly `len` bytes, handed to `sink` as it comes
/// (the body is never held whole: a slot can be gigabytes).
pub fn download(
	url: &Url,
	path: &str,
	len: u64,
	sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<(), HttpError> {
	get_body(
		url,
		path,
		&mut |length| match length {
			Some(found) if found == len => Ok(len),
			_ => Err(format!("not {len} bytes")),
		},
		sink,
	)
	.map(|_| ())
}

/// `GET path` expecting `200` and a `Content-Length` of at most `max_len`, the body handed to
/// `sink` as it comes; returns the body's length. A longer or unannounced body, or any other
/// status, is an error (its status and reason in the message).
pub fn download_bounded(
	url: &Url,
	path: &str,
	max_len: u64,
	sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<u64, HttpError> {
	get_body(
		url,
		path,
		&mut |length| match length {
			Some(found) if found <= max_len => Ok(found),
			Some(found) => Err(format!("{found} bytes, more than the {max_len} allowed")),
			None => Err("no Content-Length".into()),
		},
		sink,
	)
}

/// `GET path`: a `200` whose `Content-Length` (`None` without one) `accept` takes gives the
/// length streamed to `sink`.
fn get_body(
	url: &Url,
	path: &str,
	accept: &mut dyn FnMut(Option<u64>) -> Result<u64, String>,
	sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<u64, HttpError> {
	let shown = format!("http://{}{}{}", url.host, url.path, path);
	let io = |e| HttpError::Io(shown.clone(), e);
	let mut stream = connect(url, &shown)?;
	let head = format!(
		"GET {}{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
		url.path, url.host
	);
	stream.write_all(head.as_bytes()).map_err(io)?;
	// The head, byte by byte up to its end (bounded), then the body streamed.
	let mut head = Vec::with_capacity(256);
	let mut byte = [0u8];
	while !head.ends_with(b"\r\n\r\n") {
		if head.len() > 16 << 10 || stream.read(&mut byte).map_err(io)? == 0 {
			return Err(HttpError::Malformed(shown));
		}
		head.push(byte[0]);
	}
	let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
	let status = text
		.strip_prefix("http/1.")
		.and_then(|rest| rest.split(' ').nth(1))
		.and_then(|code| code.parse::<u16>().ok())
		.ok_or_else(|| HttpError::Malformed(shown.clone()))?;
	if status != 200 {
		// The reason a gateway gives is short text: read a little of it for the message.
		let mut reason = vec![0u8; 512];
		let n = stream.read(&mut reason).unwrap_or(0);
		let reason = String::from_utf8_lossy(&reason[..n]).trim().to_string();
		return Err(io(io::Error::other(format!("HTTP {status} {reason}"))));
	}
	let length = text
		.split("\r\n")
		.find_map(|line| line.strip_prefix("content-length:"))
		.map(|value| value.trim().parse::<u64>().map_err(|_| HttpError::Malformed(shown.clone())))
		.transpose()?;
	let len = accept(length).map_err(|why| io(io::Error::other(why)))?;
	let mut buffer = vec![0u8; 1 << 16];
	let mut remaining = len;
	while remaining > 0 {
		let want = (buffer.len() as u64).min(remaining) as usize;
		let n = stream.read(&mut buffer[..want]).map_err(io)?;
		if n == 0 {
			return Err(io(io::ErrorKind::UnexpectedEof.into()));
		}
		sink(&buffer[..n]).map_err(io)?;
		remaining -= n as u64;
	}
	Ok(len)
}

fn read_answer(stream: &mut TcpStream, shown: &str) -> Result<Answer, HttpError> {
	let mut raw = Vec::new();
	stream
		.take(MAX_RESPONSE_BYTES as u64 + 1)
		.read_to_end(&mut raw)
		.map_err(|e| HttpError::Io(shown.to_string(), e))?;
	parse_answer(&raw).ok_or_else(|| HttpError::Malformed(shown.to_string()))
}

/// Parses a whole answer (head and body until the connection closed).
fn parse_answer(raw: &[u8]) -> Option<Answer> {
	if raw.len() > MAX_RESPONSE_BYTES {
		return None;
	}
	let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
	let head = std::str::from_utf8(&raw[..end]).ok()?;
	let mut lines = head.split("\r\n");
	let status_line = lines.next()?;
	let mut parts = status_line.split(' ');
	if !parts.next()?.starts_with("HTTP/1.") {
		return None;
	}
	let status = parts.next()?.parse().ok()?;
	let mut chunked = false;
	let mut length = None;
	for line in lines {
		let (name, value) = line.split_once(':')?;
		let value = value.trim();
		if name.eq_ignore_ascii_case("transfer-encoding") {
			chunked = value.eq_ignore_ascii_case("chunked");
		} else if name.eq_ignore_ascii_case("content-length") {
			length = Some(value.parse::<usize>().ok()?);
		}
	}
	let rest = &raw[end + 4..];
	let body = if chunked {
		dechunk(rest)?
	} else if let Some(length) = length {
		rest.get(..length)?.to_vec()
	} else {
		rest.to_vec()
	};
	Some(Answer { status, body })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
	let mut body = Vec::new();
	loop {
		let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
		let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
		let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
		rest = &rest[line_end + 2..];
		if size == 0 {
			return Some(body);
		}
		body.extend_from_slice(rest.get(..size)?);
		rest = rest.get(size + 2..)?;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn urls() {
		let url = Url::parse("http://127.0.0.1:9944").unwrap();
		assert_eq!((url.authority.as_str(), url.path.as_str()), ("127.0.0.1:9944", ""));
		let url = Url::parse("ws://node.example/rpc/").unwrap();
		assert_eq!(
			(url.authority.as_str(), url.host.as_str(), url.path.as_str()),
			("node.example:80", "node.example", "/rpc")
		);
		let url = Url::parse("http://[::1]:9955").unwrap();
		assert_eq!(url.authority, "[::1]:9955");
		assert_eq!(Url::parse("http://[::1]").unwrap().authority, "[::1]:80");
		assert!(Url::parse("https://node.example").is_err());
		assert!(Url::parse("http://").is_err());
		assert!(Url::parse("http://user@host").is_err());
	}

	/// A one-shot server on loopback: answers `answer` and returns the request it read.
	fn serve_once(
		answer: &'static [u8],
	) -> (std::net::SocketAddr, std::thread::JoinHandle<Vec<u8>>) {
		let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let addr = listener.local_addr().unwrap();
		let handle = std::thread::spawn(move || {
			let (mut stream, _) = listener.accept().unwrap();
			let mut request = Vec::new();
			let mut buffer = [0u8; 4096];
			loop {
				let n = stream.read(&mut buffer).unwrap();
				request.extend_from_slice(&buffer[..n]);
				let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
				let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
				let len = head
					.lines()
					.find_map(|l| {
						l.strip_prefix("content-length: ").map(|v| v.parse::<usize>().unwrap())
					})
					.unwrap_or(0);
				if request.len() >= end + 4 + len || n == 0 {
					break;
				}
			}
			stream.write_all(answer).unwrap();
			request
		});
		(addr, handle)
	}

	#[test]
	fn requests_name_a_target_and_carry_their_body() {
		let (addr, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
		let url = Url::parse(&format!("http://{addr}")).unwrap();
		let answer =
			request(&url, "POST", "", "application/json", 4, &b"{}{}"[..], &mut |_| {}).unwrap();
		assert_eq!((answer.status, answer.body.as_slice()), (200, &b"ok"[..]));
		let sent = String::from_utf8(server.join().unwrap()).unwrap();
		assert!(sent.starts_with("POST / HTTP/1.1\r\n"), "{sent}");
		assert!(sent.ends_with("\r\n\r\n{}{}"), "{sent}");
	}

	#[test]
	fn downloads_stream_exactly_the_expected_length() {
		let (addr, server) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
		let url = Url::parse(&format!("http://{addr}/base")).unwrap();
		let mut got = Vec::new();
		download(&url, "/x", 5, &mut |chunk| {
			got.extend_from_slice(chunk);
			Ok(())
		})
		.unwrap();
		assert_eq!(got, b"hello");
		assert!(String::from_utf8(server.join().unwrap())
			.unwrap()
			.starts_with("GET /base/x HTTP/1.1"));
		// Another length than expected, or another status: refused.
		let (addr, _) = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nhell");
		let url = Url::parse(&format!("http://{addr}")).unwrap();
		assert!(download(&url, "/x", 5, &mut |_| Ok(())).is_err());
		let (addr, _) = serve_once(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		let url = Url::parse(&format!("http://{addr}")).unwrap();
		assert!(download(&url, "/x", 5, &mut |_| Ok(())).is_err());
	}

	#[test]
	fn answers() {
		let plain =
			parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more").unwrap();
		assert_eq!((plain.status, plain.body.as_slice()), (200, &b"hello"[..]));
		let chunked = parse_answer(
			b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n!\r\n0\r\n\r\n",
		)
		.unwrap();
		assert_eq!((chunked.status, chunked.body.as_slice()), (201, &b"hello!"[..]));
		let to_close = parse_answer(b"HTTP/1.0 404 Not Found\r\n\r\ngone").unwrap();
		assert_eq!((to_close.status, to_close.text().as_str()), (404, "gone"));
		assert!(parse_answer(b"SPDY 200\r\n\r\n").is_none());
		assert!(parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_none());
		assert!(
			parse_answer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_none()
		);
	}
}
