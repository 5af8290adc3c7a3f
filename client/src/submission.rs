//! Submitting a transaction and learning what became of it: signing a call for the live chain,
//! then following it to a finalized block, for its events or the runtime's error
//! ([`ClientError::Dispatch`], named with the runtime's own error types).

use std::time::Duration;

use commons_runtime::{
	governance::ProxyType,
	signing::{sign, Lifetime},
	AccountId, Hash, Nonce, RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};
use sp_core::{sr25519, Pair};

use crate::{Chain, ClientError, DispatchFailure};

/// How long a transaction may take to reach a finalized block.
const FINALITY_TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait before submitting again a transaction the pool dropped or had no room for,
/// the first time; the wait doubles each time after, up to [`MAX_RESUBMISSION_DELAY`].
const RESUBMISSION_DELAY: Duration = Duration::from_secs(2);

/// The longest wait between two submissions of one transaction: a block, so that a burst that
/// fills the pool for a while is outwaited within a block of its end.
const MAX_RESUBMISSION_DELAY: Duration = Duration::from_secs(6);

/// How many blocks a transaction stays valid for after the block it was signed at (about 6
/// minutes): long past [`FINALITY_TIMEOUT`], and a transaction lost on the way can never be
/// replayed later.
const MORTAL_PERIOD: u64 = 64;

/// How far finality may lag behind the best block for a transaction still to be anchored at the
/// last finalized block (which no fork can drop); beyond it, the best block anchors it.
const MAX_FINALITY_LAG: u32 = 16;

/// Who a tool's calls are made by: a key acting for its own account, or a hot key acting as a
/// proxy of a cold account, which holds the funds and is the one the calls act for.
#[derive(Clone)]
pub struct Signer {
	pair: sr25519::Pair,
	proxied: Option<(AccountId, ProxyType)>,
}

impl Signer {
	/// `pair`, acting for its own account.
	pub fn new(pair: sr25519::Pair) -> Self {
		Self { pair, proxied: None }
	}

	/// `pair`, acting as a proxy of type `proxy_type` for `real` (which added it with
	/// `proxy.addProxy`).
	pub fn proxy_of(pair: sr25519::Pair, real: AccountId, proxy_type: ProxyType) -> Self {
		Self { pair, proxied: Some((real, proxy_type)) }
	}

	/// The account the calls act for.
	pub fn account(&self) -> AccountId {
		match &self.proxied {
			Some((real, _)) => real.clone(),
			None => AccountId::from(self.pair.public()),
		}
	}

	/// Whether the key acts as a proxy of another account.
	pub fn is_proxy(&self) -> bool {
		self.proxied.is_some()
	}

	/// The account the key acts for as a proxy, and as which type, if it is one.
	pub fn proxied(&self) -> Option<(&AccountId, ProxyType)> {
		self.proxied.as_ref().map(|(real, proxy_type)| (real, *proxy_type))
	}

	/// The key that signs (and pays for) the transactions.
	pub fn pair(&self) -> &sr25519::Pair {
		&self.pair
	}

	/// `call` as this signer submits it: wrapped in `proxy.proxy` for a proxy.
	pub fn call(&self, call: RuntimeCall) -> RuntimeCall {
		match &self.proxied {
			Some((real, proxy_type)) => RuntimeCall::Proxy(pallet_proxy::Call::proxy {
				real: real.clone().into(),
				force_proxy_type: Some(*proxy_type),
				call: Box::new(call),
			}),
			None => call,
		}
	}
}

impl Chain {
	/// Signs `call` with `signer`'s key (mortal: valid for [`MORTAL_PERIOD`] blocks from the
	/// last finalized block, or from the best one if finality lags more than
	/// [`MAX_FINALITY_LAG`] blocks; at its next nonce; no tip) and submits it; returns the
	/// extrinsic. A node
	/// whose runtime encodes transactions differently from this program's is refused before
	/// anything is signed ([`ClientError::IncompatibleRuntime`]).
	pub async fn sign_and_submit(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let nonce = self.next_nonce(&AccountId::from(signer.public())).await?;
		self.sign_and_submit_at(call, signer, nonce).await
	}

	/// As [`Chain::sign_and_submit`], at `nonce`: a transaction signed again at the nonce of one
	/// the pool may have dropped, so that only one of the two can be included.
	pub async fn sign_and_submit_at(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
		nonce: Nonce,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let extrinsic = self.signed(call, signer, nonce).await?;
		self.submit(&extrinsic).await?;
		Ok(extrinsic)
	}

	/// `call` signed by `signer` at `nonce` for the live chain, as [`Chain::sign_and_submit`]
	/// describes.
	async fn signed(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
		nonce: Nonce,
	) -> Result<UncheckedExtrinsic, ClientError> {
		let chain = self.chain_identity().await?;
		let best = self.best_number().await?;
		let finalized = self.finalized_hash().await?;
		let finalized_number = self.block_number(finalized).await?;
		let (from_number, from_hash) = if best.saturating_sub(finalized_number) <= MAX_FINALITY_LAG
		{
			(finalized_number, finalized)
		} else {
			(best, self.block_hash(best).await?)
		};
		let lifetime = Lifetime::Mortal { period: MORTAL_PERIOD, from_number, from_hash };
		Ok(sign(call, signer, nonce, lifetime, 0, &chain))
	}

	/// Signs and submits `call`, follows it to a finalized block, and returns the events it
	/// emitted there; a failed dispatch is [`ClientError::Dispatch`], whose runtime error can be
	/// matched on and is shown by name. A call made through a proxy that failed (a transaction
	/// that succeeded, with `ProxyExecuted` carrying the error) fails the same way. A
	/// transaction the pool lost on the way is [`ClientError::Lost`]. Its steps are logged at
	/// info level (target `commons::submission`): a person at a terminal sees it progress.
	///
	/// One the pool drops (full, or its queue of transactions waiting for an earlier nonce
	/// overflowed) or has no room for is signed again at the same nonce and submitted again,
	/// waiting longer each time, until [`FINALITY_TIMEOUT`]: the pool bans the bytes it dropped
	/// for a while, and whichever copy is included, the nonce lets only one be.
	pub async fn submit_and_wait(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
	) -> Result<Vec<RuntimeEvent>, ClientError> {
		Ok(self.submit_and_follow(call, signer).await?.events)
	}

	/// As [`Chain::submit_and_wait`], and says which finalized block included the transaction.
	pub async fn submit_and_follow(
		&self,
		call: RuntimeCall,
		signer: &sr25519::Pair,
	) -> Result<Included, ClientError> {
		let nonce = self.next_nonce(&AccountId::from(signer.public())).await?;
		let deadline = tokio::time::Instant::now() + FINALITY_TIMEOUT;
		// What a person waiting at a terminal sees between sending and the answer; a service
		// logs it too, one transaction at a time.
		let called = frame_support::traits::GetCallMetadata::get_call_metadata(&call);
		let name = format!("{}.{}", called.pallet_name, called.function_name);
		let progress = |step: &str| log::info!(target: "commons::submission", "{name} at nonce {nonce}: {step}");
		let mut resubmissions = 0;
		let (block, extrinsic) = loop {
			let extrinsic = self.signed(call.clone(), signer, nonce).await?;
			match self.submit_and_watch(&extrinsic, deadline, progress).await {
				Ok(block) => break (block, extrinsic),
				Err(error @ (ClientError::Dropped | ClientError::PoolFull)) => {
					// A full pool answers "no room" for anything it cannot rank, an outdated
					// transaction too: once the nonce is used, no copy can land any more.
					if self.account_nonce(&AccountId::from(signer.public())).await? > nonce {
						return Err(ClientError::Lost(format!(
							"{error}, and nonce {nonce} is now used on chain: a copy dropped \
							 earlier may have been included; check the account before \
							 submitting again"
						)));
					}
					let wait = resubmission_delay(resubmissions);
					if tokio::time::Instant::now() + wait >= deadline {
						return Err(ClientError::Lost(format!(
							"{error}, for {} s: check the account's nonce before submitting \
							 again",
							FINALITY_TIMEOUT.as_secs()
						)));
					}
					resubmissions += 1;
					progress(&format!(
						"{error}; signed and submitted again in {} s",
						wait.as_secs()
					));
					tokio::time::sleep(wait).await;
				}
				Err(error) if resubmissions > 0 => {
					return Err(ClientError::Lost(format!(
						"{error}; a copy the pool dropped earlier may still be included at nonce \
						 {nonce}: check the account's nonce before submitting again"
					)))
				}
				Err(error) => return Err(error),
			}
		};
		progress(&format!("finalized in block {block:?}"));
		let index = self.extrinsic_index(block, &extrinsic).await?;
		let mut events = Vec::new();
		for record in self.events(block).await? {
			if record.phase != frame_system::Phase::ApplyExtrinsic(index) {
				continue;
			}
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = &record.event
			{
				return Err(ClientError::Dispatch(DispatchFailure::new(*dispatch_error)));
			}
			if let RuntimeEvent::Proxy(pallet_proxy::Event::ProxyExecuted {
				result: Err(dispatch_error),
			}) = &record.event
			{
				return Err(ClientError::Dispatch(DispatchFailure::new(*dispatch_error)));
			}
			events.push(record.event);
		}
		Ok(Included { block, events })
	}
}

/// How long to wait before the submission after `resubmissions` earlier ones.
fn resubmission_delay(resubmissions: u32) -> Duration {
	RESUBMISSION_DELAY
		.saturating_mul(1 << resubmissions.min(8))
		.min(MAX_RESUBMISSION_DELAY)
}

/// A transaction in the finalized block that included it.
#[derive(Debug)]
pub struct Included {
	/// The block's hash.
	pub block: Hash,
	/// What the transaction emitted there.
	pub events: Vec<RuntimeEvent>,
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_transaction_is_submitted_again_ever_later_up_to_a_block_apart() {
		let waits: Vec<u64> = (0..5).map(|n| resubmission_delay(n).as_secs()).collect();
		assert_eq!(waits, [2, 4, 6, 6, 6]);
		assert_eq!(resubmission_delay(u32::MAX), MAX_RESUBMISSION_DELAY);
	}
}
