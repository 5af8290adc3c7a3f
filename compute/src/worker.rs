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
//! - when the chain shows nothing left for this worker to do (the task is settled or revealing,
//!   or this worker's vote is on it);
//! - after [`ATTEMPTS`] failed tries (a read, a fetch, a run or a submission that failed);
//! - when the chain has not shown it assigned to this worker for [`PUSH_PATIENCE`] rounds: a
//!   push the chain never confirmed, or a task the scheduler gave to another worker instead;
//! - at its contribution deadline (its reveal deadline for a reveal): the chain refuses the step
//!   from then on.
//!
//! A vote or reveal submitted is not taken to have landed: under load the transaction pool may
//! drop it (a full queue, a gap in the sender's nonces) without a word. The step stays due in
//! the [`DigestStore`], with the best block and the nonce at its submission (kept before the
//! transaction leaves), until the chain's events show it (`Contributed`, `Revealed` by this
//! worker) or that the task is over. When the chain has not shown it [`LANDING_PATIENCE`] blocks
//! after its submission, the worker looks at the task and, if the step is still to take, submits
//! it again: at the same nonce while the chain has not used that nonce, so that only one copy
//! can ever be included (a pool still holding the first refuses the copy: the step is then given
//! as long again), at a new one otherwise; [`SUBMISSIONS`] times at most. A step the pool had no
//! room for (full of transactions that outrank it, as in a burst) was never taken: it is
//! submitted again once a block has passed, as often as it takes until its deadline, and not
//! counted among its submissions. A node restarted meanwhile keeps that record: it does not submit again
//! at once what may be on its way. A `TaskReopened` task this worker computed is due a vote again
//! (its vote may have been lost).
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

use std::{collections::BTreeMap, future::Future, ops::ControlFlow, sync::Arc, time::Instant};

use commons_client::{confidential::DatasetKey, ClientError};
use commons_runtime::{AccountId, Balance, BlockNumber, Nonce, Runtime, RuntimeEvent, CMN};
use pallet_contribution::{
	ContributionStatus, ResultDigest, Task, TaskId, TaskStatus, X25519PublicKey,
};
use pallet_marketplace::{tag, Dataset, DatasetId, Deal, DealId};
use prometheus_endpoint::{Counter, U64};

use crate::{
	digests::{DigestStore, Step},
	metrics::Metrics,
	tee::SimulatedEnclave,
	LOG_TARGET,
};

/// How often a task that fails is tried before the worker gives up on it.
pub const ATTEMPTS: u32 = 3;

/// How many rounds (about a second each) a noted task may wait for the chain to show it assigned
/// to this worker: the scheduler pushes when it submits the assignment, a block or two before
/// inclusion.
pub const PUSH_PATIENCE: u32 = 60;

/// How many blocks a submitted vote or reveal is given to show on chain before the worker looks
/// at the task again: well past an inclusion in the next block or two, and past a transaction
/// pool's usual backlog.
pub const LANDING_PATIENCE: BlockNumber = 10;

/// How many times a vote or reveal is submitted at most: a step the pool drops each time is
/// given up, not sent forever.
pub const SUBMISSIONS: u32 = 4;

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

	/// The next nonce of the worker's key, counting its transactions in the pool.
	fn next_nonce(&self) -> impl Future<Output = Result<Nonce, ClientError>>;

	/// The nonce of the worker's key at the best block: how many of its transactions are on
	/// chain.
	fn account_nonce(&self) -> impl Future<Output = Result<Nonce, ClientError>>;

	/// Signs `call` with the worker's key at `nonce` and submits it, without waiting for its
	/// inclusion.
	fn submit(
		&self,
		call: ContributionCall,
		nonce: Nonce,
	) -> impl Future<Output = Result<(), ClientError>>;
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
	/// Tasks noted as assigned to this worker whose vote the chain does not show yet.
	assigned: BTreeMap<TaskId, Attempts>,
	/// Tasks whose consensus this worker's vote won, whose reveal the chain does not show yet:
	/// the failed tries of each.
	revealing: BTreeMap<TaskId, u32>,
	/// The best block at which the pool last had no room for each task's step: it is submitted
	/// again once a block has passed.
	pool_full_at: BTreeMap<TaskId, BlockNumber>,
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

/// What became of a step's submission.
enum Submission {
	/// It was submitted.
	Sent,
	/// The pool refused a copy at the nonce of the last submission, which it holds still.
	StillQueued,
	/// The pool had no room for it: it is tried again once a block has passed, and was not
	/// counted as a submission.
	PoolFull,
}

/// Where a task stands for this worker after a try.
enum Progress {
	/// This worker's vote (or reveal) was submitted; `replicated` if others vote too, so a
	/// reveal follows.
	Submitted { replicated: bool },
	/// Nothing left for this worker to do: the task is settled or revealing, or its vote (or
	/// reveal) is on chain.
	Done,
	/// The chain does not show the task assigned to this worker.
	NotYetAssigned,
	/// The task's encrypted dataset's key has not been released to this worker's enclave yet.
	AwaitingDatasetKey,
	/// The step's deadline has passed: the chain would refuse it.
	Expired,
	/// The step was submitted [`SUBMISSIONS`] times and never showed on chain.
	NeverLanded,
	/// The transaction pool had no room for the step's transaction: tried again once a block
	/// has passed.
	PoolFull,
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
	/// A worker that remembers the digests in `digests`, with the steps it had left when it last
	/// stopped taken up again: the chain's events that assigned the tasks, or that called for the
	/// reveals, are behind its cursor, and a worker that never votes is expelled as silent.
	pub fn new(chain: C, computer: R, digests: DigestStore, settings: Settings) -> Self {
		let Settings { account, enclave, results_url, metrics, stop_after_replicated_vote } =
			settings;
		let (mut assigned, mut revealing) = (BTreeMap::new(), BTreeMap::new());
		for (task, due) in digests.due() {
			match due.step {
				Step::Vote => {
					assigned.insert(task, Attempts::default());
				}
				Step::Reveal => {
					revealing.insert(task, 0);
				}
			}
		}
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
			revealing,
			pool_full_at: BTreeMap::new(),
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
					// Kept on disk: the cursor moves past this block once it is read.
					RuntimeEvent::Contribution(pallet_contribution::Event::ConsensusReached {
						task,
						..
					}) if self.digests.contains(&task) => {
						self.make_due(task, Step::Reveal);
						self.revealing.entry(task).or_default();
					}
					// Its vote may be one that never landed; the chain says.
					RuntimeEvent::Contribution(pallet_contribution::Event::TaskReopened {
						task,
						..
					}) if self.digests.contains(&task) => {
						self.make_due(task, Step::Vote);
						self.assigned.entry(task).or_default();
					}
					// The vote landed; the stake is at risk from now on, not from its submission.
					RuntimeEvent::Contribution(pallet_contribution::Event::Contributed {
						task,
						worker,
						stake,
						..
					}) if worker == self.account => {
						if stake > 0 {
							self.at_stake.insert(task, stake);
						}
						if self.assigned.remove(&task).is_some() {
							self.settle(task, Step::Vote);
						}
					}
					RuntimeEvent::Contribution(pallet_contribution::Event::Revealed {
						task,
						worker,
						..
					}) if worker == self.account => {
						if self.revealing.remove(&task).is_some() {
							self.settle(task, Step::Reveal);
						}
					}
					RuntimeEvent::Contribution(
						pallet_contribution::Event::TaskFinalized { task, .. }
						| pallet_contribution::Event::TaskFailed { task, .. },
					) => {
						self.at_stake.remove(&task);
						self.learnt_at.remove(&task);
						self.assigned.remove(&task);
						self.revealing.remove(&task);
						if let Err(error) = self.digests.forget(&task) {
							log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
						}
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
		if !self.assigned.is_empty() || !self.revealing.is_empty() {
			match self.chain.best_number().await {
				Ok(best) => {
					if let ControlFlow::Break(task) = self.vote_round(best).await {
						return ControlFlow::Break(task);
					}
					self.reveal_round(best).await;
				}
				Err(error) => log::warn!(target: LOG_TARGET, "cannot read the best block: {error}"),
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

	/// Tries every assigned task whose vote is not on its way, `best` being the best block.
	async fn vote_round(&mut self, best: BlockNumber) -> ControlFlow<TaskId> {
		for (task, mut attempts) in std::mem::take(&mut self.assigned) {
			if self.on_its_way(task, best) || self.pool_was_full(task, best) {
				self.assigned.insert(task, attempts);
				continue;
			}
			match self.contribute(task, best).await {
				Ok(Progress::Submitted { replicated: true }) if self.stop_after_replicated_vote => {
					self.assigned.insert(task, attempts);
					return ControlFlow::Break(task);
				}
				Ok(Progress::Submitted { .. } | Progress::PoolFull) => {}
				Ok(Progress::Done) => {
					self.forget(task, Step::Vote);
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
				// Its vote was lost and the scheduler gave its place to another worker.
				Ok(Progress::NotYetAssigned) if self.was_submitted(task) => {
					self.give_up(
						task,
						Step::Vote,
						"the vote never landed; the task was reassigned",
					);
					continue;
				}
				Ok(Progress::NotYetAssigned) => {
					attempts.waits += 1;
					if attempts.waits >= PUSH_PATIENCE {
						log::warn!(
							target: LOG_TARGET,
							"task {task:?}: pushed but never assigned to this worker"
						);
						self.forget(task, Step::Vote);
						continue;
					}
				}
				Ok(Progress::Expired) => {
					self.give_up(task, Step::Vote, "the contribution deadline passed");
					continue;
				}
				Ok(Progress::NeverLanded) => {
					self.give_up(task, Step::Vote, "the vote never landed");
					continue;
				}
				Err(error) => {
					log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
					attempts.failures += 1;
					if attempts.failures >= ATTEMPTS {
						self.give_up(task, Step::Vote, "too many failed tries");
						continue;
					}
				}
			}
			self.assigned.insert(task, attempts);
		}
		ControlFlow::Continue(())
	}

	/// Tries every reveal due that is not on its way, `best` being the best block.
	async fn reveal_round(&mut self, best: BlockNumber) {
		for (task, mut failures) in std::mem::take(&mut self.revealing) {
			if self.on_its_way(task, best) || self.pool_was_full(task, best) {
				self.revealing.insert(task, failures);
				continue;
			}
			match self.reveal(task, best).await {
				Ok(Progress::Submitted { .. } | Progress::PoolFull) => {}
				Ok(Progress::Expired) => {
					self.give_up(task, Step::Reveal, "the reveal deadline passed");
					continue;
				}
				Ok(Progress::NeverLanded) => {
					self.give_up(task, Step::Reveal, "the reveal never landed");
					continue;
				}
				Ok(_) => {
					self.forget(task, Step::Reveal);
					continue;
				}
				Err(error) => {
					log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
					failures += 1;
					if failures >= ATTEMPTS {
						self.give_up(task, Step::Reveal, "too many failed tries");
						continue;
					}
				}
			}
			self.revealing.insert(task, failures);
		}
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
	/// has not voted on it yet, `best` being the best block.
	async fn contribute(&mut self, task_id: TaskId, best: BlockNumber) -> Result<Progress, String> {
		let (task, deal) = match self.ensure_assigned(task_id, best).await? {
			ControlFlow::Continue(found) => found,
			ControlFlow::Break(progress) => return Ok(progress),
		};
		let digest = match self.get_or_compute_digest(task_id, &task, &deal).await? {
			ControlFlow::Continue(digest) => digest,
			ControlFlow::Break(progress) => return Ok(progress),
		};
		// Computing may have taken blocks.
		let best = self.chain.best_number().await?;
		if too_late(best, task.contribution_deadline) {
			return Ok(Progress::Expired);
		}
		let submissions = self.digests.due_on(&task_id).map_or(0, |due| due.submissions);
		if submissions >= SUBMISSIONS {
			return Ok(Progress::NeverLanded);
		}
		let replicated = deal.trust > 1;
		let call = self.contribution_call(task_id, &deal, digest)?;
		match self.submit_step(task_id, call, best).await? {
			Submission::Sent => {}
			Submission::StillQueued => return Ok(Progress::Submitted { replicated }),
			Submission::PoolFull => return Ok(Progress::PoolFull),
		}
		if submissions > 0 {
			self.resubmitted(task_id, "vote");
		} else {
			self.count(|metrics| &metrics.contributed);
			log::info!(target: LOG_TARGET, "contributed to task {task_id:?}: digest {digest:?}");
			if !replicated {
				self.finished(task_id);
			}
		}
		Ok(Progress::Submitted { replicated })
	}

	/// The task `task_id` and its deal, if the task is open until after `best`, assigned to this
	/// worker, and not voted on by it; otherwise where the task stands for this worker.
	async fn ensure_assigned(
		&self,
		task_id: TaskId,
		best: BlockNumber,
	) -> Result<ControlFlow<Progress, (Task<Runtime>, Deal<Runtime>)>, String> {
		let Some(task) = self.chain.task(task_id).await? else {
			return Ok(ControlFlow::Break(Progress::NotYetAssigned));
		};
		if task.status != TaskStatus::Active || task.contribution_of(&self.account).is_some() {
			return Ok(ControlFlow::Break(Progress::Done));
		}
		if too_late(best, task.contribution_deadline) {
			return Ok(ControlFlow::Break(Progress::Expired));
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

	/// Reveals on `task_id` if this worker voted for its consensus and the chain does not show
	/// its reveal, `best` being the best block.
	async fn reveal(&mut self, task_id: TaskId, best: BlockNumber) -> Result<Progress, String> {
		let Some(digest) = self.digests.get(&task_id) else { return Ok(Progress::Done) };
		// A task no longer on chain was settled and pruned.
		let Some(task) = self.chain.task(task_id).await? else { return Ok(Progress::Done) };
		let Some(mine) = task.contribution_of(&self.account) else { return Ok(Progress::Done) };
		if task.status != TaskStatus::Revealing
			|| mine.status != ContributionStatus::Contributed
			|| task.consensus != Some(mine.result_hash)
		{
			return Ok(Progress::Done);
		}
		let deadline = task
			.reveal_deadline
			.map_or(task.final_deadline, |reveal| reveal.min(task.final_deadline));
		if too_late(best, deadline) {
			return Ok(Progress::Expired);
		}
		let submissions = self.digests.due_on(&task_id).map_or(0, |due| due.submissions);
		if submissions >= SUBMISSIONS {
			return Ok(Progress::NeverLanded);
		}
		let location = self.location(task_id).into_bytes().try_into().unwrap_or_default();
		let call = pallet_contribution::Call::reveal { task: task_id, digest, location };
		match self.submit_step(task_id, call, best).await? {
			Submission::Sent => {}
			Submission::StillQueued => return Ok(Progress::Submitted { replicated: true }),
			Submission::PoolFull => return Ok(Progress::PoolFull),
		}
		if submissions > 0 {
			self.resubmitted(task_id, "reveal");
		} else {
			self.count(|metrics| &metrics.revealed);
			log::info!(target: LOG_TARGET, "revealed task {task_id:?}");
			self.finished(task_id);
		}
		Ok(Progress::Submitted { replicated: true })
	}

	/// Submits `call`, the step due on `task`, `best` being the best block: again at the nonce
	/// of its last submission while the chain has not used that nonce, so that only one of the
	/// copies can be included; else at the key's next nonce, noted on disk before the
	/// transaction leaves.
	async fn submit_step(
		&mut self,
		task: TaskId,
		call: ContributionCall,
		best: BlockNumber,
	) -> Result<Submission, String> {
		let last = self.digests.due_on(&task).and_then(|due| due.sent);
		if let Some(last) = last {
			if self.chain.account_nonce().await? <= last.nonce {
				return match self.chain.submit(call, last.nonce).await {
					Ok(()) => {
						self.pool_full_at.remove(&task);
						self.digests.submitting(&task, best, last.nonce)?;
						Ok(Submission::Sent)
					}
					// Whether the pool still holds the first copy or not, nothing is lost by
					// trying again once a block has passed.
					Err(ClientError::PoolFull) => Ok(self.pool_full(task, best)),
					Err(ClientError::Refused(reason)) => {
						log::info!(
							target: LOG_TARGET,
							"task {task:?}: not on chain yet, and the pool holds its transaction \
							 at nonce {} ({reason}): waiting {LANDING_PATIENCE} more blocks",
							last.nonce
						);
						self.digests.still_queued(&task, best)?;
						Ok(Submission::StillQueued)
					}
					Err(error) => Err(error.to_string()),
				};
			}
		}
		let nonce = self.chain.next_nonce().await?;
		self.digests.submitting(&task, best, nonce)?;
		match self.chain.submit(call, nonce).await {
			Ok(()) => {
				self.pool_full_at.remove(&task);
				Ok(Submission::Sent)
			}
			Err(ClientError::PoolFull) => {
				self.digests.not_taken(&task, last)?;
				Ok(self.pool_full(task, best))
			}
			Err(error) => Err(error.to_string()),
		}
	}

	/// Notes that the pool had no room for the step due on `task` at best block `best`: a burst
	/// of transactions that outrank it fills the pool until blocks drain it (or the pool cannot
	/// rank the step at all). It is tried again once a block has passed, until its deadline.
	fn pool_full(&mut self, task: TaskId, best: BlockNumber) -> Submission {
		if self.pool_full_at.insert(task, best).is_none() {
			log::info!(
				target: LOG_TARGET,
				"task {task:?}: the transaction pool is full: submitting again each block until \
				 it takes the step"
			);
		}
		self.count(|metrics| &metrics.pool_full);
		Submission::PoolFull
	}

	/// Whether the pool had no room for `task`'s step at the best block `best` already.
	fn pool_was_full(&self, task: TaskId, best: BlockNumber) -> bool {
		self.pool_full_at.get(&task) == Some(&best)
	}

	/// Whether the step due on `task` was submitted less than [`LANDING_PATIENCE`] blocks
	/// before `best`: it may be on its way, and the chain is not asked about it yet.
	fn on_its_way(&self, task: TaskId, best: BlockNumber) -> bool {
		self.digests
			.due_on(&task)
			.and_then(|due| due.sent)
			.is_some_and(|sent| best < sent.at.saturating_add(LANDING_PATIENCE))
	}

	/// Whether the step due on `task` was submitted at least once.
	fn was_submitted(&self, task: TaskId) -> bool {
		self.digests.due_on(&task).is_some_and(|due| due.sent.is_some())
	}

	/// Notes that `step` is due on `task`. A store that cannot be written is only reported: the
	/// step is due in this run still.
	fn make_due(&mut self, task: TaskId, step: Step) {
		if let Err(error) = self.digests.make_due(task, step) {
			log::warn!(target: LOG_TARGET, "task {task:?}: {error}");
		}
	}

	/// Notes that `step` on `task` was submitted again, its last submission not on chain.
	fn resubmitted(&self, task: TaskId, step: &str) {
		log::warn!(
			target: LOG_TARGET,
			"task {task:?}: {step} not on chain {LANDING_PATIENCE} blocks after its submission; \
			 submitted again"
		);
		self.count(|metrics| &metrics.resubmitted);
	}

	/// Drops `task`, on which this worker has nothing left to do at `step`.
	fn forget(&mut self, task: TaskId, step: Step) {
		self.settle(task, step);
		self.learnt_at.remove(&task);
		self.pool_full_at.remove(&task);
	}

	/// Drops `task` at `step`, which failed for the reason `why`.
	fn give_up(&mut self, task: TaskId, step: Step, why: &str) {
		log::warn!(target: LOG_TARGET, "task {task:?}: given up: {why}");
		self.count(|metrics| &metrics.failed);
		self.forget(task, step);
	}

	/// Notes that this worker took its last step on `task`: how long the task took it since it
	/// learnt of it, if this run did.
	fn finished(&mut self, task: TaskId) {
		if let (Some(learnt), Some(metrics)) = (self.learnt_at.remove(&task), &self.metrics) {
			metrics.task_seconds.observe(learnt.elapsed().as_secs_f64());
		}
	}

	/// Notes that `step` is no longer due on `task`. A store that cannot be written is only
	/// reported: the worst that follows is one more check of the task after a restart.
	fn settle(&mut self, task: TaskId, step: Step) {
		if let Err(error) = self.digests.settle(&task, step) {
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

/// Whether a step with `deadline`, submitted when `best` is the best block, comes too late: it
/// lands in block `best + 1` at the earliest, and the chain takes it only before its deadline.
fn too_late(best: BlockNumber, deadline: BlockNumber) -> bool {
	best.saturating_add(1) >= deadline
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::{
		cell::{Cell, RefCell},
		collections::BTreeSet,
		path::Path,
	};

	use frame_support::BoundedVec;
	use pallet_contribution::{Contribution, ResultHash};
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
		/// Every call the pool took, in order, included or not.
		submitted: RefCell<Vec<ContributionCall>>,
		/// The nonce of each call in `submitted`.
		nonces: RefCell<Vec<Nonce>>,
		/// How many of the calls submitted [`FakeChain::include`] has looked at.
		looked_at: Cell<usize>,
		/// The nonces of the worker's transactions in the pool.
		pool: RefCell<BTreeSet<Nonce>>,
		/// The worker's nonce on chain.
		account_nonce: Cell<Nonce>,
		/// How many of the next submissions the pool has no room for.
		full_for: Cell<u32>,
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

		/// Includes what was submitted since the last inclusion in a new best block: votes and
		/// reveals are recorded on their tasks, with their events; a copy of a step already on
		/// chain is refused, as the pallet refuses it. Returns the block's number.
		fn include(&self) -> BlockNumber {
			let mut tasks = self.tasks.borrow_mut();
			let mut events = Vec::new();
			let contribution = RuntimeEvent::Contribution;
			let submitted = self.submitted.borrow();
			for call in &submitted[self.looked_at.get()..] {
				match call {
					pallet_contribution::Call::contribute {
						task: id,
						result_hash,
						result_seal,
						..
					} => {
						let task = tasks.get_mut(id).expect("a task on chain");
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
							events.push(contribution(pallet_contribution::Event::Contributed {
								task: *id,
								worker: me(),
								result_hash: *result_hash,
								stake: 0,
							}));
						}
					}
					pallet_contribution::Call::contribute_and_finalize { task: id, .. } => {
						let task = tasks.get_mut(id).expect("a task on chain");
						if task.status == TaskStatus::Active {
							task.status = TaskStatus::Completed;
							events.push(contribution(pallet_contribution::Event::Contributed {
								task: *id,
								worker: me(),
								result_hash: Default::default(),
								stake: 0,
							}));
						}
					}
					pallet_contribution::Call::reveal { task: id, digest, .. } => {
						let task = tasks.get_mut(id).expect("a task on chain");
						for vote in task.contributions.iter_mut() {
							if vote.worker == me() && vote.status == ContributionStatus::Contributed
							{
								vote.status = ContributionStatus::Revealed;
								events.push(contribution(pallet_contribution::Event::Revealed {
									task: *id,
									worker: me(),
									digest: *digest,
								}));
							}
						}
					}
					_ => {}
				}
			}
			self.looked_at.set(submitted.len());
			if let Some(last) = self.pool.borrow_mut().pop_last() {
				self.account_nonce.set(last + 1);
			}
			self.pool.borrow_mut().clear();
			self.advance(1);
			self.events.borrow_mut().insert(self.best.get(), events);
			self.best.get()
		}

		/// The pool drops every transaction of the worker's it holds, without a word.
		fn lose_pooled(&self) {
			self.pool.borrow_mut().clear();
			let all = self.submitted.borrow().len();
			self.looked_at.set(all);
		}

		/// Adds `blocks` blocks without a transaction of this worker's.
		fn advance(&self, blocks: BlockNumber) {
			self.best.set(self.best.get() + blocks);
		}

		/// The vote on `TASK` reaches consensus on this worker's vote in block `number`, the
		/// best block from then on.
		fn reach_consensus(&self, number: BlockNumber) {
			let mut tasks = self.tasks.borrow_mut();
			let task = tasks.get_mut(&TASK).expect("a task on chain");
			let result_hash = task.contribution_of(&me()).expect("a vote").result_hash;
			task.status = TaskStatus::Revealing;
			task.consensus = Some(result_hash);
			task.reveal_deadline = Some(number + 20);
			let reached =
				RuntimeEvent::Contribution(pallet_contribution::Event::ConsensusReached {
					task: TASK,
					result_hash,
					winners: 2,
					reveal_deadline: number + 20,
				});
			self.events.borrow_mut().entry(number).or_default().push(reached);
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

		async fn next_nonce(&self) -> Result<Nonce, ClientError> {
			let pooled = self.pool.borrow().last().map(|last| last + 1);
			Ok(pooled.unwrap_or_default().max(self.account_nonce.get()))
		}

		async fn account_nonce(&self) -> Result<Nonce, ClientError> {
			Ok(self.account_nonce.get())
		}

		/// Refuses a transaction at a nonce used on chain, or held in the pool already; has no
		/// room for the next [`FakeChain::full_for`].
		async fn submit(&self, call: ContributionCall, nonce: Nonce) -> Result<(), ClientError> {
			let full_for = self.full_for.get();
			if full_for > 0 {
				self.full_for.set(full_for - 1);
				return Err(ClientError::PoolFull);
			}
			if nonce < self.account_nonce.get() {
				return Err(ClientError::Refused("Transaction is outdated".into()));
			}
			if !self.pool.borrow_mut().insert(nonce) {
				return Err(ClientError::Refused("Priority is too low".into()));
			}
			self.submitted.borrow_mut().push(call);
			self.nonces.borrow_mut().push(nonce);
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
		let block = chain.include();
		chain.reach_consensus(block);

		let computer = FakeComputer::default();
		let mut restarted = start_worker(&chain, &computer, dir.path());
		restarted.follow(1, block).await.unwrap();
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
		let block = chain.include();
		chain.reach_consensus(block);
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
		let block = chain.include();
		let mut again = start_worker(&chain, &computer, dir.path());
		assert!(again.work().await.is_continue());
		assert_eq!(chain.contributions(), 1, "its vote may be on its way: not voted again");
		again.follow(block, block).await.unwrap();
		assert!(again.assigned.is_empty(), "nothing due once the chain shows the vote");
		drop(again);
		assert_eq!(DigestStore::load(dir.path()).unwrap().due().count(), 0);
	}

	/// A worker started on `work_dir` that read block 1 (`TASK` assigned to it) and worked one
	/// round: its vote on `TASK` submitted.
	async fn voted_worker<'a>(
		chain: &'a FakeChain,
		computer: &'a FakeComputer,
		work_dir: &Path,
	) -> Worker<&'a FakeChain, &'a FakeComputer> {
		let mut worker = start_worker(chain, computer, work_dir);
		worker.follow(1, 1).await.unwrap();
		rounds(&mut worker, 1).await;
		worker
	}

	/// Runs `rounds` rounds of `worker`.
	async fn rounds(worker: &mut Worker<&FakeChain, &FakeComputer>, rounds: u32) {
		for _ in 0..rounds {
			assert!(worker.work().await.is_continue());
		}
	}

	/// A vote the transaction pool dropped is submitted again, at the same nonce, once the chain
	/// has not shown it for [`LANDING_PATIENCE`] blocks, also by a node restarted meanwhile (not
	/// at once: it remembers its submission), and no more once the chain shows it. A copy the
	/// pool refuses, holding the first still, is not counted and waits as long again.
	#[tokio::test]
	async fn a_vote_the_pool_dropped_is_submitted_again() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(1);
		let computer = FakeComputer::default();
		let mut worker = voted_worker(&chain, &computer, dir.path()).await;
		chain.advance(LANDING_PATIENCE - 1);
		rounds(&mut worker, 3).await;
		assert_eq!(chain.contributions(), 1, "patient while the vote may be on its way");
		chain.advance(1);
		rounds(&mut worker, 1).await;
		assert_eq!(chain.contributions(), 1, "the pool holds it still: no copy taken");
		chain.advance(LANDING_PATIENCE - 1);
		chain.lose_pooled();
		rounds(&mut worker, 1).await;
		assert_eq!(chain.contributions(), 1, "given as long again after the pool held it");

		drop(worker);
		let mut restarted = start_worker(&chain, &computer, dir.path());
		rounds(&mut restarted, 1).await;
		assert_eq!(chain.contributions(), 1, "a restarted node remembers its submission");
		chain.advance(1);
		rounds(&mut restarted, 3).await;
		assert_eq!(chain.contributions(), 2, "submitted again, once");
		assert_eq!(*chain.nonces.borrow(), [0, 0], "at the same nonce: only one can land");
		assert_eq!(computer.runs.get(), 1, "with the digest kept, not computed again");

		let block = chain.include();
		restarted.follow(block, block).await.unwrap();
		chain.advance(2 * LANDING_PATIENCE);
		rounds(&mut restarted, 2).await;
		assert_eq!(chain.contributions(), 2, "no more once on chain");
		assert!(restarted.assigned.is_empty());
		assert_eq!(DigestStore::load(dir.path()).unwrap().due().count(), 0);
	}

	/// A vote the pool has no room for (full of transactions that outrank it) is submitted again
	/// once a block has passed, as often as it takes, without using up its submissions, at the
	/// nonce it would have had; so is a copy submitted again after its patience ran out.
	#[tokio::test]
	async fn a_vote_the_full_pool_did_not_take_is_submitted_again_each_block() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(1);
		let computer = FakeComputer::default();
		chain.full_for.set(SUBMISSIONS + 2);
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		rounds(&mut worker, 3).await;
		assert_eq!(chain.full_for.get(), SUBMISSIONS + 1, "tried once in a block");
		for _ in 0..SUBMISSIONS + 1 {
			chain.advance(1);
			rounds(&mut worker, 2).await;
		}
		assert_eq!(chain.full_for.get(), 0, "tried in every block");
		assert_eq!(chain.contributions(), 0, "the pool took none");
		assert!(worker.assigned.contains_key(&TASK), "not given up");
		chain.advance(1);
		rounds(&mut worker, 1).await;
		assert_eq!(chain.contributions(), 1, "taken once the pool has room");
		assert_eq!(*chain.nonces.borrow(), [0]);
		assert_eq!(computer.runs.get(), 1, "computed once");
		let due = DigestStore::load(dir.path()).unwrap().due_on(&TASK).unwrap();
		assert_eq!(due.submissions, 1, "only the submission the pool took counts");

		chain.lose_pooled();
		chain.advance(LANDING_PATIENCE);
		chain.full_for.set(2);
		for _ in 0..3 {
			rounds(&mut worker, 1).await;
			chain.advance(1);
		}
		assert_eq!(chain.contributions(), 2, "submitted again once the pool had room");
		assert_eq!(*chain.nonces.borrow(), [0, 0], "at the same nonce");
	}

	/// A vote whose nonce the chain used for another transaction of the worker's key (the pool
	/// dropped the vote, and a later transaction took its nonce) is submitted again at a new one.
	#[tokio::test]
	async fn a_vote_whose_nonce_was_taken_is_submitted_at_a_new_one() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let computer = FakeComputer::default();
		let mut worker = voted_worker(&chain, &computer, dir.path()).await;
		chain.lose_pooled();
		chain.account_nonce.set(1);
		chain.advance(LANDING_PATIENCE);
		rounds(&mut worker, 1).await;
		assert_eq!(*chain.nonces.borrow(), [0, 1]);
	}

	/// A vote that never shows on chain is given up after [`SUBMISSIONS`] submissions; one not
	/// on chain by the block before the task's contribution deadline is given up then, without
	/// submitting: it could land only at the deadline, which the chain refuses.
	#[tokio::test]
	async fn a_vote_that_never_lands_is_given_up() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(1);
		let computer = FakeComputer::default();
		let mut worker = start_worker(&chain, &computer, dir.path());
		worker.follow(1, 1).await.unwrap();
		for _ in 0..SUBMISSIONS + 2 {
			rounds(&mut worker, 1).await;
			chain.lose_pooled();
			chain.advance(LANDING_PATIENCE);
		}
		assert_eq!(chain.contributions(), SUBMISSIONS as usize);
		assert!(worker.assigned.is_empty(), "given up");
		assert_eq!(DigestStore::load(dir.path()).unwrap().due().count(), 0);

		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(1);
		let mut worker = voted_worker(&chain, &computer, dir.path()).await;
		chain.lose_pooled();
		let deadline = chain.tasks.borrow()[&TASK].contribution_deadline;
		chain.best.set(deadline - 1);
		rounds(&mut worker, 1).await;
		assert_eq!(chain.contributions(), 1, "not submitted again so near its deadline");
		assert!(worker.assigned.is_empty(), "given up");
	}

	/// A reveal the pool dropped is submitted again, also by a node restarted meanwhile (not at
	/// once), and no more once the chain shows it; none is submitted that could land only at its
	/// reveal deadline.
	#[tokio::test]
	async fn a_reveal_the_pool_dropped_is_submitted_again() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let computer = FakeComputer::default();
		let mut worker = voted_worker(&chain, &computer, dir.path()).await;
		let block = chain.include();
		chain.reach_consensus(block);
		worker.follow(block, block).await.unwrap();
		rounds(&mut worker, 1).await;
		assert_eq!(chain.reveals().len(), 1);
		chain.lose_pooled();
		chain.advance(LANDING_PATIENCE - 1);
		rounds(&mut worker, 2).await;
		assert_eq!(chain.reveals().len(), 1, "patient while the reveal may be on its way");

		drop(worker);
		let mut restarted = start_worker(&chain, &computer, dir.path());
		rounds(&mut restarted, 1).await;
		assert_eq!(chain.reveals().len(), 1, "a restarted node remembers its submission");
		chain.advance(1);
		rounds(&mut restarted, 2).await;
		assert_eq!(chain.reveals(), [(TASK, DIGEST), (TASK, DIGEST)], "submitted again");
		assert_eq!(*chain.nonces.borrow(), [0, 1, 1], "the reveal at its own nonce");

		let block = chain.include();
		restarted.follow(block, block).await.unwrap();
		chain.advance(LANDING_PATIENCE);
		rounds(&mut restarted, 2).await;
		assert_eq!(chain.reveals().len(), 2, "no more once on chain");
		assert!(restarted.revealing.is_empty() && restarted.assigned.is_empty());
		assert_eq!(chain.contributions(), 1, "voted once");

		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let mut worker = voted_worker(&chain, &computer, dir.path()).await;
		let block = chain.include();
		chain.reach_consensus(block);
		chain.advance(19);
		worker.follow(block, block).await.unwrap();
		rounds(&mut worker, 1).await;
		assert!(chain.reveals().is_empty(), "not submitted the block before its reveal deadline");
		assert!(worker.revealing.is_empty(), "given up");
	}

	/// A reopened task this worker computed is due its vote again: voted on if the chain does
	/// not show the vote (lost on its way), left alone if it does.
	#[tokio::test]
	async fn a_reopened_task_is_voted_on_if_its_vote_is_not_on_chain() {
		let dir = tempfile::tempdir().unwrap();
		let chain = FakeChain::with_task(2);
		let computer = FakeComputer::default();
		let mut worker = voted_worker(&chain, &computer, dir.path()).await;
		chain.lose_pooled();
		// The others reach consensus without this worker's vote, which it stops waiting for...
		let consensus = ResultHash::repeat_byte(0xcc);
		let task_status = |status| chain.tasks.borrow_mut().get_mut(&TASK).unwrap().status = status;
		task_status(TaskStatus::Revealing);
		let reached = pallet_contribution::Event::ConsensusReached {
			task: TASK,
			result_hash: consensus,
			winners: 2,
			reveal_deadline: 30,
		};
		chain.events.borrow_mut().insert(2, vec![RuntimeEvent::Contribution(reached)]);
		chain.advance(1);
		worker.follow(2, 2).await.unwrap();
		rounds(&mut worker, 1).await;
		assert!(worker.assigned.is_empty() && worker.revealing.is_empty(), "nothing to do");
		// ... then none of them reveals, and the task is reopened.
		let reopened = |number| {
			let event = pallet_contribution::Event::TaskReopened { task: TASK, rejected: 2 };
			chain
				.events
				.borrow_mut()
				.insert(number, vec![RuntimeEvent::Contribution(event)]);
		};
		task_status(TaskStatus::Active);
		reopened(3);
		chain.advance(1);
		worker.follow(3, 3).await.unwrap();
		chain.advance(LANDING_PATIENCE);
		rounds(&mut worker, 1).await;
		assert_eq!(chain.contributions(), 2, "voted again");

		let block = chain.include();
		worker.follow(block, block).await.unwrap();
		reopened(block + 1);
		chain.advance(1);
		worker.follow(block + 1, block + 1).await.unwrap();
		rounds(&mut worker, 1).await;
		assert_eq!(chain.contributions(), 2, "its vote is on chain: not voted again");
		assert!(worker.assigned.is_empty());
		assert_eq!(computer.runs.get(), 1);
	}
}
