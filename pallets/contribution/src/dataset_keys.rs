//! Confidential datasets: a dataset owner releases its key, sealed to one assigned worker's
//! attested enclave ([`Pallet::release_dataset_key`]).

use frame_support::pallet_prelude::*;

use crate::*;

impl<T: Config> Pallet<T> {
	pub(crate) fn do_release_dataset_key(
		caller: T::AccountId,
		task: TaskId,
		worker: T::AccountId,
		sealed: SealedDatasetKey,
	) -> DispatchResult {
		let (mut entry, deal) = Self::task_and_deal(&task)?;
		ensure!(entry.status == TaskStatus::Active, Error::<T>::TaskNotActive);
		ensure!(
			frame_system::Pallet::<T>::block_number() < entry.contribution_deadline,
			Error::<T>::ContributionDeadlinePassed
		);
		let dataset = deal.dataset.as_ref().ok_or(Error::<T>::NoDataset)?.id;
		let registered = pallet_marketplace::Datasets::<T>::get(dataset)
			.ok_or(pallet_marketplace::Error::<T>::UnknownDataset)?;
		ensure!(registered.owner == caller, Error::<T>::NotDatasetOwner);
		ensure!(registered.encrypted, Error::<T>::DatasetNotEncrypted);
		ensure!(deal.tag & tag::TEE != 0, Error::<T>::DealNotConfidential);
		ensure!(entry.assigned.contains(&worker), Error::<T>::WorkerNotAssigned);
		let enclave = Self::current_pinned_enclave(&entry, &worker)?;
		ensure!(sealed.recipient == enclave.encryption, Error::<T>::SealedToAnotherKey);
		ensure!(entry.dataset_key_of(&worker).is_none(), Error::<T>::DatasetKeyAlreadyReleased);
		// At most one key per assigned worker, and assigned workers are bounded alike.
		entry
			.dataset_keys
			.try_push((worker.clone(), sealed))
			.map_err(|_| Error::<T>::TooManyWorkers)?;
		Tasks::<T>::insert(task, entry);
		Self::deposit_event(Event::DatasetKeyReleased {
			task,
			dataset,
			worker,
			enclave_key: sealed.recipient,
		});
		Ok(())
	}
}
