//! Hardware evidence: collateral submitted and checked, quotes registered when every check
//! passes and refused with the failing check's error otherwise, on the synthetic PKI (whose
//! quotes can commit to a test worker) and on Intel's own samples.

use crate::{
	mock::*, types::*, Enclaves, Error, Event, PckCrls, QeIdentities, RootCaCrl, TcbInfos,
};
use commons_dcap::{
	synthetic::{self, QuoteSpec, SignedJson, TcbSpec},
	Error as Dcap,
};
use commons_primitives::{tag, EnclaveRegistry, Measurement};
use frame_support::{assert_noop, assert_ok, BoundedVec};
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
	assert_ok!(Attestation::submit_root_ca_crl(submitter(), bounded(synthetic::ROOT_CA_CRL)));
	assert_ok!(Attestation::submit_pck_crl(
		submitter(),
		bounded(synthetic::PCK_CA_CRL),
		bounded(&synthetic::pck_ca_chain())
	));
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
) -> sp_runtime::DispatchResult {
	Attestation::register_quote(RuntimeOrigin::signed(worker.clone()), quote, None, keys, ANCHOR)
}

fn quote_error(error: Dcap) -> Error<Test> {
	Error::<Test>::Verification(error)
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
			TcbInfos::<Test>::get(TeeKind::Sgx, synthetic::FMSPC).unwrap().evaluation_number,
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
