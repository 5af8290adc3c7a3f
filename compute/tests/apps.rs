//! The example apps, built for wasm32-wasip1 by this test, run by the compute node's task runner:
//! their results, the determinism of reruns, and each limit and failure.

use commons_client::confidential::{open_output, ResultKey, SEALED_RESULT_FILE};
use commons_compute::{
	computer::publish_sealed, digest, example_apps, run_task, ExecutionError, Limits, Outcome,
	RunError, TaskInputs,
};
use sp_core::H256;
use std::{fs, path::PathBuf, sync::OnceLock};

/// Builds the example apps once and returns `app`'s module bytes.
fn module(app: &str) -> Vec<u8> {
	static BUILT: OnceLock<PathBuf> = OnceLock::new();
	let modules = BUILT.get_or_init(|| {
		example_apps::build(&example_apps::default_target_dir())
			.unwrap_or_else(|error| panic!("{error}"))
	});
	fs::read(modules.join(format!("{app}.wasm"))).expect("built")
}

const LIMITS: Limits = Limits { fuel: 2_000_000_000, memory_bytes: 64 << 20 };

/// Runs `module` with `params` (and `dataset`) as a task with `seed`; returns the directory the
/// run happened in (its output is `out` in it) and what the task runner returned.
fn run_module(
	module: &[u8],
	params: &str,
	dataset: Option<&[u8]>,
	seed: [u8; 32],
	limits: Limits,
) -> (tempfile::TempDir, Result<(Outcome, H256), RunError>) {
	let dir = tempfile::tempdir().unwrap();
	let task = TaskInputs { module, params: params.as_bytes(), dataset, seed, limits };
	let result = run_task(&task, &dir.path().join("in"), &dir.path().join("out"));
	(dir, result)
}

/// Runs the example app `app`: see [`run_module`].
fn run(
	app: &str,
	params: &str,
	dataset: Option<&[u8]>,
	seed: [u8; 32],
	limits: Limits,
) -> (tempfile::TempDir, Result<(Outcome, H256), RunError>) {
	run_module(&module(app), params, dataset, seed, limits)
}

#[test]
fn monte_carlo_estimates_pi_and_reruns_give_the_same_digest() {
	let (first, result) = run("monte-carlo", "--samples 200000 --seed 7", None, [1; 32], LIMITS);
	let (outcome, first_digest) = result.expect("runs");
	assert!(outcome.fuel_used > 200_000, "fuel is metered: {}", outcome.fuel_used);
	let output = first.path().join("out");
	assert_eq!(first_digest, H256::from(digest(&output).unwrap()), "the output's digest");
	let result = fs::read_to_string(output.join("result.json")).unwrap();
	let pi: f64 = result
		.split("\"pi\":")
		.nth(1)
		.unwrap()
		.trim_end_matches(['}', '\n'])
		.parse()
		.unwrap();
	assert!((pi - std::f64::consts::PI).abs() < 0.01, "{result}");

	// Another run, another task seed: the same bytes, so the same digest.
	let (_, second) = run("monte-carlo", "--samples 200000 --seed 7", None, [2; 32], LIMITS);
	assert_eq!(first_digest, second.expect("runs").1);
	// The same arguments, spaced otherwise: the same digest.
	let (_, spaced) = run("monte-carlo", " --samples\t200000  --seed 7\n", None, [1; 32], LIMITS);
	assert_eq!(first_digest, spaced.expect("runs").1);
	// Other params, another result.
	let (_, third) = run("monte-carlo", "--samples 200000 --seed 8", None, [1; 32], LIMITS);
	assert_ne!(first_digest, third.expect("runs").1);
}

#[test]
fn csv_stats_reads_the_dataset() {
	let csv = b"city,temperature,rain\nParis,12.5,3\nOslo,-2,7\nRome,18.5,0\n";
	let (dir, result) = run("csv-stats", "", Some(csv), [0; 32], LIMITS);
	result.expect("runs");
	assert!(!dir.path().join("in").exists(), "the dataset does not outlive the run");
	let result = fs::read_to_string(dir.path().join("out/result.json")).unwrap();
	assert_eq!(
		result,
		"[{\"column\":\"temperature\",\"count\":3,\"sum\":29,\"min\":-2,\"max\":18.5,\"mean\":9.666666666666666},\
		 {\"column\":\"rain\",\"count\":3,\"sum\":10,\"min\":0,\"max\":7,\"mean\":3.3333333333333335}]\n"
	);
}

/// A confidential task's result as its enclave serves it: the one sealed file, nothing of it in
/// the clear, which the beneficiary's key opens to the output whose digest the worker votes
/// with.
#[test]
fn a_confidential_result_is_served_sealed_and_opens_to_the_output_voted_on() {
	let csv = b"city,temperature,rain\nParis,12.5,3\nOslo,-2,7\n";
	let stats = module("csv-stats");
	let dir = tempfile::tempdir().unwrap();
	let task = H256::repeat_byte(3);
	let inputs = TaskInputs {
		module: &stats,
		params: b"",
		dataset: Some(csv),
		seed: task.0,
		limits: LIMITS,
	};
	let (plain, results) = (dir.path().join("sealing"), dir.path().join("results"));
	let (_, voted) = run_task(&inputs, &dir.path().join("in"), &plain).expect("runs");
	let key = ResultKey::generate();
	publish_sealed(&key.public(), &task, &plain, &results).unwrap();

	assert!(!plain.exists(), "the output in the clear is removed once sealed");
	let served: Vec<_> = fs::read_dir(&results)
		.unwrap()
		.map(|entry| entry.unwrap().file_name())
		.collect();
	assert_eq!(served, [SEALED_RESULT_FILE]);
	let sealed = fs::read(results.join(SEALED_RESULT_FILE)).unwrap();
	assert!(!sealed.windows(b"temperature".len()).any(|window| window == b"temperature"));
	let opened = dir.path().join("opened");
	open_output(&key, &task, &sealed, &opened).unwrap();
	assert_eq!(H256::from(digest(&opened).unwrap()), voted);
	assert!(fs::read_to_string(opened.join("result.json")).unwrap().contains("temperature"));
}

#[test]
fn a_module_out_of_fuel_is_stopped() {
	let limits = Limits { fuel: 1_000_000, ..LIMITS };
	let (_, result) = run("monte-carlo", "--samples 100000000 --seed 1", None, [0; 32], limits);
	assert!(matches!(result, Err(RunError::Execution(ExecutionError::OutOfFuel))), "{result:?}");
}

#[test]
fn a_module_over_its_memory_cap_is_stopped() {
	// A wasm32 Rust program starts with about a megabyte of memory; allow less.
	let limits = Limits { memory_bytes: 64 * 1024, ..LIMITS };
	let (_, result) = run("csv-stats", "", Some(b"a\n1\n"), [0; 32], limits);
	assert!(matches!(result, Err(RunError::Execution(ExecutionError::MemoryLimit))), "{result:?}");
}

#[test]
fn a_failing_module_reports_its_exit_status_and_error() {
	let (_, result) = run("monte-carlo", "--seed 1", None, [0; 32], LIMITS);
	assert!(matches!(result, Err(RunError::Execution(ExecutionError::Exit(2)))), "{result:?}");
	let (_, result) = run("csv-stats", "", None, [0; 32], LIMITS);
	assert!(
		matches!(result, Err(RunError::Execution(ExecutionError::Exit(2)))),
		"no dataset: {result:?}"
	);
}

#[test]
fn bytes_that_are_not_a_module_are_refused() {
	let (_, result) = run_module(b"not wasm", "", None, [0; 32], LIMITS);
	assert!(
		matches!(result, Err(RunError::Execution(ExecutionError::InvalidModule(_)))),
		"{result:?}"
	);
}
