//! `commons-compute`: a compute node. It follows a Commons chain through a node's JSON-RPC, and
//! for every task its workerpool's scheduler assigns to it (learnt from the scheduler's push to
//! its endpoint, or from the chain's events): fetches the app's module and the dataset, checks
//! their sha256 against the registry (an encrypted dataset is decrypted in its enclave with the
//! key its owner released to it, and deleted after the run), runs the module (see the library),
//! contributes its vote
//! (signed by its enclave for TEE tasks), and reveals its digest once the vote reaches consensus.
//! It joins its workerpool, keeps its heartbeat and its enclave's registration fresh, serves its
//! results over HTTP and counts what it does in Prometheus metrics.
//!
//! What it did is kept in its work directory (`state`, one line per task: id and digest;
//! `cursor`, the next block to read; `results/<task>/`, each task's output), so that a restarted
//! compute node catches up, and neither recomputes nor contributes twice; the chain is checked
//! too.

use std::{
	collections::{BTreeMap, BTreeSet},
	fs,
	net::SocketAddr,
	path::{Path, PathBuf},
	time::Duration,
};

use clap::Parser;
use codec::Decode;
use commons_client::{
	confidential::{decrypt_dataset, DatasetKey},
	fetch::fetch_checked,
	rpc_params, Chain, Cursor,
};
use commons_compute::{
	digest,
	endpoint::{serve, Endpoint},
	execute,
	metrics::Metrics,
	tee::SimulatedEnclave,
	Job, Limits,
};
use commons_runtime::{AccountId, Hash, Runtime, RuntimeCall, RuntimeEvent};
use pallet_attestation::TeeKind;
use pallet_contribution::{ContributionStatus, Task, TaskId, TaskStatus};
use pallet_marketplace::tag;
use sp_core::{sr25519, Pair};
use tokio::net::TcpListener;

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

	/// The first block to read assignments from (default: where the last run stopped, or the
	/// best block on a first start).
	#[arg(long)]
	from_block: Option<u32>,

	/// The address to serve the endpoint on: pushed tasks and results.
	#[arg(long)]
	listen: Option<SocketAddr>,

	/// The endpoint's URL as the scheduler and requesters reach it (default: `http://<listen>`).
	#[arg(long)]
	public_url: Option<String>,

	/// Joins this workerpool at start unless already a member (with the public URL as endpoint).
	#[arg(long)]
	workerpool: Option<u32>,

	/// The capability tags announced when joining (bit 0: TEE).
	#[arg(long, default_value_t = 0)]
	capabilities: pallet_marketplace::Tag,

	/// Runs TEE tasks in a simulated enclave of this kind (development chains only): registers
	/// it, announces the TEE capability and signs results with the enclave's key.
	#[arg(long, value_enum)]
	tee_simulated: Option<TeeOption>,

	/// Serves Prometheus metrics on this port of 127.0.0.1 at `/metrics`.
	#[arg(long)]
	prometheus_port: Option<u16>,

	/// TEST ONLY, refused outside development chains: corrupt every result before voting, to
	/// play a cheating worker.
	#[arg(long)]
	corrupt_results: bool,

	/// TEST ONLY, refused outside development chains: exit as soon as a vote on a replicated
	/// task is submitted, to play a node that crashes between contributing and revealing.
	#[arg(long)]
	crash_after_contributing: bool,
}

/// The TEE kinds on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum TeeOption {
	Sgx,
	Tdx,
}

impl TeeOption {
	fn kind(self) -> TeeKind {
		match self {
			TeeOption::Sgx => TeeKind::Sgx,
			TeeOption::Tdx => TeeKind::Tdx,
		}
	}

	/// The capability tags a worker with this enclave announces.
	fn capabilities(self) -> pallet_marketplace::Tag {
		tag::TEE
			| match self {
				TeeOption::Sgx => tag::SGX,
				TeeOption::Tdx => tag::TDX,
			}
	}
}

/// Re-attest when the registration has less than this left, in milliseconds.
const REATTEST_MARGIN_MS: u64 = 60 * 60 * 1000;

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
	/// Where requesters fetch results: the endpoint's `/results`, or the local directory.
	results_url: String,
	corrupt_results: bool,
	crash_after_contributing: bool,
	memory: Memory,
	metrics: Option<Metrics>,
	/// The enclave TEE tasks run in, in TEE mode.
	enclave: Option<SimulatedEnclave>,
	/// Tasks assigned to this worker that it has not yet contributed to.
	assigned: BTreeMap<TaskId, Attempts>,
	/// Tasks whose vote reached consensus, to reveal on.
	revealing: BTreeSet<TaskId>,
	/// The block a heartbeat was last submitted at.
	heartbeat_sent: Option<u32>,
	/// The best block when this worker last sent a request to join its pool.
	join_sent: Option<u32>,
}

/// How often a task that fails is tried before the compute node gives up on it.
const ATTEMPTS: u32 = 3;

/// How many rounds (about a second each) a pushed task may wait for its assignment to be on
/// chain: the scheduler pushes when it submits the assignment, a block or two before inclusion.
const PUSH_PATIENCE: u32 = 60;

/// How many noted tasks may wait before pushes are dropped.
const MAX_PUSH_BACKLOG: usize = 1024;

/// What became of the tries of a task.
#[derive(Clone, Copy, Default)]
struct Attempts {
	failures: u32,
	waits: u32,
	awaiting_key: bool,
}

/// Where a task stands for this worker after a try.
enum Progress {
	/// Contributed, or nothing left for this worker to do.
	Done,
	/// The chain does not show the task assigned to this worker yet.
	NotYetAssigned,
	/// The task's encrypted dataset's key has not been released to this worker's enclave yet.
	AwaitingDatasetKey,
}

impl Worker {
	async fn storage<T: Decode>(&self, key: Vec<u8>) -> Result<Option<T>, String> {
		self.chain.storage(&key, None).await
	}

	fn count(
		&self,
		pick: impl Fn(&Metrics) -> &prometheus_endpoint::Counter<prometheus_endpoint::U64>,
	) {
		if let Some(metrics) = &self.metrics {
			pick(metrics).inc();
		}
	}

	/// Notes `task` as assigned to this worker (`pushed`: as its endpoint was told), unless it
	/// is already noted or done. Anyone can push, so a push is dropped when
	/// [`MAX_PUSH_BACKLOG`] tasks wait already; the chain's events still bring real assignments.
	fn receive(&mut self, task: TaskId, pushed: bool) {
		if self.memory.digests.contains_key(&task) || self.assigned.contains_key(&task) {
			return;
		}
		if pushed && self.assigned.len() >= MAX_PUSH_BACKLOG {
			eprintln!("task {task:?}: push dropped, {MAX_PUSH_BACKLOG} tasks wait already");
			return;
		}
		self.assigned.insert(task, Attempts::default());
		self.count(|metrics| &metrics.received);
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
					}) if workers.contains(&self.account) => self.receive(task, false),
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

	/// Joins `workerpool` with `endpoint` unless this worker is a member of it already, or asked
	/// to join less than ten blocks before `best`. Called at start and on every new block: a
	/// worker that was silent on a task loses its place in the pool, and takes it again.
	async fn join(
		&mut self,
		workerpool: u32,
		endpoint: &str,
		capabilities: pallet_marketplace::Tag,
		best: u32,
	) -> Result<(), String> {
		let key = pallet_marketplace::WorkerPool::<Runtime>::hashed_key_for(&self.account);
		match self.storage::<u32>(key).await? {
			Some(current) if current == workerpool => return Ok(()),
			Some(other) => return Err(format!("already a member of workerpool {other}")),
			None if self.join_sent.is_some_and(|sent| best < sent.saturating_add(10)) => {
				return Ok(())
			}
			None => {}
		}
		let call = pallet_marketplace::Call::join_workerpool {
			workerpool,
			endpoint: endpoint
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| format!("the endpoint URL {endpoint} is too long"))?,
			capabilities,
		};
		self.chain.sign_and_submit(RuntimeCall::Marketplace(call), &self.pair).await?;
		self.join_sent = Some(best);
		eprintln!("joining workerpool {workerpool} with endpoint {endpoint}");
		Ok(())
	}

	/// Registers the enclave on chain unless it is registered with these keys and far from
	/// expiring.
	async fn attest(&self) -> Result<(), String> {
		let Some(enclave) = &self.enclave else { return Ok(()) };
		let key = pallet_attestation::Enclaves::<Runtime>::hashed_key_for(&self.account);
		let registered: Option<pallet_attestation::Enclave> = self.storage(key).await?;
		let now: u64 = self
			.storage(pallet_timestamp::Now::<Runtime>::hashed_key().to_vec())
			.await?
			.unwrap_or_default();
		let current = registered.is_some_and(|registered| {
			registered.keys == enclave.keys
				&& registered.expires_at > now.saturating_add(REATTEST_MARGIN_MS)
		});
		if current {
			return Ok(());
		}
		let genesis = self.chain.block_hash(0).await?;
		let report_data = pallet_attestation::Pallet::<Runtime>::report_data_for(
			&self.account,
			&enclave.keys,
			genesis.as_ref(),
		);
		let call = pallet_attestation::Call::register_simulated {
			kind: enclave.kind,
			measurement: enclave.measurement(),
			keys: enclave.keys,
			proof: enclave.sign(&report_data),
		};
		self.chain
			.submit_and_wait(RuntimeCall::Attestation(call), &self.pair)
			.await
			.map_err(|error| format!("registering the simulated enclave: {error}"))?;
		eprintln!("SIMULATED enclave registered ({:?}, not real TEE hardware)", enclave.kind);
		Ok(())
	}

	/// Sends a heartbeat when the last one is a third of the liveness window old, so the
	/// scheduler keeps counting this worker as alive.
	async fn heartbeat(&mut self, best: u32) -> Result<(), String> {
		let window = <Runtime as pallet_contribution::Config>::LivenessWindow::get();
		let pool_key = pallet_marketplace::WorkerPool::<Runtime>::hashed_key_for(&self.account);
		let Some(workerpool) = self.storage::<u32>(pool_key).await? else { return Ok(()) };
		let membership: pallet_marketplace::Membership<Runtime> = self
			.storage(pallet_marketplace::PoolMembers::<Runtime>::hashed_key_for(
				workerpool,
				&self.account,
			))
			.await?
			.ok_or("the pool lost this member")?;
		let due = membership.last_heartbeat.saturating_add(window / 3);
		let pending = self.heartbeat_sent.is_some_and(|sent| sent > membership.last_heartbeat);
		if best < due || (pending && best < self.heartbeat_sent.unwrap_or_default() + 10) {
			return Ok(());
		}
		let call = pallet_marketplace::Call::heartbeat {};
		self.chain.sign_and_submit(RuntimeCall::Marketplace(call), &self.pair).await?;
		self.heartbeat_sent = Some(best);
		Ok(())
	}

	/// Computes `task` and contributes to it, unless the chain shows it already did or the task
	/// is not (yet) assigned to this worker.
	async fn contribute(&mut self, task_id: TaskId) -> Result<Progress, String> {
		let key = pallet_contribution::Tasks::<Runtime>::hashed_key_for(task_id);
		let Some(task) = self.storage::<Task<Runtime>>(key).await? else {
			return Ok(Progress::NotYetAssigned);
		};
		if task.status != TaskStatus::Active || task.contribution_of(&self.account).is_some() {
			return Ok(Progress::Done);
		}
		if !task.assigned.contains(&self.account) {
			return Ok(Progress::NotYetAssigned);
		}
		let deal: pallet_marketplace::Deal<Runtime> = self
			.storage(pallet_marketplace::Deals::<Runtime>::hashed_key_for(task.deal))
			.await?
			.ok_or("the task's deal is settled")?;
		let digest = match self.memory.digests.get(&task_id) {
			Some(digest) => *digest,
			None => {
				let dataset = match &deal.dataset {
					Some(purchase) => Some(
						self.storage::<pallet_marketplace::Dataset<Runtime>>(
							pallet_marketplace::Datasets::<Runtime>::hashed_key_for(purchase.id),
						)
						.await?
						.ok_or("the deal's dataset is not registered")?,
					),
					None => None,
				};
				let dataset_key = match &dataset {
					Some(dataset) if dataset.encrypted => {
						let enclave =
							self.enclave.as_ref().ok_or("an encrypted dataset, and no enclave")?;
						match task.dataset_key_of(&self.account) {
							Some(sealed) if sealed.recipient == enclave.keys.encryption => {
								Some(enclave.open_dataset_key(sealed, &task_id)?)
							}
							_ if self.chain.best_number().await? >= task.contribution_deadline => {
								return Err("the dataset's key never came".into())
							}
							_ => return Ok(Progress::AwaitingDatasetKey),
						}
					}
					_ => None,
				};
				let input = dataset.as_ref().map(|dataset| (dataset, dataset_key.as_ref()));
				let digest = self.compute(task_id, &deal, input).await?;
				self.count(|metrics| &metrics.executed);
				self.memory.remember(task_id, digest)?;
				digest
			}
		};
		let location = self.location(task_id).into_bytes().try_into().unwrap_or_default();
		let (result_hash, result_seal) =
			pallet_contribution::Pallet::<Runtime>::result_hash_and_seal(
				&task_id,
				&self.account,
				&digest,
			);
		let enclave_signature = if deal.tag & tag::TEE != 0 {
			let enclave = self.enclave.as_ref().ok_or("a TEE task, and no enclave here")?;
			let message = pallet_contribution::Pallet::<Runtime>::enclave_message(
				&task_id,
				&result_hash,
				&result_seal,
			);
			Some(enclave.sign(&message))
		} else {
			None
		};
		let call = if deal.trust <= 1 {
			pallet_contribution::Call::contribute_and_finalize {
				task: task_id,
				digest,
				location,
				enclave_signature,
			}
		} else {
			pallet_contribution::Call::contribute {
				task: task_id,
				result_hash,
				result_seal,
				enclave_signature,
			}
		};
		self.chain.sign_and_submit(RuntimeCall::Contribution(call), &self.pair).await?;
		self.count(|metrics| &metrics.contributed);
		eprintln!("contributed to task {task_id:?}: digest {digest:?}");
		if self.crash_after_contributing && deal.trust > 1 {
			eprintln!("TEST MODE: exiting before revealing task {task_id:?}");
			std::process::exit(3);
		}
		Ok(Progress::Done)
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
		self.count(|metrics| &metrics.revealed);
		eprintln!("revealed task {task_id:?}");
		Ok(())
	}

	fn results_dir(&self, task: TaskId) -> PathBuf {
		self.work_dir.join("results").join(format!("{task:?}"))
	}

	fn location(&self, task: TaskId) -> String {
		format!("{}/{task:?}", self.results_url)
	}

	/// Runs the deal's app for `task` on `dataset` (decrypted with its key if it is encrypted)
	/// and returns the digest of its output.
	async fn compute(
		&self,
		task: TaskId,
		deal: &pallet_marketplace::Deal<Runtime>,
		dataset: Option<(&pallet_marketplace::Dataset<Runtime>, Option<&DatasetKey>)>,
	) -> Result<Hash, String> {
		let app: pallet_marketplace::App<Runtime> = self
			.storage(pallet_marketplace::Apps::<Runtime>::hashed_key_for(deal.app.id))
			.await?
			.ok_or("the deal's app is not registered")?;
		let module = fetch_checked(&String::from_utf8_lossy(&app.uri), &app.checksum).await?;
		let category: pallet_marketplace::Category<Runtime> = self
			.storage(pallet_marketplace::Categories::<Runtime>::hashed_key_for(deal.category))
			.await?
			.ok_or("the deal's category is unknown")?;
		let data = match dataset {
			Some((dataset, key)) => {
				// The checksum is of the stored file, encrypted or not.
				let stored =
					fetch_checked(&String::from_utf8_lossy(&dataset.uri), &dataset.checksum)
						.await?;
				Some(match key {
					Some(key) => decrypt_dataset(key, &stored)?,
					None => stored,
				})
			}
			None => None,
		};

		let output = self.results_dir(task);
		let _ = fs::remove_dir_all(&output);
		fs::create_dir_all(&output).map_err(|error| error.to_string())?;
		let input = self.work_dir.join("inputs").join(format!("{task:?}"));
		let has_dataset = data.is_some();
		if let Some(data) = data {
			fs::create_dir_all(&input)
				.and_then(|()| fs::write(input.join("dataset"), data))
				.map_err(|error| {
					let _ = fs::remove_dir_all(&input);
					format!("cannot write the dataset: {error}")
				})?;
		}
		let args: Vec<String> = String::from_utf8_lossy(&deal.params)
			.split_whitespace()
			.map(str::to_owned)
			.collect();
		let limits = Limits::for_reference_time(category.reference_time_secs);
		let run_dir = output.clone();
		let run_input = input.clone();
		// The executor blocks (wasmtime's WASI drives its own runtime), so it runs off the
		// async threads.
		let run = tokio::task::spawn_blocking(move || {
			let job = Job {
				module: &module,
				args: &args,
				input: has_dataset.then_some(run_input.as_path()),
				output: &run_dir,
				seed: task.0,
				limits,
			};
			execute(&job).map(|_| ())
		})
		.await
		.map_err(|error| format!("task {task:?}: the executor panicked: {error}"));
		// The input may be a decrypted dataset: it does not outlive the run.
		let _ = fs::remove_dir_all(&input);
		run?.map_err(|error| format!("task {task:?}: {error}"))?;
		if self.corrupt_results {
			fs::write(output.join("corrupted"), b"a cheating worker's extra output")
				.map_err(|error| error.to_string())?;
		}
		digest(&output).map(Hash::from).map_err(|error| error.to_string())
	}

	/// Works on every noted task: contributes to the assigned ones, reveals where due. A task
	/// that fails is tried again on the next round, [`ATTEMPTS`] times in all; one not yet
	/// assigned on chain waits up to [`PUSH_PATIENCE`] rounds.
	async fn work(&mut self) {
		for (task, mut attempts) in std::mem::take(&mut self.assigned) {
			match self.contribute(task).await {
				Ok(Progress::Done) => continue,
				// The key service may be slow; the task's contribution deadline ends the wait.
				Ok(Progress::AwaitingDatasetKey) => {
					if !attempts.awaiting_key {
						eprintln!("task {task:?}: waiting for the dataset's key");
					}
					attempts.awaiting_key = true;
				}
				Ok(Progress::NotYetAssigned) => {
					attempts.waits += 1;
					if attempts.waits >= PUSH_PATIENCE {
						eprintln!("task {task:?}: pushed but never assigned to this worker");
						continue;
					}
				}
				Err(error) => {
					eprintln!("task {task:?}: {error}");
					attempts.failures += 1;
					if attempts.failures >= ATTEMPTS {
						self.count(|metrics| &metrics.failed);
						continue;
					}
				}
			}
			self.assigned.insert(task, attempts);
		}
		for task in std::mem::take(&mut self.revealing) {
			if let Err(error) = self.reveal(task).await {
				eprintln!("task {task:?}: {error}");
				self.count(|metrics| &metrics.failed);
			}
		}
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
	if options.corrupt_results || options.crash_after_contributing {
		let kind: String = chain.rpc("system_chainType", rpc_params![]).await?;
		if kind != "Development" && kind != "Local" {
			return Err(format!(
				"--corrupt-results and --crash-after-contributing are for tests only; this \
				 chain is {kind}"
			));
		}
		if options.corrupt_results {
			eprintln!("TEST MODE: this compute node corrupts its results");
		}
		if options.crash_after_contributing {
			eprintln!("TEST MODE: this compute node exits after its first vote");
		}
	}
	fs::create_dir_all(&options.work_dir)
		.map_err(|error| format!("cannot create {}: {error}", options.work_dir.display()))?;
	let memory = Memory::load(&options.work_dir)?;

	let metrics = match options.prometheus_port {
		Some(port) => {
			let registry = prometheus_endpoint::Registry::new();
			let metrics = Metrics::register(&registry).map_err(|error| error.to_string())?;
			let address = SocketAddr::from(([127, 0, 0, 1], port));
			tokio::spawn(async move {
				if let Err(error) = prometheus_endpoint::init_prometheus(address, registry).await {
					eprintln!("commons-compute: metrics on {address}: {error}");
				}
			});
			Some(metrics)
		}
		None => None,
	};
	let (pushed, mut pushes) = tokio::sync::mpsc::unbounded_channel();
	let results_url = match options.listen {
		Some(address) => {
			let listener = TcpListener::bind(address)
				.await
				.map_err(|error| format!("cannot listen on {address}: {error}"))?;
			let endpoint = Endpoint { results: options.work_dir.join("results"), pushed };
			tokio::spawn(serve(listener, endpoint));
			let public = options.public_url.clone().unwrap_or(format!("http://{address}"));
			format!("{}/results", public.trim_end_matches('/'))
		}
		None => format!("file://{}", options.work_dir.join("results").display()),
	};

	let account = AccountId::from(pair.public());
	let cursor = Cursor::new(options.work_dir.join("cursor"));
	let mut next = match options.from_block.or_else(|| cursor.load()) {
		Some(block) => block,
		None => chain.best_number().await?,
	};
	let mut worker = Worker {
		chain,
		pair,
		account,
		work_dir: options.work_dir.clone(),
		results_url,
		corrupt_results: options.corrupt_results,
		crash_after_contributing: options.crash_after_contributing,
		memory,
		metrics,
		enclave: match options.tee_simulated {
			Some(tee) => Some(SimulatedEnclave::load_or_create(&options.work_dir, tee.kind())?),
			None => None,
		},
		assigned: BTreeMap::new(),
		revealing: BTreeSet::new(),
		heartbeat_sent: None,
		join_sent: None,
	};
	worker.attest().await?;
	let pool = options.workerpool.map(|workerpool| {
		let endpoint = worker.results_url.trim_end_matches("/results").to_owned();
		let capabilities = options.capabilities
			| options.tee_simulated.map(TeeOption::capabilities).unwrap_or_default();
		(workerpool, endpoint, capabilities)
	});
	if let Some((workerpool, endpoint, capabilities)) = &pool {
		let best = worker.chain.best_number().await?;
		worker.join(*workerpool, endpoint, *capabilities, best).await?;
	}
	eprintln!("compute node {} following from block {next}", worker.account);
	loop {
		match worker.chain.best_number().await {
			Ok(best) if best >= next => {
				match worker.follow(next, best).await {
					Ok(()) => {
						next = best + 1;
						if let Err(error) = cursor.save(next) {
							eprintln!("{error}");
						}
					}
					Err(error) => eprintln!("cannot read blocks {next}..={best}: {error}"),
				}
				if let Some((workerpool, endpoint, capabilities)) = &pool {
					if let Err(error) =
						worker.join(*workerpool, endpoint, *capabilities, best).await
					{
						eprintln!("joining workerpool {workerpool}: {error}");
					}
				}
				if let Err(error) = worker.heartbeat(best).await {
					eprintln!("heartbeat: {error}");
				}
				if let Err(error) = worker.attest().await {
					eprintln!("{error}");
				}
			}
			Ok(_) => {}
			Err(error) => eprintln!("cannot reach the node: {error}"),
		}
		worker.work().await;
		// A pushed task wakes the compute node at once; otherwise it polls each second.
		tokio::select! {
			Some(task) = pushes.recv() => worker.receive(task, true),
			_ = tokio::time::sleep(Duration::from_secs(1)) => {},
		}
		while let Ok(task) = pushes.try_recv() {
			worker.receive(task, true);
		}
	}
}
