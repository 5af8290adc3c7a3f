//! Storage migrations of the escrow pallet.
//!
//! - **v1** (spec 119): the pallet no longer keeps a ledger of what it holds (`Escrowed`,
//!   `TotalEscrowed`): the holds are the record. The ledger's entries are removed; the holds
//!   and the kitty are untouched.

use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, storage_alias,
	traits::UncheckedOnRuntimeUpgrade,
};

use crate::{BalanceOf, Config, Pallet, Purpose};

/// The ledger as stored before v1.
pub mod v0 {
	use super::*;

	/// What the pallet held from each account, by purpose.
	#[storage_alias]
	pub(crate) type Escrowed<T: Config> = StorageDoubleMap<
		Pallet<T>,
		Blake2_128Concat,
		<T as frame_system::Config>::AccountId,
		Twox64Concat,
		Purpose,
		BalanceOf<T>,
		ValueQuery,
	>;

	/// What the pallet held from all accounts together, by purpose.
	#[storage_alias]
	pub(crate) type TotalEscrowed<T: Config> =
		StorageMap<Pallet<T>, Twox64Concat, Purpose, BalanceOf<T>, ValueQuery>;
}

/// Removes the ledger. Its size is one entry per account and purpose with funds locked, and at
/// most four totals; a chain this young holds few, so they go in one block.
pub struct InnerMigrateToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let accounts = v0::Escrowed::<T>::clear(u32::MAX, None).unique;
		let totals = v0::TotalEscrowed::<T>::clear(u32::MAX, None).unique;
		let removed = u64::from(accounts).saturating_add(u64::from(totals));
		T::DbWeight::get().reads_writes(removed, removed)
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(v0::Escrowed::<T>::iter().next().is_none(), "the ledger's accounts are left");
		ensure!(v0::TotalEscrowed::<T>::iter().next().is_none(), "the ledger's totals are left");
		Ok(())
	}
}

/// [`InnerMigrateToV1`], run once: only while the pallet's stored version is 0.
pub type MigrateToV1<T> =
	VersionedMigration<0, 1, InnerMigrateToV1<T>, Pallet<T>, <T as frame_system::Config>::DbWeight>;
