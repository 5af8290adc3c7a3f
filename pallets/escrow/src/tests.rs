//! The escrow's behaviour: each movement, each refusal, and conservation of money.

use crate::{mock::*, Error, Escrow as _, Event, HoldReason, Kitty, Purpose, Subject};
use frame_support::{
	assert_noop, assert_ok,
	traits::fungible::{Inspect, InspectHold},
};
use proptest::prelude::*;

const DEAL: Subject = Subject::repeat_byte(7);

fn held(who: AccountId, purpose: Purpose) -> Balance {
	Balances::balance_on_hold(&HoldReason::from(purpose).into(), &who)
}

fn free(who: AccountId) -> Balance {
	Balances::balance(&who)
}

#[test]
fn genesis_creates_the_kitty_account_with_the_existential_deposit() {
	run_test(|| {
		assert_eq!(free(Escrow::kitty_account()), ED);
		assert_eq!(Kitty::<Test>::get(), 0);
	});
}

#[test]
fn lock_puts_free_funds_on_hold_and_records_them() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::DealPayment, 600, DEAL));
		assert_eq!(free(1), START - 600);
		assert_eq!(held(1, Purpose::DealPayment), 600);
		assert_eq!(Escrow::locked(&1, Purpose::DealPayment), 600);
		assert_eq!(Escrow::total_locked(Purpose::DealPayment), 600);
		System::assert_last_event(
			Event::Locked { who: 1, purpose: Purpose::DealPayment, amount: 600, subject: DEAL }
				.into(),
		);
	});
}

#[test]
fn lock_beyond_free_funds_fails_and_changes_nothing() {
	run_test(|| {
		assert_noop!(
			Escrow::lock(&1, Purpose::WorkerStake, START, DEAL),
			Error::<Test>::InsufficientFunds
		);
		assert!(!Escrow::can_lock(&1, Purpose::WorkerStake, START));
		assert!(Escrow::can_lock(&1, Purpose::WorkerStake, START - ED));
	});
}

#[test]
fn unlock_returns_held_funds_to_their_owner() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::PoolOwnerStake, 300, DEAL));
		assert_ok!(Escrow::unlock(&1, Purpose::PoolOwnerStake, 100, DEAL));
		assert_eq!(held(1, Purpose::PoolOwnerStake), 200);
		assert_eq!(free(1), START - 200);
		assert_ok!(Escrow::unlock(&1, Purpose::PoolOwnerStake, 200, DEAL));
		assert_eq!(free(1), START);
		assert_eq!(Escrow::total_locked(Purpose::PoolOwnerStake), 0);
	});
}

#[test]
fn unlock_more_than_locked_fails_and_changes_nothing() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::WorkerStake, 300, DEAL));
		assert_noop!(
			Escrow::unlock(&1, Purpose::WorkerStake, 301, DEAL),
			Error::<Test>::InsufficientLocked
		);
		// Funds locked for another purpose are not available either.
		assert_noop!(
			Escrow::unlock(&1, Purpose::DealPayment, 1, DEAL),
			Error::<Test>::InsufficientLocked
		);
	});
}

#[test]
fn pay_moves_held_funds_to_the_earner() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::DealPayment, 500, DEAL));
		assert_ok!(Escrow::pay(&1, Purpose::DealPayment, &2, 200, DEAL));
		assert_eq!(held(1, Purpose::DealPayment), 300);
		assert_eq!(free(1), START - 500);
		assert_eq!(free(2), START + 200);
		System::assert_last_event(
			Event::Paid {
				from: 1,
				purpose: Purpose::DealPayment,
				to: 2,
				amount: 200,
				subject: DEAL,
			}
			.into(),
		);
	});
}

#[test]
fn a_payout_its_payee_cannot_receive_goes_to_the_kitty_and_never_fails() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::DealPayment, 500, DEAL));
		// Account 9 does not exist; ED - 1 would not create it.
		assert_ok!(Escrow::pay(&1, Purpose::DealPayment, &9, ED - 1, DEAL));
		assert_eq!(free(9), 0);
		assert_eq!(held(1, Purpose::DealPayment), 500 - (ED - 1));
		assert_eq!(Kitty::<Test>::get(), ED - 1);
		System::assert_last_event(
			Event::PayoutDiverted {
				from: 1,
				purpose: Purpose::DealPayment,
				to: 9,
				amount: ED - 1,
				subject: DEAL,
			}
			.into(),
		);
		// Enough to create the account: paid.
		assert_ok!(Escrow::pay(&1, Purpose::DealPayment, &9, ED, DEAL));
		assert_eq!(free(9), ED);
	});
}

#[test]
fn paying_more_than_is_held_fails_and_changes_nothing() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::DealPayment, 500, DEAL));
		assert_noop!(
			Escrow::pay(&1, Purpose::DealPayment, &2, 501, DEAL),
			Error::<Test>::InsufficientLocked
		);
		assert_noop!(
			Escrow::pay(&1, Purpose::WorkerStake, &9, 1, DEAL),
			Error::<Test>::InsufficientLocked
		);
	});
}

#[test]
fn seize_moves_held_funds_into_the_kitty_even_below_the_existential_deposit() {
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::PoolOwnerStake, 300, DEAL));
		assert_ok!(Escrow::seize(&1, Purpose::PoolOwnerStake, ED - 1, DEAL));
		assert_eq!(Kitty::<Test>::get(), ED - 1);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::Kitty.into(), &Escrow::kitty_account()),
			ED - 1
		);
		assert_eq!(held(1, Purpose::PoolOwnerStake), 300 - (ED - 1));
	});
}

#[test]
fn zero_amounts_move_nothing_and_emit_nothing() {
	run_test(|| {
		let events_before = System::events().len();
		assert_ok!(Escrow::lock(&1, Purpose::DealPayment, 0, DEAL));
		assert_ok!(Escrow::unlock(&1, Purpose::DealPayment, 0, DEAL));
		assert_ok!(Escrow::pay(&1, Purpose::DealPayment, &2, 0, DEAL));
		assert_ok!(Escrow::seize(&1, Purpose::DealPayment, 0, DEAL));
		assert_eq!(System::events().len(), events_before);
	});
}

/// One escrow operation, on accounts 1 to 3 (and 9, which does not exist, as a payee).
#[derive(Clone, Debug)]
enum Operation {
	Lock(AccountId, Purpose, Balance),
	Unlock(AccountId, Purpose, Balance),
	Pay(AccountId, Purpose, AccountId, Balance),
	Seize(AccountId, Purpose, Balance),
}

fn purpose() -> impl Strategy<Value = Purpose> {
	prop_oneof![
		Just(Purpose::DealPayment),
		Just(Purpose::PoolOwnerStake),
		Just(Purpose::WorkerStake)
	]
}

fn operation() -> impl Strategy<Value = Operation> {
	let account = 1u64..=3;
	let amount = 0u128..400_000;
	prop_oneof![
		(account.clone(), purpose(), amount.clone()).prop_map(|(a, p, v)| Operation::Lock(a, p, v)),
		(account.clone(), purpose(), amount.clone())
			.prop_map(|(a, p, v)| Operation::Unlock(a, p, v)),
		(account.clone(), purpose(), prop_oneof![account.clone(), Just(9u64)], amount.clone())
			.prop_map(|(a, p, b, v)| Operation::Pay(a, p, b, v)),
		(account, purpose(), amount).prop_map(|(a, p, v)| Operation::Seize(a, p, v)),
	]
}

proptest! {
	/// Whatever the protocol asks of the escrow, in whatever order, money is neither created nor
	/// destroyed, each account holds for each purpose exactly what was locked and not yet moved
	/// (a model kept beside the chain), and a refused operation changes nothing.
	#[test]
	fn escrow_conserves_money_and_holds_what_was_locked(operations in prop::collection::vec(operation(), 1..60)) {
		new_test_ext().execute_with(|| {
			let issuance = Balances::total_issuance();
			let accounts = [1u64, 2, 3, 9, Escrow::kitty_account()];
			let total_of_accounts = || accounts.iter().map(|who| Balances::total_balance(who)).sum::<Balance>();
			let total_before = total_of_accounts();
			let mut model: std::collections::BTreeMap<(AccountId, Purpose), Balance> = Default::default();
			for operation in operations {
				let snapshot = sp_io::storage::root(sp_runtime::StateVersion::V1);
				let (result, who, purpose, change) = match operation.clone() {
					Operation::Lock(who, purpose, amount) =>
						(Escrow::lock(&who, purpose, amount, DEAL), who, purpose, amount as i128),
					Operation::Unlock(who, purpose, amount) =>
						(Escrow::unlock(&who, purpose, amount, DEAL), who, purpose, -(amount as i128)),
					Operation::Pay(from, purpose, to, amount) =>
						(Escrow::pay(&from, purpose, &to, amount, DEAL), from, purpose, -(amount as i128)),
					Operation::Seize(from, purpose, amount) =>
						(Escrow::seize(&from, purpose, amount, DEAL), from, purpose, -(amount as i128)),
				};
				if result.is_err() {
					prop_assert_eq!(
						snapshot,
						sp_io::storage::root(sp_runtime::StateVersion::V1),
						"refused {:?} changed state", operation
					);
				} else {
					let held = model.entry((who, purpose)).or_default();
					*held = (*held as i128 + change) as Balance;
				}
				for who in accounts {
					for purpose in Purpose::ALL {
						let expected = model.get(&(who, purpose)).copied().unwrap_or_default();
						prop_assert_eq!(Escrow::locked(&who, purpose), expected, "after {:?}", operation);
					}
				}
				for purpose in Purpose::ALL {
					let expected: Balance = model.iter().filter(|((_, p), _)| *p == purpose).map(|(_, v)| *v).sum();
					prop_assert_eq!(Escrow::total_locked(purpose), expected);
				}
				prop_assert!(Escrow::do_try_state().is_ok(), "invariants broken after {:?}", operation);
				prop_assert_eq!(Balances::total_issuance(), issuance);
				prop_assert_eq!(total_of_accounts(), total_before);
			}
			Ok(())
		})?;
	}
}

#[test]
fn kitty_funds_held_outside_the_kitty_are_found() {
	new_test_ext().execute_with(|| {
		assert_ok!(Escrow::lock(&1, Purpose::StorageDeposit, 100, DEAL));
		assert_ok!(Escrow::do_try_state());
		assert_ok!(<Balances as frame_support::traits::fungible::MutateHold<_>>::hold(
			&HoldReason::Kitty.into(),
			&2,
			50
		));
		assert!(Escrow::do_try_state().is_err());
		// Released, so that nothing is left for the next check.
		assert_ok!(<Balances as frame_support::traits::fungible::MutateHold<_>>::release(
			&HoldReason::Kitty.into(),
			&2,
			50,
			frame_support::traits::tokens::Precision::Exact
		));
	});
}

#[test]
fn v1_removes_the_ledger_and_leaves_the_holds() {
	use crate::migrations::{v0, MigrateToV1};
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	run_test(|| {
		assert_ok!(Escrow::lock(&1, Purpose::DealPayment, 600, DEAL));
		assert_ok!(Escrow::lock(&2, Purpose::WorkerStake, 70, DEAL));
		// The ledger as spec 118 kept it.
		v0::Escrowed::<Test>::insert(1, Purpose::DealPayment, 600);
		v0::Escrowed::<Test>::insert(2, Purpose::WorkerStake, 70);
		v0::TotalEscrowed::<Test>::insert(Purpose::DealPayment, 600);
		v0::TotalEscrowed::<Test>::insert(Purpose::WorkerStake, 70);
		StorageVersion::new(0).put::<crate::Pallet<Test>>();

		MigrateToV1::<Test>::on_runtime_upgrade();

		assert_eq!(v0::Escrowed::<Test>::iter().count(), 0);
		assert_eq!(v0::TotalEscrowed::<Test>::iter().count(), 0);
		assert_eq!(held(1, Purpose::DealPayment), 600);
		assert_eq!(held(2, Purpose::WorkerStake), 70);
		assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));
		// Once is all it runs.
		v0::TotalEscrowed::<Test>::insert(Purpose::DealPayment, 1);
		MigrateToV1::<Test>::on_runtime_upgrade();
		assert_eq!(v0::TotalEscrowed::<Test>::get(Purpose::DealPayment), 1);
		v0::TotalEscrowed::<Test>::remove(Purpose::DealPayment);
	});
}
