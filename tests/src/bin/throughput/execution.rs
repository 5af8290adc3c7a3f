//! WASI execution against native code: the monte-carlo example (the CPU-bound app) run with the
//! same arguments as a module, the way a compute node runs it (compiled by wasmtime once per
//! process, fuel metered, NaNs canonical where their bits show, through
//! `commons_compute::task_runner::run_task`), and as a static binary built from the same source
//! for this machine, in the same run. The module's first run, which compiles it, is timed apart
//! from the runs that reuse it.
//!
//! The binary writes `/out/result.json` like the module, so it runs in a `chroot` holding only
//! itself and `out/`: that needs root, which the harness's machine has.

use std::{
	path::Path,
	process::Command,
	time::{Duration, Instant},
};

use commons_compute::{
	example_apps,
	task_runner::{run_task, TaskInputs},
	Limits,
};

/// The median times of both ways of running the app, and whether they wrote the same bytes.
pub struct Comparison {
	/// The app's arguments.
	pub params: String,
	/// Runs of each.
	pub runs: usize,
	/// The module's first run, its compilation included.
	pub wasi_first: Duration,
	/// The module once compiled (a compute node compiles each module once).
	pub wasi: Duration,
	/// The static binary, process start included.
	pub native: Duration,
	/// Whether every run of both wrote the same result.
	pub same_result: bool,
}

impl Comparison {
	/// How many times as long the module took.
	pub fn ratio(&self) -> f64 {
		self.wasi.as_secs_f64() / self.native.as_secs_f64().max(f64::EPSILON)
	}
}

/// Builds both, runs each `runs` times with `--samples samples`, and compares them.
pub fn compare(samples: u64, runs: usize) -> Result<Comparison, String> {
	let modules = example_apps::build(&example_apps::default_target_dir())?;
	let module = std::fs::read(modules.join("monte-carlo.wasm"))
		.map_err(|error| format!("the module: {error}"))?;
	let binary =
		example_apps::build_native("monte-carlo", &example_apps::default_native_target_dir())?;
	let params = format!("--samples {samples} --seed 7");
	let work = tempfile::tempdir().map_err(|error| error.to_string())?;

	let mut results = Vec::new();
	let mut wasi = Vec::new();
	// The first run compiles the module for the process: it is the extra run, timed apart.
	for _ in 0..=runs {
		let inputs = TaskInputs {
			module: &module,
			params: params.as_bytes(),
			dataset: None,
			seed: [7; 32],
			// An hour's fuel: the measured run is never cut short.
			limits: Limits::for_reference_time(3_600),
		};
		let out = work.path().join("wasi-out");
		let started = Instant::now();
		run_task(&inputs, &work.path().join("wasi-in"), &out)
			.map_err(|error| format!("the module: {error}"))?;
		wasi.push(started.elapsed());
		results.push(read_result(&out)?);
	}

	let root = work.path().join("native");
	std::fs::create_dir_all(root.join("out")).map_err(|error| error.to_string())?;
	std::fs::copy(&binary, root.join("monte-carlo")).map_err(|error| error.to_string())?;
	let mut native = Vec::new();
	for _ in 0..runs {
		let started = Instant::now();
		let status = Command::new("chroot")
			.arg(&root)
			.arg("/monte-carlo")
			.args(params.split_whitespace())
			.status()
			.map_err(|error| format!("cannot run chroot: {error}"))?;
		native.push(started.elapsed());
		if !status.success() {
			return Err(format!("the native binary in a chroot (needs root): {status}"));
		}
		results.push(read_result(&root.join("out"))?);
	}
	let same_result = results.windows(2).all(|pair| pair[0] == pair[1]);
	let wasi_first = wasi.remove(0);
	Ok(Comparison {
		params,
		runs,
		wasi_first,
		wasi: median(wasi),
		native: median(native),
		same_result,
	})
}

fn read_result(out: &Path) -> Result<Vec<u8>, String> {
	std::fs::read(out.join("result.json")).map_err(|error| format!("its result: {error}"))
}

fn median(mut times: Vec<Duration>) -> Duration {
	times.sort();
	times.get(times.len() / 2).copied().unwrap_or_default()
}
