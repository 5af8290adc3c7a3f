//! The compute node's Prometheus metrics, served by `substrate-prometheus-endpoint` as the node's
//! own are.

use prometheus_endpoint::{
	exponential_buckets, register, Counter, Gauge, Histogram, HistogramOpts, PrometheusError,
	Registry, F64, U64,
};

/// What the compute node did with the tasks it learnt of, and what it has in hand.
#[derive(Clone)]
pub struct Metrics {
	/// Tasks the compute node learnt it was assigned, by push or from the chain.
	pub received: Counter<U64>,
	/// Tasks whose module it ran to completion.
	pub executed: Counter<U64>,
	/// Contributions it submitted.
	pub contributed: Counter<U64>,
	/// Reveals it submitted.
	pub revealed: Counter<U64>,
	/// Votes and reveals it submitted again, the chain not showing them some blocks after their
	/// submission (the transaction pool may drop a transaction under load).
	pub resubmitted: Counter<U64>,
	/// Votes and reveals the node's transaction pool had no room for (full of transactions that
	/// outrank them), to be submitted again the next round.
	pub pool_full: Counter<U64>,
	/// Tasks it could not compute, contribute to or reveal.
	pub failed: Counter<U64>,
	/// Tasks assigned to it whose vote is not on chain yet (waiting for a dataset key, to be
	/// tried again, or submitted and not seen yet), at the end of its last round.
	pub waiting_to_vote: Gauge<U64>,
	/// Tasks whose consensus its vote won and whose reveal is not on chain yet, at the end of
	/// its last round.
	pub waiting_to_reveal: Gauge<U64>,
	/// How long computing a task took, in seconds: fetching the app and dataset, running the
	/// module, digesting (and sealing) its output.
	pub computation_seconds: Histogram,
	/// How long a task took this node from end to end, in seconds: from learning it was
	/// assigned to its last step, its vote for a task with one worker, else its reveal.
	pub task_seconds: Histogram,
	/// Bytes of apps and datasets fetched.
	pub fetched_bytes: Counter<U64>,
	/// What this node's votes on replicated tasks hold at stake until they settle, in CMN (a
	/// cheater's, or a silent revealer's, is lost), at the end of its last round.
	pub stake_at_risk_cmn: Gauge<F64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str| {
			register(Counter::new(format!("commons_compute_tasks_{name}_total"), help)?, registry)
		};
		Ok(Self {
			received: counter("received", "Tasks assigned to this compute node, by push or event")?,
			executed: counter("executed", "Tasks whose module ran to completion")?,
			contributed: counter("contributed", "Contributions submitted")?,
			revealed: counter("revealed", "Reveals submitted")?,
			resubmitted: counter(
				"resubmitted",
				"Votes and reveals submitted again, not on chain some blocks after submission",
			)?,
			pool_full: counter(
				"pool_full",
				"Votes and reveals the transaction pool had no room for, submitted again next round",
			)?,
			failed: counter("failed", "Tasks that could not be computed, contributed or revealed")?,
			waiting_to_vote: register(
				Gauge::new(
					"commons_compute_tasks_waiting_to_vote",
					"Assigned tasks whose vote is not on chain yet, at the end of the last round",
				)?,
				registry,
			)?,
			waiting_to_reveal: register(
				Gauge::new(
					"commons_compute_tasks_waiting_to_reveal",
					"Tasks whose reveal is due or not on chain yet, at the end of the last round",
				)?,
				registry,
			)?,
			computation_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"commons_compute_computation_seconds",
						"Time to fetch, run, digest and seal one task",
					)
					// 0.1 s to about 7 minutes.
					.buckets(exponential_buckets(0.1, 2.0, 13)?),
				)?,
				registry,
			)?,
			task_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"commons_compute_task_seconds",
						"Time from learning of an assignment to the last vote or reveal on it",
					)
					// 1 s to about an hour.
					.buckets(exponential_buckets(1.0, 2.0, 13)?),
				)?,
				registry,
			)?,
			fetched_bytes: register(
				Counter::new(
					"commons_compute_fetched_bytes_total",
					"Bytes of apps and datasets fetched",
				)?,
				registry,
			)?,
			stake_at_risk_cmn: register(
				Gauge::new(
					"commons_compute_stake_at_risk_cmn",
					"Stake held by this node's unsettled votes on replicated tasks, in CMN",
				)?,
				registry,
			)?,
		})
	}
}
