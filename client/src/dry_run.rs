//! What a service's `--dry-run` reports (the compute node's, the key service's): one finding per
//! thing checked, each ready or not, printed one line each; the run fails if any is not ready.
//! The checks both services share, of the key that signs their transactions, are here.

use std::{
	fs,
	net::SocketAddr,
	path::{Path, PathBuf},
};

use commons_runtime::{governance::ProxyType, AccountId};
use sp_core::Pair;

use crate::{amount::cmn, Chain, ClientError, Signer};

/// One thing a dry run checked.
#[derive(Debug)]
pub struct Finding {
	/// Whether the service could start working as it is.
	pub ready: bool,
	/// What was found, in words.
	pub what: String,
}

impl Finding {
	/// What was found, with whether it is ready.
	pub fn new(ready: bool, what: String) -> Self {
		Self { ready, what }
	}
}

/// Prints `findings`, one line each (`ready: …` or `NOT READY: …`), and fails if any is not
/// ready.
pub fn report(findings: &[Finding]) -> Result<(), String> {
	for finding in findings {
		println!("{}: {}", if finding.ready { "ready" } else { "NOT READY" }, finding.what);
	}
	match findings.iter().filter(|finding| !finding.ready).count() {
		0 => Ok(()),
		problems => Err(format!("dry run: {problems} thing(s) not ready")),
	}
}

/// Whether the service could listen on `address` for `what` (its metrics, its endpoint) now.
/// Taken, it is most often by the service itself, running: the finding says so.
pub fn address_finding(what: &str, address: SocketAddr) -> Finding {
	match std::net::TcpListener::bind(address) {
		Ok(_) => Finding::new(true, format!("{what} can be served on {address}")),
		Err(error) => Finding::new(
			false,
			format!("{what} cannot be served on {address}: {error} (is the service running?)"),
		),
	}
}

/// Whether the service could keep its state in the directory `dir`, without creating it or
/// leaving anything in it: an existing directory is probed with a file written and removed at
/// once; a missing one is ready if its nearest existing parent is a directory the service could
/// create it in (it is created on start).
pub fn directory_finding(what: &str, dir: &Path) -> Finding {
	match fs::metadata(dir) {
		Ok(metadata) if metadata.is_dir() => match probe_writable(dir) {
			Ok(()) => Finding::new(true, format!("{what} {} is writable", dir.display())),
			Err(error) => {
				Finding::new(false, format!("{what} {} cannot be written: {error}", dir.display()))
			}
		},
		Ok(_) => Finding::new(false, format!("{what} {} is not a directory", dir.display())),
		// A link to nothing: creating the directory would fail.
		Err(_) if fs::symlink_metadata(dir).is_ok() => {
			Finding::new(false, format!("{what} {} is a symbolic link to nothing", dir.display()))
		}
		Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
			let parent = nearest_existing_parent(dir);
			match parent.as_deref().map(|parent| (parent, probe_writable(parent))) {
				Some((_, Ok(()))) => Finding::new(
					true,
					format!("{what} {} does not exist yet: created on start", dir.display()),
				),
				Some((parent, Err(error))) => Finding::new(
					false,
					format!(
						"{what} {} does not exist and cannot be created in {}: {error}",
						dir.display(),
						parent.display()
					),
				),
				None => Finding::new(
					false,
					format!("{what} {} does not exist, nor does any parent", dir.display()),
				),
			}
		}
		Err(error) => {
			Finding::new(false, format!("{what} {} cannot be read: {error}", dir.display()))
		}
	}
}

/// The closest ancestor of `path` that exists (the current directory for a relative path).
fn nearest_existing_parent(path: &Path) -> Option<PathBuf> {
	let absolute = std::path::absolute(path).ok()?;
	absolute
		.ancestors()
		.skip(1)
		.find(|ancestor| ancestor.is_dir())
		.map(Path::to_path_buf)
}

/// Writes and removes a file in `dir`: the one sure test of being allowed to write there.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
	let probe = dir.join(format!(".dry-run-probe-{}", std::process::id()));
	fs::write(&probe, b"")?;
	fs::remove_file(&probe)
}

/// What the chain says of `signer`: whether its key can pay fees, and, for a proxy, whether the
/// account it acts for added it as a proxy of its type, usable at once.
pub async fn check_signer(chain: &Chain, signer: &Signer) -> Result<Vec<Finding>, ClientError> {
	let payer = AccountId::from(signer.pair().public());
	let free = chain.free_balance(&payer).await?;
	let mut findings = vec![Finding::new(
		free > 0,
		format!("the signing key {payer} has {} free for fees", cmn(free)),
	)];
	if let Some((real, proxy_type)) = signer.proxied() {
		let proxies = chain.proxies(real).await?;
		findings.push(proxy_finding(real, &payer, proxy_type, &proxies));
	}
	Ok(findings)
}

/// Refuses a signer that is a proxy its account has not added as such (of its type, without
/// delay): every call it made would fail on chain, its fee paid all the same.
pub async fn ensure_proxy(chain: &Chain, signer: &Signer) -> Result<(), ClientError> {
	let Some((real, proxy_type)) = signer.proxied() else { return Ok(()) };
	let delegate = AccountId::from(signer.pair().public());
	let finding = proxy_finding(real, &delegate, proxy_type, &chain.proxies(real).await?);
	match finding.ready {
		true => Ok(()),
		false => Err(ClientError::Other(finding.what)),
	}
}

/// Whether `proxies`, the proxies `real` added, let `delegate` act for it as `proxy_type` without
/// notice.
fn proxy_finding(
	real: &AccountId,
	delegate: &AccountId,
	proxy_type: ProxyType,
	proxies: &[pallet_proxy::ProxyDefinition<AccountId, ProxyType, commons_runtime::BlockNumber>],
) -> Finding {
	let added = proxies
		.iter()
		.find(|proxy| proxy.delegate == *delegate && proxy.proxy_type == proxy_type);
	match added {
		Some(proxy) if proxy.delay == 0 => {
			Finding::new(true, format!("{delegate} acts for {real} as its {proxy_type:?} proxy"))
		}
		Some(proxy) => Finding::new(
			false,
			format!(
				"{delegate} is {real}'s {proxy_type:?} proxy with a delay of {} blocks: every \
				 call would have to be announced first; add it with delay 0",
				proxy.delay
			),
		),
		None => Finding::new(
			false,
			format!(
				"{real} has not added {delegate} as its {proxy_type:?} proxy: from the account, \
				 proxy.addProxy({delegate}, {proxy_type:?}, 0)"
			),
		),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_proxy::ProxyDefinition;

	fn account(byte: u8) -> AccountId {
		AccountId::new([byte; 32])
	}

	#[test]
	fn a_proxy_is_ready_only_if_added_with_its_type_and_no_delay() {
		let (real, delegate) = (account(1), account(2));
		let added =
			|proxy_type, delay| ProxyDefinition { delegate: delegate.clone(), proxy_type, delay };
		let judged =
			|proxies: &[_]| proxy_finding(&real, &delegate, ProxyType::KeyService, proxies);
		assert!(judged(&[added(ProxyType::KeyService, 0)]).ready);
		let delayed = judged(&[added(ProxyType::KeyService, 5)]);
		assert!(!delayed.ready && delayed.what.contains("delay of 5 blocks"), "{delayed:?}");
		// Another type, even a wider one, is not what the service's calls ask for.
		let other = judged(&[added(ProxyType::ComputeNode, 0), added(ProxyType::Any, 0)]);
		assert!(!other.ready && other.what.contains("proxy.addProxy"), "{other:?}");
		let someone_else = proxy_finding(
			&real,
			&account(3),
			ProxyType::KeyService,
			&[added(ProxyType::KeyService, 0)],
		);
		assert!(!someone_else.ready);
	}

	#[test]
	fn a_report_fails_if_anything_is_not_ready() {
		assert!(report(&[Finding::new(true, "a".into())]).is_ok());
		let failed = report(&[Finding::new(true, "a".into()), Finding::new(false, "b".into())]);
		assert_eq!(failed, Err("dry run: 1 thing(s) not ready".into()));
	}

	#[test]
	fn a_state_directory_is_checked_without_being_created_or_written_to() {
		let root = tempfile::tempdir().unwrap();
		let existing = directory_finding("work directory", root.path());
		assert!(existing.ready && existing.what.ends_with("is writable"), "{existing:?}");
		assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0, "the probe is removed");

		let missing = root.path().join("not/yet");
		let to_create = directory_finding("work directory", &missing);
		assert!(to_create.ready && to_create.what.contains("created on start"), "{to_create:?}");
		assert!(!root.path().join("not").exists(), "a dry run creates nothing");

		let file = root.path().join("a-file");
		fs::write(&file, b"").unwrap();
		let not_a_directory = directory_finding("work directory", &file);
		assert!(!not_a_directory.ready && not_a_directory.what.ends_with("is not a directory"));
		let under_a_file = directory_finding("work directory", &file.join("dir"));
		assert!(!under_a_file.ready, "{under_a_file:?}");
		let dangling = root.path().join("link");
		std::os::unix::fs::symlink(root.path().join("gone"), &dangling).unwrap();
		let to_nothing = directory_finding("work directory", &dangling);
		assert!(!to_nothing.ready && to_nothing.what.ends_with("a symbolic link to nothing"));
	}
}
