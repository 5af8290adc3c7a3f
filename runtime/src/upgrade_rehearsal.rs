//! The upgrade rehearsal: a second build of this runtime, one `spec_version` higher and with one
//! storage migration more, that the end-to-end tests upgrade a live network to by referendum.
//!
//! `build.rs` builds it beside the runtime, from the same sources with the `upgrade-rehearsal`
//! feature; here it is `WASM_BINARY` (in native builds other than benchmark and release ones). Its migration, [`CountRehearsals`], counts in
//! [`Rehearsals`] how often it ran, so a test sees that the upgrade ran it exactly once.
//! Nothing of it is in the runtime a chain runs: without the feature, [`CountRehearsals`] is
//! not among the runtime's migrations.

use frame_support::{storage_alias, traits::OnRuntimeUpgrade, weights::Weight};

// The feature belongs to the wasm build `build.rs` makes; on the crate itself it would make the
// runtime's own blob the rehearsal.
#[cfg(all(feature = "std", feature = "upgrade-rehearsal"))]
compile_error!("`upgrade-rehearsal` is for the rehearsal's wasm build only (see build.rs)");

// The rehearsal's blob (`WASM_BINARY`), in the builds that make one.
#[cfg(all(
	feature = "std",
	not(any(feature = "runtime-benchmarks", feature = "on-chain-release-build"))
))]
include!(concat!(env!("OUT_DIR"), "/upgrade_rehearsal_wasm.rs"));
/// Benchmark and release builds make no rehearsal.
#[cfg(all(
	feature = "std",
	any(feature = "runtime-benchmarks", feature = "on-chain-release-build")
))]
pub const WASM_BINARY: Option<&[u8]> = None;

/// How many times the rehearsal's migration ran on this chain.
#[storage_alias]
pub type Rehearsals =
	StorageValue<UpgradeRehearsal, u32, frame_support::pallet_prelude::ValueQuery>;

/// The rehearsal's migration: one more run in [`Rehearsals`].
pub struct CountRehearsals;

impl OnRuntimeUpgrade for CountRehearsals {
	fn on_runtime_upgrade() -> Weight {
		Rehearsals::mutate(|runs| *runs = runs.saturating_add(1));
		<crate::Runtime as frame_system::Config>::DbWeight::get().reads_writes(1, 1)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		use codec::Encode;
		Ok(Rehearsals::get().encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(before: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		use codec::Decode;
		let before = u32::decode(&mut &before[..])
			.map_err(|_| sp_runtime::TryRuntimeError::Other("no count before the upgrade"))?;
		frame_support::ensure!(
			Rehearsals::get() == before + 1,
			"the rehearsal ran other than once"
		);
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_rehearsal_migration_counts_each_run_once() {
		sp_io::TestExternalities::default().execute_with(|| {
			assert_eq!(Rehearsals::get(), 0);
			CountRehearsals::on_runtime_upgrade();
			assert_eq!(Rehearsals::get(), 1);
			CountRehearsals::on_runtime_upgrade();
			assert_eq!(Rehearsals::get(), 2);
		});
	}
}
