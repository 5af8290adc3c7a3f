//! Storage deposits: whoever makes the chain keep something on its behalf holds a deposit for
//! it, in the escrow pallet under [`Purpose::StorageDeposit`], until it is removed.
//!
//! A deposit is [`Config::DepositPerItem`] plus [`Config::DepositPerByte`] for each byte the
//! thing's record takes. It is recorded with the account that paid it ([`Deposits`]) and goes
//! back to that account on removal, whoever owns the thing by then: handing an app over does not
//! make the new owner pay for it, and cannot take the payer's deposit away.
//!
//! Apps, datasets and workerpools are read by the tasks of the deals that bought them, so they
//! are removed only once no live deal uses them ([`DealsUsing`]).

use codec::Encode;
use frame_support::{ensure, pallet_prelude::*};
use pallet_escrow::{Escrow, Purpose, Subject};
use sp_runtime::traits::{Saturating, Zero};

use crate::{types::*, BalanceOf, Config, Deals, DealsUsing, Deposits, Error, Pallet, Presigned};

impl<T: Config> Pallet<T> {
	/// The deposit for something that takes `bytes` in storage besides its key.
	pub fn deposit_for(footprint: &Footprint<T::AccountId>, bytes: usize) -> BalanceOf<T> {
		let bytes =
			u32::try_from(bytes.saturating_add(footprint.encoded_size())).unwrap_or(u32::MAX);
		T::DepositPerItem::get()
			.saturating_add(T::DepositPerByte::get().saturating_mul(bytes.into()))
	}

	/// The escrow subject of a footprint's deposit, named in its escrow events.
	fn deposit_subject(footprint: &Footprint<T::AccountId>) -> Subject {
		sp_io::hashing::blake2_256(&footprint.encode()).into()
	}

	/// Holds `who`'s deposit for `footprint`, whose record takes `bytes` besides its key.
	pub(crate) fn take_deposit(
		who: &T::AccountId,
		footprint: Footprint<T::AccountId>,
		bytes: usize,
	) -> DispatchResult {
		let amount = Self::deposit_for(&footprint, bytes);
		if amount.is_zero() {
			return Ok(());
		}
		T::Escrow::lock(who, Purpose::StorageDeposit, amount, Self::deposit_subject(&footprint))
			.map_err(|_| Error::<T>::CannotPayDeposit)?;
		Deposits::<T>::insert(footprint, (who.clone(), amount));
		Ok(())
	}

	/// Returns the deposit held for `footprint`, if it has one, to the account that paid it.
	pub(crate) fn return_deposit(footprint: Footprint<T::AccountId>) -> DispatchResult {
		if let Some((who, amount)) = Deposits::<T>::take(&footprint) {
			T::Escrow::unlock(
				&who,
				Purpose::StorageDeposit,
				amount,
				Self::deposit_subject(&footprint),
			)?;
		}
		Ok(())
	}

	/// Forgets that `hash` was presigned, takes it out of the order book and returns the
	/// deposit for it.
	pub(crate) fn release_presignature(hash: OrderHash) -> DispatchResult {
		if Presigned::<T>::take(hash).is_some() {
			Self::delist_order(hash);
			Self::return_deposit(Footprint::PresignedOrder(hash))?;
		}
		Ok(())
	}

	/// Fails with [`Error::UsedByLiveDeals`] while a live deal uses `listing`.
	pub(crate) fn ensure_unused(listing: Footprint<T::AccountId>) -> DispatchResult {
		ensure!(DealsUsing::<T>::get(listing) == 0, Error::<T>::UsedByLiveDeals);
		Ok(())
	}

	/// The app, dataset and workerpool a deal uses.
	pub(crate) fn listings_of(deal: &Deal<T>) -> impl Iterator<Item = Footprint<T::AccountId>> {
		[
			Some(Footprint::App(deal.app.id)),
			deal.dataset.as_ref().map(|dataset| Footprint::Dataset(dataset.id)),
			Some(Footprint::Workerpool(deal.workerpool.id)),
		]
		.into_iter()
		.flatten()
	}

	/// Records that a new deal uses its app, dataset and workerpool: done by every match, and
	/// by whoever stores a deal otherwise (benchmarks).
	pub fn record_deal_use(deal: &Deal<T>) {
		for listing in Self::listings_of(deal) {
			DealsUsing::<T>::mutate(listing, |count| count.saturating_inc());
		}
	}

	/// Checks that the deposits ledger agrees with the escrow, and the use counts with the live
	/// deals.
	pub(crate) fn check_deposits() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;

		let mut by_payer = BTreeMap::<T::AccountId, BalanceOf<T>>::new();
		let mut total = BalanceOf::<T>::zero();
		for (footprint, (who, amount)) in Deposits::<T>::iter() {
			ensure!(!amount.is_zero(), "a zero deposit is recorded");
			ensure!(Self::is_stored(&footprint), "a deposit is held for something not stored");
			let paid = by_payer.entry(who).or_default();
			*paid = paid.saturating_add(amount);
			total = total.saturating_add(amount);
		}
		for (who, paid) in by_payer {
			ensure!(
				T::Escrow::locked(&who, Purpose::StorageDeposit) == paid,
				"an account's held deposits differ from the deposits recorded for it"
			);
		}
		ensure!(
			T::Escrow::total_locked(Purpose::StorageDeposit) == total,
			"held deposits differ from the deposits recorded"
		);

		let mut uses = BTreeMap::<Footprint<T::AccountId>, u32>::new();
		for (_, deal) in Deals::<T>::iter() {
			for listing in Self::listings_of(&deal) {
				ensure!(Self::is_stored(&listing), "a live deal uses something removed");
				uses.entry(listing).or_default().saturating_inc();
			}
		}
		ensure!(
			DealsUsing::<T>::iter().count() == uses.len(),
			"a use count is kept for something no live deal uses"
		);
		for (listing, count) in uses {
			ensure!(DealsUsing::<T>::get(listing) == count, "a use count differs from live deals");
		}
		Ok(())
	}

	/// Whether the chain still stores `footprint`.
	fn is_stored(footprint: &Footprint<T::AccountId>) -> bool {
		match footprint {
			Footprint::App(app) => crate::Apps::<T>::contains_key(app),
			Footprint::Dataset(dataset) => crate::Datasets::<T>::contains_key(dataset),
			Footprint::Workerpool(pool) => crate::Workerpools::<T>::contains_key(pool),
			Footprint::AllowedWorker(pool, worker) => {
				crate::AllowedWorkers::<T>::contains_key(pool, worker)
			}
			Footprint::PresignedOrder(hash) => Presigned::<T>::contains_key(hash),
		}
	}
}
