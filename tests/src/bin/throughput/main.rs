//! The throughput and latency harness: how fast the chain settles balance transfers and trust-1
//! tasks, measured in one run so that each kind of work is a ratio to transfers.
//!
//! It starts its own `commons-node` dev chain (or a local network of three validators), funds
//! harness accounts from Alice, then runs waves of transactions signed beforehand: balance
//! transfers in a ring, then trust-1 tasks at each deal volume asked for, as three waves
//! (match, `open_and_assign`, then each worker's results of a deal in one
//! `contribute_and_finalize_batch`; at the volumes asked for, again with one
//! `contribute_and_finalize` per task, to compare), then replicated tasks (three workers at
//! trust 5, volume 100) as four (match, `open_and_assign`, `contribute`, `reveal`), a call per
//! vote and reveal, and again (by other, fresh workers) with each worker's of a deal in one
//! `utility.force_batch`; last, once the chain is idle, it times the CPU-bound example app as a
//! WASI module against the same code built natively. Each wave is submitted at once and
//! followed block by block; the report gives per wave what the pool refused or dropped,
//! transactions per block and per second, normal-class weight per transaction, and the time to
//! inclusion. Run by hand (`scripts/throughput.sh`), never as a test: its figures depend on the
//! machine.
//!
//! What it does not measure yet: waves are sequential, so a task's time from match to result
//! here is the sum of three waves, not a pipelined market's latency; compute nodes do not run.

mod execution;
mod market;
mod report;
mod wave;

use std::time::Duration;

use clap::Parser;
use commons_e2e::{start_validators, TestDir, TestNode};
use commons_runtime::{AccountId, CMN};
use sp_core::Pair;

use market::{deals_created, fund, tasks_finalized, Keys, Market};
use wave::Outcome;

/// Measures how many balance transfers and trust-1 tasks the chain settles per block and per
/// second, on a chain it starts.
#[derive(Parser)]
struct Options {
	/// Validators of the network it starts: 1 (a dev chain) or 3 (a local network).
	#[arg(long, default_value = "1", value_parser = ["1", "3"])]
	validators: String,
	/// Accounts sending transfers, each to the next in a ring.
	#[arg(long, default_value_t = 100)]
	senders: usize,
	/// Transfers each sender signs.
	#[arg(long, default_value_t = 40)]
	transfers_each: usize,
	/// Trust-1 tasks per deal volume.
	#[arg(long, default_value_t = 1000)]
	tasks: usize,
	/// Deal volumes to run the tasks at (one match buys this many tasks), each worker sending
	/// its results of a deal in one `contribute_and_finalize_batch`.
	#[arg(long, value_delimiter = ',', default_value = "1,10,100")]
	volumes: Vec<u32>,
	/// Deal volumes to run the tasks at again, with one `contribute_and_finalize` per task, to
	/// compare; empty for none.
	#[arg(long, value_delimiter = ',', default_value = "100")]
	single_call_volumes: Vec<u32>,
	/// Replicated tasks (three workers each, trust 5), bought at volume 100, run twice: a call
	/// per vote and reveal, then (by a second pool's workers) each worker's of a deal in one
	/// `utility.force_batch`; 0 for none.
	#[arg(long, default_value_t = 300)]
	replicated_tasks: usize,
	/// Samples of the monte-carlo example run as a WASI module and as native code, to compare
	/// them (needs root: the native binary runs in a chroot); 0 for none.
	#[arg(long, default_value_t = 100_000_000)]
	execution_samples: u64,
	/// Runs of each way, of which the median is reported.
	#[arg(long, default_value_t = 5)]
	execution_runs: usize,
	/// Only compares the WASI module with native code: starts no chain.
	#[arg(long)]
	execution_only: bool,
	/// Workers of the pool (each signs its tasks' contributions).
	#[arg(long, default_value_t = 20)]
	workers: usize,
	/// Requesters (each signs its deals' matches).
	#[arg(long, default_value_t = 20)]
	requesters: usize,
	/// An argument for every node it starts (repeat it), e.g. `--node-arg=--pool-limit=8192`.
	#[arg(long = "node-arg", value_name = "ARG", allow_hyphen_values = true)]
	node_args: Vec<String>,
	/// Writes the report (Markdown) and the per-block plot (SVG) beside each other:
	/// `<path>.md` and `<path>.svg`.
	#[arg(long, value_name = "PATH")]
	output: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() {
	let options = Options::parse();
	if options.execution_only {
		let text = compare_execution(&options).await;
		println!("{text}");
		if let Some(path) = options.output {
			std::fs::write(path.with_extension("md"), &text).expect("the report is written");
		}
		return;
	}
	let dir = TestDir::new("throughput");
	let nodes = start_network(&dir, &options.validators, &options.node_args).await;
	let chain: &commons_client::Chain = &nodes[0];
	eprintln!("throughput: {} validator(s) up; funding the harness's accounts", nodes.len());

	let senders: Vec<_> = (0..options.senders).map(|i| Keys::pair(&format!("sender{i}"))).collect();
	let requesters: Vec<_> =
		(0..options.requesters).map(|i| Keys::pair(&format!("requester{i}"))).collect();
	let accounts: Vec<AccountId> = senders
		.iter()
		.chain(&requesters)
		.map(|pair| AccountId::from(pair.public()))
		.collect();
	fund(chain, &accounts, 1_000 * CMN).await;
	let market = Market::open(chain, "bench", options.workers).await;
	// Replicated tasks raise their workers' scores, and with them their votes' weight: the
	// second replicated run has workers of its own, as fresh as the first's.
	let batching_market = if options.replicated_tasks > 0 {
		Some(Market::open(chain, "batching", options.workers).await)
	} else {
		None
	};

	let mut outcomes: Vec<Outcome> = Vec::new();
	let mut keys = Keys::new(chain).await;
	let wave = market::transfers(chain, &mut keys, &senders, options.transfers_each).await;
	outcomes.push(measured(chain, wave).await);
	let mut runs = Vec::new();
	let batched = options.volumes.iter().map(|volume| (*volume, Settlement::Batched));
	let single = options.single_call_volumes.iter().map(|volume| (*volume, Settlement::PerTask));
	for (volume, settlement) in batched.chain(single) {
		let first = outcomes.len();
		keys.refresh(chain).await;
		let wave = market.matches(chain, &mut keys, &requesters, options.tasks, (volume, 1)).await;
		let matched = measured(chain, wave).await;
		let deals = deals_created(&matched.events);
		outcomes.push(matched);
		keys.refresh(chain).await;
		let (wave, assigned) = market.openings(chain, &mut keys, &deals, 1).await;
		outcomes.push(measured(chain, wave).await);
		keys.refresh(chain).await;
		let wave = match settlement {
			Settlement::Batched => market.batched_contributions(chain, &mut keys, &assigned).await,
			Settlement::PerTask => market.contributions(chain, &mut keys, &assigned).await,
		};
		let contributed = measured(chain, wave).await;
		let finalized = tasks_finalized(&contributed.events);
		outcomes.push(contributed);
		let label = match settlement {
			Settlement::Batched => format!("trust 1, volume {volume}"),
			Settlement::PerTask => format!("trust 1, volume {volume}, a call per task"),
		};
		runs.push(report::TaskRun { label, waves: first..outcomes.len(), finalized });
	}
	// Replicated tasks, the votes and reveals a call each, then each worker's of a deal batched.
	for (market, batched) in
		[(&market, false)].into_iter().chain(batching_market.iter().map(|m| (m, true)))
	{
		let first = outcomes.len();
		keys.refresh(chain).await;
		let deal_kind = (100, market::REPLICATED_TRUST);
		let wave = market
			.matches(chain, &mut keys, &requesters, options.replicated_tasks, deal_kind)
			.await;
		let matched = measured(chain, wave).await;
		let deals = deals_created(&matched.events);
		outcomes.push(matched);
		keys.refresh(chain).await;
		let (wave, assigned) =
			market.openings(chain, &mut keys, &deals, market::REPLICATED_WORKERS).await;
		outcomes.push(measured(chain, wave).await);
		keys.refresh(chain).await;
		let wave = market.votes(chain, &mut keys, &assigned, batched).await;
		outcomes.push(measured(chain, wave).await);
		keys.refresh(chain).await;
		let wave = market.reveals(chain, &mut keys, &assigned, batched).await;
		let revealed = measured(chain, wave).await;
		let finalized = tasks_finalized(&revealed.events);
		outcomes.push(revealed);
		let label = format!(
			"{} workers (trust {}), volume 100{}",
			market::REPLICATED_WORKERS,
			market::REPLICATED_TRUST,
			if batched {
				", a worker's votes, then reveals, of a deal in one force_batch"
			} else {
				""
			}
		);
		runs.push(report::TaskRun { label, waves: first..outcomes.len(), finalized });
	}
	let machine = report::Machine::here(nodes.len());
	let mut text = report::markdown(&machine, &outcomes, &runs);
	if options.execution_samples > 0 {
		// The chain's figures first, should the comparison fail.
		eprintln!("{text}");
		// The chain is idle by now: nothing else competes for the cores.
		text.push_str(&compare_execution(&options).await);
	}
	println!("{text}");
	if let Some(path) = options.output {
		std::fs::write(path.with_extension("md"), &text).expect("the report is written");
		std::fs::write(path.with_extension("svg"), report::svg(&outcomes))
			.expect("the plot is written");
	}
}

/// How a trust-1 run's workers send their results.
#[derive(Clone, Copy)]
enum Settlement {
	/// A worker's results of a deal in one `contribute_and_finalize_batch`.
	Batched,
	/// One `contribute_and_finalize` per task.
	PerTask,
}

/// The monte-carlo example as a WASI module and as native code, as a Markdown table.
async fn compare_execution(options: &Options) -> String {
	eprintln!("throughput: the monte-carlo example as a WASI module and as native code");
	// The runs block, and the module's WASI host calls start their own runtime: off the
	// harness's.
	let (samples, each) = (options.execution_samples, options.execution_runs);
	let compared = tokio::task::spawn_blocking(move || execution::compare(samples, each))
		.await
		.expect("the comparison does not panic")
		.unwrap_or_else(|error| panic!("comparing WASI with native code: {error}"));
	report::execution(&compared)
}

/// Runs `wave` and says how it went on the way.
async fn measured(chain: &commons_client::Chain, wave: wave::Wave) -> Outcome {
	eprintln!("throughput: {} x {}", wave.extrinsics.len(), wave.name);
	let outcome = wave::run(chain, wave).await;
	eprintln!(
		"throughput:   {} included in {} block(s), {} refused, {} dropped",
		outcome.included_by_nonce,
		outcome.blocks.len(),
		outcome.refused.values().sum::<usize>(),
		outcome.dropped()
	);
	outcome
}

/// A dev chain (one validator) or a local network of Alice, Bob and Charlie, ready to author.
async fn start_network(dir: &TestDir, validators: &str, extra: &[String]) -> Vec<TestNode> {
	// Several nodes on one machine would share the metrics port.
	let extra: Vec<&str> = ["--no-prometheus"]
		.into_iter()
		.chain(extra.iter().map(String::as_str))
		.collect();
	let nodes = if validators == "1" {
		let node = TestNode::start(dir, "alice", &[&["--dev"][..], &extra].concat());
		node.wait_until_serving().await;
		vec![node]
	} else {
		let names = [("alice", "--alice"), ("bob", "--bob"), ("charlie", "--charlie")];
		start_validators(dir, "local", &names, &extra).await
	};
	let first = nodes[0].best_number().await.expect("the node answers");
	commons_e2e::wait_for("the chain to author blocks", Duration::from_secs(120), || async {
		let best = nodes[0].best_number().await.map_err(|error| error.to_string())?;
		if best > first + 1 {
			Ok(())
		} else {
			Err(format!("best block {best}"))
		}
	})
	.await;
	nodes
}
