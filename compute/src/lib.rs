//! # Commons compute
//!
//! What a compute node does with a task once it has the app's module and the dataset: run the
//! module deterministically under WASI ([`execute`]) and digest what it wrote ([`digest`]).
//!
//! Every worker of a task must get the same output from the same inputs, or the vote cannot
//! agree. So the module sees nothing of the machine it runs on: its arguments are the request's
//! params, `/in` holds the dataset (read-only) and `/out` is where it writes its result; its
//! clocks stand still at the Unix epoch; its "random" bytes come from the task's seed; it has no
//! network and no environment variables. Floating-point NaNs are canonicalized and relaxed SIMD
//! is deterministic, so that every CPU computes the same bits. Its work is bounded by fuel (one
//! unit per instruction, roughly) and its memory by a cap, both from the task's category.
//!
//! The result digest is the sha256 of the output file, or, when the module wrote several files,
//! the sha256 of the concatenation of each file's sha256, files taken in the order of their
//! paths.

pub mod endpoint;
pub mod example_apps;
mod executor;
pub mod metrics;
pub mod tee;

pub use commons_client::digest::{digest, DigestError};
pub use executor::{execute, ExecutionError, Job, Limits, Outcome};
