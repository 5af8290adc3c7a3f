//! What must hold between blocks ([`Pallet::do_try_state`]): the escrow holds exactly what live
//! deals account for, and the registries' counters and deposits agree with their entries, and the order book lists exactly
//! the presigned orders.

use crate::*;

impl<T: Config> Pallet<T> {
	/// Checks that the escrow holds exactly what live deals account for, and that the
	/// registries' counters agree with their entries.
	///
	/// Compiled in every build, so that the tests of pallets built on this one can call it.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::ensure;
		use pallet_escrow::{Escrow, Purpose};
		use sp_runtime::traits::{Saturating, Zero};

		use alloc::collections::btree_map::BTreeMap;

		let mut payments = BalanceOf::<T>::zero();
		let mut stakes = BalanceOf::<T>::zero();
		// What each payer and each pool owner has held for live deals: a settlement that debited
		// the wrong account would show here even though the totals agree.
		let mut paid_by = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		let mut staked_by = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		for (_, deal) in Deals::<T>::iter() {
			ensure!(deal.unsettled > 0, "a deal with no unsettled task is kept");
			ensure!(deal.unsettled <= deal.volume, "a deal has more unsettled tasks than tasks");
			ensure!(deal.trust >= 1, "a deal has trust 0");
			let unsettled = BalanceOf::<T>::from(deal.unsettled);
			let payment = deal.task_price().saturating_mul(unsettled);
			let stake = deal.pool_owner_stake.saturating_mul(unsettled);
			payments = payments.saturating_add(payment);
			stakes = stakes.saturating_add(stake);
			let paid = paid_by.entry(deal.payer.clone()).or_default();
			*paid = paid.saturating_add(payment);
			let staked = staked_by.entry(deal.workerpool.owner.clone()).or_default();
			*staked = staked.saturating_add(stake);
		}
		for (payer, paid) in paid_by {
			ensure!(
				T::Escrow::locked(&payer, Purpose::DealPayment) == paid,
				"a payer's held payment differs from what its live deals owe"
			);
		}
		for (owner, staked) in staked_by {
			ensure!(
				T::Escrow::locked(&owner, Purpose::PoolOwnerStake) == staked,
				"a pool owner's held stake differs from what its live deals staked"
			);
		}
		ensure!(
			T::Escrow::total_locked(Purpose::DealPayment) == payments,
			"held deal payments differ from what live deals owe"
		);
		ensure!(
			T::Escrow::total_locked(Purpose::PoolOwnerStake) == stakes,
			"held pool owner stakes differ from what live deals staked"
		);
		for (workerpool, count) in PoolMemberCount::<T>::iter() {
			let members = PoolMembers::<T>::iter_prefix(workerpool).count() as u32;
			ensure!(members == count, "a workerpool's member count is wrong");
		}
		for (worker, workerpool) in WorkerPool::<T>::iter() {
			ensure!(
				PoolMembers::<T>::contains_key(workerpool, &worker),
				"a worker's pool does not list it"
			);
		}
		Self::check_book()?;
		Self::check_deposits()
	}
}
