//! Running a WASI module deterministically, within fuel and memory limits.
//!
//! Compiling a module takes longer than many tasks run, so a process compiles each module once:
//! the last [`COMPILED_MODULES`] modules compiled, keyed by the sha256 of their bytes. A compiled
//! module is a function of its bytes and the engine's configuration alone, so reusing it changes
//! nothing a task computes.
//!
//! Two engines, for the same bits on every CPU (see [`crate::canonical_nans`]): a module whose
//! NaNs are made canonical where their bits can be seen runs on one that leaves float operations
//! as the CPU does them; a module that uses SIMD or trades floats with its host, on one that
//! canonicalizes every float operation.

use sha2::{Digest as _, Sha256};

use crate::canonical_nans::{self, Prepared};
use std::{
	fmt,
	path::Path,
	sync::{Mutex, OnceLock},
	time::Duration,
};
use wasmtime::{Config, Engine, Linker, Module, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{
	p2::pipe::MemoryOutputPipe, preview1::WasiP1Ctx, Deterministic, DirPerms, FilePerms,
	HostMonotonicClock, HostWallClock, I32Exit, WasiCtxBuilder,
};

/// How much of its standard output and error a module may write; more is cut off.
const MAX_LOG_BYTES: usize = 64 * 1024;

/// How many bytes of the task's seed stream the module's random source cycles through.
const RANDOM_BYTES: usize = 4096;

/// The most table elements a module may grow a table to.
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// How many compiled modules a process keeps: a node's apps of the moment.
pub const COMPILED_MODULES: usize = 16;

/// What a run may consume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
	/// Wasmtime fuel: about one unit per WebAssembly instruction.
	pub fuel: u64,
	/// The most linear memory the module may have, in bytes.
	pub memory_bytes: usize,
}

impl Limits {
	/// Fuel per second of a category's reference time: a conservative rate of instructions a
	/// compute node executes, so that a task within its limit finishes well within T.
	pub const FUEL_PER_SECOND: u64 = 100_000_000;

	/// The memory every task may use.
	pub const MEMORY_BYTES: usize = 1 << 30;

	/// The limits of a task whose category's reference time is `reference_time_secs`.
	pub fn for_reference_time(reference_time_secs: u32) -> Self {
		Self {
			fuel: u64::from(reference_time_secs).saturating_mul(Self::FUEL_PER_SECOND),
			memory_bytes: Self::MEMORY_BYTES,
		}
	}
}

/// One run of a module.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
	/// The module's bytes (checked against the app's checksum by the caller).
	pub module: &'a [u8],
	/// The request's params, split into arguments; the module sees `app` before them.
	pub args: &'a [String],
	/// A directory with the dataset, mounted read-only at `/in`.
	pub input: Option<&'a Path>,
	/// An empty directory mounted at `/out`, where the module writes its result.
	pub output: &'a Path,
	/// The task's seed: the module's random bytes are derived from it.
	pub seed: [u8; 32],
	/// The fuel and memory the run may use.
	pub limits: Limits,
}

/// What a successful run left besides its output directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
	/// What the module wrote to its standard output.
	pub stdout: Vec<u8>,
	/// What the module wrote to its standard error.
	pub stderr: Vec<u8>,
	/// The fuel it burnt.
	pub fuel_used: u64,
}

/// Why a run failed.
#[derive(Debug)]
pub enum ExecutionError {
	/// The bytes are not a WASI command module.
	InvalidModule(String),
	/// The runtime could not be set up (the mounts, or the engine).
	Setup(String),
	/// The module ran out of fuel: it needs more time than its category gives.
	OutOfFuel,
	/// The module asked for more memory than its cap.
	MemoryLimit,
	/// The module exited with a non-zero status.
	Exit(i32),
	/// The module trapped.
	Trap(String),
}

impl fmt::Display for ExecutionError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ExecutionError::InvalidModule(why) => write!(f, "not a WASI command module: {why}"),
			ExecutionError::Setup(why) => write!(f, "cannot set up the module's runtime: {why}"),
			ExecutionError::OutOfFuel => write!(f, "the module ran out of fuel"),
			ExecutionError::MemoryLimit => write!(f, "the module exceeded its memory cap"),
			ExecutionError::Exit(code) => write!(f, "the module exited with status {code}"),
			ExecutionError::Trap(why) => write!(f, "the module trapped: {why}"),
		}
	}
}

impl std::error::Error for ExecutionError {}

/// Clocks that stand still at the Unix epoch.
struct FrozenClock;

impl HostWallClock for FrozenClock {
	fn resolution(&self) -> Duration {
		Duration::from_nanos(1)
	}

	fn now(&self) -> Duration {
		Duration::ZERO
	}
}

impl HostMonotonicClock for FrozenClock {
	fn resolution(&self) -> u64 {
		1
	}

	fn now(&self) -> u64 {
		0
	}
}

/// Refuses memory growth beyond the cap, and remembers that it did.
struct MemoryCap {
	limit: usize,
	exceeded: bool,
}

impl ResourceLimiter for MemoryCap {
	fn memory_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> anyhow::Result<bool> {
		self.exceeded |= desired > self.limit;
		Ok(desired <= self.limit)
	}

	fn table_growing(
		&mut self,
		_current: usize,
		desired: usize,
		_maximum: Option<usize>,
	) -> anyhow::Result<bool> {
		Ok(desired <= MAX_TABLE_ELEMENTS)
	}
}

struct RunState {
	wasi: WasiP1Ctx,
	memory: MemoryCap,
}

/// An engine for runs: fuel metering, deterministic relaxed SIMD, and, if `canonicalize_nans`,
/// every float operation's NaN made canonical. Shared memories and garbage-collected types are
/// refused whatever features the build of wasmtime has: a thread waiting on a shared memory
/// burns no fuel, and the same module must be valid on every worker.
fn new_engine(canonicalize_nans: bool) -> Result<Engine, ExecutionError> {
	let mut config = Config::new();
	config
		.consume_fuel(true)
		.cranelift_nan_canonicalization(canonicalize_nans)
		.relaxed_simd_deterministic(true)
		.wasm_threads(false)
		.wasm_shared_everything_threads(false)
		.wasm_gc(false)
		.wasm_function_references(false)
		.wasm_exceptions(false)
		.wasm_stack_switching(false);
	Engine::new(&config).map_err(|error| ExecutionError::Setup(format!("{error:#}")))
}

/// The process's engines and the modules they compiled, most recently used last.
struct Compiler {
	/// For modules whose NaNs are canonical where their bits can be seen.
	engine: Engine,
	/// For modules that need every float operation canonicalized.
	canonicalizing: Engine,
	modules: Mutex<Vec<([u8; 32], Module)>>,
}

impl Compiler {
	/// The process's compiler, made on first use.
	fn shared() -> Result<&'static Compiler, ExecutionError> {
		static SHARED: OnceLock<Compiler> = OnceLock::new();
		if let Some(compiler) = SHARED.get() {
			return Ok(compiler);
		}
		let compiler = Compiler::new()?;
		Ok(SHARED.get_or_init(|| compiler))
	}

	fn new() -> Result<Compiler, ExecutionError> {
		Ok(Compiler {
			engine: new_engine(false)?,
			canonicalizing: new_engine(true)?,
			modules: Mutex::new(Vec::new()),
		})
	}

	/// `bytes` compiled: from the cache when they were compiled before.
	fn module(&self, bytes: &[u8]) -> Result<Module, ExecutionError> {
		let key: [u8; 32] = Sha256::digest(bytes).into();
		if let Some(module) = self.reuse(&key) {
			return Ok(module);
		}
		// Compiled outside the lock: another task's module need not wait for this one.
		let compiled = match canonical_nans::prepare(bytes) {
			Prepared::CanonicalWhereSeen(rewritten) => Module::new(&self.engine, rewritten),
			Prepared::CanonicalEverywhere(why) => {
				log::debug!(
					target: crate::LOG_TARGET,
					"module {}: every float operation canonicalized: {why}",
					sp_core::hexdisplay::HexDisplay::from(&key)
				);
				Module::new(&self.canonicalizing, bytes)
			}
		};
		let module =
			compiled.map_err(|error| ExecutionError::InvalidModule(format!("{error:#}")))?;
		self.keep(key, module.clone());
		Ok(module)
	}

	/// The module compiled from the bytes whose sha256 is `key`, if kept, made the most
	/// recently used.
	fn reuse(&self, key: &[u8; 32]) -> Option<Module> {
		let mut modules = self.modules.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let position = modules.iter().position(|(cached, _)| cached == key)?;
		let entry = modules.remove(position);
		let module = entry.1.clone();
		modules.push(entry);
		Some(module)
	}

	/// Keeps `module` as the most recently used, dropping the least recently used past the cap.
	fn keep(&self, key: [u8; 32], module: Module) {
		let mut modules = self.modules.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		modules.retain(|(cached, _)| *cached != key);
		modules.push((key, module));
		let excess = modules.len().saturating_sub(COMPILED_MODULES);
		modules.drain(..excess);
	}
}

/// `RANDOM_BYTES` bytes of sha256(seed ‖ counter) blocks.
fn random_stream(seed: &[u8; 32]) -> Vec<u8> {
	(0u32..)
		.flat_map(|counter| {
			let block: [u8; 32] = Sha256::new()
				.chain_update(seed)
				.chain_update(counter.to_le_bytes())
				.finalize()
				.into();
			block
		})
		.take(RANDOM_BYTES)
		.collect()
}

/// The first 16 bytes of a seed.
fn first_half(seed: &[u8; 32]) -> [u8; 16] {
	let mut half = [0; 16];
	half.copy_from_slice(&seed[..16]);
	half
}

/// Runs `job`'s module to completion. Its output is what it left in `job.output`.
pub fn execute(job: &Job) -> Result<Outcome, ExecutionError> {
	let setup = |error: anyhow::Error| ExecutionError::Setup(format!("{error:#}"));
	let module = Compiler::shared()?.module(job.module)?;
	let engine = module.engine();

	let stdout = MemoryOutputPipe::new(MAX_LOG_BYTES);
	let stderr = MemoryOutputPipe::new(MAX_LOG_BYTES);
	let args: Vec<&str> =
		std::iter::once("app").chain(job.args.iter().map(String::as_str)).collect();
	let random = random_stream(&job.seed);
	let mut builder = WasiCtxBuilder::new();
	builder
		.args(&args)
		.stdout(stdout.clone())
		.stderr(stderr.clone())
		.wall_clock(FrozenClock)
		.monotonic_clock(FrozenClock)
		.secure_random(Deterministic::new(random.clone()))
		.insecure_random(Deterministic::new(random.iter().rev().copied().collect()))
		.insecure_random_seed(u128::from_le_bytes(first_half(&job.seed)))
		.allow_tcp(false)
		.allow_udp(false)
		.allow_ip_name_lookup(false);
	if let Some(input) = job.input {
		builder
			.preopened_dir(input, "/in", DirPerms::READ, FilePerms::READ)
			.map_err(setup)?;
	}
	builder
		.preopened_dir(job.output, "/out", DirPerms::all(), FilePerms::all())
		.map_err(setup)?;

	let state = RunState {
		wasi: builder.build_p1(),
		memory: MemoryCap { limit: job.limits.memory_bytes, exceeded: false },
	};
	let mut store = Store::new(engine, state);
	store.limiter(|state| &mut state.memory);
	store.set_fuel(job.limits.fuel).map_err(setup)?;
	let mut linker = Linker::new(engine);
	wasmtime_wasi::preview1::add_to_linker_sync(&mut linker, |state: &mut RunState| {
		&mut state.wasi
	})
	.map_err(setup)?;

	let result = linker.instantiate(&mut store, &module).and_then(|instance| {
		let start = instance.get_typed_func::<(), ()>(&mut store, "_start").map_err(|error| {
			anyhow::anyhow!(ExecutionError::InvalidModule(format!("{error:#}")))
		})?;
		start.call(&mut store, ())
	});
	let fuel_used = job.limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
	let outcome = || Outcome {
		stdout: stdout.contents().to_vec(),
		stderr: stderr.contents().to_vec(),
		fuel_used,
	};
	match result {
		Ok(()) => Ok(outcome()),
		Err(error) => Err(match error.downcast::<I32Exit>() {
			Ok(I32Exit(0)) => return Ok(outcome()),
			Ok(I32Exit(code)) => ExecutionError::Exit(code),
			Err(error) if store.data().memory.exceeded => {
				let _ = error;
				ExecutionError::MemoryLimit
			}
			Err(error) => match error.downcast::<ExecutionError>() {
				Ok(invalid) => invalid,
				Err(error) => match error.downcast_ref::<Trap>() {
					Some(Trap::OutOfFuel) => ExecutionError::OutOfFuel,
					_ => ExecutionError::Trap(format!("{error:#}")),
				},
			},
		}),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::canonical_nans::tests::wasm;

	/// An empty module told apart from the others by a custom section named `n`.
	fn module_named(n: u8) -> Vec<u8> {
		let mut bytes = b"\0asm\x01\0\0\0".to_vec();
		bytes.extend([0, 2, 1, n]);
		bytes
	}

	fn kept(compiler: &Compiler) -> Vec<[u8; 32]> {
		compiler.modules.lock().unwrap().iter().map(|(key, _)| *key).collect()
	}

	fn key(bytes: &[u8]) -> [u8; 32] {
		Sha256::digest(bytes).into()
	}

	#[test]
	fn a_module_is_compiled_once_and_the_least_recently_used_is_dropped_past_the_cap() {
		let compiler = Compiler::new().unwrap();
		let first = module_named(0);
		compiler.module(&first).unwrap();
		compiler.module(&first).unwrap();
		assert_eq!(kept(&compiler), vec![key(&first)]);

		for n in 1..COMPILED_MODULES as u8 {
			compiler.module(&module_named(n)).unwrap();
		}
		// Used again, the first is the most recently used: the second is dropped in its place.
		compiler.module(&first).unwrap();
		compiler.module(&module_named(COMPILED_MODULES as u8)).unwrap();
		let modules = kept(&compiler);
		assert_eq!(modules.len(), COMPILED_MODULES);
		assert!(modules.contains(&key(&first)));
		assert!(!modules.contains(&key(&module_named(1))));
		assert_eq!(modules.last(), Some(&key(&module_named(COMPILED_MODULES as u8))));
	}

	/// A module without SIMD runs on the engine that leaves float operations alone (its NaNs made
	/// canonical where they show); one with SIMD on the engine that canonicalizes them all.
	#[test]
	fn only_a_module_with_simd_runs_with_every_float_operation_canonicalized() {
		let compiler = Compiler::new().unwrap();
		let text = |body: &str| wasm(&format!("(module (memory 1) (func (export \"f\") {body}))"));
		let scalar = text("(f64.store (i32.const 0) (f64.div (f64.const 0) (f64.const 0)))");
		let simd = text("(v128.store (i32.const 0) (f32x4.sqrt (v128.const i32x4 -1 0 0 0)))");
		let scalar = compiler.module(&scalar).unwrap();
		assert!(Engine::same(scalar.engine(), &compiler.engine));
		let simd = compiler.module(&simd).unwrap();
		assert!(Engine::same(simd.engine(), &compiler.canonicalizing));
	}

	/// A module with a shared memory (whose waits would burn no fuel) is not valid on any
	/// worker, whatever features its build of wasmtime has.
	#[test]
	fn a_shared_memory_is_refused() {
		let compiler = Compiler::new().unwrap();
		let source = "(module (memory 1 1 shared) (func (export \"f\") (result i32) \
		              (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))))";
		let module = wasm(source);
		assert!(matches!(compiler.module(&module), Err(ExecutionError::InvalidModule(_))));
	}

	#[test]
	fn bytes_that_are_no_module_are_refused_and_not_kept() {
		let compiler = Compiler::new().unwrap();
		assert!(matches!(compiler.module(b"not wasm"), Err(ExecutionError::InvalidModule(_))));
		assert!(kept(&compiler).is_empty());
	}
}
