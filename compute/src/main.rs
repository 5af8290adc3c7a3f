//! `commons-compute`: a compute node. It follows a Commons chain through a node's JSON-RPC and
//! works on every task its workerpool's scheduler assigns to it, learnt from the scheduler's push
//! to its endpoint or from the chain's events. It joins its workerpool, keeps its heartbeat and
//! its enclave's registration fresh, serves its results over HTTP and counts what it does in
//! Prometheus metrics.
//!
//! This file only wires the library's pieces together (see the `commons_compute` crate), around
//! the chain follower the key service uses too ([`Follower`]). What the node did is kept in its
//! work directory: `state`, the digest of each task it computed
//! ([`DigestStore`]); `cursor`, the next block to read; `results/<task>/`, each task's output.
//! So a restarted compute node catches up, and neither recomputes nor votes twice.

use std::{fs, ops::ControlFlow, sync::Arc};

use clap::Parser;
use commons_client::{
	follow::{Cursor, Follower, Round, POLL_INTERVAL},
	Chain,
};
use commons_compute::{
	chain::RpcChain,
	computer::Computer,
	digests::DigestStore,
	endpoint::{serve, Endpoint},
	metrics::Metrics,
	options::Options,
	tee::{SimulatedEnclave, HARDWARE_SECRETS},
	upkeep::{PoolToJoin, Upkeep},
	worker::{Settings, Worker},
	LOG_TARGET,
};
use sp_core::{sr25519, Pair};
use tokio::net::TcpListener;

/// Prints the compute node's log records on stderr, each as its bare message: operators (and
/// the end-to-end tests) read them there. Records of other targets are left out, as they were
/// before the node logged through `log`.
struct StderrLog;

impl log::Log for StderrLog {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.target().starts_with(LOG_TARGET) && metadata.level() <= log::Level::Info
	}

	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) {
			eprintln!("{}", record.args());
		}
	}

	fn flush(&self) {}
}

static STDERR_LOG: StderrLog = StderrLog;

#[tokio::main]
async fn main() {
	if log::set_logger(&STDERR_LOG).is_ok() {
		log::set_max_level(log::LevelFilter::Info);
	}
	if let Err(error) = run(Options::parse()).await {
		log::error!(target: LOG_TARGET, "commons-compute: {error}");
		std::process::exit(1);
	}
}

async fn run(options: Options) -> Result<(), String> {
	let pair = sr25519::Pair::from_string(&options.key, None)
		.map_err(|error| format!("bad --key: {error:?}"))?;
	let chain = Chain::new("node", &options.rpc)?;
	chain.ensure_same_runtime().await?;
	options.check_test_modes(&chain).await?;
	// On TEE hardware, the attestation interface must be there before anything else is done.
	let quotes = options.quote_provider()?;
	fs::create_dir_all(&options.work_dir)
		.map_err(|error| format!("cannot create {}: {error}", options.work_dir.display()))?;
	let digests = DigestStore::load(&options.work_dir)?;
	let metrics = options.prometheus_port.map(Metrics::serve).transpose()?;

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

	let signer = options.signer(pair);
	let account = signer.account();
	let cursor = Cursor::new(options.work_dir.join("cursor"));
	let mut follower = Follower::start(
		chain.clone(),
		cursor,
		options.from_block,
		|message: &str| log::warn!(target: LOG_TARGET, "{message}"),
	)
	.await?;
	// On TEE hardware this process is the enclave (or runs in the TD): its keys are generated
	// here, inside, and kept apart from a simulated enclave's.
	let enclave = match (options.tee(), &quotes) {
		(Some(tee), None) => {
			Some(Arc::new(SimulatedEnclave::load_or_create(&options.work_dir, tee.kind())?))
		}
		(Some(tee), Some(_)) => Some(Arc::new(SimulatedEnclave::load_or_create_at(
			&options.work_dir.join(HARDWARE_SECRETS),
			tee.kind(),
		)?)),
		(None, _) => None,
	};
	let pool = options.workerpool.map(|workerpool| PoolToJoin {
		workerpool,
		endpoint: results_url.trim_end_matches("/results").to_owned(),
		capabilities: options.announced_capabilities(),
	});
	let mut upkeep = Upkeep::new(chain.clone(), signer.clone(), enclave.clone(), pool);
	if let Some(quotes) = quotes {
		upkeep = upkeep.with_quote_provider(quotes);
	}
	upkeep.start().await?;
	let settings = Settings {
		account: account.clone(),
		enclave,
		results_url,
		metrics,
		stop_after_replicated_vote: options.crash_after_contributing,
	};
	let computer = Computer::new(chain.clone(), &options.work_dir, options.corrupt_results);
	let mut worker = Worker::new(RpcChain::new(chain.clone(), signer), computer, digests, settings);

	log::info!(
		target: LOG_TARGET,
		"compute node {account} following from block {}",
		follower.next_block()
	);
	loop {
		// A block that cannot be read is read again on the next round.
		let round = follower.round(|from, to| worker.follow(from, to)).await;
		if let Round::NewBlocks { best, .. } = round {
			upkeep.on_new_block(best).await;
		}
		if let ControlFlow::Break(task) = worker.work().await {
			log::warn!(target: LOG_TARGET, "TEST MODE: exiting before revealing task {task:?}");
			std::process::exit(3);
		}
		// A pushed task wakes the compute node at once; otherwise it polls each second.
		tokio::select! {
			Some(task) = pushes.recv() => worker.receive_push(task),
			_ = tokio::time::sleep(POLL_INTERVAL) => {},
		}
		while let Ok(task) = pushes.try_recv() {
			worker.receive_push(task);
		}
	}
}
