//! # Commons client
//!
//! Reads a node's chain and submits transactions over JSON-RPC, with the runtime's own types:
//! nothing is encoded by hand. Used by the compute node, the command line and the end-to-end
//! tests.
//!
//! - [`Chain`] is a node's JSON-RPC endpoint: blocks, storage, runtime API calls and
//!   submissions (`chain.rs`); its typed readers of the chain's state, `chain.task(id)`,
//!   `chain.deal(id)`, `chain.enclave(worker)`, … (`reads.rs`); and signing a call and waiting
//!   for its outcome, `chain.submit_and_wait(call, signer)` (`submission.rs`), following a
//!   transaction to a finalized block (`watch.rs`).
//! - [`ClientError`] is what can go wrong, a runtime error included, typed ([`error`]).
//! - [`follow`] follows the chain block by block, from where the last run stopped.
//! - [`market`] reads the published orders and picks the cheapest compatible offers.
//! - [`fetch`] reads what the registry and the workers point at; [`digest`] is how a task's
//!   output is digested, by the workers that vote and by the requester who checks it.
//! - [`confidential`] encrypts datasets and seals their keys to enclaves, and seals confidential
//!   tasks' results to their beneficiaries' result keys; [`key_service`] is the dataset owner's
//!   service that releases dataset keys.
//! - [`keys`] is where the tools get the key they sign with (`--key`, a key file or a
//!   Polkadot-JS export, `COMMONS_KEY`, a prompt).
//! - [`amount`] reads amounts written in CMN or units and writes them in CMN for people.
//! - [`service`] is what the long-running programs share: logs, stopping on SIGTERM, atomic
//!   state files.

pub mod amount;
mod chain;
pub mod confidential;
pub mod digest;
pub mod dry_run;
pub mod error;
pub mod fetch;
pub mod follow;
pub mod image;
pub mod key_service;
pub mod keys;
pub mod market;
pub mod measurement;
mod reads;
pub mod service;
mod submission;
mod watch;

pub use chain::{Chain, RuntimeVersionSummary};
pub use error::{describe, ClientError, DispatchFailure};
pub use follow::{Cursor, Follower};
pub use jsonrpsee::{core::params::ArrayParams, rpc_params};
pub use reads::EventRecords;
pub use submission::{Included, Signer};
