//! The compute node's HTTP endpoint, the one it registers in its workerpool.
//!
//! - `POST /tasks` with `{"task":"0x…"}`: the scheduler pushes an assignment. The task is only
//!   noted; the compute node checks on chain that it is really assigned before doing anything.
//! - `GET /results/<task>`: the paths of the task's result files, one per line;
//!   `GET /results/<task>/<path>`: one of those files. This is where requesters fetch results.

use std::{
	convert::Infallible,
	path::{Component, Path, PathBuf},
};

use http_body_util::{BodyExt, Full, Limited};
use hyper::{
	body::{Bytes, Incoming},
	Method, Request, Response, StatusCode,
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use sp_core::H256;
use tokio::{net::TcpListener, sync::mpsc::UnboundedSender};

/// The largest push body accepted; a task push is about 80 bytes.
const MAX_PUSH_BYTES: usize = 1024;

/// What the endpoint serves from and where it hands pushed tasks.
#[derive(Clone)]
pub struct Endpoint {
	/// The directory holding one `<task>` directory of output per computed task.
	pub results: PathBuf,
	/// Where pushed task ids go.
	pub pushed: UnboundedSender<H256>,
}

/// Serves `endpoint` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, endpoint: Endpoint) {
	let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
	loop {
		let Ok((socket, _)) = listener.accept().await else { continue };
		let endpoint = endpoint.clone();
		let service = hyper::service::service_fn(move |request| {
			let endpoint = endpoint.clone();
			async move { Ok::<_, Infallible>(endpoint.answer(request).await) }
		});
		let connection = server.serve_connection(TokioIo::new(socket), service).into_owned();
		tokio::spawn(async move {
			// A client that hangs up early is its own problem.
			let _ = connection.await;
		});
	}
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
	let mut response = Response::new(Full::new(body.into()));
	*response.status_mut() = status;
	response
}

/// A task id written as 0x and 64 hex digits.
fn parse_task(text: &str) -> Option<H256> {
	let digits = text.strip_prefix("0x")?;
	let bytes = sp_core::bytes::from_hex(digits).ok()?;
	(bytes.len() == 32).then(|| H256::from_slice(&bytes))
}

impl Endpoint {
	async fn answer(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
		let path = request.uri().path().to_owned();
		match (request.method(), path.as_str()) {
			(&Method::POST, "/tasks") => self.accept_push(request.into_body()).await,
			(&Method::GET, results) if results.starts_with("/results/") => {
				self.serve_result(&results["/results/".len()..])
			}
			(_, "/tasks") => reply(StatusCode::METHOD_NOT_ALLOWED, "POST a task here"),
			_ => reply(StatusCode::NOT_FOUND, "no such resource"),
		}
	}

	async fn accept_push(&self, body: Incoming) -> Response<Full<Bytes>> {
		let bytes = match Limited::new(body, MAX_PUSH_BYTES).collect().await {
			Ok(collected) => collected.to_bytes(),
			Err(error) => return reply(StatusCode::PAYLOAD_TOO_LARGE, error.to_string()),
		};
		let task = serde_json::from_slice::<serde_json::Value>(&bytes)
			.ok()
			.and_then(|push| push["task"].as_str().and_then(parse_task));
		let Some(task) = task else {
			return reply(StatusCode::BAD_REQUEST, "expected {\"task\":\"0x<64 hex digits>\"}");
		};
		match self.pushed.send(task) {
			Ok(()) => reply(StatusCode::ACCEPTED, "noted"),
			Err(_) => reply(StatusCode::SERVICE_UNAVAILABLE, "the compute node is stopping"),
		}
	}

	fn serve_result(&self, rest: &str) -> Response<Full<Bytes>> {
		let (task, file) = rest.split_once('/').unwrap_or((rest, ""));
		let Some(task) = parse_task(task) else {
			return reply(StatusCode::NOT_FOUND, "not a task id");
		};
		let dir = self.results.join(format!("{task:?}"));
		if file.is_empty() {
			return match commons_client::digest::files(&dir) {
				Ok(files) => {
					let listing: String =
						files.iter().map(|path| format!("{}\n", path.display())).collect();
					reply(StatusCode::OK, listing)
				}
				Err(_) => reply(StatusCode::NOT_FOUND, "no result for this task"),
			};
		}
		let relative = Path::new(file);
		if !relative.components().all(|part| matches!(part, Component::Normal(_))) {
			return reply(StatusCode::BAD_REQUEST, "paths stay inside the result");
		}
		match regular_file_within(&dir, relative).map(std::fs::read) {
			Some(Ok(bytes)) => reply(StatusCode::OK, bytes),
			_ => reply(StatusCode::NOT_FOUND, "no such result file"),
		}
	}
}

/// `relative` (of normal components only) under `dir`, if `dir` and every component on the way
/// is a directory and the last one a regular file, none of them a symlink: an app's output (a
/// module's or a container's) cannot lead the endpoint out of it, to the node's keys for one, nor
/// to a pipe that would hang it.
fn regular_file_within(dir: &Path, relative: &Path) -> Option<PathBuf> {
	let kind = |path: &Path| std::fs::symlink_metadata(path).ok().map(|meta| meta.file_type());
	if !kind(dir)?.is_dir() {
		return None;
	}
	let mut path = dir.to_owned();
	let mut components = relative.components().peekable();
	while let Some(component) = components.next() {
		path.push(component);
		let found = kind(&path)?;
		let fine = match components.peek() {
			Some(_) => found.is_dir(),
			None => found.is_file(),
		};
		if !fine {
			return None;
		}
	}
	Some(path)
}

#[cfg(test)]
mod tests {
	use super::*;

	async fn started(results: &Path) -> (String, tokio::sync::mpsc::UnboundedReceiver<H256>) {
		let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
		let address = listener.local_addr().unwrap();
		let (pushed, received) = tokio::sync::mpsc::unbounded_channel();
		tokio::spawn(serve(listener, Endpoint { results: results.to_owned(), pushed }));
		(format!("http://{address}"), received)
	}

	async fn post(url: &str, body: &str) -> StatusCode {
		let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
			.build_http::<Full<Bytes>>();
		let request = Request::post(url).body(Full::new(Bytes::from(body.to_owned()))).unwrap();
		client.request(request).await.unwrap().status()
	}

	#[tokio::test]
	async fn a_pushed_task_is_handed_over_and_garbage_refused() {
		let results = tempfile::tempdir().unwrap();
		let (url, mut received) = started(results.path()).await;
		let task = H256::repeat_byte(0xab);
		let status = post(&format!("{url}/tasks"), &format!("{{\"task\":\"{task:?}\"}}")).await;
		assert_eq!(status, StatusCode::ACCEPTED);
		assert_eq!(received.recv().await, Some(task));
		assert_eq!(
			post(&format!("{url}/tasks"), "{\"task\":\"0x12\"}").await,
			StatusCode::BAD_REQUEST
		);
		let large = "x".repeat(MAX_PUSH_BYTES + 1);
		assert_eq!(post(&format!("{url}/tasks"), &large).await, StatusCode::PAYLOAD_TOO_LARGE);
		assert!(received.try_recv().is_err(), "nothing else was handed over");
	}

	#[tokio::test]
	async fn a_result_is_fetched_over_http_with_the_digest_it_was_computed_with() {
		let results = tempfile::tempdir().unwrap();
		let task = H256::repeat_byte(7);
		let output = results.path().join(format!("{task:?}"));
		std::fs::create_dir_all(output.join("plots")).unwrap();
		std::fs::write(output.join("result.txt"), b"3.1416").unwrap();
		std::fs::write(output.join("plots/histogram.csv"), b"1,2,3").unwrap();
		let (url, _received) = started(results.path()).await;

		let fetched = tempfile::tempdir().unwrap();
		let location = format!("{url}/results/{task:?}");
		let digest = commons_client::fetch::fetch_result(&location, fetched.path()).await.unwrap();
		assert_eq!(digest, commons_client::digest::digest(&output).unwrap());
		assert_eq!(std::fs::read(fetched.path().join("plots/histogram.csv")).unwrap(), b"1,2,3");

		let missing = format!("{url}/results/{:?}", H256::repeat_byte(8));
		let error = commons_client::fetch::fetch_result(&missing, fetched.path())
			.await
			.unwrap_err()
			.to_string();
		assert!(error.contains("404"), "{error}");
		let escape = commons_client::fetch::fetch(&format!("{location}/../../etc/passwd")).await;
		assert!(escape.is_err(), "{escape:?}");
	}

	/// An app can leave links and pipes in its output: none is followed or opened. (A container's
	/// output holding one is refused before it is served; a module's is not checked.)
	#[tokio::test]
	async fn a_link_or_a_pipe_in_a_result_is_not_served() {
		let results = tempfile::tempdir().unwrap();
		let task = H256::repeat_byte(9);
		let output = results.path().join(format!("{task:?}"));
		std::fs::create_dir_all(output.join("real")).unwrap();
		std::fs::write(output.join("real/result.txt"), b"42").unwrap();
		let secret = results.path().join("secret");
		std::fs::write(&secret, b"the node's key").unwrap();
		std::os::unix::fs::symlink(&secret, output.join("file-link")).unwrap();
		std::os::unix::fs::symlink("../secret", output.join("relative-link")).unwrap();
		std::os::unix::fs::symlink(results.path(), output.join("dir-link")).unwrap();
		let made = std::process::Command::new("mkfifo").arg(output.join("pipe")).status();
		assert!(made.unwrap().success());
		let (url, _received) = started(results.path()).await;

		let location = format!("{url}/results/{task:?}");
		assert_eq!(
			commons_client::fetch::fetch(&format!("{location}/real/result.txt"))
				.await
				.unwrap(),
			b"42"
		);
		for served in ["file-link", "relative-link", "dir-link/secret", "pipe", "real"] {
			let fetched = commons_client::fetch::fetch(&format!("{location}/{served}")).await;
			assert!(fetched.is_err(), "{served} was served: {fetched:?}");
		}
	}
}
