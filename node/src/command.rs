//! Runs what the command line asks for.

use std::path::PathBuf;

use commons_runtime::opaque::Block;
#[cfg(feature = "runtime-benchmarks")]
use commons_runtime::EXISTENTIAL_DEPOSIT;
#[cfg(feature = "runtime-benchmarks")]
use frame_benchmarking_cli::{BenchmarkCmd, ExtrinsicFactory, SUBSTRATE_REFERENCE_HARDWARE};
use sc_cli::SubstrateCli;
use sc_network::config::NetworkBackendType;
use sc_service::{Configuration, PartialComponents};
#[cfg(feature = "runtime-benchmarks")]
use sp_keyring::Sr25519Keyring;

#[cfg(feature = "runtime-benchmarks")]
use crate::benchmarking::{inherent_benchmark_data, RemarkBuilder, TransferKeepAliveBuilder};
use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Commons Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"the Commons repository's issue tracker".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			"staging" => Box::new(chain_spec::staging_chain_spec()?),
			path => Box::new(chain_spec::ChainSpec::from_json_file(path.into())?),
		})
	}
}

/// The transaction pool's size unless the command line sets it (`--pool-limit`), ten times
/// sc-cli's default. A transaction whose nonce is ahead of its sender's waits in the pool's
/// future queue, which holds a tenth of the pool and, when full, silently drops the oldest: a
/// scheduler's or a busy requester's burst of a few thousand transactions must fit there.
const POOL_LIMIT: usize = 81_920;
/// The pool's size in kilobytes unless the command line sets it (`--pool-kbytes`): 200 MiB, ten
/// times sc-cli's default too.
const POOL_KBYTES: usize = 204_800;

/// Parses the command line and runs it.
pub fn run() -> sc_cli::Result<()> {
	let mut cli = Cli::from_args();
	if !chosen_on_command_line("--pool-limit") {
		cli.run.pool_config.pool_limit = POOL_LIMIT;
	}
	if !chosen_on_command_line("--pool-kbytes") {
		cli.run.pool_config.pool_kbytes = POOL_KBYTES;
	}

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config, &cli.wasmtime_cache(&config))?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } =
					service::new_partial(&config, &cli.wasmtime_cache(&config))?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } =
					service::new_partial(&config, &cli.wasmtime_cache(&config))?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config, &cli.wasmtime_cache(&config))?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config, &cli.wasmtime_cache(&config))?;
				// GRANDPA keeps its own record of authority sets; revert it with the blocks.
				let revert_grandpa = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(revert_grandpa)), task_manager))
			})
		}
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| {
				let wasmtime_cache = cli.wasmtime_cache(&config);
				run_benchmark(cmd, config, &wasmtime_cache)
			})
		}
		#[cfg(not(feature = "runtime-benchmarks"))]
		Some(Subcommand::Benchmark { .. }) => Err(NO_BENCHMARKS.into()),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		}
		None => {
			let runner = cli.create_runner(&cli.run)?;
			runner.run_node_until_exit(|mut config| async move {
				if !chosen_on_command_line("--network-backend") {
					config.network.network_backend = NetworkBackendType::Libp2p;
				}
				let wasmtime_cache = cli.wasmtime_cache(&config);
				match config.network.network_backend {
					NetworkBackendType::Libp2p => service::new_full::<
						sc_network::NetworkWorker<
							Block,
							<Block as sp_runtime::traits::Block>::Hash,
						>,
					>(config, &wasmtime_cache)
					.map_err(sc_cli::Error::Service),
					NetworkBackendType::Litep2p => service::new_full::<
						sc_network::Litep2pNetworkBackend,
					>(config, &wasmtime_cache)
					.map_err(sc_cli::Error::Service),
				}
			})
		}
	}
}

impl Cli {
	/// Where a node with `config` keeps its compiled runtimes.
	fn wasmtime_cache(&self, config: &Configuration) -> PathBuf {
		self.wasmtime_cache
			.clone()
			.unwrap_or_else(|| config.base_path.path().join("wasmtime"))
	}
}

/// Whether the command line sets `flag`, where Commons's default differs from sc-cli's: the
/// network backend (sc-cli's is litep2p; Commons runs on libp2p unless litep2p is asked for) and
/// the transaction pool's size.
fn chosen_on_command_line(flag: &str) -> bool {
	std::env::args_os().any(|arg| {
		arg.to_str().is_some_and(|arg| {
			arg == flag || arg.strip_prefix(flag).is_some_and(|rest| rest.starts_with('='))
		})
	})
}

/// Runs one of the `benchmark` subcommands.
#[cfg(feature = "runtime-benchmarks")]
fn run_benchmark(
	cmd: &BenchmarkCmd,
	config: Configuration,
	wasmtime_cache: &std::path::Path,
) -> sc_cli::Result<()> {
	match cmd {
		BenchmarkCmd::Pallet(cmd) => {
			cmd.run_with_spec::<sp_runtime::traits::HashingFor<Block>, ()>(Some(config.chain_spec))
		}
		BenchmarkCmd::Block(cmd) => {
			let PartialComponents { client, .. } = service::new_partial(&config, wasmtime_cache)?;
			cmd.run(client)
		}
		BenchmarkCmd::Storage(cmd) => {
			let PartialComponents { client, backend, .. } =
				service::new_partial(&config, wasmtime_cache)?;
			let db = backend.expose_db();
			let storage = backend.expose_storage();
			let shared_cache = backend.expose_shared_trie_cache();
			cmd.run(config, client, db, storage, shared_cache)
		}
		BenchmarkCmd::Overhead(cmd) => {
			let PartialComponents { client, .. } = service::new_partial(&config, wasmtime_cache)?;
			let remarks = RemarkBuilder::new(client.clone());
			cmd.run(
				config.chain_spec.name().into(),
				client,
				inherent_benchmark_data()?,
				Vec::new(),
				&remarks,
				false,
			)
		}
		BenchmarkCmd::Extrinsic(cmd) => {
			let PartialComponents { client, .. } = service::new_partial(&config, wasmtime_cache)?;
			let factory = ExtrinsicFactory(vec![
				Box::new(RemarkBuilder::new(client.clone())),
				Box::new(TransferKeepAliveBuilder::new(
					client.clone(),
					Sr25519Keyring::Bob.to_account_id(),
					EXISTENTIAL_DEPOSIT,
				)),
			]);
			cmd.run(client, inherent_benchmark_data()?, Vec::new(), &factory)
		}
		BenchmarkCmd::Machine(cmd) => cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()),
	}
}

/// Why a node built without benchmarks refuses `benchmark`, and how to get one that has them.
#[cfg(not(feature = "runtime-benchmarks"))]
const NO_BENCHMARKS: &str = "this node was built without benchmarks: `scripts/benchmark.sh` \
	 builds one (`cargo build --release -p commons-node --features runtime-benchmarks`)";
