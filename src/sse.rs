//! An incremental Server-Sent Events decoder: bytes in (split anywhere), `data` payloads out.

/// Accumulates bytes and yields each event's `data` (multi-line data joined with `\n`) when the
/// blank line that ends the event arrives. Comments, `event:`, `id:` and `retry:` lines are
/// skipped; `\n`, `\r\n` and `\r` line endings are all accepted.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; calls `on_data` for every completed event with data.
    pub fn push(&mut self, bytes: &[u8], mut on_data: impl FnMut(&[u8])) {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', &self.buf[start..]) {
            let end = start + pos;
            // A lone `\r` at the end of the buffer may be the first half of `\r\n`: wait.
            if self.buf[end] == b'\r' && end + 1 == self.buf.len() {
                break;
            }
            let next = if self.buf[end] == b'\r' && self.buf[end + 1] == b'\n' {
                end + 2
            } else {
                end + 1
            };
            let line = &self.buf[start..end];
            if line.is_empty() {
                if self.has_data {
                    on_data(&self.data);
                }
                self.data.clear();
                self.has_data = false;
            } else if let Some(value) = line.strip_prefix(b"data:") {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            start = next;
        }
        self.buf.drain(..start);
    }

    /// End of input: an event that lacked its final blank line is still delivered.
    pub fn finish(&mut self, mut on_data: impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            self.push(&rest, &mut on_data);
            if !self.buf.is_empty() {
                self.push(b"\n", &mut on_data);
            }
        }
        if self.has_data {
            on_data(&self.data);
            self.data.clear();
            self.has_data = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &str, piece: usize) -> Vec<String> {
        let mut d = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in input.as_bytes().chunks(piece) {
            d.push(chunk, |data| {
                out.push(String::from_utf8_lossy(data).into_owned())
            });
        }
        d.finish(|data| out.push(String::from_utf8_lossy(data).into_owned()));
        out
    }

    #[test]
    fn framing_table() {
        let cases: &[(&str, &[&str])] = &[
            ("data: a\n\ndata: b\n\n", &["a", "b"]),
            ("data: a\r\n\r\ndata:b\r\n\r\n", &["a", "b"]),
            ("data: a\r\rdata: b\r\r", &["a", "b"]),
            (
                ": comment\nevent: x\nid: 1\ndata: {\"k\":1}\n\n",
                &["{\"k\":1}"],
            ),
            ("data: line1\ndata: line2\n\n", &["line1\nline2"]),
            ("data: [DONE]\n\n", &["[DONE]"]),
            (
                "data: tail-without-blank-line",
                &["tail-without-blank-line"],
            ),
            ("event: only\n\n: ping\n\n", &[]),
        ];
        for (input, want) in cases {
            for piece in [1, 2, 3, 7, 1024] {
                assert_eq!(
                    decode_in_pieces(input, piece),
                    *want,
                    "{input:?} in pieces of {piece}"
                );
            }
        }
    }
}
