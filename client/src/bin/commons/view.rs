//! What the read commands print: each thing shown is a [`View`], a list of named fields, written
//! for people (`name: value` lines, amounts in CMN, tags by name) or, with `--json`, as one
//! JSON object for scripts (amounts as strings of units, so that no digit is lost).

use commons_runtime::{AccountId, Balance};
use serde_json::{Map, Value};

use crate::{amount::cmn, tags::tag_names};

/// One thing shown: its fields, each as JSON and as text.
#[derive(Default)]
pub struct View {
	fields: Vec<(&'static str, Value, String)>,
}

impl View {
	/// A view of nothing yet.
	pub fn new() -> Self {
		Self::default()
	}

	/// A field shown the same way to both: a number, or a string.
	pub fn field(mut self, name: &'static str, value: impl Into<Value>) -> Self {
		let value = value.into();
		let text = match &value {
			Value::String(text) => text.clone(),
			Value::Null => "-".into(),
			other => other.to_string(),
		};
		self.fields.push((name, value, text));
		self
	}

	/// Bytes the chain holds as text (a name, a URI): their UTF-8 reading.
	pub fn text(self, name: &'static str, bytes: &[u8]) -> Self {
		self.field(name, String::from_utf8_lossy(bytes).into_owned())
	}

	/// An account, in SS58.
	pub fn account(self, name: &'static str, account: &AccountId) -> Self {
		self.field(name, account.to_string())
	}

	/// A hash or other fixed bytes, in hex.
	pub fn hex(self, name: &'static str, bytes: impl AsRef<[u8]>) -> Self {
		self.field(name, sp_core::bytes::to_hex(bytes.as_ref(), false))
	}

	/// An amount: a string of units in JSON, CMN for people.
	pub fn amount(mut self, name: &'static str, units: Balance) -> Self {
		self.fields.push((name, units.to_string().into(), cmn(units)));
		self
	}

	/// A tag, by name.
	pub fn tag(self, name: &'static str, bits: u64) -> Self {
		self.field(name, tag_names(bits))
	}

	/// A field that is itself a view (a deal's app), on one line for people.
	pub fn nested(mut self, name: &'static str, view: View) -> Self {
		self.fields.push((name, view.json(), view.inline()));
		self
	}

	/// A field that is a list of views (a task's contributions), one line each for people.
	pub fn list(mut self, name: &'static str, views: Vec<View>) -> Self {
		let json = Value::Array(views.iter().map(View::json).collect());
		let text: String = views.iter().map(|view| format!("\n  - {}", view.inline())).collect();
		self.fields.push((name, json, if text.is_empty() { "-".into() } else { text }));
		self
	}

	/// The fields on one line: `id 3, price 1 CMN`.
	fn inline(&self) -> String {
		let fields: Vec<String> =
			self.fields.iter().map(|(name, _, text)| format!("{name} {text}")).collect();
		fields.join(", ")
	}

	/// The JSON object.
	pub fn json(&self) -> Value {
		let object: Map<String, Value> = self
			.fields
			.iter()
			.map(|(name, value, _)| ((*name).to_owned(), value.clone()))
			.collect();
		Value::Object(object)
	}

	/// The lines for people.
	pub fn text_lines(&self) -> String {
		let width = self.fields.iter().map(|(name, _, _)| name.len() + 1).max().unwrap_or_default();
		self.fields
			.iter()
			.map(|(name, _, text)| format!("{:width$}  {text}\n", format!("{name}:")))
			.collect()
	}
}

/// Prints `view`: one JSON object with `json`, else its lines.
pub fn print(view: &View, json: bool) {
	if json {
		println!("{}", view.json());
	} else {
		print!("{}", view.text_lines());
	}
}

/// Prints `views`: a JSON array with `json`, else each view's lines, a blank line between.
pub fn print_all(views: &[View], json: bool) {
	if json {
		println!("{}", Value::Array(views.iter().map(View::json).collect()));
	} else {
		let blocks: Vec<String> = views.iter().map(View::text_lines).collect();
		print!("{}", blocks.join("\n"));
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use commons_runtime::CMN;

	#[test]
	fn one_view_two_writings() {
		let owner = AccountId::from([1; 32]);
		let view = View::new()
			.field("id", 3)
			.text("name", b"monte-carlo")
			.account("owner", &owner)
			.amount("price", CMN / 2)
			.tag("tag", 1)
			.field("expiry", Value::Null)
			.list("members", vec![View::new().field("score", 15)]);
		let json = view.json();
		assert_eq!(json["id"], 3);
		assert_eq!(json["name"], "monte-carlo");
		assert_eq!(json["owner"], owner.to_string());
		assert_eq!(json["price"], (CMN / 2).to_string());
		assert_eq!(json["tag"], "tee");
		assert_eq!(json["expiry"], Value::Null);
		assert_eq!(json["members"][0]["score"], 15);
		let text = view.text_lines();
		assert!(text.contains("price:    0.5 CMN\n"), "{text}");
		assert!(text.contains("name:     monte-carlo\n"), "{text}");
		assert!(text.contains("expiry:   -\n"), "{text}");
		assert!(text.contains("members:  \n  - score 15\n"), "{text}");
	}
}
