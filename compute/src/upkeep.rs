//! What keeps a compute node eligible for tasks, done at start and on every new block: its place
//! in its workerpool (joined, and joined again after an expulsion), its heartbeat, and its
//! enclave's registration.
//!
//! The enclave registers as a simulated one (development chains), or, given a
//! [`QuoteProvider`], with a DCAP quote of the TEE hardware it runs on. Either way its evidence
//! carries the report data of `Upkeep::report_data`, the one place the compute node computes
//! it.

use std::sync::Arc;

use commons_client::{
	dry_run::{check_signer, Finding},
	Chain, Signer,
};
use commons_runtime::{AccountId, BlockNumber, Runtime, RuntimeCall};
use pallet_attestation::{Attester, EnclaveKeys, QuoteBytes};
use pallet_marketplace::{Tag, WorkerpoolId};

use crate::{evidence::QuoteProvider, tee::SimulatedEnclave, LOG_TARGET};

/// Re-attest when the registration has less than this left, in milliseconds.
const REATTEST_MARGIN_MS: u64 = 60 * 60 * 1000;

/// How many blocks a request to join, or a heartbeat, is given to be included before it is sent
/// again.
const RESUBMIT_AFTER_BLOCKS: BlockNumber = 10;

/// The workerpool a compute node is to be a member of.
pub struct PoolToJoin {
	/// The pool's id.
	pub workerpool: WorkerpoolId,
	/// The endpoint announced to the pool: where the scheduler pushes tasks.
	pub endpoint: String,
	/// The capability tags announced.
	pub capabilities: Tag,
}

/// A compute node's membership, heartbeat and enclave registration, and what it last sent.
pub struct Upkeep {
	chain: Chain,
	signer: Signer,
	account: AccountId,
	/// The enclave TEE tasks run in, in TEE mode.
	enclave: Option<Arc<SimulatedEnclave>>,
	/// Where the enclave's quotes come from, on TEE hardware; `None` for a simulated enclave.
	quotes: Option<Arc<dyn QuoteProvider>>,
	pool: Option<PoolToJoin>,
	/// The block a heartbeat was last submitted at.
	heartbeat_sent: Option<BlockNumber>,
	/// The best block when this worker last sent a request to join its pool.
	join_sent: Option<BlockNumber>,
}

impl Upkeep {
	/// The upkeep of the worker `signer` acts for, on `chain`.
	pub fn new(
		chain: Chain,
		signer: Signer,
		enclave: Option<Arc<SimulatedEnclave>>,
		pool: Option<PoolToJoin>,
	) -> Self {
		let account = signer.account();
		Self {
			chain,
			signer,
			account,
			enclave,
			quotes: None,
			pool,
			heartbeat_sent: None,
			join_sent: None,
		}
	}

	/// The same upkeep, registering its enclave with DCAP quotes from `quotes` (the enclave's
	/// TEE hardware) instead of as a simulated enclave.
	pub fn with_quote_provider(mut self, quotes: Arc<dyn QuoteProvider>) -> Self {
		self.quotes = Some(quotes);
		self
	}

	/// Registers the enclave and joins the pool. An error here is an error of the node's setup
	/// (another pool, an endpoint too long, an enclave the chain refuses), for its operator.
	pub async fn start(&mut self) -> Result<(), String> {
		if let Some(mismatch) = self.capabilities_mismatch().await? {
			return Err(mismatch);
		}
		self.attest().await?;
		if self.pool.is_some() {
			let best = self.chain.best_number().await?;
			self.join(best).await?;
		}
		Ok(())
	}

	/// Joins the pool again if the worker was expelled, sends a heartbeat when due, and renews
	/// the enclave's registration before it expires; `best` is the new best block. Errors are
	/// logged: the next block tries again.
	pub async fn on_new_block(&mut self, best: BlockNumber) {
		if let Some(workerpool) = self.pool.as_ref().map(|pool| pool.workerpool) {
			if let Err(error) = self.join(best).await {
				log::warn!(target: LOG_TARGET, "joining workerpool {workerpool}: {error}");
			}
		}
		if let Err(error) = self.heartbeat(best).await {
			log::warn!(target: LOG_TARGET, "heartbeat: {error}");
		}
		if let Err(error) = self.attest().await {
			log::warn!(target: LOG_TARGET, "{error}");
		}
	}

	/// What is wrong if this worker is a member of its pool with other capabilities than this
	/// node announces: the scheduler assigns by the capabilities on chain, so a node that lost
	/// its container engine (or its enclave) would be given tasks it cannot run, and one that
	/// gained one would never be. A membership's capabilities are set when it joins.
	async fn capabilities_mismatch(&self) -> Result<Option<String>, String> {
		let Some(pool) = &self.pool else { return Ok(None) };
		let membership = self.chain.pool_member(pool.workerpool, &self.account).await?;
		Ok(membership
			.filter(|member| member.capabilities != pool.capabilities)
			.map(|member| {
				format!(
				"{} is a member of workerpool {} with the capabilities {} (tag bits), and this \
				 node announces {}: start it with the options it joined with, or leave the pool \
				 (marketplace.leaveWorkerpool) to join again with these",
				self.account, pool.workerpool, member.capabilities, pool.capabilities
			)
			}))
	}

	/// Joins the pool unless this worker is a member of it already, or asked to join less than
	/// [`RESUBMIT_AFTER_BLOCKS`] before `best`. A worker that was silent on a task loses its
	/// place in the pool, and takes it again here.
	async fn join(&mut self, best: BlockNumber) -> Result<(), String> {
		let Some(pool) = &self.pool else { return Ok(()) };
		match self.chain.workerpool_of(&self.account).await? {
			Some(current) if current == pool.workerpool => return Ok(()),
			Some(other) => return Err(format!("already a member of workerpool {other}")),
			None if self
				.join_sent
				.is_some_and(|sent| best < sent.saturating_add(RESUBMIT_AFTER_BLOCKS)) =>
			{
				return Ok(())
			}
			None => {}
		}
		if self.signer.is_proxy() {
			// A `ComputeNode` proxy may not choose the pool the account stakes in.
			self.join_sent = Some(best);
			return Err(format!(
				"{} is not a member of workerpool {}, and a compute node acting as its proxy \
				 cannot join for it: join from the account (marketplace.joinWorkerpool)",
				self.account, pool.workerpool
			));
		}
		let call = pallet_marketplace::Call::join_workerpool {
			workerpool: pool.workerpool,
			endpoint: pool
				.endpoint
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| format!("the endpoint URL {} is too long", pool.endpoint))?,
			capabilities: pool.capabilities,
		};
		self.chain
			.sign_and_submit(self.signer.call(RuntimeCall::Marketplace(call)), self.signer.pair())
			.await?;
		self.join_sent = Some(best);
		log::info!(
			target: LOG_TARGET,
			"joining workerpool {} with endpoint {}",
			pool.workerpool,
			pool.endpoint
		);
		Ok(())
	}

	/// Registers the enclave on chain unless it is registered with these keys, on evidence of
	/// this kind (simulated or a quote), and far from expiring.
	async fn attest(&self) -> Result<(), String> {
		let Some(enclave) = &self.enclave else { return Ok(()) };
		let registered = self.chain.enclave(&self.account).await?;
		let now = self.chain.now().await?;
		let current = registered.is_some_and(|registered| {
			registered.keys == enclave.keys
				&& matches!(registered.attester, Attester::Simulated) == self.quotes.is_none()
				&& registered.expires_at > now.saturating_add(REATTEST_MARGIN_MS)
		});
		if current {
			return Ok(());
		}
		let (anchor, report_data) = self.report_data(&enclave.keys).await?;
		let Some(quotes) = &self.quotes else {
			let call = pallet_attestation::Call::register_simulated {
				kind: enclave.kind,
				measurement: enclave.measurement(),
				keys: enclave.keys,
				// The chain checks the signature over the binding hash, the first 32 bytes.
				proof: enclave.sign(&report_data[..32]),
				anchor,
			};
			self.chain
				.submit_and_wait(
					self.signer.call(RuntimeCall::Attestation(call)),
					self.signer.pair(),
				)
				.await
				.map_err(|error| format!("registering the simulated enclave: {error}"))?;
			log::info!(
				target: LOG_TARGET,
				"SIMULATED enclave registered ({:?}, not real TEE hardware)",
				enclave.kind
			);
			return Ok(());
		};
		let quote = take_quote(quotes.clone(), report_data).await?;
		let size = quote.len();
		let call = pallet_attestation::Call::register_quote {
			quote,
			pck_chain: None,
			keys: enclave.keys,
			anchor,
		};
		self.chain
			.submit_and_wait(self.signer.call(RuntimeCall::Attestation(call)), self.signer.pair())
			.await
			.map_err(|error| {
				format!("registering the enclave with its {:?} quote: {error}", enclave.kind)
			})?;
		log::info!(
			target: LOG_TARGET,
			"enclave registered with a {:?} DCAP quote ({size} bytes), verified by the chain",
			enclave.kind
		);
		Ok(())
	}

	/// The block the enclave's evidence binds (its anchor) and the report data it carries for
	/// `keys`: the chain's binding hash (`pallet_attestation::Pallet::report_data`: this worker,
	/// `keys`, the chain's genesis hash and the anchor's hash), then 32 zero bytes. The one place
	/// the compute node computes it, for simulated and quoted evidence alike.
	///
	/// The anchor is the last finalized block, which no fork can replace, unless finality lags
	/// so far that it would be too old by the time the evidence is included: then the best
	/// block's parent.
	async fn report_data(&self, keys: &EnclaveKeys) -> Result<(BlockNumber, [u8; 64]), String> {
		let max_age = self.chain.protocol_parameters().await?.max_evidence_age;
		let (finalized, best) =
			(self.chain.finalized_number().await?, self.chain.best_number().await?);
		let anchor = if best.saturating_sub(finalized) < max_age / 2 {
			finalized
		} else {
			best.saturating_sub(1)
		};
		let genesis = self.chain.block_hash(0).await?;
		let anchor_hash = self.chain.block_hash(anchor).await?;
		let binding = pallet_attestation::Pallet::<Runtime>::report_data_for(
			&self.account,
			keys,
			genesis.as_ref(),
			anchor_hash.as_ref(),
		);
		let mut report_data = [0u8; 64];
		report_data[..32].copy_from_slice(&binding);
		Ok((anchor, report_data))
	}

	/// Sends a heartbeat when the last one is a third of the liveness window old, so the
	/// scheduler keeps counting this worker as alive.
	async fn heartbeat(&mut self, best: BlockNumber) -> Result<(), String> {
		let window = self.chain.protocol_parameters().await?.worker_liveness_window;
		let Some(workerpool) = self.chain.workerpool_of(&self.account).await? else {
			return Ok(());
		};
		let membership = self
			.chain
			.pool_member(workerpool, &self.account)
			.await?
			.ok_or("the pool lost this member")?;
		let due = membership.last_heartbeat.saturating_add(window / 3);
		let pending = self.heartbeat_sent.is_some_and(|sent| sent > membership.last_heartbeat);
		let resubmit =
			self.heartbeat_sent.unwrap_or_default().saturating_add(RESUBMIT_AFTER_BLOCKS);
		if best < due || (pending && best < resubmit) {
			return Ok(());
		}
		let call = pallet_marketplace::Call::heartbeat {};
		self.chain
			.sign_and_submit(self.signer.call(RuntimeCall::Marketplace(call)), self.signer.pair())
			.await?;
		self.heartbeat_sent = Some(best);
		Ok(())
	}
}

impl Upkeep {
	/// What [`Upkeep::start`] would find, checked without submitting anything: the key's funds
	/// for fees and, for a proxy, the account's proxy entry; the pool membership it would take,
	/// and the enclave it would register (for a hardware enclave, a quote is taken to show the
	/// interface works).
	pub async fn check(&self) -> Result<Vec<Finding>, String> {
		let mut findings = check_signer(&self.chain, &self.signer).await?;
		if let Some(mismatch) = self.capabilities_mismatch().await? {
			findings.push(Finding::new(false, mismatch));
		}
		if let Some(pool) = &self.pool {
			let finding = match self.chain.workerpool_of(&self.account).await? {
				Some(current) if current == pool.workerpool => Finding::new(
					true,
					format!("{} is a member of workerpool {current}", self.account),
				),
				Some(other) => Finding::new(
					false,
					format!(
						"{} is a member of workerpool {other}, not {}: leave it first",
						self.account, pool.workerpool
					),
				),
				None if self.signer.is_proxy() => Finding::new(
					false,
					format!(
						"{} is not a member of workerpool {}, and a proxy cannot join for it: \
						 join from the account",
						self.account, pool.workerpool
					),
				),
				None => Finding::new(
					true,
					format!(
						"not a member of workerpool {} yet: joins it on start",
						pool.workerpool
					),
				),
			};
			findings.push(finding);
		}
		if let Some(enclave) = &self.enclave {
			let registered = self.chain.enclave(&self.account).await?;
			let now = self.chain.now().await?;
			let what = match registered {
				Some(registered)
					if registered.keys == enclave.keys && registered.expires_at > now =>
				{
					format!("its {:?} enclave is registered with these keys", enclave.kind)
				}
				Some(_) => format!(
					"its registered enclave has other keys or expired: registers this {:?} \
					 enclave on start",
					enclave.kind
				),
				None => format!("registers its {:?} enclave on start", enclave.kind),
			};
			findings.push(Finding::new(true, what));
			if let Some(quotes) = &self.quotes {
				let (_, report_data) = self.report_data(&enclave.keys).await?;
				findings.push(match take_quote(quotes.clone(), report_data).await {
					Ok(quote) => Finding::new(
						true,
						format!("took a {:?} quote ({} bytes)", quotes.kind(), quote.len()),
					),
					Err(error) => Finding::new(false, error),
				});
			}
		}
		Ok(findings)
	}
}

/// A quote carrying `report_data` from `quotes`, taken on a blocking thread (the hardware
/// interfaces block while the quote is signed), sized for the chain.
async fn take_quote(
	quotes: Arc<dyn QuoteProvider>,
	report_data: [u8; 64],
) -> Result<QuoteBytes, String> {
	let kind = quotes.kind();
	let quote = tokio::task::spawn_blocking(move || quotes.quote(&report_data))
		.await
		.map_err(|error| format!("taking a {kind:?} quote: {error}"))?
		.map_err(|error| format!("taking a {kind:?} quote: {error}"))?;
	let size = quote.len();
	quote.try_into().map_err(|_| {
		format!(
			"the {kind:?} quote is {size} bytes, more than the chain takes ({})",
			QuoteBytes::bound()
		)
	})
}
