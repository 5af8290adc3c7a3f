//! The example apps, built for wasm32-wasip1 by this test, run under the executor: their
//! results, the determinism of reruns, and each limit and failure.

use commons_compute::{digest, example_apps, execute, ExecutionError, Job, Limits};
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

fn args(params: &str) -> Vec<String> {
	params.split_whitespace().map(str::to_owned).collect()
}

const LIMITS: Limits = Limits { fuel: 2_000_000_000, memory_bytes: 64 << 20 };

/// Runs `app` with `params` (and `dataset` at `/in/dataset`); returns its output directory.
fn run(
	app: &str,
	params: &str,
	dataset: Option<&[u8]>,
	seed: [u8; 32],
	limits: Limits,
) -> (tempfile::TempDir, Result<commons_compute::Outcome, ExecutionError>) {
	let module = module(app);
	let input = tempfile::tempdir().unwrap();
	if let Some(bytes) = dataset {
		fs::write(input.path().join("dataset"), bytes).unwrap();
	}
	let output = tempfile::tempdir().unwrap();
	let args = args(params);
	let job = Job {
		module: &module,
		args: &args,
		input: dataset.map(|_| input.path()),
		output: output.path(),
		seed,
		limits,
	};
	let outcome = execute(&job);
	(output, outcome)
}

#[test]
fn monte_carlo_estimates_pi_and_reruns_give_the_same_digest() {
	let (first, outcome) = run("monte-carlo", "--samples 200000 --seed 7", None, [1; 32], LIMITS);
	let outcome = outcome.expect("runs");
	assert!(outcome.fuel_used > 200_000, "fuel is metered: {}", outcome.fuel_used);
	let result = fs::read_to_string(first.path().join("result.json")).unwrap();
	let pi: f64 = result
		.split("\"pi\":")
		.nth(1)
		.unwrap()
		.trim_end_matches(['}', '\n'])
		.parse()
		.unwrap();
	assert!((pi - std::f64::consts::PI).abs() < 0.01, "{result}");

	// Another run, another task seed: the same bytes, so the same digest.
	let (second, _) = run("monte-carlo", "--samples 200000 --seed 7", None, [2; 32], LIMITS);
	assert_eq!(digest(first.path()).unwrap(), digest(second.path()).unwrap());
	// Other params, another result.
	let (third, _) = run("monte-carlo", "--samples 200000 --seed 8", None, [1; 32], LIMITS);
	assert_ne!(digest(first.path()).unwrap(), digest(third.path()).unwrap());
}

#[test]
fn csv_stats_reads_the_dataset() {
	let csv = b"city,temperature,rain\nParis,12.5,3\nOslo,-2,7\nRome,18.5,0\n";
	let (output, outcome) = run("csv-stats", "", Some(csv), [0; 32], LIMITS);
	outcome.expect("runs");
	let result = fs::read_to_string(output.path().join("result.json")).unwrap();
	assert_eq!(
		result,
		"[{\"column\":\"temperature\",\"count\":3,\"sum\":29,\"min\":-2,\"max\":18.5,\"mean\":9.666666666666666},\
		 {\"column\":\"rain\",\"count\":3,\"sum\":10,\"min\":0,\"max\":7,\"mean\":3.3333333333333335}]\n"
	);
}

#[test]
fn a_module_out_of_fuel_is_stopped() {
	let limits = Limits { fuel: 1_000_000, ..LIMITS };
	let (_, outcome) = run("monte-carlo", "--samples 100000000 --seed 1", None, [0; 32], limits);
	assert!(matches!(outcome, Err(ExecutionError::OutOfFuel)), "{outcome:?}");
}

#[test]
fn a_module_over_its_memory_cap_is_stopped() {
	// A wasm32 Rust program starts with about a megabyte of memory; allow less.
	let limits = Limits { memory_bytes: 64 * 1024, ..LIMITS };
	let (_, outcome) = run("csv-stats", "", Some(b"a\n1\n"), [0; 32], limits);
	assert!(matches!(outcome, Err(ExecutionError::MemoryLimit)), "{outcome:?}");
}

#[test]
fn a_failing_module_reports_its_exit_status_and_error() {
	let (_, outcome) = run("monte-carlo", "--seed 1", None, [0; 32], LIMITS);
	assert!(matches!(outcome, Err(ExecutionError::Exit(2))), "{outcome:?}");
	let (_, outcome) = run("csv-stats", "", None, [0; 32], LIMITS);
	assert!(matches!(outcome, Err(ExecutionError::Exit(2))), "no dataset: {outcome:?}");
}

#[test]
fn bytes_that_are_not_a_module_are_refused() {
	let output = tempfile::tempdir().unwrap();
	let job = Job {
		module: b"not wasm",
		args: &[],
		input: None,
		output: output.path(),
		seed: [0; 32],
		limits: LIMITS,
	};
	assert!(matches!(execute(&job), Err(ExecutionError::InvalidModule(_))));
}
