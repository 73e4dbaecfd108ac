//! An incremental Server-Sent Events decoder: bytes in (split anywhere), `data` payloads out.

/// Accumulates bytes and yields each event's `data` (multi-line data joined with `\n`) when the
/// blank line that ends the event arrives. Comments, `event:`, `id:` and `retry:` lines are
/// skipped; `\n`, `\r\n` and `\r` line endings are all accepted.
///
/// Each byte is scanned once: a long line split over many pushes (a 10 MB event) costs linear
/// time, not a rescan of the partial line per push.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: Vec<u8>,
    /// `buf[..scanned]` holds no line ending (except possibly a final lone `\r`, kept to see
    /// whether `\n` follows).
    scanned: usize,
    /// Stream offset of `buf[0]`: bytes consumed before it.
    base: u64,
    data: Vec<u8>,
    has_data: bool,
}

/// One event, reported at the blank line that ends it.
#[derive(Debug)]
pub struct Event<'a> {
    /// The joined `data` lines; `None` for an event with none (a comment or `event:` alone).
    pub data: Option<&'a [u8]>,
    /// Stream offset just past the blank line: every byte before it belongs to this event or
    /// an earlier one.
    pub end: u64,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds bytes; calls `on_data` for every completed event with data.
    pub fn push(&mut self, bytes: &[u8], mut on_data: impl FnMut(&[u8])) {
        self.push_events(bytes, |e| {
            if let Some(data) = e.data {
                on_data(data);
            }
        });
    }

    /// Feeds bytes; calls `on_event` at every blank line (every event end), data or not.
    pub fn push_events(&mut self, bytes: &[u8], mut on_event: impl FnMut(Event<'_>)) {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let mut from = self.scanned;
        loop {
            let Some(pos) = memchr::memchr2(b'\n', b'\r', &self.buf[from..]) else {
                from = self.buf.len();
                break;
            };
            let end = from + pos;
            // A lone `\r` at the end of the buffer may be the first half of `\r\n`: wait.
            if self.buf[end] == b'\r' && end + 1 == self.buf.len() {
                from = end;
                break;
            }
            let next = if self.buf[end] == b'\r' && self.buf[end + 1] == b'\n' {
                end + 2
            } else {
                end + 1
            };
            let line = &self.buf[start..end];
            if line.is_empty() {
                on_event(Event {
                    data: self.has_data.then_some(self.data.as_slice()),
                    end: self.base + next as u64,
                });
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
            from = next;
        }
        self.buf.drain(..start);
        self.base += start as u64;
        self.scanned = from - start;
    }

    /// Whether an event has begun but not ended (bytes after the last blank line).
    pub fn in_event(&self) -> bool {
        self.has_data || !self.buf.is_empty()
    }

    /// End of input: an event that lacked its final blank line is still delivered.
    pub fn finish(&mut self, mut on_data: impl FnMut(&[u8])) {
        if !self.buf.is_empty() {
            // Ends the last line (a trailing lone `\r` becomes `\r\n`).
            self.push(b"\n", &mut on_data);
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

    #[test]
    fn event_ends_are_stream_offsets() {
        let input = ": ping\n\ndata: a\r\n\r\ndata: b\n\n";
        for piece in [1, 2, 5, 64] {
            let mut d = SseDecoder::new();
            let mut seen = Vec::new();
            for chunk in input.as_bytes().chunks(piece) {
                d.push_events(chunk, |e| {
                    seen.push((
                        e.data.map(|d| String::from_utf8_lossy(d).into_owned()),
                        e.end,
                    ))
                });
            }
            assert_eq!(
                seen,
                [
                    (None, 8),
                    (Some("a".to_owned()), 19),
                    (Some("b".to_owned()), 28)
                ],
                "pieces of {piece}"
            );
            assert!(!d.in_event());
        }
        let mut d = SseDecoder::new();
        d.push(b"data: {\"half", |_| {});
        assert!(d.in_event());
    }

    /// A 10 MB event arriving in 16 KiB pieces is scanned once, not once per piece.
    #[test]
    fn one_huge_event_is_linear() {
        let text = "x".repeat(10 * 1024 * 1024);
        let input = format!("data: {text}\n\n");
        let mut d = SseDecoder::new();
        let mut got = 0;
        let started = std::time::Instant::now();
        for chunk in input.as_bytes().chunks(16 * 1024) {
            d.push(chunk, |data| got = data.len());
        }
        let took = started.elapsed();
        assert_eq!(got, text.len());
        assert!(
            took < std::time::Duration::from_millis(500),
            "took {took:?}"
        );
    }
}
