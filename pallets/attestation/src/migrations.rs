//! Storage migrations of the attestation pallet.
//!
//! - **v1** (spec 109): the TCB policy may require a minimum TCB evaluation data number; the
//!   policy stored before requires none.

use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
};

use crate::{types::*, Config, Pallet, Policy};

/// The attestation pallet's layouts before v1.
pub mod v0 {
	use super::*;

	/// The TCB policy as stored before v1 (spec 109 and before).
	#[derive(Encode, Decode)]
	pub struct TcbPolicy {
		/// Statuses accepted as they are.
		pub accepted: BoundedVec<TcbStatus, ConstU32<9>>,
		/// Seconds an out-of-date platform stays accepted after the date of its TCB level.
		pub out_of_date_grace: u64,
		/// If set, every advisory affecting a platform must be listed here.
		pub allowed_advisories: Option<BoundedVec<AdvisoryId, ConstU32<64>>>,
	}
}

/// Moves the stored TCB policy to the v1 layout, requiring no minimum evaluation number.
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		// A policy that does not decode is dropped, and the default (the strictest) applies.
		let _ = Policy::<T>::translate::<v0::TcbPolicy, _>(|old| {
			old.map(|old| TcbPolicy {
				accepted: old.accepted,
				out_of_date_grace: old.out_of_date_grace,
				allowed_advisories: old.allowed_advisories,
				min_evaluation_data_number: None,
			})
		});
		T::DbWeight::get().reads_writes(1, 1)
	}
}

/// [`InnerMigrateToV1`], run once: only while the pallet's stored version is 0.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
