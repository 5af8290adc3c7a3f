//! A dataset owner's key service (`commons key-service`): it follows the chain and, for every
//! worker assigned to a task of a deal buying one of the owner's encrypted datasets, decides
//! whether that worker's enclave may have the dataset's key and, if so, seals the key to it and
//! releases it on chain (`Contribution::release_dataset_key`).
//!
//! ## The owner decides, before anything is published
//!
//! A sealed key in a transaction is public the moment it is sent, whether the chain accepts the
//! transaction or not. So the service checks everything itself first, on the node's last
//! finalized block, and sends nothing unless all of it holds:
//!
//! - the deal is of an app the owner trusts (`--allow-app`);
//! - the worker is assigned to the open task, and the task pinned its enclave at assignment;
//! - that enclave's measurement is one the owner trusts (`--allow-measurement`), whatever the
//!   app itself allows;
//! - the worker's registration is that same enclave (same measurement and keys), unexpired, and
//!   attested by hardware: simulated evidence only on a development or local test chain (by its
//!   spec's chain type) whose genesis allows
//!   it for confidential data;
//! - its encryption key is not of small order.
//!
//! The key is sealed to the pinned enclave's key, never to whatever the registry holds later.
//! Its answers come from one node and are not proven, so the service follows only a node on
//! its own machine unless told otherwise (`--trust-remote-node`).
//!
//! ## Running
//!
//! Its keys are files `<dataset id>.key` in its keys directory (hex, as `commons
//! encrypt-dataset` writes them), read when needed, so a dataset registered later needs no
//! restart. The directory also keeps `cursor`, the next block to read, so a restarted service
//! catches up on the assignments it missed: it follows the chain with a
//! [`Follower`](crate::follow::Follower), as the compute node does. The releases it owed when
//! it stopped it finds again in the tasks on chain. Each release is an event on
//! chain and a line in the service's log; each refusal is a line in the log, once. SIGTERM or
//! SIGINT stops it between rounds.
//!
//! The owner's account need not be on the machine: with `--proxy-for <owner>`, `--key` is a hot
//! key the owner added as its `KeyService` proxy, which can make releases and do nothing else in
//! its name (a stolen one could still release garbage first, failing those tasks: the chain
//! checks whom a release is sealed to, not what it holds). `--prometheus-port` (or `--prometheus-addr`) serves its metrics,
//! and `--dry-run` checks its configuration against the chain and exits.

mod checks;
mod metrics;

use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	time::Instant,
};

use commons_primitives::{is_small_order_x25519, Measurement, PinnedEnclave, X25519PublicKey};
use commons_runtime::{governance::ProxyType, AccountId, BlockNumber, RuntimeCall, RuntimeEvent};
use pallet_attestation::{Attester, Enclave};
use pallet_contribution::{TaskId, TaskStatus};
use pallet_marketplace::{AppId, DatasetId, DealId};
use sp_core::sr25519;

pub use self::metrics::Metrics;
use crate::{
	confidential::{seal_dataset_key, DatasetKey},
	dry_run::{ensure_proxy, report},
	follow::{events_between, Cursor, Follower, Round, POLL_INTERVAL},
	measurement::MeasurementArg,
	service::{serve_metrics, PrometheusOptions, StopSignal},
	Chain, ClientError, Signer,
};

/// The target of the key service's log lines.
const LOG_TARGET: &str = "commons::key_service";

/// How many blocks an unconfirmed release waits before it is sent again.
const RESEND_AFTER_BLOCKS: BlockNumber = 10;

/// `commons key-service`: what the service needs besides the node it follows and the dataset
/// owner's key, which are the command line's global `--rpc` and `--key`.
#[derive(Debug, clap::Args)]
pub struct KeyServiceCmd {
	/// The directory holding the datasets' keys, one file `<dataset id>.key` each.
	#[arg(long)]
	pub keys_dir: PathBuf,

	/// The first block to read assignments from (default: where the last run stopped, or the
	/// best block on a first start).
	#[arg(long)]
	pub from_block: Option<BlockNumber>,

	/// An app the owner trusts with its datasets (repeat for several): keys are released only
	/// for deals of these apps.
	#[arg(long = "allow-app", required = true)]
	pub allowed_apps: Vec<AppId>,

	/// An enclave measurement the owner trusts with its datasets, `sgx:0x<MRENCLAVE>` or
	/// `tdx:0x<MRTD>` (repeat for several): keys are released only to enclaves of these, whatever
	/// the app allows.
	#[arg(long = "allow-measurement", required = true)]
	pub allowed_measurements: Vec<MeasurementArg>,

	/// Follow a node on another machine. Its answers are not proven, so whoever runs it could
	/// steer which enclave receives the keys: without this, only a node on this machine is
	/// followed.
	#[arg(long)]
	pub trust_remote_node: bool,

	/// Acts for this account (SS58) as its `KeyService` proxy: `--key` is then a hot key the
	/// dataset owner added with `proxy.addProxy(<key>, KeyService, 0)`. The datasets are the
	/// account's; the key signs and pays for the releases, and can do nothing else for it.
	#[arg(long)]
	pub proxy_for: Option<AccountId>,

	/// Where to serve Prometheus metrics, if anywhere.
	#[command(flatten)]
	pub prometheus: PrometheusOptions,

	/// Checks the configuration against the chain (the node and its runtime, the signing key
	/// and proxy, the keys directory and its keys, the owner's encrypted datasets, the allowed
	/// apps), prints what it found and exits (status 1 if something is not ready), without
	/// sending anything.
	#[arg(long)]
	pub dry_run: bool,
}

impl KeyServiceCmd {
	/// Runs the service of the dataset owner holding `pair` (or, with `--proxy-for`, of the
	/// owner `pair` is the proxy of), following `chain`, until it is stopped.
	pub async fn run(&self, chain: Chain, pair: sr25519::Pair) -> Result<(), ClientError> {
		let stop = StopSignal::listen()
			.map_err(|error| ClientError::Io { action: "cannot handle SIGTERM".into(), error })?;
		if !chain.is_local() && !self.trust_remote_node {
			return Err(ClientError::Other(
				"the key service follows only a node on this machine, whose answers it can trust: \
				 run one, or pass --trust-remote-node to trust the node at --rpc with who receives \
				 the datasets' keys"
					.into(),
			));
		}
		chain.ensure_same_runtime().await?;
		let signer = match &self.proxy_for {
			Some(owner) => Signer::proxy_of(pair, owner.clone(), ProxyType::KeyService),
			None => Signer::new(pair),
		};
		let follower = self.follower(&chain).await;
		if self.dry_run {
			let findings = self.check(&chain, &signer, &follower).await?;
			return report(&findings).map_err(ClientError::Other);
		}
		let mut follower = follower?;
		ensure_proxy(&chain, &signer).await?;
		let metrics = self
			.prometheus
			.address()
			.map(|address| serve_metrics(address, Metrics::register))
			.transpose()
			.map_err(ClientError::Other)?;
		// Only a chain that says it is for development or local testing may trust simulated
		// enclaves with data, and then only if its genesis says so too.
		let development = matches!(chain.chain_type().await?.as_str(), "Development" | "Local");
		let mut service = KeyService {
			owner: signer.account(),
			signer,
			chain,
			keys_dir: self.keys_dir.clone(),
			policy: OwnerPolicy {
				apps: self.allowed_apps.clone(),
				measurements: self.allowed_measurements.iter().map(|arg| arg.0).collect(),
				development,
			},
			pending: BTreeMap::new(),
			metrics,
		};
		service.recover_owed().await?;
		log::info!(
			target: LOG_TARGET,
			"key service of {}{} following from block {}, keys in {}",
			service.owner,
			match service.signer.is_proxy() {
				true => " (through its KeyService proxy)",
				false => "",
			},
			follower.next_block(),
			self.keys_dir.display()
		);
		loop {
			if stop.is_asked() {
				log::info!(target: LOG_TARGET, "stopped");
				return Ok(());
			}
			let round = follower.round(|from, to| service.note_assignments(from, to)).await;
			if let Round::Stuck { at, error } = round {
				return Err(Round::stuck_error(&service.chain, at, &error).await);
			}
			if round.best().is_some() {
				if let Err(error) = service.release_pending().await {
					log::warn!(target: LOG_TARGET, "{error}");
				}
				if let Some(metrics) = &service.metrics {
					metrics.owed.set(service.pending.len() as u64);
					metrics.block_read.set(follower.next_block().saturating_sub(1).into());
				}
			}
			tokio::select! {
				_ = tokio::time::sleep(POLL_INTERVAL) => {},
				_ = stop.asked() => {},
			}
		}
	}

	/// Where the service reads assignments from: `--from-block`, or its cursor in the keys
	/// directory, or the best block.
	async fn follower(&self, chain: &Chain) -> Result<Follower, ClientError> {
		let cursor = Cursor::new(self.keys_dir.join("cursor"));
		Follower::start(
			chain.clone(),
			cursor,
			self.from_block,
			|message| log::warn!(target: LOG_TARGET, "{message}"),
		)
		.await
	}
}

struct KeyService {
	/// The dataset owner: the key's account, or the account it is the proxy of.
	owner: AccountId,
	signer: Signer,
	chain: Chain,
	keys_dir: PathBuf,
	policy: OwnerPolicy,
	/// The releases owed, noted from assignments until they are made or refused.
	pending: BTreeMap<(TaskId, AccountId), Owed>,
	metrics: Option<Metrics>,
}

/// What the dataset owner trusts with its data, besides what the chain checks.
pub struct OwnerPolicy {
	/// The apps whose deals may have the keys.
	pub apps: Vec<AppId>,
	/// The enclave measurements that may have the keys.
	pub measurements: Vec<Measurement>,
	/// Whether the chain is a development or local test chain, where simulated enclaves may be
	/// trusted with
	/// test data if its genesis says so.
	pub development: bool,
}

/// A release owed to an assigned worker.
struct Owed {
	/// The block whose events showed the assignment: it is judged once that block is final.
	noted_at: BlockNumber,
	/// When the service read the assignment.
	noted: Instant,
	/// The finalized block it was last sent at.
	sent_at: Option<BlockNumber>,
	/// Why it last had to wait, as reported (to report each reason once).
	waiting_for: Option<String>,
	/// Why sending it last failed, as reported (to report and count each failure once: it is
	/// tried again every round).
	failing_with: Option<String>,
}

impl Owed {
	/// A release owed for an assignment seen in block `block`, now.
	fn noted(block: BlockNumber) -> Self {
		Self {
			noted_at: block,
			noted: Instant::now(),
			sent_at: None,
			waiting_for: None,
			failing_with: None,
		}
	}
}

/// What to do about one owed release after looking at the chain.
#[derive(Debug, PartialEq)]
enum Next {
	/// Nothing more: released, or the task no longer needs it, or the deal is not ours.
	Drop,
	/// Never: the owner's policy or the enclave's evidence does not allow it (reported once).
	Refuse(String),
	/// Not yet, for this reason: the assignment is not final, the enclave must re-attest, or a
	/// release is still on its way.
	Wait(String),
	/// Seal the key of this dataset to this enclave key and send it.
	Send(DatasetId, X25519PublicKey),
}

impl KeyService {
	/// Notes every worker assigned in blocks `from..=to` to a task buying one of the owner's
	/// encrypted datasets (as the best block shows it: the release is judged again once the
	/// assignment is final). An error means some block could not be read: the follower hands
	/// the blocks over again.
	async fn note_assignments(
		&mut self,
		from: BlockNumber,
		to: BlockNumber,
	) -> Result<(), ClientError> {
		let mut ours = BTreeMap::new();
		for event in events_between(&self.chain, from, to).await? {
			if let RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
				task,
				workers,
			}) = event
			{
				let Some(deal) = self.chain.task(task).await?.map(|task| task.deal) else {
					continue; // settled and pruned since: nothing is owed
				};
				if !self.buys_our_dataset(deal, &mut ours).await? {
					continue;
				}
				for worker in workers {
					self.pending
						.entry((task, worker))
						.or_insert_with(|| Owed::noted(to))
						.noted_at = to;
				}
			}
		}
		Ok(())
	}

	/// Notes the releases owed for assignments made before this start: every worker assigned
	/// to an open task of a deal buying one of the owner's encrypted datasets, with no key yet.
	/// A service stopped after noting an assignment and before releasing its key would
	/// otherwise never release it: its cursor is past that assignment's block.
	async fn recover_owed(&mut self) -> Result<(), ClientError> {
		let best = self.chain.best_number().await?;
		let mut ours = BTreeMap::new();
		for (id, task) in self.chain.tasks().await? {
			if task.status != TaskStatus::Active
				|| !self.buys_our_dataset(task.deal, &mut ours).await?
			{
				continue;
			}
			for worker in
				task.assigned.iter().filter(|worker| task.dataset_key_of(worker).is_none())
			{
				self.pending.entry((id, worker.clone())).or_insert_with(|| Owed::noted(best));
			}
		}
		Ok(())
	}

	/// Whether `deal` buys one of the owner's encrypted datasets, at the best block; `known`
	/// keeps the answers already read (a deal has many tasks).
	async fn buys_our_dataset(
		&self,
		deal: DealId,
		known: &mut BTreeMap<DealId, bool>,
	) -> Result<bool, ClientError> {
		if let Some(ours) = known.get(&deal) {
			return Ok(*ours);
		}
		let dataset = self.chain.deal(deal).await?.and_then(|deal| deal.dataset);
		let ours = match dataset {
			Some(dataset) => self
				.chain
				.dataset(dataset.id)
				.await?
				.is_some_and(|entry| entry.encrypted && entry.owner == self.owner),
			None => false,
		};
		known.insert(deal, ours);
		Ok(ours)
	}

	/// Judges every owed release on the last finalized block: sends what may be sent, reports
	/// and forgets what may not, and keeps what must wait.
	async fn release_pending(&mut self) -> Result<(), ClientError> {
		let finalized_hash = self.chain.finalized_hash().await?;
		let finalized = self.chain.at(finalized_hash);
		let finalized_number = self.chain.block_number(finalized_hash).await?;
		for ((task, worker), mut owed) in std::mem::take(&mut self.pending) {
			let next = if finalized_number < owed.noted_at {
				Next::Wait("its assignment is not final yet".into())
			} else {
				match self.next_step(&finalized, finalized_number, task, &worker, &owed).await {
					Ok(next) => next,
					Err(error) => Next::Wait(error.to_string()),
				}
			};
			match next {
				Next::Drop => continue,
				Next::Refuse(reason) => {
					log::warn!(
						target: LOG_TARGET,
						"task {task:?}: the key is not released to {worker}: {reason}"
					);
					self.metrics.iter().for_each(|metrics| metrics.refused.inc());
					continue;
				}
				Next::Wait(reason) => {
					if owed.waiting_for.as_ref() != Some(&reason) {
						log::info!(
							target: LOG_TARGET,
							"task {task:?}, worker {worker}: waiting: {reason}"
						);
						owed.waiting_for = Some(reason);
					}
				}
				Next::Send(dataset, recipient) => {
					match self.send(task, &worker, dataset, &recipient).await {
						Ok(()) => {
							if let Some(metrics) = &self.metrics {
								metrics.released.inc();
								if owed.sent_at.is_none() {
									metrics
										.release_seconds
										.observe(owed.noted.elapsed().as_secs_f64());
								}
							}
							owed.sent_at = Some(finalized_number);
							owed.failing_with = None;
						}
						Err(error) => {
							let error = error.to_string();
							if owed.failing_with.as_ref() != Some(&error) {
								log::warn!(
									target: LOG_TARGET,
									"task {task:?}, worker {worker}: {error}; trying again"
								);
								self.metrics.iter().for_each(|metrics| metrics.failed.inc());
								owed.failing_with = Some(error);
							}
						}
					}
				}
			}
			self.pending.insert((task, worker), owed);
		}
		Ok(())
	}

	/// Seals `dataset`'s key to `recipient` for `task` and sends the release.
	async fn send(
		&self,
		task: TaskId,
		worker: &AccountId,
		dataset: DatasetId,
		recipient: &X25519PublicKey,
	) -> Result<(), ClientError> {
		// A proxy the owner removed since the start would have every release fail, paid for.
		ensure_proxy(&self.chain, &self.signer).await?;
		let key = DatasetKey::load(&key_file(&self.keys_dir, dataset))?;
		let sealed = seal_dataset_key(&key, recipient, &task)?;
		let call =
			pallet_contribution::Call::release_dataset_key { task, worker: worker.clone(), sealed };
		let call = self.signer.call(RuntimeCall::Contribution(call));
		self.chain.sign_and_submit(call, self.signer.pair()).await?;
		log::info!(
			target: LOG_TARGET,
			"sent dataset {dataset}'s key, sealed to {worker}'s enclave, for task {task:?}"
		);
		Ok(())
	}

	/// What to do about the release owed to `worker` on `task`, judged on `finalized` (block
	/// `number`).
	async fn next_step(
		&self,
		finalized: &Chain,
		number: BlockNumber,
		task_id: TaskId,
		worker: &AccountId,
		owed: &Owed,
	) -> Result<Next, ClientError> {
		let Some(task) = finalized.task(task_id).await? else { return Ok(Next::Drop) };
		if task.status != TaskStatus::Active
			|| number >= task.contribution_deadline
			|| !task.assigned.contains(worker)
			|| task.dataset_key_of(worker).is_some()
		{
			return Ok(Next::Drop);
		}
		let Some(deal) = finalized.deal(task.deal).await? else { return Ok(Next::Drop) };
		let Some(dataset) = deal.dataset.as_ref().map(|purchase| purchase.id) else {
			return Ok(Next::Drop);
		};
		let registered = finalized.dataset(dataset).await?;
		if !registered.is_some_and(|entry| entry.encrypted && entry.owner == self.owner) {
			return Ok(Next::Drop);
		}
		let enclave = finalized.enclave(worker).await?;
		let now = finalized.now().await?;
		let simulated_allowed =
			self.policy.development && finalized.simulated_confidential_allowed().await?;
		let next = judge(
			&self.policy,
			deal.app.id,
			task.enclave_of(worker),
			enclave.as_ref(),
			now,
			simulated_allowed,
		)
		.map(|recipient| Next::Send(dataset, recipient))
		.unwrap_or_else(|refusal| refusal);
		if matches!(next, Next::Send(..))
			&& owed.sent_at.is_some_and(|sent| number < sent + RESEND_AFTER_BLOCKS)
		{
			return Ok(Next::Wait("the release sent is not final yet".into()));
		}
		Ok(next)
	}
}

/// Whether the owner's `policy` lets the enclave `pinned` at assignment, on a deal of `app`,
/// have the key, given the worker's registration `registered` at `now` (milliseconds) and
/// whether simulated evidence counts for confidential data (`simulated_allowed`): the key it
/// is sealed to, or what to do instead.
fn judge(
	policy: &OwnerPolicy,
	app: AppId,
	pinned: Option<&PinnedEnclave>,
	registered: Option<&Enclave>,
	now: u64,
	simulated_allowed: bool,
) -> Result<X25519PublicKey, Next> {
	if !policy.apps.contains(&app) {
		return Err(Next::Refuse(format!("app {app} is not one the owner allows")));
	}
	let pinned = pinned.ok_or_else(|| {
		Next::Refuse("the task pinned no enclave for it (not a TEE task?)".into())
	})?;
	if is_small_order_x25519(&pinned.encryption) {
		return Err(Next::Refuse("its enclave key is an X25519 key of small order".into()));
	}
	let registered = registered
		.ok_or_else(|| Next::Wait("it has no registered enclave (it may re-attest)".into()))?;
	if registered.pinned() != *pinned {
		return Err(Next::Wait(
			"its registered enclave is not the one it was assigned with (it may re-attest it)"
				.into(),
		));
	}
	// Judged on the registration, which is the pinned enclave: a signer-based entry needs
	// the quoted signer, product and version, which only the registration holds.
	if !policy.measurements.iter().any(|allowed| registered.satisfies(allowed)) {
		return Err(Next::Refuse(format!(
			"its enclave's measurement {:?} is not one the owner allows",
			pinned.measurement
		)));
	}
	if now >= registered.expires_at {
		return Err(Next::Wait("its enclave's attestation expired (it may re-attest)".into()));
	}
	if registered.attester == Attester::Simulated && !simulated_allowed {
		return Err(Next::Refuse(
			"its enclave is simulated, which this chain does not trust with data".into(),
		));
	}
	Ok(pinned.encryption)
}

/// Where the key of `dataset` is kept in `keys_dir`.
fn key_file(keys_dir: &Path, dataset: DatasetId) -> PathBuf {
	keys_dir.join(format!("{dataset}.key"))
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_attestation::{EnclaveKeys, QuotedIdentity, TcbStatus, TeeKind};

	const APP: AppId = 4;
	const MEASUREMENT: Measurement = Measurement::SgxMrEnclave([7; 32]);
	const NOW: u64 = 1_000;

	fn policy() -> OwnerPolicy {
		OwnerPolicy { apps: vec![APP], measurements: vec![MEASUREMENT], development: false }
	}

	fn hardware() -> Attester {
		Attester::IntelDcap {
			status: TcbStatus::UpToDate,
			fmspc: [0; 6],
			identity: QuotedIdentity::Sgx { mr_signer: [1; 32], isv_prod_id: 0, isv_svn: 0 },
		}
	}

	/// A worker's registration of an enclave of `measurement` with keys from `seed`.
	fn registration(measurement: Measurement, seed: u8, attester: Attester) -> Enclave {
		Enclave {
			kind: TeeKind::Sgx,
			measurement,
			keys: EnclaveKeys { signing: [seed; 32], encryption: [seed.wrapping_add(1); 32] },
			attester,
			attested_at: 0,
			expires_at: NOW + 1,
		}
	}

	fn judged(pinned: &Enclave, registered: &Enclave) -> Result<X25519PublicKey, Next> {
		judge(&policy(), APP, Some(&pinned.pinned()), Some(registered), NOW, false)
	}

	#[test]
	fn the_key_goes_to_the_pinned_attested_allowed_enclave() {
		let enclave = registration(MEASUREMENT, 2, hardware());
		assert_eq!(judged(&enclave, &enclave), Ok(enclave.keys.encryption));
	}

	#[test]
	fn an_enclave_re_registered_after_assignment_gets_nothing() {
		let pinned = registration(MEASUREMENT, 2, hardware());
		// Other keys under the same (allowed) measurement, or another measurement.
		for swapped in [
			registration(MEASUREMENT, 3, hardware()),
			registration(Measurement::SgxMrEnclave([8; 32]), 2, hardware()),
		] {
			assert!(matches!(judged(&pinned, &swapped), Err(Next::Wait(_))));
		}
		// Gone, or expired.
		let none = judge(&policy(), APP, Some(&pinned.pinned()), None, NOW, false);
		assert!(matches!(none, Err(Next::Wait(_))));
		let expired = judge(&policy(), APP, Some(&pinned.pinned()), Some(&pinned), NOW + 1, false);
		assert!(matches!(expired, Err(Next::Wait(_))));
	}

	#[test]
	fn the_owner_s_lists_decide_whatever_the_app_allows() {
		let elsewhere = Measurement::SgxMrEnclave([9; 32]);
		let enclave = registration(elsewhere, 2, hardware());
		assert!(matches!(judged(&enclave, &enclave), Err(Next::Refuse(_))));
		let enclave = registration(MEASUREMENT, 2, hardware());
		let other_app =
			judge(&policy(), APP + 1, Some(&enclave.pinned()), Some(&enclave), NOW, false);
		assert!(matches!(other_app, Err(Next::Refuse(_))));
		let unpinned = judge(&policy(), APP, None, Some(&enclave), NOW, false);
		assert!(matches!(unpinned, Err(Next::Refuse(_))));
	}

	#[test]
	fn a_simulated_enclave_gets_data_only_where_the_chain_allows_it() {
		let enclave = registration(MEASUREMENT, 2, Attester::Simulated);
		assert!(matches!(judged(&enclave, &enclave), Err(Next::Refuse(_))));
		let allowed = judge(&policy(), APP, Some(&enclave.pinned()), Some(&enclave), NOW, true);
		assert_eq!(allowed, Ok(enclave.keys.encryption));
	}

	#[test]
	fn an_owner_may_trust_an_sgx_signer_s_enclaves() {
		let enclave = registration(MEASUREMENT, 2, hardware());
		let trusting = |min_isv_svn| OwnerPolicy {
			measurements: vec![Measurement::SgxSigner {
				mr_signer: [1; 32],
				isv_prod_id: 0,
				min_isv_svn,
			}],
			..policy()
		};
		let judged = |policy: &OwnerPolicy| {
			judge(policy, APP, Some(&enclave.pinned()), Some(&enclave), NOW, false)
		};
		assert_eq!(judged(&trusting(0)), Ok(enclave.keys.encryption));
		assert!(matches!(judged(&trusting(1)), Err(Next::Refuse(_))));
		// A simulated enclave shows no signer.
		let simulated = registration(MEASUREMENT, 2, Attester::Simulated);
		let judged =
			judge(&trusting(0), APP, Some(&simulated.pinned()), Some(&simulated), NOW, true);
		assert!(matches!(judged, Err(Next::Refuse(_))));
	}

	#[test]
	fn a_small_order_key_never_gets_a_key() {
		let mut enclave = registration(MEASUREMENT, 2, hardware());
		enclave.keys.encryption = [0; 32];
		assert!(matches!(judged(&enclave, &enclave), Err(Next::Refuse(_))));
	}
}
