//! Benchmarks of the registry's calls (v2 syntax).

use super::*;
use frame_benchmarking::v2::*;
use frame_system::RawOrigin;
use sp_core::crypto::KeyTypeId;

/// The key type benchmark enclaves' keys are generated under in the benchmark's keystore.
const BENCH_KEY: KeyTypeId = KeyTypeId(*b"bnch");

/// `worker`'s simulated enclave: its keys and its proof for `worker`.
fn simulated_enclave<T: Config>(worker: &T::AccountId) -> (EnclaveKeys, EnclaveSignature) {
	let signing = sp_io::crypto::ed25519_generate(BENCH_KEY, None);
	let keys = EnclaveKeys { signing: signing.0, encryption: [1; 32] };
	let proof =
		sp_io::crypto::ed25519_sign(BENCH_KEY, &signing, &Pallet::<T>::report_data(worker, &keys))
			.expect("the key was just generated in this keystore");
	(keys, proof.0)
}

fn registered<T: Config>(worker: &T::AccountId) {
	SimulatedEvidenceAllowed::<T>::put(true);
	let (keys, proof) = simulated_enclave::<T>(worker);
	Pallet::<T>::register_simulated(
		RawOrigin::Signed(worker.clone()).into(),
		TeeKind::Sgx,
		Measurement::SgxMrEnclave([7; 32]),
		keys,
		proof,
	)
	.expect("simulated evidence is allowed");
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Replacing a registration: the most storage it touches.
	#[benchmark]
	fn register_simulated() {
		let worker: T::AccountId = whitelisted_caller();
		registered::<T>(&worker);
		let (keys, proof) = simulated_enclave::<T>(&worker);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(worker.clone()),
			TeeKind::Sgx,
			Measurement::SgxMrEnclave([8; 32]),
			keys,
			proof,
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

	impl_benchmark_test_suite!(Pallet, crate::mock::bench_ext(), crate::mock::Test);
}
