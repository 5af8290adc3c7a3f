//! Weights of `pallet_protocol_parameters`: PROVISIONAL, not measured. `set_parameter` reads and
//! writes one small value and deposits an event; the base time is above what the escrow's and
//! marketplace's measured calls of the same shape take. Replace them with
//! `scripts/benchmark.sh protocol_parameters runtime/src/parameters/weights.rs`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// The weight of each call of `pallet_protocol_parameters`.
pub trait WeightInfo {
	/// The weight of `set_parameter`, measured by its benchmark.
	fn set_parameter() -> Weight;
}

/// Measured weights, with database access priced by the runtime's `DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn set_parameter() -> Weight {
		Weight::from_parts(15_000_000, 1600)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

/// The same weights with database access priced for ParityDB, for tests.
impl WeightInfo for () {
	fn set_parameter() -> Weight {
		Weight::from_parts(15_000_000, 1600)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
}
