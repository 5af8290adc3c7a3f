//! Quote verification: an Intel DCAP quote checked against the collateral, then the TCB policy and
//! the binding to its worker and keys, before its enclave is registered.

use crate::{
	collateral::StoredCollateral, runtime_api, types::*, Config, Error, Pallet, Policy,
	QuotedPlatforms, RootCa, RootEpoch, WeightInfo,
};
use alloc::vec::Vec;
use commons_dcap::{collateral as dcap_collateral, Report, VerifiedBefore};
use commons_primitives::{tdx_measurement, Measurement};
use frame_support::{dispatch::DispatchResultWithPostInfo, ensure};

impl<T: Config> Pallet<T> {
	/// [`Pallet::register_quote`] for `worker`.
	pub(crate) fn do_register_quote(
		worker: T::AccountId,
		quote: QuoteBytes,
		pck_chain: Option<PemChain>,
		keys: EnclaveKeys,
		anchor: frame_system::pallet_prelude::BlockNumberFor<T>,
	) -> DispatchResultWithPostInfo {
		Self::ensure_usable_keys(&keys)?;
		// Cheap, so first: stale or misdirected evidence costs no signature check.
		let expected = Self::report_data(&worker, &keys, anchor)?;
		let now = Self::now_secs();
		ensure!(RootCa::<T>::exists(), Error::<T>::NoRootCa);
		// The platform the worker's current registration was verified on: a renewal on it is
		// not checked for the same signatures again.
		let source = StoredCollateral::<T>::knowing(QuotedPlatforms::<T>::get(&worker));
		let verified = commons_dcap::verify_quote(
			&source,
			&quote,
			pck_chain.as_ref().map(|chain| &chain[..]),
			now,
		)
		.map_err(Error::<T>::Verification)?;
		Self::with_policy(|policy| policy.admits(&verified, now))
			.map_err(Error::<T>::Verification)?;
		let report_data = verified.report_data();
		ensure!(
			report_data[..32] == expected && report_data[32..] == [0u8; 32],
			Error::<T>::ReportDataMismatch
		);
		// Kept to judge the registration again by later collateral (`Pallet::evict`). The
		// verifier parses no serial number longer than the stored bound, so this never fails.
		let platform = QuotedPlatform::new(&verified.platform, RootEpoch::<T>::get())
			.ok_or(Error::<T>::Verification(commons_dcap::Error::CertificateMalformed))?;
		let identity = match &verified.report {
			Report::Sgx(report) => QuotedIdentity::Sgx {
				mr_signer: report.mr_signer,
				isv_prod_id: report.isv_prod_id,
				isv_svn: report.isv_svn,
			},
			Report::Td(report) => QuotedIdentity::Tdx { rtmrs: report.rtmrs },
		};
		let (kind, measurement) = (verified.tee.into(), measurement_of(&verified.report));
		let attester =
			Attester::IntelDcap { status: verified.status, fmspc: verified.fmspc, identity };
		QuotedPlatforms::<T>::insert(&worker, platform);
		Self::store_enclave(worker, kind, measurement, keys, attester);
		// Charged for checking every signature: refund those verified before.
		let weight = match verified.verified_before {
			VerifiedBefore::Nothing => None,
			VerifiedBefore::PckCa => Some(T::WeightInfo::register_quote_known_pck_ca()),
			VerifiedBefore::Platform => Some(T::WeightInfo::register_quote_known_platform()),
		};
		Ok(weight.into())
	}

	/// Runs `judge` with the stored TCB policy, in the verifier's form.
	pub(crate) fn with_policy<R>(judge: impl FnOnce(&commons_dcap::TcbPolicy<'_>) -> R) -> R {
		let policy = Policy::<T>::get();
		let allowed: Option<Vec<Vec<u8>>> = policy
			.allowed_advisories
			.as_ref()
			.map(|ids| ids.iter().map(|id| id.to_vec()).collect());
		judge(&commons_dcap::TcbPolicy {
			accepted: &policy.accepted,
			out_of_date_grace: policy.out_of_date_grace,
			allowed_advisories: allowed.as_deref(),
			min_evaluation_data_number: policy.min_evaluation_data_number,
		})
	}

	/// [`runtime_api::AttestationApi::check_quote`]: verifies `quote` against `collateral` at
	/// `at` under the stored root CA, storing nothing.
	pub fn check_quote(
		quote: &[u8],
		collateral: &runtime_api::QuoteCollateral,
		pck_chain: Option<&[u8]>,
		at: u64,
	) -> Result<runtime_api::QuoteVerdict, commons_dcap::Error> {
		let root = RootCa::<T>::get().ok_or(commons_dcap::Error::UntrustedRoot)?;
		let raw = dcap_collateral::RawCollateral {
			root_ca_crl: &collateral.root_ca_crl,
			pck_crl: &collateral.pck_crl,
			pck_crl_issuer_chain: &collateral.pck_crl_issuer_chain,
			tcb_info: &collateral.tcb_info,
			tcb_info_signature: collateral.tcb_info_signature,
			tcb_info_issuer_chain: &collateral.tcb_info_issuer_chain,
			qe_identity: &collateral.qe_identity,
			qe_identity_signature: collateral.qe_identity_signature,
			qe_identity_issuer_chain: &collateral.qe_identity_issuer_chain,
		};
		let bundle = dcap_collateral::Bundle::verify(&root, &raw, at)?;
		let verified = commons_dcap::verify_quote(&bundle, quote, pck_chain, at)?;
		Ok(runtime_api::QuoteVerdict {
			kind: verified.tee.into(),
			measurement: measurement_of(&verified.report),
			status: verified.status,
			advisories: verified.advisories.iter().map(|id| id.as_bytes().to_vec()).collect(),
			report_data: *verified.report_data(),
		})
	}
}

/// The measurement apps allow: an SGX enclave's MRENCLAVE, a TD's MRTD and RTMRs
/// ([`tdx_measurement`]).
fn measurement_of(report: &Report) -> Measurement {
	match report {
		Report::Sgx(report) => Measurement::SgxMrEnclave(report.mr_enclave),
		Report::Td(report) => Measurement::Tdx(tdx_measurement(&report.mr_td, &report.rtmrs)),
	}
}
