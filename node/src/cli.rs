//! The command line of `commons-node`.

use std::path::PathBuf;

use sc_cli::RunCmd;

/// `commons-node [SUBCOMMAND] [OPTIONS]`: without a subcommand, runs a node.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: RunCmd,

	/// Where compiled runtimes are kept between starts, so that a restarted node does not
	/// compile its runtime again (`<base path>/wasmtime` unless set). Nodes of one machine may
	/// share a directory.
	#[arg(long, value_name = "PATH")]
	pub wasmtime_cache: Option<PathBuf>,
}

/// What `commons-node` can do besides running a node.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate, inspect and insert keys into a node's keystore.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification (deprecated upstream in favour of `export-chain-spec`).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification, plain or raw.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Benchmark pallets, storage, block overhead, extrinsics or this machine.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Benchmarks: only in a node built with `--features runtime-benchmarks`
	/// (`scripts/benchmark.sh` builds one).
	#[cfg(not(feature = "runtime-benchmarks"))]
	#[command(disable_help_flag = true)]
	Benchmark {
		/// Whatever follows `benchmark`; refused with how to build a node that has it.
		#[arg(trailing_var_arg = true, allow_hyphen_values = true)]
		args: Vec<String>,
	},

	/// Show the database's metadata: best and finalized block, genesis hash.
	ChainInfo(sc_cli::ChainInfoCmd),
}
