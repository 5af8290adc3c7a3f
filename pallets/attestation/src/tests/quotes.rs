//! Hardware evidence: collateral submitted and checked, quotes registered when every check
//! passes and refused with the failing check's error otherwise, on the synthetic PKI (whose
//! quotes can commit to a test worker) and on Intel's own samples.

use crate::{
	mock::*, types::*, Enclaves, Error, Event, PckCrls, QeIdentities, QuotedPlatforms, RootCaCrl,
	TcbInfos,
};
use commons_dcap::Error as Dcap;
use commons_dcap_synthetic::{self as synthetic, QuoteSpec, SignedJson, TcbSpec};
use commons_primitives::{tag, EnclaveRegistry, Measurement};
use frame_support::{assert_noop, assert_ok, dispatch::DispatchResultWithPostInfo, BoundedVec};
use sp_runtime::DispatchError;

/// 2027-01-01T00:00:00Z, in milliseconds: inside every synthetic validity window.
const NOW: Moment = 1_798_761_600_000;
const DAY: Moment = 86_400_000;

fn bounded<const N: u32>(bytes: &[u8]) -> BoundedVec<u8, frame_support::traits::ConstU32<N>> {
	bytes.to_vec().try_into().expect("fits")
}

fn tcb(status: &'static str) -> TcbSpec<'static> {
	TcbSpec {
		issue_date: "2026-12-01T00:00:00Z",
		next_update: "2027-02-01T00:00:00Z",
		evaluation_number: 20,
		status,
		advisories: &["INTEL-SA-00001"],
		tcb_date: "2026-10-01T00:00:00Z",
		higher_levels: 1,
	}
}

fn submitter() -> RuntimeOrigin {
	RuntimeOrigin::signed(account(9))
}

fn submit_tcb_info(info: &SignedJson) -> sp_runtime::DispatchResult {
	Attestation::submit_tcb_info(
		submitter(),
		bounded(&info.json),
		info.signature,
		bounded(&synthetic::signer_chain()),
	)
}

fn submit_qe_identity(identity: &SignedJson) -> sp_runtime::DispatchResult {
	Attestation::submit_qe_identity(
		submitter(),
		bounded(&identity.json),
		identity.signature,
		bounded(&synthetic::signer_chain()),
	)
}

/// Submits all the synthetic collateral, the TCB info grading the platform `status`.
fn submit_collateral(status: &'static str) {
	submit_collateral_with(synthetic::PCK_CA_CRL, status);
}

fn submit_pck_crl(crl: &[u8]) -> sp_runtime::DispatchResult {
	Attestation::submit_pck_crl(submitter(), bounded(crl), bounded(&synthetic::pck_ca_chain()))
}

/// [`submit_collateral`] with the PCK CA's list `pck_crl`.
fn submit_collateral_with(pck_crl: &[u8], status: &'static str) {
	assert_ok!(Attestation::submit_root_ca_crl(submitter(), bounded(synthetic::ROOT_CA_CRL)));
	assert_ok!(submit_pck_crl(pck_crl));
	assert_ok!(submit_tcb_info(&synthetic::tcb_info(&tcb(status))));
	assert_ok!(submit_qe_identity(&synthetic::qe_identity(
		"2026-12-01T00:00:00Z",
		"2027-02-01T00:00:00Z",
		20
	)));
}

/// A quote of an enclave with `keys` that commits to `worker` on the test chain.
fn quote_for(worker: &AccountId, keys: &EnclaveKeys, spec: QuoteSpec) -> QuoteBytes {
	let mut report_data = [0u8; 64];
	report_data[..32]
		.copy_from_slice(&crate::Pallet::<Test>::report_data(worker, keys, ANCHOR).unwrap());
	bounded(&synthetic::sgx_quote(&QuoteSpec { report_data, ..spec }))
}

fn spec() -> QuoteSpec {
	QuoteSpec {
		mr_enclave: [1; 32],
		mr_signer: [2; 32],
		report_data: [0; 64],
		debug: false,
		pck: synthetic::PCK,
		padding: 0,
	}
}

fn register(
	worker: &AccountId,
	quote: QuoteBytes,
	keys: EnclaveKeys,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Attestation::register_quote(RuntimeOrigin::signed(worker.clone()), quote, None, keys, ANCHOR)
}

fn quote_error(error: Dcap) -> Error<Test> {
	Error::<Test>::Verification(error)
}

fn evict(by: &AccountId, worker: &AccountId) -> DispatchResultWithPostInfo {
	Attestation::evict(RuntimeOrigin::signed(by.clone()), worker.clone())
}

#[test]
fn a_quoted_enclave_is_registered_as_intel_attested_and_serves_its_app() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		submit_collateral("UpToDate");
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		assert_ok!(register(&worker, quote_for(&worker, &keys, spec()), keys));

		let enclave = Enclaves::<Test>::get(&worker).unwrap();
		let attester = Attester::IntelDcap {
			status: TcbStatus::UpToDate,
			fmspc: synthetic::FMSPC,
			identity: QuotedIdentity::Sgx { mr_signer: [2; 32], isv_prod_id: 1, isv_svn: 1 },
		};
		assert_eq!(enclave.attester, attester);
		assert_eq!((enclave.kind, enclave.keys), (TeeKind::Sgx, keys));
		assert_eq!(enclave.expires_at, NOW + LIFETIME);
		System::assert_last_event(
			Event::EnclaveRegistered {
				worker: worker.clone(),
				kind: TeeKind::Sgx,
				measurement: Measurement::SgxMrEnclave([1; 32]),
				attester,
				expires_at: NOW + LIFETIME,
			}
			.into(),
		);
		let allowed = [Measurement::SgxMrEnclave([1; 32])];
		assert!(
			Attestation::allowed_enclave(&worker, tag::TEE | tag::SGX, &allowed, false).is_some()
		);
		assert!(
			!Attestation::allowed_enclave(&worker, tag::TEE | tag::TDX, &allowed, false).is_some()
		);
		let other_app = [Measurement::SgxMrEnclave([9; 32])];
		assert!(!Attestation::allowed_enclave(&worker, tag::TEE | tag::SGX, &other_app, false)
			.is_some());
	});
}

#[test]
fn each_failing_check_has_its_own_error_and_registers_nothing() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		submit_collateral("UpToDate");
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		let good = quote_for(&worker, &keys, spec());

		// Produced for another worker, or for other keys.
		assert_noop!(register(&account(2), good.clone(), keys), Error::<Test>::ReportDataMismatch);
		let other_keys = TestEnclave::new(2).keys;
		assert_noop!(
			register(&worker, good.clone(), other_keys),
			Error::<Test>::ReportDataMismatch
		);
		// Tampered after signing.
		let mut tampered = good.clone().into_inner();
		tampered[48 + 64] ^= 1;
		assert_noop!(
			register(&worker, bounded(&tampered), keys),
			quote_error(Dcap::QuoteSignatureInvalid)
		);
		// A debug enclave, a revoked PCK certificate.
		let debug = quote_for(&worker, &keys, QuoteSpec { debug: true, ..spec() });
		assert_noop!(register(&worker, debug, keys), quote_error(Dcap::DebugEnclave));
		let revoked =
			quote_for(&worker, &keys, QuoteSpec { pck: synthetic::REVOKED_PCK, ..spec() });
		assert_noop!(register(&worker, revoked, keys), quote_error(Dcap::CertificateRevoked));
		// Truncated.
		assert_noop!(
			register(&worker, bounded(&good[..200]), keys),
			quote_error(Dcap::QuoteMalformed)
		);
		// Collateral that has since expired.
		Timestamp::set_timestamp(NOW + 40 * DAY);
		assert_noop!(register(&worker, good, keys), quote_error(Dcap::QeIdentityExpired));
		assert!(Enclaves::<Test>::get(&worker).is_none());
	});
}

#[test]
fn the_tcb_policy_decides_which_statuses_and_advisories_register() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		submit_collateral("OutOfDate");
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		let quote = quote_for(&worker, &keys, spec());
		// The default policy takes up-to-date platforms only (and software hardening).
		assert_noop!(register(&worker, quote.clone(), keys), quote_error(Dcap::TcbStatusRefused));

		// 100 days of grace after the level's date (2026-10-01) cover 2027-01-01.
		let policy = TcbPolicy { out_of_date_grace: 100 * 86_400, ..TcbPolicy::default() };
		assert_noop!(
			Attestation::set_tcb_policy(RuntimeOrigin::signed(worker.clone()), policy.clone()),
			DispatchError::BadOrigin
		);
		assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), policy.clone()));
		System::assert_last_event(Event::TcbPolicySet { policy: policy.clone() }.into());
		// ...unless its advisory is not on the allowed list.
		let allow = |ids: &[&[u8]]| {
			let ids: Vec<AdvisoryId> = ids.iter().map(|id| bounded(id)).collect();
			TcbPolicy { allowed_advisories: Some(ids.try_into().unwrap()), ..policy.clone() }
		};
		assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), allow(&[b"INTEL-SA-00002"])));
		assert_noop!(register(&worker, quote.clone(), keys), quote_error(Dcap::AdvisoryRefused));
		assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), allow(&[b"INTEL-SA-00001"])));
		assert_ok!(register(&worker, quote, keys));
		let enclave = Enclaves::<Test>::get(&worker).unwrap();
		assert!(matches!(
			enclave.attester,
			Attester::IntelDcap { status: TcbStatus::OutOfDate, .. }
		));
	});
}

#[test]
fn collateral_is_checked_and_only_ever_moves_forward() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		// Nothing verifies before the root CA's revocation list.
		assert_noop!(
			submit_tcb_info(&synthetic::tcb_info(&tcb("UpToDate"))),
			Error::<Test>::RootCaCrlMissing
		);
		submit_collateral("UpToDate");
		System::assert_last_event(
			Event::CollateralUpdated {
				kind: CollateralKind::QeIdentity(TeeKind::Sgx),
				by: account(9),
			}
			.into(),
		);
		assert!(RootCaCrl::<Test>::get().is_some());
		assert!(PckCrls::<Test>::get(PckCa::Platform).is_some());
		assert!(TcbInfos::<Test>::get(TeeKind::Sgx, synthetic::FMSPC).is_some());
		assert!(QeIdentities::<Test>::get(TeeKind::Sgx).is_some());

		// The same again, or an older evaluation, is refused.
		assert_noop!(
			submit_tcb_info(&synthetic::tcb_info(&tcb("UpToDate"))),
			Error::<Test>::CollateralNotNewer
		);
		let older = TcbSpec {
			evaluation_number: 19,
			issue_date: "2026-12-15T00:00:00Z",
			..tcb("UpToDate")
		};
		assert_noop!(
			submit_tcb_info(&synthetic::tcb_info(&older)),
			Error::<Test>::TcbEvaluationRegressed
		);
		assert_noop!(
			Attestation::submit_root_ca_crl(submitter(), bounded(synthetic::ROOT_CA_CRL)),
			Error::<Test>::CollateralNotNewer
		);
		// Outside its window, or not signed by the signing certificate.
		let stale = TcbSpec {
			issue_date: "2026-10-01T00:00:00Z",
			next_update: "2026-11-01T00:00:00Z",
			evaluation_number: 21,
			..tcb("UpToDate")
		};
		assert_noop!(
			submit_tcb_info(&synthetic::tcb_info(&stale)),
			quote_error(Dcap::TcbInfoExpired)
		);
		let mut forged = synthetic::tcb_info(&TcbSpec {
			evaluation_number: 21,
			issue_date: "2026-12-20T00:00:00Z",
			..tcb("UpToDate")
		});
		forged.signature[10] ^= 1;
		assert_noop!(submit_tcb_info(&forged), quote_error(Dcap::TcbInfoSignatureInvalid));
		// A newer one replaces the stored one.
		let newer = TcbSpec {
			evaluation_number: 21,
			issue_date: "2026-12-20T00:00:00Z",
			..tcb("UpToDate")
		};
		assert_ok!(submit_tcb_info(&synthetic::tcb_info(&newer)));
		assert_eq!(
			TcbInfos::<Test>::get(TeeKind::Sgx, synthetic::FMSPC)
				.unwrap()
				.info
				.get()
				.evaluation_number,
			21
		);
		// A PCK CRL whose chain is not Intel's root.
		assert_noop!(
			Attestation::submit_pck_crl(
				submitter(),
				bounded(synthetic::PCK_CA_CRL),
				bounded(&synthetic::signer_chain())
			),
			quote_error(Dcap::CertificateChainInvalid)
		);
	});
}

#[test]
fn a_new_root_ca_retires_the_collateral_verified_under_the_old_one() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		submit_collateral("UpToDate");
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		let intel_root = bounded(commons_dcap::INTEL_SGX_ROOT_CA);
		assert_noop!(
			Attestation::set_root_ca(RuntimeOrigin::signed(worker.clone()), intel_root.clone()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Attestation::set_root_ca(RuntimeOrigin::root(), bounded(b"not a certificate")),
			quote_error(Dcap::CertificateMalformed)
		);
		assert_ok!(Attestation::set_root_ca(RuntimeOrigin::root(), intel_root));
		System::assert_last_event(Event::RootCaSet { epoch: 2 }.into());
		// The stored revocation lists were verified under the old root: they are not used.
		assert_noop!(
			register(&worker, quote_for(&worker, &keys, spec()), keys),
			quote_error(Dcap::CrlMissing)
		);
	});
}

/// Intel's SGX sample: real hardware, real collateral.
mod intel_sample {
	use super::*;

	const QUOTE: &[u8] = include_bytes!("../../dcap/tests/fixtures/sgx_quote");
	const COLLATERAL: &[u8] = include_bytes!("../../dcap/tests/fixtures/sgx_quote_collateral.json");
	/// 2025-07-01T00:00:00Z, inside the sample collateral's window.
	const THEN: Moment = 1_751_328_000_000;

	fn field(name: &str) -> Vec<u8> {
		let collateral: serde_json::Value = serde_json::from_slice(COLLATERAL).unwrap();
		collateral[name].as_str().unwrap().as_bytes().to_vec()
	}

	fn hex_field(name: &str) -> Vec<u8> {
		hex::decode(field(name)).unwrap()
	}

	fn submit_sample_collateral() {
		assert_ok!(Attestation::submit_root_ca_crl(
			submitter(),
			bounded(&hex_field("root_ca_crl"))
		));
		assert_ok!(Attestation::submit_pck_crl(
			submitter(),
			bounded(&hex_field("pck_crl")),
			bounded(&field("pck_crl_issuer_chain"))
		));
		assert_ok!(Attestation::submit_tcb_info(
			submitter(),
			bounded(&field("tcb_info")),
			hex_field("tcb_info_signature").try_into().unwrap(),
			bounded(&field("tcb_info_issuer_chain"))
		));
		assert_ok!(Attestation::submit_qe_identity(
			submitter(),
			bounded(&field("qe_identity")),
			hex_field("qe_identity_signature").try_into().unwrap(),
			bounded(&field("qe_identity_issuer_chain"))
		));
	}

	#[test]
	fn the_sample_passes_every_check_but_the_binding_to_this_chain() {
		run_with_root(commons_dcap::INTEL_SGX_ROOT_CA, THEN, || {
			submit_sample_collateral();
			let worker = account(1);
			let keys = TestEnclave::new(1).keys;
			let quote: QuoteBytes = bounded(QUOTE);
			// Its platform is ConfigurationAndSWHardeningNeeded: the default policy refuses it.
			assert_noop!(
				register(&worker, quote.clone(), keys),
				quote_error(Dcap::TcbStatusRefused)
			);
			let mut policy = TcbPolicy::default();
			policy.accepted.try_push(TcbStatus::ConfigurationAndSWHardeningNeeded).unwrap();
			assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), policy));
			// Accepted by the policy, it was still quoted for someone else's report data.
			assert_noop!(register(&worker, quote.clone(), keys), Error::<Test>::ReportDataMismatch);
			// The same quote a month after its collateral's next update.
			Timestamp::set_timestamp(THEN + 60 * DAY);
			assert_noop!(register(&worker, quote, keys), quote_error(Dcap::CrlExpired));
		});
	}
}

#[test]
fn a_policy_s_minimum_evaluation_number_refuses_collateral_from_before_it() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		// The stored TCB info and QE identity are of evaluation number 20.
		submit_collateral("UpToDate");
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		let policy = TcbPolicy { min_evaluation_data_number: Some(21), ..TcbPolicy::default() };
		assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), policy));
		assert_noop!(
			register(&worker, quote_for(&worker, &keys, spec()), keys),
			quote_error(Dcap::TcbEvaluationTooOld)
		);
		let policy = TcbPolicy { min_evaluation_data_number: Some(20), ..TcbPolicy::default() };
		assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), policy));
		assert_ok!(register(&worker, quote_for(&worker, &keys, spec()), keys));
	});
}

#[test]
fn v1_keeps_the_stored_policy_and_requires_no_minimum() {
	use crate::migrations::{v0, MigrateToV1};
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	run(false, || {
		let old = v0::TcbPolicy {
			accepted: vec![TcbStatus::UpToDate, TcbStatus::OutOfDate].try_into().unwrap(),
			out_of_date_grace: 7,
			allowed_advisories: None,
		};
		frame_support::storage::unhashed::put_raw(
			&crate::Policy::<Test>::hashed_key(),
			&old.encode(),
		);
		StorageVersion::new(0).put::<crate::Pallet<Test>>();

		MigrateToV1::<Test>::on_runtime_upgrade();

		let policy = crate::Policy::<Test>::get();
		assert_eq!(policy.accepted.to_vec(), vec![TcbStatus::UpToDate, TcbStatus::OutOfDate]);
		assert_eq!(policy.out_of_date_grace, 7);
		assert_eq!(policy.min_evaluation_data_number, None);
		assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));
	});
}

#[test]
fn an_app_may_name_its_sgx_enclaves_by_signer_product_and_lowest_version() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		submit_collateral("UpToDate");
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		// The synthetic quote's enclave: MRSIGNER [2; 32], ISVPRODID 1, ISVSVN 1.
		assert_ok!(register(&worker, quote_for(&worker, &keys, spec()), keys));
		let signer = |isv_prod_id, min_isv_svn| Measurement::SgxSigner {
			mr_signer: [2; 32],
			isv_prod_id,
			min_isv_svn,
		};
		let allowed = |measurement| {
			Attestation::allowed_enclave(&worker, tag::TEE | tag::SGX, &[measurement], false)
		};
		let pinned = allowed(signer(1, 1)).expect("its signer, product and version");
		assert_eq!(pinned.measurement, Measurement::SgxMrEnclave([1; 32]), "pinned as it is");
		assert!(allowed(signer(1, 0)).is_some());
		assert!(allowed(signer(1, 2)).is_none(), "an older version than the lowest allowed");
		assert!(allowed(signer(2, 1)).is_none(), "another product");
		let stranger =
			Measurement::SgxSigner { mr_signer: [3; 32], isv_prod_id: 1, min_isv_svn: 0 };
		assert!(allowed(stranger).is_none(), "another signer");
	});
}

/// Revocation after registration: anyone evicts a registration on a quote as soon as the
/// chain's current collateral or policy would refuse it, judged from what its quote showed.
mod revocation {
	use super::*;
	use crate::weights::WeightInfo;

	/// `worker` registers an enclave of keys `seed` on a quote through `pck`.
	fn registered(worker: &AccountId, seed: u8, pck: &'static [u8]) {
		let keys = TestEnclave::new(seed).keys;
		assert_ok!(register(worker, quote_for(worker, &keys, QuoteSpec { pck, ..spec() }), keys));
	}

	fn assert_revoked(worker: &AccountId, by: &AccountId, reason: RevocationReason) {
		assert_ok!(evict(by, worker));
		System::assert_last_event(
			Event::EnclaveRevoked { worker: worker.clone(), by: by.clone(), reason }.into(),
		);
		assert!(Enclaves::<Test>::get(worker).is_none());
		assert!(QuotedPlatforms::<Test>::get(worker).is_none());
	}

	#[test]
	fn a_registration_keeps_what_its_quote_showed_about_the_platform() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let worker = account(1);
			registered(&worker, 1, synthetic::PCK);
			let platform = QuotedPlatforms::<Test>::get(&worker).unwrap();
			assert_eq!(platform.root_epoch, 1);
			assert_eq!((platform.kind, platform.pck_ca), (TeeKind::Sgx, PckCa::Platform));
			// pck.der is serial 0x1003 of the PCK CA, itself serial 0x1001 of the root.
			assert_eq!(platform.pck_serial.to_vec(), vec![0x10, 0x03]);
			assert_eq!(platform.pck_ca_serial.to_vec(), vec![0x10, 0x01]);
			assert_eq!(platform.certified.fmspc, synthetic::FMSPC);
			assert_eq!((platform.certified.cpu_svn, platform.certified.pce_svn), ([2; 16], 10));
			assert_eq!(platform.qe.isv_svn, synthetic::QE_ISV_SVN);
			assert_eq!(platform.tdx, None);
		});
	}

	#[test]
	fn a_registration_whose_pck_a_later_list_revokes_is_evicted_by_anyone() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			// The PCK CA's list does not revoke the platform's certificate yet.
			submit_collateral_with(synthetic::PCK_CA_EARLIER_CRL, "UpToDate");
			let (worker, stranger) = (account(1), account(2));
			registered(&worker, 1, synthetic::REVOKED_PCK);
			let pinned = Enclaves::<Test>::get(&worker).unwrap().pinned();
			assert!(Attestation::is_current(&worker, &pinned));
			assert_noop!(evict(&stranger, &worker), Error::<Test>::NotExpired);

			// Its next list does.
			assert_ok!(submit_pck_crl(synthetic::PCK_CA_CRL));
			assert_revoked(&worker, &stranger, RevocationReason::PckRevoked);
			assert_eq!(Attestation::trusted_enclave(&worker), None);
			assert!(!Attestation::is_current(&worker, &pinned));
			let allowed = [Measurement::SgxMrEnclave([1; 32])];
			assert_eq!(
				Attestation::allowed_enclave(&worker, tag::TEE | tag::SGX, &allowed, false),
				None
			);
			assert_noop!(evict(&stranger, &worker), Error::<Test>::NotRegistered);
		});
	}

	#[test]
	fn a_registration_still_admitted_is_only_its_worker_s_to_remove() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral_with(synthetic::PCK_CA_EARLIER_CRL, "UpToDate");
			let (worker, stranger) = (account(1), account(2));
			registered(&worker, 1, synthetic::PCK);
			assert_noop!(evict(&stranger, &worker), Error::<Test>::NotExpired);
			// A newer list that revokes another certificate changes nothing.
			assert_ok!(submit_pck_crl(synthetic::PCK_CA_CRL));
			assert_noop!(evict(&stranger, &worker), Error::<Test>::NotExpired);
			assert_noop!(evict(&worker, &worker), Error::<Test>::NotExpired);
			assert!(Attestation::trusted_enclave(&worker).is_some());
			// A simulated registration has no quote to be judged by: expiry only.
			crate::SimulatedEvidenceAllowed::<Test>::put(true);
			let simulated = TestEnclave::new(3);
			let other = account(3);
			assert_ok!(Attestation::register_simulated(
				RuntimeOrigin::signed(other.clone()),
				TeeKind::Sgx,
				Measurement::SgxMrEnclave([1; 32]),
				simulated.keys,
				simulated.proof(&other),
				ANCHOR,
			));
			assert_noop!(evict(&stranger, &other), Error::<Test>::NotExpired);
		});
	}

	#[test]
	fn a_stricter_policy_lets_anyone_evict_what_it_refuses() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let stranger = account(9);
			let (first, second) = (account(1), account(2));
			registered(&first, 1, synthetic::PCK);
			registered(&second, 2, synthetic::PCK);
			// Its collateral (evaluation 20) is older than the policy now requires.
			let policy = TcbPolicy { min_evaluation_data_number: Some(21), ..TcbPolicy::default() };
			assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), policy));
			assert_revoked(
				&first,
				&stranger,
				RevocationReason::PolicyRefused(Dcap::TcbEvaluationTooOld),
			);
			// Up to date is no longer accepted.
			let strict = TcbPolicy {
				accepted: vec![TcbStatus::SWHardeningNeeded].try_into().unwrap(),
				..TcbPolicy::default()
			};
			assert_ok!(Attestation::set_tcb_policy(RuntimeOrigin::root(), strict));
			assert_revoked(
				&second,
				&stranger,
				RevocationReason::PolicyRefused(Dcap::TcbStatusRefused),
			);
		});
	}

	#[test]
	fn newer_collateral_that_grades_the_platform_lower_lets_anyone_evict_it() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let stranger = account(9);
			let (first, second) = (account(1), account(2));
			registered(&first, 1, synthetic::PCK);
			registered(&second, 2, synthetic::PCK);
			fn newer(
				evaluation_number: u32,
				issue_date: &'static str,
				status: &'static str,
			) -> SignedJson {
				synthetic::tcb_info(&TcbSpec { evaluation_number, issue_date, ..tcb(status) })
			}
			// Intel's next TCB info grades the platform out of date: the policy refuses it.
			assert_ok!(submit_tcb_info(&newer(21, "2026-12-15T00:00:00Z", "OutOfDate")));
			assert_revoked(
				&first,
				&stranger,
				RevocationReason::PolicyRefused(Dcap::TcbStatusRefused),
			);
			// The one after revokes its TCB: no policy admits it.
			assert_ok!(submit_tcb_info(&newer(22, "2026-12-20T00:00:00Z", "Revoked")));
			assert_revoked(&second, &stranger, RevocationReason::PlatformRefused(Dcap::TcbRevoked));
		});
	}

	#[test]
	fn a_new_root_ca_lets_anyone_evict_what_the_old_one_vouched_for() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let (worker, stranger) = (account(1), account(2));
			registered(&worker, 1, synthetic::PCK);
			assert_ok!(Attestation::set_root_ca(
				RuntimeOrigin::root(),
				bounded(commons_dcap::INTEL_SGX_ROOT_CA)
			));
			assert_revoked(&worker, &stranger, RevocationReason::RootCaChanged);
		});
	}

	#[test]
	fn an_expired_registration_on_a_quote_is_evicted_as_before_and_refunded() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let (worker, stranger) = (account(1), account(2));
			registered(&worker, 1, synthetic::PCK);
			Timestamp::set_timestamp(NOW + LIFETIME);
			let post = evict(&stranger, &worker).unwrap();
			assert_eq!(post.actual_weight, Some(<() as WeightInfo>::evict()));
			System::assert_last_event(
				Event::EnclaveEvicted { worker: worker.clone(), by: stranger.clone() }.into(),
			);
			assert!(Enclaves::<Test>::get(&worker).is_none());
			assert!(QuotedPlatforms::<Test>::get(&worker).is_none());
		});
	}

	#[test]
	fn deregistering_or_registering_simulated_evidence_forgets_the_quoted_platform() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let worker = account(1);
			registered(&worker, 1, synthetic::PCK);
			assert_ok!(Attestation::deregister(RuntimeOrigin::signed(worker.clone())));
			assert!(QuotedPlatforms::<Test>::get(&worker).is_none());

			// Replaced by a simulated registration, which no quote vouches for.
			registered(&worker, 1, synthetic::PCK);
			assert!(QuotedPlatforms::<Test>::get(&worker).is_some());
			crate::SimulatedEvidenceAllowed::<Test>::put(true);
			let simulated = TestEnclave::new(2);
			assert_ok!(Attestation::register_simulated(
				RuntimeOrigin::signed(worker.clone()),
				TeeKind::Sgx,
				Measurement::SgxMrEnclave([1; 32]),
				simulated.keys,
				simulated.proof(&worker),
				ANCHOR,
			));
			assert!(QuotedPlatforms::<Test>::get(&worker).is_none());
			// A quote again: what it showed is kept again.
			registered(&worker, 1, synthetic::PCK);
			assert!(QuotedPlatforms::<Test>::get(&worker).is_some());
		});
	}
}

/// Registration verifies only what is new: the PCK CA certificate verified with its revocation
/// list, and the platform evidence of the worker's own current registration, are not checked
/// for their signatures again (and not charged for), but everything that changes with time is.
mod known_evidence {
	use super::*;
	use crate::{weights::WeightInfo, VerifiedPckCas};
	use frame_support::weights::Weight;

	fn charged(result: DispatchResultWithPostInfo) -> Option<Weight> {
		result.expect("registered").actual_weight
	}

	fn known_ca() -> Option<Weight> {
		Some(<() as WeightInfo>::register_quote_known_pck_ca())
	}

	fn known_platform() -> Option<Weight> {
		Some(<() as WeightInfo>::register_quote_known_platform())
	}

	/// `spec`'s quote for `worker` and `keys`, with one bit of byte `at` flipped.
	fn tampered(worker: &AccountId, keys: &EnclaveKeys, at: usize) -> QuoteBytes {
		let mut quote = quote_for(worker, keys, spec()).to_vec();
		quote[at] ^= 1;
		bounded(&quote)
	}

	/// Where the enclave's MRENCLAVE is, which the attestation key signs.
	const MR_ENCLAVE: usize = 48 + 64;
	/// Where the QE report's MRENCLAVE is, which the PCK key signs.
	const QE_MR_ENCLAVE: usize = 48 + 384 + 4 + 128 + 64;

	#[test]
	fn a_renewal_on_the_same_platform_checks_only_its_new_signature() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let (worker, other) = (account(1), account(2));
			let first = TestEnclave::new(1).keys;
			// The chain holds the PCK CA certificate verified with its list.
			assert_eq!(
				charged(register(&worker, quote_for(&worker, &first, spec()), first)),
				known_ca()
			);
			let evidence = QuotedPlatforms::<Test>::get(&worker).unwrap().evidence;

			// The same platform, new keys: the report is new, the rest was verified.
			let second = TestEnclave::new(2).keys;
			assert_eq!(
				charged(register(&worker, quote_for(&worker, &second, spec()), second)),
				known_platform()
			);
			assert_eq!(Enclaves::<Test>::get(&worker).unwrap().keys, second);
			assert_eq!(QuotedPlatforms::<Test>::get(&worker).unwrap().evidence, evidence);
			// The report's signature is checked on every quote.
			assert_noop!(
				register(&worker, tampered(&worker, &second, MR_ENCLAVE), second),
				quote_error(Dcap::QuoteSignatureInvalid)
			);
			// A QE report other than the one verified is other evidence, checked in full.
			assert_noop!(
				register(&worker, tampered(&worker, &second, QE_MR_ENCLAVE), second),
				quote_error(Dcap::QeReportSignatureInvalid)
			);

			// Another worker's registration knows nothing of this one's.
			let third = TestEnclave::new(3).keys;
			assert_eq!(
				charged(register(&other, quote_for(&other, &third, spec()), third)),
				known_ca()
			);
			// Nor does a worker whose registration is gone.
			assert_ok!(Attestation::deregister(RuntimeOrigin::signed(worker.clone())));
			assert_eq!(
				charged(register(&worker, quote_for(&worker, &first, spec()), first)),
				known_ca()
			);

			// Without the verified CA, every signature is checked and charged.
			VerifiedPckCas::<Test>::remove(PckCa::Platform);
			assert_ok!(Attestation::deregister(RuntimeOrigin::signed(other.clone())));
			assert_eq!(charged(register(&other, quote_for(&other, &third, spec()), third)), None);
		});
	}

	#[test]
	fn a_known_platform_is_refused_once_its_certificate_is_revoked() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral_with(synthetic::PCK_CA_EARLIER_CRL, "UpToDate");
			let worker = account(1);
			let keys = TestEnclave::new(1).keys;
			let quote = |keys| {
				quote_for(&worker, keys, QuoteSpec { pck: synthetic::REVOKED_PCK, ..spec() })
			};
			assert_ok!(register(&worker, quote(&keys), keys));
			assert_ok!(submit_pck_crl(synthetic::PCK_CA_CRL));
			let renewed = TestEnclave::new(2).keys;
			assert_noop!(
				register(&worker, quote(&renewed), renewed),
				quote_error(Dcap::CertificateRevoked)
			);
		});
	}

	#[test]
	fn a_known_platform_is_refused_once_its_collateral_lapses() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let worker = account(1);
			let keys = TestEnclave::new(1).keys;
			assert_ok!(register(&worker, quote_for(&worker, &keys, spec()), keys));
			// Past the TCB info's and QE identity's next update (2027-02-01).
			Timestamp::set_timestamp(NOW + 45 * DAY);
			let renewed = TestEnclave::new(2).keys;
			assert!(register(&worker, quote_for(&worker, &renewed, spec()), renewed).is_err());
			assert_eq!(Enclaves::<Test>::get(&worker).unwrap().keys, keys);
		});
	}

	#[test]
	fn a_new_root_forgets_every_verified_certificate_and_platform() {
		run_with_root(synthetic::ROOT_CA, NOW, || {
			submit_collateral("UpToDate");
			let worker = account(1);
			let keys = TestEnclave::new(1).keys;
			assert_ok!(register(&worker, quote_for(&worker, &keys, spec()), keys));
			assert_ok!(Attestation::set_root_ca(
				RuntimeOrigin::root(),
				bounded(synthetic::ROOT_CA)
			));
			submit_collateral("UpToDate");
			VerifiedPckCas::<Test>::mutate(PckCa::Platform, |verified| {
				verified.as_mut().unwrap().root_epoch = 1
			});
			// The old root's platform and CA are not trusted under the new one.
			let renewed = TestEnclave::new(2).keys;
			assert_eq!(
				charged(register(&worker, quote_for(&worker, &renewed, spec()), renewed)),
				None
			);
		});
	}
}

#[test]
fn v2_parses_the_stored_collateral_and_knows_no_platform() {
	use crate::migrations::{v1, MigrateToV2};
	use codec::Encode;
	use commons_dcap::{Crl, QeIdentity, TcbInfo};
	use frame_support::{
		storage::unhashed::put_raw,
		traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	};
	run_with_root(synthetic::ROOT_CA, NOW, || {
		// What v1 kept, written over what a submission and a registration stored: the DER and
		// the JSON as submitted, and a platform without evidence.
		let crl = |der: &[u8]| v1::StoredCrl { der: bounded(der), this_update: 0, root_epoch: 1 };
		let json = |json: &[u8]| v1::StoredJson {
			json: bounded(json),
			evaluation_number: 20,
			issue_date: 0,
			next_update: 0,
			root_epoch: 1,
		};
		let info = synthetic::tcb_info(&tcb("UpToDate"));
		let worker = account(1);
		let keys = TestEnclave::new(1).keys;
		submit_collateral("UpToDate");
		assert_ok!(register(&worker, quote_for(&worker, &keys, spec()), keys));
		let platform = QuotedPlatforms::<Test>::get(&worker).unwrap();
		let old_platform = v1::QuotedPlatform {
			root_epoch: platform.root_epoch,
			kind: platform.kind,
			pck_ca: platform.pck_ca,
			pck_ca_serial: platform.pck_ca_serial.clone(),
			pck_serial: platform.pck_serial.clone(),
			pck_chain_not_after: platform.pck_chain_not_after,
			certified: platform.certified,
			qe: platform.qe,
			tdx: platform.tdx,
		};
		put_raw(&QuotedPlatforms::<Test>::hashed_key_for(&worker), &old_platform.encode());
		put_raw(&RootCaCrl::<Test>::hashed_key(), &crl(synthetic::ROOT_CA_CRL).encode());
		put_raw(
			&PckCrls::<Test>::hashed_key_for(PckCa::Platform),
			&crl(synthetic::PCK_CA_CRL).encode(),
		);
		put_raw(
			&TcbInfos::<Test>::hashed_key_for(TeeKind::Sgx, synthetic::FMSPC),
			&json(&info.json).encode(),
		);
		// A piece that no longer parses is dropped, to be submitted again.
		put_raw(&QeIdentities::<Test>::hashed_key_for(TeeKind::Sgx), &json(b"{}").encode());
		StorageVersion::new(1).put::<crate::Pallet<Test>>();

		MigrateToV2::<Test>::on_runtime_upgrade();

		let root = commons_dcap::pki::Cert::from_der(synthetic::ROOT_CA).unwrap();
		let root_crl = Crl::from_der(synthetic::ROOT_CA_CRL).unwrap().verified_by(&root).unwrap();
		assert_eq!(RootCaCrl::<Test>::get().unwrap().revocations.get(), &root_crl);
		// A PCK CA's list is bound to its CA, which v1 did not keep: submitted again.
		assert_eq!(PckCrls::<Test>::get(PckCa::Platform), None);
		let stored = TcbInfos::<Test>::get(TeeKind::Sgx, synthetic::FMSPC).unwrap();
		assert_eq!(stored.info.get(), &TcbInfo::parse(&info.json).unwrap());
		assert_eq!(QeIdentities::<Test>::get(TeeKind::Sgx), None);
		assert!(QeIdentity::parse(b"{}").is_err());
		let migrated = QuotedPlatforms::<Test>::get(&worker).unwrap();
		assert_eq!(migrated, QuotedPlatform { evidence: [0; 32], ..platform });
		assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(2));

		// With its PCK CA's list and QE identity submitted again, but the CA forgotten, the
		// worker's next quote is checked in full.
		assert_ok!(submit_pck_crl(synthetic::PCK_CA_CRL));
		assert_ok!(submit_qe_identity(&synthetic::qe_identity(
			"2026-12-01T00:00:00Z",
			"2027-02-01T00:00:00Z",
			20
		)));
		crate::VerifiedPckCas::<Test>::remove(PckCa::Platform);
		let renewed = TestEnclave::new(2).keys;
		let result = register(&worker, quote_for(&worker, &renewed, spec()), renewed);
		assert_eq!(result.unwrap().actual_weight, None);
	});
}

#[test]
fn a_root_change_that_would_reuse_an_epoch_is_refused() {
	run_with_root(synthetic::ROOT_CA, NOW, || {
		crate::RootEpoch::<Test>::put(u32::MAX);
		assert_noop!(
			Attestation::set_root_ca(RuntimeOrigin::root(), bounded(synthetic::ROOT_CA)),
			Error::<Test>::RootEpochExhausted
		);
	});
}
