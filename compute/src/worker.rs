//! The compute node's work on the tasks assigned to it: a state machine advanced one round at a
//! time.
//!
//! A task is *noted* when the scheduler pushes it to the endpoint or when a `WorkersAssigned`
//! event names this worker. On each round of [`Worker::work`], every noted task is tried: the
//! worker checks on chain that the task is open and assigned to it, gets its digest (computed
//! once: the [`DigestStore`] keeps it across restarts) and contributes. Once the vote reaches
//! consensus (`ConsensusReached`), the worker reveals the digest behind its vote.
//!
//! A noted task is dropped:
//! - once contributed to, or when the chain shows nothing left for this worker to do (the task
//!   is settled or revealing, or this worker voted already);
//! - after [`ATTEMPTS`] failed tries (a read, a fetch, a run or a submission that failed);
//! - when the chain has not shown it assigned to this worker for [`PUSH_PATIENCE`] rounds: a
//!   push the chain never confirmed, or a task the scheduler gave to another worker instead.
//!
//! A task whose encrypted dataset's key has not reached this worker's enclave waits for it
//! until its contribution deadline.
//!
//! A TEE task's result is sealed to its beneficiary's result key, read from the chain when the
//! task is computed, and only the sealed result is served. A TEE task on an encrypted dataset
//! whose beneficiary has no key is not computed; one on public data is served in the clear.
//!
//! The worker reaches the chain through [`ChainView`] and computes through [`Compute`], so that
//! these rules are tested against a fake chain; [`crate::chain::RpcChain`] and
//! [`crate::computer::Computer`] are the real ones.

use std::{
	collections::{BTreeMap, BTreeSet},
	future::Future,
	ops::ControlFlow,
	sync::Arc,
	time::Instant,
};

use commons_client::{confidential::DatasetKey, ClientError};
use commons_runtime::{AccountId, Balance, BlockNumber, Runtime, RuntimeEvent, CMN};
use pallet_contribution::{
	ContributionStatus, ResultDigest, Task, TaskId, TaskStatus, X25519PublicKey,
};
use pallet_marketplace::{tag, Dataset, DatasetId, Deal, DealId};
use prometheus_endpoint::{Counter, U64};

use crate::{digests::DigestStore, metrics::Metrics, tee::SimulatedEnclave, LOG_TARGET};

/// How often a task that fails is tried before the worker gives up on it.
pub const ATTEMPTS: u32 = 3;

/// How many rounds (about a second each) a noted task may wait for the chain to show it assigned
/// to this worker: the scheduler pushes when it submits the assignment, a block or two before
/// inclusion.
pub const PUSH_PATIENCE: u32 = 60;

/// How many noted tasks may wait before pushes are dropped.
pub const MAX_PUSH_BACKLOG: usize = 1024;

/// A call of the contribution pallet, the only pallet the worker submits to.
pub type ContributionCall = pallet_contribution::Call<Runtime>;

/// What the worker reads from the chain and submits to it. Its errors are the client's: the
/// worker reports them, and tries again on its next round.
pub trait ChainView {
	/// The number of the best block.
	fn best_number(&self) -> impl Future<Output = Result<BlockNumber, ClientError>>;

	/// The events of block `number` of the best chain.
	fn events(
		&self,
		number: BlockNumber,
	) -> impl Future<Output = Result<Vec<RuntimeEvent>, ClientError>>;

	/// The task `id`, if it is on chain.
	fn task(&self, id: TaskId) -> impl Future<Output = Result<Option<Task<Runtime>>, ClientError>>;

	/// The deal `id`, if it is not settled.
	fn deal(&self, id: DealId) -> impl Future<Output = Result<Option<Deal<Runtime>>, ClientError>>;

	/// The registered dataset `id`.
	fn dataset(
		&self,
		id: DatasetId,
	) -> impl Future<Output = Result<Option<Dataset<Runtime>>, ClientError>>;

	/// The X25519 key `account` has its confidential tasks' results sealed to, if it set one.
	fn result_encryption_key(
		&self,
		account: &AccountId,
	) -> impl Future<Output = Result<Option<X25519PublicKey>, ClientError>>;

	/// Signs `call` with the worker's key and submits it, without waiting for its inclusion.
	fn submit(&self, call: ContributionCall) -> impl Future<Output = Result<(), ClientError>>;
}

/// How the worker gets a task's digest.
pub trait Compute {
	/// Runs `deal`'s app for `task` on `dataset` and returns the digest of its output, which is
	/// kept where requesters fetch results: sealed to `seal_to` when given (the output in the
	/// clear is then not kept), as it is otherwise.
	fn compute(
		&self,
		task: TaskId,
		deal: &Deal<Runtime>,
		dataset: Option<DatasetInput>,
		seal_to: Option<X25519PublicKey>,
	) -> impl Future<Output = Result<ResultDigest, String>>;
}

/// A deal's dataset, as the worker hands it over to be computed on.
pub struct DatasetInput {
	/// Its registry record: where it is and its checksum.
	pub record: Dataset<Runtime>,
	/// The key it is encrypted with, opened by this worker's enclave; `None` if it is not
	/// encrypted.
	pub key: Option<DatasetKey>,
}

/// What the worker is, fixed at start.
pub struct Settings {
	/// The worker's account, the one tasks are assigned to.
	pub account: AccountId,
	/// The enclave TEE tasks run in, in TEE mode.
	pub enclave: Option<Arc<SimulatedEnclave>>,
	/// Where requesters fetch results: the endpoint's `/results`, or the local directory. A
	/// task's result is at `<results_url>/<task>`.
	pub results_url: String,
	/// Where the worker counts what it does, if metrics are served.
	pub metrics: Option<Metrics>,
	/// TEST ONLY: [`Worker::work`] stops as soon as a vote on a replicated task is submitted,
	/// to play a node that crashes between contributing and revealing.
	pub stop_after_replicated_vote: bool,
}

/// The tasks this worker was told of, and what it did with them.
pub struct Worker<C, R> {
	chain: C,
	computer: R,
	account: AccountId,
	digests: DigestStore,
	enclave: Option<Arc<SimulatedEnclave>>,
	results_url: String,
	metrics: Option<Metrics>,
	stop_after_replicated_vote: bool,
	/// Tasks noted as assigned to this worker that it has not contributed to yet.
	assigned: BTreeMap<TaskId, Attempts>,
	/// Tasks whose vote reached consensus, to reveal on.
	revealing: BTreeSet<TaskId>,
	/// When this run of the worker learnt of each task it has a step left on.
	learnt_at: BTreeMap<TaskId, Instant>,
	/// What this worker's votes on unsettled replicated tasks hold at stake, as the chain's
	/// `Contributed` events this run read say.
	at_stake: BTreeMap<TaskId, Balance>,
}

/// What became of the tries of a task.
#[derive(Clone, Copy, Default)]
struct Attempts {
	failures: u32,
	waits: u32,
	awaiting_key: bool,
}

/// Where a task stands for this worker after a try.
enum Progress {
	/// This worker's vote was submitted; `replicated` if others vote too, so a reveal follows.
	Contributed { replicated: bool },
	/// Nothing left for this worker to do: the task is settled or revealing, or it voted.
	Done,
	/// The chain does not show the task assigned to this worker.
	NotYetAssigned,
	/// The task's encrypted dataset's key has not been released to this worker's enclave yet.
	AwaitingDatasetKey,
}

/// How the worker learnt of a task.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Learnt {
	/// Its endpoint was told: anyone can push, so pushes are bounded.
	FromPush,
	/// A `WorkersAssigned` event named it.
	FromChain,
}

impl<C: ChainView, R: Compute> Worker<C, R> {
	/// A worker that remembers the digests in `digests`, with the tasks it computed but had not
	/// voted on when it last stopped noted again: the chain's events that assigned them are
	/// behind its cursor, and a worker that never votes is expelled as silent.
	pub fn new(chain: C, computer: R, digests: DigestStore, settings: Settings) -> Self {
		let Settings { account, enclave, results_url, metrics, stop_after_replicated_vote } =
			settings;
		let assigned = digests.pending().map(|task| (task, Attempts::default())).collect();
		Self {
			chain,
			computer,
			account,
			digests,
			enclave,
			results_url,
			metrics,
			stop_after_replicated_vote,
			assigned,
			revealing: BTreeSet::new(),
			learnt_at: BTreeMap::new(),
			at_stake: BTreeMap::new(),
		}
	}

	/// Notes `task`, pushed to the endpoint as assigned to this worker.
	pub fn receive_push(&mut self, task: TaskId) {
		self.note(task, Learnt::FromPush);
	}

	/// Reads the events of blocks `from..=to` and notes what concerns this worker. An error means
	/// some block could not be read: the caller (the compute node's
	/// [`Follower`](commons_client::Follower)) hands the range over again, since its events may
	/// have been missed.
	pub async fn follow(&mut self, from: BlockNumber, to: BlockNumber) -> Result<(), String> {
		for number in from..=to {
			let events = self.chain.events(number).await?;
			for event in events {
				match event {
					RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
						task,
						workers,
					}) if workers.contains(&self.account) => self.note(task, Learnt::FromChain),
					RuntimeEvent::Contribution(pallet_contribution::Event::ConsensusReached {
						task,
						..
					}) if self.digests.contains(&task) => {
						self.revealing.insert(task);
					}
					// The stake is at risk once the vote is on chain, not when it is submitted.
					RuntimeEvent::Contribution(pallet_contribution::Event::Contributed {
						task,
						worker,
						stake,
						..
					}) if worker == self.account && stake > 0 => {
						self.at_stake.insert(task, stake);
					}
					RuntimeEvent::Contribution(
						pallet_contribution::Event::TaskFinalized { task, .. }
						| pallet_contribution::Event::TaskFailed { task, .. },
					) => {
						self.at_stake.remove(&task);
						self.learnt_at.remove(&task);
					}
					_ => {}
				}
			}
		}
		Ok(())
	}

	/// Works on every noted task: contributes to the assigned ones, reveals where due (see the
	/// module's documentation for when a task is dropped).
	///
	/// Breaks with the task just voted on when `stop_after_replicated_vote` is set and the vote
	/// was on a replicated task: the rest of the round is not done, and the caller is to stop.
	pub async fn work(&mut self) -> ControlFlow<TaskId> {
		for (task, mut attempts) in std::mem::take(&mut self.assigned) {
			match self.contribute(task).await {
				Ok(Progress::Contributed { replicated: true })
					if self.stop_after_replicated_vote =>
				{
					return ControlFlow::Break(task)
				}
				Ok(Progress::Contributed { .. }) => continue,
				Ok(Progress::Done) => {
					self.settle_pending(task);
					self.learnt_at.remove(&task);
					continue;
				}
				// The key service may be slow; the task's contribution deadline ends the wait.
				Ok(Progress::AwaitingDatasetKey) => {
					if !attempts.awaiting_key {
						log::info!(
							target: LOG_TARGET,
							"task {task:?}: waiting for the dataset's key"
						);
					}
					attempts.awaiting_key = true;
				}
				Ok(Progress::NotYetAssigned) => {
					attempts.waits += 1;
					if attempts.waits >= PUSH_PATIENCE {
						log::warn!(
							target: LOG_TARGET,
							"task {task:?}: pushed but never assigned to this worker"
						);
						self.settle_pending(task);
						self.learnt_at.remove(&task);
						continue;
					}
				}
				Err(error) => {
					log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
					attempts.failures += 1;
					if attempts.failures >= ATTEMPTS {
						self.count(|metrics| &metrics.failed);
						self.learnt_at.remove(&task);
						continue;
					}
				}
			}
			self.assigned.insert(task, attempts);
		}
		for task in std::mem::take(&mut self.revealing) {
			if let Err(error) = self.reveal(task).await {
				log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
				self.count(|metrics| &metrics.failed);
			}
		}
		if let Some(metrics) = &self.metrics {
			metrics.waiting_to_vote.set(self.assigned.len() as u64);
			metrics.waiting_to_reveal.set(self.revealing.len() as u64);
			let at_stake =
				self.at_stake.values().fold(0, |sum: Balance, stake| sum.saturating_add(*stake));
			metrics.stake_at_risk_cmn.set(at_stake as f64 / CMN as f64);
		}
		ControlFlow::Continue(())
	}

	/// Notes `task` as assigned to this worker, unless it is noted already or this worker
	/// computed it (its vote was submitted then, and the chain may not show it until it is
	/// included). A push is dropped when [`MAX_PUSH_BACKLOG`] tasks wait already: the chain's
	/// events still bring the real assignments.
	fn note(&mut self, task: TaskId, learnt: Learnt) {
		if self.digests.contains(&task) || self.assigned.contains_key(&task) {
			return;
		}
		if learnt == Learnt::FromPush && self.assigned.len() >= MAX_PUSH_BACKLOG {
			log::warn!(
				target: LOG_TARGET,
				"task {task:?}: push dropped, {MAX_PUSH_BACKLOG} tasks wait already"
			);
			return;
		}
		self.assigned.insert(task, Attempts::default());
		self.learnt_at.entry(task).or_insert_with(Instant::now);
		self.count(|metrics| &metrics.received);
	}

	/// Contributes to `task_id` if the chain shows it open and assigned to this worker, which
	/// has not voted on it yet.
	async fn contribute(&mut self, task_id: TaskId) -> Result<Progress, String> {
		let (task, deal) = match self.ensure_assigned(task_id).await? {
			ControlFlow::Continue(found) => found,
			ControlFlow::Break(progress) => return Ok(progress),
		};
		let digest = match self.get_or_compute_digest(task_id, &task, &deal).await? {
			ControlFlow::Continue(digest) => digest,
			ControlFlow::Break(progress) => return Ok(progress),
		};
		let call = self.contribution_call(task_id, &deal, digest)?;
		self.chain.submit(call).await?;
		self.settle_pending(task_id);
		self.count(|metrics| &metrics.contributed);
		log::info!(target: LOG_TARGET, "contributed to task {task_id:?}: digest {digest:?}");
		let replicated = deal.trust > 1;
		if !replicated {
			self.finished(task_id);
		}
		Ok(Progress::Contributed { replicated })
	}

	/// The task `task_id` and its deal, if the task is open, assigned to this worker, and not
	/// voted on by it; otherwise where the task stands for this worker.
	async fn ensure_assigned(
		&self,
		task_id: TaskId,
	) -> Result<ControlFlow<Progress, (Task<Runtime>, Deal<Runtime>)>, String> {
		let Some(task) = self.chain.task(task_id).await? else {
			return Ok(ControlFlow::Break(Progress::NotYetAssigned));
		};
		if task.status != TaskStatus::Active || task.contribution_of(&self.account).is_some() {
			return Ok(ControlFlow::Break(Progress::Done));
		}
		if !task.assigned.contains(&self.account) {
			return Ok(ControlFlow::Break(Progress::NotYetAssigned));
		}
		let deal = self.chain.deal(task.deal).await?.ok_or("the task's deal is settled")?;
		Ok(ControlFlow::Continue((task, deal)))
	}

	/// The digest this worker computed for `task_id`, or else the digest of a run now, kept
	/// before it is returned. Breaks while an encrypted dataset's key has not come.
	async fn get_or_compute_digest(
		&mut self,
		task_id: TaskId,
		task: &Task<Runtime>,
		deal: &Deal<Runtime>,
	) -> Result<ControlFlow<Progress, ResultDigest>, String> {
		if let Some(digest) = self.digests.get(&task_id) {
			return Ok(ControlFlow::Continue(digest));
		}
		let record = match &deal.dataset {
			Some(purchase) => Some(
				self.chain
					.dataset(purchase.id)
					.await?
					.ok_or("the deal's dataset is not registered")?,
			),
			None => None,
		};
		let encrypted = record.as_ref().is_some_and(|record| record.encrypted);
		let seal_to = self.result_recipient(deal, encrypted).await?;
		let dataset = match record {
			Some(record) if record.encrypted => {
				let enclave =
					self.enclave.as_ref().ok_or("an encrypted dataset, and no enclave")?;
				let key = match task.dataset_key_of(&self.account) {
					Some(sealed) if sealed.recipient == enclave.keys.encryption => {
						enclave.open_dataset_key(sealed, &task_id)?
					}
					_ if self.chain.best_number().await? >= task.contribution_deadline => {
						return Err("the dataset's key never came".into())
					}
					_ => return Ok(ControlFlow::Break(Progress::AwaitingDatasetKey)),
				};
				Some(DatasetInput { record, key: Some(key) })
			}
			Some(record) => Some(DatasetInput { record, key: None }),
			None => None,
		};
		let started = std::time::Instant::now();
		let digest = self.computer.compute(task_id, deal, dataset, seal_to).await?;
		if let Some(metrics) = &self.metrics {
			metrics.computation_seconds.observe(started.elapsed().as_secs_f64());
		}
		self.count(|metrics| &metrics.executed);
		self.digests.remember(task_id, digest)?;
		Ok(ControlFlow::Continue(digest))
	}

	/// The key `deal`'s result is sealed to: for a TEE deal, its beneficiary's result key as
	/// registered now (the deal does not copy it), so that only the beneficiary can read the
	/// result. A TEE deal on an `encrypted_dataset` whose beneficiary has no key is not
	/// computed: a result of confidential data is never served in the clear (the chain makes
	/// no such deal, but a beneficiary may remove its key after the match). A TEE deal on
	/// public data without a key is served in the clear, as any other.
	async fn result_recipient(
		&self,
		deal: &Deal<Runtime>,
		encrypted_dataset: bool,
	) -> Result<Option<X25519PublicKey>, String> {
		if deal.tag & tag::TEE == 0 {
			return Ok(None);
		}
		match self.chain.result_encryption_key(&deal.beneficiary).await? {
			Some(key) => Ok(Some(key)),
			None if encrypted_dataset => Err(format!(
				"not computed: the beneficiary {} has no result key, and a result computed on an \
				 encrypted dataset is never served in the clear",
				deal.beneficiary
			)),
			None => Ok(None),
		}
	}

	/// The call that carries this worker's vote of `digest` on `task_id`: a trust-1 task is
	/// contributed to and finalized at once; a replicated one gets a sealed vote, revealed later.
	/// A TEE task's vote is signed by the enclave.
	fn contribution_call(
		&self,
		task_id: TaskId,
		deal: &Deal<Runtime>,
		digest: ResultDigest,
	) -> Result<ContributionCall, String> {
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
		Ok(if deal.trust <= 1 {
			pallet_contribution::Call::contribute_and_finalize {
				task: task_id,
				digest,
				location: self.location(task_id).into_bytes().try_into().unwrap_or_default(),
				enclave_signature,
			}
		} else {
			pallet_contribution::Call::contribute {
				task: task_id,
				result_hash,
				result_seal,
				enclave_signature,
			}
		})
	}

	/// Reveals on `task_id` if this worker voted for its consensus and has not revealed.
	async fn reveal(&mut self, task_id: TaskId) -> Result<(), String> {
		let Some(digest) = self.digests.get(&task_id) else { return Ok(()) };
		let task = self.chain.task(task_id).await?.ok_or("the task is not on chain")?;
		let Some(mine) = task.contribution_of(&self.account) else { return Ok(()) };
		if task.status != TaskStatus::Revealing
			|| mine.status != ContributionStatus::Contributed
			|| task.consensus != Some(mine.result_hash)
		{
			return Ok(());
		}
		let location = self.location(task_id).into_bytes().try_into().unwrap_or_default();
		let call = pallet_contribution::Call::reveal { task: task_id, digest, location };
		self.chain.submit(call).await?;
		self.count(|metrics| &metrics.revealed);
		log::info!(target: LOG_TARGET, "revealed task {task_id:?}");
		self.finished(task_id);
		Ok(())
	}

	/// Notes that this worker took its last step on `task`: how long the task took it since it
	/// learnt of it, if this run did.
	fn finished(&mut self, task: TaskId) {
		if let (Some(learnt), Some(metrics)) = (self.learnt_at.remove(&task), &self.metrics) {
			metrics.task_seconds.observe(learnt.elapsed().as_secs_f64());
		}
	}

	/// Notes that `task`'s vote is no longer pending. A store that cannot be written is only
	/// reported: the worst that follows is one more check of the task after a restart.
	fn settle_pending(&mut self, task: TaskId) {
		if let Err(error) = self.digests.settle(&task) {
			log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
		}
	}

	/// Where requesters fetch `task`'s result.
	fn location(&self, task: TaskId) -> String {
		format!("{}/{task:?}", self.results_url)
	}

	/// Adds one to the counter `pick` chooses, if metrics are served.
	fn count(&self, pick: impl Fn(&Metrics) -> &Counter<U64>) {
		if let Some(metrics) = &self.metrics {
			pick(metrics).inc();
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{
		cell::{Cell, RefCell},
		path::Path,
	};

	use frame_support::BoundedVec;
	use pallet_contribution::Contribution;
	use pallet_marketplace::Purchase;

	const DEAL: DealId = DealId::repeat_byte(0xde);
	const TASK: TaskId = TaskId::repeat_byte(0x7a);
	/// The digest the fake computer gives every task.
	const DIGEST: ResultDigest = ResultDigest::repeat_byte(0xd1);

	/// The worker under test.
	fn me() -> AccountId {
		AccountId::new([1; 32])
	}

	/// Everyone else: another worker, the requester, the owners.
	fn other() -> AccountId {
		AccountId::new([2; 32])
	}

	/// A chain the tests write to directly, and that records what the worker submits.
	#[derive(Default)]
	struct FakeChain {
		best: Cell<BlockNumber>,
		events: RefCell<BTreeMap<BlockNumber, Vec<RuntimeEvent>>>,
		tasks: RefCell<BTreeMap<TaskId, Task<Runtime>>>,
		deals: RefCell<BTreeMap<DealId, Deal<Runtime>>>,
		/// How many of the next task reads fail, as a value that does not decode would.
		failing_task_reads: Cell<u32>,
		/// Blocks whose next read fails.
		unreadable_blocks: RefCell<BTreeSet<BlockNumber>>,
		/// Every call submitted, in order, included or not.
		submitted: RefCell<Vec<ContributionCall>>,
		/// The registered datasets.
		datasets: RefCell<BTreeMap<DatasetId, Dataset<Runtime>>>,
		/// The accounts' result keys.
		result_keys: RefCell<BTreeMap<AccountId, X25519PublicKey>>,
	}

	impl FakeChain {
		/// A chain whose block 1 assigned `TASK`, of a deal at `trust`, to this worker.
		fn with_task(trust: u32) -> Self {
			let chain = Self::default();
			chain.best.set(1);
			chain.deals.borrow_mut().insert(DEAL, deal(trust));
			chain.tasks.borrow_mut().insert(TASK, task(&[me()]));
			let assigned =
				RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
					task: TASK,
					workers: vec![me()].try_into().unwrap(),
				});
			chain.events.borrow_mut().insert(1, vec![assigned]);
			chain
		}

		/// Includes what was submitted in a block: votes are recorded on their tasks.
		fn include(&self) {
			let mut tasks = self.tasks.borrow_mut();
			for call in self.submitted.borrow().iter() {
				match call {
					pallet_contribution::Call::contribute {
						task,
						result_hash,
						result_seal,
						..
					} => {
						let task = tasks.get_mut(task).expect("a task on chain");
						if task.contribution_of(&me()).is_none() {
							let vote = Contribution {
								worker: me(),
								status: ContributionStatus::Contributed,
								result_hash: *result_hash,
								result_seal: *result_seal,
								weight: 1,
								stake: 0,
							};
							task.contributions.try_push(vote).unwrap();
						}
					}
					pallet_contribution::Call::contribute_and_finalize { task, .. } => {
						tasks.get_mut(task).expect("a task on chain").status =
							TaskStatus::Completed;
					}
					_ => {}
				}
			}
		}

		/// The vote on `TASK` reaches consensus on this worker's vote in block `number`.
		fn reach_consensus(&self, number: BlockNumber) {
			let mut tasks = self.tasks.borrow_mut();
			let task = tasks.get_mut(&TASK).expect("a task on chain");
			let result_hash = task.contribution_of(&me()).expect("a vote").result_hash;
			task.status = TaskStatus::Revealing;
			task.consensus = Some(result_hash);
			let reached =
				RuntimeEvent::Contribution(pallet_contribution::Event::ConsensusReached {
					task: TASK,
					result_hash,
					winners: 2,
					reveal_deadline: number + 20,
				});
			self.events.borrow_mut().insert(number, vec![reached]);
			self.best.set(number);
		}

		/// How many votes were submitted.
		fn contributions(&self) -> usize {
			self.submitted
				.borrow()
				.iter()
				.filter(|call| {
					matches!(
						call,
						pallet_contribution::Call::contribute { .. }
							| pallet_contribution::Call::contribute_and_finalize { .. }
					)
				})
				.count()
		}

		/// The reveals submitted: task and digest.
		fn reveals(&self) -> Vec<(TaskId, ResultDigest)> {
			self.submitted
				.borrow()
				.iter()
				.filter_map(|call| match call {
					pallet_contribution::Call::reveal { task, digest, .. } => {
						Some((*task, *digest))
					}
					_ => None,
				})
				.collect()
		}
	}

	impl ChainView for &FakeChain {
		async fn best_number(&self) -> Result<BlockNumber, ClientError> {
			Ok(self.best.get())
		}

		async fn events(&self, number: BlockNumber) -> Result<Vec<RuntimeEvent>, ClientError> {
			if self.unreadable_blocks.borrow_mut().remove(&number) {
				return Err(ClientError::Decode {
					what: format!("the events of block {number}"),
					message: "not enough data".into(),
				});
			}
			Ok(self.events.borrow().get(&number).cloned().unwrap_or_default())
		}

		async fn task(&self, id: TaskId) -> Result<Option<Task<Runtime>>, ClientError> {
			let failing = self.failing_task_reads.get();
			if failing > 0 {
				self.failing_task_reads.set(failing - 1);
				return Err(ClientError::Decode {
					what: "a task".into(),
					message: "not enough data".into(),
				});
			}
			Ok(self.tasks.borrow().get(&id).cloned())
		}

		async fn deal(&self, id: DealId) -> Result<Option<Deal<Runtime>>, ClientError> {
			Ok(self.deals.borrow().get(&id).cloned())
		}

		async fn dataset(&self, id: DatasetId) -> Result<Option<Dataset<Runtime>>, ClientError> {
			Ok(self.datasets.borrow().get(&id).cloned())
		}

		async fn result_encryption_key(
			&self,
			account: &AccountId,
		) -> Result<Option<X25519PublicKey>, ClientError> {
			Ok(self.result_keys.borrow().get(account).copied())
		}

		async fn submit(&self, call: ContributionCall) -> Result<(), ClientError> {
			self.submitted.borrow_mut().push(call);
			Ok(())
		}
	}

	/// A computer that counts its runs and gives every task [`DIGEST`], after `failures` failed
	/// runs; it records the key each run's result was to be sealed to.
	#[derive(Default)]
	struct FakeComputer {
		runs: Cell<u32>,
		failures: Cell<u32>,
		sealed_to: RefCell<Vec<Option<X25519PublicKey>>>,
	}

	impl Compute for &FakeComputer {
		async fn compute(
			&self,
			_task: TaskId,
			_deal: &Deal<Runtime>,
			_dataset: Option<DatasetInput>,
			seal_to: Option<X25519PublicKey>,
		) -> Result<ResultDigest, String> {
			self.runs.set(self.runs.get() + 1);
			self.sealed_to.borrow_mut().push(seal_to);
			let failures = self.failures.get();
			if failures > 0 {
				self.failures.set(failures - 1);
				return Err("the module trapped".into());
			}
			Ok(DIGEST)
		}
	}

	/// A worker started on `work_dir` (its digests), with `chain` and `computer`.
	fn start_worker<'a>(
		chain: &'a FakeChain,
		computer: &'a FakeComputer,
		work_dir: &Path,
	) -> Worker<&'a FakeChain, &'a FakeComputer> {
		let settings = Settings {
			account: me(),
			enclave: None,
			results_url: "file:///results".into(),
			metrics: None,
			stop_after_replicated_vote: false,
		};
		Worker::new(chain, computer, DigestStore::load(work_dir).unwrap(), settings)
	}

	/// As [`start_worker`], in TEE mode: with a simulated SGX enclave kept in `work_dir`.
	fn start_tee_worker<'a>(
		chain: &'a FakeChain,
		computer: &'a FakeComputer,
		work_dir: &Path,
	) -> Worker<&'a FakeChain, &'a FakeComputer> {
		let enclave =
			SimulatedEnclave::load_or_create(work_dir, pallet_attestation::TeeKind::Sgx).unwrap();
		let settings = Settings {
			account: me(),
			enclave: Some(Arc::new(enclave)),
			results_url: "file:///results".into(),
			metrics: None,
			stop_after_replicated_vote: false,
		};
		Worker::new(chain, computer, DigestStore::load(work_dir).unwrap(), settings)
	}

	/// A chain whose block 1 assigned `TASK`, of a trust-1 TEE deal for the beneficiary
	/// `other()` (with a result key if `beneficiary_key`), to this worker; the deal buys dataset
	/// 0, registered `encrypted` or not, if `dataset` is given.
	fn tee_chain(beneficiary_key: Option<X25519PublicKey>, dataset: Option<bool>) -> FakeChain {
		let chain = FakeChain::with_task(1);
		let mut deals = chain.deals.borrow_mut();
		let deal = deals.get_mut(&DEAL).expect("the task's deal");
		deal.tag = tag::TEE | tag::SGX;
		if let Some(encrypted) = dataset {
			deal.dataset = Some(Purchase { id: 0, owner: other(), price: 0 });
			let record = Dataset {
				owner: other(),
				name: BoundedVec::new(),
				uri: BoundedVec::new(),
				checksum: [0; 32],
				encrypted,
			};
			chain.datasets.borrow_mut().insert(0, record);
		}
		drop(deals);
		if let Some(key) = beneficiary_key {
			chain.result_keys.borrow_mut().insert(other(), key);
		}
		chain
	}

	/// A TEE task's result is sealed to the key its beneficiary has registered when the worker
	/// computes it; another worker's account's key, or a task that is not TEE, changes nothing.
	#[tokio::test]
	async fn a_tee_tasks_result_is_sealed_to_its_beneficiarys_key() {
		let dir = tempfile::tempdir().unwrap();
		let chain = tee_chain(Some([0x42; 32]), Some(false));
		chain.result_keys.borrow_mut().insert(me(), [0x43; 32]);
		let computer = FakeComputer::default();
		let mut worker = start_tee_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(*computer.sealed_to.borrow(), [Some([0x42; 32])]);
		assert_eq!(chain.contributions(), 1);

		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(1);
		chain.result_keys.borrow_mut().insert(other(), [0x42; 32]);
		let computer = FakeComputer::default();
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(*computer.sealed_to.borrow(), [None], "not a TEE task: served as it is");
	}

	/// Without a beneficiary's key, a TEE task on public data is computed and served in the
	/// clear, but one on an encrypted dataset is not computed at all: its result would have to
	/// be served in the clear. The worker gives up on it after `ATTEMPTS` tries.
	#[tokio::test]
	async fn a_tee_task_on_an_encrypted_dataset_is_not_computed_without_a_beneficiarys_key() {
		let dir = tempfile::tempdir().unwrap();
		let chain = tee_chain(None, Some(false));
		let computer = FakeComputer::default();
		let mut worker = start_tee_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(*computer.sealed_to.borrow(), [None]);
		assert_eq!(chain.contributions(), 1);

		let dir = tempfile::tempdir().unwrap();
		let chain = tee_chain(None, Some(true));
		let computer = FakeComputer::default();
		let mut worker = start_tee_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		for _ in 0..ATTEMPTS {
			assert!(worker.work().await.is_continue());
		}
		assert!(!worker.assigned.contains_key(&TASK), "given up");
		assert_eq!((computer.runs.get(), chain.contributions()), (0, 0));
	}

	/// An open task of `DEAL`, assigned to `workers`.
	fn task(workers: &[AccountId]) -> Task<Runtime> {
		Task {
			deal: DEAL,
			index: 0,
			status: TaskStatus::Active,
			reference_time: 10,
			contribution_deadline: 70,
			final_deadline: 100,
			reveal_deadline: None,
			assigned: workers.to_vec().try_into().unwrap(),
			assigned_at: vec![1u32; workers.len()].try_into().unwrap(),
			contributions: BoundedVec::new(),
			tally: Default::default(),
			consensus: None,
			winners: 0,
			reveals: 0,
			result_digest: None,
			result_location: BoundedVec::new(),
			dataset_keys: BoundedVec::new(),
			enclaves: BoundedVec::new(),
		}
	}

	/// A deal at `trust` of an app without dataset or TEE.
	fn deal(trust: u32) -> Deal<Runtime> {
		Deal {
			app: Purchase { id: 0, owner: other(), price: 0 },
			dataset: None,
			workerpool: Purchase { id: 0, owner: other(), price: 0 },
			requester: other(),
			payer: other(),
			beneficiary: other(),
			category: 0,
			trust,
			tag: 0,
			params: BoundedVec::new(),
			start: 0,
			first_task: 0,
			volume: 1,
			worker_stake: 0,
			pool_owner_stake: 0,
			pool_owner_reward_ratio: Default::default(),
			unsettled: 1,
		}
	}

	/// A node that crashes between its vote and its reveal restarts on the same work directory
	/// and reads the blocks again: it reveals the digest it voted with, without computing again
	/// or voting twice.
	#[tokio::test]
	async fn a_restarted_worker_reveals_without_recomputing_or_voting_again() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let first_computer = FakeComputer::default();
		let mut first = start_worker(&chain, &first_computer, dir.path());
		first.follow(1, 1).await.unwrap();
		assert!(first.work().await.is_continue());
		assert_eq!((first_computer.runs.get(), chain.contributions()), (1, 1));
		// The crash: only the work directory is left of the first worker.
		drop(first);
		chain.include();
		chain.reach_consensus(2);

		let computer = FakeComputer::default();
		let mut restarted = start_worker(&chain, &computer, dir.path());
		restarted.follow(1, 2).await.unwrap();
		assert!(restarted.work().await.is_continue());
		assert!(restarted.work().await.is_continue());
		assert_eq!(computer.runs.get(), 0, "it did not compute again");
		assert_eq!(chain.contributions(), 1, "it did not vote again");
		assert_eq!(chain.reveals(), [(TASK, DIGEST)], "it revealed once");
	}

	/// The metrics follow a replicated task: its stake is at risk from the block that records
	/// the vote until the task is finalized, and its time from end to end is observed once, at
	/// the reveal.
	#[tokio::test]
	async fn a_replicated_votes_stake_is_at_risk_until_its_task_settles() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let computer = FakeComputer::default();
		let registry = prometheus_endpoint::Registry::new();
		let metrics = Metrics::register(&registry).unwrap();
		let settings = Settings {
			account: me(),
			enclave: None,
			results_url: "file:///results".into(),
			metrics: Some(metrics.clone()),
			stop_after_replicated_vote: false,
		};
		let mut worker =
			Worker::new(&chain, &computer, DigestStore::load(dir.path()).unwrap(), settings);
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(metrics.stake_at_risk_cmn.get(), 0.0, "the vote is not in a block yet");
		assert_eq!(metrics.task_seconds.get_sample_count(), 0, "a reveal is still due");
		chain.include();
		chain.reach_consensus(2);
		let result_hash = chain.tasks.borrow()[&TASK].consensus.unwrap();
		let contributed = RuntimeEvent::Contribution(pallet_contribution::Event::Contributed {
			task: TASK,
			worker: me(),
			result_hash,
			stake: 3 * CMN / 2,
		});
		chain.events.borrow_mut().get_mut(&2).unwrap().insert(0, contributed);
		worker.follow(2, 2).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(chain.reveals(), [(TASK, DIGEST)]);
		assert_eq!(metrics.task_seconds.get_sample_count(), 1, "the reveal was its last step");
		assert_eq!(metrics.stake_at_risk_cmn.get(), 1.5, "at risk until the task settles");
		let finalized = RuntimeEvent::Contribution(pallet_contribution::Event::TaskFinalized {
			task: TASK,
			deal: DEAL,
			digest: DIGEST,
			location: BoundedVec::new(),
			reason: pallet_contribution::Finalization::AllWinnersRevealed,
		});
		chain.events.borrow_mut().insert(3, vec![finalized]);
		worker.follow(3, 3).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(metrics.stake_at_risk_cmn.get(), 0.0);
		assert_eq!(metrics.task_seconds.get_sample_count(), 1);
	}

	/// The scheduler's push, repeated, and the chain's event bring the same task: it is computed
	/// and voted on once, and a push while the vote waits in the pool or after its inclusion
	/// changes nothing.
	#[tokio::test]
	async fn duplicate_pushes_of_a_task_lead_to_one_contribution() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(1);
		let computer = FakeComputer::default();
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.receive_push(TASK);
		worker.receive_push(TASK);
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(chain.contributions(), 1);
		// Pushed again while the vote is not yet in a block: the chain shows no vote.
		worker.receive_push(TASK);
		assert!(worker.work().await.is_continue());
		chain.include();
		worker.receive_push(TASK);
		assert!(worker.work().await.is_continue());
		assert_eq!((computer.runs.get(), chain.contributions()), (1, 1));
	}

	/// The scheduler gives a task to another worker in this one's place after a failed run:
	/// this worker neither computes nor votes on it again, and drops it once the chain has not
	/// listed it for `PUSH_PATIENCE` rounds.
	#[tokio::test]
	async fn a_task_reassigned_away_is_dropped_without_submitting() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let computer = FakeComputer { failures: Cell::new(1), ..Default::default() };
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert!(worker.assigned.contains_key(&TASK), "a failed run is tried again");

		chain.tasks.borrow_mut().get_mut(&TASK).expect("a task on chain").assigned =
			vec![other()].try_into().unwrap();
		for _ in 1..PUSH_PATIENCE {
			assert!(worker.work().await.is_continue());
		}
		assert!(worker.assigned.contains_key(&TASK), "the chain may list it again");
		assert!(worker.work().await.is_continue());
		assert!(!worker.assigned.contains_key(&TASK), "dropped");
		assert_eq!(computer.runs.get(), 1, "not run once reassigned");
		assert!(chain.submitted.borrow().is_empty(), "nothing submitted");
	}

	/// A task read that fails (a value that does not decode, a node that does not answer) does
	/// not lose the task: it is read again on the next rounds, up to `ATTEMPTS` failures.
	#[tokio::test]
	async fn a_failed_read_is_retried_up_to_the_attempts_bound() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		chain.failing_task_reads.set(ATTEMPTS - 1);
		let computer = FakeComputer::default();
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.receive_push(TASK);
		for _ in 1..ATTEMPTS {
			assert!(worker.work().await.is_continue());
		}
		assert_eq!(chain.contributions(), 0);
		assert!(worker.work().await.is_continue());
		assert_eq!(chain.contributions(), 1, "read again, and voted on");

		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		chain.failing_task_reads.set(ATTEMPTS);
		let computer = FakeComputer::default();
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.receive_push(TASK);
		for _ in 0..ATTEMPTS {
			assert!(worker.work().await.is_continue());
		}
		assert!(!worker.assigned.contains_key(&TASK), "given up after {ATTEMPTS} failures");
		assert!(worker.work().await.is_continue());
		assert_eq!((computer.runs.get(), chain.contributions()), (0, 0));
	}

	/// A block whose events cannot be read is an error, not an empty block, so that the caller
	/// reads it again: the assignment in it is not lost.
	#[tokio::test]
	async fn an_unreadable_block_is_reported_and_its_assignment_kept_on_a_second_read() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		chain.unreadable_blocks.borrow_mut().insert(1);
		let computer = FakeComputer::default();
		let mut worker = start_worker(&chain, &computer, dir.path());
		assert!(worker.follow(1, 1).await.is_err());
		assert!(worker.assigned.is_empty());
		worker.follow(1, 1).await.unwrap();
		assert!(worker.work().await.is_continue());
		assert_eq!(chain.contributions(), 1);
	}

	/// A node that stops after keeping a task's digest but before submitting its vote votes
	/// with the kept digest once restarted, without computing again and without reading the
	/// assignment's block again (its cursor is past it): silence would cost it its place in the
	/// pool. Once voted, a later restart leaves the task alone.
	#[tokio::test]
	async fn a_task_computed_but_not_voted_before_a_stop_is_voted_after_the_restart() {
		let dir = tempfile::tempdir().unwrap();
		DigestStore::load(dir.path()).unwrap().remember(TASK, DIGEST).unwrap();
		let chain = FakeChain::with_task(2);
		let computer = FakeComputer::default();
		let mut restarted = start_worker(&chain, &computer, dir.path());
		assert!(restarted.work().await.is_continue());
		assert_eq!((computer.runs.get(), chain.contributions()), (0, 1));

		drop(restarted);
		let mut again = start_worker(&chain, &computer, dir.path());
		assert!(again.assigned.is_empty(), "nothing pending once voted");
		assert!(again.work().await.is_continue());
		assert_eq!(chain.contributions(), 1);
	}
}
