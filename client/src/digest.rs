//! The result digest of an output directory.

use sha2::{Digest as _, Sha256};
use std::{
	fmt, fs, io,
	path::{Path, PathBuf},
};

/// Why an output directory could not be digested.
#[derive(Debug)]
pub enum DigestError {
	/// The module wrote nothing.
	NoOutput,
	/// The directory could not be read.
	Io(PathBuf, io::Error),
}

impl fmt::Display for DigestError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			DigestError::NoOutput => write!(f, "the module wrote no output file"),
			DigestError::Io(path, error) => write!(f, "cannot read {}: {error}", path.display()),
		}
	}
}

impl std::error::Error for DigestError {}

/// The digest of what a module wrote in `output`: the sha256 of its one file, or the sha256 of
/// its files' sha256s in the order of their paths relative to `output`.
pub fn digest(output: &Path) -> Result<[u8; 32], DigestError> {
	let hashes = files(output)?
		.iter()
		.map(|relative| {
			let path = output.join(relative);
			file_sha256(&path).map_err(|error| DigestError::Io(path, error))
		})
		.collect::<Result<Vec<[u8; 32]>, _>>()?;
	match hashes.as_slice() {
		[] => Err(DigestError::NoOutput),
		[single] => Ok(*single),
		many => Ok(Sha256::digest(many.concat()).into()),
	}
}

/// The sha256 of the file at `path`, read in pieces: an output may be larger than memory.
fn file_sha256(path: &Path) -> io::Result<[u8; 32]> {
	let mut hasher = Sha256::new();
	io::copy(&mut fs::File::open(path)?, &mut hasher)?;
	Ok(hasher.finalize().into())
}

/// The regular files under `output`, as paths relative to it, in the order the digest takes them.
pub fn files(output: &Path) -> Result<Vec<PathBuf>, DigestError> {
	let mut files = Vec::new();
	collect_files(output, output, &mut files)?;
	files.sort();
	Ok(files)
}

/// Every regular file under `dir`, as paths relative to `root`.
fn collect_files(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), DigestError> {
	let entries = fs::read_dir(dir).map_err(|error| DigestError::Io(dir.to_owned(), error))?;
	for entry in entries {
		let entry = entry.map_err(|error| DigestError::Io(dir.to_owned(), error))?;
		let path = entry.path();
		let kind = entry.file_type().map_err(|error| DigestError::Io(path.clone(), error))?;
		if kind.is_dir() {
			collect_files(root, &path, files)?;
		} else if kind.is_file() {
			// Every path walked from `root` starts with it.
			if let Ok(relative) = path.strip_prefix(root) {
				files.push(relative.to_owned());
			}
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn sha256(bytes: &[u8]) -> [u8; 32] {
		Sha256::digest(bytes).into()
	}

	#[test]
	fn one_file_is_digested_as_itself() {
		let dir = tempfile::tempdir().unwrap();
		fs::write(dir.path().join("result.txt"), b"3.14159").unwrap();
		assert_eq!(digest(dir.path()).unwrap(), sha256(b"3.14159"));
	}

	#[test]
	fn several_files_are_digested_by_their_sorted_hashes() {
		let dir = tempfile::tempdir().unwrap();
		fs::create_dir(dir.path().join("b")).unwrap();
		fs::write(dir.path().join("b/inner"), b"two").unwrap();
		fs::write(dir.path().join("a"), b"one").unwrap();
		fs::write(dir.path().join("c"), b"three").unwrap();
		let expected = sha256(&[sha256(b"one"), sha256(b"two"), sha256(b"three")].concat());
		assert_eq!(digest(dir.path()).unwrap(), expected);
	}

	#[test]
	fn an_empty_output_is_an_error() {
		let dir = tempfile::tempdir().unwrap();
		assert!(matches!(digest(dir.path()), Err(DigestError::NoOutput)));
	}
}
