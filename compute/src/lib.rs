//! # Commons compute
//!
//! A compute node, and what it does with a task once it has the app's module and the dataset:
//! run the module deterministically under WASI ([`execute`]) and digest what it wrote
//! ([`digest`]). [`run_task`] is that path as the protocol defines it, from the deal's params
//! and the dataset's bytes to the digest a worker votes with; every worker and every check of a
//! worker's result goes through it.
//!
//! Every worker of a task must get the same output from the same inputs, or the vote cannot
//! agree. So the module sees nothing of the machine it runs on: its arguments are the request's
//! params, `/in` holds the dataset (read-only) and `/out` is where it writes its result; its
//! clocks stand still at the Unix epoch; its "random" bytes come from the task's seed; it has no
//! network and no environment variables. Floating-point NaNs are made canonical wherever their
//! bits can be seen, and relaxed SIMD is deterministic, so that every CPU computes the same bits. Its work is bounded by fuel (one
//! unit per instruction, roughly) and its memory by a cap, both from the task's category.
//!
//! The result digest is the sha256 of the output file, or, when the module wrote several files,
//! the sha256 of the concatenation of each file's sha256, files taken in the order of their
//! paths. It is defined in `commons-client`, since requesters check it too.
//!
//! The compute node (the `commons-compute` binary) is built from the modules here:
//! [`options`] (its command line), [`digests`] (what it computed, across restarts), [`worker`]
//! (the state machine from an assignment to a vote and a reveal), [`chain`] and [`computer`]
//! (the worker's real chain and computer), [`upkeep`] (its pool membership, heartbeat and
//! enclave registration), [`tee`] (the enclave's keys, and the simulated enclave), [`evidence`]
//! (quotes from SGX under Gramine or from a TDX guest), [`endpoint`] (pushed tasks in, results
//! out) and [`metrics`]. [`container`] runs an app that is an OCI image through a container
//! engine instead ([`run_image_task`]), for a node given one.

mod canonical_nans;
pub mod chain;
pub mod computer;
pub mod container;
pub mod digests;
pub mod endpoint;
pub mod evidence;
pub mod example_apps;
mod executor;
pub mod metrics;
pub mod options;
pub mod task_runner;
pub mod tee;
pub mod upkeep;
pub mod worker;

pub use commons_client::digest::{digest, DigestError};
pub use executor::{execute, ExecutionError, Job, Limits, Outcome};
pub use task_runner::{run_image_task, run_task, ImageTaskInputs, RunError, TaskInputs};

/// The target of the compute node's log records.
pub const LOG_TARGET: &str = "commons::compute";
