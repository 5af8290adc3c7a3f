//! The pallet's side of the session life cycle: when sessions end, which set the session pallet
//! plans, who authored, and who was absent.

use alloc::vec::Vec;
use frame_support::{
	traits::{EstimateNextSessionRotation, Get, ValidatorRegistration},
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_session::{SessionManager, ShouldEndSession};
use sp_runtime::{
	traits::{Saturating, Zero},
	Permill,
};
use sp_staking::SessionIndex;

use crate::{
	AbsentSessions, AuthorsThisSession, Config, Event, Pallet, PlanPending, Removal, SessionLength,
	SessionStart, Validators,
};

impl<T: Config> ShouldEndSession<BlockNumberFor<T>> for Pallet<T> {
	fn should_end_session(now: BlockNumberFor<T>) -> bool {
		// A length of zero is storage the genesis never wrote (a chain upgraded into this
		// pallet): rotating on every block would fill every block with the rotation's weight.
		!SessionLength::<T>::get().is_zero() && now >= Self::next_session_start()
	}
}

impl<T: Config> EstimateNextSessionRotation<BlockNumberFor<T>> for Pallet<T> {
	fn average_session_length() -> BlockNumberFor<T> {
		SessionLength::<T>::get()
	}

	fn estimate_current_session_progress(now: BlockNumberFor<T>) -> (Option<Permill>, Weight) {
		let elapsed = now.saturating_sub(SessionStart::<T>::get());
		let progress = Permill::from_rational(elapsed, SessionLength::<T>::get());
		(Some(progress), T::DbWeight::get().reads(2))
	}

	fn estimate_next_session_rotation(_: BlockNumberFor<T>) -> (Option<BlockNumberFor<T>>, Weight) {
		(Some(Self::next_session_start()), T::DbWeight::get().reads(2))
	}
}

impl<T: Config> SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(_: SessionIndex) -> Option<Vec<T::AccountId>> {
		let changed = PlanPending::<T>::take();
		let planned = Self::with_keys(Validators::<T>::get().into_inner());
		// Too few with keys (members purged theirs): the active set goes on as it is.
		if planned.is_empty() || (planned.len() as u32) < T::MinValidators::get() {
			return None;
		}
		// A member that purged or set its keys since the last plan changes the set too: the
		// session pallet would otherwise drop it silently, and Aura and the session disagree.
		(changed || planned != pallet_session::Validators::<T>::get()).then_some(planned)
	}

	fn new_session_genesis(_: SessionIndex) -> Option<Vec<T::AccountId>> {
		PlanPending::<T>::kill();
		let validators = Validators::<T>::get().into_inner();
		// None named: the session pallet takes the accounts of its genesis keys.
		(!validators.is_empty()).then_some(validators)
	}

	fn end_session(ending: SessionIndex) {
		let authors = AuthorsThisSession::<T>::take();
		let active = pallet_session::Validators::<T>::get();
		let length =
			frame_system::Pallet::<T>::block_number().saturating_sub(SessionStart::<T>::get());
		// Two slots per validator at least: an online one had its turn, even after a fork.
		if length < BlockNumberFor::<T>::from(2 * active.len() as u32) {
			return;
		}
		let members = Validators::<T>::get();
		// Absence removes at most a third of the active set, counting those already leaving:
		// the two sides of a split network, each seeing the other absent, cannot empty the
		// set between them, and GRANDPA keeps more than two thirds of its voters.
		let most_leaving = (active.len() as u32).saturating_sub(1) / 3;
		let mut leaving = active.iter().filter(|v| !members.contains(v)).count() as u32;
		for validator in active {
			// One that is leaving the set is not judged: it may stop as soon as it was removed.
			if !members.contains(&validator) {
				continue;
			}
			if authors.contains(&validator) {
				AbsentSessions::<T>::remove(&validator);
				continue;
			}
			let in_a_row = AbsentSessions::<T>::get(&validator).unwrap_or(0).saturating_add(1);
			AbsentSessions::<T>::insert(&validator, in_a_row);
			Self::deposit_event(Event::ValidatorAbsent {
				validator: validator.clone(),
				session: ending,
				in_a_row,
			});
			// Otherwise it stays, and stays reported, until governance acts or it returns.
			if in_a_row >= T::AbsenceLimit::get()
				&& leaving < most_leaving
				&& Self::remove(&validator, Removal::Absent).is_ok()
			{
				leaving += 1;
			}
		}
	}

	fn start_session(_: SessionIndex) {
		SessionStart::<T>::put(frame_system::Pallet::<T>::block_number());
	}
}

impl<T: Config> pallet_authorship::EventHandler<T::AccountId, BlockNumberFor<T>> for Pallet<T> {
	fn note_author(author: T::AccountId) {
		let mut authors = AuthorsThisSession::<T>::get();
		// Written once per author and session: every other block only reads.
		if !authors.contains(&author) {
			// The author is one of the active set, which is bounded like the authors.
			if authors.try_push(author).is_ok() {
				AuthorsThisSession::<T>::put(authors);
			}
		}
	}
}

impl<T: Config> Pallet<T> {
	/// Those of `validators` that have session keys, in order.
	pub(crate) fn with_keys(validators: Vec<T::AccountId>) -> Vec<T::AccountId> {
		validators
			.into_iter()
			.filter(pallet_session::Pallet::<T>::is_registered)
			.collect()
	}

	/// The block at which the current session ends.
	fn next_session_start() -> BlockNumberFor<T> {
		SessionStart::<T>::get().saturating_add(SessionLength::<T>::get())
	}
}
