//! Storage migrations of the marketplace.
//!
//! - **v1** (spec 106): datasets say whether they are encrypted (added by spec 105 without a
//!   migration; a dataset stored before is plain), and a workerpool is scheduled only by a
//!   scheduler that accepted it (every pool stored before keeps being scheduled by its
//!   scheduler, as if it had accepted).

use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

use sp_runtime::traits::Saturating;

use crate::{types::*, Config, Datasets, Pallet, SchedulerAccepted, Workerpools};

/// The marketplace's layouts before v1.
pub mod v0 {
	use super::*;

	/// A dataset as stored before v1: without `encrypted`.
	#[derive(Encode, Decode)]
	pub struct Dataset<T: Config> {
		pub owner: T::AccountId,
		pub name: BoundedVec<u8, T::MaxNameLength>,
		pub uri: BoundedVec<u8, T::MaxUriLength>,
		pub checksum: Checksum,
	}
}

/// Rewrites every dataset with `encrypted: false` and records each workerpool's scheduler as
/// having accepted it.
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let mut datasets = 0u64;
		Datasets::<T>::translate::<v0::Dataset<T>, _>(|_, old| {
			datasets.saturating_inc();
			Some(Dataset {
				owner: old.owner,
				name: old.name,
				uri: old.uri,
				checksum: old.checksum,
				encrypted: false,
			})
		});
		let mut pools = 0u64;
		for (id, pool) in Workerpools::<T>::iter() {
			pools.saturating_inc();
			SchedulerAccepted::<T>::insert(id, pool.scheduler);
		}
		T::DbWeight::get().reads_writes(datasets + pools, datasets + pools)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		let datasets = Datasets::<T>::iter_keys().count() as u32;
		let pools = Workerpools::<T>::iter_keys().count() as u32;
		Ok((datasets, pools).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let (datasets, pools) =
			<(u32, u32)>::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state decodes")?;
		ensure!(Datasets::<T>::iter().count() as u32 == datasets, "a dataset was lost");
		migrated_to_v1::<T>()?;
		ensure!(SchedulerAccepted::<T>::iter_keys().count() as u32 == pools, "a pool was lost");
		Ok(())
	}
}

/// [`InnerMigrateToV1`], run once: only while the pallet's stored version is 0.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;

/// What the migration to v1 leaves: every dataset decodes, and every pool is scheduled by its
/// scheduler.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn migrated_to_v1<T: Config>() -> Result<(), &'static str> {
	ensure!(
		Datasets::<T>::iter_keys().all(|id| Datasets::<T>::try_get(id).is_ok()),
		"a dataset does not decode"
	);
	ensure!(
		Workerpools::<T>::iter()
			.all(|(id, pool)| SchedulerAccepted::<T>::get(id).as_ref() == Some(&pool.scheduler)),
		"a pool's scheduler is not recorded as accepted"
	);
	Ok(())
}
