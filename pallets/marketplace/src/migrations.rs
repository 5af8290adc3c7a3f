//! Storage migrations of the marketplace.
//!
//! - **v1** (spec 106): a workerpool is scheduled only by a scheduler that accepted it
//!   ([`SchedulerAccepted`]). A pool stored before keeps being scheduled only if its owner is
//!   its own scheduler, the one case where its consent is certain; any other pool's scheduler
//!   must accept it.
//! - **v2** (spec 107): live deals count as uses of their app, dataset and workerpool
//!   ([`DealsUsing`]), which cannot be removed while used; expired orders' records are pruned from
//!   the current block on ([`OrderPruneCursor`]). Things registered before keep no deposit.
//! - **v3** (spec 117): an app has a [`AppKind`]: every app stored before is a WASI module.
//!   Its deposit, taken for one byte less, stays as it was.

use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};
use sp_runtime::traits::Saturating;

use crate::{
	types::{AppKind, Checksum, Measurement},
	Apps, Config, Deals, DealsUsing, OrderPruneCursor, Pallet, SchedulerAccepted, Workerpools,
};

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

/// The storage of v2, before apps had a kind.
pub mod v2 {
	use super::*;
	#[cfg(any(test, feature = "try-runtime"))]
	use crate::AppId;
	#[cfg(any(test, feature = "try-runtime"))]
	use frame_support::storage_alias;

	/// An app as stored up to v2: without `kind`, a WASI module.
	#[derive(Encode, Decode)]
	pub struct App<T: Config> {
		/// Who earns the app's price per run and signs its orders.
		pub owner: T::AccountId,
		/// A name for people.
		pub name: BoundedVec<u8, T::MaxNameLength>,
		/// Where compute nodes fetch the module.
		pub uri: BoundedVec<u8, T::MaxUriLength>,
		/// The sha256 of the module.
		pub checksum: Checksum,
		/// The measurements the app's TEE build may run under.
		pub measurements: BoundedVec<Measurement, T::MaxMeasurements>,
	}

	/// Apps as stored up to v2.
	#[cfg(any(test, feature = "try-runtime"))]
	#[storage_alias]
	pub(crate) type Apps<T: Config> = StorageMap<Pallet<T>, Twox64Concat, AppId, App<T>>;
}

/// Gives every app stored before v3 its kind: a WASI module, the only kind there was. Run it only
/// through [`MigrateToV3`]: a v3 record decodes as a v2 one (its last byte left over), so run
/// again it would make every image a module.
pub struct InnerMigrateToV3<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut apps = 0u64;
		Apps::<T>::translate::<v2::App<T>, _>(|_, old| {
			apps.saturating_inc();
			Some(crate::App {
				owner: old.owner,
				name: old.name,
				uri: old.uri,
				checksum: old.checksum,
				measurements: old.measurements,
				kind: AppKind::Wasi,
			})
		});
		T::DbWeight::get().reads_writes(apps, apps)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok((v2::Apps::<T>::iter_keys().count() as u32).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let apps = u32::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state decodes")?;
		ensure!(Apps::<T>::iter().count() as u32 == apps, "an app was lost");
		Pallet::<T>::check_deposits()
	}
}

/// [`InnerMigrateToV3`], run once: only while the pallet's stored version is 2.
pub type MigrateToV3<T> =
	VersionedMigration<2, 3, InnerMigrateToV3<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
