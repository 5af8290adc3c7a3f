//! Domain-separation labels: each signature, hash and key derivation of the protocol starts with
//! one, so that nothing signed or derived for one purpose is valid for another. The version
//! suffix changes whenever the format behind it does.

/// What an order's owner signs: `SCALE((ORDER, genesis hash, kind, order))`.
pub const ORDER: &[u8] = b"commons/order/v1";

/// What a sponsor signs to pay for a request: `SCALE((SPONSORSHIP, genesis hash, order hash))`.
pub const SPONSORSHIP: &[u8] = b"commons/sponsorship/v1";

/// What an enclave signs over its vote: `SCALE((ENCLAVE_RESULT, task, result hash, seal))`.
pub const ENCLAVE_RESULT: &[u8] = b"commons/result/v1";

/// What an enclave's evidence binds in its report data: its worker, its keys, the chain and a
/// recent block of it.
pub const ENCLAVE_REPORT_DATA: &[u8] = b"commons/enclave/v2";

/// The label of the key derivation that encrypts a dataset's content.
pub const DATASET: &[u8] = b"commons/dataset/v1";

/// What a dataset's key sealed to one enclave for one task is bound to: the start of its RFC 9180
/// HPKE `info`, `DATASET_KEY_SEAL ‖ task id`. (v2: HPKE; v1 was an HPKE-like construction.)
pub const DATASET_KEY_SEAL: &[u8] = b"commons/dataset-key/v2";

/// What a confidential task's result sealed to its beneficiary is bound to: the start of its RFC
/// 9180 HPKE `info`, `RESULT_SEAL ‖ task id`. Not [`ENCLAVE_RESULT`], which labels what an
/// enclave signs: a label names one purpose only.
pub const RESULT_SEAL: &[u8] = b"commons/result-seal/v1";

/// What a TDX trust domain's measurement hashes its MRTD and RTMRs under.
pub const TDX_MEASUREMENT: &[u8] = b"commons/tdx-measurement/v1";
