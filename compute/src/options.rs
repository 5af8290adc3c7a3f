//! The compute node's command line, and the guard that keeps its test modes (a cheating worker, a
//! worker that crashes between its vote and its reveal) to development chains.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use clap::Parser;
use commons_client::{rpc_params, service::PrometheusOptions, Chain, Signer};
use commons_runtime::{governance::ProxyType, AccountId};
use pallet_attestation::TeeKind;
use pallet_marketplace::{tag, Tag};
use sp_core::sr25519;

use crate::{
	evidence::{
		ConfigfsTsm, GramineAttestation, QuoteProvider, CONFIGFS_TSM_REPORT_DIR,
		GRAMINE_ATTESTATION_DIR,
	},
	LOG_TARGET,
};

/// What `commons-compute` is told on its command line.
#[derive(Parser, Debug)]
#[command(name = "commons-compute", about = "A Commons compute node")]
pub struct Options {
	/// The JSON-RPC endpoint (HTTP) of a node of the chain.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	pub rpc: String,

	/// The worker's key: a secret URI (`//Dave` on a development chain), or the path of a file
	/// only the node's user can read that holds one or an account exported from Polkadot-JS
	/// (its password in `COMMONS_KEY_PASSWORD`). Without it, `COMMONS_KEY` holds the URI.
	#[arg(long, value_name = "URI|FILE")]
	pub key: Option<String>,

	/// Works for this account (SS58) as its `ComputeNode` proxy: `--key` is then a hot key the
	/// account added with `proxy.addProxy(<key>, ComputeNode, 0)`. The key signs and pays for
	/// the node's transactions and can do nothing else for the account; the pool membership,
	/// the enclave, the tasks and their rewards are the account's.
	#[arg(long, value_name = "ACCOUNT")]
	pub proxy_for: Option<AccountId>,

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

	/// The capability tags announced when joining (bit 0: TEE). `container` (bit 9) is
	/// announced with `--container-engine`, and only then.
	#[arg(long, default_value_t = 0)]
	pub capabilities: Tag,

	/// Runs apps that are OCI images with the container engine whose Docker-compatible API is on
	/// this Unix socket (Podman's `podman system service`, or Docker's `/run/docker.sock`), and
	/// announces the `container` capability, so that the pool's scheduler assigns them.
	#[arg(long, value_name = "SOCKET")]
	pub container_engine: Option<PathBuf>,

	/// Runs TEE tasks in a simulated enclave of this kind (development chains only): registers
	/// it, announces the TEE capability and signs results with the enclave's key.
	#[arg(long, value_enum)]
	pub tee_simulated: Option<TeeOption>,

	/// Where the enclave's evidence comes from: `simulated` (the enclave of `--tee-simulated`, if
	/// any), `gramine` (SGX: this node runs inside a Gramine-SGX enclave and registers with DCAP
	/// quotes from `/dev/attestation`) or `tdx` (this node runs in a TDX trust domain and
	/// registers with quotes from the kernel's configfs-tsm). With `gramine` or `tdx` the node
	/// runs TEE tasks, announces the TEE capabilities and refuses to start without the interface.
	#[arg(long, value_enum, default_value = "simulated")]
	pub tee_evidence: EvidenceOption,

	/// The hardware attestation interface's directory (default: `/dev/attestation` for
	/// `--tee-evidence gramine`, `/sys/kernel/config/tsm/report` for `tdx`).
	#[arg(long)]
	pub attestation_dir: Option<PathBuf>,

	/// Where to serve Prometheus metrics, if anywhere.
	#[command(flatten)]
	pub prometheus: PrometheusOptions,

	/// Checks the configuration, the chain connection and runtime, the key's funds, the pool
	/// membership and the enclave, prints what it found and exits (status 1 if something is
	/// not ready), without submitting anything or working.
	#[arg(long)]
	pub dry_run: bool,

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
	/// Who signs the node's calls, for which account: `pair` for itself, or as the
	/// `ComputeNode` proxy of `--proxy-for`.
	pub fn signer(&self, pair: sr25519::Pair) -> Signer {
		match &self.proxy_for {
			Some(real) => Signer::proxy_of(pair, real.clone(), ProxyType::ComputeNode),
			None => Signer::new(pair),
		}
	}

	/// The capability tags to announce when joining: `--capabilities`, the TEE tags of the
	/// enclave if there is one, and `container` if there is a container engine.
	pub fn announced_capabilities(&self) -> Tag {
		// Without an engine the node runs no image: it never says it does, or it would be
		// assigned images.
		let container = match self.container_engine {
			Some(_) => tag::CONTAINER,
			None => 0,
		};
		(self.capabilities & !tag::CONTAINER)
			| container
			| self.tee().map(TeeOption::capabilities).unwrap_or_default()
	}

	/// The TEE kind of the enclave this node runs TEE tasks in, if any: `--tee-simulated`'s, or
	/// the hardware's for `--tee-evidence gramine` (SGX) and `tdx`.
	pub fn tee(&self) -> Option<TeeOption> {
		match self.tee_evidence {
			EvidenceOption::Simulated => self.tee_simulated,
			EvidenceOption::Gramine => Some(TeeOption::Sgx),
			EvidenceOption::Tdx => Some(TeeOption::Tdx),
		}
	}

	/// The source of the enclave's quotes for `--tee-evidence gramine` or `tdx`, opened: a node
	/// that is not in such an enclave fails here, at start, with what is missing. `None` for
	/// simulated evidence. Refuses `--tee-simulated` with hardware evidence, and
	/// `--attestation-dir` without it.
	pub fn quote_provider(&self) -> Result<Option<Arc<dyn QuoteProvider>>, String> {
		let dir = |default: &str| self.attestation_dir.clone().unwrap_or_else(|| default.into());
		let provider: Arc<dyn QuoteProvider> = match self.tee_evidence {
			EvidenceOption::Simulated if self.attestation_dir.is_some() => {
				return Err("--attestation-dir is for --tee-evidence gramine or tdx".into())
			}
			EvidenceOption::Simulated => return Ok(None),
			EvidenceOption::Gramine | EvidenceOption::Tdx if self.tee_simulated.is_some() => {
				return Err(format!(
					"--tee-simulated is for --tee-evidence simulated, not {:?}: the enclave's \
					 kind comes from its hardware",
					self.tee_evidence
				))
			}
			EvidenceOption::Gramine => {
				let provider = GramineAttestation::open(dir(GRAMINE_ATTESTATION_DIR))
					.map_err(|error| error.to_string())?;
				Arc::new(provider)
			}
			EvidenceOption::Tdx => {
				let provider = ConfigfsTsm::open(dir(CONFIGFS_TSM_REPORT_DIR))
					.map_err(|error| error.to_string())?;
				Arc::new(provider)
			}
		};
		Ok(Some(provider))
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

/// Where the enclave's evidence comes from, on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceOption {
	/// No TEE hardware: the simulated enclave of `--tee-simulated`, development chains only.
	Simulated,
	/// Intel SGX under Gramine: DCAP quotes from `/dev/attestation`.
	Gramine,
	/// Intel TDX: quotes from Linux's configfs-tsm.
	Tdx,
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

#[cfg(test)]
mod tests {
	use super::*;

	fn parsed(args: &[&str]) -> Options {
		let all = [&["commons-compute", "--work-dir", "/var/lib/commons"], args].concat();
		Options::try_parse_from(all).expect("valid options")
	}

	/// A pool's scheduler assigns images only to workers announcing `container`: a node says so
	/// when it has an engine, and never otherwise, whatever `--capabilities` holds.
	#[test]
	fn containers_are_announced_with_an_engine_and_only_then() {
		let asked = (tag::CONTAINER | tag::TEE).to_string();
		assert_eq!(parsed(&["--capabilities", &asked]).announced_capabilities(), tag::TEE);
		let with_engine = parsed(&["--container-engine", "/run/podman/podman.sock"]);
		assert_eq!(with_engine.announced_capabilities(), tag::CONTAINER);
		let both = parsed(&["--container-engine", "/run/docker.sock", "--tee-simulated", "sgx"]);
		assert_eq!(both.announced_capabilities(), tag::CONTAINER | tag::TEE | tag::SGX);
	}
}
