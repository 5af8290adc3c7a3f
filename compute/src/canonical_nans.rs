//! NaNs made canonical where a module can see their bits, instead of after every float operation.
//!
//! A float operation whose result is NaN leaves the NaN's sign and payload to the CPU: x86-64's
//! default NaN is negative, AArch64's positive, and the two propagate NaN operands by different
//! rules. Two workers on different CPUs would then write different bytes and their votes would
//! not agree. Cranelift can canonicalize the result of every float operation (a compare and a
//! select each), which makes a float-heavy loop about 1.8 times slower. But a NaN's bits only
//! matter where the module can see them; everywhere else a NaN is just NaN (every comparison,
//! conversion and branch treats all NaNs alike). In a module without SIMD whose imports take and
//! return no floats, the bits of a float become visible only through:
//!
//! - `f32.store` / `f64.store`: the bits go to memory, which the module reads as bytes and
//!   writes to its output;
//! - `i32.reinterpret_f32` / `i64.reinterpret_f64`: the bits become an integer;
//! - `f32.copysign` / `f64.copysign`: the sign of the second operand is copied.
//!
//! [`prepare`] rewrites such a module so that the value each of these takes is made canonical
//! first (the positive quiet NaN with an empty payload, the one Cranelift uses), through a
//! scratch local: `local.set s; local.get s; <canonical NaN>; local.get s; local.get s; eq;
//! select`. The module then runs on an engine that leaves float operations as the CPU does them,
//! and writes the same bytes on every CPU. A module that uses SIMD (its lanes are visible to
//! integer operations in too many ways), or that trades floats with its host, is left as it is
//! and runs on the engine that canonicalizes every operation.
//!
//! A value whose bits every CPU agrees on is left alone, so that a NaN a module reads and
//! writes back keeps its payload (some formats carry data in it: R's `NA` is a NaN): one read
//! from memory, a constant, an integer's bits, or such a value negated or made absolute,
//! directly or through a local that is only ever given such values. What computed it is read
//! from the instruction just before: in structured code that is what left the value on top of
//! the stack (a block's end, a branch or anything else counts as arithmetic, to be safe).
//!
//! Compared with canonicalizing every operation's result, two things differ, the same way on
//! every CPU: a NaN computed by arithmetic and then negated or made absolute is stored or
//! reinterpreted as the canonical NaN, not with its sign flipped; and the seven instructions of
//! each canonicalization burn fuel. So the workers of a pool should run the same release.

use std::borrow::Cow;

use wasmparser::{
	BinaryReader, FunctionBody, Operator, Parser, Payload, TypeRef, ValType, Validator,
	WasmFeatures,
};

/// How a module is to run so that every CPU computes the same bits.
#[derive(Debug, PartialEq, Eq)]
pub enum Prepared<'a> {
	/// These bytes, whose NaNs are canonical wherever their bits can be seen, on an engine that
	/// does not canonicalize float operations. They are the module's own bytes when it has no
	/// instruction that shows a float's bits.
	CanonicalWhereSeen(Cow<'a, [u8]>),
	/// The module's own bytes, on an engine that canonicalizes every float operation, for the
	/// reason given: it uses SIMD, trades floats with its host, or could not be rewritten.
	CanonicalEverywhere(String),
}

/// The canonical NaN's bits as `f32.const` takes them: positive, quiet, no payload.
const CANONICAL_F32: u32 = 0x7fc0_0000;
/// The canonical NaN's bits as `f64.const` takes them.
const CANONICAL_F64: u64 = 0x7ff8_0000_0000_0000;

/// The binary encoding of what [`prepare`] adds.
mod opcode {
	pub const LOCAL_GET: u8 = 0x20;
	pub const LOCAL_SET: u8 = 0x21;
	pub const SELECT: u8 = 0x1b;
	pub const F32_CONST: u8 = 0x43;
	pub const F64_CONST: u8 = 0x44;
	pub const F32_EQ: u8 = 0x5b;
	pub const F64_EQ: u8 = 0x61;
	pub const F32: u8 = 0x7d;
	pub const F64: u8 = 0x7c;
	pub const CODE_SECTION: u8 = 10;
}

/// A float width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Width {
	F32,
	F64,
}

/// `module` ready to run deterministically (see the module's documentation).
pub fn prepare(module: &[u8]) -> Prepared<'_> {
	let features = WasmFeatures::default() - WasmFeatures::COMPONENT_MODEL;
	let scalar = features - WasmFeatures::SIMD - WasmFeatures::RELAXED_SIMD;
	let valid = |bytes: &[u8], features: WasmFeatures| {
		Validator::new_with_features(features).validate_all(bytes).is_ok()
	};
	// The engine that canonicalizes everything runs it, or says why it cannot.
	if !valid(module, scalar) {
		return Prepared::CanonicalEverywhere(match valid(module, features) {
			true => "it uses SIMD".into(),
			false => "it is not a valid module".into(),
		});
	}
	match rewrite(module) {
		Ok(None) => Prepared::CanonicalWhereSeen(Cow::Borrowed(module)),
		Ok(Some(rewritten)) if valid(&rewritten, scalar) => {
			Prepared::CanonicalWhereSeen(Cow::Owned(rewritten))
		}
		// A function at the limit of its locals.
		Ok(Some(_)) => Prepared::CanonicalEverywhere("its rewriting is not valid".into()),
		Err(NotRewritten::FloatsToTheHost) => {
			Prepared::CanonicalEverywhere("a function it imports takes or returns a float".into())
		}
		Err(NotRewritten::TooManyLocals) => {
			Prepared::CanonicalEverywhere("a function has too many locals".into())
		}
		Err(NotRewritten::Unreadable(error)) => {
			Prepared::CanonicalEverywhere(format!("it does not read as expected: {error}"))
		}
	}
}

/// Why a module is not rewritten.
enum NotRewritten {
	/// A function the module imports takes or returns a float: its bits reach the host.
	FloatsToTheHost,
	/// A function would have more locals than an index can name.
	TooManyLocals,
	/// The module does not parse as this pass reads it (a type it does not know).
	Unreadable(wasmparser::BinaryReaderError),
}

impl From<wasmparser::BinaryReaderError> for NotRewritten {
	fn from(error: wasmparser::BinaryReaderError) -> Self {
		NotRewritten::Unreadable(error)
	}
}

/// What the pass needs to know of a function type.
struct Signature {
	params: u32,
	/// Whether a parameter or a result is a float.
	has_floats: bool,
}

/// `module` with a canonicalization before each instruction that shows a float's bits, or `None`
/// if it has none. `module` is valid.
fn rewrite(module: &[u8]) -> Result<Option<Vec<u8>>, NotRewritten> {
	let mut signatures: Vec<Signature> = Vec::new();
	let mut defined_types: Vec<u32> = Vec::new();
	let mut bodies: Vec<FunctionBody> = Vec::new();
	for payload in Parser::new(0).parse_all(module) {
		match payload? {
			Payload::TypeSection(types) => {
				for func in types.into_iter_err_on_gc_types() {
					let func = func?;
					signatures.push(Signature {
						params: func.params().len() as u32,
						has_floats: func.params().iter().chain(func.results()).any(is_float),
					});
				}
			}
			Payload::ImportSection(imports) => {
				for import in imports {
					let TypeRef::Func(index) = import?.ty else { continue };
					if signatures.get(index as usize).is_some_and(|types| types.has_floats) {
						return Err(NotRewritten::FloatsToTheHost);
					}
				}
			}
			Payload::FunctionSection(functions) => {
				for index in functions {
					defined_types.push(index?);
				}
			}
			Payload::CodeSectionEntry(body) => bodies.push(body),
			_ => {}
		}
	}

	let mut code = Vec::new();
	let mut changed = false;
	write_u32(&mut code, bodies.len() as u32);
	for (body, type_index) in bodies.iter().zip(&defined_types) {
		let params = signatures.get(*type_index as usize).map_or(0, |types| types.params);
		let rewritten = rewrite_body(module, body, params)?;
		changed |= rewritten.is_some();
		let bytes = rewritten.unwrap_or_else(|| module[body.range()].to_vec());
		write_u32(&mut code, bytes.len() as u32);
		code.extend(bytes);
	}
	if !changed {
		return Ok(None);
	}
	Ok(Some(replace_code_section(module, &code)?))
}

fn is_float(value: &ValType) -> bool {
	matches!(value, ValType::F32 | ValType::F64)
}

/// The body (its locals and code, without its size) with canonicalizations added, and the
/// scratch locals they use, or `None` if it has nothing to canonicalize.
fn rewrite_body(
	module: &[u8],
	body: &FunctionBody,
	params: u32,
) -> Result<Option<Vec<u8>>, NotRewritten> {
	let mut operators = body.get_operators_reader()?;
	let code_start = operators.original_position();
	let mut code: Vec<(Operator, usize)> = Vec::new();
	while !operators.eof() {
		code.push(operators.read_with_offset()?);
	}
	let shows_bits = |operator: &Operator| match operator {
		Operator::F32Store { .. } | Operator::I32ReinterpretF32 | Operator::F32Copysign => {
			Some(Width::F32)
		}
		Operator::F64Store { .. } | Operator::I64ReinterpretF64 | Operator::F64Copysign => {
			Some(Width::F64)
		}
		_ => None,
	};
	if !code.iter().any(|(operator, _)| shows_bits(operator).is_some()) {
		return Ok(None);
	}

	let mut locals = body.get_locals_reader()?;
	let declarations = locals.get_count();
	let declarations_start = locals.original_position();
	let mut declared: u64 = 0;
	for _ in 0..declarations {
		declared += u64::from(locals.read()?.0);
	}
	let agreed = AgreedBits::of(&code, params, declared);
	let sinks: Vec<(usize, Width)> = code
		.iter()
		.enumerate()
		.filter_map(|(at, (operator, offset))| {
			let width = shows_bits(operator)?;
			(!agreed.before(at)).then_some((*offset, width))
		})
		.collect();
	if sinks.is_empty() {
		return Ok(None);
	}

	// The scratch locals come after the parameters and the declared locals.
	let widths: Vec<Width> = [Width::F32, Width::F64]
		.into_iter()
		.filter(|width| sinks.iter().any(|(_, used)| used == width))
		.collect();
	let first_scratch = u64::from(params) + declared;
	if first_scratch + widths.len() as u64 > u64::from(u32::MAX) {
		return Err(NotRewritten::TooManyLocals);
	}
	let scratch = |width: Width| -> u32 {
		let at = widths.iter().position(|used| *used == width).unwrap_or_default();
		(first_scratch + at as u64) as u32
	};

	let mut bytes = Vec::with_capacity(body.range().len() + sinks.len() * 16 + 8);
	let with_scratch = declarations
		.checked_add(widths.len() as u32)
		.ok_or(NotRewritten::TooManyLocals)?;
	write_u32(&mut bytes, with_scratch);
	bytes.extend(&module[declarations_start..code_start]);
	for width in &widths {
		write_u32(&mut bytes, 1);
		bytes.push(match width {
			Width::F32 => opcode::F32,
			Width::F64 => opcode::F64,
		});
	}
	let mut copied = code_start;
	for (offset, width) in sinks {
		bytes.extend(&module[copied..offset]);
		canonicalize(&mut bytes, width, scratch(width));
		copied = offset;
	}
	bytes.extend(&module[copied..body.range().end]);
	Ok(Some(bytes))
}

/// Which values of a function have bits every CPU agrees on (see the module's documentation).
struct AgreedBits<'a, 'm> {
	code: &'a [(Operator<'m>, usize)],
	params: u64,
	/// For each declared local, whether it is only ever given such values.
	locals: Vec<bool>,
}

impl<'a, 'm> AgreedBits<'a, 'm> {
	/// The analysis of `code`, a function with `params` parameters and `declared` locals.
	fn of(code: &'a [(Operator<'m>, usize)], params: u32, declared: u64) -> Self {
		let mut agreed =
			AgreedBits { code, params: u64::from(params), locals: vec![true; declared as usize] };
		// A local given one value of unknown bits has unknown bits; so has one given its value,
		// and so on: until nothing changes.
		loop {
			let mut changed = false;
			for (at, (operator, _)) in code.iter().enumerate() {
				let (Operator::LocalSet { local_index } | Operator::LocalTee { local_index }) =
					operator
				else {
					continue;
				};
				let Some(declared) = u64::from(*local_index).checked_sub(agreed.params) else {
					continue;
				};
				let declared = declared as usize;
				if agreed.locals.get(declared) == Some(&true) && !agreed.before(at) {
					agreed.locals[declared] = false;
					changed = true;
				}
			}
			if !changed {
				return agreed;
			}
		}
	}

	/// Whether the value on top of the stack when instruction `at` runs has agreed bits: what
	/// the instruction before it left there.
	fn before(&self, mut at: usize) -> bool {
		while let Some(previous) = at.checked_sub(1) {
			match &self.code[previous].0 {
				Operator::F32Load { .. }
				| Operator::F64Load { .. }
				| Operator::F32Const { .. }
				| Operator::F64Const { .. }
				| Operator::F32ReinterpretI32
				| Operator::F64ReinterpretI64 => return true,
				Operator::LocalGet { local_index } | Operator::LocalTee { local_index } => {
					return self.local(*local_index)
				}
				// Flip or clear the sign bit of the value below.
				Operator::F32Neg | Operator::F64Neg | Operator::F32Abs | Operator::F64Abs => {
					at = previous
				}
				_ => return false,
			}
		}
		false
	}

	/// Whether local `index` only ever holds agreed bits: parameters come from any caller.
	fn local(&self, index: u32) -> bool {
		u64::from(index)
			.checked_sub(self.params)
			.and_then(|declared| self.locals.get(declared as usize))
			.copied()
			.unwrap_or(false)
	}
}

/// The instructions that replace the float on top of the stack with the canonical NaN if it is
/// a NaN, through the scratch local `local`.
fn canonicalize(bytes: &mut Vec<u8>, width: Width, local: u32) {
	let local_op = |bytes: &mut Vec<u8>, op: u8| {
		bytes.push(op);
		write_u32(bytes, local);
	};
	local_op(bytes, opcode::LOCAL_SET);
	local_op(bytes, opcode::LOCAL_GET);
	match width {
		Width::F32 => {
			bytes.push(opcode::F32_CONST);
			bytes.extend(CANONICAL_F32.to_le_bytes());
		}
		Width::F64 => {
			bytes.push(opcode::F64_CONST);
			bytes.extend(CANONICAL_F64.to_le_bytes());
		}
	}
	local_op(bytes, opcode::LOCAL_GET);
	local_op(bytes, opcode::LOCAL_GET);
	bytes.push(match width {
		Width::F32 => opcode::F32_EQ,
		Width::F64 => opcode::F64_EQ,
	});
	// `select` keeps its first operand when the condition holds: the value, unless it is NaN.
	bytes.push(opcode::SELECT);
}

/// `module` with its code section's contents replaced by `code`; every other section as it was.
fn replace_code_section(module: &[u8], code: &[u8]) -> Result<Vec<u8>, NotRewritten> {
	const HEADER: usize = 8;
	let mut out = Vec::with_capacity(module.len() + code.len());
	out.extend(&module[..HEADER]);
	let mut at = HEADER;
	while at < module.len() {
		let id = module[at];
		let mut reader = BinaryReader::new(&module[at + 1..], at + 1);
		let size = reader.read_var_u32()? as usize;
		let end = at + 1 + reader.current_position() + size;
		if id == opcode::CODE_SECTION {
			out.push(id);
			write_u32(&mut out, code.len() as u32);
			out.extend(code);
		} else {
			out.extend(&module[at..end]);
		}
		at = end;
	}
	Ok(out)
}

/// `value` in unsigned LEB128, as the binary format writes every count, size and index.
fn write_u32(bytes: &mut Vec<u8>, mut value: u32) {
	loop {
		let low = (value & 0x7f) as u8;
		value >>= 7;
		if value == 0 {
			bytes.push(low);
			return;
		}
		bytes.push(low | 0x80);
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use wasmtime::{Config, Engine, Instance, Module, Store, WasmParams, WasmResults};

	/// The text module's binary.
	pub(crate) fn wasm(text: &str) -> Vec<u8> {
		let buffer = wast::parser::ParseBuffer::new(text).unwrap();
		let mut module: wast::Wat = wast::parser::parse(&buffer).unwrap();
		module.module.encode().unwrap()
	}

	/// Calls the export `name` of `module` with `params`, on an engine that leaves float
	/// operations as the CPU does them.
	fn call<P: WasmParams, R: WasmResults>(module: &[u8], name: &str, params: P) -> R {
		let mut config = Config::new();
		config.cranelift_nan_canonicalization(false);
		let engine = Engine::new(&config).unwrap();
		let module = Module::new(&engine, module).unwrap();
		let mut store = Store::new(&engine, ());
		let instance = Instance::new(&mut store, &module, &[]).unwrap();
		let function = instance.get_typed_func::<P, R>(&mut store, name).unwrap();
		function.call(&mut store, params).unwrap()
	}

	fn rewritten(module: &[u8]) -> Vec<u8> {
		match prepare(module) {
			Prepared::CanonicalWhereSeen(bytes) => bytes.into_owned(),
			other => panic!("not rewritten: {other:?}"),
		}
	}

	/// Each instruction that shows a float's bits, given the difference of its two arguments
	/// (`inf - inf` is a NaN the CPU chooses; a NaN argument with a payload propagates it, on
	/// every CPU), in a function with parameters and locals of its own, floats among them. Then
	/// values whose bits every CPU agrees on, a NaN read from memory among them, kept as they
	/// are, directly or through a local; both widths in one function; code after a `return`;
	/// and a custom section after the code.
	const SHOWS_BITS: &str = r#"(module
		(memory 1)
		(func (export "stored") (param f64 f64) (result i64) (local f64 f64 i32)
			(local.set 4 (i32.const 8))
			(local.set 3 (f64.sub (local.get 0) (local.get 1)))
			(f64.store (local.get 4) (local.get 3))
			(i64.load (local.get 4)))
		(func (export "stored32") (param f32 f32) (result i32)
			(f32.store (i32.const 16) (f32.sub (local.get 0) (local.get 1)))
			(i32.load (i32.const 16)))
		(func (export "bits") (param f64 f64) (result i64)
			(block (result i64)
				(i64.reinterpret_f64 (f64.sub (local.get 0) (local.get 1)))))
		(func (export "bits32") (param f32 f32) (result i32)
			(i32.reinterpret_f32 (f32.sub (local.get 0) (local.get 1))))
		(func (export "sign") (param f64 f64) (result f64)
			(f64.copysign (f64.const 1) (f64.sub (local.get 0) (local.get 1))))
		(func (export "sign32") (param f32 f32) (result f32)
			(f32.copysign (f32.const 1) (f32.sub (local.get 0) (local.get 1))))
		(func (export "copied") (param i64) (result i64) (local f64)
			(i64.store (i32.const 0) (local.get 0))
			(f64.store (i32.const 8) (f64.load (i32.const 0)))
			(local.set 1 (f64.neg (f64.load (i32.const 8))))
			(f64.store (i32.const 16) (f64.neg (local.get 1)))
			(i64.reinterpret_f64 (f64.load (i32.const 16))))
		(func (export "widths") (param f64) (result i64)
			(f32.store (i32.const 0) (f32.demote_f64 (local.get 0)))
			(f64.store (i32.const 8) (f64.add (local.get 0) (f64.const 0)))
			(i64.add
				(i64.load32_u (i32.const 0))
				(i64.reinterpret_f64 (f64.add (local.get 0) (f64.const 0)))))
		(func (export "dead") (result i32)
			(return (i32.const 1))
			(f64.store (i32.const 0) (f64.add (f64.const 0) (f64.const 0)))
			(i32.const 2))
		(@custom "after" (after code) "kept"))"#;

	/// A NaN with a payload, negative: an argument no CPU makes canonical by itself.
	const PAYLOAD_NAN: u64 = 0xfff8_0000_0000_0001;

	#[test]
	fn a_nan_from_arithmetic_is_canonical_wherever_its_bits_show() {
		let module = rewritten(&wasm(SHOWS_BITS));
		let inf = (f64::INFINITY, f64::INFINITY);
		let inf32 = (f32::INFINITY, f32::INFINITY);
		assert_eq!(call::<_, i64>(&module, "stored", inf) as u64, CANONICAL_F64);
		assert_eq!(call::<_, i32>(&module, "stored32", inf32) as u32, CANONICAL_F32);
		assert_eq!(call::<_, i64>(&module, "bits", inf) as u64, CANONICAL_F64);
		assert_eq!(call::<_, i32>(&module, "bits32", inf32) as u32, CANONICAL_F32);
		assert_eq!(call::<_, f64>(&module, "sign", inf), 1.0);
		assert_eq!(call::<_, f32>(&module, "sign32", inf32), 1.0);
		let nan = (f64::from_bits(PAYLOAD_NAN), 0.0);
		assert_eq!(call::<_, i64>(&module, "stored", nan) as u64, CANONICAL_F64);
		assert_eq!(call::<_, i64>(&module, "bits", nan) as u64, CANONICAL_F64);
		assert_eq!(call::<_, f64>(&module, "sign", nan), 1.0);
		let both = u64::from(CANONICAL_F32).wrapping_add(CANONICAL_F64);
		assert_eq!(call::<_, i64>(&module, "widths", f64::from_bits(PAYLOAD_NAN)) as u64, both);
		assert_eq!(call::<_, i32>(&module, "dead", ()), 1);
		assert!(module.windows(4).any(|bytes| bytes == b"kept"), "the custom section is kept");
	}

	/// A NaN read from memory keeps its payload (R's `NA` here) and sign through loads, stores,
	/// locals and negations: no CPU changes those.
	#[test]
	fn a_nan_read_from_memory_keeps_its_bits() {
		let module = rewritten(&wasm(SHOWS_BITS));
		for bits in [0x7ff0_0000_0000_07a2u64, PAYLOAD_NAN, 2.5f64.to_bits()] {
			assert_eq!(call::<_, i64>(&module, "copied", bits as i64) as u64, bits);
		}
	}

	/// What the rewriting changes: on x86-64, the NaN of `inf - inf` is negative.
	#[cfg(target_arch = "x86_64")]
	#[test]
	fn without_the_rewriting_an_x86_nan_is_negative() {
		let module = wasm(SHOWS_BITS);
		let inf = (f64::INFINITY, f64::INFINITY);
		assert_eq!(call::<_, i64>(&module, "stored", inf) as u64, CANONICAL_F64 | 1 << 63);
		assert_eq!(call::<_, i64>(&module, "bits", inf) as u64, CANONICAL_F64 | 1 << 63);
		assert_eq!(call::<_, f64>(&module, "sign", inf), -1.0);
	}

	#[test]
	fn numbers_keep_their_bits() {
		let module = rewritten(&wasm(SHOWS_BITS));
		let (a, b) = (2.5f64, -0.75f64);
		assert_eq!(call::<_, i64>(&module, "stored", (a, b)) as u64, (a - b).to_bits());
		assert_eq!(call::<_, i64>(&module, "bits", (b, a)) as u64, (b - a).to_bits());
		assert_eq!(call::<_, f64>(&module, "sign", (b, a)), -1.0);
		let (a, b) = (1.5f32, 4.0f32);
		assert_eq!(call::<_, i32>(&module, "bits32", (a, b)) as u32, (a - b).to_bits());
		assert_eq!(call::<_, f32>(&module, "sign32", (a, b)), -1.0);
	}

	#[test]
	fn a_module_that_shows_no_float_bits_is_left_as_it_is() {
		let module = wasm(
			r#"(module (memory 1)
				(func (export "lt") (param f64 f64) (result i32)
					(f64.lt (f64.mul (local.get 0) (local.get 1)) (f64.const 1)))
				(func (export "store") (i64.store (i32.const 0) (i64.const 7))))"#,
		);
		assert_eq!(prepare(&module), Prepared::CanonicalWhereSeen(Cow::Borrowed(&module[..])));
	}

	#[test]
	fn simd_float_imports_and_invalid_modules_keep_every_operation_canonical() {
		let simd = wasm(
			r#"(module (func (export "f") (result v128)
				(f32x4.add (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0))))"#,
		);
		let float_import = wasm(
			r#"(module (import "env" "log" (func $log (param f64)))
				(memory 1)
				(func (export "f") (f64.store (i32.const 0) (f64.const 1))))"#,
		);
		let invalid = wasm(r#"(module (func (result i32) (f64.const 1)))"#);
		for (module, why) in [
			(simd, "it uses SIMD"),
			(float_import, "a function it imports takes or returns a float"),
			(invalid, "it is not a valid module"),
		] {
			match prepare(&module) {
				Prepared::CanonicalEverywhere(reason) => assert_eq!(reason, why),
				other => panic!("{why}: {other:?}"),
			}
		}
	}
}
