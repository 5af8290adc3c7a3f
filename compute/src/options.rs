//! The compute node's command line, and the guard that keeps its test modes (a cheating worker, a
//! worker that crashes between its vote and its reveal) to development chains.

use std::{net::SocketAddr, path::PathBuf};

use clap::Parser;
use commons_client::{rpc_params, Chain};
use pallet_attestation::TeeKind;
use pallet_marketplace::{tag, Tag};

use crate::LOG_TARGET;

/// What `commons-compute` is told on its command line.
#[derive(Parser, Debug)]
#[command(name = "commons-compute", about = "A Commons compute node")]
pub struct Options {
	/// The JSON-RPC endpoint (HTTP) of a node of the chain.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	pub rpc: String,

	/// The worker's secret key URI (for example `//Dave` on a dev chain).
	#[arg(long)]
	pub key: String,

	/// Where the compute node keeps its state and results.
	#[arg(long)]
	pub work_dir: PathBuf,

	/// The first block to read assignments from (default: where the last run stopped, or the
	/// best block on a first start).
	#[arg(long)]
	pub from_block: Option<u32>,

	/// The address to serve the endpoint on: pushed tasks and results.
	#[arg(long)]
	pub listen: Option<SocketAddr>,

	/// The endpoint's URL as the scheduler and requesters reach it (default: `http://<listen>`).
	#[arg(long)]
	pub public_url: Option<String>,

	/// Joins this workerpool at start unless already a member (with the public URL as endpoint).
	#[arg(long)]
	pub workerpool: Option<u32>,

	/// The capability tags announced when joining (bit 0: TEE).
	#[arg(long, default_value_t = 0)]
	pub capabilities: Tag,

	/// Runs TEE tasks in a simulated enclave of this kind (development chains only): registers
	/// it, announces the TEE capability and signs results with the enclave's key.
	#[arg(long, value_enum)]
	pub tee_simulated: Option<TeeOption>,

	/// Serves Prometheus metrics on this port of 127.0.0.1 at `/metrics`.
	#[arg(long)]
	pub prometheus_port: Option<u16>,

	/// TEST ONLY, refused outside development chains: corrupt every result before voting, to
	/// play a cheating worker.
	#[arg(long)]
	pub corrupt_results: bool,

	/// TEST ONLY, refused outside development chains: exit as soon as a vote on a replicated
	/// task is submitted, to play a node that crashes between contributing and revealing.
	#[arg(long)]
	pub crash_after_contributing: bool,
}

impl Options {
	/// The capability tags to announce when joining: `--capabilities`, and the TEE tags of the
	/// simulated enclave if there is one.
	pub fn announced_capabilities(&self) -> Tag {
		self.capabilities | self.tee_simulated.map(TeeOption::capabilities).unwrap_or_default()
	}

	/// Refuses `--corrupt-results` and `--crash-after-contributing` unless `chain` is a
	/// development or local chain, and says which of them are on: a worker that cheats or
	/// crashes on purpose must never be mistaken for a real one.
	pub async fn check_test_modes(&self, chain: &Chain) -> Result<(), String> {
		if !self.corrupt_results && !self.crash_after_contributing {
			return Ok(());
		}
		let kind: String = chain.rpc("system_chainType", rpc_params![]).await?;
		if kind != "Development" && kind != "Local" {
			return Err(format!(
				"--corrupt-results and --crash-after-contributing are for tests only; this chain \
				 is {kind}"
			));
		}
		if self.corrupt_results {
			log::warn!(target: LOG_TARGET, "TEST MODE: this compute node corrupts its results");
		}
		if self.crash_after_contributing {
			log::warn!(
				target: LOG_TARGET,
				"TEST MODE: this compute node exits after its first vote"
			);
		}
		Ok(())
	}
}

/// The TEE kinds on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum TeeOption {
	/// Intel SGX.
	Sgx,
	/// Intel TDX.
	Tdx,
}

impl TeeOption {
	/// The attestation pallet's name for this kind.
	pub fn kind(self) -> TeeKind {
		match self {
			TeeOption::Sgx => TeeKind::Sgx,
			TeeOption::Tdx => TeeKind::Tdx,
		}
	}

	/// The capability tags a worker with this enclave announces.
	pub fn capabilities(self) -> Tag {
		tag::TEE
			| match self {
				TeeOption::Sgx => tag::SGX,
				TeeOption::Tdx => tag::TDX,
			}
	}
}
