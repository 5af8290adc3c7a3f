//! What can go wrong when the client talks to a node or fetches what the chain points at:
//! [`ClientError`], and the runtime's errors named from the runtime's own types
//! and documentation ([`DispatchFailure`], [`describe`], [`documentation`]).

use std::fmt;

use commons_runtime::RuntimeError;
use scale_info::{TypeDef, TypeInfo};
use sp_runtime::{DispatchError, ModuleError};

use crate::digest::DigestError;

/// Why a call of the client failed.
///
/// Callers that still return `Result<_, String>` turn it into its message with `?`
/// (`From<ClientError> for String`).
#[derive(Debug)]
pub enum ClientError {
	/// A JSON-RPC call failed: the node could not be reached, or it answered with an error.
	Rpc {
		/// The node's name, as the [`Chain`](crate::Chain) was created with.
		node: String,
		/// The JSON-RPC method called.
		method: String,
		/// What the JSON-RPC client reported.
		message: String,
	},
	/// Something the node answered, or a file, is not what it should be.
	Decode {
		/// What could not be decoded.
		what: String,
		/// Why.
		message: String,
	},
	/// The node's transaction pool refused a transaction (invalid, outdated, banned, or not
	/// payable), with the pool's reason.
	Refused(String),
	/// The node's transaction pool is full of transactions that all outrank this one, and did not
	/// take it. Unlike a refusal, it may take the same call later, once blocks make room.
	PoolFull,
	/// A transaction was included and its dispatch failed.
	Dispatch(DispatchFailure),
	/// The node's transaction pool dropped a transaction it had taken (full, or its queue of
	/// transactions waiting for an earlier nonce overflowed): that node will not include it.
	Dropped,
	/// A transaction the pool had taken left it without being finalized: found invalid later,
	/// replaced by another with the same nonce, or its block left the chain; why is said.
	Lost(String),
	/// The node runs a runtime whose transactions this program may encode differently (another
	/// chain's, or another `transaction_version`): nothing was signed.
	IncompatibleRuntime {
		/// The node's name.
		node: String,
		/// The runtime the node runs: spec name, spec and transaction version.
		live: String,
		/// The runtime this program was built with.
		built: String,
	},
	/// A URI could not be fetched.
	Fetch {
		/// The URI.
		uri: String,
		/// Why it could not be fetched.
		message: String,
	},
	/// What was fetched does not match the sha256 the chain recorded for it.
	ChecksumMismatch {
		/// Where it was fetched from.
		uri: String,
		/// The sha256 the chain recorded.
		expected: [u8; 32],
		/// The sha256 of what was fetched.
		actual: [u8; 32],
	},
	/// A local file or directory could not be read or written.
	Io {
		/// What was being done, for example `cannot read /path/to/file`.
		action: String,
		/// The operating system's error.
		error: std::io::Error,
	},
	/// Anything else, said in words.
	Other(String),
}

impl ClientError {
	/// The runtime's error, if this is a failed dispatch of a pallet's call that this client's
	/// runtime knows: match on it, for example
	/// `Some(RuntimeError::Attestation(pallet_attestation::Error::CollateralNotNewer))`.
	pub fn runtime_error(&self) -> Option<RuntimeError> {
		match self {
			ClientError::Dispatch(failure) => failure.runtime_error(),
			_ => None,
		}
	}
}

impl fmt::Display for ClientError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ClientError::Rpc { node, method, message } => {
				write!(f, "{node}: {method} failed: {message}")
			}
			ClientError::Decode { what, message } => write!(f, "cannot decode {what}: {message}"),
			ClientError::Refused(reason) => {
				write!(f, "the transaction pool refused the transaction: {reason}")
			}
			ClientError::Dispatch(failure) => write!(f, "{failure}"),
			ClientError::PoolFull => f.write_str(
				"the node's transaction pool is full of transactions that outrank this one, and did \
				 not take it",
			),
			ClientError::Dropped => f.write_str(
				"the node's transaction pool dropped the transaction (full, or over its limit per \
				 sender)",
			),
			ClientError::Lost(what) => write!(f, "the transaction was not finalized: {what}"),
			ClientError::IncompatibleRuntime { node, live, built } => write!(
				f,
				"{node} runs {live}, but this program was built for {built}: a transaction it \
				 signs could mean another call there, so it signs nothing; use a release built \
				 for the chain's runtime"
			),
			ClientError::Fetch { uri, message } => write!(f, "cannot fetch {uri}: {message}"),
			ClientError::ChecksumMismatch { uri, expected, actual } => write!(
				f,
				"{uri} does not match its registered sha256: expected {}, got {}",
				sp_core::hexdisplay::HexDisplay::from(expected),
				sp_core::hexdisplay::HexDisplay::from(actual)
			),
			ClientError::Io { action, error } => write!(f, "{action}: {error}"),
			ClientError::Other(message) => f.write_str(message),
		}
	}
}

impl std::error::Error for ClientError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			ClientError::Io { error, .. } => Some(error),
			_ => None,
		}
	}
}

/// Its message: for callers that still return `Result<_, String>`.
impl From<ClientError> for String {
	fn from(error: ClientError) -> String {
		error.to_string()
	}
}

/// An output directory that cannot be digested: unreadable ([`ClientError::Io`]) or empty.
impl From<DigestError> for ClientError {
	fn from(error: DigestError) -> ClientError {
		match error {
			DigestError::Io(path, error) => {
				ClientError::Io { action: format!("cannot read {}", path.display()), error }
			}
			DigestError::NoOutput => ClientError::Other(DigestError::NoOutput.to_string()),
		}
	}
}

/// A transaction's failed dispatch, as the chain recorded it in `ExtrinsicFailed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispatchFailure {
	/// The error the chain recorded.
	pub error: DispatchError,
}

impl DispatchFailure {
	/// The failure the chain recorded as `error`.
	pub fn new(error: DispatchError) -> Self {
		Self { error }
	}

	/// The runtime's typed error (`RuntimeError::<Pallet>(<pallet's Error>)`), if `error` is a
	/// pallet's error that this client's runtime can decode.
	pub fn runtime_error(&self) -> Option<RuntimeError> {
		RuntimeError::from_dispatch_error(self.error)
	}
}

impl fmt::Display for DispatchFailure {
	/// The runtime error's name, as [`describe`] gives it, and what the runtime's documentation
	/// says of it: `Contribution::UnknownDeal: No deal with unsettled tasks has that id.`
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(&describe(&self.error))?;
		match documentation(&self.error) {
			Some(text) => write!(f, ": {text}"),
			None => Ok(()),
		}
	}
}

/// The documentation of the pallet error `error`, as the runtime's types carry it (the text the
/// chain's metadata gives wallets), on one line and without rustdoc's link marks; `None` for an
/// error that is not a pallet's, or has no documentation.
pub fn documentation(error: &DispatchError) -> Option<String> {
	let DispatchError::Module(ModuleError { index, error, .. }) = error else { return None };
	// The runtime's error enum has a variant per pallet, at the pallet's index, holding the
	// pallet's error enum, whose variants are at the first byte of `error`.
	let TypeDef::Variant(pallets) = RuntimeError::type_info().type_def else { return None };
	let pallet = pallets.variants.iter().find(|pallet| pallet.index == *index)?;
	let TypeDef::Variant(errors) = pallet.fields.first()?.ty.type_info().type_def else {
		return None;
	};
	let variant = errors.variants.iter().find(|variant| variant.index == error[0])?;
	let text = variant
		.docs
		.iter()
		.map(|line| line.trim())
		.filter(|line| !line.is_empty())
		.collect::<Vec<_>>()
		.join(" ")
		.replace(['`', '[', ']'], "");
	(!text.is_empty()).then_some(text)
}

/// The name of the runtime error `error`, for example `Marketplace::NoSuchOrder`, decoded with
/// the runtime's own error types (frame-support's `RuntimeError`, which covers every pallet of
/// the runtime). A refused quote or collateral says why inside, with the verifier's own error:
/// `Attestation::Verification(CrlExpired)`. Errors that are not a pallet's, or that do not
/// decode, are named by their `Debug` form (`BadOrigin`).
pub fn describe(error: &DispatchError) -> String {
	match RuntimeError::from_dispatch_error(*error) {
		Some(RuntimeError::Attestation(pallet_attestation::Error::Verification(why))) => {
			format!("Attestation::Verification({why:?})")
		}
		Some(runtime_error) => pallet_and_variant(&runtime_error),
		None => format!("{error:?}"),
	}
}

/// `Pallet::Variant` from `RuntimeError`'s derived `Debug`, which is `Pallet(Variant)`: the outer
/// enum's variants are named after the runtime's pallets, and a pallet error's `Debug` is its
/// variant's name.
fn pallet_and_variant(error: &RuntimeError) -> String {
	let debug = format!("{error:?}");
	match debug.split_once('(') {
		Some((pallet, inner)) => format!("{pallet}::{}", inner.strip_suffix(')').unwrap_or(inner)),
		None => debug,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;
	use commons_runtime::Runtime;
	use frame_support::traits::PalletInfoAccess;
	use sp_runtime::ModuleError;

	fn module_error(index: usize, error: impl Encode) -> DispatchError {
		let mut bytes = [0u8; 4];
		let encoded = error.encode();
		bytes[..encoded.len()].copy_from_slice(&encoded);
		DispatchError::Module(ModuleError { index: index as u8, error: bytes, message: None })
	}

	#[test]
	fn runtime_errors_are_named_by_pallet_and_variant() {
		let unknown_app = module_error(
			commons_runtime::Marketplace::index(),
			pallet_marketplace::Error::<Runtime>::UnknownApp,
		);
		assert_eq!(describe(&unknown_app), "Marketplace::UnknownApp");
		let refused = module_error(
			commons_runtime::Attestation::index(),
			pallet_attestation::Error::<Runtime>::SimulatedEvidenceRefused,
		);
		assert_eq!(describe(&refused), "Attestation::SimulatedEvidenceRefused");
		let expired = module_error(
			commons_runtime::Attestation::index(),
			pallet_attestation::Error::<Runtime>::Verification(commons_dcap::Error::CrlExpired),
		);
		assert_eq!(describe(&expired), "Attestation::Verification(CrlExpired)");
		assert_eq!(describe(&DispatchError::BadOrigin), "BadOrigin");
		// Every pallet of the runtime is named, frame-system's too.
		let filtered = DispatchError::from(frame_system::Error::<Runtime>::CallFiltered);
		assert_eq!(describe(&filtered), "System::CallFiltered");
	}

	#[test]
	fn a_runtime_error_is_shown_with_its_documentation() {
		let unknown_deal = DispatchError::from(pallet_contribution::Error::<Runtime>::UnknownDeal);
		assert_eq!(
			DispatchFailure::new(unknown_deal).to_string(),
			"Contribution::UnknownDeal: No deal with unsettled tasks has that id."
		);
		let expired = module_error(
			commons_runtime::Attestation::index(),
			pallet_attestation::Error::<Runtime>::Verification(commons_dcap::Error::CrlExpired),
		);
		let shown = DispatchFailure::new(expired).to_string();
		assert!(shown.starts_with("Attestation::Verification(CrlExpired): "), "{shown}");
		// Not a pallet's error: the name alone.
		assert_eq!(DispatchFailure::new(DispatchError::BadOrigin).to_string(), "BadOrigin");
		assert_eq!(documentation(&DispatchError::BadOrigin), None);
	}

	#[test]
	fn a_failed_dispatch_is_matched_on_its_runtime_error_and_shown_by_name_and_documentation() {
		let error = ClientError::Dispatch(DispatchFailure::new(DispatchError::from(
			pallet_attestation::Error::<Runtime>::CollateralNotNewer,
		)));
		assert!(matches!(
			error.runtime_error(),
			Some(RuntimeError::Attestation(pallet_attestation::Error::CollateralNotNewer))
		));
		let shown = "Attestation::CollateralNotNewer: The collateral is not newer than what is \
		             stored (same or earlier issue).";
		assert_eq!(error.to_string(), shown);
		assert_eq!(String::from(error), shown);
		assert!(ClientError::Other("no".into()).runtime_error().is_none());
	}
}
