//! The vote: sealed contributions ([`Pallet::contribute`]), reveals ([`Pallet::reveal`]) and the
//! trust-1 single call ([`Pallet::contribute_and_finalize`]) and its batch
//! ([`Pallet::contribute_and_finalize_batch`]), with the enclave and stake checks they share.

use alloc::vec::Vec;
use frame_support::{dispatch::PostDispatchInfo, pallet_prelude::*};
use frame_system::pallet_prelude::*;
use pallet_escrow::{Escrow, Purpose};
use pallet_marketplace::Deal;
use sp_runtime::traits::{Saturating, Zero};

use crate::{types::Task, *};

impl<T: Config> Pallet<T> {
	pub(crate) fn do_contribute(
		worker: T::AccountId,
		task: TaskId,
		result_hash: ResultHash,
		result_seal: ResultSeal,
		enclave_signature: Option<EnclaveSignature>,
	) -> DispatchResultWithPostInfo {
		let (mut entry, deal) = Self::task_and_deal(&task)?;
		Self::ensure_may_contribute(&entry, &worker)?;
		Self::check_enclave_signature(
			&entry,
			&deal,
			&worker,
			&task,
			&result_hash,
			&result_seal,
			enclave_signature.as_ref(),
		)?;
		ensure!(
			T::Escrow::can_lock(&worker, Purpose::WorkerStake, deal.worker_stake),
			Error::<T>::CannotStake
		);

		Self::record_vote(
			task,
			&mut entry,
			&worker,
			ContributionStatus::Contributed,
			(result_hash, result_seal),
			&deal,
			deal.worker_stake,
		)?;
		T::Escrow::lock(&worker, Purpose::WorkerStake, deal.worker_stake, task)?;

		let winners = entry
			.contributions
			.iter()
			.filter(|contribution| {
				contribution.result_hash == result_hash
					&& contribution.status == ContributionStatus::Contributed
			})
			.count() as u32;
		if winners >= consensus::min_agreeing(deal.trust)
			&& entry.tally.has_consensus(&result_hash, deal.trust)
		{
			let reveal_deadline = Self::reveal_deadline(&entry);
			entry.status = TaskStatus::Revealing;
			entry.consensus = Some(result_hash);
			entry.reveal_deadline = Some(reveal_deadline);
			entry.winners = winners;
			entry.reveals = 0;
			Self::deposit_event(Event::ConsensusReached {
				task,
				result_hash,
				winners,
				reveal_deadline,
			});
		}
		Tasks::<T>::insert(task, entry);
		Ok(Self::free_if_at_risk(!deal.worker_stake.is_zero()).into())
	}

	pub(crate) fn do_reveal(
		worker: T::AccountId,
		task: TaskId,
		digest: ResultDigest,
		location: BoundedVec<u8, T::MaxResultLocationLength>,
	) -> DispatchResultWithPostInfo {
		let (mut entry, deal) = Self::task_and_deal(&task)?;
		ensure!(entry.status == TaskStatus::Revealing, Error::<T>::TaskNotRevealing);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < entry.final_deadline, Error::<T>::FinalDeadlinePassed);
		ensure!(
			entry.reveal_deadline.is_some_and(|deadline| now < deadline),
			Error::<T>::RevealDeadlinePassed
		);
		let (result_hash, result_seal) = Self::result_hash_and_seal(&task, &worker, &digest);
		let consensus = entry.consensus;
		let contribution = entry
			.contributions
			.iter_mut()
			.find(|contribution| contribution.worker == worker)
			.ok_or(Error::<T>::NotAContributor)?;
		ensure!(
			contribution.status == ContributionStatus::Contributed
				&& Some(contribution.result_hash) == consensus,
			Error::<T>::NotAWinner
		);
		ensure!(contribution.result_hash == result_hash, Error::<T>::DigestMismatch);
		ensure!(contribution.result_seal == result_seal, Error::<T>::SealMismatch);

		contribution.status = ContributionStatus::Revealed;
		let pays_fee = Self::free_if_at_risk(!contribution.stake.is_zero());
		entry.reveals = entry.reveals.saturating_add(1);
		entry.result_digest = Some(digest);
		if entry.result_location.is_empty() {
			entry.result_location = location;
		}
		Self::deposit_event(Event::Revealed { task, worker, digest });

		if entry.reveals == entry.winners {
			let contributors = entry.contributions.len() as u32;
			Self::complete(task, entry, &deal, Finalization::AllWinnersRevealed)?;
			let weight = <T as Config>::WeightInfo::reveal_finalizing(contributors);
			return Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee });
		}
		Tasks::<T>::insert(task, entry);
		let weight = <T as Config>::WeightInfo::reveal();
		Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee })
	}

	pub(crate) fn do_contribute_and_finalize(
		worker: T::AccountId,
		task: TaskId,
		digest: ResultDigest,
		location: BoundedVec<u8, T::MaxResultLocationLength>,
		enclave_signature: Option<EnclaveSignature>,
	) -> DispatchResultWithPostInfo {
		let (mut entry, deal) = Self::task_and_deal(&task)?;
		Self::record_single_result(
			&worker,
			task,
			&mut entry,
			&deal,
			digest,
			location,
			enclave_signature.as_ref(),
		)?;
		let closes_deal = deal.unsettled <= 1;
		Self::complete(task, entry, &deal, Finalization::SingleContribution)?;
		let weight = <T as Config>::WeightInfo::contribute_and_finalize(
			(deal.tag & tag::TEE != 0) as u32,
			deal.dataset.is_some() as u32,
			closes_deal as u32,
		);
		// The worker stakes nothing here; what the payer put into the task is at risk.
		let pays_fee = Self::free_if_at_risk(!deal.workerpool.price.is_zero());
		Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee })
	}

	/// Contributes and finalizes `results`, tasks of `deal_id` that `worker` computed, each as
	/// [`Self::do_contribute_and_finalize`] would, and pays each payee once for all of them.
	/// Any result refused refuses the whole call.
	pub(crate) fn do_contribute_and_finalize_batch(
		worker: T::AccountId,
		deal_id: DealId,
		results: BoundedVec<SingleResult<T>, T::MaxInitializeBatch>,
	) -> DispatchResultWithPostInfo {
		ensure!(!results.is_empty(), Error::<T>::EmptyBatch);
		let deal = Deals::<T>::get(deal_id).ok_or(Error::<T>::UnknownDeal)?;
		ensure!(deal.trust <= 1, Error::<T>::TrustAboveOne);
		let mut completed = Vec::with_capacity(results.len());
		for result in results {
			ensure!(Self::has_task(&deal, result.index), Error::<T>::TaskIndexOutOfRange);
			let task = Self::task_id(&deal_id, result.index);
			ensure!(!completed.iter().any(|(done, _)| *done == task), Error::<T>::TaskTwiceInBatch);
			let mut entry = Tasks::<T>::get(task).ok_or(Error::<T>::UnknownTask)?;
			ensure!(!entry.status.is_settled(), Error::<T>::TaskSettled);
			Self::record_single_result(
				&worker,
				task,
				&mut entry,
				&deal,
				result.digest,
				result.location,
				result.enclave_signature.as_ref(),
			)?;
			completed.push((task, entry));
		}
		let count = completed.len() as u32;
		let closes_deal = deal.unsettled <= count;
		Self::complete_single_batch(deal_id, &deal, &worker, completed)?;
		let weight = Self::contribute_and_finalize_batch_weight(
			count,
			deal.tag & tag::TEE != 0,
			deal.dataset.is_some(),
			closes_deal,
		);
		let pays_fee = Self::free_if_at_risk(!deal.workerpool.price.is_zero());
		Ok(PostDispatchInfo { actual_weight: Some(weight), pays_fee })
	}

	/// What `contribute_and_finalize_batch` costs for `count` results of a deal in a TEE or
	/// not, buying a dataset or not, the batch closing it or not.
	pub(crate) fn contribute_and_finalize_batch_weight(
		count: u32,
		in_tee: bool,
		dataset: bool,
		closes_deal: bool,
	) -> Weight {
		let (dataset, closes_deal) = (dataset as u32, closes_deal as u32);
		let plain =
			<T as Config>::WeightInfo::contribute_and_finalize_batch(count, dataset, closes_deal);
		if in_tee {
			// It does all the plain call does, and checks each result's enclave signature.
			<T as Config>::WeightInfo::contribute_and_finalize_batch_in_tee(
				count,
				dataset,
				closes_deal,
			)
			.max(plain)
		} else {
			plain
		}
	}

	/// Records `digest` as `worker`'s only, revealed, result on trust-1 `task`, and as its
	/// consensus: everything `contribute_and_finalize` does before paying.
	fn record_single_result(
		worker: &T::AccountId,
		task: TaskId,
		entry: &mut Task<T>,
		deal: &Deal<T>,
		digest: ResultDigest,
		location: BoundedVec<u8, T::MaxResultLocationLength>,
		enclave_signature: Option<&EnclaveSignature>,
	) -> DispatchResult {
		ensure!(deal.trust <= 1, Error::<T>::TrustAboveOne);
		Self::ensure_may_contribute(entry, worker)?;
		ensure!(entry.contributions.is_empty(), Error::<T>::TaskHasContributions);
		let (result_hash, result_seal) = Self::result_hash_and_seal(&task, worker, &digest);
		Self::check_enclave_signature(
			entry,
			deal,
			worker,
			&task,
			&result_hash,
			&result_seal,
			enclave_signature,
		)?;

		Self::record_vote(
			task,
			entry,
			worker,
			ContributionStatus::Revealed,
			(result_hash, result_seal),
			deal,
			Zero::zero(),
		)?;
		let reveal_deadline = Self::reveal_deadline(entry);
		entry.consensus = Some(result_hash);
		entry.reveal_deadline = Some(reveal_deadline);
		entry.winners = 1;
		entry.reveals = 1;
		entry.result_digest = Some(digest);
		entry.result_location = location;
		Self::deposit_event(Event::ConsensusReached {
			task,
			result_hash,
			winners: 1,
			reveal_deadline,
		});
		Self::deposit_event(Event::Revealed { task, worker: worker.clone(), digest });
		Ok(())
	}

	pub(crate) fn ensure_may_contribute(entry: &Task<T>, worker: &T::AccountId) -> DispatchResult {
		ensure!(entry.status == TaskStatus::Active, Error::<T>::TaskNotActive);
		ensure!(
			frame_system::Pallet::<T>::block_number() < entry.contribution_deadline,
			Error::<T>::ContributionDeadlinePassed
		);
		ensure!(entry.assigned.contains(worker), Error::<T>::NotAssigned);
		ensure!(entry.contribution_of(worker).is_none(), Error::<T>::AlreadyContributed);
		Ok(())
	}

	/// Counts `worker`'s vote on `entry` with the weight of its score in the deal's pool and
	/// records its contribution.
	pub(crate) fn record_vote(
		task: TaskId,
		entry: &mut Task<T>,
		worker: &T::AccountId,
		status: ContributionStatus,
		(result_hash, result_seal): (ResultHash, ResultSeal),
		deal: &Deal<T>,
		stake: BalanceOf<T>,
	) -> DispatchResult {
		let weight = consensus::worker_weight(Scores::<T>::get(deal.workerpool.id, worker));
		entry
			.tally
			.add_vote(result_hash, weight)
			.map_err(|_| Error::<T>::TallyOverflow)?;
		let contribution = Contribution {
			worker: worker.clone(),
			status,
			result_hash,
			result_seal,
			weight,
			stake,
		};
		entry
			.contributions
			.try_push(contribution)
			.map_err(|_| Error::<T>::TooManyWorkers)?;
		Self::deposit_event(Event::Contributed {
			task,
			worker: worker.clone(),
			result_hash,
			stake,
		});
		Ok(())
	}

	/// A worker's successful call is free only when something was at risk in it: its stake, or
	/// for the single-call path the price the payer put into the task. Otherwise free calls
	/// would cost nothing to spam, on zero-price tasks anyone can make.
	pub(crate) fn free_if_at_risk(at_risk: bool) -> Pays {
		if at_risk {
			Pays::No
		} else {
			Pays::Yes
		}
	}

	/// When a consensus reached now stops accepting reveals: in 2T.
	pub(crate) fn reveal_deadline(entry: &Task<T>) -> BlockNumberFor<T> {
		let now = frame_system::Pallet::<T>::block_number();
		now.saturating_add(entry.reference_time.saturating_mul(2u32.into()))
	}

	/// For a TEE deal, checks that the result is signed by the enclave the worker was assigned
	/// with, and that this is still its attested enclave: a worker may re-register at any time,
	/// and what was checked at assignment holds only for the enclave pinned then.
	pub(crate) fn check_enclave_signature(
		entry: &Task<T>,
		deal: &Deal<T>,
		worker: &T::AccountId,
		task: &TaskId,
		result_hash: &ResultHash,
		result_seal: &ResultSeal,
		signature: Option<&EnclaveSignature>,
	) -> DispatchResult {
		match (deal.tag & tag::TEE != 0, signature) {
			(false, None) => Ok(()),
			(false, Some(_)) => Err(Error::<T>::UnexpectedEnclaveSignature.into()),
			(true, None) => Err(Error::<T>::EnclaveSignatureMissing.into()),
			(true, Some(signature)) => {
				Self::current_pinned_enclave(entry, worker)?;
				let message = Self::enclave_message(task, result_hash, result_seal);
				ensure!(
					T::Enclaves::verify_enclave_signature(worker, &message, signature),
					Error::<T>::InvalidEnclaveSignature
				);
				Ok(())
			}
		}
	}
}
