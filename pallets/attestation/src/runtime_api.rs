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
	pub root_ca_crl: Vec<u8>,
	pub pck_crl: Vec<u8>,
	pub pck_crl_issuer_chain: Vec<u8>,
	pub tcb_info: Vec<u8>,
	pub tcb_info_signature: EcdsaSignature,
	pub tcb_info_issuer_chain: Vec<u8>,
	pub qe_identity: Vec<u8>,
	pub qe_identity_signature: EcdsaSignature,
	pub qe_identity_issuer_chain: Vec<u8>,
}

/// What the verifier found in an accepted quote (before the chain's TCB policy).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct QuoteVerdict {
	pub kind: TeeKind,
	pub measurement: Measurement,
	pub status: TcbStatus,
	pub advisories: Vec<Vec<u8>>,
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
