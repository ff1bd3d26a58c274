//! Batched UDP receive and send on Linux: one `recvmmsg` takes every queued query (up to
//! [`BATCH`]) and one `sendmmsg` sends their answers, instead of a system call per datagram.
//! Per-packet system-call cost is what bounded the server (over 90 % of a UDP worker's time was
//! in the kernel's `recvfrom` / `sendto`); NSD batches the same way.
//!
//! The receive blocks until the first datagram arrives (or the socket's read timeout passes),
//! then takes only what is already queued (`MSG_WAITFORONE`): a lone query is answered as soon
//! as it arrives, a flood is answered in batches.

use std::{
	io, mem,
	net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6},
	os::fd::RawFd,
	ptr,
};

/// Most datagrams one system call receives or sends.
pub(super) const BATCH: usize = 32;

/// The queries of one receive: their bytes and their senders' addresses, kept as the kernel gave
/// them so the answers go back without converting addresses again.
pub(super) struct Batch {
	buffers: Vec<Vec<u8>>,
	lens: [usize; BATCH],
	addrs: [libc::sockaddr_storage; BATCH],
	addr_lens: [libc::socklen_t; BATCH],
	received: usize,
}

impl Batch {
	/// A batch whose datagrams are cut at `max_len` bytes (as `recv_from` into a buffer of that
	/// length does).
	pub(super) fn new(max_len: usize) -> Self {
		Self {
			buffers: (0..BATCH).map(|_| vec![0; max_len]).collect(),
			lens: [0; BATCH],
			// SAFETY: `sockaddr_storage` is plain data; all zeroes is a valid (unspecified) value.
			addrs: unsafe { mem::zeroed() },
			addr_lens: [0; BATCH],
			received: 0,
		}
	}

	/// Wait for at least one datagram on `fd`, then take every queued one (up to [`BATCH`]).
	/// Returns how many were received; the socket's read timeout ends the wait with
	/// `WouldBlock`.
	pub(super) fn receive(&mut self, fd: RawFd) -> io::Result<usize> {
		self.received = 0;
		// SAFETY: plain C structures, all zeroes is valid; the pointers set below stay valid
		// for the call (they point into `self`, borrowed mutably, and this stack frame).
		let mut iovecs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
		let mut headers: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
		for (i, (iovec, header)) in iovecs.iter_mut().zip(headers.iter_mut()).enumerate() {
			iovec.iov_base = self.buffers[i].as_mut_ptr().cast();
			iovec.iov_len = self.buffers[i].len();
			header.msg_hdr.msg_name = ptr::addr_of_mut!(self.addrs[i]).cast();
			header.msg_hdr.msg_namelen =
				mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
			header.msg_hdr.msg_iov = iovec;
			header.msg_hdr.msg_iovlen = 1;
		}
		// SAFETY: `headers` holds BATCH initialised message headers whose buffers and address
		// storage are valid and writable for their stated lengths.
		let received = unsafe {
			libc::recvmmsg(
				fd,
				headers.as_mut_ptr(),
				BATCH as libc::c_uint,
				libc::MSG_WAITFORONE,
				ptr::null_mut(),
			)
		};
		if received < 0 {
			return Err(io::Error::last_os_error());
		}
		let received = (received as usize).min(BATCH);
		for (i, header) in headers.iter().take(received).enumerate() {
			self.lens[i] = (header.msg_len as usize).min(self.buffers[i].len());
			self.addr_lens[i] = header.msg_hdr.msg_namelen;
		}
		self.received = received;
		Ok(received)
	}

	/// Query `i` of the last receive and its sender (`None` past the last one, or for a sender
	/// address that is neither IPv4 nor IPv6).
	pub(super) fn query(&self, i: usize) -> Option<(&[u8], SocketAddr)> {
		if i >= self.received {
			return None;
		}
		let peer = socket_addr(&self.addrs[i], self.addr_lens[i])?;
		Some((self.buffers[i].get(..self.lens[i])?, peer))
	}

	/// Send each `(query index, response)` of `replies` to that query's sender, in as few
	/// system calls as the kernel allows. A datagram the kernel refuses (the error of a send is
	/// reported for its first message) is skipped with `on_error`; the others are still sent.
	pub(super) fn send<'a>(
		&self,
		fd: RawFd,
		replies: impl IntoIterator<Item = (usize, &'a [u8])>,
		mut on_error: impl FnMut(SocketAddr, io::Error),
	) {
		// SAFETY: as in `receive`; the kernel only reads these buffers and addresses.
		let mut iovecs: [libc::iovec; BATCH] = unsafe { mem::zeroed() };
		let mut headers: [libc::mmsghdr; BATCH] = unsafe { mem::zeroed() };
		let mut targets = [0usize; BATCH];
		let mut filled = 0;
		for (query, response) in replies.into_iter().take(BATCH) {
			if query >= self.received {
				continue;
			}
			targets[filled] = query;
			iovecs[filled].iov_base = response.as_ptr() as *mut libc::c_void;
			iovecs[filled].iov_len = response.len();
			let header = &mut headers[filled].msg_hdr;
			header.msg_name = ptr::addr_of!(self.addrs[query]) as *mut libc::c_void;
			header.msg_namelen = self.addr_lens[query];
			header.msg_iov = ptr::addr_of_mut!(iovecs[filled]);
			header.msg_iovlen = 1;
			filled += 1;
		}
		let mut sent = 0;
		while sent < filled {
			// SAFETY: `headers[sent..filled]` are initialised and point at live buffers.
			let result = unsafe {
				libc::sendmmsg(
					fd,
					headers.as_mut_ptr().add(sent),
					(filled - sent) as libc::c_uint,
					0,
				)
			};
			if result > 0 {
				sent += result as usize;
				continue;
			}
			let error = io::Error::last_os_error();
			if error.kind() == io::ErrorKind::Interrupted {
				continue;
			}
			// The first unsent datagram failed: skip it, send the rest.
			let query = targets[sent];
			if let Some(peer) = socket_addr(&self.addrs[query], self.addr_lens[query]) {
				on_error(peer, error);
			}
			sent += 1;
		}
	}
}

/// The address in `storage` (of `len` bytes), if IPv4 or IPv6.
fn socket_addr(storage: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
	let len = len as usize;
	match libc::c_int::from(storage.ss_family) {
		libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
			// SAFETY: the family says the storage holds a `sockaddr_in`, and it is long enough.
			let addr =
				unsafe { &*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
			Some(SocketAddr::V4(SocketAddrV4::new(
				Ipv4Addr::from(addr.sin_addr.s_addr.to_ne_bytes()),
				u16::from_be(addr.sin_port),
			)))
		},
		libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
			// SAFETY: as above, for `sockaddr_in6`.
			let addr = unsafe {
				&*(storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
			};
			Some(SocketAddr::V6(SocketAddrV6::new(
				Ipv6Addr::from(addr.sin6_addr.s6_addr),
				u16::from_be(addr.sin6_port),
				addr.sin6_flowinfo,
				addr.sin6_scope_id,
			)))
		},
		_ => None,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{net::UdpSocket, os::fd::AsRawFd, time::Duration};

	/// Several queued datagrams from two senders come back in one receive, each with its
	/// sender; the answers go back to the right sender, in order.
	#[test]
	fn receives_and_answers_a_batch() {
		let server = UdpSocket::bind("127.0.0.1:0").unwrap();
		server.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
		let a = UdpSocket::bind("127.0.0.1:0").unwrap();
		let b = UdpSocket::bind("127.0.0.1:0").unwrap();
		for i in 0..5u8 {
			let client = if i % 2 == 0 { &a } else { &b };
			client.send_to(&[i; 3], server.local_addr().unwrap()).unwrap();
		}
		let mut batch = Batch::new(2);
		let mut got = Vec::new();
		while got.len() < 5 {
			let n = batch.receive(server.as_raw_fd()).unwrap();
			assert!(n >= 1);
			let mut replies = Vec::new();
			let answers: Vec<Vec<u8>> = (0..n)
				.map(|i| {
					let (query, peer) = batch.query(i).unwrap();
					// Cut at the batch's buffer length, as recv_from would.
					assert_eq!(query.len(), 2);
					got.push((query[0], peer));
					vec![query[0], 0xAA]
				})
				.collect();
			for (i, answer) in answers.iter().enumerate() {
				replies.push((i, answer.as_slice()));
			}
			batch.send(server.as_raw_fd(), replies, |peer, error| panic!("{peer}: {error}"));
		}
		assert!(batch.query(BATCH).is_none());
		for (byte, peer) in &got {
			let expected = if byte % 2 == 0 { a.local_addr() } else { b.local_addr() };
			assert_eq!(*peer, expected.unwrap());
		}
		a.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
		b.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
		let mut buffer = [0u8; 8];
		for expected in [0u8, 2, 4] {
			let (len, _) = a.recv_from(&mut buffer).unwrap();
			assert_eq!(&buffer[..len], &[expected, 0xAA]);
		}
		for expected in [1u8, 3] {
			let (len, _) = b.recv_from(&mut buffer).unwrap();
			assert_eq!(&buffer[..len], &[expected, 0xAA]);
		}
	}

	/// With nothing queued, the receive ends at the socket's read timeout.
	#[test]
	fn receive_times_out() {
		let server = UdpSocket::bind("127.0.0.1:0").unwrap();
		server.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
		let error = Batch::new(16).receive(server.as_raw_fd()).unwrap_err();
		assert!(matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut));
	}

	#[test]
	fn converts_ipv6_senders() {
		let Ok(server) = UdpSocket::bind("[::1]:0") else { return };
		server.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
		let client = UdpSocket::bind("[::1]:0").unwrap();
		client.send_to(b"q", server.local_addr().unwrap()).unwrap();
		let mut batch = Batch::new(16);
		assert_eq!(batch.receive(server.as_raw_fd()).unwrap(), 1);
		let (query, peer) = batch.query(0).unwrap();
		assert_eq!(query, b"q");
		assert_eq!(peer, client.local_addr().unwrap());
	}
}
