//! # Commons primitives
//!
//! The types and constants that several Commons crates must agree on bit for bit: the runtime's
//! pallets, the compute node, the client and the key service. Each is defined once, here, so that
//! no crate depends on a pallet only to name a type, and a pallet that only needs another's
//! types (the attestation pallet) depends on this crate instead.
//!
//! - [`tag`]: the feature bits orders ask for and workers offer.
//! - [`enclave`]: what identifies and reaches a trusted enclave: its measurement, its keys and
//!   signatures, a dataset key sealed to it, and the registry the protocol asks about enclaves.
//! - [`domains`]: the labels that separate what each key signs or derives, versioned so that a
//!   change of format cannot be mistaken for the old one.
//!
//! Everything is `no_std` and SCALE-encoded, with the `MaxEncodedLen` the chain's bounded storage
//! needs.

#![cfg_attr(not(feature = "std"), no_std)]

pub mod domains;
pub mod enclave;
pub mod tag;

pub use enclave::{
	is_small_order_x25519, tdx_measurement, EnclaveRegistry, EnclaveSignature, EnclaveSigningKey,
	Measurement, PinnedEnclave, SealedDatasetKey, X25519PublicKey,
};
pub use tag::Tag;
