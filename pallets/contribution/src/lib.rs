//! # Contribution pallet
//!
//! How a deal's tasks are run by several workers, how the chain decides their result, who is paid
//! and who loses stake: Proof-of-Contribution.
//!
//! ## Overview
//!
//! Each task of a deal (see `pallet-marketplace`) goes through these steps:
//!
//! 1. **Initialize** ([`Pallet::initialize`], [`Pallet::initialize_batch`]): anyone opens the
//!    task. Its deadlines count from the deal's start in the category's reference time T:
//!    contributions until 7T, settlement until 10T.
//! 2. **Assign** ([`Pallet::assign`]): the workerpool's scheduler key names the workers that may
//!    contribute: members of the pool able to serve the deal's tag and, for a TEE deal, with an
//!    attested enclave of a measurement the app allows ([`EnclaveRegistry`]). The scheduler opens
//!    a deal's new tasks and assigns their first workers in one call
//!    ([`Pallet::open_and_assign`]), so a task can be computed one block after its match.
//! 3. **Contribute** ([`Pallet::contribute`]): an assigned worker locks its stake and votes with
//!    a result hash and a seal, weighted by its score ([`consensus`]). When a hash gathers enough
//!    credibility for the deal's trust, the task moves to revealing for 2T.
//! 4. **Reveal** ([`Pallet::reveal`]): each worker that voted for the consensus shows the digest
//!    behind its vote and where it published the result. The last one's reveal finalizes the
//!    task; after the reveal window, anyone may finalize it ([`Pallet::finalize`]) if at least
//!    one worker revealed, or the scheduler may reopen it ([`Pallet::reopen`]) if none did.
//! 5. **Settle**: finalizing pays the app and dataset owners, the winners and the pool owner,
//!    releases the pool owner's stake, and gives the losers' stakes to the winners; a task not
//!    finalized by its final deadline is finalized then if a winner revealed, and fails
//!    otherwise: its payer is refunded in full. Expired tasks are settled by the chain itself in
//!    idle block time ([`Hooks::on_idle`]), or by anyone with [`Pallet::claim`] when blocks are
//!    full.
//!
//! A trust-1 task may instead be contributed and finalized in one call by its assigned worker
//! ([`Pallet::contribute_and_finalize`]), and a worker's several tasks of one deal in one call
//! ([`Pallet::contribute_and_finalize_batch`]), which pays each payee once for all of them.
//!
//! A TEE task with an encrypted dataset needs the dataset's key inside each assigned enclave:
//! the dataset's owner (its key service) releases it between steps 2 and 3 with
//! [`Pallet::release_dataset_key`], sealed to the enclave's registered encryption key.
//!
//! A pool's scheduler does its part (steps 1 and 2, finalizing and reopening) from its node's
//! off-chain worker: see [`scheduler`].
//!
//! ## Design
//!
//! The vote and the money follow iExec's PoCo exactly (reference §4 and §5.2):
//!
//! - A worker's weight is `max(score / 3, 3) - 1`; a hash's group is the product of its voters'
//!   weights; `total = 1 + Σ groups`; consensus when `group × trust > total × (trust - 1)`
//!   and, above trust 1, at least two contributors agree ([`consensus::min_agreeing`]: Commons'
//!   addition, so that no worker decides a replicated task alone, whatever its score).
//! - Finalization: the payer's price is paid out: app price to the app's owner, dataset price to
//!   the dataset's owner; the pool owner's stake (30 % of the pool price) is released. The
//!   workers' reward is `(pool price + losers' stakes) × (100 % - scheduler
//!   ratio)`, shared among the workers who revealed in proportion to `floor(log2(weight))`
//!   (rounded down); the pool owner gets the rest. Winners get their stakes back; every other
//!   contributor's stake is part of the reward. With more than one contributor, each winner's
//!   score rises by 1; every other contributor's score falls to two thirds.
//! - The single-call path pays the worker `pool price × (100 % - pool owner ratio)` with no stake
//!   and no score change.
//! - Failure: the payer gets the task's whole price back, the pool owner's stake goes to the
//!   kitty, and every contributor gets its stake back.
//!
//! Commons' changes: nobody has to act for a task to settle (the last reveal finalizes, the
//! chain sweeps expired tasks in [`Hooks::on_idle`], a bounded amount per block, finalizing those
//! with a revealed result and failing the rest); contributors per task are bounded by
//! [`Config::MaxContributors`]; workers are assigned on-chain rather than by an off-chain
//! signature; successful `contribute`, `reveal` and `contribute_and_finalize` calls pay no fee
//! when the caller had something at risk (a stake, or for the single call a task with a price),
//! while a refused one always does; every transition emits an event naming the task and why.
//!
//! Economic safety (each rule closes a way to make others pay, see `docs/protocol.md`):
//!
//! - **A deal pays for what its expiry costs.** A deal has at most the marketplace's
//!   `MaxDealVolume` tasks. A [`Task`] is written only when someone opens it (and pays that
//!   call's fee); the tasks nobody opened are counted ([`UnopenedTasks`]) and fail together, in
//!   one step, at the deal's final deadline. The sweep charges each task what its kind of
//!   settlement costs, so a deal delays the refunds of later ones by a bounded amount.
//! - **No kitty share.** A successful task earns its pool owner nothing from the kitty (the
//!   reference pays a tenth of it): with free identities that share is farmed by self-dealing,
//!   which would make forcing a victim's tasks to fail profitable. See the escrow pallet.
//! - **A payee cannot block settlement.** A payout its payee cannot receive goes to the kitty
//!   (the escrow's `PayoutDiverted`), so a task whose app owner cannot exist is still finalized.
//! - **Settled tasks do not stay forever.** A settled task keeps its result for
//!   [`Config::TaskRetention`] after the later of its settlement and its final deadline, then is
//!   removed in idle time (see `pruning`): never before the final deadline, or `initialize` could
//!   open it a second time.
//! - **An enclave is pinned at assignment.** Assigning a worker to a TEE task records the
//!   enclave it has then (measurement and keys: [`PinnedEnclave`]), which must be attested, of
//!   the task's TEE kind and of a measurement the app allows; for a task on an encrypted dataset,
//!   attested by hardware (simulated evidence only where genesis allows it for confidential
//!   data). A result is accepted only when signed by that enclave while it is still the worker's
//!   registration: a worker may re-register at any time, but another enclave (another
//!   measurement, or keys it controls outside any enclave) gains nothing from it.
//!
//! Confidential datasets: the chain never sees a dataset's key, only the key sealed to one
//! enclave ([`SealedDatasetKey`]). A release is accepted only for a worker assigned to an
//! unsettled, still open TEE task of a deal buying that encrypted dataset, whose registration
//! is still the enclave pinned at its assignment, and only when it is sealed to that enclave's
//! encryption key, once; each is recorded in the task and announced by
//! [`Event::DatasetKeyReleased`], so that who received which dataset's key for which task is
//! public. Sealed keys leave the task's state when it settles. The chain checks the release
//! after it is public: the dataset owner's key service checks the same things before it seals
//! anything (see the client's `key_service`).
//!
//! All money moves through the escrow pallet ([`pallet_escrow::Escrow`]): nothing here touches a
//! balance directly.
//!
//! ## Terms
//!
//! - *Result digest*: the sha256 of a task's output, as the compute node computes it.
//! - *Result hash*: a worker's vote, `blake2_256(task ‖ digest)`.
//! - *Result seal*: `blake2_256(worker ‖ task ‖ digest)`: proves the worker computed the digest
//!   itself rather than copying another's hash.
//! - *Winners*: the contributors who voted for the consensus hash.
//! - *Settled*: completed (paid out) or failed (refunded).
//! - *Unopened task*: a task of a live deal that nobody initialized; it has no [`Task`] entry.
//!
//! ## Assumptions
//!
//! - **[`Config::MillisecsPerBlock`] is the real block time.** Categories give times in seconds
//!   and deadlines are counted in blocks; a chain whose blocks come slower than this gives
//!   workers more time than the category says, one whose blocks come faster gives them less.
//! - **One node per scheduler key.** The scheduler's locks and nonces live in the off-chain
//!   storage of the node that runs it; two nodes holding the same key would both submit the
//!   same assignments, and the scheduler key would pay for the copies the chain refuses.
//! - **Off-chain runs may be skipped.** A node under load does not run the off-chain worker on
//!   every block, and a re-org may run it twice on the same height: each run plans from the
//!   chain's state, so what a skipped run would have done is done by the next, and what was
//!   already submitted is found locked.
//! - **Categories are never removed** (the marketplace's assumption, relied on here when a task
//!   is opened).
//!
//! ## Usage
//!
//! A runtime adds the pallet on top of the marketplace (its `Config` extends the marketplace's)
//! with the enclave registry, the key type its off-chain worker signs with, and its bounds (the
//! Commons runtime, `runtime/src/configs/mod.rs`):
//!
//! ```ignore
//! impl pallet_contribution::Config for Runtime {
//! 	type Enclaves = Attestation; // `EnclaveRegistry`
//! 	type Market = Marketplace; // `DealTasks`
//! 	type SchedulerKey = pallet_contribution::scheduler::crypto::SchedulerKey;
//! 	type LivenessWindow = parameters::WorkerLivenessWindow; // governance sets it
//! 	type MaxContributors = ConstU32<12>;
//! 	type MillisecsPerBlock = ConstU64<MILLISECS_PER_BLOCK>;
//! 	// ... bounds, `TaskRetention`, weights
//! }
//!
//! impl pallet_marketplace::Config for Runtime {
//! 	type OnDealCreated = Contribution;
//! 	// ...
//! }
//! ```
//!
//! The runtime also implements `CreateSignedTransaction` for the scheduler's transactions and
//! exposes [`runtime_api::ContributionApi`]. A node runs the scheduler for a workerpool once its
//! keystore holds the pool's scheduler key (key type [`scheduler::SCHEDULER_KEY_TYPE`]).

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;

mod assignment;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod consensus;
mod dataset_keys;
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
mod pruning;
pub mod runtime_api;
pub mod scheduler;
mod settlement;
mod sweep;
#[cfg(test)]
mod tests;
pub mod types;
mod voting;
pub mod weights;

pub use types::Task;
pub use types::*;
pub use weights::WeightInfo;

use alloc::collections::BTreeSet;
use codec::Encode;
use frame_support::pallet_prelude::*;
use frame_system::{
	offchain::{AppCrypto, CreateSignedTransaction},
	pallet_prelude::*,
};
use pallet_marketplace::{tag, Deal, DealId, Deals};
use sp_runtime::traits::{SaturatedConversion, Saturating};

/// The amount type of the currency tasks are paid in.
pub type BalanceOf<T> = pallet_marketplace::BalanceOf<T>;

#[frame_support::pallet]
pub mod pallet {
	use super::*;

	#[pallet::config]
	pub trait Config:
		frame_system::Config<RuntimeEvent: From<Event<Self>>>
		+ pallet_marketplace::Config
		+ CreateSignedTransaction<Call<Self>>
	{
		/// The attested enclaves of workers.
		type Enclaves: EnclaveRegistry<Self::AccountId>;

		/// The marketplace, told when tasks settle and when a worker is silent (the pallet this
		/// one extends; a trait, so that what this pallet changes there is named in one place).
		type Market: pallet_marketplace::DealTasks<Self::AccountId>;

		/// The most workers assigned to (and so contributing to) one task. At most
		/// [`consensus::MAX_EXACT_CONTRIBUTORS`], so that the vote is counted exactly.
		#[pallet::constant]
		type MaxContributors: Get<u32>;

		/// The longest result location a worker may publish.
		#[pallet::constant]
		type MaxResultLocationLength: Get<u32>;

		/// The most tasks one batch call takes: `initialize_batch`, `open_and_assign` and
		/// `contribute_and_finalize_batch`.
		#[pallet::constant]
		type MaxInitializeBatch: Get<u32>;

		/// The key a workerpool's scheduler signs its off-chain worker's transactions with.
		type SchedulerKey: AppCrypto<Self::Public, Self::Signature>;

		/// A worker whose last heartbeat is older than this many blocks is not assigned tasks.
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type LivenessWindow: Get<BlockNumberFor<Self>>;

		/// How many blocks a settled task, and its result, stay readable after the later of its
		/// settlement and its final deadline. Then it is removed ([`Hooks::on_idle`]).
		/// Not a constant: the runtime may let governance change it (Commons does), and nothing
		/// made before a change is recomputed with the new value.
		type TaskRetention: Get<BlockNumberFor<Self>>;

		/// The block time, to turn categories' reference times into blocks.
		#[pallet::constant]
		type MillisecsPerBlock: Get<u64>;

		/// Weights of this pallet's calls and of its idle-time sweep.
		type WeightInfo: WeightInfo;
	}

	/// The layout version of this pallet's storage: see [`crate::migrations`].
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(3);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Every task initialized and not yet pruned: settled ones keep their result for
	/// [`Config::TaskRetention`] blocks.
	#[pallet::storage]
	pub type Tasks<T: Config> = StorageMap<_, Identity, TaskId, Task<T>>;

	/// Settled tasks by the block from which they are removed.
	#[pallet::storage]
	pub type SettledTasks<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Identity, TaskId, ()>;

	/// The earliest block whose settled tasks may not all be removed yet.
	#[pallet::storage]
	pub type TaskPruneCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Each worker's score in each workerpool: how many of the pool's replicated tasks with stake
	/// at risk it helped finalize, less its faults there. A score earned in one pool is worth
	/// nothing in another, so nobody can farm it on self-dealt tasks and spend it elsewhere.
	#[pallet::storage]
	pub type Scores<T: Config> = StorageDoubleMap<
		_,
		Twox64Concat,
		pallet_marketplace::WorkerpoolId,
		Blake2_128Concat,
		T::AccountId,
		u32,
		ValueQuery,
	>;

	/// Live deals by the block their tasks expire in, each with the offset of the next of its
	/// tasks the sweep looks at. Two readers: the idle sweep settles the deals whose block has
	/// passed, and the scheduler takes the rest as the list of live deals to plan for.
	#[pallet::storage]
	pub type ExpiringDeals<T: Config> =
		StorageDoubleMap<_, Twox64Concat, BlockNumberFor<T>, Identity, DealId, u32>;

	/// The earliest expiry block the sweep has not finished.
	#[pallet::storage]
	pub type SweepCursor<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// How many of each live deal's tasks nobody opened yet. Those are refunded together at the
	/// deal's final deadline, without a [`Task`] being written for each.
	#[pallet::storage]
	pub type UnopenedTasks<T: Config> = StorageMap<_, Identity, DealId, u32, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A deal's task was opened for contributions.
		TaskInitialized {
			/// The task's id: `blake2_256(deal ‖ index)`.
			task: TaskId,
			/// The deal the task belongs to.
			deal: DealId,
			/// The task's index among its request order's tasks.
			index: u32,
		},
		/// The scheduler key assigned workers to a task.
		WorkersAssigned {
			/// The task the workers may now contribute to.
			task: TaskId,
			/// The workers this call assigned, besides those assigned before.
			workers: BoundedVec<T::AccountId, T::MaxContributors>,
		},
		/// A worker voted for `result_hash` and locked `stake`.
		Contributed {
			/// The task voted on.
			task: TaskId,
			/// The assigned worker that voted.
			worker: T::AccountId,
			/// Its vote: `blake2_256(task ‖ digest)`.
			result_hash: ResultHash,
			/// What it locked: the deal's worker stake, or nothing on the single-call path.
			stake: BalanceOf<T>,
		},
		/// `result_hash` reached consensus; its `winners` voters may reveal until
		/// `reveal_deadline`.
		ConsensusReached {
			/// The task, now revealing.
			task: TaskId,
			/// The result hash that reached consensus.
			result_hash: ResultHash,
			/// How many contributions voted for it: once all of them reveal, the task is finalized.
			winners: u32,
			/// No reveal is accepted from this block on: consensus + 2T.
			reveal_deadline: BlockNumberFor<T>,
		},
		/// A winner revealed the digest behind its vote.
		Revealed {
			/// The task revealed on.
			task: TaskId,
			/// The winner that revealed.
			worker: T::AccountId,
			/// The result digest behind its vote: the sha256 of the task's output.
			digest: ResultDigest,
		},
		/// No winner revealed in time: their votes are rejected and the task is open again.
		TaskReopened {
			/// The task, open for contributions again.
			task: TaskId,
			/// How many contributions voted for the hash that nobody revealed: now rejected.
			rejected: u32,
		},
		/// The task is finalized with `digest`, published at `location`, and paid out.
		TaskFinalized {
			/// The finalized task.
			task: TaskId,
			/// The deal the task belongs to.
			deal: DealId,
			/// The result digest the winners revealed.
			digest: ResultDigest,
			/// Where the first revealing worker published the result.
			location: BoundedVec<u8, T::MaxResultLocationLength>,
			/// Why the task was finalized when it was.
			reason: Finalization,
		},
		/// The task failed: its payer was refunded, its pool owner's stake went to the kitty and
		/// its contributors' stakes were returned.
		TaskFailed {
			/// The failed task.
			task: TaskId,
			/// The deal the task belongs to.
			deal: DealId,
			/// How its failure was settled after its final deadline: claimed or swept.
			reason: Failure,
		},
		/// `count` tasks of `deal` that nobody opened failed together at the deal's final
		/// deadline: their payer was refunded and the pool owner's stakes on them went to the
		/// kitty.
		UnopenedTasksFailed {
			/// The deal whose unopened tasks failed.
			deal: DealId,
			/// How many tasks failed: for each, the task price was refunded and one pool owner's
			/// stake seized.
			count: u32,
			/// How the failure was settled after the deal's final deadline: claimed or swept.
			reason: Failure,
		},
		/// A winner earned `reward` for the task (its stake was returned besides).
		WorkerRewarded {
			/// The finalized task.
			task: TaskId,
			/// The winner paid.
			worker: T::AccountId,
			/// Its share of the workers' part of the pool price and the losers' stakes.
			reward: BalanceOf<T>,
		},
		/// The pool owner earned `reward` for the task: its share and the rounding remainder.
		PoolOwnerRewarded {
			/// The finalized task.
			task: TaskId,
			/// The owner of the deal's workerpool.
			owner: T::AccountId,
			/// What the workers' shares left of the pool price and the losers' stakes.
			reward: BalanceOf<T>,
		},
		/// `worker`, assigned to `task` at least 2T ago, had not contributed: it lost its place
		/// and its score in the pool fell to `score`.
		SilentWorkerReplaced {
			/// The task whose place the worker lost.
			task: TaskId,
			/// The silent worker, also removed from the deal's workerpool (it may join again).
			worker: T::AccountId,
			/// Its score in the deal's workerpool, cut to two thirds (rounded down).
			score: u32,
		},
		/// A winner of a replicated task: its score rose to `score`.
		ContributionAccurate {
			/// The finalized task.
			task: TaskId,
			/// The winner that revealed.
			worker: T::AccountId,
			/// Its score in the deal's workerpool, raised by 1.
			score: u32,
		},
		/// `dataset`'s owner released its key to `worker`'s enclave, sealed to `enclave_key`,
		/// for `task`.
		DatasetKeyReleased {
			/// The TEE task the key was released for.
			task: TaskId,
			/// The encrypted dataset the deal bought.
			dataset: pallet_marketplace::DatasetId,
			/// The assigned worker whose enclave received the key.
			worker: T::AccountId,
			/// The enclave's registered encryption key that the dataset key is sealed to.
			enclave_key: X25519PublicKey,
		},
		/// A contributor outvoted, silent, or rejected: its score fell to `score` and it lost
		/// `stake_lost` to the task's reward.
		ContributionFaulty {
			/// The finalized task.
			task: TaskId,
			/// The contributor that was not among the winners who revealed.
			worker: T::AccountId,
			/// Its score in the deal's workerpool, cut to two thirds (rounded down).
			score: u32,
			/// Its stake, shared among the winners and the pool owner.
			stake_lost: BalanceOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No deal with unsettled tasks has that id.
		UnknownDeal,
		/// The deal has no task with that index.
		TaskIndexOutOfRange,
		/// The task is already initialized.
		TaskAlreadyInitialized,
		/// No task has that id.
		UnknownTask,
		/// The deal's category no longer exists.
		UnknownCategory,
		/// Only the deal's workerpool's scheduler key may do that, once it accepted the pool.
		NotScheduler,
		/// The task is not open for contributions.
		TaskNotActive,
		/// The task's contribution deadline has passed.
		ContributionDeadlinePassed,
		/// An assignment must name at least one worker.
		NoWorkers,
		/// The worker is not a member of the deal's workerpool.
		NotPoolMember,
		/// The worker did not declare every feature the deal's tag asks for.
		WorkerLacksCapabilities,
		/// The worker has no attested enclave of a measurement the app allows (for a task on an
		/// encrypted dataset: none whose evidence the chain trusts with data).
		EnclaveNotAllowed,
		/// The worker is already assigned to the task.
		AlreadyAssigned,
		/// The task has as many assigned workers as it may.
		TooManyWorkers,
		/// The caller is not assigned to the task.
		NotAssigned,
		/// The caller already contributed to the task.
		AlreadyContributed,
		/// The deal runs in a TEE: the contribution needs its enclave's signature.
		EnclaveSignatureMissing,
		/// The enclave signature does not verify for the caller's enclave.
		InvalidEnclaveSignature,
		/// The deal does not run in a TEE: no enclave signature is expected.
		UnexpectedEnclaveSignature,
		/// The caller cannot lock the deal's worker stake.
		CannotStake,
		/// The task is not revealing.
		TaskNotRevealing,
		/// The task's reveal deadline has passed.
		RevealDeadlinePassed,
		/// The task's final deadline has passed: it can only fail now.
		FinalDeadlinePassed,
		/// The caller did not contribute to the task.
		NotAContributor,
		/// The caller's vote is not the consensus, or it already revealed.
		NotAWinner,
		/// The digest does not match the caller's result hash.
		DigestMismatch,
		/// The digest does not match the caller's result seal.
		SealMismatch,
		/// The reveal window is still open.
		RevealWindowOpen,
		/// No winner revealed: the task cannot be finalized, only reopened or failed.
		NothingRevealed,
		/// A winner revealed: the task cannot be reopened.
		AlreadyRevealed,
		/// Only a deal of trust 1 may contribute and finalize in one call.
		TrustAboveOne,
		/// Someone already contributed to the task.
		TaskHasContributions,
		/// The task is already settled.
		TaskSettled,
		/// The task's final deadline has not passed.
		FinalDeadlineNotPassed,
		/// The vote could not be counted (prevented by the bounds; reported rather than wrong).
		TallyOverflow,
		/// The task's deal buys no dataset: there is no key to release.
		NoDataset,
		/// Only the dataset's owner may release its key.
		NotDatasetOwner,
		/// The deal's dataset is not encrypted: it has no key to release.
		DatasetNotEncrypted,
		/// The deal does not run in a TEE: a dataset key is released only to enclaves.
		DealNotConfidential,
		/// The worker is not assigned to the task.
		WorkerNotAssigned,
		/// The key is not sealed to the encryption key of the enclave the worker was assigned
		/// with.
		SealedToAnotherKey,
		/// The key was already released to that worker's enclave for the task.
		DatasetKeyAlreadyReleased,
		/// The worker's enclave is no longer the one it was assigned the task with: it registered
		/// other keys or another measurement, or its registration expired or was evicted.
		EnclaveChanged,
		/// A batch lists nothing.
		EmptyBatch,
		/// A batch lists the same task twice.
		TaskTwiceInBatch,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			// Refunds and payouts first; removing old tasks can wait for an idler block.
			let swept = Self::sweep_expired(now, remaining);
			swept.saturating_add(Self::prune_settled_tasks(now, remaining.saturating_sub(swept)))
		}

		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::schedule(now);
		}

		fn integrity_test() {
			assert!(
				<T as Config>::MaxContributors::get() <= consensus::MAX_EXACT_CONTRIBUTORS,
				"MaxContributors must be at most consensus::MAX_EXACT_CONTRIBUTORS"
			);
			assert!(<T as Config>::MaxContributors::get() > 0, "a task needs a contributor");
			assert!(T::MillisecsPerBlock::get() > 0, "blocks take time");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Opens task `index` of `deal` for contributions. Anyone may call it.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::initialize())]
		pub fn initialize(origin: OriginFor<T>, deal: DealId, index: u32) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_initialize(deal, index)
		}

		/// Opens several tasks at once. A task already open is skipped, so that nobody can make
		/// a scheduler's batch fail by opening one of its tasks first; the call fails as a whole
		/// if any other cannot be opened. Charged as if each task were of a deal of its own;
		/// what fewer deals did not cost is refunded.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::initialize_batch(
			tasks.len() as u32,
			tasks.len() as u32,
		))]
		pub fn initialize_batch(
			origin: OriginFor<T>,
			tasks: BoundedVec<(DealId, u32), T::MaxInitializeBatch>,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let count = tasks.len() as u32;
			let deals = tasks.iter().map(|(deal, _)| deal).collect::<BTreeSet<_>>().len() as u32;
			for (deal, index) in tasks {
				if !Tasks::<T>::contains_key(Self::task_id(&deal, index)) {
					Self::do_initialize(deal, index)?;
				}
			}
			Ok(Some(<T as Config>::WeightInfo::initialize_batch(count, deals)).into())
		}

		/// Assigns `workers` to `task`: only assigned workers may contribute. Called by the deal's
		/// workerpool's scheduler key. Workers assigned at least 2T ago that have not contributed
		/// lose their places first, a third of their score in the pool and their membership of it.
		/// Charged for as many of those as a task may have; what was not replaced is refunded.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::assign(
			workers.len() as u32,
			<T as Config>::MaxContributors::get(),
		))]
		pub fn assign(
			origin: OriginFor<T>,
			task: TaskId,
			workers: BoundedVec<T::AccountId, T::MaxContributors>,
		) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			Self::do_assign(caller, task, workers)
		}

		/// Votes for `result_hash` on `task`, committing with `result_seal`, and locks the deal's
		/// worker stake. For a TEE deal, `enclave_signature` is the worker's enclave's signature
		/// over [`Pallet::enclave_message`]. Free when it succeeds and the deal has a worker stake.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::contribute())]
		pub fn contribute(
			origin: OriginFor<T>,
			task: TaskId,
			result_hash: ResultHash,
			result_seal: ResultSeal,
			enclave_signature: Option<EnclaveSignature>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_contribute(worker, task, result_hash, result_seal, enclave_signature)
		}

		/// Reveals the digest behind the caller's winning vote on `task`, and where the result is
		/// published. The last winner's reveal finalizes the task. Free when it succeeds and the
		/// caller staked.
		#[pallet::call_index(4)]
		#[pallet::weight(<T as Config>::WeightInfo::reveal_finalizing(<T as Config>::MaxContributors::get()))]
		pub fn reveal(
			origin: OriginFor<T>,
			task: TaskId,
			digest: ResultDigest,
			location: BoundedVec<u8, T::MaxResultLocationLength>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_reveal(worker, task, digest, location)
		}

		/// Finalizes `task` after its reveal window, with the winners who revealed. Anyone may
		/// call it.
		#[pallet::call_index(5)]
		#[pallet::weight(<T as Config>::WeightInfo::finalize(<T as Config>::MaxContributors::get()))]
		pub fn finalize(origin: OriginFor<T>, task: TaskId) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let (entry, deal) = Self::task_and_deal(&task)?;
			ensure!(entry.status == TaskStatus::Revealing, Error::<T>::TaskNotRevealing);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < entry.final_deadline, Error::<T>::FinalDeadlinePassed);
			ensure!(entry.reveals > 0, Error::<T>::NothingRevealed);
			ensure!(
				entry.reveal_deadline.is_some_and(|deadline| deadline <= now),
				Error::<T>::RevealWindowOpen
			);
			let contributors = entry.contributions.len() as u32;
			Self::complete(task, entry, &deal, Finalization::RevealDeadlinePassed)?;
			Ok(Some(<T as Config>::WeightInfo::finalize(contributors)).into())
		}

		/// Reopens `task` for contributions when its reveal window closed with no reveal: its
		/// winners' votes are rejected (their stakes stay locked until the task settles).
		/// Called by the deal's workerpool's scheduler key.
		#[pallet::call_index(6)]
		#[pallet::weight(<T as Config>::WeightInfo::reopen(<T as Config>::MaxContributors::get()))]
		pub fn reopen(origin: OriginFor<T>, task: TaskId) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			Self::do_reopen(caller, task)
		}

		/// Contributes `digest` to a trust-1 task and finalizes it in one call, with no stake. The
		/// caller must be assigned and the first to contribute. Free when it succeeds on a task
		/// with a price. Charged as if the deal bought a dataset and this were its last task;
		/// what neither cost is refunded.
		#[pallet::call_index(7)]
		#[pallet::weight(<T as Config>::WeightInfo::contribute_and_finalize(
			enclave_signature.is_some() as u32,
			1,
			1,
		))]
		pub fn contribute_and_finalize(
			origin: OriginFor<T>,
			task: TaskId,
			digest: ResultDigest,
			location: BoundedVec<u8, T::MaxResultLocationLength>,
			enclave_signature: Option<EnclaveSignature>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_contribute_and_finalize(worker, task, digest, location, enclave_signature)
		}

		/// Settles task `index` of `deal` after its final deadline and returns the weight used.
		/// A task with a revealed result is finalized with it; any other fails and its payer is
		/// refunded. A task nobody opened fails together with every other unopened task of the
		/// deal. Anyone may call it; the chain also does it in idle block time.
		#[pallet::call_index(8)]
		#[pallet::weight(Pallet::<T>::settle_expired_weight(<T as Config>::MaxContributors::get()))]
		pub fn claim(origin: OriginFor<T>, deal: DealId, index: u32) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let deal_entry = Deals::<T>::get(deal).ok_or(Error::<T>::UnknownDeal)?;
			ensure!(Self::has_task(&deal_entry, index), Error::<T>::TaskIndexOutOfRange);
			let final_deadline = Self::deadlines(&deal_entry)?.settlement;
			ensure!(
				frame_system::Pallet::<T>::block_number() >= final_deadline,
				Error::<T>::FinalDeadlineNotPassed
			);
			let task = Self::task_id(&deal, index);
			let weight = match Tasks::<T>::get(task) {
				Some(entry) => {
					ensure!(!entry.status.is_settled(), Error::<T>::TaskSettled);
					Self::settle_expired(
						task,
						entry,
						&deal_entry,
						Failure::ClaimedAfterFinalDeadline,
					)?
				}
				None => {
					// Never opened: refunded with the deal's other unopened tasks, or already.
					ensure!(UnopenedTasks::<T>::get(deal) > 0, Error::<T>::TaskSettled);
					Self::fail_unopened(deal, &deal_entry, Failure::ClaimedAfterFinalDeadline)?;
					// The same movements as failing one task without contributions.
					<T as Config>::WeightInfo::claim(0)
				}
			};
			Ok(Some(weight).into())
		}

		/// Releases the key of the deal's encrypted dataset to `worker`'s enclave for `task`,
		/// sealed to that enclave's encryption key. Called by the dataset's owner; possible only
		/// while the task is open and `worker` is assigned to it with an attested enclave the
		/// app allows. A worker whose enclave re-registered with new keys may be sent the key
		/// again, sealed to the new one.
		#[pallet::call_index(9)]
		#[pallet::weight(<T as Config>::WeightInfo::release_dataset_key())]
		pub fn release_dataset_key(
			origin: OriginFor<T>,
			task: TaskId,
			worker: T::AccountId,
			sealed: SealedDatasetKey,
		) -> DispatchResult {
			let caller = ensure_signed(origin)?;
			Self::do_release_dataset_key(caller, task, worker, sealed)
		}

		/// Opens tasks of `deal` and assigns each the workers listed with it, in one call: what
		/// the deal's workerpool's scheduler key does with tasks nobody opened yet. A task given
		/// no workers is only opened. Nobody can make the batch fail: a task already open is
		/// skipped, workers and all (they are assigned with [`Pallet::assign`]), and a worker
		/// that may not take the task (not a member, without the deal's capabilities or, in a
		/// TEE deal, without an allowed enclave) is left out. The call fails as a whole on a
		/// task the deal does not have or a worker listed twice. Charged for every task and
		/// worker listed, as in a TEE deal; what the workers of skipped tasks and a deal outside
		/// a TEE did not cost is refunded.
		#[pallet::call_index(10)]
		#[pallet::weight(Pallet::<T>::open_and_assign_weight(
			tasks.len() as u32,
			tasks.iter().map(|(_, workers)| workers.len() as u32).sum(),
			true,
		))]
		pub fn open_and_assign(
			origin: OriginFor<T>,
			deal: DealId,
			tasks: BoundedVec<
				(u32, BoundedVec<T::AccountId, T::MaxContributors>),
				T::MaxInitializeBatch,
			>,
		) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			Self::do_open_and_assign(caller, deal, tasks)
		}

		/// Contributes and finalizes several trust-1 tasks of `deal` that the caller computed, in
		/// one call: each result as [`Pallet::contribute_and_finalize`] takes it, each task
		/// recorded and announced as that call would, while the money of all of them moves once
		/// per payee. All or nothing: a result that call would refuse refuses the batch, as
		/// does a task listed twice. One outcome differs: a payee whose account does not exist
		/// is paid the sum when it reaches the existential deposit, where single calls would
		/// each have sent a share below it to the kitty. Free when it succeeds on a deal with a price. Charged as in
		/// a TEE deal when a result carries an enclave signature, and as if the deal bought a
		/// dataset and this batch closed it; what they did not cost is refunded.
		#[pallet::call_index(11)]
		#[pallet::weight(Pallet::<T>::contribute_and_finalize_batch_weight(
			results.len() as u32,
			results.iter().any(|result| result.enclave_signature.is_some()),
			true,
			true,
		))]
		pub fn contribute_and_finalize_batch(
			origin: OriginFor<T>,
			deal: DealId,
			results: BoundedVec<SingleResult<T>, T::MaxInitializeBatch>,
		) -> DispatchResultWithPostInfo {
			let worker = ensure_signed(origin)?;
			Self::do_contribute_and_finalize_batch(worker, deal, results)
		}
	}
}

impl<T: Config> Pallet<T> {
	/// The id of task `index` of `deal`: `blake2_256(deal ‖ index)`.
	pub fn task_id(deal: &DealId, index: u32) -> TaskId {
		sp_io::hashing::blake2_256(&(deal, index).encode()).into()
	}

	/// A worker's vote and seal for `digest` on `task`.
	pub fn result_hash_and_seal(
		task: &TaskId,
		worker: &T::AccountId,
		digest: &ResultDigest,
	) -> (ResultHash, ResultSeal) {
		let hash = sp_io::hashing::blake2_256(&(task, digest).encode()).into();
		let seal = sp_io::hashing::blake2_256(&(worker, task, digest).encode()).into();
		(hash, seal)
	}

	/// The message an enclave signs over its result on `task`.
	pub fn enclave_message(
		task: &TaskId,
		result_hash: &ResultHash,
		result_seal: &ResultSeal,
	) -> alloc::vec::Vec<u8> {
		(commons_primitives::domains::ENCLAVE_RESULT, task, result_hash, result_seal).encode()
	}

	/// The reference time T of `deal`'s category in blocks (at least one), and its contribution
	/// and final deadlines: deal start + 7T and + 10T.
	pub fn deadlines(deal: &Deal<T>) -> Result<DealDeadlines<BlockNumberFor<T>>, Error<T>> {
		let category = pallet_marketplace::Categories::<T>::get(deal.category)
			.ok_or(Error::<T>::UnknownCategory)?;
		let millis = u64::from(category.reference_time_secs).saturating_mul(1_000);
		let blocks = millis.div_ceil(T::MillisecsPerBlock::get()).max(1);
		let reference_time: BlockNumberFor<T> = blocks.saturated_into();
		let after = |multiple: u32| {
			deal.start.saturating_add(reference_time.saturating_mul(multiple.into()))
		};
		Ok(DealDeadlines { reference_time, contribution: after(7), settlement: after(10) })
	}

	/// For a TEE deal, what its workers' enclaves must be; `None` when the deal needs no enclave.
	pub(crate) fn enclave_requirement(deal: &Deal<T>) -> Option<EnclaveRequirement> {
		(deal.tag & tag::TEE != 0).then(|| EnclaveRequirement {
			measurements: pallet_marketplace::Apps::<T>::get(deal.app.id)
				.map(|app| app.measurements.into_inner())
				.unwrap_or_default(),
			confidential: deal.dataset.as_ref().is_some_and(|dataset| {
				pallet_marketplace::Datasets::<T>::get(dataset.id)
					.is_some_and(|registered| registered.encrypted)
			}),
		})
	}

	/// `worker`'s enclave, if it meets `requirement` for `deal`.
	pub(crate) fn allowed_enclave(
		worker: &T::AccountId,
		deal: &Deal<T>,
		requirement: &EnclaveRequirement,
	) -> Option<PinnedEnclave> {
		T::Enclaves::allowed_enclave(
			worker,
			deal.tag,
			&requirement.measurements,
			requirement.confidential,
		)
	}

	/// The enclave `worker` was assigned to `entry` with, provided it is still the worker's
	/// attested enclave: re-registering other keys, expiry or eviction end what the assignment
	/// allowed.
	pub(crate) fn current_pinned_enclave(
		entry: &Task<T>,
		worker: &T::AccountId,
	) -> Result<PinnedEnclave, Error<T>> {
		entry
			.enclave_of(worker)
			.filter(|enclave| T::Enclaves::is_current(worker, enclave))
			.copied()
			.ok_or(Error::<T>::EnclaveChanged)
	}

	fn has_task(deal: &Deal<T>, index: u32) -> bool {
		deal.task_indices().contains(&index)
	}

	fn do_initialize(deal_id: DealId, index: u32) -> DispatchResult {
		let deal = Deals::<T>::get(deal_id).ok_or(Error::<T>::UnknownDeal)?;
		ensure!(Self::has_task(&deal, index), Error::<T>::TaskIndexOutOfRange);
		let task = Self::task_id(&deal_id, index);
		ensure!(!Tasks::<T>::contains_key(task), Error::<T>::TaskAlreadyInitialized);
		let deadlines = Self::deadlines(&deal)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() < deadlines.contribution,
			Error::<T>::ContributionDeadlinePassed
		);
		// Every task of a live deal that has no entry is counted here until its deadline.
		let unopened =
			UnopenedTasks::<T>::get(deal_id).checked_sub(1).ok_or(Error::<T>::TaskSettled)?;
		Self::set_unopened(&deal_id, unopened);
		Tasks::<T>::insert(task, Self::new_task(deal_id, index, &deadlines));
		Self::deposit_event(Event::TaskInitialized { task, deal: deal_id, index });
		Ok(())
	}

	/// Records that `count` of `deal`'s tasks are unopened, keeping no entry for none.
	fn set_unopened(deal: &DealId, count: u32) {
		if count == 0 {
			UnopenedTasks::<T>::remove(deal);
		} else {
			UnopenedTasks::<T>::insert(deal, count);
		}
	}

	fn new_task(deal: DealId, index: u32, deadlines: &DealDeadlines<BlockNumberFor<T>>) -> Task<T> {
		Task {
			deal,
			index,
			status: TaskStatus::Active,
			reference_time: deadlines.reference_time,
			contribution_deadline: deadlines.contribution,
			final_deadline: deadlines.settlement,
			reveal_deadline: None,
			assigned: Default::default(),
			assigned_at: Default::default(),
			contributions: Default::default(),
			tally: Default::default(),
			consensus: None,
			winners: 0,
			reveals: 0,
			result_digest: None,
			result_location: Default::default(),
			dataset_keys: Default::default(),
			enclaves: Default::default(),
		}
	}

	/// The task and its deal, which exists while the task is unsettled.
	fn task_and_deal(task: &TaskId) -> Result<(Task<T>, Deal<T>), DispatchError> {
		let entry = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
		ensure!(!entry.status.is_settled(), Error::<T>::TaskSettled);
		let deal = Deals::<T>::get(entry.deal).ok_or(Error::<T>::UnknownDeal)?;
		Ok((entry, deal))
	}
}

/// Schedules every new deal's expiry, so that the sweep fails what is left of it in time.
impl<T: Config> pallet_marketplace::OnDealCreated<T> for Pallet<T> {
	fn on_deal_created(id: &DealId, deal: &Deal<T>) {
		// A deal's category exists: the marketplace checked it, and categories are never removed.
		if let Ok(deadlines) = Self::deadlines(deal) {
			ExpiringDeals::<T>::insert(deadlines.settlement, id, 0);
		}
		Self::set_unopened(id, deal.volume);
	}
}
