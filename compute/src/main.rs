//! `commons-compute`: a compute node. It follows a Commons chain through a node's JSON-RPC, and
//! for every task its workerpool's scheduler assigns to it: fetches the app's module and the
//! dataset, checks their sha256 against the registry, runs the module (see the library),
//! contributes its vote, and reveals its digest once the vote reaches consensus.
//!
//! What it did is kept in its work directory (`state`, one line per task: id and digest, and
//! `results/<task>/`, each task's output), so that a restarted compute node neither recomputes
//! nor contributes twice; the chain is checked too.

use std::{
	collections::{BTreeMap, BTreeSet},
	fs,
	path::{Path, PathBuf},
	time::Duration,
};

use clap::Parser;
use codec::Decode;
use commons_client::{rpc_params, Chain};
use commons_compute::{digest, execute, Job, Limits};
use commons_runtime::{AccountId, Hash, Runtime, RuntimeCall, RuntimeEvent};
use pallet_contribution::{ContributionStatus, Task, TaskId, TaskStatus};
use sha2::{Digest as _, Sha256};
use sp_core::{sr25519, Pair};

#[derive(Parser, Debug)]
#[command(name = "commons-compute", about = "A Commons compute node")]
struct Options {
	/// The JSON-RPC endpoint (HTTP) of a node of the chain.
	#[arg(long, default_value = "http://127.0.0.1:9944")]
	rpc: String,

	/// The worker's secret key URI (for example `//Dave` on a dev chain).
	#[arg(long)]
	key: String,

	/// Where the compute node keeps its state and results.
	#[arg(long)]
	work_dir: PathBuf,

	/// The first block to read assignments from (default: the best block at start).
	#[arg(long)]
	from_block: Option<u32>,

	/// TEST ONLY, refused outside development chains: corrupt every result before voting, to
	/// play a cheating worker.
	#[arg(long)]
	corrupt_results: bool,
}

/// What the compute node remembers of a task: the digest it computed.
struct Memory {
	path: PathBuf,
	digests: BTreeMap<TaskId, Hash>,
}

impl Memory {
	fn load(work_dir: &Path) -> Result<Self, String> {
		let path = work_dir.join("state");
		let text = fs::read_to_string(&path).unwrap_or_default();
		let mut digests = BTreeMap::new();
		for line in text.lines() {
			let mut fields = line.split_whitespace();
			let (Some(task), Some(digest)) = (fields.next(), fields.next()) else { continue };
			digests.insert(parse_hash(task)?, parse_hash(digest)?);
		}
		Ok(Self { path, digests })
	}

	fn remember(&mut self, task: TaskId, digest: Hash) -> Result<(), String> {
		self.digests.insert(task, digest);
		let text: String = self
			.digests
			.iter()
			.map(|(task, digest)| format!("{task:?} {digest:?}\n"))
			.collect();
		fs::write(&self.path, text).map_err(|error| format!("cannot save state: {error}"))
	}
}

fn parse_hash(text: &str) -> Result<Hash, String> {
	let bytes =
		sp_core::bytes::from_hex(text).map_err(|error| format!("bad hash {text}: {error}"))?;
	(bytes.len() == 32)
		.then(|| Hash::from_slice(&bytes))
		.ok_or(format!("bad hash {text}"))
}

struct Worker {
	chain: Chain,
	pair: sr25519::Pair,
	account: AccountId,
	work_dir: PathBuf,
	corrupt_results: bool,
	memory: Memory,
	/// Tasks assigned to this worker that it has not yet contributed to.
	assigned: BTreeSet<TaskId>,
	/// Tasks whose vote reached consensus, to reveal on.
	revealing: BTreeSet<TaskId>,
}

impl Worker {
	async fn storage<T: Decode>(&self, key: Vec<u8>) -> Result<Option<T>, String> {
		self.chain.storage(&key, None).await
	}

	/// Reads the events of blocks `from..=to` and notes what concerns this worker.
	async fn follow(&mut self, from: u32, to: u32) -> Result<(), String> {
		for number in from..=to {
			let hash = self.chain.block_hash(number).await?;
			for record in self.chain.events(hash).await? {
				match record.event {
					RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
						task,
						workers,
					}) if workers.contains(&self.account) => {
						self.assigned.insert(task);
					}
					RuntimeEvent::Contribution(pallet_contribution::Event::ConsensusReached {
						task,
						..
					}) if self.memory.digests.contains_key(&task) => {
						self.revealing.insert(task);
					}
					_ => {}
				}
			}
		}
		Ok(())
	}

	/// Computes `task` and contributes to it, unless the chain shows it already did.
	async fn contribute(&mut self, task_id: TaskId) -> Result<(), String> {
		let task: Task<Runtime> = self
			.storage(pallet_contribution::Tasks::<Runtime>::hashed_key_for(task_id))
			.await?
			.ok_or("the task is not on chain")?;
		if task.status != TaskStatus::Active || task.contribution_of(&self.account).is_some() {
			return Ok(());
		}
		let deal: pallet_marketplace::Deal<Runtime> = self
			.storage(pallet_marketplace::Deals::<Runtime>::hashed_key_for(task.deal))
			.await?
			.ok_or("the task's deal is settled")?;
		let digest = match self.memory.digests.get(&task_id) {
			Some(digest) => *digest,
			None => {
				let digest = self.compute(task_id, &deal).await?;
				self.memory.remember(task_id, digest)?;
				digest
			}
		};
		let location = self.location(task_id).into_bytes().try_into().unwrap_or_default();
		let call = if deal.trust <= 1 {
			pallet_contribution::Call::contribute_and_finalize {
				task: task_id,
				digest,
				location,
				enclave_signature: None,
			}
		} else {
			let (result_hash, result_seal) =
				pallet_contribution::Pallet::<Runtime>::result_hash_and_seal(
					&task_id,
					&self.account,
					&digest,
				);
			pallet_contribution::Call::contribute {
				task: task_id,
				result_hash,
				result_seal,
				enclave_signature: None,
			}
		};
		self.chain.sign_and_submit(RuntimeCall::Contribution(call), &self.pair).await?;
		eprintln!("contributed to task {task_id:?}: digest {digest:?}");
		Ok(())
	}

	/// Reveals on `task_id` if this worker voted for its consensus and has not revealed.
	async fn reveal(&mut self, task_id: TaskId) -> Result<(), String> {
		let Some(digest) = self.memory.digests.get(&task_id).copied() else { return Ok(()) };
		let task: Task<Runtime> = self
			.storage(pallet_contribution::Tasks::<Runtime>::hashed_key_for(task_id))
			.await?
			.ok_or("the task is not on chain")?;
		let Some(mine) = task.contribution_of(&self.account) else { return Ok(()) };
		if task.status != TaskStatus::Revealing
			|| mine.status != ContributionStatus::Contributed
			|| task.consensus != Some(mine.result_hash)
		{
			return Ok(());
		}
		let location = self.location(task_id).into_bytes().try_into().unwrap_or_default();
		let call = pallet_contribution::Call::reveal { task: task_id, digest, location };
		self.chain.sign_and_submit(RuntimeCall::Contribution(call), &self.pair).await?;
		eprintln!("revealed task {task_id:?}");
		Ok(())
	}

	fn results_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("results").join(format!("{task:?}"))
	}

	fn location(&self, task: TaskId) -> String {
		format!("file://{}", self.results_dir(task).display())
	}

	/// Fetches `uri` (a `file://` URI) and checks its sha256.
	fn fetch(uri: &[u8], checksum: &[u8; 32]) -> Result<Vec<u8>, String> {
		let uri = String::from_utf8_lossy(uri);
		let path = uri
			.strip_prefix("file://")
			.ok_or(format!("cannot fetch {uri}: only file:// URIs are supported yet"))?;
		let bytes = fs::read(path).map_err(|error| format!("cannot read {path}: {error}"))?;
		let actual: [u8; 32] = Sha256::digest(&bytes).into();
		if actual != *checksum {
			return Err(format!("{uri} does not match its registered sha256"));
		}
		Ok(bytes)
	}

	/// Runs the deal's app for `task` and returns the digest of its output.
	async fn compute(
		&self,
		task: TaskId,
		deal: &pallet_marketplace::Deal<Runtime>,
	) -> Result<Hash, String> {
		let app: pallet_marketplace::App<Runtime> = self
			.storage(pallet_marketplace::Apps::<Runtime>::hashed_key_for(deal.app.id))
			.await?
			.ok_or("the deal's app is not registered")?;
		let module = Self::fetch(&app.uri, &app.checksum)?;
		let input = self.work_dir.join("inputs").join(format!("{task:?}"));
		let has_dataset = match &deal.dataset {
			Some(purchase) => {
				let dataset: pallet_marketplace::Dataset<Runtime> = self
					.storage(pallet_marketplace::Datasets::<Runtime>::hashed_key_for(purchase.id))
					.await?
					.ok_or("the deal's dataset is not registered")?;
				let bytes = Self::fetch(&dataset.uri, &dataset.checksum)?;
				fs::create_dir_all(&input).map_err(|error| error.to_string())?;
				fs::write(input.join("dataset"), bytes).map_err(|error| error.to_string())?;
				true
			}
			None => false,
		};
		let category: pallet_marketplace::Category<Runtime> = self
			.storage(pallet_marketplace::Categories::<Runtime>::hashed_key_for(deal.category))
			.await?
			.ok_or("the deal's category is unknown")?;

		let output = self.results_dir(task);
		let _ = fs::remove_dir_all(&output);
		fs::create_dir_all(&output).map_err(|error| error.to_string())?;
		let args: Vec<String> = String::from_utf8_lossy(&deal.params)
			.split_whitespace()
			.map(str::to_owned)
			.collect();
		let limits = Limits::for_reference_time(category.reference_time_secs);
		let run_dir = output.clone();
		// The executor blocks (wasmtime's WASI drives its own runtime), so it runs off the
		// async threads.
		tokio::task::spawn_blocking(move || {
			let job = Job {
				module: &module,
				args: &args,
				input: has_dataset.then_some(input.as_path()),
				output: &run_dir,
				seed: task.0,
				limits,
			};
			execute(&job).map(|_| ())
		})
		.await
		.map_err(|error| format!("task {task:?}: the executor panicked: {error}"))?
		.map_err(|error| format!("task {task:?}: {error}"))?;
		if self.corrupt_results {
			fs::write(output.join("corrupted"), b"a cheating worker's extra output")
				.map_err(|error| error.to_string())?;
		}
		digest(&output).map(Hash::from).map_err(|error| error.to_string())
	}
}

#[tokio::main]
async fn main() {
	if let Err(error) = run(Options::parse()).await {
		eprintln!("commons-compute: {error}");
		std::process::exit(1);
	}
}

async fn run(options: Options) -> Result<(), String> {
	let pair = sr25519::Pair::from_string(&options.key, None)
		.map_err(|error| format!("bad --key: {error:?}"))?;
	let chain = Chain::new("node", &options.rpc)?;
	if options.corrupt_results {
		let kind: String = chain.rpc("system_chainType", rpc_params![]).await?;
		if kind != "Development" && kind != "Local" {
			return Err(format!("--corrupt-results is for tests only; this chain is {kind}"));
		}
		eprintln!("TEST MODE: this compute node corrupts its results");
	}
	fs::create_dir_all(&options.work_dir)
		.map_err(|error| format!("cannot create {}: {error}", options.work_dir.display()))?;
	let memory = Memory::load(&options.work_dir)?;
	let account = AccountId::from(pair.public());
	let mut next = match options.from_block {
		Some(block) => block,
		None => chain.best_number().await?,
	};
	let mut worker = Worker {
		chain,
		pair,
		account,
		work_dir: options.work_dir,
		corrupt_results: options.corrupt_results,
		memory,
		assigned: BTreeSet::new(),
		revealing: BTreeSet::new(),
	};
	eprintln!("compute node {} following from block {next}", worker.account);
	loop {
		match worker.chain.best_number().await {
			Ok(best) if best >= next => match worker.follow(next, best).await {
				Ok(()) => next = best + 1,
				Err(error) => eprintln!("cannot read blocks {next}..={best}: {error}"),
			},
			Ok(_) => {}
			Err(error) => eprintln!("cannot reach the node: {error}"),
		}
		for task in std::mem::take(&mut worker.assigned) {
			if let Err(error) = worker.contribute(task).await {
				eprintln!("task {task:?}: {error}");
			}
		}
		for task in std::mem::take(&mut worker.revealing) {
			if let Err(error) = worker.reveal(task).await {
				eprintln!("task {task:?}: {error}");
			}
		}
		tokio::time::sleep(Duration::from_secs(1)).await;
	}
}
