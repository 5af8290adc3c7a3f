//! What the contribution pallet stores about tasks and contributions.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_marketplace::DealId;
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::traits::Saturating;

pub use commons_primitives::{
	EnclaveRegistry, EnclaveSignature, PinnedEnclave, SealedDatasetKey, X25519PublicKey,
};

use crate::{consensus::Tally, BalanceOf, Config};

type AccountIdOf<T> = <T as frame_system::Config>::AccountId;

/// The id of a task: `blake2_256(deal id ‖ task index)`.
pub type TaskId = H256;

/// What a worker computed: the sha256 of its output file (for a folder, of its sorted files'
/// hashes). Revealed only after the vote.
pub type ResultDigest = H256;

/// A worker's vote: `blake2_256(task id ‖ digest)`, the same for every worker that computed the
/// same output.
pub type ResultHash = H256;

/// A worker's commitment to its own vote: `blake2_256(worker ‖ task id ‖ digest)`. Nobody can
/// copy it from another worker without knowing the digest.
pub type ResultSeal = H256;

/// The timing every task of a deal shares, in blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DealDeadlines<BlockNumber> {
	/// The category's reference time T (at least one block).
	pub reference_time: BlockNumber,
	/// Deal start + 7T: no contribution from this block on.
	pub contribution: BlockNumber,
	/// Deal start + 10T: unsettled tasks fail from this block on.
	pub settlement: BlockNumber,
}

/// Where a task stands.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum TaskStatus {
	/// Open for contributions from assigned workers.
	Active,
	/// A result reached consensus; its voters may reveal.
	Revealing,
	/// Finalized: paid out, its result recorded.
	Completed,
	/// Failed after its final deadline: its payer was refunded.
	Failed,
}

impl TaskStatus {
	/// Whether the task is paid out or refunded.
	pub fn is_settled(self) -> bool {
		matches!(self, TaskStatus::Completed | TaskStatus::Failed)
	}
}

/// Where a contribution stands.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ContributionStatus {
	/// Voted; not revealed.
	Contributed,
	/// Revealed: the worker showed the digest behind its vote, which won.
	Revealed,
	/// Voted for a result whose voters all failed to reveal; the task was reopened without it.
	Rejected,
}

/// One worker's contribution to a task.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Contribution<T: Config> {
	/// The worker that contributed.
	pub worker: AccountIdOf<T>,
	/// Where the contribution stands.
	pub status: ContributionStatus,
	/// The worker's vote: `blake2_256(task id ‖ digest)`.
	pub result_hash: ResultHash,
	/// The worker's seal: `blake2_256(worker ‖ task id ‖ digest)`, checked when it reveals.
	pub result_seal: ResultSeal,
	/// The worker's vote weight when it contributed, from its score.
	pub weight: u32,
	/// What the worker locked; returned, paid out to winners, or kept, at settlement.
	pub stake: BalanceOf<T>,
}

/// Why a task was finalized when it was.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Finalization {
	/// The last worker that voted for the consensus revealed.
	AllWinnersRevealed,
	/// The reveal window closed with at least one reveal; someone asked to finalize, or the
	/// task reached its final deadline (swept or claimed).
	RevealDeadlinePassed,
	/// A trust-1 task's only worker contributed and finalized in one call.
	SingleContribution,
}

/// Why a task failed.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Failure {
	/// Its final deadline passed; someone claimed it.
	ClaimedAfterFinalDeadline,
	/// Its final deadline passed; the chain swept it in an idle block.
	SweptAfterFinalDeadline,
}

/// What a TEE deal asks of its workers' enclaves.
pub(crate) struct EnclaveRequirement {
	/// The measurements the deal's app allows.
	pub measurements: alloc::vec::Vec<pallet_marketplace::Measurement>,
	/// Whether the deal reads an encrypted dataset: then only evidence the chain trusts with
	/// data counts.
	pub confidential: bool,
}

/// One trust-1 task's result in a worker's batch ([`crate::Pallet::contribute_and_finalize_batch`]):
/// what `contribute_and_finalize` takes for one task, the task named by its index in the deal.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct SingleResult<T: Config> {
	/// The task's index in the deal.
	pub index: u32,
	/// The digest of what the worker computed.
	pub digest: ResultDigest,
	/// Where the worker published the result.
	pub location: BoundedVec<u8, T::MaxResultLocationLength>,
	/// For a TEE deal, the enclave's signature of the result.
	pub enclave_signature: Option<EnclaveSignature>,
}

/// A task: one run of a deal's app, voted on by the workers its scheduler assigned.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
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
	/// The workers the scheduler assigned; only they may contribute.
	pub assigned: BoundedVec<AccountIdOf<T>, T::MaxContributors>,
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
	/// While the task is unsettled: the dataset key its owner released to assigned workers'
	/// enclaves, one per worker. Emptied when the task settles.
	pub dataset_keys: BoundedVec<(AccountIdOf<T>, SealedDatasetKey), T::MaxContributors>,
	/// For a TEE task: the enclave each assigned worker was assigned with, one per worker. Only
	/// that enclave's results are accepted and only it is sent the dataset's key.
	pub enclaves: BoundedVec<(AccountIdOf<T>, PinnedEnclave), T::MaxContributors>,
}

impl<T: Config> Task<T> {
	/// Whether `worker`'s vote is still expected at `now`: it is assigned, has not contributed,
	/// and was assigned less than the reference time T ago.
	pub fn is_pending(&self, worker: &AccountIdOf<T>, now: BlockNumberFor<T>) -> bool {
		self.assignment_of(worker)
			.is_some_and(|at| now < at.saturating_add(self.reference_time))
			&& self.contribution_of(worker).is_none()
	}

	/// The assigned workers that have not contributed within 2T of their assignment at `now`:
	/// no-shows, whose places a new assignment frees. T is the longest a task may compute, so a
	/// worker still silent after twice as long (fetching and voting included) is not coming.
	pub fn silent_workers(&self, now: BlockNumberFor<T>) -> alloc::vec::Vec<AccountIdOf<T>> {
		let grace = self.reference_time.saturating_mul(2u32.into());
		self.assigned
			.iter()
			.filter(|worker| {
				self.contribution_of(worker).is_none()
					&& self.assignment_of(worker).is_some_and(|at| at.saturating_add(grace) <= now)
			})
			.cloned()
			.collect()
	}

	/// The block `worker` was assigned in, if it is assigned.
	pub fn assignment_of(&self, worker: &AccountIdOf<T>) -> Option<BlockNumberFor<T>> {
		let position = self.assigned.iter().position(|assigned| assigned == worker)?;
		self.assigned_at.get(position).copied()
	}

	/// The contribution of `worker`, if it contributed.
	pub fn contribution_of(&self, worker: &AccountIdOf<T>) -> Option<&Contribution<T>> {
		self.contributions.iter().find(|contribution| contribution.worker == *worker)
	}

	/// The enclave `worker` was assigned with, for a TEE task.
	pub fn enclave_of(&self, worker: &AccountIdOf<T>) -> Option<&PinnedEnclave> {
		self.enclaves.iter().find(|(who, _)| who == worker).map(|(_, enclave)| enclave)
	}

	/// The dataset key released to `worker`'s enclave, if any.
	pub fn dataset_key_of(&self, worker: &AccountIdOf<T>) -> Option<&SealedDatasetKey> {
		self.dataset_keys
			.iter()
			.find(|(who, _)| who == worker)
			.map(|(_, sealed)| sealed)
	}
}
