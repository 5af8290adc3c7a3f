//! Fetching what the registry points at (app modules, datasets, results) by URI, and checking it
//! against the sha256 the chain recorded.
//!
//! `http://` and `https://` URIs are fetched with hyper over rustls (the same client stack the
//! node's off-chain workers use, so the binaries compile it once); `file://` URIs are read from
//! the local disk, which is what tests and single-machine setups use.

use std::{path::Path, sync::OnceLock, time::Duration};

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};
use sha2::{Digest as _, Sha256};

use crate::ClientError;

/// How long one HTTP fetch may take, connection to last byte.
const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// The most a fetch reads: larger modules, datasets or result files are refused.
pub const MAX_FETCH_BYTES: usize = 256 * 1024 * 1024;

/// Reads `uri` (`file://`, `http://` or `https://`) whole.
pub async fn fetch(uri: &str) -> Result<Vec<u8>, ClientError> {
	if let Some(path) = uri.strip_prefix("file://") {
		let path = Path::new(path);
		let unreadable =
			|error: std::io::Error| ClientError::Io { action: format!("cannot read {uri}"), error };
		let size = std::fs::metadata(path).map_err(unreadable)?.len();
		if size > MAX_FETCH_BYTES as u64 {
			return Err(fetch_error(
				uri,
				format!("it has {size} bytes, more than the {MAX_FETCH_BYTES} allowed"),
			));
		}
		return std::fs::read(path).map_err(unreadable);
	}
	if !(uri.starts_with("http://") || uri.starts_with("https://")) {
		return Err(fetch_error(uri, "only file://, http:// and https:// URIs are".into()));
	}
	tokio::time::timeout(FETCH_TIMEOUT, fetch_http(uri))
		.await
		.map_err(|_| fetch_error(uri, format!("it took more than {FETCH_TIMEOUT:?}")))?
}

/// The error of a fetch of `uri` that failed for `message`.
fn fetch_error(uri: &str, message: String) -> ClientError {
	ClientError::Fetch { uri: uri.to_owned(), message }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The process's one HTTP(S) client: the system's root certificates are loaded once, and
/// connections are pooled across fetches (a result's files come from one worker).
fn http_client() -> Result<&'static HttpClient, ClientError> {
	static CLIENT: OnceLock<Result<HttpClient, String>> = OnceLock::new();
	CLIENT
		.get_or_init(|| {
			let connector = HttpsConnectorBuilder::new()
				.with_provider_and_native_roots(rustls::crypto::ring::default_provider())
				.map_err(|error| format!("no TLS root certificates: {error}"))?
				.https_or_http()
				.enable_http1()
				.build();
			Ok(Client::builder(TokioExecutor::new()).build(connector))
		})
		.as_ref()
		.map_err(|message| ClientError::Other(message.clone()))
}

async fn fetch_http(uri: &str) -> Result<Vec<u8>, ClientError> {
	let target: hyper::Uri =
		uri.parse().map_err(|error| fetch_error(uri, format!("bad URI: {error}")))?;
	let client = http_client()?;
	let response = client
		.get(target)
		.await
		.map_err(|error| fetch_error(uri, format!("GET: {error}")))?;
	let status = response.status();
	if !status.is_success() {
		return Err(fetch_error(uri, format!("GET answered {status}")));
	}
	let body = Limited::new(response.into_body(), MAX_FETCH_BYTES)
		.collect()
		.await
		.map_err(|error| fetch_error(uri, format!("GET: {error}")))?;
	Ok(body.to_bytes().to_vec())
}

/// Reads `uri` and checks that its sha256 is `checksum`
/// ([`ClientError::ChecksumMismatch`] if it is not).
pub async fn fetch_checked(uri: &str, checksum: &[u8; 32]) -> Result<Vec<u8>, ClientError> {
	let bytes = fetch(uri).await?;
	let actual: [u8; 32] = Sha256::digest(&bytes).into();
	if actual != *checksum {
		return Err(ClientError::ChecksumMismatch {
			uri: uri.to_owned(),
			expected: *checksum,
			actual,
		});
	}
	Ok(bytes)
}

/// Downloads the result a worker published at `location` into `into` and returns its digest.
///
/// A `file://` location is a directory; an HTTP one answers a GET of `location` with the paths
/// of the result's files, one per line, each served at `location/<path>`.
pub async fn fetch_result(location: &str, into: &Path) -> Result<[u8; 32], ClientError> {
	let location = location.trim_end_matches('/');
	let paths: Vec<String> = match location.strip_prefix("file://") {
		Some(dir) => crate::digest::files(Path::new(dir))?
			.into_iter()
			.map(|path| path.display().to_string())
			.collect(),
		None => String::from_utf8(fetch(location).await?)
			.map_err(|_| {
				fetch_error(location, "it lists its files in something other than UTF-8".into())
			})?
			.lines()
			.filter(|line| !line.is_empty())
			.map(str::to_owned)
			.collect(),
	};
	for relative in paths {
		let safe = Path::new(&relative)
			.components()
			.all(|part| matches!(part, std::path::Component::Normal(_)));
		if !safe {
			return Err(fetch_error(
				location,
				format!("it lists a path outside the result: {relative}"),
			));
		}
		let bytes = fetch(&format!("{location}/{relative}")).await?;
		let target = into.join(&relative);
		if let Some(parent) = target.parent() {
			std::fs::create_dir_all(parent).map_err(|error| ClientError::Io {
				action: format!("cannot create {}", parent.display()),
				error,
			})?;
		}
		std::fs::write(&target, bytes).map_err(|error| ClientError::Io {
			action: format!("cannot write {}", target.display()),
			error,
		})?;
	}
	Ok(crate::digest::digest(into)?)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[tokio::test]
	async fn a_file_uri_is_read_and_checked() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("module.wasm");
		std::fs::write(&path, b"module bytes").unwrap();
		let uri = format!("file://{}", path.display());
		let checksum: [u8; 32] = Sha256::digest(b"module bytes").into();
		assert_eq!(fetch_checked(&uri, &checksum).await.unwrap(), b"module bytes");
		let error = fetch_checked(&uri, &[0; 32]).await.unwrap_err();
		assert!(matches!(error, ClientError::ChecksumMismatch { .. }), "{error}");
		assert!(error.to_string().contains("does not match its registered sha256"), "{error}");
	}

	#[tokio::test]
	async fn unknown_schemes_and_missing_files_are_errors() {
		let error = fetch("ftp://example.invalid/x").await.unwrap_err().to_string();
		assert!(error.contains("only file://, http:// and https://"), "{error}");
		let error = fetch("file:///nonexistent/commons/file").await.unwrap_err();
		assert!(matches!(error, ClientError::Io { .. }), "{error}");
		assert!(error.to_string().contains("cannot read"), "{error}");
	}
}
