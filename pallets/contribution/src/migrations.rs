//! Storage migrations of the contribution pallet.
//!
//! - **v1** (spec 106): a task records when each worker was assigned (`assigned_at`; a task
//!   stored before counts its workers as assigned at the upgrade); scores are kept per
//!   workerpool (a worker's score moves to the pool it belongs to, and is dropped if it belongs
//!   to none); each live deal counts its unopened tasks (`UnopenedTasks`).
//! - **v2** (spec 107): settled tasks are removed after a retention period. The tasks settled
//!   before are queued as though they settled at the upgrade (`SettledTasks`), and pruning starts
//!   at the current block (`TaskPruneCursor`).
//! - **v3** (spec 109): a TEE task pins the enclave each worker was assigned with (`enclaves`).
//!   A task stored before pins its workers' enclaves as registered at the upgrade, if they still
//!   meet the deal's requirement; a worker whose enclave does not is left unpinned, so it can
//!   neither vote nor receive the dataset's key, and is replaced once silent.

use alloc::vec::Vec;
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade, BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_marketplace::{DealId, Deals, WorkerPool};
use sp_runtime::traits::Saturating;

use crate::{
	consensus::Tally, types::*, Config, Pallet, Scores, TaskPruneCursor, Tasks, UnopenedTasks,
};

/// The contribution pallet's layouts before v1.
pub mod v0 {
	use super::*;

	/// A task as stored before v1 (spec 105): without `assigned_at`.
	#[derive(Encode, Decode)]
	pub struct Task<T: Config> {
		/// The deal the task belongs to.
		pub deal: DealId,
		/// The task's index among its request order's tasks.
		pub index: u32,
		/// Where the task stands.
		pub status: TaskStatus,
		/// The deal's category's reference time T, in blocks.
		pub reference_time: BlockNumberFor<T>,
		/// No contribution is accepted from this block on: deal start + 7T.
		pub contribution_deadline: BlockNumberFor<T>,
		/// The task fails from this block on unless finalized: deal start + 10T.
		pub final_deadline: BlockNumberFor<T>,
		/// While revealing: no reveal is accepted from this block on (consensus + 2T).
		pub reveal_deadline: Option<BlockNumberFor<T>>,
		/// The workers the scheduler key assigned; only they may contribute.
		pub assigned: BoundedVec<T::AccountId, T::MaxContributors>,
		/// The contributions, in the order they were made; rejected ones stay.
		pub contributions: BoundedVec<Contribution<T>, T::MaxContributors>,
		/// The weighted vote.
		pub tally: Tally<T::MaxContributors>,
		/// The result hash that reached consensus, while revealing and once completed.
		pub consensus: Option<ResultHash>,
		/// How many contributions voted for the consensus (and were not rejected).
		pub winners: u32,
		/// How many of them revealed.
		pub reveals: u32,
		/// The digest the winners revealed.
		pub result_digest: Option<ResultDigest>,
		/// Where the first revealing worker published the result.
		pub result_location: BoundedVec<u8, T::MaxResultLocationLength>,
		/// While the task is unsettled: the dataset key released to each assigned worker's enclave.
		pub dataset_keys: BoundedVec<(T::AccountId, SealedDatasetKey), T::MaxContributors>,
	}

	/// Scores as stored before v1: one per worker, whatever the pool.
	#[storage_alias]
	pub(crate) type Scores<T: Config> = StorageMap<
		Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		u32,
		ValueQuery,
	>;
}

/// The contribution pallet's layouts from v1 to v2 (specs 106 to 108).
pub mod v2 {
	use super::*;

	/// A task as stored from v1 to v2: without `enclaves`.
	#[derive(Encode, Decode)]
	pub struct Task<T: Config> {
		/// The deal the task belongs to.
		pub deal: DealId,
		/// The task's index among its request order's tasks.
		pub index: u32,
		/// Where the task stands.
		pub status: TaskStatus,
		/// The deal's category's reference time T, in blocks.
		pub reference_time: BlockNumberFor<T>,
		/// No contribution is accepted from this block on: deal start + 7T.
		pub contribution_deadline: BlockNumberFor<T>,
		/// The task fails from this block on unless finalized: deal start + 10T.
		pub final_deadline: BlockNumberFor<T>,
		/// While revealing: no reveal is accepted from this block on (consensus + 2T).
		pub reveal_deadline: Option<BlockNumberFor<T>>,
		/// The workers the scheduler key assigned; only they may contribute.
		pub assigned: BoundedVec<T::AccountId, T::MaxContributors>,
		/// The block each of `assigned` was assigned in, in the same order.
		pub assigned_at: BoundedVec<BlockNumberFor<T>, T::MaxContributors>,
		/// The contributions, in the order they were made; rejected ones stay.
		pub contributions: BoundedVec<Contribution<T>, T::MaxContributors>,
		/// The weighted vote.
		pub tally: Tally<T::MaxContributors>,
		/// The result hash that reached consensus, while revealing and once completed.
		pub consensus: Option<ResultHash>,
		/// How many contributions voted for the consensus (and were not rejected).
		pub winners: u32,
		/// How many of them revealed.
		pub reveals: u32,
		/// The digest the winners revealed.
		pub result_digest: Option<ResultDigest>,
		/// Where the first revealing worker published the result.
		pub result_location: BoundedVec<u8, T::MaxResultLocationLength>,
		/// While the task is unsettled: the dataset key released to each assigned worker's enclave.
		pub dataset_keys: BoundedVec<(T::AccountId, SealedDatasetKey), T::MaxContributors>,
	}

	/// Tasks as stored from v1 to v2.
	#[storage_alias]
	pub(crate) type Tasks<T: Config> = StorageMap<Pallet<T>, Identity, TaskId, Task<T>>;
}

/// Moves every v0 task, score and live deal to the v1 layout.
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let now = frame_system::Pallet::<T>::block_number();
		let mut tasks = 0u64;
		let mut opened = alloc::collections::BTreeMap::<DealId, u32>::new();
		v2::Tasks::<T>::translate::<v0::Task<T>, _>(|_, old| {
			tasks.saturating_inc();
			opened.entry(old.deal).or_default().saturating_inc();
			let assigned_at = BoundedVec::truncate_from(
				core::iter::repeat_n(now, old.assigned.len()).collect::<Vec<_>>(),
			);
			Some(v2::Task {
				deal: old.deal,
				index: old.index,
				status: old.status,
				reference_time: old.reference_time,
				contribution_deadline: old.contribution_deadline,
				final_deadline: old.final_deadline,
				reveal_deadline: old.reveal_deadline,
				assigned: old.assigned,
				assigned_at,
				contributions: old.contributions,
				tally: old.tally,
				consensus: old.consensus,
				winners: old.winners,
				reveals: old.reveals,
				result_digest: old.result_digest,
				result_location: old.result_location,
				dataset_keys: old.dataset_keys,
			})
		});

		// The old scores share the new map's prefix: take them all out before writing any.
		let old_scores: Vec<(T::AccountId, u32)> = v0::Scores::<T>::drain().collect();
		let scores = old_scores.len() as u64;
		for (worker, score) in old_scores {
			if let Some(pool) = WorkerPool::<T>::get(&worker) {
				Scores::<T>::insert(pool, worker, score);
			}
		}

		let mut deals = 0u64;
		for (id, deal) in Deals::<T>::iter() {
			deals.saturating_inc();
			let unopened = deal.volume.saturating_sub(opened.get(&id).copied().unwrap_or_default());
			if unopened > 0 {
				UnopenedTasks::<T>::insert(id, unopened);
			}
		}
		let reads = tasks.saturating_add(scores.saturating_mul(2)).saturating_add(deals);
		T::DbWeight::get().reads_writes(reads, tasks + scores * 2 + deals)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok((Tasks::<T>::iter_keys().count() as u32).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let tasks = u32::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state decodes")?;
		ensure!(v2::Tasks::<T>::iter().count() as u32 == tasks, "a task was lost");
		Ok(())
	}
}

/// [`InnerMigrateToV1`], run once: only while the pallet's stored version is 0.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

/// Queues the tasks settled before the upgrade for pruning.
pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut tasks, mut queued) = (0u64, 0u64);
		for (task, entry) in v2::Tasks::<T>::iter() {
			tasks.saturating_inc();
			if entry.status.is_settled() {
				queued.saturating_inc();
				Pallet::<T>::queue_pruning(task, entry.final_deadline);
			}
		}
		TaskPruneCursor::<T>::put(frame_system::Pallet::<T>::block_number());
		T::DbWeight::get().reads_writes(tasks, queued.saturating_add(1))
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		ensure!(crate::SettledTasks::<T>::iter().next().is_none(), "v1 queues no task");
		Ok(Vec::new())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(
			v2::Tasks::<T>::iter().all(|(task, entry)| !entry.status.is_settled()
				|| crate::SettledTasks::<T>::iter().any(|(_, queued, ())| queued == task)),
			"a settled task is not queued"
		);
		Ok(())
	}
}

/// [`InnerMigrateToV2`], run once: only while the pallet's stored version is 1.
pub type MigrateToV2<T> =
	VersionedMigration<1, 2, InnerMigrateToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

/// Pins the enclaves of the workers assigned to TEE tasks before v3.
pub struct InnerMigrateToV3<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut tasks, mut reads) = (0u64, 0u64);
		Tasks::<T>::translate::<v2::Task<T>, _>(|_, old| {
			tasks.saturating_inc();
			let requirement = if old.status.is_settled() {
				None
			} else {
				reads.saturating_accrue(3);
				Deals::<T>::get(old.deal).and_then(|deal| {
					Pallet::<T>::enclave_requirement(&deal).map(|requirement| (deal, requirement))
				})
			};
			let enclaves = requirement
				.map(|(deal, requirement)| {
					old.assigned
						.iter()
						.filter_map(|worker| {
							reads.saturating_inc();
							Pallet::<T>::allowed_enclave(worker, &deal, &requirement)
								.map(|enclave| (worker.clone(), enclave))
						})
						.collect::<Vec<_>>()
				})
				.unwrap_or_default();
			// A key released to an enclave no longer pinned is dropped with the pin.
			let dataset_keys = old
				.dataset_keys
				.into_iter()
				.filter(|(worker, sealed)| {
					enclaves.iter().any(|(pinned, enclave)| {
						pinned == worker && enclave.encryption == sealed.recipient
					})
				})
				.collect::<Vec<_>>();
			Some(crate::Task {
				deal: old.deal,
				index: old.index,
				status: old.status,
				reference_time: old.reference_time,
				contribution_deadline: old.contribution_deadline,
				final_deadline: old.final_deadline,
				reveal_deadline: old.reveal_deadline,
				assigned: old.assigned,
				assigned_at: old.assigned_at,
				contributions: old.contributions,
				tally: old.tally,
				consensus: old.consensus,
				winners: old.winners,
				reveals: old.reveals,
				result_digest: old.result_digest,
				result_location: old.result_location,
				// At most one of each per assigned worker, and assigned workers are bounded alike.
				dataset_keys: BoundedVec::truncate_from(dataset_keys),
				enclaves: BoundedVec::truncate_from(enclaves),
			})
		});
		T::DbWeight::get().reads_writes(tasks.saturating_add(reads), tasks)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok((v2::Tasks::<T>::iter_keys().count() as u32).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let tasks = u32::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state decodes")?;
		ensure!(Tasks::<T>::iter().count() as u32 == tasks, "a task was lost");
		Pallet::<T>::do_try_state()
	}
}

/// [`InnerMigrateToV3`], run once: only while the pallet's stored version is 2.
pub type MigrateToV3<T> =
	VersionedMigration<2, 3, InnerMigrateToV3<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
