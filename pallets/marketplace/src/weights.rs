//! PROVISIONAL: replaced by `commons-node benchmark pallet` output before this pallet lands.

use core::marker::PhantomData;
use frame_support::weights::Weight;

pub trait WeightInfo {
	fn create_app() -> Weight;
	fn transfer_app() -> Weight;
	fn create_dataset() -> Weight;
	fn transfer_dataset() -> Weight;
	fn create_workerpool() -> Weight;
	fn transfer_workerpool() -> Weight;
	fn set_workerpool_policy() -> Weight;
	fn set_scheduler() -> Weight;
	fn set_workerpool_access() -> Weight;
	fn allow_worker() -> Weight;
	fn disallow_worker() -> Weight;
	fn join_workerpool() -> Weight;
	fn leave_workerpool() -> Weight;
	fn remove_worker() -> Weight;
	fn heartbeat() -> Weight;
	fn create_category() -> Weight;
	fn presign_order() -> Weight;
	fn cancel_order() -> Weight;
	fn match_orders() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn create_app() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn transfer_app() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn create_dataset() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn transfer_dataset() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn create_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn transfer_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn set_workerpool_policy() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn set_scheduler() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn set_workerpool_access() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn allow_worker() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn disallow_worker() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn join_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn leave_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn remove_worker() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn create_category() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn presign_order() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn cancel_order() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn match_orders() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
}

impl WeightInfo for () {
	fn create_app() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn transfer_app() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn create_dataset() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn transfer_dataset() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn create_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn transfer_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn set_workerpool_policy() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn set_scheduler() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn set_workerpool_access() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn allow_worker() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn disallow_worker() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn join_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn leave_workerpool() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn remove_worker() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn heartbeat() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn create_category() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn presign_order() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn cancel_order() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
	fn match_orders() -> Weight {
		Weight::from_parts(1_000_000_000, 10_000)
	}
}
