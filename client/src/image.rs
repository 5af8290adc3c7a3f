//! How an app that is an OCI image is named: `<repository>@sha256:<manifest digest>`, by digest
//! only, since a tag can be moved to other content. The command line checks a name before
//! registering it, and the compute node before handing it to its container engine.

/// Checks that `repository` (`registry/name`, as an app's URI holds it) is one: lowercase
/// letters, digits and `._-/:` (the reference grammar's characters, a registry's port
/// included), without an empty or `..` component.
pub fn check_repository(repository: &str) -> Result<(), String> {
	let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c);
	let components_fine = repository
		.split('/')
		.all(|component| !component.is_empty() && component != "..");
	match !repository.is_empty() && repository.chars().all(allowed) && components_fine {
		true => Ok(()),
		false => Err(format!(
			"{repository:?} is not a repository: lowercase letters, digits and ._-/: only, \
			 as in registry.example.org/team/app"
		)),
	}
}

/// The repository and manifest digest of an image named `<repository>@sha256:<64 hex digits>`.
pub fn parse_reference(image: &str) -> Result<(String, [u8; 32]), String> {
	let bad = || format!("{image}: an image is named <repository>@sha256:<64 hex digits>");
	let (repository, digest) = image.split_once("@sha256:").ok_or_else(bad)?;
	if digest.len() != 64 {
		return Err(bad());
	}
	check_repository(repository)?;
	let digest = sp_core::bytes::from_hex(digest).map_err(|_| bad())?;
	Ok((repository.to_owned(), digest.try_into().map_err(|_| bad())?))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn an_image_is_named_by_its_repository_and_manifest_digest() {
		let digest = "ab".repeat(32);
		let (repository, bytes) =
			parse_reference(&format!("localhost:5000/commons/hello@sha256:{digest}")).unwrap();
		assert_eq!((repository.as_str(), bytes), ("localhost:5000/commons/hello", [0xab; 32]));
		for bad in [
			"localhost:5000/commons/hello:latest".to_owned(),
			format!("@sha256:{digest}"),
			format!("hello@sha256:{}", &digest[2..]),
			format!("hello@sha256:{}zz", &digest[2..]),
			format!("hello@sha512:{digest}"),
			format!("Hello@sha256:{digest}"),
		] {
			assert!(parse_reference(&bad).is_err(), "{bad}");
		}
	}

	#[test]
	fn a_repository_is_checked_before_it_reaches_an_engine() {
		for good in ["localhost:5000/commons/hello", "registry.example/a_b-c.d"] {
			assert!(check_repository(good).is_ok(), "{good}");
		}
		for bad in ["", "Upper/case", "a/../b", "a//b", "a b", "a?b", "a@sha256:00", "/a"] {
			assert!(check_repository(bad).is_err(), "{bad}");
		}
	}
}
