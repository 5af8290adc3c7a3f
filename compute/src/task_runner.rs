//! The one path from a task's inputs to its result digest, [`run_task`]. Every worker of a task
//! must produce the same bits from the same inputs, or the vote cannot agree, so what this path
//! does is part of the protocol. Its rules:
//!
//! 1. **Arguments.** The deal's params bytes are read as UTF-8 (an invalid sequence becomes
//!    U+FFFD) and split on Unicode whitespace (`str::split_whitespace`): runs of whitespace
//!    separate arguments, and leading or trailing whitespace is ignored. There is no quoting. The
//!    module sees `app` as its first argument, then these.
//! 2. **Dataset.** The deal's dataset, decrypted if it is encrypted, is the file `dataset` of a
//!    directory mounted read-only at `/in`: the module reads `/in/dataset`. A deal without a
//!    dataset has no `/in`.
//! 3. **Output.** `/out` starts empty; what the module leaves there is its result.
//! 4. **Seed.** The module's random bytes derive from a 32-byte seed: the task's id.
//! 5. **Limits.** Fuel and memory come from the deal's category:
//!    [`Limits::for_reference_time`], at [`Limits::FUEL_PER_SECOND`] per second of its reference
//!    time. Changing that rate changes which modules run out of fuel, so it splits the votes of
//!    workers that disagree on it.
//! 6. **Digest.** The result digest is [`digest`] of the output directory.
//!
//! Where the directories are on the worker's machine is not part of the protocol: the module
//! sees only `/in` and `/out`.

use std::{fmt, fs, path::Path};

use pallet_contribution::ResultDigest;

use crate::{digest, execute, DigestError, ExecutionError, Job, Limits, Outcome};

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

/// Why a task's run gave no digest.
#[derive(Debug)]
pub enum RunError {
	/// The output directory or the dataset's file could not be written.
	Files(String),
	/// The module did not run to completion.
	Execution(ExecutionError),
	/// Its output could not be digested: it wrote nothing, or it cannot be read.
	Digest(DigestError),
}

impl fmt::Display for RunError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			RunError::Files(why) => write!(f, "{why}"),
			RunError::Execution(error) => write!(f, "{error}"),
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
	// Leftovers of an earlier try would enter the digest.
	let _ = fs::remove_dir_all(output_dir);
	fs::create_dir_all(output_dir).map_err(|error| {
		RunError::Files(format!("cannot create {}: {error}", output_dir.display()))
	})?;
	let _input_removed = RemovedOnDrop(input_dir);
	if let Some(dataset) = task.dataset {
		fs::create_dir_all(input_dir)
			.and_then(|()| fs::write(input_dir.join("dataset"), dataset))
			.map_err(|error| RunError::Files(format!("cannot write the dataset: {error}")))?;
	}
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

/// The module's arguments from the deal's params: rule 1 of the module's documentation.
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
