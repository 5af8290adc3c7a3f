//! Networks of validators on loopback, and what happens when one of them crashes.
//!
//! GRANDPA finalizes with more than two thirds of the voting weight: with `n` equal voters it
//! tolerates `(n - 1) / 3` of them missing. The three validators of the `local` chain therefore
//! keep producing blocks when one is killed, but finality waits for it to come back; the test
//! checks exactly that. A network that keeps finalizing through a crash needs four validators,
//! which the second test builds from the `local` spec with Dave added.

use std::time::Duration;

use commons_e2e::{
	exclusive_network, local_spec_with_validators, start_validators, wait_for, TestDir, TestNode,
};
use sp_keyring::{Ed25519Keyring as Ed25519, Sr25519Keyring as Sr25519};

const BLOCKS: Duration = Duration::from_secs(120);

/// Waits until every node in `nodes` has finalized block `number`.
async fn wait_all_finalized(nodes: &[&TestNode], number: u32, timeout: Duration) {
	for node in nodes {
		wait_for(&format!("{} to finalize #{number}", node.name), timeout, || async {
			let finalized = node.finalized_number().await?;
			(finalized >= number)
				.then_some(())
				.ok_or(format!("finalized #{finalized}, best #{}", node.best_number().await?))
		})
		.await;
	}
}

/// Waits until `node`'s best block is at least `number`.
async fn wait_best(node: &TestNode, number: u32, timeout: Duration) {
	wait_for(&format!("{} to reach block #{number}", node.name), timeout, || async {
		let best = node.best_number().await?;
		(best >= number).then_some(()).ok_or(format!("best #{best}"))
	})
	.await;
}

#[tokio::test]
async fn three_validators_survive_a_crash_and_the_restarted_one_rejoins_finality() {
	let _network = exclusive_network();
	let dir = TestDir::new("local3");
	let mut nodes = start_validators(
		&dir,
		"local",
		&[("alice", "--alice"), ("bob", "--bob"), ("charlie", "--charlie")],
		&[],
	)
	.await;

	let all: Vec<&TestNode> = nodes.iter().collect();
	wait_all_finalized(&all, 3, BLOCKS).await;

	// Charlie crashes.
	let charlie_best_before_crash = nodes[2].best_number().await.unwrap();
	nodes[2].kill();
	let best_at_crash = nodes[0].best_number().await.unwrap();

	// Alice and Bob keep authoring their slots: the chain grows without Charlie.
	wait_best(&nodes[0], best_at_crash + 3, BLOCKS).await;
	wait_best(&nodes[1], best_at_crash + 3, BLOCKS).await;
	let best_while_down = nodes[0].best_number().await.unwrap();

	// Charlie comes back on its own database: it resumes from where it was, not from genesis.
	nodes[2].restart();
	nodes[2].wait_until_serving().await;
	let charlie_best_after_restart = nodes[2].best_number().await.unwrap();
	assert!(
		charlie_best_after_restart >= charlie_best_before_crash,
		"charlie restarted at #{charlie_best_after_restart}, had #{charlie_best_before_crash}"
	);

	// It catches up with the blocks made without it, and all three finalize past them.
	wait_best(&nodes[2], best_while_down, BLOCKS).await;
	let all: Vec<&TestNode> = nodes.iter().collect();
	wait_all_finalized(&all, best_while_down + 1, BLOCKS).await;
}

#[tokio::test]
async fn four_validators_keep_finalizing_while_one_is_down() {
	let _network = exclusive_network();
	let dir = TestDir::new("local4");
	let spec = local_spec_with_validators(
		&dir,
		"commons_local4",
		&[
			(Sr25519::Alice, Ed25519::Alice),
			(Sr25519::Bob, Ed25519::Bob),
			(Sr25519::Charlie, Ed25519::Charlie),
			(Sr25519::Dave, Ed25519::Dave),
		],
	);
	let mut nodes = start_validators(
		&dir,
		&spec,
		&[("alice", "--alice"), ("bob", "--bob"), ("charlie", "--charlie"), ("dave", "--dave")],
		&[],
	)
	.await;

	let all: Vec<&TestNode> = nodes.iter().collect();
	wait_all_finalized(&all, 3, BLOCKS).await;

	nodes[3].kill();
	let best_at_crash = nodes[0].best_number().await.unwrap();

	// Three of four voters are more than two thirds: finality goes on without Dave.
	let survivors: Vec<&TestNode> = nodes[..3].iter().collect();
	wait_all_finalized(&survivors, best_at_crash + 3, BLOCKS).await;

	nodes[3].restart();
	nodes[3].wait_until_serving().await;
	let best = nodes[0].best_number().await.unwrap();
	let all: Vec<&TestNode> = nodes.iter().collect();
	wait_all_finalized(&all, best, BLOCKS).await;
}
