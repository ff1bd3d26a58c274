//! The storage service's shared definitions: content identifiers compatible with IPFS
//! ([`cid`]), UnixFS DAGs as IPFS builds them ([`unixfs`]), how content is coded over an
//! order's slots ([`layout`]), the storage proofs the runtime checks and providers answer
//! ([`pieces`]) and the runtime API providers' nodes read their work from ([`api`]).
//!
//! Content is named by its IPFS CID (SHA2-256 over UnixFS blocks), so any IPFS client can ask
//! for it and verify what it gets; what each provider keeps is committed to on chain by a
//! separate, cheaper Merkle root over small pieces (Blake2-256), which the chain challenges.

pub mod api;
pub mod cid;
pub mod layout;
pub mod pieces;
pub mod unixfs;

pub use api::{OrderPhase, OrderView, SlotPhase, SlotTask, SlotView, SlotWork};
pub use cid::{Cid, CidError, Codec};
pub use pieces::{verify_piece, PieceProof, PieceProofError, PIECE_SIZE};
pub use unixfs::{FileBuilder, Link, Profile, UnixFsError};
