//! Weights of `pallet_validators`: PROVISIONAL, not measured. Each counts the storage its call
//! touches at its worst case (a full set, every member's keys read on a removal) and a base time
//! above what the escrow's and marketplace's measured calls of the same shape take. Replace them
//! with `scripts/benchmark.sh validators`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]

use core::marker::PhantomData;
use frame_support::{traits::Get, weights::{constants::ParityDbWeight, Weight}};

/// The weight of each call of `pallet_validators`.
pub trait WeightInfo {
	/// The weight of `add_validator`, measured by its benchmark.
	fn add_validator() -> Weight;
	/// The weight of `remove_validator`, measured by its benchmark.
	fn remove_validator() -> Weight;
	/// The weight of `set_session_length`, measured by its benchmark.
	fn set_session_length() -> Weight;
	/// The weight of `note_author`, measured by its benchmark.
	fn note_author() -> Weight;
}

/// Measured weights, with database access priced by the runtime's `DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn add_validator() -> Weight {
		Weight::from_parts(30_000_000, 4000)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	fn remove_validator() -> Weight {
		Weight::from_parts(40_000_000, 40000)
			.saturating_add(T::DbWeight::get().reads(33_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	fn set_session_length() -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	fn note_author() -> Weight {
		Weight::from_parts(10_000_000, 2000)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

/// The same weights with ParityDB's costs, for tests and mocks without a runtime `DbWeight`.
impl WeightInfo for () {
	fn add_validator() -> Weight {
		Weight::from_parts(30_000_000, 4000)
			.saturating_add(ParityDbWeight::get().reads(2_u64))
			.saturating_add(ParityDbWeight::get().writes(2_u64))
	}
	fn remove_validator() -> Weight {
		Weight::from_parts(40_000_000, 40000)
			.saturating_add(ParityDbWeight::get().reads(33_u64))
			.saturating_add(ParityDbWeight::get().writes(3_u64))
	}
	fn set_session_length() -> Weight {
		Weight::from_parts(10_000_000, 0)
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
	fn note_author() -> Weight {
		Weight::from_parts(10_000_000, 2000)
			.saturating_add(ParityDbWeight::get().reads(1_u64))
			.saturating_add(ParityDbWeight::get().writes(1_u64))
	}
}
