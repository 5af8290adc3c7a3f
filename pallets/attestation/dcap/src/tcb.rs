//! TCB statuses, how the platform's, the quoting enclave's and the TDX module's combine, and the
//! policy that decides which are good enough.

use crate::{Error, Regraded, Result, Verified};
use alloc::{string::String, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};

/// Intel's grade of a TCB level, and the two TD 1.5 grades the relaunch rule produces.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	Serialize,
	Deserialize,
)]
pub enum TcbStatus {
	/// Fully patched.
	UpToDate,
	/// Patched, but the enclave must mitigate some issues in software.
	SWHardeningNeeded,
	/// Patched, but the platform's configuration (BIOS) leaves it exposed.
	ConfigurationNeeded,
	/// Both of the above.
	ConfigurationAndSWHardeningNeeded,
	/// Missing a TCB recovery Intel has published.
	OutOfDate,
	/// Out of date and misconfigured.
	OutOfDateConfigurationNeeded,
	/// Intel revoked it: the platform's keys may be compromised.
	Revoked,
	/// TD 1.5: launched out of date, since updated; relaunching the TD brings it up to date.
	#[serde(skip)]
	TDRelaunchAdvised,
	/// As [`TcbStatus::TDRelaunchAdvised`], with a configuration needed.
	#[serde(skip)]
	TDRelaunchAdvisedConfigurationNeeded,
}

impl TcbStatus {
	/// The platform's status once a component (the QE or the TDX module) is taken into account:
	/// only an out-of-date or revoked component lowers it (Intel's `convergeTcbStatuses`).
	pub fn converge(self, component: TcbStatus) -> TcbStatus {
		use TcbStatus::*;
		match (component, self) {
			(Revoked, _) => Revoked,
			(OutOfDate, UpToDate | SWHardeningNeeded) => OutOfDate,
			(OutOfDate, ConfigurationNeeded | ConfigurationAndSWHardeningNeeded) => {
				OutOfDateConfigurationNeeded
			}
			_ => self,
		}
	}

	/// A TD 1.5's status from its launch status and its current one (Intel's
	/// `checkForRelaunch`).
	pub fn with_current(self, current: TcbStatus) -> TcbStatus {
		use TcbStatus::*;
		let needs_configuration = |status| {
			matches!(
				status,
				ConfigurationNeeded
					| OutOfDateConfigurationNeeded
					| ConfigurationAndSWHardeningNeeded
					| TDRelaunchAdvisedConfigurationNeeded
			)
		};
		match (self, current) {
			(
				OutOfDate | OutOfDateConfigurationNeeded,
				UpToDate
				| SWHardeningNeeded
				| ConfigurationNeeded
				| ConfigurationAndSWHardeningNeeded,
			) => {
				if needs_configuration(self) || needs_configuration(current) {
					TDRelaunchAdvisedConfigurationNeeded
				} else {
					TDRelaunchAdvised
				}
			}
			_ => self,
		}
	}

	/// Whether the platform misses a TCB recovery, which a grace period may forgive.
	pub fn is_out_of_date(self) -> bool {
		matches!(self, TcbStatus::OutOfDate | TcbStatus::OutOfDateConfigurationNeeded)
	}
}

/// Which verified platforms a chain trusts, set by governance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcbPolicy<'a> {
	/// Statuses accepted as they are.
	pub accepted: &'a [TcbStatus],
	/// An out-of-date platform is still accepted until this many seconds after the date of the
	/// TCB level it matched (time to apply Intel's TCB recovery).
	pub out_of_date_grace: u64,
	/// If set, every advisory affecting the platform must be in this list.
	pub allowed_advisories: Option<&'a [Vec<u8>]>,
	/// If set, the TCB info and the QE identity that graded the quote must come from this TCB
	/// evaluation (`tcbEvaluationDataNumber`) or a later one: collateral Intel has superseded
	/// after a TCB recovery, though still unexpired, no longer grades platforms.
	pub min_evaluation_data_number: Option<u32>,
}

impl TcbPolicy<'_> {
	/// Whether the platform of `verified` is trusted at `now`: its collateral is recent enough,
	/// its status is accepted (or out of date within the grace period after the date of the
	/// level it matched) and every advisory affecting it is allowed.
	pub fn admits(&self, verified: &Verified, now: u64) -> Result<()> {
		self.admits_grade(
			verified.status,
			&verified.advisories,
			verified.tcb_date,
			[verified.tcb_evaluation_data_number, verified.qe_evaluation_data_number],
			now,
		)
	}

	/// [`TcbPolicy::admits`] for a platform graded again by [`crate::regrade`]: whether a quote
	/// of it would be admitted at `now`, graded by the collateral it was regraded with.
	pub fn admits_regraded(&self, regraded: &Regraded, now: u64) -> Result<()> {
		self.admits_grade(
			regraded.status,
			&regraded.advisories,
			regraded.tcb_date,
			[regraded.tcb_evaluation_data_number, regraded.qe_evaluation_data_number],
			now,
		)
	}

	/// The policy's judgement of a grade, however it was reached. `evaluation_numbers` are the
	/// TCB evaluation data numbers of the TCB info and the QE identity that graded it.
	fn admits_grade(
		&self,
		status: TcbStatus,
		advisories: &[String],
		tcb_date: u64,
		evaluation_numbers: [u32; 2],
		now: u64,
	) -> Result<()> {
		// Checked first: the status and advisories below mean something only if the collateral
		// that graded them is recent enough.
		let too_old = |minimum: u32| evaluation_numbers.iter().any(|number| *number < minimum);
		if self.min_evaluation_data_number.is_some_and(too_old) {
			return Err(Error::TcbEvaluationTooOld);
		}
		let in_grace = self.out_of_date_grace > 0
			&& status.is_out_of_date()
			&& tcb_date.saturating_add(self.out_of_date_grace) >= now;
		if !self.accepted.contains(&status) && !in_grace {
			return Err(Error::TcbStatusRefused);
		}
		if let Some(allowed) = self.allowed_advisories {
			if advisories
				.iter()
				.any(|id| !allowed.iter().any(|a| a.as_slice() == id.as_bytes()))
			{
				return Err(Error::AdvisoryRefused);
			}
		}
		Ok(())
	}
}
