//! Following a submitted transaction to a finalized block: over a WebSocket subscription
//! (`author_submitAndWatchExtrinsic`, on the node's RPC port) where the node serves one, else by
//! reading blocks over HTTP.

use std::time::Duration;

use codec::Encode;
use commons_runtime::{Hash, UncheckedExtrinsic};
use jsonrpsee::{
	core::client::{Subscription, SubscriptionClientT},
	ws_client::WsClientBuilder,
};
use serde_json::Value;
use sp_core::bytes::to_hex;
use tokio::time::{timeout_at, Instant};

use crate::{chain::parse_hash, rpc_params, Chain, ClientError};

/// How often the blocks are read while a transaction is followed without a subscription, or
/// while its block waits for finality.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Where a watched transaction stands, from a notification of `author_submitAndWatchExtrinsic`.
#[derive(Debug, PartialEq)]
enum TransactionStatus {
	/// On its way: in the pool or broadcast (said in words).
	Pending(String),
	/// Its block left the best chain: back in the pool.
	Retracted,
	/// In this block of the best chain, not finalized yet.
	InBlock(Hash),
	/// In this block, which the pool stopped watching before it was finalized.
	InBlockUnwatched(Hash),
	/// In this finalized block.
	Finalized(Hash),
	/// Dropped by this node's pool (full, or its queue of transactions waiting
	/// for an earlier nonce overflowed): not included by this
	/// node, and another copy, signed again at the same nonce, may be submitted.
	Dropped,
	/// Gone without being finalized, and why.
	Lost(String),
}

impl TransactionStatus {
	/// The status `notification` reports: a string (`"ready"`, `"dropped"`) or an object with
	/// one field (`{"inBlock": "0x…"}`), as the node's pool writes them.
	fn read(notification: &Value) -> Result<Self, ClientError> {
		let bad = || ClientError::Decode {
			what: format!("the transaction status {notification}"),
			message: "not a status of author_submitAndWatchExtrinsic".into(),
		};
		if let Some(word) = notification.as_str() {
			return Ok(match word {
				"future" => Self::Pending("waiting in the pool for an earlier nonce".into()),
				"ready" => Self::Pending("ready in the pool".into()),
				"dropped" => Self::Dropped,
				"invalid" => Self::Lost("it became invalid in the pool".into()),
				_ => return Err(bad()),
			});
		}
		let (kind, value) = notification
			.as_object()
			.filter(|object| object.len() == 1)
			.and_then(|object| object.iter().next())
			.ok_or_else(bad)?;
		Ok(match kind.as_str() {
			"broadcast" => Self::Pending("broadcast to peers".into()),
			"inBlock" => Self::InBlock(parse_hash(value)?),
			"retracted" => Self::Retracted,
			"finalized" => Self::Finalized(parse_hash(value)?),
			"finalityTimeout" => Self::InBlockUnwatched(parse_hash(value)?),
			"usurped" => Self::Lost(format!(
				"replaced by transaction {} with the same nonce",
				value.as_str().unwrap_or_default()
			)),
			_ => return Err(bad()),
		})
	}
}

impl Chain {
	/// Submits `extrinsic` and follows it until a finalized block holds it, or `deadline`;
	/// returns that block. `progress` hears each step (`ready`, `in block 0x…`).
	///
	/// A transaction the pool has no room for is [`ClientError::PoolFull`], one it refuses
	/// otherwise [`ClientError::Refused`]; one it drops is [`ClientError::Dropped`] (sign it
	/// again at the same nonce to retry: the pool bans the dropped bytes for a while, and one
	/// nonce is included once at most); one found invalid later or replaced is
	/// [`ClientError::Lost`]. One the pool stops watching once a block holds it (dropped to make
	/// room, before the block is final) is followed by that block. Past `deadline`, an error that
	/// says it may still be finalized.
	pub async fn submit_and_watch(
		&self,
		extrinsic: &UncheckedExtrinsic,
		deadline: Instant,
		progress: impl Fn(&str),
	) -> Result<Hash, ClientError> {
		const METHOD: &str = "author_submitAndWatchExtrinsic";
		let socket = match WsClientBuilder::default().build(self.websocket_url()).await {
			Ok(socket) => socket,
			Err(error) => {
				progress(&format!("no WebSocket ({error}): following the blocks over HTTP"));
				return self.submit_and_poll(extrinsic, deadline, progress).await;
			}
		};
		let subscribed = socket.subscribe::<Value, _>(
			METHOD,
			rpc_params![to_hex(&extrinsic.encode(), false)],
			"author_unwatchExtrinsic",
		);
		let mut statuses: Subscription<Value> = timeout_at(deadline, subscribed)
			.await
			.map_err(|_| not_finalized_by_deadline())?
			.map_err(|error| self.submission_error(METHOD, error))?;
		// The best-chain block that holds it, once one does.
		let mut included = None;
		loop {
			let status = match timeout_at(deadline, statuses.next()).await {
				Err(_) => return Err(not_finalized_by_deadline()),
				Ok(None) => {
					return Err(ClientError::Rpc {
						node: self.name.clone(),
						method: METHOD.into(),
						message: "the node closed the subscription before the transaction was \
						          finalized; it may still be"
							.into(),
					})
				}
				Ok(Some(Err(error))) => {
					return Err(ClientError::Decode {
						what: format!("a notification of {METHOD}"),
						message: error.to_string(),
					})
				}
				Ok(Some(Ok(status))) => status,
			};
			match (TransactionStatus::read(&status)?, included) {
				(TransactionStatus::Finalized(block), _) => return Ok(block),
				(TransactionStatus::Pending(step), _) => progress(&step),
				(TransactionStatus::Retracted, _) => {
					included = None;
					progress("its block left the best chain");
				}
				(TransactionStatus::InBlock(block), _) => {
					included = Some(block);
					progress(&format!("in block {block:?}"));
				}
				(TransactionStatus::InBlockUnwatched(block), _) => {
					progress(&format!("in block {block:?}, waiting for its finality"));
					return self.wait_until_finalized(block, deadline).await;
				}
				// The pool may forget a transaction it included before its block is final (to
				// make room for others): the block says what became of it.
				(TransactionStatus::Dropped | TransactionStatus::Lost(_), Some(block)) => {
					progress(&format!(
						"in block {block:?}, no longer watched by the pool: waiting for its \
						 finality"
					));
					return self.wait_until_finalized(block, deadline).await;
				}
				(TransactionStatus::Dropped, None) => return Err(ClientError::Dropped),
				(TransactionStatus::Lost(why), None) => return Err(ClientError::Lost(why)),
			}
		}
	}

	/// Submits `extrinsic` over HTTP and reads the best chain's new blocks until one holds it,
	/// then waits for that block's finality: for nodes reached without a WebSocket.
	async fn submit_and_poll(
		&self,
		extrinsic: &UncheckedExtrinsic,
		deadline: Instant,
		progress: impl Fn(&str),
	) -> Result<Hash, ClientError> {
		let from = self.best_number().await?;
		self.submit(extrinsic).await?;
		progress("submitted");
		loop {
			if let Ok((block, _)) = self.find_extrinsic(extrinsic, from).await {
				progress(&format!("in block {block:?}"));
				return self.wait_until_finalized(block, deadline).await;
			}
			if Instant::now() >= deadline {
				return Err(not_finalized_by_deadline());
			}
			tokio::time::sleep(POLL_INTERVAL).await;
		}
	}

	/// Waits until `block` is finalized, or the finalized chain shows another block at its
	/// height ([`ClientError::Lost`]: its transactions may be in another block, or none).
	async fn wait_until_finalized(
		&self,
		block: Hash,
		deadline: Instant,
	) -> Result<Hash, ClientError> {
		let number = self.block_number(block).await?;
		loop {
			if self.finalized_number().await? >= number {
				return match self.block_hash(number).await? == block {
					true => Ok(block),
					false => Err(ClientError::Lost(format!(
						"its block {block:?} left the chain before it was finalized"
					))),
				};
			}
			if Instant::now() >= deadline {
				return Err(not_finalized_by_deadline());
			}
			tokio::time::sleep(POLL_INTERVAL).await;
		}
	}

	/// The WebSocket address of the node: its HTTP address with the `ws` (`wss`) scheme, since a
	/// Substrate node serves both on one port. [`Chain::new`] takes only HTTP(S) addresses.
	fn websocket_url(&self) -> String {
		match self.url.split_once("://") {
			Some(("https", rest)) => format!("wss://{rest}"),
			Some(("http", rest)) => format!("ws://{rest}"),
			_ => self.url.clone(),
		}
	}
}

/// The error of a transaction not followed to finality in time.
fn not_finalized_by_deadline() -> ClientError {
	ClientError::Other("the transaction was not finalized in time; it may still be".into())
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn watched_statuses_read_as_the_pool_writes_them() {
		let block = "0x1111111111111111111111111111111111111111111111111111111111111111";
		let read = |text: &str| TransactionStatus::read(&serde_json::from_str(text).unwrap());
		assert!(matches!(read(r#""ready""#), Ok(TransactionStatus::Pending(_))));
		assert!(matches!(read(r#"{"broadcast": ["12D3Koo"]}"#), Ok(TransactionStatus::Pending(_))));
		let in_block = read(&format!(r#"{{"inBlock": "{block}"}}"#)).unwrap();
		assert_eq!(in_block, TransactionStatus::InBlock(Hash::repeat_byte(0x11)));
		let finalized = read(&format!(r#"{{"finalized": "{block}"}}"#)).unwrap();
		assert_eq!(finalized, TransactionStatus::Finalized(Hash::repeat_byte(0x11)));
		let unwatched = read(&format!(r#"{{"finalityTimeout": "{block}"}}"#)).unwrap();
		assert_eq!(unwatched, TransactionStatus::InBlockUnwatched(Hash::repeat_byte(0x11)));
		assert_eq!(read(r#""dropped""#).unwrap(), TransactionStatus::Dropped);
		let retracted = read(&format!(r#"{{"retracted": "{block}"}}"#)).unwrap();
		assert_eq!(retracted, TransactionStatus::Retracted);
		for lost in [r#""invalid""#, r#"{"usurped": "0x12"}"#] {
			assert!(matches!(read(lost), Ok(TransactionStatus::Lost(_))), "{lost}");
		}
		assert!(read(r#""maybe""#).is_err());
		assert!(read(r#"{"inBlock": "0x11", "finalized": "0x11"}"#).is_err());
		assert!(read(r#"{"finalized": "0x11"}"#).is_err(), "a hash of one byte");
	}

	#[test]
	fn the_websocket_is_on_the_http_address() {
		let socket = |url: &str| Chain::new("node", url).unwrap().websocket_url();
		assert_eq!(socket("http://127.0.0.1:9944"), "ws://127.0.0.1:9944");
		assert_eq!(socket("https://rpc.example.org/x"), "wss://rpc.example.org/x");
	}
}
