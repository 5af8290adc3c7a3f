//! The validator set changed on a live network of the `local` chain (sessions of ten blocks):
//! a node operator registers fresh session keys and governance adds the validator, which then
//! authors; a validator whose node is down is reported absent; governance removes it and one
//! whose node still runs, and the chain keeps finalizing with the two that are left.
//!
//! Governance acts through the `local` chain's sudo key here, which holds root: the track a
//! referendum would use (`validator_set`, root or `ValidatorSet` origin) is proven by the
//! runtime's own tests; what this test adds is that the session machinery does on real nodes
//! what it does there.

use std::time::Duration;

use codec::Decode;
use commons_e2e::{
	chain::wait_for_event, exclusive_network, start_validators, wait_for, TestDir, TestNode,
};
use commons_runtime::{
	opaque::SessionKeys, AccountId, BlockNumber, Runtime, RuntimeCall, RuntimeEvent,
};
use jsonrpsee::rpc_params;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave};

/// Ten-block sessions: a change takes effect within two of them, with margin for slow blocks.
const TWO_SESSIONS: Duration = Duration::from_secs(240);

/// The validators of the session at `node`'s best block.
async fn active_set(node: &TestNode) -> Result<Vec<AccountId>, String> {
	let key = pallet_session::Validators::<Runtime>::hashed_key();
	Ok(node.storage::<Vec<AccountId>>(&key, None).await?.unwrap_or_default())
}

/// Who authored a block in the session of block `at`, up to `at`.
async fn authors_at(node: &TestNode, at: BlockNumber) -> Result<Vec<AccountId>, String> {
	let hash = node.block_hash(at).await?;
	let key = pallet_validators::AuthorsThisSession::<Runtime>::hashed_key();
	Ok(node.storage::<Vec<AccountId>>(&key, Some(hash)).await?.unwrap_or_default())
}

/// Submits `call` with the `local` chain's sudo key and returns the validators pallet's events.
async fn as_root(node: &TestNode, call: RuntimeCall) -> Vec<pallet_validators::Event<Runtime>> {
	let sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
	let events = node.submit_and_wait(sudo, &Alice.pair()).await.unwrap();
	events
		.into_iter()
		.filter_map(|event| match event {
			RuntimeEvent::Validators(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// Waits until `node`'s active set is `expected`.
async fn wait_active_set(node: &TestNode, expected: &[AccountId]) {
	wait_for("the session to change the active set", TWO_SESSIONS, || async {
		let active = active_set(node).await?;
		(active == expected).then_some(()).ok_or(format!("active set {active:?}"))
	})
	.await;
}

/// Waits until every node in `nodes` has finalized block `number`.
async fn wait_finalized(nodes: &[&TestNode], number: BlockNumber) {
	for node in nodes {
		wait_for(&format!("{} to finalize #{number}", node.name), TWO_SESSIONS, || async {
			let finalized = node.finalized_number().await?;
			(finalized >= number).then_some(()).ok_or(format!("finalized #{finalized}"))
		})
		.await;
	}
}

#[tokio::test]
async fn validators_join_are_reported_absent_and_leave_at_session_boundaries() {
	let _network = exclusive_network();
	let dir = TestDir::new("validators");
	// Dave's node runs from the start, with the role of a validator, but Dave is not one.
	let mut nodes = start_validators(
		&dir,
		"local",
		&[("alice", "--alice"), ("bob", "--bob"), ("charlie", "--charlie"), ("dave", "--dave")],
	)
	.await;
	let [alice, bob, charlie, dave] = [Alice, Bob, Charlie, Dave].map(|key| key.to_account_id());
	let [alice_node, bob_node, charlie_node, dave_node] = &mut nodes[..] else {
		unreachable!("four nodes were started")
	};
	let node = &*alice_node;
	assert_eq!(active_set(node).await.unwrap(), vec![alice.clone(), bob.clone(), charlie.clone()]);

	// Dave's operator has his node make fresh session keys, with their proof of ownership for
	// his account, and registers them.
	let generated: serde_json::Value = dave_node
		.rpc(
			"author_rotateKeysWithOwner",
			rpc_params![sp_core::bytes::to_hex(dave.as_ref(), false)],
		)
		.await
		.unwrap();
	let hex = |field: &str| {
		sp_core::bytes::from_hex(generated[field].as_str().expect("a hex field")).unwrap()
	};
	let keys = SessionKeys::decode(&mut &hex("keys")[..]).unwrap();
	let set_keys =
		RuntimeCall::Session(pallet_session::Call::set_keys { keys, proof: hex("proof") });
	node.submit_and_wait(set_keys, &Dave.pair()).await.unwrap();

	// Governance adds him: he authors within two sessions.
	let add =
		RuntimeCall::Validators(pallet_validators::Call::add_validator { validator: dave.clone() });
	assert_eq!(
		as_root(node, add).await,
		vec![pallet_validators::Event::ValidatorAdded { validator: dave.clone() }]
	);
	let added_at = node.best_number().await.unwrap();
	let first_authored = wait_for("Dave to author a block", TWO_SESSIONS, || async {
		let best = node.best_number().await?;
		for number in added_at..=best {
			if authors_at(node, number).await?.contains(&dave) {
				return Ok(number);
			}
		}
		Err(format!("no block by Dave in #{added_at}..=#{best}"))
	})
	.await;
	println!(
		"Dave authored block #{first_authored}, {} blocks after he was added",
		first_authored - added_at
	);
	assert_eq!(
		active_set(node).await.unwrap(),
		vec![alice.clone(), bob.clone(), charlie.clone(), dave.clone()]
	);

	// The set change that made Dave a voter is enacted once the old set (all three) finalizes
	// the block announcing it: only then may one of four go down.
	wait_finalized(&[node, &*bob_node, &*charlie_node, &*dave_node], first_authored).await;

	// Charlie's node goes down: three of four still finalize, and the chain reports him absent
	// when a session he had turns in ends without a block of his.
	let down_at = node.best_number().await.unwrap();
	charlie_node.kill();
	let (_, absent) =
		wait_for_event(node, "Charlie to be reported absent", down_at, TWO_SESSIONS, |event| {
			match event {
				RuntimeEvent::Validators(pallet_validators::Event::ValidatorAbsent {
					validator,
					in_a_row,
					..
				}) if validator == charlie => Some(in_a_row),
				_ => None,
			}
		})
		.await;
	assert_eq!(absent, 1);
	wait_finalized(&[node, &*bob_node, &*dave_node], down_at + 3).await;

	// Governance removes him, and Bob, whose node still runs, in one batch (so in one session):
	// Alice and Dave are left, both online, so finality goes on once the new set is active.
	let remove = |validator: &AccountId| {
		RuntimeCall::Validators(pallet_validators::Call::remove_validator {
			validator: validator.clone(),
		})
	};
	let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all {
		calls: vec![remove(&charlie), remove(&bob)],
	});
	let governance = pallet_validators::Removal::Governance;
	assert_eq!(
		as_root(node, batch).await,
		vec![
			pallet_validators::Event::ValidatorRemoved { validator: charlie, reason: governance },
			pallet_validators::Event::ValidatorRemoved {
				validator: bob.clone(),
				reason: governance
			},
		]
	);
	wait_active_set(node, &[alice.clone(), dave.clone()]).await;
	let from = node.best_number().await.unwrap();
	let session_key = &pallet_session::CurrentIndex::<Runtime>::hashed_key();
	let session_at = |number: BlockNumber| async move {
		let hash = node.block_hash(number).await?;
		Ok::<_, String>(node.storage::<u32>(session_key, Some(hash)).await?.unwrap_or_default())
	};
	let session = session_at(from).await.unwrap();
	// A whole session later, Bob (still running and importing) authored none of its blocks.
	let last = wait_for("a session of the new set to end", TWO_SESSIONS, || async {
		let best = node.best_number().await?;
		for number in from..=best {
			if session_at(number).await? > session {
				return Ok(number - 1);
			}
		}
		Err(format!("session {session} still running at #{best}"))
	})
	.await;
	let authors = authors_at(node, last).await.unwrap();
	assert!(!authors.contains(&bob), "Bob authored after his removal: {authors:?}");
	assert_eq!(authors.len(), 2, "authors of the session: {authors:?}");
	let bob_best = bob_node.best_number().await.unwrap();
	assert!(bob_best >= last, "Bob's node stopped following: #{bob_best}");
	wait_finalized(&[node, &*dave_node], last + 2).await;
}
