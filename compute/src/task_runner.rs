//! The one path from a task's inputs to its result digest: [`run_task`] for an app that is a WASI
//! module, [`run_image_task`] for one that is an OCI image. Every worker of a task must produce
//! the same bits from the same inputs, or the vote cannot agree, so what this path does is part
//! of the protocol. Its rules:
//!
//! 1. **Arguments.** The deal's params bytes are read as UTF-8 (an invalid sequence becomes
//!    U+FFFD) and split on Unicode whitespace (`str::split_whitespace`): runs of whitespace
//!    separate arguments, and leading or trailing whitespace is ignored. There is no quoting. A
//!    module sees `app` as its first argument, then these; an image's entry point gets these.
//! 2. **Dataset.** The deal's dataset, decrypted if it is encrypted, is the file `dataset` of a
//!    directory mounted read-only at `/in`: the app reads `/in/dataset`. A deal without a
//!    dataset has no `/in`.
//! 3. **Output.** `/out` starts empty; what the app leaves there is its result.
//! 4. **Seed.** A module's random bytes derive from a 32-byte seed: the task's id. An image is
//!    given the same seed, in hex, as `COMMONS_TASK_SEED`, and must derive any randomness from it.
//! 5. **Limits.** A module's fuel and memory come from the deal's category:
//!    [`Limits::for_reference_time`], at [`Limits::FUEL_PER_SECOND`] per second of its reference
//!    time. Changing that rate changes which modules run out of fuel, so it splits the votes of
//!    workers that disagree on it. An image's container gets the same memory, one CPU and the
//!    reference time as wall time ([`ContainerLimits::for_reference_time`]).
//! 6. **Digest.** The result digest is [`digest`] of the output directory.
//!
//! Where the directories are on the worker's machine is not part of the protocol: the app sees
//! only `/in` and `/out`.

use std::{fmt, fs, path::Path};

use pallet_contribution::ResultDigest;

use crate::{
	container::{ContainerError, ContainerJob, ContainerLimits, Engine, Image},
	digest, execute, DigestError, ExecutionError, Job, Limits, Outcome,
};

/// What a task's run is made of: everything here is on chain or checked against it, so every
/// worker of the task runs with the same.
#[derive(Clone, Copy, Debug)]
pub struct TaskInputs<'a> {
	/// The app's module (checked against the app's checksum by the caller).
	pub module: &'a [u8],
	/// The deal's params, as stored on chain.
	pub params: &'a [u8],
	/// The dataset's bytes, decrypted, if the deal has one.
	pub dataset: Option<&'a [u8]>,
	/// The seed of the module's random bytes: the task's id.
	pub seed: [u8; 32],
	/// What the run may consume: from the category's reference time.
	pub limits: Limits,
}

/// What a task of an app that is an OCI image is run with: as [`TaskInputs`], the image in place
/// of the module and a container's limits in place of fuel.
#[derive(Clone, Copy, Debug)]
pub struct ImageTaskInputs<'a> {
	/// The app's image, by the digest the app records.
	pub image: &'a Image,
	/// The deal's params, as stored on chain.
	pub params: &'a [u8],
	/// The dataset's bytes, if the deal has one.
	pub dataset: Option<&'a [u8]>,
	/// The task's id, passed as `COMMONS_TASK_SEED`.
	pub seed: [u8; 32],
	/// What the container may use: from the category's reference time.
	pub limits: ContainerLimits,
}

/// Why a task's run gave no digest.
#[derive(Debug)]
pub enum RunError {
	/// The output directory or the dataset's file could not be written.
	Files(String),
	/// The module did not run to completion.
	Execution(ExecutionError),
	/// The image's container did not run to a successful exit.
	Container(ContainerError),
	/// Its output could not be digested: it wrote nothing, or it cannot be read.
	Digest(DigestError),
}

impl fmt::Display for RunError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			RunError::Files(why) => write!(f, "{why}"),
			RunError::Execution(error) => write!(f, "{error}"),
			RunError::Container(error) => write!(f, "{error}"),
			RunError::Digest(error) => write!(f, "{error}"),
		}
	}
}

impl std::error::Error for RunError {}

/// Runs `task` by the protocol's rules (see the module's documentation) and returns what the run
/// left besides its output, and the digest of its output.
///
/// `input_dir` is created to hold the dataset and removed when the run ends, whatever its
/// outcome, so that a decrypted dataset does not outlive it. `output_dir` is emptied (created if
/// missing) before the run and holds the module's output after it. It blocks until the module
/// ends.
pub fn run_task(
	task: &TaskInputs,
	input_dir: &Path,
	output_dir: &Path,
) -> Result<(Outcome, ResultDigest), RunError> {
	let _input_removed = prepare_directories(task.dataset, input_dir, output_dir)?;
	let args = arguments(task.params);
	let job = Job {
		module: task.module,
		args: &args,
		input: task.dataset.is_some().then_some(input_dir),
		output: output_dir,
		seed: task.seed,
		limits: task.limits,
	};
	let outcome = execute(&job).map_err(RunError::Execution)?;
	let output_digest = digest(output_dir).map_err(RunError::Digest)?;
	Ok((outcome, ResultDigest::from(output_digest)))
}

/// Runs `task`'s image in a container of `engine` by the protocol's rules (see the module's
/// documentation) and returns the digest of its output. The image is pulled first if the engine
/// does not hold it by its digest.
///
/// The container writes into `staging_dir`, which no one serves; only an output that passed the
/// runner's checks replaces `output_dir`, so nothing the app left is served before it is
/// checked, or after it failed. `input_dir` is as for [`run_task`].
pub async fn run_image_task(
	engine: &Engine,
	task: &ImageTaskInputs<'_>,
	input_dir: &Path,
	staging_dir: &Path,
	output_dir: &Path,
) -> Result<ResultDigest, RunError> {
	let _input_removed = prepare_directories(task.dataset, input_dir, staging_dir)?;
	let _staging_removed = RemovedOnDrop(staging_dir);
	let job = ContainerJob {
		image: task.image,
		args: arguments(task.params),
		input_dir: task.dataset.is_some().then_some(input_dir),
		output_dir: staging_dir,
		seed: task.seed,
		limits: task.limits,
	};
	engine.run(&job).await.map_err(RunError::Container)?;
	// Digested where it was checked, and published only with its digest: a failed output is
	// never served. Digesting reads every output file: off the async threads.
	let staged = staging_dir.to_owned();
	let output_digest = tokio::task::spawn_blocking(move || digest(&staged))
		.await
		.map_err(|error| RunError::Files(format!("digesting panicked: {error}")))?
		.map_err(RunError::Digest)?;
	remove_if_there(output_dir)?;
	if let Some(parent) = output_dir.parent() {
		fs::create_dir_all(parent).map_err(|error| {
			RunError::Files(format!("cannot create {}: {error}", parent.display()))
		})?;
	}
	fs::rename(staging_dir, output_dir).map_err(|error| {
		RunError::Files(format!("cannot move the output to {}: {error}", output_dir.display()))
	})?;
	Ok(ResultDigest::from(output_digest))
}

/// Empties `output_dir` (creating it if missing) and writes `dataset`, if any, as `dataset` in
/// `input_dir`, which is removed when the returned guard drops, so that a decrypted dataset
/// does not outlive the run.
fn prepare_directories<'a>(
	dataset: Option<&[u8]>,
	input_dir: &'a Path,
	output_dir: &Path,
) -> Result<RemovedOnDrop<'a>, RunError> {
	// Leftovers of an earlier try would enter the digest.
	remove_if_there(output_dir)?;
	fs::create_dir_all(output_dir).map_err(|error| {
		RunError::Files(format!("cannot create {}: {error}", output_dir.display()))
	})?;
	let input_removed = RemovedOnDrop(input_dir);
	if let Some(dataset) = dataset {
		fs::create_dir_all(input_dir)
			.and_then(|()| fs::write(input_dir.join("dataset"), dataset))
			.map_err(|error| RunError::Files(format!("cannot write the dataset: {error}")))?;
	}
	Ok(input_removed)
}

/// Removes `dir` and all it holds, if it is there; `cannot clear <dir>: <why>` if it stays.
pub fn remove_dir_if_there(dir: &Path) -> Result<(), String> {
	match fs::remove_dir_all(dir) {
		Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
			Err(format!("cannot clear {}: {error}", dir.display()))
		}
		_ => Ok(()),
	}
}

/// [`remove_dir_if_there`], failing a run.
fn remove_if_there(dir: &Path) -> Result<(), RunError> {
	remove_dir_if_there(dir).map_err(RunError::Files)
}

/// The app's arguments from the deal's params: rule 1 of the module's documentation.
fn arguments(params: &[u8]) -> Vec<String> {
	String::from_utf8_lossy(params).split_whitespace().map(str::to_owned).collect()
}

/// Removes a directory when dropped, even when the run panics.
pub(crate) struct RemovedOnDrop<'a>(pub(crate) &'a Path);

impl Drop for RemovedOnDrop<'_> {
	fn drop(&mut self) {
		let _ = fs::remove_dir_all(self.0);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn params_split_on_any_whitespace_without_quoting() {
		assert_eq!(arguments(b" --samples  10\t--seed\n7 "), ["--samples", "10", "--seed", "7"]);
		assert_eq!(arguments(b"--name \"a b\""), ["--name", "\"a", "b\""]);
		assert_eq!(arguments(b"--x \xff"), ["--x", "\u{fffd}"]);
		assert!(arguments(b"").is_empty());
	}

	#[test]
	fn the_dataset_does_not_outlive_a_failed_run_and_old_output_is_cleared() {
		let dir = tempfile::tempdir().unwrap();
		let (input, output) = (dir.path().join("in"), dir.path().join("out"));
		fs::create_dir_all(&output).unwrap();
		fs::write(output.join("left-over"), b"from an earlier try").unwrap();
		let task = TaskInputs {
			module: b"not wasm",
			params: b"",
			dataset: Some(b"secret rows"),
			seed: [0; 32],
			limits: Limits::for_reference_time(1),
		};
		let result = run_task(&task, &input, &output);
		assert!(
			matches!(result, Err(RunError::Execution(ExecutionError::InvalidModule(_)))),
			"{result:?}"
		);
		assert!(!input.exists(), "the dataset was removed");
		assert_eq!(fs::read_dir(&output).unwrap().count(), 0, "the output was emptied");
	}
}
