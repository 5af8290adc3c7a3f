//! Benchmarks of every call, each with its worst case: the longest names and URIs, the most
//! measurements, and for `match_orders` a dataset, every restriction set, a sponsor's signature,
//! and every order presigned and used up by the deal, so that each presignature's deposit is
//! returned (with database costs, that outweighs verifying a signature).

use super::*;
use alloc::{boxed::Box, format, vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		EnsureOrigin, Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::{
	traits::{Bounded, Saturating},
	Percent,
};

/// What the benchmarks need from the runtime: accounts that can sign orders.
pub trait BenchmarkHelper<AccountId, Signature> {
	/// A new account, different for every `seed`, whose key the benchmark can sign with.
	fn signer(seed: u32) -> AccountId;
	/// `signer`'s signature over `payload`.
	fn sign(signer: &AccountId, payload: &[u8]) -> Signature;
}

/// Signs with sr25519 keys generated in the benchmark's keystore.
pub struct Sr25519Signer;

/// The key type of the benchmark's order keys.
const BENCHMARK_KEY: sp_core::crypto::KeyTypeId = sp_core::crypto::KeyTypeId(*b"cmnb");

impl BenchmarkHelper<sp_runtime::AccountId32, sp_runtime::MultiSignature> for Sr25519Signer {
	fn signer(seed: u32) -> sp_runtime::AccountId32 {
		let seed = format!("//commons-benchmark-{seed}").into_bytes();
		sp_io::crypto::sr25519_generate(BENCHMARK_KEY, Some(seed)).into()
	}

	fn sign(signer: &sp_runtime::AccountId32, payload: &[u8]) -> sp_runtime::MultiSignature {
		let public = sp_core::sr25519::Public::from_raw(signer.clone().into());
		sp_io::crypto::sr25519_sign(BENCHMARK_KEY, &public, payload)
			.expect("the benchmark generated this key")
			.into()
	}
}

fn funded_signer<T: Config>(seed: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	funded::<T>(T::BenchmarkHelper::signer(seed))
}

/// `who`, with plenty to pay deposits, prices and stakes.
fn funded<T: Config>(who: T::AccountId) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let plenty = BalanceOf::<T>::max_value() / 1_000u32.into();
	T::Currency::set_balance(&who, plenty);
	who
}

/// The whitelisted caller, funded.
fn funded_caller<T: Config>() -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	funded::<T>(whitelisted_caller())
}

fn longest<S: Get<u32>>(byte: u8) -> BoundedVec<u8, S> {
	vec![byte; S::get() as usize].try_into().expect("exactly the bound")
}

fn most_measurements<T: Config>() -> BoundedVec<Measurement, T::MaxMeasurements> {
	vec![Measurement::Tdx([7; 48]); T::MaxMeasurements::get() as usize]
		.try_into()
		.expect("exactly the bound")
}

fn policy() -> PoolPolicy {
	PoolPolicy {
		worker_stake_ratio: Percent::from_percent(35),
		pool_owner_reward_ratio: Percent::from_percent(5),
	}
}

fn create_app_of<T: Config>(owner: &T::AccountId) -> AppId {
	let app = NextAppId::<T>::get();
	Apps::<T>::insert(
		app,
		App {
			owner: owner.clone(),
			name: longest(b'a'),
			uri: longest(b'u'),
			checksum: [1; 32],
			measurements: most_measurements::<T>(),
			kind: AppKind::Wasi,
		},
	);
	NextAppId::<T>::put(app + 1);
	app
}

fn create_dataset_of<T: Config>(owner: &T::AccountId) -> DatasetId {
	let dataset = NextDatasetId::<T>::get();
	Datasets::<T>::insert(
		dataset,
		Dataset {
			owner: owner.clone(),
			name: longest(b'd'),
			uri: longest(b'u'),
			checksum: [2; 32],
			encrypted: true,
		},
	);
	NextDatasetId::<T>::put(dataset + 1);
	dataset
}

fn create_pool_of<T: Config>(owner: &T::AccountId, open: bool) -> WorkerpoolId {
	let workerpool = NextWorkerpoolId::<T>::get();
	Workerpools::<T>::insert(
		workerpool,
		Workerpool {
			owner: owner.clone(),
			description: longest(b'p'),
			policy: policy(),
			scheduler_key: owner.clone(),
			open,
		},
	);
	NextWorkerpoolId::<T>::put(workerpool + 1);
	workerpool
}

fn category<T: Config>() -> CategoryId {
	Pallet::<T>::insert_category(longest(b'c'), 300).expect("categories are not exhausted")
}

fn join<T: Config>(worker: &T::AccountId, workerpool: WorkerpoolId) {
	Pallet::<T>::join_workerpool(
		RawOrigin::Signed(worker.clone()).into(),
		workerpool,
		longest(b'e'),
		0,
	)
	.expect("the pool is open and not full");
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_app() {
		let owner = funded_caller::<T>();
		#[extrinsic_call]
		_(
			RawOrigin::Signed(owner.clone()),
			longest(b'a'),
			longest(b'u'),
			[1; 32],
			most_measurements::<T>(),
			AppKind::Wasi,
		);
		assert_eq!(Apps::<T>::get(0).map(|app| app.owner), Some(owner));
	}

	#[benchmark]
	fn transfer_app() {
		let owner: T::AccountId = whitelisted_caller();
		let app = create_app_of::<T>(&owner);
		let to: T::AccountId = account("to", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), app, to.clone());
		assert_eq!(Apps::<T>::get(app).map(|app| app.owner), Some(to));
	}

	#[benchmark]
	fn create_dataset() {
		let owner = funded_caller::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), longest(b'd'), longest(b'u'), [2; 32], true);
		assert_eq!(Datasets::<T>::get(0).map(|dataset| dataset.owner), Some(owner));
	}

	#[benchmark]
	fn transfer_dataset() {
		let owner: T::AccountId = whitelisted_caller();
		let dataset = create_dataset_of::<T>(&owner);
		let to: T::AccountId = account("to", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), dataset, to.clone());
		assert_eq!(Datasets::<T>::get(dataset).map(|dataset| dataset.owner), Some(to));
	}

	#[benchmark]
	fn create_workerpool() {
		let owner = funded_caller::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(owner.clone()), longest(b'p'), policy(), owner.clone(), true);
		assert_eq!(Workerpools::<T>::get(0).map(|pool| pool.owner), Some(owner));
	}

	#[benchmark]
	fn transfer_workerpool() {
		let owner: T::AccountId = whitelisted_caller();
		let workerpool = create_pool_of::<T>(&owner, true);
		let to: T::AccountId = account("to", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, to.clone());
		assert_eq!(Workerpools::<T>::get(workerpool).map(|pool| pool.owner), Some(to));
	}

	#[benchmark]
	fn set_workerpool_policy() {
		let owner: T::AccountId = whitelisted_caller();
		let workerpool = create_pool_of::<T>(&owner, true);
		let new = PoolPolicy {
			worker_stake_ratio: Percent::from_percent(1),
			pool_owner_reward_ratio: Percent::from_percent(1),
		};
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, new);
		assert_eq!(Workerpools::<T>::get(workerpool).map(|pool| pool.policy), Some(new));
	}

	#[benchmark]
	fn set_scheduler() {
		let owner: T::AccountId = whitelisted_caller();
		let workerpool = create_pool_of::<T>(&owner, true);
		let scheduler: T::AccountId = account("scheduler", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, scheduler.clone());
		assert_eq!(
			Workerpools::<T>::get(workerpool).map(|pool| pool.scheduler_key),
			Some(scheduler)
		);
	}

	#[benchmark]
	fn accept_scheduling() {
		let owner: T::AccountId = whitelisted_caller();
		let workerpool = create_pool_of::<T>(&owner, true);
		let scheduler: T::AccountId = account("scheduler", 0, 0);
		Workerpools::<T>::mutate(workerpool, |pool| {
			pool.as_mut().expect("just created").scheduler_key = scheduler.clone()
		});
		#[extrinsic_call]
		_(RawOrigin::Signed(scheduler.clone()), workerpool);
		assert_eq!(Pallet::<T>::active_scheduler(workerpool), Some(scheduler));
	}

	#[benchmark]
	fn set_workerpool_access() {
		let owner: T::AccountId = whitelisted_caller();
		let workerpool = create_pool_of::<T>(&owner, true);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, false);
		assert_eq!(Workerpools::<T>::get(workerpool).map(|pool| pool.open), Some(false));
	}

	#[benchmark]
	fn allow_worker() {
		let owner = funded_caller::<T>();
		let workerpool = create_pool_of::<T>(&owner, false);
		let worker: T::AccountId = account("worker", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, worker.clone());
		assert!(AllowedWorkers::<T>::contains_key(workerpool, worker));
	}

	#[benchmark]
	fn disallow_worker() {
		let owner = funded_caller::<T>();
		let workerpool = create_pool_of::<T>(&owner, false);
		let worker: T::AccountId = account("worker", 0, 0);
		Pallet::<T>::allow_worker(
			RawOrigin::Signed(owner.clone()).into(),
			workerpool,
			worker.clone(),
		)
		.expect("the owner can pay the deposit");
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, worker.clone());
		assert!(!AllowedWorkers::<T>::contains_key(workerpool, worker));
	}

	/// The worst case is a closed pool, where the allowlist is read too.
	#[benchmark]
	fn join_workerpool() {
		let owner: T::AccountId = account("owner", 0, 0);
		let workerpool = create_pool_of::<T>(&owner, false);
		let worker: T::AccountId = whitelisted_caller();
		AllowedWorkers::<T>::insert(workerpool, &worker, ());
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), workerpool, longest(b'e'), tag::TEE | tag::TDX);
		assert!(PoolMembers::<T>::contains_key(workerpool, worker));
	}

	#[benchmark]
	fn leave_workerpool() {
		let owner: T::AccountId = account("owner", 0, 0);
		let workerpool = create_pool_of::<T>(&owner, true);
		let worker: T::AccountId = whitelisted_caller();
		join::<T>(&worker, workerpool);
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()));
		assert!(!PoolMembers::<T>::contains_key(workerpool, worker));
	}

	#[benchmark]
	fn remove_worker() {
		let owner: T::AccountId = whitelisted_caller();
		let workerpool = create_pool_of::<T>(&owner, true);
		let worker: T::AccountId = account("worker", 0, 0);
		join::<T>(&worker, workerpool);
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), workerpool, worker.clone());
		assert!(!PoolMembers::<T>::contains_key(workerpool, worker));
	}

	#[benchmark]
	fn heartbeat() {
		let owner: T::AccountId = account("owner", 0, 0);
		let workerpool = create_pool_of::<T>(&owner, true);
		let worker: T::AccountId = whitelisted_caller();
		join::<T>(&worker, workerpool);
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()));
		assert_eq!(
			PoolMembers::<T>::get(workerpool, worker).map(|member| member.last_heartbeat),
			Some(10u32.into())
		);
	}

	#[benchmark]
	fn create_category() -> Result<(), BenchmarkError> {
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		let first = NextCategoryId::<T>::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, longest(b'c'), 36_000);
		assert!(Categories::<T>::contains_key(first));
		Ok(())
	}

	/// The worst case is a request order with the longest params.
	#[benchmark]
	fn presign_order() {
		let requester = funded_caller::<T>();
		let order = Order::Request(request_with_everything::<T>(&requester, 0, 0, None, 1));
		let hash = Pallet::<T>::any_order_hash(&order);
		#[extrinsic_call]
		_(RawOrigin::Signed(requester.clone()), order);
		assert_eq!(Presigned::<T>::get(hash), Some(requester));
	}

	/// The worst case is a presigned order, whose deposit is returned.
	#[benchmark]
	fn cancel_order() {
		let requester = funded_caller::<T>();
		let order = Order::Request(request_with_everything::<T>(&requester, 0, 0, None, 5));
		let hash = Pallet::<T>::any_order_hash(&order);
		Pallet::<T>::presign_order(RawOrigin::Signed(requester.clone()).into(), order.clone())
			.expect("the requester can pay the deposit");
		#[extrinsic_call]
		_(RawOrigin::Signed(requester), order);
		assert_eq!(Consumed::<T>::get(hash), 5);
		assert!(!Presigned::<T>::contains_key(hash));
	}

	/// The worst case is the longest app, with a deposit.
	#[benchmark]
	fn remove_app() {
		let owner = funded_caller::<T>();
		Pallet::<T>::create_app(
			RawOrigin::Signed(owner.clone()).into(),
			longest(b'a'),
			longest(b'u'),
			[1; 32],
			most_measurements::<T>(),
			AppKind::Wasi,
		)
		.expect("the owner can pay the deposit");
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);
		assert!(!Apps::<T>::contains_key(0));
	}

	#[benchmark]
	fn remove_dataset() {
		let owner = funded_caller::<T>();
		Pallet::<T>::create_dataset(
			RawOrigin::Signed(owner.clone()).into(),
			longest(b'd'),
			longest(b'u'),
			[2; 32],
			true,
		)
		.expect("the owner can pay the deposit");
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);
		assert!(!Datasets::<T>::contains_key(0));
	}

	#[benchmark]
	fn remove_workerpool() {
		let owner = funded_caller::<T>();
		Pallet::<T>::create_workerpool(
			RawOrigin::Signed(owner.clone()).into(),
			longest(b'p'),
			policy(),
			owner.clone(),
			false,
		)
		.expect("the owner can pay the deposit");
		#[extrinsic_call]
		_(RawOrigin::Signed(owner), 0);
		assert!(!Workerpools::<T>::contains_key(0));
	}

	/// One expired presigned order whose records are removed and deposit returned.
	#[benchmark]
	fn prune_expired_order() {
		let requester = funded_caller::<T>();
		let order = Order::Request(request_with_everything::<T>(&requester, 0, 0, None, 5));
		let hash = Pallet::<T>::any_order_hash(&order);
		Pallet::<T>::presign_order(RawOrigin::Signed(requester).into(), order)
			.expect("the requester can pay the deposit");
		Consumed::<T>::insert(hash, 1);
		let expiry: BlockNumberFor<T> = 1_000u32.into();
		OrderPruneCursor::<T>::put(expiry);
		let now = expiry + 1u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Pallet::<T>::prune_expired_orders(now, frame_support::weights::Weight::MAX);
		}
		assert!(!Presigned::<T>::contains_key(hash));
		assert!(!Consumed::<T>::contains_key(hash));
	}

	#[benchmark]
	fn match_orders() {
		let app_owner = funded_signer::<T>(1);
		let dataset_owner = funded_signer::<T>(2);
		let pool_owner = funded_signer::<T>(3);
		let requester = funded_signer::<T>(4);
		let sponsor = funded_signer::<T>(5);
		let app = create_app_of::<T>(&app_owner);
		let dataset = create_dataset_of::<T>(&dataset_owner);
		let workerpool = create_pool_of::<T>(&pool_owner, true);
		let category = category::<T>();
		// A price every payee can receive: the existential deposit, or more.
		let price: BalanceOf<T> = T::Currency::minimum_balance().max(1_000_000u32.into());
		let volume = 100;
		let requester_restriction = Restriction::Only(requester.clone());

		let app_order = AppOrder::<T> {
			app,
			price,
			volume,
			tag: tag::TEE,
			dataset_restriction: Restriction::Only(dataset),
			workerpool_restriction: Restriction::Only(workerpool),
			requester_restriction: requester_restriction.clone(),
			salt: [1; 32],
			expiry: Some(1_000u32.into()),
		};
		let dataset_order = DatasetOrder::<T> {
			dataset,
			price,
			volume,
			tag: tag::TEE | tag::TDX,
			app_restriction: Restriction::Only(app),
			workerpool_restriction: Restriction::Only(workerpool),
			requester_restriction: requester_restriction.clone(),
			salt: [2; 32],
			expiry: Some(1_000u32.into()),
		};
		let pool_order = WorkerpoolOrder::<T> {
			workerpool,
			price,
			volume,
			tag: tag::TEE | tag::TDX | tag::GPU,
			category,
			trust: 100,
			app_restriction: Restriction::Only(app),
			dataset_restriction: Restriction::Only(dataset),
			requester_restriction,
			salt: [3; 32],
			expiry: Some(1_000u32.into()),
		};
		let request = request_with_everything::<T>(
			&requester,
			app,
			category,
			Some((dataset, workerpool, price, sponsor.clone())),
			volume,
		);
		let presign = |owner: &T::AccountId, order: Order<T>| {
			Pallet::<T>::presign_order(RawOrigin::Signed(owner.clone()).into(), order)
				.expect("every owner can pay the deposit");
		};
		presign(&app_owner, Order::App(app_order.clone()));
		presign(&dataset_owner, Order::Dataset(dataset_order.clone()));
		presign(&pool_owner, Order::Workerpool(pool_order.clone()));
		presign(&requester, Order::Request(request.clone()));
		// The dataset is encrypted: its beneficiary must have a result key.
		ResultEncryptionKeys::<T>::insert(&requester, [9u8; 32]);
		let sponsor_signature =
			Some(T::BenchmarkHelper::sign(&sponsor, &Pallet::<T>::sponsorship_payload(&request)));
		let app_signed = Signed { signature: None, order: app_order };
		let dataset_signed = Signed { signature: None, order: dataset_order };
		let pool_signed = Signed { signature: None, order: pool_order };
		let request_signed = Signed { signature: None, order: request };
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller),
			app_signed,
			Some(dataset_signed),
			pool_signed,
			Box::new(request_signed),
			sponsor_signature,
		);

		assert_eq!(Deals::<T>::iter().count(), 1);
		assert_eq!(Presigned::<T>::iter().count(), 0);
	}

	/// Replacing a key: the same one write as setting the first.
	#[benchmark]
	fn set_result_encryption_key() {
		let caller: T::AccountId = whitelisted_caller();
		ResultEncryptionKeys::<T>::insert(&caller, [8u8; 32]);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), Some([9; 32]));
		assert_eq!(ResultEncryptionKeys::<T>::get(caller), Some([9; 32]));
	}

	/// What a node spends on one order book query that reads `n` listings of one market, up
	/// to the most one call reads. Each is skipped after the most reads a skipped listing costs
	/// (its order, its presignature and what it sells, whose owner has changed); an answered
	/// one reads its consumed volume instead of being skipped. No call pays this weight: it is
	/// the cost of a client's `MarketplaceApi_order_book` call.
	#[benchmark]
	fn order_book_scan(n: Linear<1, { crate::book::MAX_BOOK_SCAN }>) {
		let owner = funded_caller::<T>();
		let app = create_app_of::<T>(&owner);
		let price: BalanceOf<T> = T::Currency::minimum_balance();
		for index in 0..n {
			let order = AppOrder::<T> {
				app,
				// Listed in the reverse of their price order: the book sorts them.
				price: price.saturating_mul((n - index).into()),
				volume: 1,
				tag: 0,
				dataset_restriction: Restriction::Any,
				workerpool_restriction: Restriction::Any,
				requester_restriction: Restriction::Any,
				salt: sp_io::hashing::blake2_256(&index.encode()),
				expiry: Some(1_000u32.into()),
			};
			Pallet::<T>::presign_order(RawOrigin::Signed(owner.clone()).into(), Order::App(order))
				.expect("the owner can pay the deposits");
		}
		Apps::<T>::mutate(app, |listed| {
			if let Some(listed) = listed {
				listed.owner = funded_signer::<T>(1);
			}
		});
		#[block]
		{
			Pallet::<T>::order_book(Market::App(app), 0, None, crate::book::MAX_BOOK_PAGE);
		}
		let page = Pallet::<T>::order_book(Market::App(app), 0, None, crate::book::MAX_BOOK_PAGE);
		assert!(page.entries.is_empty(), "the app's new owner presigned none of its orders");
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}

/// A request with the longest params, every restriction, and, given `(dataset, workerpool,
/// price, sponsor)`, a dataset, a pool restriction, caps and a sponsor.
fn request_with_everything<T: Config>(
	requester: &T::AccountId,
	app: AppId,
	category: CategoryId,
	market: Option<(DatasetId, WorkerpoolId, BalanceOf<T>, T::AccountId)>,
	volume: u32,
) -> RequestOrder<T> {
	let (dataset, workerpool_restriction, cap, payer) = match market {
		Some((dataset, workerpool, price, sponsor)) => {
			(Some(dataset), Restriction::Only(workerpool), price, Payer::Sponsor(sponsor))
		}
		None => (None, Restriction::Any, BalanceOf::<T>::max_value(), Payer::Requester),
	};
	RequestOrder {
		app,
		app_max_price: cap,
		dataset,
		dataset_max_price: cap,
		workerpool_restriction,
		workerpool_max_price: cap,
		requester: requester.clone(),
		volume,
		tag: tag::GPU,
		category,
		trust: 100,
		beneficiary: requester.clone(),
		params: longest(b'x'),
		payer,
		salt: [4; 32],
		expiry: Some(1_000u32.into()),
	}
}
