//! Trusted enclaves as the protocol sees them: what an app allows them to run (a
//! [`Measurement`]), the keys and signatures by which they are reached and recognised, a dataset
//! key sealed to one of them, and the registry of attested enclaves ([`EnclaveRegistry`]) that
//! the task pallet asks and the attestation pallet answers.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::Tag;

/// A TEE measurement an app's trusted build may run under.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum Measurement {
	/// An SGX enclave's MRENCLAVE.
	SgxMrEnclave([u8; 32]),
	/// A TDX trust domain's measurement: [`tdx_measurement`] of its MRTD and its run-time
	/// measurement registers RTMR0–3.
	///
	/// MRTD alone names only the firmware (TDVF) the TD was built with, which on a cloud is the
	/// same for every tenant's guest; the RTMRs hold what that firmware and the guest's boot
	/// measured: RTMR0 the TD's configuration, RTMR1 the kernel (or unified kernel image), RTMR2
	/// its command line and initrd, RTMR3 whatever the guest extends at run time (an image that
	/// extends it lists the values it reaches). MRCONFIGID, MROWNER and MROWNERCONFIG are not
	/// covered: whoever launches the TD chooses them and the protocol gives them no meaning, so
	/// an image whose behaviour depends on configuration must measure it into an RTMR.
	Tdx([u8; 48]),
	/// Any SGX enclave its signer vouches for: signed by the key whose hash is `mr_signer`
	/// (MRSIGNER), of product `isv_prod_id` (ISVPRODID), at security version `min_isv_svn`
	/// (ISVSVN) or later. An app that names its signer this way accepts the signer's later
	/// builds without listing each MRENCLAVE, and refuses builds older than a vulnerable one
	/// by raising the minimum. Only hardware evidence shows these fields: a simulated enclave
	/// never matches one.
	SgxSigner {
		/// MRSIGNER: the SHA-256 hash of the enclave signer's public key modulus.
		mr_signer: [u8; 32],
		/// ISVPRODID: the product the signer assigned the enclave to.
		isv_prod_id: u16,
		/// The lowest ISVSVN (security version) accepted.
		min_isv_svn: u16,
	},
}

/// The [`Measurement::Tdx`] of a TD whose MRTD is `mr_td` and whose RTMR0–3 are `rtmrs`:
/// SHA-384 over the domain [`crate::domains::TDX_MEASUREMENT`], then MRTD, then RTMR0 to RTMR3.
pub fn tdx_measurement(mr_td: &[u8; 48], rtmrs: &[[u8; 48]; 4]) -> [u8; 48] {
	use sha2::{Digest, Sha384};
	let mut hasher = Sha384::new();
	hasher.update(crate::domains::TDX_MEASUREMENT);
	hasher.update(mr_td);
	for rtmr in rtmrs {
		hasher.update(rtmr);
	}
	hasher.finalize().into()
}

/// A signature by an enclave's key (64 bytes: ed25519, sr25519, or ECDSA r ‖ s).
pub type EnclaveSignature = [u8; 64];

/// An X25519 public key: an enclave's encryption key, or a sealer's ephemeral key.
pub type X25519PublicKey = [u8; 32];

/// A confidential dataset's 32-byte key sealed to one enclave for one task, so that only that
/// enclave can read it: RFC 9180 HPKE, base mode, suite DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
/// ChaCha20-Poly1305, one single-shot seal with info [`crate::domains::DATASET_KEY_SEAL`] ‖ task
/// id and the task id as associated data, so any RFC 9180 implementation opens it. The chain
/// checks who it is for; only the enclave can check what it holds.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct SealedDatasetKey {
	/// HPKE's `enc`: the dataset owner's one-time X25519 key.
	pub ephemeral: X25519PublicKey,
	/// The enclave's encryption key it was sealed to.
	pub recipient: X25519PublicKey,
	/// HPKE's ciphertext: the encrypted dataset key (32 bytes) and the AEAD tag (16 bytes).
	pub ciphertext: [u8; 48],
}

/// The X25519 points of small order, in canonical form: a Diffie-Hellman agreement with any of
/// them gives the all-zero secret whatever the other secret is, so anything sealed to one is
/// readable by everyone. (X25519 ignores the top bit of a key, so a key is compared with it
/// cleared.)
pub const SMALL_ORDER_X25519: [X25519PublicKey; 7] = [
	// 0 and 1.
	[0; 32],
	[
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0,
	],
	// The two points of order 8.
	[
		0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
		0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
		0xb8, 0x00,
	],
	[
		0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
		0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
		0x11, 0x57,
	],
	// p - 1, p and p + 1 (p = 2^255 - 19): -1, and non-canonical encodings of 0 and 1.
	[
		0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0x7f,
	],
	[
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0x7f,
	],
	[
		0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0x7f,
	],
];

/// Whether `key` is an X25519 public key of small order, in any encoding: a key nothing may be
/// sealed to, since the agreed secret would be zero (RFC 7748 §6.1 lets a party check for this;
/// the registry refuses such keys and sealers refuse them too).
pub fn is_small_order_x25519(key: &X25519PublicKey) -> bool {
	let mut canonical = *key;
	canonical[31] &= 0x7f;
	SMALL_ORDER_X25519.contains(&canonical)
}

/// An ed25519 public key: the key an enclave signs its results with.
pub type EnclaveSigningKey = [u8; 32];

/// The enclave a worker was assigned a TEE task with: its measurement and keys as registered
/// then. The task accepts results, and its dataset's key, only for this enclave, so that a worker
/// cannot swap in another enclave (of another measurement, or one it controls) after it was
/// chosen.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct PinnedEnclave {
	/// The enclave's measurement.
	pub measurement: Measurement,
	/// The ed25519 key it signs results with.
	pub signing: EnclaveSigningKey,
	/// The X25519 key a dataset's key is sealed to for it.
	pub encryption: X25519PublicKey,
}

/// What the protocol asks about workers' enclaves: the registry of attested enclaves.
pub trait EnclaveRegistry<AccountId> {
	/// `worker`'s enclave, if it has an attested, unexpired one of the TEE kind `tag` asks for,
	/// whose measurement is one of `allowed`. For a task that reads an encrypted dataset
	/// (`confidential`), only evidence the chain trusts with data counts: never simulated
	/// evidence, except on a chain whose genesis allows it for confidential data (development).
	fn allowed_enclave(
		worker: &AccountId,
		tag: Tag,
		allowed: &[Measurement],
		confidential: bool,
	) -> Option<PinnedEnclave>;

	/// Whether `worker`'s attested, unexpired enclave is still `pinned`: same measurement and
	/// keys. Re-attesting the same enclave keeps it; new keys, expiry or eviction do not.
	fn is_current(worker: &AccountId, pinned: &PinnedEnclave) -> bool;

	/// Whether `signature` is `worker`'s enclave's signature over `message`.
	fn verify_enclave_signature(
		worker: &AccountId,
		message: &[u8],
		signature: &EnclaveSignature,
	) -> bool;

	/// Gives `worker` an attested enclave of `measurement` with encryption key `encryption`, for
	/// benchmarks.
	#[cfg(feature = "runtime-benchmarks")]
	fn attest_for_benchmark(
		worker: &AccountId,
		measurement: Measurement,
		encryption: X25519PublicKey,
	);

	/// `worker`'s enclave's signature over `message`, for benchmarks of the calls that check it.
	#[cfg(feature = "runtime-benchmarks")]
	fn sign_for_benchmark(worker: &AccountId, message: &[u8]) -> EnclaveSignature;
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_tdx_measurement_changes_with_the_firmware_and_every_rtmr() {
		let (mr_td, rtmrs) = ([1u8; 48], [[2u8; 48], [3; 48], [4; 48], [5; 48]]);
		let base = tdx_measurement(&mr_td, &rtmrs);
		assert_ne!(tdx_measurement(&[9; 48], &rtmrs), base);
		for index in 0..4 {
			let mut changed = rtmrs;
			changed[index][0] ^= 1;
			assert_ne!(tdx_measurement(&mr_td, &changed), base, "RTMR{index}");
		}
		// Registers are not interchangeable.
		let mut swapped = rtmrs;
		swapped.swap(1, 2);
		assert_ne!(tdx_measurement(&mr_td, &swapped), base);
	}

	#[test]
	fn small_order_keys_are_recognised_in_either_encoding_of_their_top_bit() {
		for point in SMALL_ORDER_X25519 {
			assert!(is_small_order_x25519(&point));
			let mut high = point;
			high[31] |= 0x80;
			assert!(is_small_order_x25519(&high));
		}
		// The base point (u = 9) and an arbitrary key are of large order.
		let mut base = [0u8; 32];
		base[0] = 9;
		assert!(!is_small_order_x25519(&base));
		assert!(!is_small_order_x25519(&[0x42; 32]));
	}
}
