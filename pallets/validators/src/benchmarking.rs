//! Benchmarks of the calls and of noting a block's author, each at its worst case: a set of
//! `MaxValidators` (or one short of it, for an addition), searched to its end, every member
//! with keys.

use super::*;
use crate::Pallet as ValidatorsPallet;
use alloc::vec::Vec;
use codec::Decode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get},
	BoundedVec,
};
use sp_runtime::traits::TrailingZeroInput;

/// `count` distinct accounts.
fn accounts<T: Config>(count: u32) -> Vec<T::AccountId> {
	(0..count).map(|index| account("validator", index, 0)).collect()
}

/// Gives `who` session keys, as `session.set_keys` would.
fn register_keys<T: Config>(who: &T::AccountId) {
	let keys =
		T::Keys::decode(&mut TrailingZeroInput::zeroes()).expect("zeroes decode into any keys");
	pallet_session::NextKeys::<T>::insert(who, keys);
}

/// Makes `members` the validator set.
fn set_validators<T: Config>(members: Vec<T::AccountId>) {
	Validators::<T>::put(
		BoundedVec::<_, T::MaxValidators>::try_from(members).expect("within MaxValidators"),
	);
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		set_validators::<T>(accounts::<T>(T::MaxValidators::get() - 1));
		let candidate: T::AccountId = account("candidate", 0, 0);
		register_keys::<T>(&candidate);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, candidate.clone());

		assert_eq!(Validators::<T>::get().last(), Some(&candidate));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let members = accounts::<T>(T::MaxValidators::get());
		let last = members.last().cloned().expect("MaxValidators is not zero");
		// Every remaining member's keys are read, to count those with keys.
		members.iter().for_each(register_keys::<T>);
		set_validators::<T>(members);
		AbsentSessions::<T>::insert(&last, 1);

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last.clone());

		assert!(!Validators::<T>::get().contains(&last));
		Ok(())
	}

	#[benchmark]
	fn set_session_length() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let length = T::MaxSessionLength::get();

		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, length);

		assert_eq!(SessionLength::<T>::get(), length);
		Ok(())
	}

	#[benchmark]
	fn note_author() {
		let mut members = accounts::<T>(T::MaxValidators::get());
		let author = members.pop().expect("MaxValidators is not zero");
		AuthorsThisSession::<T>::put(
			BoundedVec::<_, T::MaxValidators>::try_from(members).expect("within MaxValidators"),
		);

		#[block]
		{
			<ValidatorsPallet<T> as pallet_authorship::EventHandler<_, _>>::note_author(
				author.clone(),
			);
		}

		assert!(AuthorsThisSession::<T>::get().contains(&author));
	}

	impl_benchmark_test_suite!(ValidatorsPallet, crate::mock::new_test_ext(), crate::mock::Test);
}
