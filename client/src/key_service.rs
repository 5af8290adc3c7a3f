//! A dataset owner's key service (`commons key-service`): it follows the chain and, for every
//! worker assigned to a task of a deal buying one of the owner's encrypted datasets, seals that
//! dataset's key to the worker's registered enclave and releases it on chain
//! (`Contribution::release_dataset_key`).
//!
//! Its keys are files `<dataset id>.key` in its keys directory (hex, as `commons
//! encrypt-dataset` writes them), read when needed, so a dataset registered later needs no
//! restart. The directory also keeps `cursor`, the next block to read, so a restarted service
//! catches up on the assignments it missed: it follows the chain with a
//! [`Follower`](crate::follow::Follower), as the compute node does.
//!
//! The service decides nothing the chain does not check again: the release is refused unless the
//! worker is assigned, its enclave attested, unexpired and allowed by the app, and the key sealed
//! to that enclave's registered key. Each release is an event on chain, and a line in the
//! service's log.

use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
};

use commons_runtime::{AccountId, BlockNumber, RuntimeCall, RuntimeEvent};
use pallet_contribution::{TaskId, TaskStatus};
use pallet_marketplace::DatasetId;
use sp_core::{sr25519, Pair};

use crate::{
	confidential::{is_low_order_x25519, seal_dataset_key, DatasetKey},
	follow::{events_between, Cursor, Follower, POLL_INTERVAL},
	Chain, ClientError,
};

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
}

impl KeyServiceCmd {
	/// Runs the service of the dataset owner holding `pair`, following `chain`, until it is
	/// stopped.
	pub async fn run(&self, chain: Chain, pair: sr25519::Pair) -> Result<(), ClientError> {
		chain.ensure_same_runtime().await?;
		let cursor = Cursor::new(self.keys_dir.join("cursor"));
		let mut follower = Follower::start(chain.clone(), cursor, self.from_block, |message| {
			eprintln!("{message}")
		})
		.await?;
		let mut service = KeyService {
			owner: AccountId::from(pair.public()),
			pair,
			chain,
			keys_dir: self.keys_dir.clone(),
			pending: BTreeMap::new(),
		};
		eprintln!(
			"key service of {} following from block {}, keys in {}",
			service.owner,
			follower.next_block(),
			self.keys_dir.display()
		);
		loop {
			let round = follower.round(|from, to| service.note_assignments(from, to)).await;
			if let Some(best) = round.best() {
				service.release_pending(best).await;
			}
			tokio::time::sleep(POLL_INTERVAL).await;
		}
	}
}

struct KeyService {
	owner: AccountId,
	pair: sr25519::Pair,
	chain: Chain,
	keys_dir: PathBuf,
	/// The releases owed, noted from assignments until the chain shows them done, each with the
	/// block it was last sent at.
	pending: BTreeMap<(TaskId, AccountId), Option<BlockNumber>>,
}

/// What to do about one owed release after looking at the chain.
enum Next {
	/// Nothing more: released, or the task no longer needs it, or it is not ours, or it cannot
	/// be made safely.
	Drop,
	/// Not yet: the worker has no unexpired enclave, or a release is still on its way.
	Wait,
	/// Send this release.
	Send(RuntimeCall, DatasetId),
}

impl KeyService {
	/// Notes every worker assigned in blocks `from..=to`. An error means some block could not
	/// be read: the follower hands the blocks over again.
	async fn note_assignments(
		&mut self,
		from: BlockNumber,
		to: BlockNumber,
	) -> Result<(), ClientError> {
		for event in events_between(&self.chain, from, to).await? {
			if let RuntimeEvent::Contribution(pallet_contribution::Event::WorkersAssigned {
				task,
				workers,
			}) = event
			{
				for worker in workers {
					self.pending.entry((task, worker)).or_default();
				}
			}
		}
		Ok(())
	}

	/// Sends what is owed and forgets what is settled.
	async fn release_pending(&mut self, best: BlockNumber) {
		for ((task, worker), mut sent_at) in std::mem::take(&mut self.pending) {
			match self.next_step(task, &worker, sent_at, best).await {
				Ok(Next::Drop) => continue,
				Ok(Next::Wait) => {}
				Ok(Next::Send(call, dataset)) => {
					match self.chain.sign_and_submit(call, &self.pair).await {
						Ok(_) => {
							eprintln!(
								"sent dataset {dataset}'s key, sealed to {worker}'s enclave, \
								 for task {task:?}"
							);
							sent_at = Some(best);
						}
						Err(error) => eprintln!("task {task:?}, worker {worker}: {error}"),
					}
				}
				Err(error) => eprintln!("task {task:?}, worker {worker}: {error}"),
			}
			self.pending.insert((task, worker), sent_at);
		}
	}

	async fn next_step(
		&self,
		task_id: TaskId,
		worker: &AccountId,
		sent_at: Option<BlockNumber>,
		best: BlockNumber,
	) -> Result<Next, ClientError> {
		let Some(task) = self.chain.task(task_id).await? else { return Ok(Next::Drop) };
		if task.status != TaskStatus::Active
			|| best >= task.contribution_deadline
			|| !task.assigned.contains(worker)
		{
			return Ok(Next::Drop);
		}
		let deal = self.chain.deal(task.deal).await?;
		let Some(dataset) = deal.and_then(|deal| deal.dataset).map(|purchase| purchase.id) else {
			return Ok(Next::Drop);
		};
		let registered = self.chain.dataset(dataset).await?;
		if !registered.is_some_and(|entry| entry.encrypted && entry.owner == self.owner) {
			return Ok(Next::Drop);
		}
		let enclave = self.chain.enclave(worker).await?;
		let now = self.chain.now().await?;
		// The chain would refuse an expired enclave: wait for it to re-attest.
		let Some(enclave) = enclave.filter(|enclave| now < enclave.expires_at) else {
			return Ok(Next::Wait);
		};
		let recipient = enclave.keys.encryption;
		if task.dataset_key_of(worker).is_some_and(|sealed| sealed.recipient == recipient) {
			return Ok(Next::Drop);
		}
		// Anyone could open a key sealed to such an enclave key: that release is never made. One
		// log line and dropped, rather than an error every round.
		if is_low_order_x25519(&recipient) {
			eprintln!(
				"task {task_id:?}: {worker}'s enclave key is a low-order X25519 key: its dataset \
				 key is not released"
			);
			return Ok(Next::Drop);
		}
		if sent_at.is_some_and(|sent| best < sent + RESEND_AFTER_BLOCKS) {
			return Ok(Next::Wait);
		}
		let key = match DatasetKey::load(&key_file(&self.keys_dir, dataset)) {
			Ok(key) => key,
			Err(error) => {
				eprintln!("task {task_id:?}: dataset {dataset}'s key is not released: {error}");
				return Ok(Next::Drop);
			}
		};
		let sealed = seal_dataset_key(&key, &recipient, &task_id)?;
		let call = pallet_contribution::Call::release_dataset_key {
			task: task_id,
			worker: worker.clone(),
			sealed,
		};
		Ok(Next::Send(RuntimeCall::Contribution(call), dataset))
	}
}

/// Where the key of `dataset` is kept in `keys_dir`.
fn key_file(keys_dir: &Path, dataset: DatasetId) -> PathBuf {
	keys_dir.join(format!("{dataset}.key"))
}
