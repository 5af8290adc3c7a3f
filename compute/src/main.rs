//! `commons-compute`: a compute node. It follows a Commons chain through a node's JSON-RPC and
//! works on every task its workerpool's scheduler assigns to it, learnt from the scheduler's push
//! to its endpoint or from the chain's events. It joins its workerpool, keeps its heartbeat and
//! its enclave's registration fresh, serves its results over HTTP and counts what it does in
//! Prometheus metrics.
//!
//! This file only wires the library's pieces together (see the `commons_compute` crate), around
//! the chain follower the key service uses too ([`Follower`]). What the node did is kept in its
//! work directory: `state`, the digest of each task it computed
//! ([`DigestStore`]); `cursor`, the next block to read; `results/<task>/`, each task's output
//! (written there by a module; by a container in `running/<task>/` first, moved once checked);
//! `inputs/<task>/`, a dataset during its task's run; `sealing/<task>/`, a TEE task's output
//! until it is sealed.
//! So a restarted compute node catches up, and neither recomputes nor votes twice.
//!
//! It runs as a service: SIGTERM or SIGINT stops it after the step in progress (every state
//! file is written atomically), and it logs through `log` with time and level on stderr,
//! filtered by `RUST_LOG`.

use std::{fs, ops::ControlFlow, sync::Arc};

use clap::Parser;
use commons_client::{
	dry_run::{self, Finding},
	follow::{Cursor, Follower, Round, POLL_INTERVAL},
	keys::signing_key,
	service::{init_logging, serve_metrics, StopSignal},
	Chain,
};
use commons_compute::{
	chain::RpcChain,
	computer::Computer,
	container::Engine,
	digests::DigestStore,
	endpoint::{serve, Endpoint},
	metrics::Metrics,
	options::Options,
	task_runner::remove_dir_if_there,
	tee::{SimulatedEnclave, HARDWARE_SECRETS, SIMULATED_SECRETS},
	upkeep::{PoolToJoin, Upkeep},
	worker::{Settings, Worker},
	LOG_TARGET,
};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() {
	// A transaction's steps are for people at a terminal; the node logs what became of it.
	init_logging("warn,commons=info,commons::submission=warn");
	if let Err(error) = run(Options::parse()).await {
		log::error!(target: LOG_TARGET, "commons-compute: {error}");
		std::process::exit(1);
	}
}

async fn run(options: Options) -> Result<(), String> {
	let stop = StopSignal::listen().map_err(|error| format!("cannot handle SIGTERM: {error}"))?;
	let pair =
		signing_key(options.key.as_deref(), |warning| log::warn!(target: LOG_TARGET, "{warning}"))?;
	let chain = Chain::new("node", &options.rpc)?;
	chain.ensure_same_runtime().await?;
	options.check_test_modes(&chain).await?;
	// On TEE hardware, the attestation interface must be there before anything else is done.
	let quotes = options.quote_provider()?;
	// A dry run creates nothing: it says whether the work directory could be used.
	if !options.dry_run {
		fs::create_dir_all(&options.work_dir)
			.map_err(|error| format!("cannot create {}: {error}", options.work_dir.display()))?;
	}
	let digests = DigestStore::load(&options.work_dir)?;
	// A dry run serves nothing: it says whether the addresses are free.
	let metrics = match options.dry_run {
		true => None,
		false => options
			.prometheus
			.address()
			.map(|address| serve_metrics(address, Metrics::register))
			.transpose()?,
	};

	let (pushed, mut pushes) = tokio::sync::mpsc::unbounded_channel();
	let results_url = match options.listen {
		Some(address) => {
			if !options.dry_run {
				let listener = TcpListener::bind(address)
					.await
					.map_err(|error| format!("cannot listen on {address}: {error}"))?;
				let endpoint = Endpoint { results: options.work_dir.join("results"), pushed };
				tokio::spawn(serve(listener, endpoint));
			}
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
	// here, inside, and kept apart from a simulated enclave's. A dry run checks with new keys
	// if there are none yet (or they cannot be read, which it reports), and keeps them nowhere.
	let mut unreadable_secrets = None;
	let enclave = match options.tee() {
		None => None,
		Some(tee) => {
			let secrets = options.work_dir.join(match &quotes {
				None => SIMULATED_SECRETS,
				Some(_) => HARDWARE_SECRETS,
			});
			let enclave = match options.dry_run {
				false => SimulatedEnclave::load_or_create_at(&secrets, tee.kind())?,
				true => match SimulatedEnclave::load_at(&secrets, tee.kind()) {
					Ok(Some(enclave)) => enclave,
					Ok(None) => SimulatedEnclave::unsaved(tee.kind()),
					Err(error) => {
						unreadable_secrets = Some(error);
						SimulatedEnclave::unsaved(tee.kind())
					}
				},
			};
			Some(Arc::new(enclave))
		}
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
	let engine = options
		.container_engine
		.as_ref()
		.map(|socket| Engine::new(socket, &account.to_string()));
	if options.dry_run {
		return dry_run(&options, &upkeep, &chain, engine.as_ref(), unreadable_secrets).await;
	}
	dry_run::ensure_proxy(&chain, &signer).await?;
	let mut computer =
		Computer::new(chain.clone(), &options.work_dir, options.corrupt_results, metrics.clone());
	if let Some(engine) = engine {
		start_container_engine(&engine, &options.work_dir).await?;
		computer = computer.with_container_engine(engine);
	}
	upkeep.start().await?;
	let settings = Settings {
		account: account.clone(),
		enclave,
		results_url,
		metrics,
		stop_after_replicated_vote: options.crash_after_contributing,
	};
	let mut worker = Worker::new(RpcChain::new(chain.clone(), signer), computer, digests, settings);

	log::info!(
		target: LOG_TARGET,
		"compute node {account} following from block {}",
		follower.next_block()
	);
	loop {
		if stop.is_asked() {
			log::info!(target: LOG_TARGET, "stopped; its state is in {}", options.work_dir.display());
			return Ok(());
		}
		// A block that cannot be read is read again on the next round, up to a point.
		match follower.round(|from, to| worker.follow(from, to)).await {
			Round::NewBlocks { best, .. } => upkeep.on_new_block(best).await,
			Round::Stuck { at, error } => {
				return Err(Round::stuck_error(&chain, at, &error).await.into())
			}
			Round::Unreachable | Round::NoNewBlock { .. } => {}
		}
		if let ControlFlow::Break(task) = worker.work().await {
			log::warn!(target: LOG_TARGET, "TEST MODE: exiting before revealing task {task:?}");
			std::process::exit(3);
		}
		// A pushed task wakes the compute node at once; otherwise it polls each second.
		tokio::select! {
			Some(task) = pushes.recv() => worker.receive_push(task),
			_ = tokio::time::sleep(POLL_INTERVAL) => {},
			_ = stop.asked() => {},
		}
		while let Ok(task) = pushes.try_recv() {
			worker.receive_push(task);
		}
	}
}

/// Checks that the container engine answers, before the node announces that it runs images,
/// and removes the containers a killed run of this worker left in it, with the outputs they were
/// writing in `work_dir`.
async fn start_container_engine(engine: &Engine, work_dir: &std::path::Path) -> Result<(), String> {
	let socket = engine.socket().display();
	let version = engine
		.version()
		.await
		.map_err(|error| format!("the container engine at {socket} does not answer: {error}"))?;
	let swept = engine
		.sweep()
		.await
		.map_err(|error| format!("cannot remove this worker's old containers: {error}"))?;
	// Nothing is running there now: what is left was being written when a run was killed.
	if let Err(error) = remove_dir_if_there(&work_dir.join("running")) {
		log::warn!(target: LOG_TARGET, "the outputs of an earlier run: {error}");
	}
	log::info!(
		target: LOG_TARGET,
		"running OCI images with the container engine {version} at {socket} ({swept} containers \
		 of an earlier run removed)"
	);
	Ok(())
}

/// Prints what `--dry-run` checked, one line each, and fails if anything is not ready. The
/// configuration, the chain connection and its runtime were checked on the way here (any
/// failure stopped the node).
async fn dry_run(
	options: &Options,
	upkeep: &Upkeep,
	chain: &Chain,
	engine: Option<&Engine>,
	unreadable_secrets: Option<String>,
) -> Result<(), String> {
	let runtime = chain.runtime_version().await?;
	println!("ready: the node runs {runtime} ({})", chain.chain_type().await?);
	let mut findings = vec![dry_run::directory_finding("the work directory", &options.work_dir)];
	findings.extend(unreadable_secrets.map(|error| Finding::new(false, error)));
	findings.extend(upkeep.check().await?);
	let addresses = [("the endpoint", options.listen), ("metrics", options.prometheus.address())];
	for (what, address) in addresses {
		findings.extend(address.map(|address| dry_run::address_finding(what, address)));
	}
	if let Some(engine) = engine {
		let socket = engine.socket().display();
		findings.push(match engine.version().await {
			Ok(version) => Finding::new(true, format!("container engine {version} at {socket}")),
			Err(error) => Finding::new(false, format!("container engine at {socket}: {error}")),
		});
	}
	dry_run::report(&findings)
}
