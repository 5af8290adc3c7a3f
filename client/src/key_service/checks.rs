//! `commons key-service --dry-run`: the service's configuration checked against the chain, one
//! finding each, before it is trusted to run.

use std::{collections::BTreeMap, fs, path::PathBuf};

use commons_runtime::AccountId;
use pallet_marketplace::DatasetId;

use super::{key_file, KeyServiceCmd};
use crate::{
	confidential::DatasetKey,
	dry_run::{address_finding, check_signer, Finding},
	Chain, ClientError, Follower, Signer,
};

impl KeyServiceCmd {
	/// What the service would find on starting with `signer`: the node and its runtime, the
	/// signing key (and proxy), where it would follow the chain from (`follower`), the owner's
	/// encrypted datasets against the keys directory, and the allowed apps.
	pub(super) async fn check(
		&self,
		chain: &Chain,
		signer: &Signer,
		follower: &Result<Follower, ClientError>,
	) -> Result<Vec<Finding>, ClientError> {
		let owner = signer.account();
		let runtime = chain.runtime_version().await?;
		let chain_type = chain.chain_type().await?;
		let mut findings =
			vec![Finding::new(true, format!("the node runs {runtime} ({chain_type})"))];
		findings.extend(check_signer(chain, signer).await?);
		if let Some(address) = self.prometheus.address() {
			findings.push(address_finding("metrics", address));
		}
		findings.push(match follower {
			Ok(follower) => Finding::new(
				true,
				format!("reads assignments from block #{}", follower.next_block()),
			),
			Err(error) => Finding::new(false, error.to_string()),
		});
		findings.extend(self.check_keys(chain, &owner).await?);
		for app in &self.allowed_apps {
			findings.push(match chain.app(*app).await? {
				Some(registered) => Finding::new(
					true,
					format!(
						"app {app} ({}) may have the keys",
						String::from_utf8_lossy(&registered.name)
					),
				),
				None => Finding::new(
					false,
					format!("app {app}, which --allow-app names, is not registered"),
				),
			});
		}
		Ok(findings)
	}

	/// Every encrypted dataset `owner` has on chain has a readable key in the keys directory, and
	/// every key there is of one of them (or of a dataset not registered yet).
	async fn check_keys(
		&self,
		chain: &Chain,
		owner: &AccountId,
	) -> Result<Vec<Finding>, ClientError> {
		let mut keys = match key_files(&self.keys_dir) {
			Ok(keys) => keys,
			Err(error) => {
				return Ok(vec![Finding::new(
					false,
					format!("cannot read the keys directory {}: {error}", self.keys_dir.display()),
				)])
			}
		};
		let mut findings = Vec::new();
		for (id, dataset) in chain.datasets().await? {
			let file = keys.remove(&id);
			if dataset.owner != *owner || !dataset.encrypted {
				if file.is_some() {
					let whose = match dataset.owner == *owner {
						true => "is not encrypted: it needs no key".to_owned(),
						false => format!(
							"is {}'s, not {owner}'s: this service never releases it",
							dataset.owner
						),
					};
					findings.push(Finding::new(
						dataset.owner == *owner,
						format!("dataset {id} {whose}"),
					));
				}
				continue;
			}
			let path = key_file(&self.keys_dir, id);
			findings.push(match DatasetKey::load(&path) {
				Ok(_) => Finding::new(true, format!("dataset {id}'s key is in {}", path.display())),
				Err(error) => Finding::new(
					false,
					format!("dataset {id} is encrypted and its key cannot be read ({error}): the service would retry it for every task buying it"),
				),
			});
		}
		for (id, path) in keys {
			findings.push(Finding::new(
				true,
				format!("{}: dataset {id} is not registered (yet)", path.display()),
			));
		}
		Ok(findings)
	}
}

/// The key files in `keys_dir`, by the dataset they are named for (`<dataset id>.key`).
fn key_files(keys_dir: &std::path::Path) -> std::io::Result<BTreeMap<DatasetId, PathBuf>> {
	let mut keys = BTreeMap::new();
	for entry in fs::read_dir(keys_dir)? {
		let path = entry?.path();
		let id = path
			.file_name()
			.and_then(|name| name.to_str())
			.and_then(|name| name.strip_suffix(".key"))
			.and_then(|id| id.parse::<DatasetId>().ok());
		if let Some(id) = id {
			keys.insert(id, path);
		}
	}
	Ok(keys)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn key_files_are_found_by_their_dataset_s_id() {
		let dir = tempfile::tempdir().unwrap();
		for name in ["3.key", "12.key", "cursor", "new.key", "4.key.bak"] {
			fs::write(dir.path().join(name), b"").unwrap();
		}
		let found: Vec<DatasetId> = key_files(dir.path()).unwrap().into_keys().collect();
		assert_eq!(found, [3, 12]);
		assert!(key_files(&dir.path().join("missing")).is_err());
	}
}
