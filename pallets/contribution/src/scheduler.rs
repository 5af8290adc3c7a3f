//! # The scheduler's off-chain worker
//!
//! A workerpool's operator runs a `commons-node` whose keystore holds the pool's scheduler key
//! (key type [`SCHEDULER_KEY_TYPE`], inserted with `commons-node key insert`), and that account
//! accepted to schedule the pool (`marketplace.acceptScheduling`). After each block it imports,
//! the node's off-chain worker, for every pool whose accepted scheduler is a local key:
//!
//! 1. opens the tasks of the pool's deals that nobody opened yet and assigns their first
//!    workers in the same call, a batch of a deal's tasks at a time ([`Call::open_and_assign`]);
//! 2. assigns workers to each open task until the votes cast, together with the votes still
//!    expected, would reach consensus at the deal's trust ([`consensus::predicts_consensus`],
//!    the reference's §4.5) with at least two of them agreeing above trust 1
//!    ([`consensus::min_agreeing`]), so more workers join when contributions disagree or an
//!    assigned worker stays silent ([`Call::assign`]); then pushes the task to each new worker's
//!    registered endpoint over HTTP, so it starts at once instead of at its next event poll;
//! 3. finalizes a task whose reveal window closed after a reveal ([`Call::finalize`]), and
//!    reopens one whose winners all stayed silent ([`Call::reopen`]).
//!
//! ## Design
//!
//! - **Choosing workers.** Candidates are the pool's members that declared every feature the
//!   deal's tag asks for, sent a heartbeat within [`Config::LivenessWindow`], and, for a TEE
//!   deal, have an attested enclave of a measurement the app allows. They are ranked by score
//!   (the vote weight they bring), then by how many tasks this run already gave them, then by a
//!   hash of task and worker, so that equal workers share the load. For a replicated task, the
//!   lowest-scored candidate is tried second: a pool that always picked its best workers would
//!   never let a newcomer earn a score, and the vote still needs the best one's agreement.
//! - **Silent workers.** An assigned worker that has not contributed within the category's
//!   reference time T of its assignment (recorded on chain) no longer counts as a pending vote,
//!   so the task gets another worker; once it is silent for 2T, the next assignment takes its
//!   place and cuts its score in the pool ([`Call::assign`]). The node remembers whom it replaced
//!   on a task and does not give it that task again.
//! - **Every deal served in turn.** A run looks at a bounded number of unsettled tasks and submits
//!   a bounded number of transactions. Pools with deals share the transactions evenly, deals
//!   share the tasks evenly (at least [`MIN_TASKS_PER_DEAL`] each), each run starts one deal
//!   further on, and each deal is resumed where the last run left it; settled tasks are skipped
//!   without counting. So a deal of many tasks, or a pool with many deals, cannot starve another.
//! - **No double dispatch, no paying for the same failure forever.** Each action takes a lock on
//!   its task (or deal) in the node's persistent off-chain storage with a compare-and-set, valid
//!   for a few blocks: overlapping runs, or the next block's run while the transaction waits in
//!   the pool, do not repeat it. An action whose task is still in the same state once its lock
//!   ran out (its transaction failed) is retried after twice as long each time.
//! - **Nonces, and transactions the pool loses.** A run may submit several transactions from one
//!   key; the next nonce is kept in off-chain storage so the next run does not reuse one still
//!   in the pool. A transaction the pool drops (its queue for transactions ahead of their
//!   sender's nonce is full, or it was found invalid) leaves a gap no later nonce can pass, and
//!   the pool does not tell an off-chain worker that it refused one. So the record also keeps
//!   the account's nonce on chain and the block it last moved in: when transactions are in
//!   flight and the chain's nonce has not moved for [`STALL_BLOCKS`] blocks, they are taken for
//!   lost and the next one is signed at the chain's nonce, which fills the gap; their work is
//!   planned again once their actions' locks run out. If they were only waiting in full blocks,
//!   the new transactions take nonces still in the pool and are refused, and a key whose
//!   transaction was refused submits nothing more in that run.
//! - **Local storage does not grow with the chain's age.** Every entry kept for a deal or a task
//!   (cursor, locks, replaced workers) is listed, when first written, under the deal's final
//!   deadline, after which nothing is scheduled for it; each run deletes the entries listed
//!   under the blocks that passed.
//!
//! ## Terms
//!
//! - *Pending worker*: assigned, not yet contributed, and assigned less than T ago.

use alloc::{collections::BTreeMap, format, string::String, vec::Vec};
use codec::Encode;
use frame_support::{pallet_prelude::*, BoundedVec};
use frame_system::{
	offchain::{Account, CreateSignedTransaction, Signer, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use pallet_marketplace::{
	Deal, DealId, Deals, Membership, PoolMembers, SchedulerAccepted, WorkerpoolId, Workerpools,
};
use sp_core::crypto::KeyTypeId;
use sp_runtime::{
	offchain::{http, storage::StorageValueRef, Duration},
	traits::{One, Saturating},
};

use crate::{
	consensus, Call, Config, ExpiringDeals, Pallet, Scores, Task, TaskId, TaskStatus, Tasks,
};

/// The key type of workerpool scheduler keys.
pub const SCHEDULER_KEY_TYPE: KeyTypeId = KeyTypeId(*b"schd");

/// The scheduler key's crypto: sr25519, signing for an account of the runtime's `MultiSigner`.
pub mod crypto {
	use super::SCHEDULER_KEY_TYPE;
	use sp_runtime::{
		app_crypto::{app_crypto, sr25519},
		MultiSignature, MultiSigner,
	};

	app_crypto!(sr25519, SCHEDULER_KEY_TYPE);

	/// Signs the scheduler's transactions with a local key of type `schd`.
	pub struct SchedulerKey;

	impl frame_system::offchain::AppCrypto<MultiSigner, MultiSignature> for SchedulerKey {
		type RuntimeAppPublic = Public;
		type GenericSignature = sp_core::sr25519::Signature;
		type GenericPublic = sp_core::sr25519::Public;
	}
}

/// How many blocks an action stays locked, waiting for its transaction to land.
const IN_FLIGHT_BLOCKS: u32 = 3;
/// How many blocks (a minute) the scheduler key's nonce on chain may stay put while its
/// transactions are in flight before they are taken for lost (see the module's design): longer
/// than full blocks usually keep a transaction waiting, short against its 64 blocks of life.
const STALL_BLOCKS: u32 = 10;
/// An action whose transaction did not change its task waits twice as long before each retry,
/// up to `IN_FLIGHT_BLOCKS × 2^MAX_BACKOFF_DOUBLINGS` blocks.
const MAX_BACKOFF_DOUBLINGS: u32 = 5;
/// The most transactions one run submits, so that a run stays short.
const MAX_ACTIONS_PER_RUN: usize = 32;
/// The most unsettled tasks one run looks at.
const MAX_TASKS_PER_RUN: u32 = 512;
/// The fewest unsettled tasks of each deal one run looks at, however many deals there are.
const MIN_TASKS_PER_DEAL: u32 = 8;
/// The most blocks' lists of stale local entries one run deletes.
const MAX_FORGET_BLOCKS: u32 = 64;
/// How long a worker's endpoint has to accept a pushed task.
const PUSH_TIMEOUT_MS: u64 = 2_000;

/// A transaction the scheduler wants to submit, and what to tell workers once it is.
struct Action<T: Config> {
	/// Which local key signs it.
	signer: usize,
	/// The lock this action holds.
	lock: Vec<u8>,
	call: Call<T>,
	/// For an assignment: each task and the endpoints of its newly assigned workers.
	push: Vec<(TaskId, Vec<Vec<u8>>)>,
}

/// What one run decides.
struct Plan<T: Config> {
	now: BlockNumberFor<T>,
	actions: Vec<Action<T>>,
	/// How many actions each pool may still take this run: pools share the run's budget.
	pool_budget: BTreeMap<WorkerpoolId, usize>,
	/// Each pool's members, read once per run.
	members: BTreeMap<WorkerpoolId, Vec<(T::AccountId, Membership<T>)>>,
	/// How many tasks this run gave each worker.
	load: BTreeMap<T::AccountId, u32>,
	tasks_seen: u32,
}

impl<T: Config> Pallet<T>
where
	T: CreateSignedTransaction<Call<T>>,
{
	/// The off-chain worker's entry point: schedules the tasks of pools with a local scheduler
	/// key.
	pub(crate) fn schedule(now: BlockNumberFor<T>) {
		let local: Vec<Account<T>> = Signer::<T, T::SchedulerKey>::keystore_accounts().collect();
		if local.is_empty() {
			return;
		}
		forget_expired::<T>(now);
		// Only pools whose scheduler accepted them: naming a scheduler is not enough to make its
		// node work for a pool.
		let pools: BTreeMap<WorkerpoolId, usize> = SchedulerAccepted::<T>::iter()
			.filter(|(id, accepted)| {
				Workerpools::<T>::get(id).is_some_and(|pool| pool.scheduler_key == *accepted)
			})
			.filter_map(|(id, accepted)| {
				local.iter().position(|account| account.id == accepted).map(|at| (id, at))
			})
			.collect();
		if pools.is_empty() {
			return;
		}

		// The live deals of local pools, taken in turn: each run starts one deal further on, so
		// that no deal always comes last when the run's budget runs out.
		let deals: Vec<(DealId, Deal<T>, usize)> = ExpiringDeals::<T>::iter()
			// Expired deals are the idle sweep's.
			.filter(|(expiry, _, _)| *expiry > now)
			.filter_map(|(_, id, _)| {
				let deal = Deals::<T>::get(id)?;
				let signer = *pools.get(&deal.workerpool.id)?;
				Some((id, deal, signer))
			})
			.collect();
		if deals.is_empty() {
			return;
		}
		let first = next_turn() as usize % deals.len();
		let serving: BTreeMap<WorkerpoolId, ()> =
			deals.iter().map(|(_, deal, _)| (deal.workerpool.id, ())).collect();
		let per_pool = (MAX_ACTIONS_PER_RUN / serving.len()).max(1);
		let per_deal = (MAX_TASKS_PER_RUN / deals.len() as u32).max(MIN_TASKS_PER_DEAL);

		let mut plan = Plan::<T> {
			now,
			actions: Vec::new(),
			pool_budget: serving.into_keys().map(|pool| (pool, per_pool)).collect(),
			members: BTreeMap::new(),
			load: BTreeMap::new(),
			tasks_seen: 0,
		};
		for (deal_id, deal, signer) in deals.iter().cycle().skip(first).take(deals.len()) {
			if plan.is_full() {
				break;
			}
			plan.plan_deal(*signer, *deal_id, deal, per_deal);
		}
		Self::submit(&local, plan.actions, now);
	}

	/// Signs and submits `actions`, pushing assignments to workers; releases the lock of any
	/// action that could not be submitted.
	fn submit(local: &[Account<T>], actions: Vec<Action<T>>, now: BlockNumberFor<T>) {
		let mut in_flight: BTreeMap<usize, InFlight<T>> = BTreeMap::new();
		// Keys whose transaction the pool refused this run: the next would take the same nonce.
		let mut refused: Vec<usize> = Vec::new();
		let mut pushes = Vec::new();
		for action in actions {
			if refused.contains(&action.signer) {
				StorageValueRef::persistent(&action.lock).clear();
				continue;
			}
			let account = &local[action.signer];
			let nonce = in_flight
				.entry(action.signer)
				.or_insert_with(|| Self::in_flight(account, now))
				.next;
			let submitted = T::create_signed_transaction::<T::SchedulerKey>(
				action.call.into(),
				account.public.clone(),
				account.id.clone(),
				nonce,
			)
			.map(SubmitTransaction::<T, Call<T>>::submit_transaction);
			match submitted {
				Some(Ok(())) => {
					if let Some(record) = in_flight.get_mut(&action.signer) {
						record.next = nonce.saturating_add(One::one());
					}
					pushes.extend(action.push);
				}
				_ => {
					log::warn!(target: LOG_TARGET, "could not submit a scheduler transaction");
					StorageValueRef::persistent(&action.lock).clear();
					refused.push(action.signer);
				}
			}
		}
		for (signer, record) in in_flight {
			let key = nonce_key(&local[signer].id);
			StorageValueRef::persistent(&key).set(&record);
		}
		Self::push_to_workers(pushes);
	}

	/// What `account` has in flight: the transactions this node submitted that the chain has
	/// not counted yet, unless the chain's nonce stopped moving (see the module's design).
	fn in_flight(account: &Account<T>, now: BlockNumberFor<T>) -> InFlight<T> {
		let on_chain = frame_system::Pallet::<T>::account_nonce(&account.id);
		let nothing_in_flight = InFlight { next: on_chain, on_chain, since: now };
		let key = nonce_key(&account.id);
		match StorageValueRef::persistent(&key).get::<InFlight<T>>() {
			Ok(Some(record)) if record.next > on_chain => {
				if on_chain != record.on_chain {
					// Some landed: the rest are on their way.
					InFlight { on_chain, since: now, ..record }
				} else if now < record.since.saturating_add(STALL_BLOCKS.into()) {
					record
				} else {
					log::warn!(
						target: LOG_TARGET,
						"the scheduler's transactions from nonce {:?} did not land in {} blocks: \
						 taken for lost, signing again from there",
						on_chain,
						STALL_BLOCKS
					);
					nothing_in_flight
				}
			}
			_ => nothing_in_flight,
		}
	}

	/// Tells each newly assigned worker about its task. Best effort: a worker that is not
	/// reachable learns of the assignment from the chain's events.
	fn push_to_workers(pushes: Vec<(TaskId, Vec<Vec<u8>>)>) {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(PUSH_TIMEOUT_MS));
		let mut pending = Vec::new();
		for (task, endpoints) in pushes {
			// A hash's debug form is its full 0x-prefixed hex.
			let body = format!("{{\"task\":\"{task:?}\"}}");
			for endpoint in endpoints {
				let Ok(endpoint) = core::str::from_utf8(&endpoint) else { continue };
				let url = format!("{}/tasks", endpoint.trim_end_matches('/'));
				let request = http::Request::post(&url, alloc::vec![body.clone().into_bytes()])
					.add_header("Content-Type", "application/json")
					.deadline(deadline);
				match request.send() {
					Ok(request) => pending.push((url, request)),
					Err(error) => log::debug!(target: LOG_TARGET, "push to {url}: {error:?}"),
				}
			}
		}
		let (urls, requests): (Vec<String>, Vec<http::PendingRequest>) =
			pending.into_iter().unzip();
		for (url, outcome) in
			urls.iter().zip(http::PendingRequest::try_wait_all(requests, deadline))
		{
			match outcome {
				Ok(Ok(response)) if response.code / 100 == 2 => {}
				other => log::debug!(target: LOG_TARGET, "push to {url}: {other:?}"),
			}
		}
	}
}

impl<T: Config> Plan<T> {
	fn is_full(&self) -> bool {
		self.actions.len() >= MAX_ACTIONS_PER_RUN || self.tasks_seen >= MAX_TASKS_PER_RUN
	}

	/// Whether `pool` may still take an action this run.
	fn may_act(&self, pool: WorkerpoolId) -> bool {
		!self.is_full() && self.pool_budget.get(&pool).is_some_and(|left| *left > 0)
	}

	/// Adds `action` for `pool`, out of its budget.
	fn act(&mut self, pool: WorkerpoolId, action: Action<T>) {
		if let Some(left) = self.pool_budget.get_mut(&pool) {
			left.saturating_dec();
		}
		self.actions.push(action);
	}

	/// Plans what up to `quota` of the deal's unsettled tasks need, from where the last run
	/// stopped in this deal. Settled tasks are skipped without counting, so a deal's finished
	/// tasks never crowd out its open ones; unopened ones are opened in batches as they are found.
	fn plan_deal(&mut self, signer: usize, deal_id: DealId, deal: &Deal<T>, quota: u32) {
		let Ok(deadlines) = Pallet::<T>::deadlines(deal) else { return };
		let pool = deal.workerpool.id;
		let cursor_key = deal_cursor_key(&deal_id);
		let cursor = StorageValueRef::persistent(&cursor_key);
		let stored = cursor.get::<u32>().ok().flatten();
		if stored.is_none() {
			forget_after::<T>(deadlines.settlement, &cursor_key);
		}
		let start = stored.unwrap_or_default() % deal.volume.max(1);
		let mut looked = 0u32;
		let mut next = start;
		// The tasks to open together, and the offset of the first of them.
		let mut to_open: Vec<Opened<T>> = Vec::new();
		let mut to_open_from = start;
		for step in 0..deal.volume {
			if looked >= quota || self.tasks_seen >= MAX_TASKS_PER_RUN || !self.may_act(pool) {
				break;
			}
			let offset = start.saturating_add(step) % deal.volume;
			next = offset.saturating_add(1) % deal.volume;
			let index = deal.first_task.saturating_add(offset);
			let task = Pallet::<T>::task_id(&deal_id, index);
			match Tasks::<T>::get(task) {
				None if self.now < deadlines.contribution => {
					if to_open.is_empty() {
						to_open_from = offset;
					}
					// Its first workers are chosen as for an open task nobody is assigned to,
					// and count in this run's load at once, so that the batch's next tasks
					// go to others.
					let fresh = Pallet::<T>::new_task(deal_id, index, &deadlines);
					let room = T::MaxContributors::get() as usize;
					let chosen = self.choose_workers(&task, &fresh, deal, &[], Vec::new(), room);
					let (workers, endpoints) = self.take_on(chosen);
					to_open.push(Opened { index, task, workers, endpoints });
					if to_open.len() >= T::MaxInitializeBatch::get() as usize
						&& self.open(
							signer,
							deal_id,
							deal,
							core::mem::take(&mut to_open),
							deadlines.settlement,
						) == Opening::NoBudget
					{
						// Not opened this run: the next one starts with them.
						next = to_open_from;
						break;
					}
				}
				None => continue,
				Some(entry) if entry.status.is_settled() => {
					StorageValueRef::persistent(&replaced_key(&task)).clear();
					continue;
				}
				Some(entry) => self.plan_task(signer, task, entry, deal),
			}
			looked.saturating_inc();
			self.tasks_seen.saturating_inc();
		}
		if !to_open.is_empty()
			&& self.open(signer, deal_id, deal, to_open, deadlines.settlement) == Opening::NoBudget
		{
			// Not opened this run: the next one starts with them.
			next = to_open_from;
		}
		cursor.set(&next);
	}

	/// Opens `tasks` of `deal_id` (at most a batch, each index with the workers chosen for it)
	/// unless the pool's budget is spent or the same batch is in flight.
	fn open(
		&mut self,
		signer: usize,
		deal_id: DealId,
		deal: &Deal<T>,
		tasks: Vec<Opened<T>>,
		deadline: BlockNumberFor<T>,
	) -> Opening {
		let pool = deal.workerpool.id;
		// The lock names the batch's tasks, not the workers chosen for them (another run may
		// choose others): a batch of other tasks (some were opened meanwhile) is a new action.
		let indices: Vec<(DealId, u32)> =
			tasks.iter().map(|opened| (deal_id, opened.index)).collect();
		let lock = lock_key(&sp_io::hashing::blake2_256(&indices.encode()));
		let outcome = if !self.may_act(pool) {
			Opening::NoBudget
		} else if !take_lock::<T>(&lock, self.now, [0; 32], deadline) {
			Opening::InFlight
		} else {
			Opening::Planned
		};
		if outcome != Opening::Planned {
			// Not given this run: the workers chosen for them take other tasks.
			for worker in tasks.iter().flat_map(|opened| opened.workers.iter()) {
				if let Some(load) = self.load.get_mut(worker) {
					load.saturating_dec();
				}
			}
			return outcome;
		}
		let mut push = Vec::new();
		let mut batch = Vec::new();
		for Opened { index, task, workers, endpoints } in tasks {
			if !endpoints.is_empty() {
				push.push((task, endpoints));
			}
			batch.push((index, workers));
		}
		// `tasks` is at most a batch long (see `plan_deal`).
		let tasks: BoundedVec<_, T::MaxInitializeBatch> = batch.try_into().unwrap_or_default();
		let call = Call::open_and_assign { deal: deal_id, tasks };
		self.act(pool, Action { signer, lock, call, push });
		Opening::Planned
	}

	/// Counts `chosen` in this run's load, and splits them into the workers to assign and the
	/// endpoints to push the task to.
	fn take_on(
		&mut self,
		chosen: Vec<(T::AccountId, Vec<u8>)>,
	) -> (BoundedVec<T::AccountId, T::MaxContributors>, Vec<Vec<u8>>) {
		let mut workers = BoundedVec::new();
		let mut endpoints = Vec::new();
		for (worker, endpoint) in chosen {
			self.load.entry(worker.clone()).or_default().saturating_inc();
			endpoints.push(endpoint);
			// Workers are chosen no more than the room left under `MaxContributors`.
			let _ = workers.try_push(worker);
		}
		(workers, endpoints)
	}

	/// `task`'s best candidates, in order, until the votes cast and the `pending` workers'
	/// weights with theirs would reach consensus, or `room` are chosen: each with its endpoint.
	fn choose_workers(
		&mut self,
		task: &TaskId,
		entry: &Task<T>,
		deal: &Deal<T>,
		replaced: &[T::AccountId],
		mut pending: Vec<u32>,
		room: usize,
	) -> Vec<(T::AccountId, Vec<u8>)> {
		let mut chosen = Vec::new();
		for (worker, endpoint, score) in self.candidates(task, entry, deal, replaced) {
			if chosen.len() >= room {
				break;
			}
			pending.push(consensus::worker_weight(score));
			chosen.push((worker, endpoint));
			if has_enough_workers(entry, &pending, deal.trust) {
				break;
			}
		}
		chosen
	}

	/// Plans what one opened task needs.
	fn plan_task(&mut self, signer: usize, task: TaskId, entry: Task<T>, deal: &Deal<T>) {
		let now = self.now;
		let call = match entry.status {
			TaskStatus::Active if now < entry.contribution_deadline => {
				return self.assign(signer, task, &entry, deal);
			}
			TaskStatus::Revealing
				if entry.reveal_deadline.is_some_and(|deadline| deadline <= now)
					&& now < entry.final_deadline =>
			{
				if entry.reveals > 0 {
					Call::finalize { task }
				} else {
					Call::reopen { task }
				}
			}
			_ => return,
		};
		let lock = lock_key(task.as_bytes());
		if self.may_act(deal.workerpool.id)
			&& take_lock::<T>(&lock, now, fingerprint(&entry), entry.final_deadline)
		{
			self.act(deal.workerpool.id, Action { signer, lock, call, push: Vec::new() });
		}
	}

	/// Assigns workers to `task` if the votes cast and pending would not reach consensus.
	fn assign(&mut self, signer: usize, task: TaskId, entry: &Task<T>, deal: &Deal<T>) {
		let now = self.now;
		let pending: Vec<u32> = entry
			.assigned
			.iter()
			.filter(|worker| entry.is_pending(worker, now))
			.map(|worker| consensus::worker_weight(Scores::<T>::get(deal.workerpool.id, worker)))
			.collect();
		if has_enough_workers(entry, &pending, deal.trust) {
			return;
		}
		let lock = lock_key(task.as_bytes());
		let state = fingerprint(entry);
		if lock_held::<T>(&lock, now, &state) {
			return;
		}

		// The silent workers' places are freed by the assignment itself, and none of the workers
		// silent on this task is given it again.
		let silent = entry.silent_workers(now);
		let staying = entry.assigned.len().saturating_sub(silent.len());
		let room = (T::MaxContributors::get() as usize).saturating_sub(staying);
		let replaced_key = replaced_key(&task);
		let replaced_record = StorageValueRef::persistent(&replaced_key);
		let mut replaced: Vec<T::AccountId> =
			replaced_record.get().ok().flatten().unwrap_or_default();
		let chosen = self.choose_workers(&task, entry, deal, &replaced, pending, room);
		if chosen.is_empty()
			|| !self.may_act(deal.workerpool.id)
			|| !take_lock::<T>(&lock, now, state, entry.final_deadline)
		{
			return;
		}
		// This assignment expels them from the pool: no later task of this run may have them.
		if let Some(members) = self.members.get_mut(&deal.workerpool.id) {
			members.retain(|(member, _)| !silent.contains(member));
		}
		for worker in silent {
			if !replaced.contains(&worker) {
				replaced.push(worker);
			}
		}
		if replaced_record.get::<Vec<T::AccountId>>().ok().flatten().is_none() {
			forget_after::<T>(entry.final_deadline, &replaced_key);
		}
		replaced_record.set(&replaced);
		let (workers, endpoints) = self.take_on(chosen);
		self.act(
			deal.workerpool.id,
			Action {
				signer,
				lock,
				call: Call::assign { task, workers },
				push: alloc::vec![(task, endpoints)],
			},
		);
	}

	/// The pool's members that may take `task`, best first: each with its endpoint and score.
	/// Workers `replaced` on the task for their silence are not among them.
	fn candidates(
		&mut self,
		task: &TaskId,
		entry: &Task<T>,
		deal: &Deal<T>,
		replaced: &[T::AccountId],
	) -> Vec<(T::AccountId, Vec<u8>, u32)> {
		let now = self.now;
		let members = self
			.members
			.entry(deal.workerpool.id)
			.or_insert_with(|| PoolMembers::<T>::iter_prefix(deal.workerpool.id).collect());
		let enclave_requirement = Pallet::<T>::enclave_requirement(deal);
		let mut ranked: Vec<_> = members
			.iter()
			.filter(|(worker, membership)| {
				deal.tag & !membership.capabilities == 0
					&& now < membership.last_heartbeat.saturating_add(T::LivenessWindow::get())
					&& !entry.assigned.contains(worker)
					&& !replaced.contains(worker)
					&& enclave_requirement.as_ref().is_none_or(|requirement| {
						Pallet::<T>::allowed_enclave(worker, deal, requirement).is_some()
					})
			})
			.map(|(worker, membership)| {
				let score = Scores::<T>::get(deal.workerpool.id, worker);
				let load = self.load.get(worker).copied().unwrap_or_default();
				let spread = sp_io::hashing::blake2_256(&(task, worker).encode());
				(
					core::cmp::Reverse(score),
					load,
					spread,
					worker.clone(),
					membership.endpoint.to_vec(),
				)
			})
			.collect();
		ranked.sort();
		let mut ranked: Vec<_> = ranked
			.into_iter()
			.map(|(score, _, _, worker, endpoint)| (worker, endpoint, score.0))
			.collect();
		// Let a newcomer in second, behind the best candidate, on replicated tasks.
		if deal.trust > 1 && ranked.len() > 2 {
			if let Some(last) = ranked.pop() {
				if ranked.first().is_some_and(|best| best.2 > last.2) {
					ranked.insert(1, last);
				} else {
					ranked.push(last);
				}
			}
		}
		ranked
	}
}

/// Whether `entry` needs no more workers: the votes cast and the `pending` workers' weights
/// would reach consensus at `trust` if the pending agreed with the leading result, with as many
/// agreeing contributors as the trust asks for ([`consensus::min_agreeing`]).
fn has_enough_workers<T: Config>(entry: &Task<T>, pending: &[u32], trust: u32) -> bool {
	let leading = entry.tally.groups().max_by_key(|(_, group)| *group).map(|(hash, _)| hash);
	let leading_voters = entry
		.contributions
		.iter()
		.filter(|contribution| {
			Some(contribution.result_hash) == leading
				&& contribution.status != crate::ContributionStatus::Rejected
		})
		.count();
	consensus::predicts_consensus(&entry.tally, pending, trust)
		&& (leading_voters + pending.len()) as u32 >= consensus::min_agreeing(trust)
}

/// The log target of the scheduler.
const LOG_TARGET: &str = "runtime::contribution::scheduler";

/// A task to open, with the workers chosen for it and their endpoints.
struct Opened<T: Config> {
	index: u32,
	task: TaskId,
	workers: BoundedVec<T::AccountId, T::MaxContributors>,
	endpoints: Vec<Vec<u8>>,
}

/// What became of a batch of tasks to open.
#[derive(PartialEq, Eq)]
enum Opening {
	/// Its transaction is planned.
	Planned,
	/// The same batch is waiting to land, or backing off after failing.
	InFlight,
	/// The pool's budget for this run is spent.
	NoBudget,
}

/// What a lock remembers: until when it holds, a fingerprint of the state it was taken in, and
/// how many times in a row it was taken in that same state. Once the state changes (the action
/// landed), the lock no longer holds; while it does not, each retry waits twice as long.
type Lock<BlockNumber> = (BlockNumber, [u8; 32], u32);

/// Whether the lock at `key` holds at `now` for the state `fingerprint`.
fn lock_held<T: Config>(key: &[u8], now: BlockNumberFor<T>, fingerprint: &[u8; 32]) -> bool {
	StorageValueRef::persistent(key)
		.get::<Lock<BlockNumberFor<T>>>()
		.ok()
		.flatten()
		.is_some_and(|(until, taken_in, _)| now < until && taken_in == *fingerprint)
}

/// Takes the lock at `key` for the state `fingerprint`, unless it holds: for a few blocks from
/// `now`, or, when the last action taken in the same state did not change it, twice as long as
/// last time. The compare-and-set makes overlapping runs take it once. A new lock is forgotten
/// after `deadline`, the final deadline of what it locks.
fn take_lock<T: Config>(
	key: &[u8],
	now: BlockNumberFor<T>,
	fingerprint: [u8; 32],
	deadline: BlockNumberFor<T>,
) -> bool {
	let mut new = false;
	let taken = StorageValueRef::persistent(key)
		.mutate(|held: Result<Option<Lock<BlockNumberFor<T>>>, _>| {
			new = !matches!(held, Ok(Some(_)));
			let retries = match held {
				Ok(Some((until, taken_in, _))) if now < until && taken_in == fingerprint => {
					return Err(())
				}
				Ok(Some((_, taken_in, retries))) if taken_in == fingerprint => {
					retries.saturating_add(1)
				}
				_ => 0,
			};
			let wait = IN_FLIGHT_BLOCKS << retries.min(MAX_BACKOFF_DOUBLINGS);
			Ok((now.saturating_add(wait.into()), fingerprint, retries))
		})
		.is_ok();
	if taken && new {
		forget_after::<T>(deadline, key);
	}
	taken
}

/// Lists local entry `key` for deletion once block `deadline` has passed.
fn forget_after<T: Config>(deadline: BlockNumberFor<T>, key: &[u8]) {
	// A lost race leaves one entry behind: it costs some bytes, never a wrong decision.
	let _ = StorageValueRef::persistent(&forget_list_key(&deadline)).mutate(
		|listed: Result<Option<Vec<Vec<u8>>>, _>| {
			let mut listed = listed.ok().flatten().unwrap_or_default();
			// A lock released after a failed submission is taken again as new: list it once.
			if !listed.iter().any(|known| known.as_slice() == key) {
				listed.push(key.to_vec());
			}
			Ok::<_, ()>(listed)
		},
	);
}

/// Deletes the local entries listed under the blocks before `now`, at most
/// [`MAX_FORGET_BLOCKS`] blocks of them per run, from where the last run stopped (a node
/// without that mark starts at `now`: it never listed anything before it knew to).
fn forget_expired<T: Config>(now: BlockNumberFor<T>) {
	let mark = StorageValueRef::persistent(FORGOTTEN_UNTIL);
	let mut block = mark.get::<BlockNumberFor<T>>().ok().flatten().unwrap_or(now);
	let mut looked = 0u32;
	while block < now && looked < MAX_FORGET_BLOCKS {
		let list_key = forget_list_key(&block);
		let mut list = StorageValueRef::persistent(&list_key);
		for key in list.get::<Vec<Vec<u8>>>().ok().flatten().unwrap_or_default() {
			StorageValueRef::persistent(&key).clear();
		}
		list.clear();
		block.saturating_inc();
		looked.saturating_inc();
	}
	mark.set(&block);
}

/// The number of this run among the node's runs: which deal it serves first.
fn next_turn() -> u32 {
	let key = b"commons/scheduler/turn";
	let turn = StorageValueRef::persistent(key);
	let this = turn.get::<u32>().ok().flatten().unwrap_or_default();
	turn.set(&this.wrapping_add(1));
	this
}

fn fingerprint<T: Config>(entry: &Task<T>) -> [u8; 32] {
	sp_io::hashing::blake2_256(&entry.encode())
}

fn lock_key(subject: &[u8]) -> Vec<u8> {
	[b"commons/scheduler/lock/".as_slice(), subject].concat()
}

fn replaced_key(task: &TaskId) -> Vec<u8> {
	[b"commons/scheduler/replaced/".as_slice(), task.as_bytes()].concat()
}

/// Where the entries to delete after `block` are listed.
fn forget_list_key<BlockNumber: Encode>(block: &BlockNumber) -> Vec<u8> {
	[b"commons/scheduler/forget/".as_slice(), &block.encode()].concat()
}

/// The block before which every listed entry has been deleted.
const FORGOTTEN_UNTIL: &[u8] = b"commons/scheduler/forgotten-until";

fn deal_cursor_key(deal: &DealId) -> Vec<u8> {
	[b"commons/scheduler/cursor/".as_slice(), deal.as_bytes()].concat()
}

/// A scheduler key's transactions in flight, as the node remembers them between runs.
#[derive(Encode, Decode)]
struct InFlight<T: Config> {
	/// The nonce its next transaction takes.
	next: T::Nonce,
	/// The account's nonce on chain when it was last seen to move.
	on_chain: T::Nonce,
	/// The block in which it was seen so.
	since: BlockNumberFor<T>,
}

fn nonce_key<AccountId: Encode>(account: &AccountId) -> Vec<u8> {
	[b"commons/scheduler/nonce/".as_slice(), &account.encode()].concat()
}
