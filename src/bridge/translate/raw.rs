//! JSON strings passed through as the client wrote them.
//!
//! Almost all of a Codex request is long strings the bridge only moves from the Responses request
//! to the Chat request (tool outputs, message text, call arguments). Keeping them as their JSON
//! tokens means each is scanned once and copied, instead of unescaped while parsing and escaped
//! again while writing.

use serde::de::{self, Deserializer, Unexpected};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use std::fmt;

/// A JSON string kept as its token: quotes and escapes included, written back verbatim. Always a
/// string token (every constructor checks it).
#[derive(Clone)]
pub struct RawStr(Box<RawValue>);

impl RawStr {
    /// The JSON string holding `text` (escaped once, here).
    pub fn from_text(text: &str) -> Result<RawStr, serde_json::Error> {
        serde_json::value::to_raw_value(text).map(RawStr)
    }

    /// The token, quotes included.
    pub fn token(&self) -> &str {
        self.0.get()
    }

    /// The escaped text between the quotes.
    pub fn escaped(&self) -> &str {
        let token = self.0.get();
        token
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or_default()
    }

    /// Whether the string is empty. Every escape sequence stands for at least one character, so
    /// the text is empty exactly when nothing is between the quotes.
    pub fn is_empty(&self) -> bool {
        self.escaped().is_empty()
    }

    /// The unescaped text, for the rare places that read it.
    pub fn decode(&self) -> Result<String, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// A string token assembled from escaped pieces. Checked (one scan, no unescaping) so that a
    /// mistake here shows up as an error rather than as invalid JSON sent upstream.
    fn from_token(token: String) -> Result<RawStr, serde_json::Error> {
        RawStr::try_from(RawValue::from_string(token)?)
            .map_err(|raw| de::Error::invalid_type(unexpected(raw.get()), &"a string"))
    }
}

impl fmt::Debug for RawStr {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

/// Equal tokens; the same text escaped differently (`\u00e9` and `é`) compares unequal, which
/// only tests rely on.
impl PartialEq for RawStr {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

impl Serialize for RawStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // serde_json writes a RawValue as is; other serializers (serde_json::to_value) parse it.
        self.0.serialize(s)
    }
}

/// A token that is a string; any other token is given back.
impl TryFrom<Box<RawValue>> for RawStr {
    type Error = Box<RawValue>;
    fn try_from(raw: Box<RawValue>) -> Result<Self, Self::Error> {
        if raw.get().starts_with('"') {
            Ok(RawStr(raw))
        } else {
            Err(raw)
        }
    }
}

impl<'de> Deserialize<'de> for RawStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawStr::try_from(Box::<RawValue>::deserialize(d)?)
            .map_err(|raw| de::Error::invalid_type(unexpected(raw.get()), &"a string"))
    }
}

/// What a non-string token is, in serde's terms, for the same error a `String` field gives.
pub(super) fn unexpected(token: &str) -> Unexpected<'static> {
    match serde_json::from_str::<Value>(token) {
        Ok(Value::Null) => Unexpected::Unit,
        Ok(Value::Bool(b)) => Unexpected::Bool(b),
        Ok(Value::Number(n)) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Unexpected::Unsigned(u),
            (None, Some(i), _) => Unexpected::Signed(i),
            (None, None, Some(f)) => Unexpected::Float(f),
            _ => Unexpected::Other("number"),
        },
        Ok(Value::String(_)) => Unexpected::Other("string"),
        Ok(Value::Array(_)) => Unexpected::Seq,
        Ok(Value::Object(_)) => Unexpected::Map,
        Err(_) => Unexpected::Other("invalid JSON"),
    }
}

/// Text assembled from string tokens and separators, without unescaping any of them: the escaped
/// inner bytes of JSON strings concatenate into the escaped form of the concatenated text.
#[derive(Default)]
pub struct RawJoin<'a> {
    pieces: Vec<Piece<'a>>,
}

enum Piece<'a> {
    Raw(&'a RawStr),
    /// Already escaped, without quotes (`\\n\\n` for two newlines).
    Escaped(&'static str),
}

impl<'a> RawJoin<'a> {
    pub fn push(&mut self, text: &'a RawStr) {
        self.pieces.push(Piece::Raw(text));
    }

    /// Adds a separator given in escaped form, e.g. `"\\n"`.
    pub fn push_escaped(&mut self, escaped: &'static str) {
        self.pieces.push(Piece::Escaped(escaped));
    }

    /// Whether the text so far is empty.
    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(|p| match p {
            Piece::Raw(r) => r.is_empty(),
            Piece::Escaped(e) => e.is_empty(),
        })
    }

    /// The joined string. A single piece is cloned as is (the common case: one text part).
    pub fn finish(self) -> Result<RawStr, serde_json::Error> {
        if let [Piece::Raw(one)] = self.pieces.as_slice() {
            return Ok((*one).clone());
        }
        let len = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Raw(r) => r.escaped().len(),
                Piece::Escaped(e) => e.len(),
            })
            .sum::<usize>();
        let mut token = String::with_capacity(len + 2);
        token.push('"');
        for p in &self.pieces {
            token.push_str(match p {
                Piece::Raw(r) => r.escaped(),
                Piece::Escaped(e) => e,
            });
        }
        token.push('"');
        RawStr::from_token(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> RawStr {
        serde_json::from_str(json).expect("a string token")
    }

    #[test]
    fn passes_tokens_through_and_rejects_other_values() {
        let s = raw(r#""a\"b\n\u00e9""#);
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""a\"b\n\u00e9""#);
        assert_eq!(s.decode().unwrap(), "a\"b\né");
        assert_eq!(serde_json::to_value(&s).unwrap(), "a\"b\né");
        assert!(raw(r#""""#).is_empty() && !raw(r#""\n""#).is_empty());
        let err = serde_json::from_str::<RawStr>("5").unwrap_err().to_string();
        assert!(
            err.contains("invalid type: integer `5`, expected a string"),
            "{err}"
        );
        let err = serde_json::from_str::<RawStr>("null")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid type: null, expected a string"),
            "{err}"
        );
    }

    #[test]
    fn joins_escaped_pieces_exactly() {
        let (a, b, empty) = (raw(r#""x\"\\""#), raw(r#""\ty""#), raw(r#""""#));
        let mut j = RawJoin::default();
        assert!(j.is_empty());
        j.push(&empty);
        assert!(j.is_empty());
        j.push(&a);
        j.push_escaped("\\n\\n");
        j.push(&b);
        let joined = j.finish().unwrap();
        assert_eq!(joined.decode().unwrap(), "x\"\\\n\n\ty");
        let mut one = RawJoin::default();
        one.push(&a);
        assert_eq!(one.finish().unwrap(), a);
        assert_eq!(RawJoin::default().finish().unwrap().token(), r#""""#);
        assert_eq!(RawStr::from_text("q\"").unwrap().token(), r#""q\"""#);
    }
}
