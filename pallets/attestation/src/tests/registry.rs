//! The registry's behaviour: simulated registration where allowed and nowhere else, binding to
//! the worker, expiry and eviction, and what the contribution pallet is told.

use crate::{mock::*, types::*, Enclaves, Error, Event};
use commons_primitives::{tag, EnclaveRegistry, Measurement};
use frame_support::{assert_noop, assert_ok};
use sp_core::Pair;

const MRENCLAVE: Measurement = Measurement::SgxMrEnclave([7; 32]);
const MRTD: Measurement = Measurement::Tdx([8; 48]);

/// `worker` registering a simulated enclave of `kind` and `measurement` with `keys` and `proof`.
fn attempt(
	worker: &AccountId,
	kind: TeeKind,
	measurement: Measurement,
	keys: EnclaveKeys,
	proof: [u8; 64],
) -> sp_runtime::DispatchResult {
	Attestation::register_simulated(
		RuntimeOrigin::signed(worker.clone()),
		kind,
		measurement,
		keys,
		proof,
		ANCHOR,
	)
}

/// `worker` registers `enclave` with `measurement`, of the kind the measurement is of.
fn register(worker: &AccountId, enclave: &TestEnclave, measurement: Measurement) {
	let kind = if matches!(measurement, Measurement::SgxMrEnclave(_)) {
		TeeKind::Sgx
	} else {
		TeeKind::Tdx
	};
	assert_ok!(attempt(worker, kind, measurement, enclave.keys, enclave.proof(worker)));
}

#[test]
fn a_lifetime_changed_by_governance_applies_to_registrations_after_the_change() {
	run(true, || {
		let (first, second) = (account(1), account(2));
		register(&first, &TestEnclave::new(1), MRENCLAVE);
		crate::mock::AttestationLifetime::set(LIFETIME * 2);
		assert_ok!(Attestation::do_try_state());
		register(&second, &TestEnclave::new(2), MRENCLAVE);
		assert_eq!(Enclaves::<Test>::get(&first).unwrap().expires_at, START + LIFETIME);
		assert_eq!(Enclaves::<Test>::get(&second).unwrap().expires_at, START + LIFETIME * 2);
	});
}

#[test]
fn a_simulated_enclave_is_registered_labelled_and_trusted_until_it_expires() {
	run(true, || {
		let worker = account(1);
		let enclave = TestEnclave::new(1);
		register(&worker, &enclave, MRENCLAVE);
		let stored = Enclaves::<Test>::get(&worker).unwrap();
		assert_eq!(stored.attester, Attester::Simulated);
		assert_eq!(stored.expires_at, START + LIFETIME);
		System::assert_last_event(
			Event::EnclaveRegistered {
				worker: worker.clone(),
				kind: TeeKind::Sgx,
				measurement: MRENCLAVE,
				attester: Attester::Simulated,
				expires_at: START + LIFETIME,
			}
			.into(),
		);

		let message = b"a result";
		let signature = enclave.signer.sign(message).0;
		assert!(Attestation::allowed_enclave(&worker, tag::TEE | tag::SGX, &[MRENCLAVE], false)
			.is_some());
		assert!(Attestation::verify_enclave_signature(&worker, message, &signature));

		Timestamp::set_timestamp(START + LIFETIME);
		assert!(!Attestation::allowed_enclave(&worker, tag::TEE | tag::SGX, &[MRENCLAVE], false)
			.is_some());
		assert!(!Attestation::verify_enclave_signature(&worker, message, &signature));
	});
}

#[test]
fn simulated_evidence_is_refused_where_genesis_does_not_allow_it() {
	run(false, || {
		let worker = account(1);
		let enclave = TestEnclave::new(1);
		assert_noop!(
			attempt(&worker, TeeKind::Sgx, MRENCLAVE, enclave.keys, enclave.proof(&worker)),
			Error::<Test>::SimulatedEvidenceRefused
		);
	});
}

#[test]
fn evidence_is_bound_to_its_worker_and_keys() {
	run(true, || {
		let (worker, other) = (account(1), account(2));
		let enclave = TestEnclave::new(1);
		// Another worker replaying the proof.
		assert_noop!(
			attempt(&other, TeeKind::Sgx, MRENCLAVE, enclave.keys, enclave.proof(&worker)),
			Error::<Test>::InvalidKeyProof
		);
		// The same proof with another encryption key.
		let mut swapped = enclave.keys;
		swapped.encryption = [9; 32];
		assert_noop!(
			attempt(&worker, TeeKind::Sgx, MRENCLAVE, swapped, enclave.proof(&worker)),
			Error::<Test>::InvalidKeyProof
		);
		// A measurement of the other TEE kind.
		assert_noop!(
			attempt(&worker, TeeKind::Sgx, MRTD, enclave.keys, enclave.proof(&worker)),
			Error::<Test>::MeasurementKindMismatch
		);
	});
}

#[test]
fn the_registry_answers_by_kind_measurement_and_key() {
	run(true, || {
		let (sgx_worker, tdx_worker, stranger) = (account(1), account(2), account(3));
		let sgx = TestEnclave::new(1);
		register(&sgx_worker, &sgx, MRENCLAVE);
		register(&tdx_worker, &TestEnclave::new(2), MRTD);

		assert!(Attestation::allowed_enclave(&sgx_worker, tag::TEE, &[MRTD, MRENCLAVE], false)
			.is_some());
		assert!(!Attestation::allowed_enclave(
			&sgx_worker,
			tag::TEE | tag::TDX,
			&[MRENCLAVE],
			false
		)
		.is_some());
		assert!(!Attestation::allowed_enclave(&sgx_worker, tag::TEE, &[MRTD], false).is_some());
		assert!(!Attestation::allowed_enclave(&sgx_worker, tag::TEE, &[], false).is_some());
		assert!(Attestation::allowed_enclave(&tdx_worker, tag::TEE | tag::TDX, &[MRTD], false)
			.is_some());
		assert!(
			!Attestation::allowed_enclave(&stranger, tag::TEE, &[MRENCLAVE, MRTD], false).is_some()
		);

		let message = b"a result";
		let forged = TestEnclave::new(9).signer.sign(message).0;
		assert!(!Attestation::verify_enclave_signature(&sgx_worker, message, &forged));
		let genuine = sgx.signer.sign(message).0;
		assert!(!Attestation::verify_enclave_signature(&sgx_worker, b"another", &genuine));
		assert!(!Attestation::verify_enclave_signature(&stranger, message, &genuine));
	});
}

#[test]
fn re_attesting_replaces_the_registration_and_extends_it() {
	run(true, || {
		let worker = account(1);
		register(&worker, &TestEnclave::new(1), MRENCLAVE);
		Timestamp::set_timestamp(START + LIFETIME / 2);
		let renewed = TestEnclave::new(5);
		register(&worker, &renewed, MRENCLAVE);
		let stored = Enclaves::<Test>::get(&worker).unwrap();
		assert_eq!(stored.keys, renewed.keys);
		assert_eq!(stored.expires_at, START + LIFETIME / 2 + LIFETIME);
	});
}

#[test]
fn an_expired_enclave_can_be_evicted_by_anyone_and_a_live_one_only_withdrawn() {
	run(true, || {
		let (worker, passer_by) = (account(1), account(2));
		register(&worker, &TestEnclave::new(1), MRENCLAVE);
		assert_noop!(
			Attestation::evict(RuntimeOrigin::signed(passer_by.clone()), worker.clone()),
			Error::<Test>::NotExpired
		);
		Timestamp::set_timestamp(START + LIFETIME);
		assert_ok!(Attestation::evict(RuntimeOrigin::signed(passer_by.clone()), worker.clone()));
		System::assert_last_event(
			Event::EnclaveEvicted { worker: worker.clone(), by: passer_by.clone() }.into(),
		);
		assert!(Enclaves::<Test>::get(&worker).is_none());
		assert_noop!(
			Attestation::evict(RuntimeOrigin::signed(passer_by), worker.clone()),
			Error::<Test>::NotRegistered
		);

		register(&worker, &TestEnclave::new(1), MRENCLAVE);
		assert_ok!(Attestation::deregister(RuntimeOrigin::signed(worker.clone())));
		System::assert_last_event(Event::EnclaveDeregistered { worker: worker.clone() }.into());
		assert_noop!(
			Attestation::deregister(RuntimeOrigin::signed(worker)),
			Error::<Test>::NotRegistered
		);
	});
}

#[test]
fn a_simulated_enclave_gets_confidential_data_only_where_genesis_allows_it() {
	run(true, || {
		let worker = account(1);
		register(&worker, &TestEnclave::new(1), MRENCLAVE);
		let sgx = tag::TEE | tag::SGX;
		assert!(Attestation::allowed_enclave(&worker, sgx, &[MRENCLAVE], false).is_some());
		assert_eq!(Attestation::allowed_enclave(&worker, sgx, &[MRENCLAVE], true), None);

		// A development chain's genesis may let it handle test data.
		crate::SimulatedConfidentialAllowed::<Test>::put(true);
		assert!(Attestation::allowed_enclave(&worker, sgx, &[MRENCLAVE], true).is_some());
	});
}

#[test]
fn an_encryption_key_of_small_order_is_refused() {
	run(true, || {
		let worker = account(1);
		let mut one = [0u8; 32];
		one[0] = 1;
		for encryption in [[0u8; 32], one] {
			let mut enclave = TestEnclave::new(1);
			enclave.keys.encryption = encryption;
			assert_noop!(
				attempt(&worker, TeeKind::Sgx, MRENCLAVE, enclave.keys, enclave.proof(&worker)),
				Error::<Test>::SmallOrderEncryptionKey
			);
		}
	});
}

#[test]
fn a_pinned_enclave_stays_current_while_re_attested_with_the_same_keys_only() {
	run(true, || {
		let worker = account(1);
		let enclave = TestEnclave::new(1);
		register(&worker, &enclave, MRENCLAVE);
		let pinned = Attestation::allowed_enclave(&worker, tag::TEE, &[MRENCLAVE], false).unwrap();
		assert!(Attestation::is_current(&worker, &pinned));

		// Re-attesting the same enclave later keeps it current past the first expiry.
		Timestamp::set_timestamp(START + LIFETIME / 2);
		register(&worker, &enclave, MRENCLAVE);
		Timestamp::set_timestamp(START + LIFETIME);
		assert!(Attestation::is_current(&worker, &pinned));

		// Other keys, or another measurement, are another enclave.
		register(&worker, &TestEnclave::new(2), MRENCLAVE);
		assert!(!Attestation::is_current(&worker, &pinned));
		register(&worker, &enclave, Measurement::SgxMrEnclave([9; 32]));
		assert!(!Attestation::is_current(&worker, &pinned));

		// An expired one is no longer anyone's.
		register(&worker, &enclave, MRENCLAVE);
		Timestamp::set_timestamp(START + LIFETIME + LIFETIME);
		assert!(!Attestation::is_current(&worker, &pinned));
	});
}

#[test]
fn evidence_binds_a_recent_past_block_and_grows_stale() {
	run(true, || {
		let worker = account(1);
		let enclave = TestEnclave::new(1);
		let simulated = |proof, anchor| {
			Attestation::register_simulated(
				RuntimeOrigin::signed(worker.clone()),
				TeeKind::Sgx,
				MRENCLAVE,
				enclave.keys,
				proof,
				anchor,
			)
		};
		// Not a past block: the current one, whose hash is not known yet.
		assert_noop!(simulated(enclave.proof(&worker), 1), Error::<Test>::EvidenceAnchorNotPast);
		assert!(matches!(
			Attestation::report_data(&worker, &enclave.keys, 1),
			Err(Error::<Test>::EvidenceAnchorNotPast)
		));

		// Evidence taken after one block is not evidence taken after another.
		System::set_block_number(3);
		frame_system::BlockHash::<Test>::insert(2, sp_core::H256::repeat_byte(2));
		let after_genesis = enclave.proof(&worker);
		assert_noop!(simulated(after_genesis, 2), Error::<Test>::InvalidKeyProof);
		assert_ok!(simulated(enclave.proof_after(&worker, 2), 2));

		// The same evidence, once its block is more than the bound old, is refused: a replay.
		System::set_block_number(ANCHOR + MAX_EVIDENCE_AGE + 1);
		assert_noop!(simulated(after_genesis, ANCHOR), Error::<Test>::EvidenceTooOld);
		// A block whose hash the chain no longer keeps is as stale.
		System::set_block_number(MAX_EVIDENCE_AGE);
		assert_noop!(simulated(enclave.proof_after(&worker, 2), 5), Error::<Test>::EvidenceTooOld);
	});
}

#[test]
fn a_simulated_enclave_never_matches_a_signer() {
	run(true, || {
		let worker = account(1);
		register(&worker, &TestEnclave::new(1), MRENCLAVE);
		let signer = Measurement::SgxSigner { mr_signer: [0; 32], isv_prod_id: 0, min_isv_svn: 0 };
		assert_eq!(Attestation::allowed_enclave(&worker, tag::TEE, &[signer], false), None);
		// Nor can one register under a signer's name: a registration is of an MRENCLAVE.
		let enclave = TestEnclave::new(2);
		assert_noop!(
			attempt(&worker, TeeKind::Sgx, signer, enclave.keys, enclave.proof(&worker)),
			Error::<Test>::MeasurementKindMismatch
		);
	});
}
