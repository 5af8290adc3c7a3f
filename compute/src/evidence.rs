//! Evidence from TEE hardware: an Intel DCAP quote of the enclave (or trust domain) the compute
//! node runs in, carrying the report data the chain asks for, for `register_quote`.
//!
//! The node asks the hardware through a file interface, so that it needs no SDK: under Gramine
//! (SGX), [`GramineAttestation`] writes the report data to `/dev/attestation/user_report_data` and
//! reads `/dev/attestation/quote`; in a TDX trust domain, [`ConfigfsTsm`] makes a report entry
//! under Linux's configfs-tsm (`/sys/kernel/config/tsm/report`), writes its `inblob` and reads
//! its `outblob`. Both sit behind [`QuoteProvider`], so the rest of the node does not know which
//! one it has, and both are tested against temporary directories made to behave like those
//! interfaces, with Intel's sample quotes (nothing here has run on real SGX or TDX hardware).
//!
//! Every quote is checked before it leaves a provider ([`check_quote`]): it must parse as a
//! quote the chain verifies (version 3 for SGX, 4 or 5 for TDX; ECDSA P-256 attestation key;
//! Intel's quoting enclave), be of the provider's TEE, carry exactly the report data written,
//! not come from a debug enclave or TD, and carry its PCK certificate chain. The chain checks all
//! of this again; checking here turns a misconfigured host (a stale quote, a debug build, a host
//! without a PCCS) into an error that names it, before a transaction is spent on it.
//!
//! The report data is an input here: the caller computes the 64 bytes the chain expects
//! ([`crate::upkeep`]), a provider only carries them into the quote.

use std::{
	fmt, fs,
	io::{self, Write as _},
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex,
	},
	time::{SystemTime, UNIX_EPOCH},
};

use commons_dcap::quote::{Quote, Report, CERT_TYPE_PCK_CHAIN};
use pallet_attestation::TeeKind;

use crate::LOG_TARGET;

/// Where Gramine exposes its attestation interface inside the enclave.
pub const GRAMINE_ATTESTATION_DIR: &str = "/dev/attestation";

/// Where Linux (6.7 and later, with configfs mounted) exposes configfs-tsm attestation reports.
pub const CONFIGFS_TSM_REPORT_DIR: &str = "/sys/kernel/config/tsm/report";

/// What Gramine's `attestation_type` reads when it is configured for DCAP quotes.
const GRAMINE_DCAP: &str = "dcap";

/// What a configfs-tsm report entry's `provider` reads under the TDX guest driver.
const TSM_PROVIDER_TDX: &str = "tdx_guest";

/// The source of the quotes an enclave registers with: its TEE hardware.
pub trait QuoteProvider: Send + Sync {
	/// The TEE kind of the quotes it gives.
	fn kind(&self) -> TeeKind;

	/// A quote of the enclave (or TD) this node runs in, carrying `report_data`, checked with
	/// [`check_quote`]. It may block while the quoting enclave (or the host's quote generation
	/// service) signs.
	fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, EvidenceError>;
}

/// The first fields of a quote's header, read without parsing the rest, to say what a refused
/// quote claimed to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteHeader {
	/// The quote format version: 3 for SGX, 4 or 5 for TDX.
	pub version: u16,
	/// The attestation key type: 2 for ECDSA-256-with-P-256.
	pub attestation_key_type: u16,
	/// The TEE type: `0x00000000` for SGX, `0x00000081` for TDX.
	pub tee_type: u32,
}

impl QuoteHeader {
	/// The header fields of `quote`, if it is long enough to have them.
	pub fn read(quote: &[u8]) -> Option<Self> {
		Some(Self {
			version: u16::from_le_bytes(quote.get(0..2)?.try_into().ok()?),
			attestation_key_type: u16::from_le_bytes(quote.get(2..4)?.try_into().ok()?),
			tee_type: u32::from_le_bytes(quote.get(4..8)?.try_into().ok()?),
		})
	}
}

/// Why no quote, or no acceptable quote, came from the hardware.
#[derive(Debug)]
pub enum EvidenceError {
	/// There is no Gramine attestation interface: the node does not run inside Gramine-SGX.
	NoGramineInterface {
		/// Where it was looked for.
		root: PathBuf,
	},
	/// Gramine is not configured for DCAP quotes, the only ones the chain verifies.
	NotDcap {
		/// The `attestation_type` file.
		path: PathBuf,
		/// What it reads, trimmed.
		found: String,
	},
	/// There is no configfs-tsm report interface: not a TDX guest, or no tsm driver.
	NoTsmInterface {
		/// Where it was looked for.
		root: PathBuf,
	},
	/// configfs-tsm is served by another driver than the TDX guest's.
	NotTdx {
		/// The report entry's `provider` file.
		path: PathBuf,
		/// What it reads, trimmed.
		found: String,
	},
	/// A report entry's `generation` is not a number.
	GenerationUnreadable {
		/// The `generation` file.
		path: PathBuf,
		/// What it reads, trimmed.
		found: String,
	},
	/// The report entry was written by someone else between this node's write and its read:
	/// the quote read may carry their report data.
	ConcurrentWriter {
		/// The report entry.
		entry: PathBuf,
		/// Its generation before this node wrote its report data.
		before: u64,
		/// Its generation after this node read the quote.
		after: u64,
	},
	/// A file operation on the interface failed.
	Io {
		/// What was being done, as in "writing the report data to".
		action: &'static str,
		/// The file or directory.
		path: PathBuf,
		/// The operating system's error.
		error: io::Error,
	},
	/// The interface gave an empty quote.
	EmptyQuote {
		/// The file it was read from.
		path: PathBuf,
	},
	/// The quote does not parse, or its header is not one of a quote the chain verifies.
	QuoteUnparsable {
		/// The parser's reason.
		error: commons_dcap::Error,
		/// The header fields it claims, if it has them.
		header: Option<QuoteHeader>,
	},
	/// The quote is of another TEE than the provider's.
	WrongTee {
		/// The provider's TEE kind.
		expected: TeeKind,
		/// The quote's.
		found: TeeKind,
	},
	/// The quote carries other report data than was written: a stale quote, or another
	/// writer's.
	ReportDataMismatch {
		/// The report data written.
		written: [u8; 64],
		/// The report data in the quote.
		quoted: [u8; 64],
	},
	/// The quote is of a debug enclave (or TD), whose memory the host can read; the chain
	/// refuses it.
	DebugEnclave {
		/// The quote's TEE kind.
		kind: TeeKind,
	},
	/// The quote does not carry its PCK certificate chain (certification data type 5), which
	/// the chain needs to verify it.
	NoPckChain {
		/// The certification data type it carries instead.
		cert_type: u16,
	},
}

impl fmt::Display for EvidenceError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::NoGramineInterface { root } => write!(
				f,
				"no Gramine attestation interface at {}; is the compute node running inside \
				 Gramine-SGX (gramine-sgx, not gramine-direct) with sgx.remote_attestation = \
				 \"dcap\"?",
				root.display()
			),
			Self::NotDcap { path, found } => write!(
				f,
				"Gramine's attestation type ({}) is {found:?}, not \"dcap\": set \
				 sgx.remote_attestation = \"dcap\" in the manifest (the chain verifies DCAP quotes \
				 only)",
				path.display()
			),
			Self::NoTsmInterface { root } => write!(
				f,
				"no TDX configfs-tsm interface at {}; is this a TDX guest with the tsm driver \
				 (Linux 6.7 or later, tdx_guest loaded, configfs mounted on /sys/kernel/config)?",
				root.display()
			),
			Self::NotTdx { path, found } => write!(
				f,
				"configfs-tsm's provider ({}) is {found:?}, not \"{TSM_PROVIDER_TDX}\": this \
				 guest is not a TDX trust domain",
				path.display()
			),
			Self::GenerationUnreadable { path, found } => {
				write!(f, "{} reads {found:?}, not a generation number", path.display())
			}
			Self::ConcurrentWriter { entry, before, after } => write!(
				f,
				"configfs-tsm report entry {} went from generation {before} to {after} around \
				 this node's single write: another process wrote to it, so its quote may carry \
				 their report data",
				entry.display()
			),
			Self::Io { action, path, error } => write!(f, "{action} {}: {error}", path.display()),
			Self::EmptyQuote { path } => write!(f, "{} gave an empty quote", path.display()),
			Self::QuoteUnparsable { error, header } => {
				let reason = match error {
					commons_dcap::Error::QuoteVersionUnsupported => {
						"its version is not 3 (SGX) or 4 or 5 (TDX)"
					}
					commons_dcap::Error::AttestationKeyTypeUnsupported => {
						"its attestation key type is not 2 (ECDSA-256-with-P-256)"
					}
					commons_dcap::Error::TeeTypeUnsupported => {
						"its TEE type is not 0x00000000 (SGX, version 3) or 0x00000081 (TDX, \
						 version 4 or 5), or its body is not of that type"
					}
					commons_dcap::Error::QeVendorUnknown => "its quoting enclave is not Intel's",
					commons_dcap::Error::QuoteMalformed => {
						"it is truncated or its structure is inconsistent"
					}
					_ => "it does not parse",
				};
				write!(f, "the quote is not one the chain verifies: {reason} ({error:?}")?;
				if let Some(header) = header {
					write!(
						f,
						"; its header says version {}, attestation key type {}, TEE type {:#010x}",
						header.version, header.attestation_key_type, header.tee_type
					)?;
				}
				write!(f, ")")
			}
			Self::WrongTee { expected, found } => {
				write!(f, "the quote is of a {found:?} TEE, not of this node's {expected:?}")
			}
			Self::ReportDataMismatch { written, quoted } => write!(
				f,
				"the quote carries report data 0x{} instead of the 0x{} written: the interface \
				 gave a stale quote, or one for another writer's report data",
				hex(quoted),
				hex(written)
			),
			Self::DebugEnclave { kind } => write!(
				f,
				"the quote is of a debug {kind:?} enclave, whose memory the host can read, and \
				 the chain refuses it: build with sgx.debug = false (or launch the TD without \
				 debug)"
			),
			Self::NoPckChain { cert_type } => write!(
				f,
				"the quote carries certification data of type {cert_type}, not its PCK \
				 certificate chain (type {CERT_TYPE_PCK_CHAIN}): configure the host's DCAP quote \
				 provider library with a PCCS so that quotes embed the chain"
			),
		}
	}
}

impl std::error::Error for EvidenceError {
	fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
		match self {
			Self::Io { error, .. } => Some(error),
			_ => None,
		}
	}
}

/// `bytes` as lowercase hex.
fn hex(bytes: &[u8]) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut text = String::with_capacity(bytes.len() * 2);
	for byte in bytes {
		text.push(char::from(DIGITS[usize::from(byte >> 4)]));
		text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
	}
	text
}

/// Checks that `quote` is a quote the chain can verify, of `kind`, carrying `report_data`: it
/// parses with the chain's own parser (`commons_dcap`, which checks the header: version 3 with
/// TEE type `0x00000000` for SGX, 4 or 5 with `0x00000081` for TDX, attestation key type 2,
/// Intel's QE), its report's REPORTDATA is `report_data`, it is not of a debug enclave or TD, and
/// it carries its PCK certificate chain. Intel's signatures and collateral are the chain's to
/// check.
pub fn check_quote(
	quote: &[u8],
	report_data: &[u8; 64],
	kind: TeeKind,
) -> Result<(), EvidenceError> {
	let parsed = Quote::parse(quote).map_err(|error| EvidenceError::QuoteUnparsable {
		error,
		header: QuoteHeader::read(quote),
	})?;
	let found = TeeKind::from(parsed.tee);
	if found != kind {
		return Err(EvidenceError::WrongTee { expected: kind, found });
	}
	let (quoted, debug) = match &parsed.report {
		Report::Sgx(report) => (report.report_data, report.is_debug()),
		// TDATTRIBUTES bit 0 is DEBUG.
		Report::Td(report) => (report.report_data, report.td_attributes[0] & 0x01 != 0),
	};
	if quoted != *report_data {
		return Err(EvidenceError::ReportDataMismatch { written: *report_data, quoted });
	}
	if debug {
		return Err(EvidenceError::DebugEnclave { kind });
	}
	if parsed.cert_type != CERT_TYPE_PCK_CHAIN {
		return Err(EvidenceError::NoPckChain { cert_type: parsed.cert_type });
	}
	Ok(())
}

/// Writes `bytes` to the existing file `path` in one write, without creating or truncating it:
/// what pseudo-files (Gramine's, configfs attributes) expect.
fn write_existing(path: &Path, bytes: &[u8]) -> io::Result<()> {
	let mut file = fs::OpenOptions::new().write(true).open(path)?;
	file.write_all(bytes)?;
	file.flush()
}

/// Quotes from Gramine's `/dev/attestation` pseudo-files, inside a Gramine-SGX enclave: the
/// report data is written to `user_report_data`, and reading `quote` makes Gramine ask the
/// quoting enclave (through the host's AESM) for a quote of this enclave with it.
pub struct GramineAttestation {
	root: PathBuf,
	/// Held from the write of the report data to the read of the quote, so that two quotes of
	/// this process do not mix their report data.
	lock: Mutex<()>,
}

impl GramineAttestation {
	/// The interface at `root` (Gramine's is [`GRAMINE_ATTESTATION_DIR`]), not checked yet.
	pub fn new(root: impl Into<PathBuf>) -> Self {
		Self { root: root.into(), lock: Mutex::new(()) }
	}

	/// The interface at `root`, checked to exist and to be configured for DCAP quotes.
	pub fn open(root: impl Into<PathBuf>) -> Result<Self, EvidenceError> {
		let provider = Self::new(root);
		provider.check_type()?;
		Ok(provider)
	}

	/// Refuses unless `attestation_type` reads `dcap`.
	fn check_type(&self) -> Result<(), EvidenceError> {
		let path = self.root.join("attestation_type");
		let found = fs::read_to_string(&path).map_err(|error| match error.kind() {
			io::ErrorKind::NotFound => {
				EvidenceError::NoGramineInterface { root: self.root.clone() }
			}
			_ => EvidenceError::Io { action: "reading", path: path.clone(), error },
		})?;
		let found = found.trim();
		if found != GRAMINE_DCAP {
			return Err(EvidenceError::NotDcap { path, found: found.to_owned() });
		}
		Ok(())
	}
}

impl QuoteProvider for GramineAttestation {
	fn kind(&self) -> TeeKind {
		TeeKind::Sgx
	}

	fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, EvidenceError> {
		let _one_at_a_time = self.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		self.check_type()?;
		let path = self.root.join("user_report_data");
		write_existing(&path, report_data).map_err(|error| EvidenceError::Io {
			action: "writing the report data to",
			path,
			error,
		})?;
		let path = self.root.join("quote");
		let quote = fs::read(&path).map_err(|error| EvidenceError::Io {
			action: "reading the quote from",
			path: path.clone(),
			error,
		})?;
		if quote.is_empty() {
			return Err(EvidenceError::EmptyQuote { path });
		}
		check_quote(&quote, report_data, self.kind())?;
		Ok(quote)
	}
}

/// The file operations [`ConfigfsTsm`] makes, so that a test can play the kernel's part (a
/// plain directory does not answer a write to `inblob` with a quote in `outblob`).
trait TsmFiles: Send + Sync {
	/// Creates the directory `path` (a new report entry, which the kernel fills).
	fn create_dir(&self, path: &Path) -> io::Result<()>;
	/// The contents of the file `path`.
	fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
	/// Writes `bytes` to the existing file `path`.
	fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()>;
	/// Removes the directory `path` (a report entry, with the files the kernel gave it).
	fn remove_dir(&self, path: &Path) -> io::Result<()>;
}

/// The real file system.
struct SystemFiles;

impl TsmFiles for SystemFiles {
	fn create_dir(&self, path: &Path) -> io::Result<()> {
		fs::create_dir(path)
	}

	fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
		fs::read(path)
	}

	fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
		write_existing(path, bytes)
	}

	fn remove_dir(&self, path: &Path) -> io::Result<()> {
		fs::remove_dir(path)
	}
}

/// Report entries made by this process, to name each one uniquely.
static ENTRIES: AtomicU64 = AtomicU64::new(0);

/// Quotes from Linux's configfs-tsm report interface, inside a TDX trust domain: each quote is
/// taken in a fresh report entry (`mkdir <root>/<name>`), whose `inblob` gets the report data
/// and whose `outblob` is the TD's quote, signed through the host's quote generation service
/// (QGS); the entry is removed afterwards.
///
/// The entry's `generation` counts the writes to it. It is read before the write and after the
/// read, and must have moved by exactly this node's one write: otherwise someone else wrote to
/// the entry meanwhile (the kernel's documented way to detect it), and the quote is refused.
pub struct ConfigfsTsm {
	root: PathBuf,
	files: Arc<dyn TsmFiles>,
}

impl ConfigfsTsm {
	/// The interface at `root` (Linux's is [`CONFIGFS_TSM_REPORT_DIR`]), not checked yet.
	pub fn new(root: impl Into<PathBuf>) -> Self {
		Self { root: root.into(), files: Arc::new(SystemFiles) }
	}

	/// The interface at `root`, checked to exist.
	pub fn open(root: impl Into<PathBuf>) -> Result<Self, EvidenceError> {
		let provider = Self::new(root);
		if !provider.root.is_dir() {
			return Err(EvidenceError::NoTsmInterface { root: provider.root });
		}
		Ok(provider)
	}

	/// The interface at `root`, through `files`.
	#[cfg(test)]
	fn with_files(root: impl Into<PathBuf>, files: Arc<dyn TsmFiles>) -> Self {
		Self { root: root.into(), files }
	}

	/// A name no other report entry has: this process's id, a counter and the time.
	fn entry_name() -> String {
		let count = ENTRIES.fetch_add(1, Ordering::Relaxed);
		let nanos = SystemTime::now()
			.duration_since(UNIX_EPOCH)
			.map(|elapsed| elapsed.as_nanos())
			.unwrap_or_default();
		format!("commons-compute-{}-{count}-{nanos}", std::process::id())
	}

	/// The report entry's generation.
	fn generation(&self, entry: &Path) -> Result<u64, EvidenceError> {
		let path = entry.join("generation");
		let bytes = self.files.read(&path).map_err(|error| EvidenceError::Io {
			action: "reading",
			path: path.clone(),
			error,
		})?;
		let found = String::from_utf8_lossy(&bytes).trim().to_owned();
		found.parse().map_err(|_| EvidenceError::GenerationUnreadable { path, found })
	}

	/// A quote carrying `report_data`, from the report entry `entry`.
	fn quote_in(&self, entry: &Path, report_data: &[u8; 64]) -> Result<Vec<u8>, EvidenceError> {
		let path = entry.join("provider");
		match self.files.read(&path) {
			Ok(bytes) => {
				let found = String::from_utf8_lossy(&bytes).trim().to_owned();
				if found != TSM_PROVIDER_TDX {
					return Err(EvidenceError::NotTdx { path, found });
				}
			}
			// Older kernels may lack the attribute; the quote's own TEE type is checked below.
			Err(error) if error.kind() == io::ErrorKind::NotFound => {}
			Err(error) => return Err(EvidenceError::Io { action: "reading", path, error }),
		}
		let before = self.generation(entry)?;
		let path = entry.join("inblob");
		self.files.write(&path, report_data).map_err(|error| EvidenceError::Io {
			action: "writing the report data to",
			path,
			error,
		})?;
		let path = entry.join("outblob");
		let quote = self.files.read(&path).map_err(|error| EvidenceError::Io {
			action: "reading the quote from",
			path: path.clone(),
			error,
		})?;
		let after = self.generation(entry)?;
		if before.checked_add(1) != Some(after) {
			return Err(EvidenceError::ConcurrentWriter { entry: entry.to_owned(), before, after });
		}
		if quote.is_empty() {
			return Err(EvidenceError::EmptyQuote { path });
		}
		check_quote(&quote, report_data, self.kind())?;
		Ok(quote)
	}
}

impl QuoteProvider for ConfigfsTsm {
	fn kind(&self) -> TeeKind {
		TeeKind::Tdx
	}

	fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, EvidenceError> {
		let entry = self.root.join(Self::entry_name());
		self.files.create_dir(&entry).map_err(|error| match error.kind() {
			io::ErrorKind::NotFound => EvidenceError::NoTsmInterface { root: self.root.clone() },
			_ => EvidenceError::Io {
				action: "creating the configfs-tsm report entry",
				path: entry.clone(),
				error,
			},
		})?;
		let quote = self.quote_in(&entry, report_data);
		if let Err(error) = self.files.remove_dir(&entry) {
			log::warn!(
				target: LOG_TARGET,
				"cannot remove the configfs-tsm report entry {}: {error}",
				entry.display()
			);
		}
		quote
	}
}

#[cfg(test)]
mod tests {
	//! Every test here runs the providers against a temporary directory made to look like the
	//! hardware's interface, holding one of **Intel's sample quotes** (the `commons-dcap`
	//! fixtures, from the `dcap-qvl` crate). Their report data is Intel's, not ours: a test that
	//! writes our report data must see the quote refused, and a test that expects a quote to
	//! pass writes the sample's own report data.

	use super::*;

	/// Intel's sample SGX quote (version 3); its report data is "Hello, world!" then zeros.
	const INTEL_SAMPLE_SGX_QUOTE: &[u8] =
		include_bytes!("../../pallets/attestation/dcap/tests/fixtures/sgx_quote");
	/// Intel's sample TDX quote, version 4 (TD 1.0 report).
	const INTEL_SAMPLE_TDX_QUOTE: &[u8] =
		include_bytes!("../../pallets/attestation/dcap/tests/fixtures/tdx_quote");
	/// Intel's sample TDX quote, version 5 (TD 1.5 report with its extensions).
	const INTEL_SAMPLE_TDX_V5_QUOTE: &[u8] =
		include_bytes!("../../pallets/attestation/dcap/tests/fixtures/tdx_quote_td15ex");

	/// Report data of our own, which no Intel sample carries.
	const OUR_REPORT_DATA: [u8; 64] = [0xc0; 64];

	/// The report data an Intel sample quote carries, read at Intel's offsets: the report body
	/// starts after the 48-byte header (and, in version 5, a 6-byte body descriptor); REPORTDATA
	/// is at 320 in an SGX report body (its last 64 of 384 bytes) and at 520 in a TD report.
	fn intel_sample_report_data(quote: &[u8]) -> [u8; 64] {
		let offset = match u16::from_le_bytes([quote[0], quote[1]]) {
			3 => 48 + 320,
			4 => 48 + 520,
			_ => 48 + 6 + 520,
		};
		quote[offset..offset + 64].try_into().unwrap()
	}

	#[test]
	fn intel_sample_report_data_offsets_agree_with_the_chains_parser() {
		assert!(intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE).starts_with(b"Hello, world!"));
		for quote in [INTEL_SAMPLE_SGX_QUOTE, INTEL_SAMPLE_TDX_QUOTE, INTEL_SAMPLE_TDX_V5_QUOTE] {
			let parsed = Quote::parse(quote).unwrap();
			let parsed = match parsed.report {
				Report::Sgx(report) => report.report_data,
				Report::Td(report) => report.report_data,
			};
			assert_eq!(parsed, intel_sample_report_data(quote));
		}
	}

	/// A directory laid out like Gramine's `/dev/attestation`, with `attestation_type` reading
	/// `kind` and `quote` holding `quote`.
	fn gramine_dir(kind: &str, quote: &[u8]) -> tempfile::TempDir {
		let dir = tempfile::tempdir().unwrap();
		fs::write(dir.path().join("attestation_type"), kind).unwrap();
		fs::write(dir.path().join("user_report_data"), b"").unwrap();
		fs::write(dir.path().join("quote"), quote).unwrap();
		dir
	}

	#[test]
	fn gramine_writes_the_report_data_and_reads_an_intel_sample_quote_carrying_it() {
		let dir = gramine_dir("dcap\n", INTEL_SAMPLE_SGX_QUOTE);
		let provider = GramineAttestation::open(dir.path()).unwrap();
		assert_eq!(provider.kind(), TeeKind::Sgx);
		let report_data = intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE);
		assert_eq!(provider.quote(&report_data).unwrap(), INTEL_SAMPLE_SGX_QUOTE);
		assert_eq!(fs::read(dir.path().join("user_report_data")).unwrap(), report_data);
	}

	#[test]
	fn gramine_refuses_an_intel_sample_quote_that_does_not_carry_our_report_data() {
		let dir = gramine_dir("dcap", INTEL_SAMPLE_SGX_QUOTE);
		let provider = GramineAttestation::open(dir.path()).unwrap();
		let error = provider.quote(&OUR_REPORT_DATA).unwrap_err();
		let EvidenceError::ReportDataMismatch { written, quoted } = &error else {
			panic!("{error}");
		};
		assert_eq!(*written, OUR_REPORT_DATA);
		assert_eq!(*quoted, intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE));
		assert!(error.to_string().contains("instead of the 0xc0c0"), "{error}");
		// It did write ours: the protocol ran, and the quote is what gave it away.
		assert_eq!(fs::read(dir.path().join("user_report_data")).unwrap(), OUR_REPORT_DATA);
	}

	#[test]
	fn gramine_refuses_a_missing_interface() {
		let dir = tempfile::tempdir().unwrap();
		let root = dir.path().join("attestation");
		let error = GramineAttestation::open(&root).err().unwrap();
		assert!(matches!(&error, EvidenceError::NoGramineInterface { root: at } if *at == root));
		assert!(error.to_string().starts_with("no Gramine attestation interface at"), "{error}");
		let error = GramineAttestation::new(&root).quote(&OUR_REPORT_DATA).unwrap_err();
		assert!(matches!(error, EvidenceError::NoGramineInterface { .. }), "{error}");
	}

	#[test]
	fn gramine_refuses_an_attestation_type_other_than_dcap() {
		for kind in ["none", "epid\n", ""] {
			let dir = gramine_dir(kind, INTEL_SAMPLE_SGX_QUOTE);
			let error = GramineAttestation::open(dir.path()).err().unwrap();
			assert!(
				matches!(&error, EvidenceError::NotDcap { found, .. } if found == kind.trim()),
				"{error}"
			);
			let provider = GramineAttestation::new(dir.path());
			let report_data = intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE);
			let error = provider.quote(&report_data).unwrap_err();
			assert!(matches!(error, EvidenceError::NotDcap { .. }), "{error}");
			assert!(error.to_string().contains("sgx.remote_attestation = \"dcap\""), "{error}");
			// Nothing was written to an interface that is not configured for DCAP.
			assert!(fs::read(dir.path().join("user_report_data")).unwrap().is_empty());
		}
	}

	#[test]
	fn gramine_refuses_an_empty_quote_and_a_tdx_quote() {
		let dir = gramine_dir("dcap", b"");
		let error = GramineAttestation::new(dir.path()).quote(&OUR_REPORT_DATA).unwrap_err();
		assert!(matches!(error, EvidenceError::EmptyQuote { .. }), "{error}");

		let dir = gramine_dir("dcap", INTEL_SAMPLE_TDX_QUOTE);
		let report_data = intel_sample_report_data(INTEL_SAMPLE_TDX_QUOTE);
		let error = GramineAttestation::new(dir.path()).quote(&report_data).unwrap_err();
		assert!(
			matches!(
				error,
				EvidenceError::WrongTee { expected: TeeKind::Sgx, found: TeeKind::Tdx }
			),
			"{error}"
		);
	}

	#[test]
	fn check_quote_refuses_each_header_the_chain_does_not_verify() {
		let report_data = intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE);
		check_quote(INTEL_SAMPLE_SGX_QUOTE, &report_data, TeeKind::Sgx).unwrap();
		let mutated = |offset: usize, value: u8| {
			let mut quote = INTEL_SAMPLE_SGX_QUOTE.to_vec();
			quote[offset] = value;
			check_quote(&quote, &report_data, TeeKind::Sgx).unwrap_err()
		};
		// Version 2, attestation key type 3, TEE type 0x00000001.
		for (offset, value, expected) in [
			(0, 2, commons_dcap::Error::QuoteVersionUnsupported),
			(2, 3, commons_dcap::Error::AttestationKeyTypeUnsupported),
			(4, 1, commons_dcap::Error::TeeTypeUnsupported),
		] {
			let error = mutated(offset, value);
			assert!(
				matches!(error, EvidenceError::QuoteUnparsable { error, header: Some(_) }
					if error == expected),
				"{error}"
			);
		}
		// An SGX body under a TDX header (TEE type 0x81, version 3).
		let error = mutated(4, 0x81);
		assert!(error.to_string().contains("TEE type 0x00000081"), "{error}");
		let error = check_quote(&INTEL_SAMPLE_SGX_QUOTE[..100], &report_data, TeeKind::Sgx);
		assert!(matches!(
			error,
			Err(EvidenceError::QuoteUnparsable { error: commons_dcap::Error::QuoteMalformed, .. })
		));
		let error = check_quote(&[3], &report_data, TeeKind::Sgx).unwrap_err();
		assert!(matches!(error, EvidenceError::QuoteUnparsable { header: None, .. }), "{error}");
	}

	#[test]
	fn check_quote_refuses_a_debug_enclave_and_a_quote_without_its_pck_chain() {
		let report_data = intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE);
		// ATTRIBUTES starts at 48 + 48 in an SGX quote; bit 1 of its first byte is DEBUG.
		let mut debug = INTEL_SAMPLE_SGX_QUOTE.to_vec();
		debug[96] |= 0x02;
		let error = check_quote(&debug, &report_data, TeeKind::Sgx).unwrap_err();
		assert!(matches!(error, EvidenceError::DebugEnclave { kind: TeeKind::Sgx }), "{error}");

		// Version 3: header (48), report (384), signature data length (4), signature (64),
		// attestation key (64), QE report (384), its signature (64), QE auth data (2 + n), then
		// the certification data type.
		let auth_len = usize::from(u16::from_le_bytes([
			INTEL_SAMPLE_SGX_QUOTE[1012],
			INTEL_SAMPLE_SGX_QUOTE[1013],
		]));
		let at = 1014 + auth_len;
		let cert_type = &INTEL_SAMPLE_SGX_QUOTE[at..at + 2];
		assert_eq!(u16::from_le_bytes([cert_type[0], cert_type[1]]), CERT_TYPE_PCK_CHAIN);
		let mut without_chain = INTEL_SAMPLE_SGX_QUOTE.to_vec();
		without_chain[at] = 3;
		let error = check_quote(&without_chain, &report_data, TeeKind::Sgx).unwrap_err();
		assert!(matches!(error, EvidenceError::NoPckChain { cert_type: 3 }), "{error}");
	}

	/// A directory made to behave like configfs-tsm under the TDX guest driver: a new entry gets
	/// `provider` (if any) and `generation` 0; a write to its `inblob` bumps `generation` (by
	/// `generation_step`, 1 unless a concurrent writer is played) and puts `quote` in `outblob`;
	/// removing an entry removes its files, as configfs does.
	struct FakeTsm {
		provider: Option<&'static str>,
		quote: Vec<u8>,
		generation_step: u64,
		inblobs: Mutex<Vec<Vec<u8>>>,
	}

	impl FakeTsm {
		fn new(quote: &[u8]) -> Self {
			Self {
				provider: Some("tdx_guest\n"),
				quote: quote.to_vec(),
				generation_step: 1,
				inblobs: Mutex::new(Vec::new()),
			}
		}
	}

	impl TsmFiles for FakeTsm {
		fn create_dir(&self, path: &Path) -> io::Result<()> {
			fs::create_dir(path)?;
			if let Some(provider) = self.provider {
				fs::write(path.join("provider"), provider)?;
			}
			fs::write(path.join("generation"), "0\n")?;
			fs::write(path.join("inblob"), b"")
		}

		fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
			fs::read(path)
		}

		fn write(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
			let entry = path.parent().unwrap();
			assert_eq!(path.file_name().unwrap(), "inblob", "only inblob is written");
			write_existing(path, bytes)?;
			self.inblobs.lock().unwrap().push(bytes.to_vec());
			let generation: u64 =
				fs::read_to_string(entry.join("generation")).unwrap().trim().parse().unwrap();
			fs::write(
				entry.join("generation"),
				format!("{}\n", generation + self.generation_step),
			)?;
			fs::write(entry.join("outblob"), &self.quote)
		}

		fn remove_dir(&self, path: &Path) -> io::Result<()> {
			fs::remove_dir_all(path)
		}
	}

	/// A provider on a fresh report directory served by `fake`.
	fn provider_on(fake: &Arc<FakeTsm>) -> (tempfile::TempDir, ConfigfsTsm) {
		let dir = tempfile::tempdir().unwrap();
		let provider = ConfigfsTsm::with_files(dir.path(), fake.clone());
		(dir, provider)
	}

	/// The entries left in the report directory `dir`.
	fn entries_left(dir: &tempfile::TempDir) -> usize {
		fs::read_dir(dir.path()).unwrap().count()
	}

	#[test]
	fn configfs_tsm_writes_inblob_and_reads_an_intel_sample_quote_carrying_it() {
		for quote in [INTEL_SAMPLE_TDX_QUOTE, INTEL_SAMPLE_TDX_V5_QUOTE] {
			for provider in [Some("tdx_guest\n"), None] {
				let fake = Arc::new(FakeTsm { provider, ..FakeTsm::new(quote) });
				let (dir, tsm) = provider_on(&fake);
				assert_eq!(tsm.kind(), TeeKind::Tdx);
				let report_data = intel_sample_report_data(quote);
				assert_eq!(tsm.quote(&report_data).unwrap(), quote);
				assert_eq!(*fake.inblobs.lock().unwrap(), vec![report_data.to_vec()]);
				assert_eq!(entries_left(&dir), 0, "the report entry is removed");
				// The next quote takes a fresh entry.
				tsm.quote(&report_data).unwrap();
				assert_eq!(fake.inblobs.lock().unwrap().len(), 2);
			}
		}
	}

	#[test]
	fn configfs_tsm_refuses_an_intel_sample_quote_that_does_not_carry_our_report_data() {
		let fake = Arc::new(FakeTsm::new(INTEL_SAMPLE_TDX_QUOTE));
		let (dir, tsm) = provider_on(&fake);
		let error = tsm.quote(&OUR_REPORT_DATA).unwrap_err();
		let EvidenceError::ReportDataMismatch { written, quoted } = &error else {
			panic!("{error}");
		};
		assert_eq!(*written, OUR_REPORT_DATA);
		assert_eq!(*quoted, intel_sample_report_data(INTEL_SAMPLE_TDX_QUOTE));
		assert_eq!(*fake.inblobs.lock().unwrap(), vec![OUR_REPORT_DATA.to_vec()]);
		assert_eq!(entries_left(&dir), 0, "the report entry is removed after a refusal too");
	}

	#[test]
	fn configfs_tsm_refuses_a_missing_interface() {
		let dir = tempfile::tempdir().unwrap();
		let root = dir.path().join("tsm").join("report");
		let error = ConfigfsTsm::open(&root).err().unwrap();
		assert!(matches!(&error, EvidenceError::NoTsmInterface { root: at } if *at == root));
		assert_eq!(
			error.to_string(),
			format!(
				"no TDX configfs-tsm interface at {}; is this a TDX guest with the tsm driver \
				 (Linux 6.7 or later, tdx_guest loaded, configfs mounted on /sys/kernel/config)?",
				root.display()
			)
		);
		let fake = Arc::new(FakeTsm::new(INTEL_SAMPLE_TDX_QUOTE));
		let error = ConfigfsTsm::with_files(&root, fake.clone())
			.quote(&intel_sample_report_data(INTEL_SAMPLE_TDX_QUOTE))
			.unwrap_err();
		assert!(matches!(error, EvidenceError::NoTsmInterface { .. }), "{error}");
		assert!(fake.inblobs.lock().unwrap().is_empty());
	}

	#[test]
	fn configfs_tsm_refuses_another_provider_than_tdx() {
		let fake = Arc::new(FakeTsm {
			provider: Some("sev_guest\n"),
			..FakeTsm::new(INTEL_SAMPLE_TDX_QUOTE)
		});
		let (dir, tsm) = provider_on(&fake);
		let error = tsm.quote(&intel_sample_report_data(INTEL_SAMPLE_TDX_QUOTE)).unwrap_err();
		assert!(matches!(&error, EvidenceError::NotTdx { found, .. } if found == "sev_guest"));
		assert!(fake.inblobs.lock().unwrap().is_empty(), "nothing is written");
		assert_eq!(entries_left(&dir), 0);
	}

	#[test]
	fn configfs_tsm_refuses_a_quote_when_another_writer_used_the_entry() {
		let fake = Arc::new(FakeTsm { generation_step: 2, ..FakeTsm::new(INTEL_SAMPLE_TDX_QUOTE) });
		let (dir, tsm) = provider_on(&fake);
		let error = tsm.quote(&intel_sample_report_data(INTEL_SAMPLE_TDX_QUOTE)).unwrap_err();
		assert!(
			matches!(error, EvidenceError::ConcurrentWriter { before: 0, after: 2, .. }),
			"{error}"
		);
		assert_eq!(entries_left(&dir), 0);
	}

	#[test]
	fn configfs_tsm_refuses_an_sgx_quote_and_an_empty_one() {
		let fake = Arc::new(FakeTsm::new(INTEL_SAMPLE_SGX_QUOTE));
		let (_dir, tsm) = provider_on(&fake);
		let error = tsm.quote(&intel_sample_report_data(INTEL_SAMPLE_SGX_QUOTE)).unwrap_err();
		assert!(
			matches!(
				error,
				EvidenceError::WrongTee { expected: TeeKind::Tdx, found: TeeKind::Sgx }
			),
			"{error}"
		);
		let fake = Arc::new(FakeTsm::new(b""));
		let (_dir, tsm) = provider_on(&fake);
		let error = tsm.quote(&OUR_REPORT_DATA).unwrap_err();
		assert!(matches!(error, EvidenceError::EmptyQuote { .. }), "{error}");
	}
}
