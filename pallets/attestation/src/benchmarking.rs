//! Benchmarks of the registry's calls (v2 syntax).

use super::*;
use alloc::vec::Vec;
use commons_dcap_synthetic::{self as synthetic, QuoteSpec, TcbSpec};
use frame_benchmarking::v2::*;
use frame_support::{traits::ConstU32, BoundedVec};
use frame_system::RawOrigin;
use sp_core::crypto::KeyTypeId;

/// 2027-01-01T00:00:00Z: inside every synthetic collateral's validity window.
const SYNTHETIC_NOW: Moment = 1_798_761_600_000;

/// The key type benchmark enclaves' keys are generated under in the benchmark's keystore.
const BENCH_KEY: KeyTypeId = KeyTypeId(*b"bnch");

/// A block the benchmarks' evidence binds: the one before the current block, given a hash.
fn anchor<T: Config>() -> BlockNumberFor<T> {
	use sp_runtime::traits::{Hash, One};
	let now = frame_system::Pallet::<T>::block_number().max(One::one());
	frame_system::Pallet::<T>::set_block_number(now);
	let anchor = now - One::one();
	frame_system::BlockHash::<T>::insert(anchor, T::Hashing::hash(b"the anchor's hash"));
	anchor
}

/// `worker`'s simulated enclave: its keys and its proof for `worker` after block `anchor`.
fn simulated_enclave<T: Config>(
	worker: &T::AccountId,
	anchor: BlockNumberFor<T>,
) -> (EnclaveKeys, EnclaveSignature) {
	let signing = sp_io::crypto::ed25519_generate(BENCH_KEY, None);
	let keys = EnclaveKeys { signing: signing.0, encryption: [1; 32] };
	let report_data = Pallet::<T>::report_data(worker, &keys, anchor).expect("a fresh anchor");
	let proof = sp_io::crypto::ed25519_sign(BENCH_KEY, &signing, &report_data)
		.expect("the key was just generated in this keystore");
	(keys, proof.0)
}

fn registered<T: Config>(worker: &T::AccountId) {
	SimulatedEvidenceAllowed::<T>::put(true);
	let anchor = anchor::<T>();
	let (keys, proof) = simulated_enclave::<T>(worker, anchor);
	Pallet::<T>::register_simulated(
		RawOrigin::Signed(worker.clone()).into(),
		TeeKind::Sgx,
		Measurement::SgxMrEnclave([7; 32]),
		keys,
		proof,
		anchor,
	)
	.expect("simulated evidence is allowed");
}

fn bounded<const N: u32>(bytes: &[u8]) -> BoundedVec<u8, ConstU32<N>> {
	bytes
		.to_vec()
		.try_into()
		.unwrap_or_else(|_| panic!("{} bytes do not fit in {N}", bytes.len()))
}

fn submitter<T: Config>() -> RawOrigin<T::AccountId> {
	RawOrigin::Signed(account("submitter", 0, 0))
}

/// The largest TCB info that fits its bound: as many levels above the platform's as fit, so
/// that matching walks all of them.
fn largest_tcb_info() -> synthetic::SignedJson {
	let spec = |higher_levels| TcbSpec {
		issue_date: "2026-12-01T00:00:00Z",
		next_update: "2027-02-01T00:00:00Z",
		evaluation_number: 20,
		status: "UpToDate",
		advisories: &["INTEL-SA-00001", "INTEL-SA-00002", "INTEL-SA-00003"],
		tcb_date: "2026-10-01T00:00:00Z",
		higher_levels,
	};
	let mut higher_levels = 120;
	loop {
		let info = synthetic::tcb_info(&spec(higher_levels));
		if info.json.len() <= 32_768 {
			return info;
		}
		higher_levels -= 1;
	}
}

fn qe_identity() -> synthetic::SignedJson {
	synthetic::qe_identity("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", 20)
}

/// A chain trusting the synthetic root at [`SYNTHETIC_NOW`], with its root CA CRL.
fn synthetic_root<T: Config>() {
	T::BenchmarkHelper::set_time(SYNTHETIC_NOW);
	Pallet::<T>::set_root_ca(RawOrigin::Root.into(), bounded(synthetic::ROOT_CA))
		.expect("root may set the root CA");
	Pallet::<T>::submit_root_ca_crl(submitter::<T>().into(), bounded(synthetic::ROOT_CA_CRL))
		.expect("the synthetic root CRL verifies");
}

/// All the synthetic collateral, each piece the largest a chain stores.
fn synthetic_collateral<T: Config>() {
	synthetic_root::<T>();
	Pallet::<T>::submit_pck_crl(
		submitter::<T>().into(),
		bounded(synthetic::PCK_CA_LARGE_CRL),
		bounded(&synthetic::pck_ca_chain()),
	)
	.expect("the synthetic PCK CRL verifies");
	let tcb_info = largest_tcb_info();
	Pallet::<T>::submit_tcb_info(
		submitter::<T>().into(),
		bounded(&tcb_info.json),
		tcb_info.signature,
		bounded(&synthetic::signer_chain()),
	)
	.expect("the synthetic TCB info verifies");
	let qe = qe_identity();
	Pallet::<T>::submit_qe_identity(
		submitter::<T>().into(),
		bounded(&qe.json),
		qe.signature,
		bounded(&synthetic::signer_chain()),
	)
	.expect("the synthetic QE identity verifies");
}

/// A synthetic quote of an enclave with `keys` for `worker` after block `anchor`, padded with
/// `padding` bytes.
fn quote_for<T: Config>(
	worker: &T::AccountId,
	keys: &EnclaveKeys,
	anchor: BlockNumberFor<T>,
	padding: usize,
) -> Vec<u8> {
	let mut report_data = [0u8; 64];
	report_data[..32]
		.copy_from_slice(&Pallet::<T>::report_data(worker, keys, anchor).expect("a fresh anchor"));
	synthetic::sgx_quote(&QuoteSpec {
		mr_enclave: [1; 32],
		mr_signer: [2; 32],
		report_data,
		debug: false,
		pck: synthetic::PCK,
		padding,
	})
}

/// The largest quote (padded to its bound) of an enclave with `keys` for `worker` after
/// block `anchor`.
fn largest_quote<T: Config>(
	worker: &T::AccountId,
	keys: &EnclaveKeys,
	anchor: BlockNumberFor<T>,
) -> QuoteBytes {
	let unpadded = quote_for::<T>(worker, keys, anchor, 0).len();
	bounded(&quote_for::<T>(worker, keys, anchor, 16_384 - unpadded))
}

/// A worker with a simulated registration to replace, and the largest quote of new keys.
fn registration<T: Config>() -> (T::AccountId, EnclaveKeys, BlockNumberFor<T>, QuoteBytes) {
	let worker: T::AccountId = whitelisted_caller();
	registered::<T>(&worker);
	let keys = EnclaveKeys { signing: [5; 32], encryption: [6; 32] };
	let anchor = anchor::<T>();
	let quote = largest_quote::<T>(&worker, &keys, anchor);
	(worker, keys, anchor, quote)
}

fn assert_registered<T: Config>(worker: &T::AccountId, keys: EnclaveKeys) {
	let enclave = Enclaves::<T>::get(worker).expect("registered");
	assert!(matches!(enclave.attester, Attester::IntelDcap { .. }));
	assert_eq!(enclave.keys, keys);
	assert!(QuotedPlatforms::<T>::get(worker).is_some());
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Replacing a registration: the most storage it touches.
	#[benchmark]
	fn register_simulated() {
		let worker: T::AccountId = whitelisted_caller();
		registered::<T>(&worker);
		let anchor = anchor::<T>();
		let (keys, proof) = simulated_enclave::<T>(&worker, anchor);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(worker.clone()),
			TeeKind::Sgx,
			Measurement::SgxMrEnclave([8; 32]),
			keys,
			proof,
			anchor,
		);

		assert_eq!(Enclaves::<T>::get(&worker).map(|enclave| enclave.keys), Some(keys));
	}

	#[benchmark]
	fn deregister() {
		let worker: T::AccountId = whitelisted_caller();
		registered::<T>(&worker);

		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()));

		assert!(Enclaves::<T>::get(&worker).is_none());
	}

	#[benchmark]
	fn evict() {
		let worker: T::AccountId = account("worker", 0, 0);
		registered::<T>(&worker);
		// Expiring now: the benchmark's clock may stand at 0, so it cannot be backdated.
		Enclaves::<T>::mutate(&worker, |enclave| {
			if let Some(enclave) = enclave {
				enclave.expires_at = Pallet::<T>::now();
			}
		});
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), worker.clone());

		assert!(Enclaves::<T>::get(&worker).is_none());
	}

	#[benchmark]
	fn set_root_ca() {
		#[extrinsic_call]
		_(RawOrigin::Root, bounded(synthetic::ROOT_CA));

		assert!(RootCa::<T>::get().is_some());
	}

	#[benchmark]
	fn submit_root_ca_crl() {
		T::BenchmarkHelper::set_time(SYNTHETIC_NOW);
		Pallet::<T>::set_root_ca(RawOrigin::Root.into(), bounded(synthetic::ROOT_CA))
			.expect("root may set the root CA");

		#[extrinsic_call]
		_(submitter::<T>(), bounded(synthetic::ROOT_CA_CRL));

		assert!(RootCaCrl::<T>::get().is_some());
	}

	/// The largest revocation list a chain stores.
	#[benchmark]
	fn submit_pck_crl() {
		synthetic_root::<T>();

		#[extrinsic_call]
		_(
			submitter::<T>(),
			bounded(synthetic::PCK_CA_LARGE_CRL),
			bounded(&synthetic::pck_ca_chain()),
		);

		assert!(PckCrls::<T>::get(PckCa::Platform).is_some());
	}

	/// The largest TCB info a chain stores.
	#[benchmark]
	fn submit_tcb_info() {
		synthetic_root::<T>();
		let tcb_info = largest_tcb_info();

		#[extrinsic_call]
		_(
			submitter::<T>(),
			bounded(&tcb_info.json),
			tcb_info.signature,
			bounded(&synthetic::signer_chain()),
		);

		assert!(TcbInfos::<T>::get(TeeKind::Sgx, synthetic::FMSPC).is_some());
	}

	#[benchmark]
	fn submit_qe_identity() {
		synthetic_root::<T>();
		let qe = qe_identity();

		#[extrinsic_call]
		_(submitter::<T>(), bounded(&qe.json), qe.signature, bounded(&synthetic::signer_chain()));

		assert!(QeIdentities::<T>::get(TeeKind::Sgx).is_some());
	}

	/// The largest policy: every status, the most advisories.
	#[benchmark]
	fn set_tcb_policy() {
		let advisories: Vec<AdvisoryId> =
			(0..64).map(|n| bounded(alloc::format!("INTEL-SA-{n:05}").as_bytes())).collect();
		let policy = TcbPolicy {
			accepted: BoundedVec::truncate_from(alloc::vec![TcbStatus::UpToDate; 9]),
			out_of_date_grace: 1,
			allowed_advisories: Some(BoundedVec::truncate_from(advisories)),
			min_evaluation_data_number: Some(u32::MAX),
		};

		#[extrinsic_call]
		_(RawOrigin::Root, policy.clone());

		assert_eq!(Policy::<T>::get(), policy);
	}

	/// Registration with the largest quote (padded to its bound) against the largest stored
	/// collateral, replacing an existing registration, with a PCK CA certificate other than the
	/// one the chain verified: every signature is checked.
	#[benchmark]
	fn register_quote() {
		synthetic_collateral::<T>();
		let _ = VerifiedPckCas::<T>::clear(u32::MAX, None);
		let (worker, keys, anchor, quote) = registration::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(worker.clone()), quote, None, keys, anchor);

		assert_registered::<T>(&worker, keys);
	}

	/// [`register_quote`] with the PCK CA certificate the chain verified with its revocation
	/// list: the PCK certificate's, the QE report's and the report's signatures are checked.
	#[benchmark]
	fn register_quote_known_pck_ca() {
		synthetic_collateral::<T>();
		let (worker, keys, anchor, quote) = registration::<T>();

		#[extrinsic_call]
		register_quote(RawOrigin::Signed(worker.clone()), quote, None, keys, anchor);

		assert_registered::<T>(&worker, keys);
	}

	/// A renewal: [`register_quote`] replacing a registration on the same platform evidence,
	/// whose report's signature alone is checked.
	#[benchmark]
	fn register_quote_known_platform() {
		synthetic_collateral::<T>();
		let (worker, first_keys, anchor, quote) = registration::<T>();
		Pallet::<T>::register_quote(
			RawOrigin::Signed(worker.clone()).into(),
			quote,
			None,
			first_keys,
			anchor,
		)
		.expect("the synthetic quote registers");
		let keys = EnclaveKeys { signing: [8; 32], encryption: [9; 32] };
		let quote = largest_quote::<T>(&worker, &keys, anchor);

		#[extrinsic_call]
		register_quote(RawOrigin::Signed(worker.clone()), quote, None, keys, anchor);

		assert_registered::<T>(&worker, keys);
	}

	/// Evicting an unexpired registration on a quote that the current policy refuses, after
	/// regrading it in full against the largest stored collateral (the largest PCK CRL and TCB
	/// info) and judging the grade by the longest policy: more work than a registration whose
	/// PCK certificate the CRL revokes, whose regrading stops at the CRL.
	#[benchmark]
	fn evict_revoked() {
		synthetic_collateral::<T>();
		let worker: T::AccountId = account("worker", 0, 0);
		let keys = EnclaveKeys { signing: [5; 32], encryption: [6; 32] };
		let anchor = anchor::<T>();
		let quote: QuoteBytes = bounded(&quote_for::<T>(&worker, &keys, anchor, 0));
		Pallet::<T>::register_quote(
			RawOrigin::Signed(worker.clone()).into(),
			quote,
			None,
			keys,
			anchor,
		)
		.expect("the synthetic quote registers under the default policy");
		// Every status (the platform's last) and the most advisories, none of the platform's:
		// the policy reads all of it before it refuses.
		let mut accepted = alloc::vec![TcbStatus::SWHardeningNeeded; 8];
		accepted.push(TcbStatus::UpToDate);
		let advisories: Vec<AdvisoryId> = (0..64)
			.map(|n| bounded(alloc::format!("INTEL-SA-{:05}", 100 + n).as_bytes()))
			.collect();
		let policy = TcbPolicy {
			accepted: BoundedVec::truncate_from(accepted),
			out_of_date_grace: 1,
			allowed_advisories: Some(BoundedVec::truncate_from(advisories)),
			min_evaluation_data_number: Some(20),
		};
		Pallet::<T>::set_tcb_policy(RawOrigin::Root.into(), policy).expect("root sets the policy");
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		evict(RawOrigin::Signed(caller), worker.clone());

		assert!(Enclaves::<T>::get(&worker).is_none());
		assert!(QuotedPlatforms::<T>::get(&worker).is_none());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::bench_ext(), crate::mock::Test);
}
