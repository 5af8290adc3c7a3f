//! The attestation pallet's runtime API: lets an operator (and the end-to-end tests) run the
//! runtime's own quote verifier on a quote and collateral of their choice, storing nothing.

use crate::types::{EcdsaSignature, TcbStatus, TeeKind};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use commons_primitives::Measurement;
use scale_info::TypeInfo;

/// Collateral for one quote, as Intel's PCS serves it (DER lists, PEM chains, signed JSON).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct QuoteCollateral {
	/// The root CA's revocation list, DER.
	pub root_ca_crl: Vec<u8>,
	/// The revocation list of the PCK CA that issued the quote's PCK certificate, DER.
	pub pck_crl: Vec<u8>,
	/// The PCK CA's chain, PEM: the CA, then the root.
	pub pck_crl_issuer_chain: Vec<u8>,
	/// The TCB info body (`tcbInfo`), exactly as Intel signed it.
	pub tcb_info: Vec<u8>,
	/// The signature over `tcb_info`, raw `r ‖ s`.
	pub tcb_info_signature: EcdsaSignature,
	/// The TCB signing certificate's chain, PEM: the signer, then the root.
	pub tcb_info_issuer_chain: Vec<u8>,
	/// The QE identity body (`enclaveIdentity`), exactly as Intel signed it.
	pub qe_identity: Vec<u8>,
	/// The signature over `qe_identity`, raw `r ‖ s`.
	pub qe_identity_signature: EcdsaSignature,
	/// The TCB signing certificate's chain, PEM: the signer, then the root.
	pub qe_identity_issuer_chain: Vec<u8>,
}

/// What the verifier found in an accepted quote (before the chain's TCB policy).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct QuoteVerdict {
	/// The TEE the quote reports on.
	pub kind: TeeKind,
	/// Its measurement: the enclave's MRENCLAVE or the TD's MRTD.
	pub measurement: Measurement,
	/// Intel's grade of the platform, quoting enclave and (TDX) module, combined.
	pub status: TcbStatus,
	/// The Intel security advisories affecting them, as ASCII ids (`INTEL-SA-…`).
	pub advisories: Vec<Vec<u8>>,
	/// The 64 bytes of report data the enclave or TD chose.
	pub report_data: [u8; 64],
}

sp_api::decl_runtime_apis! {
	/// Quote checks for operators.
	pub trait AttestationApi {
		/// Verifies `quote` against `collateral` at `at` (Unix seconds) under this chain's
		/// root CA, with the checks registration makes before its policy and binding.
		/// `pck_chain` is for quotes that do not carry their PCK chain.
		fn check_quote(
			quote: Vec<u8>,
			collateral: QuoteCollateral,
			pck_chain: Option<Vec<u8>>,
			at: u64,
		) -> Result<QuoteVerdict, commons_dcap::Error>;
	}
}
