//! The pallet's invariants, checked by `try_state` and after every test.

use frame_support::{ensure, traits::Get};
use sp_runtime::TryRuntimeError;

use crate::{AbsentSessions, AuthorsThisSession, Config, Pallet, SessionLength, Validators};

impl<T: Config> Pallet<T> {
	/// Checks that the set is distinct and within its bounds, that only its members are counted
	/// absent, that only active validators are noted as authors, and that the session length is
	/// one governance may set.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let validators = Validators::<T>::get();
		ensure!(
			validators.len() as u32 >= T::MinValidators::get(),
			"the validator set is below MinValidators"
		);
		for (index, validator) in validators.iter().enumerate() {
			ensure!(!validators[..index].contains(validator), "a validator is in the set twice");
		}
		for (validator, in_a_row) in AbsentSessions::<T>::iter() {
			ensure!(validators.contains(&validator), "a non-member is counted absent");
			ensure!(in_a_row > 0, "an absence count of zero is kept");
		}
		let active = pallet_session::Validators::<T>::get();
		for author in AuthorsThisSession::<T>::get() {
			ensure!(active.contains(&author), "an author outside the active set is noted");
		}
		ensure!(
			Self::session_length_allowed(SessionLength::<T>::get()),
			"the session length is outside its bounds"
		);
		Ok(())
	}
}
