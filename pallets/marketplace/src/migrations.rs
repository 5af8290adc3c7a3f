//! Storage migrations of the marketplace.
//!
//! - **v1** (spec 106): a workerpool is scheduled only by a scheduler that accepted it
//!   ([`SchedulerAccepted`]). A pool stored before keeps being scheduled only if its owner is
//!   its own scheduler, the one case where its consent is certain; any other pool's scheduler
//!   must accept it.
//! - **v2** (spec 107): live deals count as uses of their app, dataset and workerpool
//!   ([`DealsUsing`]), which cannot be removed while used; expired orders' records are pruned from
//!   the current block on ([`OrderPruneCursor`]). Things registered before keep no deposit.

use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};
use sp_runtime::traits::Saturating;

use crate::{Config, Deals, DealsUsing, OrderPruneCursor, Pallet, SchedulerAccepted, Workerpools};

/// Records the pools that schedule themselves as accepted by their scheduler.
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut pools, mut accepted) = (0u64, 0u64);
		for (id, pool) in Workerpools::<T>::iter() {
			pools.saturating_inc();
			if pool.owner == pool.scheduler_key {
				accepted.saturating_inc();
				SchedulerAccepted::<T>::insert(id, pool.scheduler_key);
			}
		}
		T::DbWeight::get().reads_writes(pools, accepted)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		ensure!(SchedulerAccepted::<T>::iter_keys().next().is_none(), "v0 has no acceptances");
		Ok(alloc::vec::Vec::new())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		migrated_to_v1::<T>().map_err(Into::into)
	}
}

/// [`InnerMigrateToV1`], run once: only while the pallet's stored version is 0.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

/// What the migration to v1 leaves: exactly the pools that schedule themselves are accepted.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn migrated_to_v1<T: Config>() -> Result<(), &'static str> {
	ensure!(
		Workerpools::<T>::iter().all(|(id, pool)| {
			SchedulerAccepted::<T>::contains_key(id) == (pool.owner == pool.scheduler_key)
		}),
		"an acceptance the pool's scheduler did not give, or a self-scheduled pool not accepted"
	);
	ensure!(
		SchedulerAccepted::<T>::iter_keys().all(Workerpools::<T>::contains_key),
		"an acceptance of no pool"
	);
	Ok(())
}

/// Counts the live deals' uses of their listings and starts order pruning at the current block.
pub struct InnerMigrateToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut deals, mut writes) = (0u64, 1u64);
		for (_, deal) in Deals::<T>::iter() {
			deals.saturating_inc();
			for listing in Pallet::<T>::listings_of(&deal) {
				writes.saturating_inc();
				DealsUsing::<T>::mutate(listing, |count| count.saturating_inc());
			}
		}
		// No order has a pruning record yet: nothing before this block needs looking at.
		OrderPruneCursor::<T>::put(frame_system::Pallet::<T>::block_number());
		T::DbWeight::get().reads_writes(deals.saturating_add(writes), writes)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		ensure!(DealsUsing::<T>::iter_keys().next().is_none(), "v1 counts no uses");
		Ok(alloc::vec::Vec::new())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		Pallet::<T>::check_deposits()
	}
}

/// [`InnerMigrateToV2`], run once: only while the pallet's stored version is 1.
pub type MigrateToV2<T> =
	VersionedMigration<1, 2, InnerMigrateToV2<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
