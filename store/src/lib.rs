//! The storage data plane of the DSYNC network, shared by the node (providers and gateways)
//! and the `dsync` client: everything between a file on a client's disk and the bytes a
//! provider keeps and proves.
//!
//! 1. [`car`]: content travels and is kept as a CARv1 file: a header naming the root CID, then
//!    every block of the UnixFS DAG once, each checked against its CID when read. The order's
//!    `size` is the CAR's length, its `cid` the DAG's root.
//! 2. [`coder`]: the CAR is erasure-coded over the order's slots exactly as
//!    [`dsync_primitives::storage::layout`] says (segments of `data_shards` MiB,
//!    Reed-Solomon parity, plain copies with one data shard); any `data_shards` slots give the
//!    CAR back.
//! 3. [`slot`]: a provider keeps each slot as a file beside the upper levels of its piece tree
//!    (one node per 16 pieces, 1.6 % of the slot), so it proves any challenged piece with one
//!    4 KiB read and a few 32-byte reads, in bounded memory whatever the slot's size.
//!
//! 4. [`dag`]: reading UnixFS DAGs (paths, file ranges, sub-DAGs as CARs): what a gateway
//!    answers with.
//! 5. [`http`]: a small blocking HTTP/1.1 client (the client's RPC and uploads, a gateway's
//!    slot downloads).
//!
//! Nothing here panics on any input: malformed bytes, short files and wrong lengths are
//! errors that say what is wrong.

pub mod car;
pub mod coder;
pub mod dag;
pub mod http;
pub mod slot;
