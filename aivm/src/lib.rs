//! # aivm: the DSYNC inference server
//!
//! A GPU service node runs `aivm` beside `dsync-node`. The node's off-chain worker posts the
//! inputs of its assigned jobs to `aivm` and commits to the results on chain; clients and tools
//! can use the same HTTP/JSON API directly.
//!
//! ## Overview
//!
//! - [`engine`]: the executor. Each model is prepared once for the fastest SIMD back-end of the
//!   machine (AVX-512 VNNI, AVX2 or portable, chosen at run time) and runs batches on all
//!   cores. Every back-end is bit-identical to `dsync_aivm_core`'s reference executor, which
//!   is what the runtime re-executes in a dispute: an `aivm` result always matches the chain's.
//! - [`server`]: the HTTP server ([`server::serve`]): routes, dynamic batching of small
//!   requests into engine runs, bounded queues with back-pressure (`503` + `Retry-After`),
//!   request size limits, clear errors and Prometheus metrics.
//! - [`api`]: the request and response formats (JSON and a binary batch format).
//!
//! ## HTTP API
//!
//! | method and path | what |
//! | --- | --- |
//! | `GET /health` | `{"status":"ok","backend":"avx512-vnni","threads":2,"models":1,"queued_items":0}` |
//! | `GET /v1/models` | the loaded models: id, name, shapes, layers, weights |
//! | `POST /v1/infer` | JSON: `{"model":"digits" or "0x<id>","inputs":[[…],…]}` (a batch) or `…"input":[…]` (one item); add `"hashes":true` for each item's result hash and `"merkle":true` for the batch's Merkle root |
//! | `POST /v1/infer/binary?model=…` | the batch as raw bytes (`items × input_len` `i8`), answered with raw little-endian `i32` (`items × output_len`); `&merkle=1` adds an `X-Aivm-Merkle-Root` header |
//! | `GET /metrics` | Prometheus text format |
//!
//! Errors are `{"error":{"code":"…","message":"…"}}` with a 4xx status for the caller's
//! mistakes (`unknown_model` 404, `bad_request` 400, `wrong_shape` 422, `too_large` 413,
//! `unsupported_media_type` 415, `method_not_allowed` 405, `not_found` 404) and `503`
//! (`overloaded`, with `Retry-After: 1`) when the queue is full.
//!
//! The node's GPU worker uses the binary endpoint (`POST /v1/infer/binary`); that contract is
//! specified in `pallet-gpu-jobs`'s crate docs ("The `aivm` HTTP contract"). The JSON API is for
//! people and other clients.

#![deny(missing_docs)]

pub mod api;
pub mod engine;
pub mod metrics;
pub mod server;

pub use engine::{Backend, Engine, EngineError};
