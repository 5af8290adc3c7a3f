//! The key service's Prometheus metrics: what it released and refused, what it still owes, and
//! how far behind the chain it is.

use prometheus_endpoint::{
	exponential_buckets, register, Counter, Gauge, Histogram, HistogramOpts, PrometheusError,
	Registry, U64,
};

/// The key service's metrics.
#[derive(Clone)]
pub struct Metrics {
	/// Releases sent: sealed keys submitted, including a release sent again.
	pub released: Counter<U64>,
	/// Releases refused for good: the owner's policy or the enclave's evidence does not allow
	/// them.
	pub refused: Counter<U64>,
	/// Releases that could not be sent (a key file missing or unreadable, the proxy gone, the
	/// node refusing the transaction), each counted once per reason: they are tried again every
	/// round.
	pub failed: Counter<U64>,
	/// Releases owed and not yet made or refused, at the end of the last round: waiting for
	/// finality, for an enclave to re-attest, or for a release sent to be final.
	pub owed: Gauge<U64>,
	/// The last block whose assignments were read.
	pub block_read: Gauge<U64>,
	/// Seconds from reading an assignment to sending its release: mostly the wait for the
	/// assignment's finality, which a worker waits too.
	pub release_seconds: Histogram,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counter = |name: &str, help: &str| {
			register(Counter::new(format!("commons_key_service_{name}_total"), help)?, registry)
		};
		let gauge = |name: &str, help: &str| {
			register(Gauge::new(format!("commons_key_service_{name}"), help)?, registry)
		};
		Ok(Self {
			released: counter("releases_sent", "Sealed dataset keys submitted")?,
			refused: counter(
				"releases_refused",
				"Releases the owner's policy or evidence forbids",
			)?,
			failed: counter("releases_failed", "Releases that could not be sent, tried again")?,
			owed: gauge("releases_owed", "Releases not yet made or refused, after the last round")?,
			block_read: gauge("block_read", "The last block whose assignments were read")?,
			release_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"commons_key_service_release_seconds",
						"Time from reading an assignment to sending its release",
					)
					// 1 s to about an hour.
					.buckets(exponential_buckets(1.0, 2.0, 13)?),
				)?,
				registry,
			)?,
		})
	}
}
