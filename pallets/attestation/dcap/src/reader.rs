//! A cursor over a quote's little-endian fields.

use crate::{Error, Result};

pub(crate) struct Reader<'a> {
	rest: &'a [u8],
}

impl<'a> Reader<'a> {
	pub(crate) fn new(bytes: &'a [u8]) -> Self {
		Self { rest: bytes }
	}

	/// How many bytes were read, given the slice the reader started on.
	pub(crate) fn consumed_of(&self, start: &[u8]) -> usize {
		start.len() - self.rest.len()
	}

	pub(crate) fn take(&mut self, len: usize) -> Result<&'a [u8]> {
		if self.rest.len() < len {
			return Err(Error::QuoteMalformed);
		}
		let (head, tail) = self.rest.split_at(len);
		self.rest = tail;
		Ok(head)
	}

	pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
		let mut out = [0u8; N];
		out.copy_from_slice(self.take(N)?);
		Ok(out)
	}

	pub(crate) fn u16(&mut self) -> Result<u16> {
		Ok(u16::from_le_bytes(self.array()?))
	}

	pub(crate) fn u32(&mut self) -> Result<u32> {
		Ok(u32::from_le_bytes(self.array()?))
	}

	/// A field preceded by its 16-bit length.
	pub(crate) fn sized16(&mut self) -> Result<&'a [u8]> {
		let len = self.u16()?;
		self.take(usize::from(len))
	}

	/// A field preceded by its 32-bit length.
	pub(crate) fn sized32(&mut self) -> Result<&'a [u8]> {
		let len = usize::try_from(self.u32()?).map_err(|_| Error::QuoteMalformed)?;
		self.take(len)
	}
}
