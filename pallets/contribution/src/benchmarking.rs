//! Benchmarks of every call and of the idle sweep per task, each at its worst case: the most
//! contributors the runtime allows, a dataset to pay, and the vote reaching consensus in the
//! measured call.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::traits::fungible::Mutate;
use frame_system::RawOrigin;
use pallet_escrow::{Escrow, Purpose};
use pallet_marketplace::{
	tag, App, Categories, Membership, PoolMembers, PoolPolicy, Purchase, Workerpool, WorkerpoolId,
	Workerpools,
};
use sp_runtime::{traits::Bounded, Percent};

/// The workerpool the benchmarks create, out of the way of any the chain has.
const POOL: WorkerpoolId = u32::MAX / 2;

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId
where
	T::Currency: Mutate<T::AccountId>,
{
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1_000_000u32.into());
	who
}

/// A trust-1 deal in a TEE (`tee` = 1) or not, buying a dataset (`dataset` = 1) or not, with
/// `n` tasks assigned to one worker and one more unless the batch is to close it (`closes` = 1),
/// and that worker's results for the `n`.
#[allow(clippy::type_complexity)]
fn batch_of_results<T: Config>(
	tee: u32,
	dataset: u32,
	n: u32,
	closes: u32,
) -> (Setup<T>, T::AccountId, BoundedVec<SingleResult<T>, T::MaxInitializeBatch>)
where
	T::Currency: Mutate<T::AccountId>,
{
	let setup = Setup::<T>::of_kind(tee, dataset, n + 1 - closes);
	let worker = setup.workers[0].clone();
	let results: Vec<_> = (0..n)
		.map(|index| {
			let task = setup.assigned(index, 1);
			let (hash, seal) = Pallet::<T>::result_hash_and_seal(&task, &worker, &digest_of(1));
			SingleResult {
				index,
				digest: digest_of(1),
				location: longest_location::<T>(),
				enclave_signature: setup.signature(task, &worker, hash, seal),
			}
		})
		.collect();
	(setup, worker, results.try_into().expect("at most the bound"))
}

/// A live deal of `volume` tasks at `trust`, its funds locked as a match would lock them, with a
/// pool of `MaxContributors` workers.
struct Setup<T: Config> {
	deal: DealId,
	scheduler: T::AccountId,
	workers: Vec<T::AccountId>,
}

impl<T: Config> Setup<T>
where
	T::Currency: Mutate<T::AccountId>,
{
	fn new(trust: u32, volume: u32) -> Self {
		Self::with_tag(trust, volume, 0, true)
	}

	/// A TEE deal whose app allows the most measurements, every worker attested with the last
	/// of them: the costliest enclave checks.
	fn confidential(trust: u32, volume: u32) -> Self {
		Self::confidential_buying(trust, volume, true)
	}

	/// A deal of a trust-1 task or more, in a TEE (`tee` = 1) or not, buying a dataset
	/// (`dataset` = 1) or not: the cases a call is charged by.
	fn of_kind(tee: u32, dataset: u32, volume: u32) -> Self {
		if tee == 1 {
			Self::confidential_buying(1, volume, dataset == 1)
		} else {
			Self::with_tag(1, volume, 0, dataset == 1)
		}
	}

	fn confidential_buying(trust: u32, volume: u32, dataset: bool) -> Self {
		let setup = Self::with_tag(trust, volume, tag::TEE | tag::SGX, dataset);
		let deal = Deals::<T>::get(setup.deal).expect("just made");
		let measurements: Vec<_> = (0..<T as pallet_marketplace::Config>::MaxMeasurements::get())
			.map(|index| pallet_marketplace::Measurement::SgxMrEnclave([index as u8; 32]))
			.collect();
		let allowed = *measurements.last().expect("a TEE app allows a measurement");
		pallet_marketplace::Apps::<T>::mutate(deal.app.id, |app| {
			app.as_mut().expect("just made").measurements =
				measurements.try_into().expect("the bound");
		});
		for (index, worker) in setup.workers.iter().enumerate() {
			PoolMembers::<T>::mutate(POOL, worker, |membership| {
				membership.as_mut().expect("a member").capabilities = deal.tag;
			});
			T::Enclaves::attest_for_benchmark(worker, allowed, [index as u8; 32]);
		}
		setup
	}

	/// The app, the dataset (if the deal buys one) and the pool have three different owners:
	/// settling a task pays each on its own account, the costliest case.
	fn with_tag(trust: u32, volume: u32, deal_tag: pallet_marketplace::Tag, dataset: bool) -> Self {
		let app_owner = funded::<T>("app owner", 0);
		let dataset_owner = funded::<T>("dataset owner", 0);
		let pool_owner = funded::<T>("pool owner", 0);
		let requester = funded::<T>("requester", 0);
		let scheduler = funded::<T>("scheduler", 0);
		let price: BalanceOf<T> = 1_000_000_000u32.into();
		let app = pallet_marketplace::NextAppId::<T>::get();
		pallet_marketplace::Apps::<T>::insert(
			app,
			App {
				owner: app_owner.clone(),
				name: Default::default(),
				uri: Default::default(),
				checksum: [0; 32],
				measurements: Default::default(),
				kind: Default::default(),
			},
		);
		let policy = PoolPolicy {
			worker_stake_ratio: Percent::from_percent(35),
			pool_owner_reward_ratio: Percent::from_percent(5),
		};
		Workerpools::<T>::insert(
			POOL,
			Workerpool {
				owner: pool_owner.clone(),
				description: Default::default(),
				policy,
				scheduler_key: scheduler.clone(),
				open: true,
			},
		);
		pallet_marketplace::SchedulerAccepted::<T>::insert(POOL, &scheduler);
		// Twice the most a task may have: those that replace silent ones are others.
		let workers: Vec<_> = (0..<T as Config>::MaxContributors::get() * 2)
			.map(|index| {
				let worker = funded::<T>("worker", index);
				PoolMembers::<T>::insert(
					POOL,
					&worker,
					Membership {
						workerpool: POOL,
						endpoint: Default::default(),
						capabilities: 0,
						last_heartbeat: Zero::zero(),
					},
				);
				worker
			})
			.collect();
		let category = Categories::<T>::iter_keys().next().expect("the chain has a category");

		let deal = Deal::<T> {
			app: Purchase { id: app, owner: app_owner, price },
			dataset: dataset.then(|| Purchase { id: 0, owner: dataset_owner, price }),
			workerpool: Purchase { id: POOL, owner: pool_owner, price },
			requester: requester.clone(),
			payer: requester.clone(),
			beneficiary: requester,
			category,
			trust,
			tag: deal_tag,
			params: Default::default(),
			start: frame_system::Pallet::<T>::block_number(),
			first_task: 0,
			volume,
			worker_stake: policy.worker_stake_ratio.mul_floor(price),
			pool_owner_stake: Percent::from_percent(30).mul_floor(price),
			pool_owner_reward_ratio: policy.pool_owner_reward_ratio,
			unsettled: volume,
		};
		let id = DealId::repeat_byte(0xde);
		Self::make_deal(id, deal);
		Self { deal: id, scheduler, workers }
	}

	/// Another live deal like this one, the `copy`th, with its own funds locked.
	fn copy_of_deal(&self, copy: u32) -> DealId {
		let mut id = [0xdf; 32];
		id[..4].copy_from_slice(&copy.to_le_bytes());
		let id = DealId::from(id);
		Self::make_deal(id, Deals::<T>::get(self.deal).expect("made by new"));
		id
	}

	/// Records `deal` as `id`, its funds locked, as a match does.
	fn make_deal(id: DealId, deal: Deal<T>) {
		let volume = BalanceOf::<T>::from(deal.volume);
		T::Escrow::lock(&deal.payer, Purpose::DealPayment, deal.task_price() * volume, id)
			.expect("funded");
		T::Escrow::lock(
			&deal.workerpool.owner,
			Purpose::PoolOwnerStake,
			deal.pool_owner_stake * volume,
			id,
		)
		.expect("funded");
		<Pallet<T> as pallet_marketplace::OnDealCreated<T>>::on_deal_created(&id, &deal);
		pallet_marketplace::Pallet::<T>::record_deal_use(&deal);
		Deals::<T>::insert(id, deal);
	}

	/// Initializes task `index` and assigns the first `count` workers to it.
	fn assigned(&self, index: u32, count: u32) -> TaskId {
		let task = self.opened(index);
		self.assign(task, count);
		task
	}

	/// Initializes task `index`.
	fn opened(&self, index: u32) -> TaskId {
		Pallet::<T>::do_initialize(self.deal, index).expect("a task of the deal");
		Pallet::<T>::task_id(&self.deal, index)
	}

	/// Assigns the first `count` workers to `task`.
	fn assign(&self, task: TaskId, count: u32) {
		let workers = self.workers[..count as usize].to_vec().try_into().expect("bounded");
		Pallet::<T>::assign(RawOrigin::Signed(self.scheduler.clone()).into(), task, workers)
			.expect("pool members");
	}

	/// At least `count` members of the pool, each able to serve the deal (in a TEE deal,
	/// attested with a measurement its app allows).
	fn with_members(mut self, count: u32) -> Self {
		let deal = Deals::<T>::get(self.deal).expect("made by new");
		let allowed = pallet_marketplace::Apps::<T>::get(deal.app.id)
			.and_then(|app| app.measurements.last().copied());
		for index in self.workers.len() as u32..count {
			let worker = funded::<T>("worker", index);
			PoolMembers::<T>::insert(
				POOL,
				&worker,
				Membership {
					workerpool: POOL,
					endpoint: Default::default(),
					capabilities: deal.tag,
					last_heartbeat: Zero::zero(),
				},
			);
			if let Some(measurement) = allowed {
				T::Enclaves::attest_for_benchmark(&worker, measurement, [index as u8; 32]);
			}
			self.workers.push(worker);
		}
		self
	}

	/// Tasks `0..n` of the deal, with `a` assignments among them: task `index` gets `a / n`
	/// workers, one more for the first `a % n`, taken in turn so that each assignment is of
	/// another member while there are members enough.
	fn openings(
		&self,
		n: u32,
		a: u32,
	) -> BoundedVec<(u32, BoundedVec<T::AccountId, T::MaxContributors>), T::MaxInitializeBatch> {
		let mut next = 0usize;
		(0..n)
			.map(|index| {
				let count = a / n + u32::from(index < a % n);
				let workers: Vec<_> = (0..count)
					.map(|_| {
						next += 1;
						self.workers[(next - 1) % self.workers.len()].clone()
					})
					.collect();
				(index, workers.try_into().expect("at most MaxContributors"))
			})
			.collect::<Vec<_>>()
			.try_into()
			.expect("at most a batch")
	}

	/// Checks that a batch settled its `n` tasks, and closed the deal if it was to (`closes`).
	fn check_batch_settled(&self, n: u32, closes: u32) {
		for index in 0..n {
			let task = Tasks::<T>::get(Pallet::<T>::task_id(&self.deal, index)).expect("kept");
			assert_eq!(task.status, TaskStatus::Completed);
		}
		assert_eq!(Deals::<T>::contains_key(self.deal), closes == 0);
	}

	/// Checks that `open_and_assign` opened all `n` tasks with `a` workers among them.
	fn check_opened(&self, n: u32, a: u32) {
		let assigned: u32 = (0..n)
			.map(|index| {
				let task = Tasks::<T>::get(Pallet::<T>::task_id(&self.deal, index)).expect("open");
				task.assigned.len() as u32
			})
			.sum();
		assert_eq!(assigned, a);
		assert!(!UnopenedTasks::<T>::contains_key(self.deal));
	}

	fn contribute(&self, task: TaskId, worker: u32, digest: ResultDigest) {
		let who = &self.workers[worker as usize];
		let (hash, seal) = Pallet::<T>::result_hash_and_seal(&task, who, &digest);
		let signature = self.signature(task, who, hash, seal);
		Pallet::<T>::contribute(RawOrigin::Signed(who.clone()).into(), task, hash, seal, signature)
			.expect("an assigned worker");
	}

	/// `who`'s enclave's signature over its vote, if the deal runs in a TEE.
	fn signature(
		&self,
		task: TaskId,
		who: &T::AccountId,
		hash: ResultHash,
		seal: ResultSeal,
	) -> Option<EnclaveSignature> {
		let deal = Deals::<T>::get(self.deal).expect("live");
		(deal.tag & tag::TEE != 0).then(|| {
			T::Enclaves::sign_for_benchmark(who, &Pallet::<T>::enclave_message(&task, &hash, &seal))
		})
	}

	fn reveal(&self, task: TaskId, worker: u32, digest: ResultDigest) {
		let who = self.workers[worker as usize].clone();
		Pallet::<T>::reveal(RawOrigin::Signed(who).into(), task, digest, longest_location::<T>())
			.expect("a winner");
	}
}

fn longest_location<T: Config>() -> BoundedVec<u8, T::MaxResultLocationLength> {
	vec![b'l'; T::MaxResultLocationLength::get() as usize]
		.try_into()
		.expect("the bound")
}

/// The trust at which `count` fresh workers agreeing reach consensus, and fewer do not (a lone
/// worker decides only at trust 1).
fn trust_for(count: u32) -> u32 {
	if count <= 1 {
		1
	} else {
		1u32 << count
	}
}

fn digest_of(byte: u8) -> ResultDigest {
	ResultDigest::repeat_byte(byte)
}

fn go_to<T: Config>(block: BlockNumberFor<T>) {
	frame_system::Pallet::<T>::set_block_number(block);
}

#[benchmarks(where T::Currency: Mutate<T::AccountId>)]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn initialize() {
		let setup = Setup::<T>::new(1, 1);
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), setup.deal, 0);

		assert!(Tasks::<T>::contains_key(Pallet::<T>::task_id(&setup.deal, 0)));
	}

	/// `n` tasks of `d` deals taken in turn: each deal and its count of unopened tasks is read
	/// and written once, however many of its tasks are opened. The ranges keep `d` at most `n`
	/// at every sample (the benchmark varies one component while the other is at its highest),
	/// so that the cost of a deal and the cost of a task are measured apart; the call is charged
	/// for a deal per task, the two slopes added.
	#[benchmark]
	fn initialize_batch(
		n: Linear<{ T::MaxInitializeBatch::get() / 2 }, { T::MaxInitializeBatch::get() }>,
		d: Linear<1, { T::MaxInitializeBatch::get() / 2 }>,
	) {
		let setup = Setup::<T>::new(1, n);
		let deals: Vec<DealId> = core::iter::once(setup.deal)
			.chain((1..d).map(|copy| setup.copy_of_deal(copy)))
			.collect();
		let tasks: BoundedVec<_, _> = (0..n)
			.map(|task| (deals[(task % d) as usize], task / d))
			.collect::<Vec<_>>()
			.try_into()
			.unwrap();
		let caller = funded::<T>("caller", 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), tasks);

		let last = n - 1;
		let deal = deals[(last % d) as usize];
		assert!(Tasks::<T>::contains_key(Pallet::<T>::task_id(&deal, last / d)));
	}

	/// `n` workers assigned to a TEE task where `s` silent workers hold places, so that the call
	/// also replaces them and expels each from the pool.
	#[benchmark]
	fn assign(
		n: Linear<1, { <T as Config>::MaxContributors::get() }>,
		s: Linear<0, { <T as Config>::MaxContributors::get() }>,
	) {
		let most = <T as Config>::MaxContributors::get();
		let setup = Setup::<T>::confidential(1, 1);
		let task = setup.opened(0);
		if s > 0 {
			setup.assign(task, s);
		}
		let entry = Tasks::<T>::get(task).unwrap();
		go_to::<T>(frame_system::Pallet::<T>::block_number() + entry.reference_time * 2u32.into());
		let fresh = &setup.workers[most as usize..(most + n) as usize];
		let workers: BoundedVec<_, _> = fresh.to_vec().try_into().unwrap();

		#[extrinsic_call]
		_(RawOrigin::Signed(setup.scheduler.clone()), task, workers);

		assert_eq!(Tasks::<T>::get(task).unwrap().assigned.len() as u32, n);
		assert_eq!(PoolMembers::<T>::contains_key(POOL, &setup.workers[0]), s == 0);
	}

	/// The last of the most contributors to a TEE task, whose vote reaches consensus.
	#[benchmark]
	fn contribute() {
		let most = <T as Config>::MaxContributors::get();
		let setup = Setup::<T>::confidential(trust_for(most), 1);
		let task = setup.assigned(0, most);
		for worker in 0..most - 1 {
			setup.contribute(task, worker, digest_of(1));
		}
		let last = setup.workers[most as usize - 1].clone();
		let (hash, seal) = Pallet::<T>::result_hash_and_seal(&task, &last, &digest_of(1));
		let signature = setup.signature(task, &last, hash, seal);

		#[extrinsic_call]
		_(RawOrigin::Signed(last), task, hash, seal, signature);

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Revealing);
	}

	/// A reveal that does not finalize: the first of the most winners.
	#[benchmark]
	fn reveal() {
		let most = <T as Config>::MaxContributors::get();
		let setup = Setup::<T>::new(trust_for(most), 1);
		let task = setup.assigned(0, most);
		for worker in 0..most {
			setup.contribute(task, worker, digest_of(1));
		}
		let first = setup.workers[0].clone();

		#[extrinsic_call]
		_(RawOrigin::Signed(first), task, digest_of(1), longest_location::<T>());

		assert_eq!(Tasks::<T>::get(task).unwrap().reveals, 1);
	}

	/// The last of `c` winners reveals and the task is finalized and paid out.
	#[benchmark]
	fn reveal_finalizing(c: Linear<1, { <T as Config>::MaxContributors::get() }>) {
		let setup = Setup::<T>::new(trust_for(c), 1);
		let task = setup.assigned(0, c);
		for worker in 0..c {
			setup.contribute(task, worker, digest_of(1));
		}
		for worker in 0..c - 1 {
			setup.reveal(task, worker, digest_of(1));
		}
		let last = setup.workers[c as usize - 1].clone();

		#[block]
		{
			Pallet::<T>::reveal(
				RawOrigin::Signed(last).into(),
				task,
				digest_of(1),
				longest_location::<T>(),
			)
			.unwrap();
		}

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Completed);
	}

	/// All but one of `c` winners revealed (with all of them, the last reveal would have
	/// finalized): each revealer is paid and scored, the silent one loses its stake to them.
	#[benchmark]
	fn finalize(c: Linear<2, { <T as Config>::MaxContributors::get() }>) {
		let setup = Setup::<T>::new(trust_for(c), 1);
		let task = setup.assigned(0, c);
		for worker in 0..c {
			setup.contribute(task, worker, digest_of(1));
		}
		for worker in 0..c - 1 {
			setup.reveal(task, worker, digest_of(1));
		}
		go_to::<T>(Tasks::<T>::get(task).unwrap().reveal_deadline.unwrap());
		let caller = funded::<T>("caller", 0);

		#[block]
		{
			Pallet::<T>::finalize(RawOrigin::Signed(caller).into(), task).unwrap();
		}

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Completed);
	}

	#[benchmark]
	fn reopen(c: Linear<1, { <T as Config>::MaxContributors::get() }>) {
		let setup = Setup::<T>::new(trust_for(c), 1);
		let task = setup.assigned(0, c);
		for worker in 0..c {
			setup.contribute(task, worker, digest_of(1));
		}
		go_to::<T>(Tasks::<T>::get(task).unwrap().reveal_deadline.unwrap());

		#[block]
		{
			Pallet::<T>::reopen(RawOrigin::Signed(setup.scheduler.clone()).into(), task).unwrap();
		}

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Active);
	}

	/// A trust-1 task's worker contributes and finalizes it: in a TEE deal (`t` = 1) with its
	/// enclave's signature, for a deal that bought a dataset (`d` = 1, its owner is paid), the
	/// deal's last task (`c` = 1, the deal closes) or one of two. The proof-size regression over
	/// three yes-or-no components gives a base of gigabytes, whether proofs are estimated or
	/// measured: it is not a proof size. It costs nothing here (the chain bounds no proof size,
	/// fees count time), and the time and the storage accesses it fits are sound.
	#[benchmark(pov_mode = Measured)]
	fn contribute_and_finalize(t: Linear<0, 1>, d: Linear<0, 1>, c: Linear<0, 1>) {
		let setup = Setup::<T>::of_kind(t, d, 2 - c);
		let task = setup.assigned(0, 1);
		let worker = setup.workers[0].clone();
		let (hash, seal) = Pallet::<T>::result_hash_and_seal(&task, &worker, &digest_of(1));
		let signature = setup.signature(task, &worker, hash, seal);

		#[extrinsic_call]
		_(RawOrigin::Signed(worker), task, digest_of(1), longest_location::<T>(), signature);

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Completed);
		assert_eq!(Deals::<T>::contains_key(setup.deal), c == 0);
	}

	/// A worker settles `n` trust-1 tasks of a deal outside a TEE in one call, the deal buying
	/// a dataset (`d`) or not, the batch closing the deal (`c`) or not.
	#[benchmark]
	fn contribute_and_finalize_batch(
		n: Linear<1, { T::MaxInitializeBatch::get() }>,
		d: Linear<0, 1>,
		c: Linear<0, 1>,
	) {
		let (setup, worker, results) = batch_of_results::<T>(0, d, n, c);

		#[extrinsic_call]
		_(RawOrigin::Signed(worker), setup.deal, results);

		setup.check_batch_settled(n, c);
	}

	/// As `contribute_and_finalize_batch`, in a TEE deal: each result's enclave signature is
	/// checked.
	#[benchmark]
	fn contribute_and_finalize_batch_in_tee(
		n: Linear<1, { T::MaxInitializeBatch::get() }>,
		d: Linear<0, 1>,
		c: Linear<0, 1>,
	) {
		let (setup, worker, results) = batch_of_results::<T>(1, d, n, c);

		#[block]
		{
			Pallet::<T>::contribute_and_finalize_batch(
				RawOrigin::Signed(worker).into(),
				setup.deal,
				results,
			)
			.unwrap();
		}

		setup.check_batch_settled(n, c);
	}

	/// A scheduler opens `n` tasks of a deal outside a TEE and assigns `a` workers among them, as
	/// evenly as they go, each a different member (read on its own). The ranges keep `a` within
	/// what `n` tasks may hold at every sample (the benchmark varies one component while the
	/// others are at their highest).
	#[benchmark]
	fn open_and_assign(
		n: Linear<{ T::MaxInitializeBatch::get() / 2 }, { T::MaxInitializeBatch::get() }>,
		a: Linear<0, { T::MaxInitializeBatch::get() / 2 * <T as Config>::MaxContributors::get() }>,
	) {
		let setup = Setup::<T>::of_kind(0, 1, n).with_members(a);
		let tasks = setup.openings(n, a);

		#[extrinsic_call]
		open_and_assign(RawOrigin::Signed(setup.scheduler.clone()), setup.deal, tasks);

		setup.check_opened(n, a);
	}

	/// As `open_and_assign`, in a TEE deal: each worker's enclave is checked and pinned.
	#[benchmark]
	fn open_and_assign_in_tee(
		n: Linear<{ T::MaxInitializeBatch::get() / 2 }, { T::MaxInitializeBatch::get() }>,
		a: Linear<0, { T::MaxInitializeBatch::get() / 2 * <T as Config>::MaxContributors::get() }>,
	) {
		let setup = Setup::<T>::of_kind(1, 1, n).with_members(a);
		let tasks = setup.openings(n, a);

		#[block]
		{
			Pallet::<T>::open_and_assign(
				RawOrigin::Signed(setup.scheduler.clone()).into(),
				setup.deal,
				tasks,
			)
			.unwrap();
		}

		setup.check_opened(n, a);
	}

	/// An expired task with `c` contributions, each for a different result.
	#[benchmark]
	fn claim(c: Linear<1, { <T as Config>::MaxContributors::get() }>) {
		let setup = Setup::<T>::new(trust_for(<T as Config>::MaxContributors::get()), 1);
		let task = setup.assigned(0, c);
		for worker in 0..c {
			setup.contribute(task, worker, digest_of(worker as u8));
		}
		go_to::<T>(Tasks::<T>::get(task).unwrap().final_deadline);
		let caller = funded::<T>("caller", 0);

		#[block]
		{
			Pallet::<T>::claim(RawOrigin::Signed(caller).into(), setup.deal, 0).unwrap();
		}

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Failed);
	}

	/// The idle sweep failing one expired task with `c` contributions.
	#[benchmark]
	fn sweep_task(c: Linear<1, { <T as Config>::MaxContributors::get() }>) {
		let setup = Setup::<T>::new(trust_for(<T as Config>::MaxContributors::get()), 1);
		let task = setup.assigned(0, c);
		for worker in 0..c {
			setup.contribute(task, worker, digest_of(worker as u8));
		}
		let final_deadline = Tasks::<T>::get(task).unwrap().final_deadline;
		go_to::<T>(final_deadline);
		SweepCursor::<T>::put(final_deadline);

		#[block]
		{
			Pallet::<T>::sweep_expired(final_deadline, Weight::MAX);
		}

		assert_eq!(Tasks::<T>::get(task).unwrap().status, TaskStatus::Failed);
	}

	/// The idle pruning removing one settled task whose retention has passed.
	#[benchmark]
	fn prune_task() {
		let setup = Setup::<T>::new(trust_for(<T as Config>::MaxContributors::get()), 1);
		let task = setup.assigned(0, 1);
		let final_deadline = Tasks::<T>::get(task).unwrap().final_deadline;
		go_to::<T>(final_deadline);
		SweepCursor::<T>::put(final_deadline);
		Pallet::<T>::sweep_expired(final_deadline, Weight::MAX);
		let from = final_deadline.saturating_add(T::TaskRetention::get());
		assert!(SettledTasks::<T>::contains_key(from, task));
		go_to::<T>(from);
		TaskPruneCursor::<T>::put(from);

		#[block]
		{
			Pallet::<T>::prune_settled_tasks(from, Weight::MAX);
		}

		assert!(!Tasks::<T>::contains_key(task));
	}

	/// The dataset owner releasing its key to the last of the most workers a task may have, all
	/// with keys already but that one, for a TEE app allowing the most measurements, the
	/// worker's last.
	#[benchmark]
	fn release_dataset_key() {
		let setup = Setup::<T>::confidential(1, 1);
		let deal = Deals::<T>::get(setup.deal).expect("just made");
		let dataset = deal.dataset.as_ref().expect("the setup buys a dataset");
		pallet_marketplace::Datasets::<T>::insert(
			dataset.id,
			pallet_marketplace::Dataset {
				owner: dataset.owner.clone(),
				name: Default::default(),
				uri: Default::default(),
				checksum: [3; 32],
				encrypted: true,
			},
		);
		let owner = dataset.owner.clone();
		let most = <T as Config>::MaxContributors::get();
		let task = setup.assigned(0, most);
		let entry = Tasks::<T>::get(task).expect("assigned");
		let sealed_for = |worker: &T::AccountId| SealedDatasetKey {
			ephemeral: [5; 32],
			recipient: entry.enclave_of(worker).expect("pinned at assignment").encryption,
			ciphertext: [6; 48],
		};
		let (last, others) = setup.workers[..most as usize].split_last().expect("a worker");
		for worker in others {
			Pallet::<T>::release_dataset_key(
				RawOrigin::Signed(owner.clone()).into(),
				task,
				worker.clone(),
				sealed_for(worker),
			)
			.expect("an assigned, attested worker");
		}
		let sealed = sealed_for(last);

		#[extrinsic_call]
		_(RawOrigin::Signed(owner), task, last.clone(), sealed);

		assert_eq!(Tasks::<T>::get(task).unwrap().dataset_key_of(last), Some(&sealed));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
