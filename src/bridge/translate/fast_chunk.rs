//! A direct reader for the common shape of a streamed Chat Completions chunk: text, reasoning
//! and refusal deltas, finish reasons, and any fields aimux does not use. Streams are mostly
//! such chunks, and serde's derived reader spends most of a stream's translation time on them.
//!
//! It returns `None` for anything else (tool calls, usage, errors, a whole completion, duplicate
//! fields, unusual numbers or escapes, JSON it cannot prove valid), and the caller then reads
//! the chunk with serde. When it returns a chunk, that chunk is exactly what serde would have
//! read: a differential test in this module holds it to that.

use std::borrow::Cow;

use super::chat::{Choice, Chunk, Delta};

/// How many bytes at the start of `b` a JSON string can hold as they are: none of them is a
/// quote, a backslash or a control character. Eight bytes at a time.
pub fn plain_prefix(b: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while let Some(word) = b.get(i..i + 8) {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        // A byte below 0x20 (a borrow out of it), or equal to `"` or `\\`. The lowest flag is
        // always a real one.
        let hits = zero(w ^ (b'"' as u64 * ONES))
            | zero(w ^ (b'\\' as u64 * ONES))
            | (w.wrapping_sub(0x20 * ONES) & !w & HIGH);
        if hits != 0 {
            return i + hits.trailing_zeros() as usize / 8;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
        .unwrap_or(b.len() - i)
}

/// serde_json gives up beyond 128 levels of nesting; this reader gives up sooner.
const MAX_DEPTH: usize = 64;

/// Reads `text` as a chunk, or `None` when the chunk is not of the common shape.
pub fn read(text: &str) -> Option<Chunk<'_>> {
    let mut r = Reader { s: text, i: 0 };
    let chunk = r.chunk()?;
    r.ws();
    (r.i == r.s.len()).then_some(chunk)
}

struct Reader<'a> {
    s: &'a str,
    i: usize,
}

/// Marks a field as seen; a second sighting means serde would reject the object.
fn first_sight(seen: &mut u8, bit: u8) -> Option<()> {
    (*seen & bit == 0).then(|| *seen |= bit)
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    /// Skips whitespace and takes `c`.
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Skips whitespace and takes `null` if it is next.
    fn null(&mut self) -> bool {
        self.ws();
        let null = self.bytes()[self.i..].starts_with(b"null");
        if null {
            self.i += 4;
        }
        null
    }

    /// A field this reader leaves to serde: fine as long as it is `null` (and not repeated).
    fn only_null(&mut self, seen: &mut u8, bit: u8) -> Option<()> {
        first_sight(seen, bit)?;
        self.null().then_some(())
    }

    /// Walks the members of an object, calling `member` with each key (the reader is then at
    /// the member's value, which `member` must consume).
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            self.ws();
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Walks the elements of an array, calling `element` with the reader at each one.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            element(self)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A string at the reader (no leading whitespace): borrowed unless it has escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let b = self.bytes();
        if b.get(self.i) != Some(&b'"') {
            return None;
        }
        let start = self.i + 1;
        let mut i = start + plain_prefix(&b[start..]);
        match *b.get(i)? {
            b'"' => {
                self.i = i + 1;
                return Some(Cow::Borrowed(&self.s[start..i]));
            }
            b'\\' => {}
            _ => return None,
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.s[start..i]);
        loop {
            match *b.get(i)? {
                b'"' => {
                    self.i = i + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    let c = match *b.get(i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let (c, len) = unicode_escape(&b[i..])?;
                            out.push(c);
                            i += len;
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(c);
                    i += 2;
                }
                c if c < 0x20 => return None,
                _ => {
                    // Copy the run up to the next quote or escape in one go.
                    let run = b[i..]
                        .iter()
                        .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
                    out.push_str(&self.s[i..i + run]);
                    i += run;
                }
            }
        }
    }

    /// A string, or `None` for `null`, `true` or `false` (serde's lenient strings). Numbers,
    /// arrays and objects are left to serde, which reads them whole (and rejects a number out
    /// of range there, where a skipped field's would pass).
    fn lenient(&mut self) -> Option<Option<Cow<'a, str>>> {
        self.ws();
        match self.peek()? {
            b'"' => self.string().map(Some),
            b'n' => self.literal(b"null").map(|()| None),
            b't' => self.literal(b"true").map(|()| None),
            b'f' => self.literal(b"false").map(|()| None),
            _ => None,
        }
    }

    /// Any JSON value, checked but not kept. Strings with `\u` escapes are left to serde.
    fn skip(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.ws();
        match self.peek()? {
            b'"' => {
                let b = self.bytes();
                let mut i = self.i + 1;
                loop {
                    i += plain_prefix(&b[i..]);
                    match *b.get(i)? {
                        b'"' => break,
                        b'\\' => match *b.get(i + 1)? {
                            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                            _ => return None,
                        },
                        _ => return None,
                    }
                }
                self.i = i + 1;
                Some(())
            }
            b'{' => self.object(|r, _| r.skip(depth + 1)),
            b'[' => self.array(|r| r.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes()[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// A JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        let b = self.bytes();
        let mut i = self.i;
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                digits(&mut i);
            }
            _ => return None,
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return None;
            }
        }
        self.i = i;
        Some(())
    }

    /// A choice's `index`: a plain integer that fits a `u32`, or `null` (0).
    fn index(&mut self) -> Option<u32> {
        if self.null() {
            return Some(0);
        }
        let b = self.bytes();
        let from = self.i;
        let mut value: u32 = 0;
        while let Some(d) = b.get(self.i).filter(|c| c.is_ascii_digit()) {
            value = value.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
            self.i += 1;
        }
        let len = self.i - from;
        let leading_zero = len > 1 && b[from] == b'0';
        let more = matches!(b.get(self.i), Some(b'.' | b'e' | b'E'));
        (len > 0 && !leading_zero && !more).then_some(value)
    }

    fn chunk(&mut self) -> Option<Chunk<'a>> {
        let mut chunk = Chunk::default();
        let mut seen = 0u8;
        self.object(|r, key| {
            match &*key {
                "model" => {
                    first_sight(&mut seen, 1)?;
                    chunk.model = r.lenient()?;
                }
                "choices" => {
                    first_sight(&mut seen, 2)?;
                    if !r.null() {
                        r.array(|r| {
                            chunk.choices.push(r.choice()?);
                            Some(())
                        })?;
                    }
                }
                // Usage and errors are rare and have their own shapes: serde reads them.
                "usage" => r.only_null(&mut seen, 4)?,
                "error" => r.only_null(&mut seen, 8)?,
                _ => r.skip(1)?,
            }
            Some(())
        })?;
        Some(chunk)
    }

    fn choice(&mut self) -> Option<Choice<'a>> {
        let mut choice = Choice::default();
        let mut seen = 0u8;
        self.object(|r, key| {
            match &*key {
                "index" => {
                    first_sight(&mut seen, 1)?;
                    choice.index = r.index()?;
                }
                "delta" => {
                    first_sight(&mut seen, 2)?;
                    if !r.null() {
                        choice.delta = r.delta()?;
                    }
                }
                "finish_reason" => {
                    first_sight(&mut seen, 4)?;
                    choice.finish_reason = r.lenient()?;
                }
                // A whole completion's message, or usage per choice: serde reads those.
                "message" => r.only_null(&mut seen, 8)?,
                "usage" => r.only_null(&mut seen, 16)?,
                _ => r.skip(3)?,
            }
            Some(())
        })?;
        Some(choice)
    }

    fn delta(&mut self) -> Option<Delta<'a>> {
        let mut delta = Delta::default();
        let mut seen = 0u8;
        self.object(|r, key| {
            let (bit, slot) = match &*key {
                "content" => (1, &mut delta.content),
                "reasoning_content" => (2, &mut delta.reasoning_content),
                "reasoning" => (4, &mut delta.reasoning),
                "refusal" => (8, &mut delta.refusal),
                // Tool calls take serde's path.
                "tool_calls" => return r.only_null(&mut seen, 16),
                _ => return r.skip(5),
            };
            first_sight(&mut seen, bit)?;
            *slot = r.lenient()?;
            Some(())
        })?;
        Some(delta)
    }
}

/// `\uXXXX` (a surrogate pair as two escapes) at the start of `b`: the character and the
/// bytes read. Lone surrogates are `None`, as serde rejects them.
fn unicode_escape(b: &[u8]) -> Option<(char, usize)> {
    let hex = |b: &[u8]| -> Option<u32> {
        let digits = std::str::from_utf8(b.get(..4)?).ok()?;
        if !digits.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    };
    let first = hex(b.get(2..)?)?;
    match first {
        0xD800..=0xDBFF => {
            if b.get(6..8)? != b"\\u" {
                return None;
            }
            let second = hex(b.get(8..)?)?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return None;
            }
            let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            Some((char::from_u32(c)?, 12))
        }
        0xDC00..=0xDFFF => None,
        _ => Some((char::from_u32(first)?, 6)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What serde reads, for comparison (`Debug` shows the values, not how they are held).
    fn serde(text: &str) -> Option<String> {
        serde_json::from_str::<Chunk>(text)
            .ok()
            .map(|c| format!("{c:?}"))
    }

    fn check(text: &str) -> bool {
        match read(text) {
            Some(fast) => {
                assert_eq!(Some(format!("{fast:?}")), serde(text), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn plain_prefix_stops_at_the_first_special_byte() {
        for len in 0..20 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..=len {
                    let mut b: Vec<u8> = (0..len).map(|i| b"az \x7f\xc3\xa9~!#"[i % 8]).collect();
                    if at < len {
                        b[at] = special;
                        // Specials after the first must not hide it.
                        b.extend_from_slice(b"\"\\\x01");
                    }
                    assert_eq!(plain_prefix(&b), at, "{b:?}");
                }
            }
        }
    }

    #[test]
    fn common_chunks_are_read_directly() {
        let cases = [
            r#"{"id":"c","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"a \"quoted\"\nline\t\u00e9\ud83d\ude00 /\/"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning_content":"think","content":null}}],"usage":null}"#,
            r#"{"choices":[{"index":0,"delta":{"reasoning":"r"},"finish_reason":"stop"}]}"#,
            r#"{"choices":[{"index":1,"delta":{"refusal":"no"}},{"index":0,"delta":{}}]}"#,
            r#"{"choices":[],"model":true,"created":1e400,"x":{"odd":[1,2.5e-3,-0,false,null,"s"]}}"#,
            r#"{"choices":null}"#,
            " { \"choices\" : [ { \"delta\" : { \"content\" : \"x\" } , \"index\" : null } ] } \n",
            "{}",
        ];
        for text in cases {
            assert!(check(text), "not read directly: {text}");
        }
    }

    #[test]
    fn other_shapes_are_left_to_serde() {
        let cases = [
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0}]}}]}"#,
            // serde reads these whole, and rejects the number out of range
            r#"{"model":1e400,"choices":[]}"#,
            r#"{"choices":[{"delta":{"content":{"a":[1e400]}}}]}"#,
            r#"{"choices":[{"delta":{"reasoning":7}}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#,
            r#"{"error":{"message":"x"}}"#,
            r#"{"choices":[{"index":0,"message":{"content":"whole"}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}"#,
            r#"{"choices":[{"index":1.0}]}"#,
            r#"{"choices":[{"index":-1}]}"#,
            r#"{"choices":[{"index":01}]}"#,
            r#"{"choices":[{"index":4294967296}]}"#,
            r#"{"choices":[{"delta":{"content":"\ud800"}}]}"#,
            r#"{"choices":[{"delta":{"content":"\udc00x"}}]}"#,
            r#"{"choices":[{"delta":{"content":"\x"}}]}"#,
            r#"{"id":"\u0041","choices":[]}"#,
            "{\"choices\":[{\"delta\":{\"content\":\"raw\u{1}control\"}}]}",
            r#"{"choices":[]} x"#,
            r#"{"choices":[],}"#,
            r#"{"choices":[1.]}"#,
            r#"{"choices":"nope"}"#,
            r#"{"choices":[{"index":0}"#,
            "",
        ];
        for text in cases {
            assert!(read(text).is_none(), "read directly: {text}");
        }
    }

    /// JSON text near the common chunk shape, including wrong types, duplicates, escapes and
    /// nesting, then sometimes cut or corrupted.
    fn near_chunk() -> impl Strategy<Value = String> {
        let string = prop_oneof![
            "[a-z é\u{1F600}]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just(r#""\"\\\/\b\f\n\r\t""#.to_owned()),
            Just(r#""\u00e9\ud83d\ude00""#.to_owned()),
            Just(r#""\ud800""#.to_owned()),
            Just(r#""\u12""#.to_owned()),
        ];
        let scalar = prop_oneof![
            string.clone(),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("0".to_owned()),
            Just("7".to_owned()),
            Just("-1".to_owned()),
            Just("1.5e3".to_owned()),
            Just("1e400".to_owned()),
            Just("-12345678901234567890123".to_owned()),
            Just("01".to_owned()),
            Just("4294967296".to_owned()),
            Just("[]".to_owned()),
            Just("{\"k\":[1,{}]}".to_owned()),
        ];
        let key = prop_oneof![
            Just("content"),
            Just("reasoning_content"),
            Just("reasoning"),
            Just("refusal"),
            Just("role"),
            Just("tool_calls"),
            Just("index"),
            Just("delta"),
            Just("finish_reason"),
            Just("logprobs"),
            Just("message"),
            Just("usage"),
            Just("model"),
            Just("choices"),
            Just("error"),
            Just("id"),
        ];
        let members = |value: BoxedStrategy<String>| {
            proptest::collection::vec((key.clone(), value), 0..5).prop_map(|ms| {
                let body: Vec<String> = ms.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", body.join(","))
            })
        };
        let delta = members(scalar.clone().boxed());
        let choice = members(prop_oneof![scalar.clone(), delta].boxed());
        let choices =
            proptest::collection::vec(choice, 0..3).prop_map(|cs| format!("[{}]", cs.join(",")));
        let chunk = members(prop_oneof![scalar, choices].boxed());
        (chunk, 0usize..400, 0u8..4, any::<u8>()).prop_map(|(text, at, how, byte)| {
            let mut b = text.into_bytes();
            let at = at % (b.len() + 1);
            match how {
                0 => b.truncate(at),
                1 if at < b.len() => b[at] = byte & 0x7f,
                _ => {}
            }
            String::from_utf8(b).unwrap_or_default()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn whatever_it_reads_serde_reads_the_same(text in near_chunk()) {
            check(&text);
        }
    }
}
