//! The compute node's Prometheus metrics, served by `substrate-prometheus-endpoint` as the node's
//! own are.

use std::net::SocketAddr;

use prometheus_endpoint::{register, Counter, PrometheusError, Registry, U64};

use crate::LOG_TARGET;

/// Counters of what the compute node did with the tasks it learnt of.
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
	/// Tasks it could not compute, contribute to or reveal.
	pub failed: Counter<U64>,
}

impl Metrics {
	/// Registers the counters and serves them at `http://127.0.0.1:<port>/metrics` for as long
	/// as the process runs. Must be called within a tokio runtime.
	pub fn serve(port: u16) -> Result<Self, String> {
		let registry = Registry::new();
		let metrics = Self::register(&registry).map_err(|error| error.to_string())?;
		let address = SocketAddr::from(([127, 0, 0, 1], port));
		tokio::spawn(async move {
			if let Err(error) = prometheus_endpoint::init_prometheus(address, registry).await {
				log::error!(target: LOG_TARGET, "commons-compute: metrics on {address}: {error}");
			}
		});
		Ok(metrics)
	}

	/// Registers the counters in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str| {
			register(Counter::new(format!("commons_compute_tasks_{name}_total"), help)?, registry)
		};
		Ok(Self {
			received: counter("received", "Tasks assigned to this compute node, by push or event")?,
			executed: counter("executed", "Tasks whose module ran to completion")?,
			contributed: counter("contributed", "Contributions submitted")?,
			revealed: counter("revealed", "Reveals submitted")?,
			failed: counter("failed", "Tasks that could not be computed, contributed or revealed")?,
		})
	}
}
