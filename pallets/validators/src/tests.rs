//! The validator set's life cycle, session by session, as a network sees it.

use crate::{mock::*, AbsentSessions, Error, Event, Removal, SessionLength};
use frame_support::{assert_noop, assert_ok};
use pallet_session::SessionManager;
use proptest::prelude::*;
use sp_runtime::DispatchError;

fn active() -> Vec<AccountId> {
	pallet_session::Validators::<Test>::get()
}

fn chosen() -> Vec<AccountId> {
	crate::Validators::<Test>::get().into_inner()
}

fn root() -> RuntimeOrigin {
	RuntimeOrigin::root()
}

#[test]
fn the_genesis_validators_are_the_first_sessions_and_sessions_last_the_set_length() {
	new_test_ext().execute_with(|| {
		assert_eq!(active(), GENESIS_VALIDATORS.to_vec());
		assert_eq!(Session::current_index(), 0);
		run_to_block(SESSION - 1);
		assert_eq!(Session::current_index(), 0);
		run_to_block(SESSION);
		assert_eq!(Session::current_index(), 1);
		run_to_block(2 * SESSION);
		assert_eq!(Session::current_index(), 2);
		assert_eq!(active(), GENESIS_VALIDATORS.to_vec());
	});
}

#[test]
fn a_validator_added_authors_from_the_session_after_next() {
	new_test_ext().execute_with(|| {
		run_to_block(5);
		assert_ok!(Validators::add_validator(root(), 4));
		assert_eq!(validators_events(), vec![Event::ValidatorAdded { validator: 4 }]);
		assert_eq!(chosen(), vec![1, 2, 3, 4]);
		// Session 1 was planned before the change; session 2 is planned when 1 starts.
		run_sessions(1);
		assert_eq!(active(), vec![1, 2, 3]);
		run_sessions(1);
		assert_eq!(active(), vec![1, 2, 3, 4]);
	});
}

#[test]
fn a_validator_removed_authors_for_the_last_time_in_the_next_session() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::add_validator(root(), 4));
		run_sessions(2);
		assert_ok!(Validators::remove_validator(root(), 2));
		assert_eq!(
			validators_events().last(),
			Some(&Event::ValidatorRemoved { validator: 2, reason: Removal::Governance })
		);
		run_sessions(1);
		assert!(active().contains(&2));
		run_sessions(1);
		assert_eq!(active(), vec![1, 3, 4]);
	});
}

#[test]
fn an_unchanged_set_is_not_planned_again() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::add_validator(root(), 4));
		run_sessions(5);
		let plans = System::events()
			.into_iter()
			.filter(|record| {
				matches!(record.event, RuntimeEvent::Session(pallet_session::Event::NewQueued))
			})
			.count();
		// Only the change was handed over: GRANDPA's authority set changed once.
		assert_eq!(plans, 1);
		assert_eq!(Validators::new_session(7), None);
	});
}

#[test]
fn a_member_that_purges_its_keys_leaves_the_active_set_but_stays_chosen() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::add_validator(root(), 4));
		run_sessions(2);
		assert_eq!(active(), vec![1, 2, 3, 4]);
		assert_ok!(Session::purge_keys(RuntimeOrigin::signed(4)));
		run_sessions(2);
		assert_eq!(active(), vec![1, 2, 3]);
		assert_eq!(chosen(), vec![1, 2, 3, 4]);
		// A removal that would leave fewer than two members with keys is refused.
		assert_ok!(Validators::remove_validator(root(), 3));
		assert_noop!(Validators::remove_validator(root(), 2), Error::<Test>::TooFewValidators);
	});
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
	new_test_ext().execute_with(|| {
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::signed(1), 4),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::signed(1), 3),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Validators::set_session_length(RuntimeOrigin::signed(1), MIN_SESSION),
			DispatchError::BadOrigin
		);
		assert_noop!(Validators::add_validator(root(), 2), Error::<Test>::AlreadyValidator);
		assert_noop!(Validators::add_validator(root(), KEYLESS), Error::<Test>::NoSessionKeys);
		assert_noop!(Validators::remove_validator(root(), 4), Error::<Test>::NotValidator);
		assert_noop!(
			Validators::set_session_length(root(), MIN_SESSION - 1),
			Error::<Test>::SessionLengthOutOfBounds
		);
		assert_noop!(
			Validators::set_session_length(root(), MAX_SESSION + 1),
			Error::<Test>::SessionLengthOutOfBounds
		);
		assert_ok!(Validators::remove_validator(root(), 3));
		assert_noop!(Validators::remove_validator(root(), 2), Error::<Test>::TooFewValidators);
		assert_ok!(Validators::add_validator(root(), 3));
		assert_ok!(Validators::add_validator(root(), 4));
		assert_ok!(Validators::add_validator(root(), 5));
		assert_noop!(Validators::add_validator(root(), 6), Error::<Test>::TooManyValidators);
	});
}

#[test]
fn a_shorter_session_length_ends_the_current_session_early() {
	new_test_ext().execute_with(|| {
		run_to_block(SESSION + 12);
		assert_eq!(Session::current_index(), 1);
		assert_ok!(Validators::set_session_length(root(), MIN_SESSION));
		assert_eq!(SessionLength::<Test>::get(), MIN_SESSION);
		assert_eq!(
			validators_events().last(),
			Some(&Event::SessionLengthSet { length: MIN_SESSION })
		);
		// Session 1 started at block SESSION and is already older than the new length.
		run_to_block(SESSION + 13);
		assert_eq!(Session::current_index(), 2);
		run_to_block(SESSION + 13 + MIN_SESSION);
		assert_eq!(Session::current_index(), 3);
	});
}

#[test]
fn an_absent_validator_is_reported_each_session_and_removed_at_the_limit() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::add_validator(root(), 4));
		run_sessions(2);
		assert_eq!(active(), vec![1, 2, 3, 4]);
		take_offline(3);
		run_sessions(1);
		assert_eq!(
			validators_events().last(),
			Some(&Event::ValidatorAbsent { validator: 3, session: 2, in_a_row: 1 })
		);
		assert_eq!(chosen(), vec![1, 2, 3, 4]);
		run_sessions(1);
		let events = validators_events();
		assert_eq!(
			events[events.len() - 2..],
			[
				Event::ValidatorAbsent { validator: 3, session: 3, in_a_row: 2 },
				Event::ValidatorRemoved { validator: 3, reason: Removal::Absent },
			]
		);
		assert_eq!(chosen(), vec![1, 2, 4]);
		// The removal is planned at once: the session after next runs without it.
		run_sessions(1);
		assert_eq!(active(), vec![1, 2, 4]);
		assert_eq!(AbsentSessions::<Test>::get(3), None);
	});
}

#[test]
fn authoring_again_clears_the_absences() {
	new_test_ext().execute_with(|| {
		run_sessions(1);
		take_offline(2);
		run_sessions(1);
		assert_eq!(AbsentSessions::<Test>::get(2), Some(1));
		bring_online(2);
		run_sessions(1);
		assert_eq!(AbsentSessions::<Test>::get(2), None);
		assert_eq!(chosen(), GENESIS_VALIDATORS.to_vec());
	});
}

#[test]
fn absence_removes_at_most_a_third_of_the_active_set() {
	new_test_ext().execute_with(|| {
		assert_ok!(Validators::add_validator(root(), 4));
		run_sessions(2);
		take_offline(3);
		take_offline(4);
		run_sessions(ABSENCE_LIMIT);
		// Of four, one may leave: 3 is judged first and removed, 4 stays, reported.
		assert_eq!(chosen(), vec![1, 2, 4]);
		assert_eq!(AbsentSessions::<Test>::get(4), Some(ABSENCE_LIMIT));
		run_sessions(3);
		// Of the three now active, none may leave.
		assert_eq!(active(), vec![1, 2, 4]);
		assert_eq!(chosen(), vec![1, 2, 4]);
		assert_eq!(AbsentSessions::<Test>::get(4), Some(ABSENCE_LIMIT + 3));
	});
}

#[test]
fn a_session_too_short_for_every_validator_to_have_two_slots_judges_nobody() {
	new_test_ext().execute_with(|| {
		for candidate in [4, 5] {
			assert_ok!(Validators::add_validator(root(), candidate));
		}
		run_sessions(2);
		assert_eq!(active().len(), 5);
		assert_ok!(Validators::set_session_length(root(), MIN_SESSION));
		run_sessions(1);
		take_offline(5);
		run_sessions(3);
		assert_eq!(AbsentSessions::<Test>::get(5), None);
		assert!(!validators_events().iter().any(|e| matches!(e, Event::ValidatorAbsent { .. })));
	});
}

#[test]
fn a_leaving_validator_is_not_judged() {
	new_test_ext().execute_with(|| {
		run_sessions(1);
		assert_ok!(Validators::remove_validator(root(), 3));
		take_offline(3);
		run_sessions(3);
		assert!(!validators_events().iter().any(|e| matches!(e, Event::ValidatorAbsent { .. })));
		assert_eq!(active(), vec![1, 2]);
	});
}

/// A governance action in the property test.
#[derive(Debug, Clone)]
enum Change {
	Add(AccountId),
	Remove(AccountId),
	Offline(AccountId),
	Online(AccountId),
	Sessions(u32),
}

/// Account 1 is never removed nor taken offline: a chain whose validators are all down makes no
/// blocks, and the mock none either.
fn change() -> impl Strategy<Value = Change> {
	let account = 2..=KEYLESS;
	prop_oneof![
		account.clone().prop_map(Change::Add),
		account.clone().prop_map(Change::Remove),
		account.clone().prop_map(Change::Offline),
		account.prop_map(Change::Online),
		(1..3u32).prop_map(Change::Sessions),
	]
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Whatever governance and outages do, the invariants hold after every block, and two
	/// sessions after the last change the active set is the chosen set.
	#[test]
	fn the_active_set_follows_the_chosen_set(changes in prop::collection::vec(change(), 1..20)) {
		new_test_ext().execute_with(|| {
			for change in changes {
				match change {
					Change::Add(who) => { let _ = Validators::add_validator(root(), who); },
					Change::Remove(who) => { let _ = Validators::remove_validator(root(), who); },
					Change::Offline(who) => take_offline(who),
					Change::Online(who) => bring_online(who),
					Change::Sessions(sessions) => run_sessions(sessions),
				}
			}
			for who in 1..=KEYLESS {
				bring_online(who);
			}
			run_sessions(2);
			prop_assert_eq!(active(), chosen());
			Ok(())
		})?;
	}
}
