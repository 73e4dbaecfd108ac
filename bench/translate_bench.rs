//! Times the bridge's request path on one body: parse the Responses request, translate it, write
//! the Chat request. Run in release on the bench fixture:
//!
//! ```sh
//! python3 bench/gen_fixtures.py /tmp/fx
//! cargo run --release --example translate_bench -- /tmp/fx/bodies/resp_2mb_sse.json 200
//! ```
//!
//! Prints the median and minimum of each step in microseconds (what the bridge adds before the
//! upstream request goes out, without the network).
//!
//! With `--stream`, times the answer path instead: a Chat Completions SSE body (the bench
//! upstream's canned answer) decoded and translated into Responses events, as one stream:
//!
//! ```sh
//! cargo run --release --example translate_bench -- --stream /tmp/fx/www/sse/v1/chat/completions 2000
//! ```

use aimux::bridge::translate::responses::ResponsesRequest;
use aimux::bridge::translate::{StreamTranslator, TranslateOptions, translate_request_with};
use aimux::sse::SseDecoder;
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || anyhow::anyhow!("usage: translate_bench [--stream] FILE [RUNS]");
    let mut path = args.next().ok_or_else(usage)?;
    let stream = path == "--stream";
    if stream {
        path = args.next().ok_or_else(usage)?;
    }
    let runs: usize = args.next().map_or(Ok(200), |n| n.parse())?;
    let body = std::fs::read(&path)?;
    if stream {
        return answer_path(&body, runs);
    }
    let opts = TranslateOptions::default();

    let (mut parse, mut translate, mut write, mut total) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut out_len = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        let req: ResponsesRequest = serde_json::from_slice(&body)?;
        let t1 = Instant::now();
        let translated = translate_request_with(req, &opts)?;
        let t2 = Instant::now();
        let out = serde_json::to_vec(&translated.chat)?;
        let t3 = Instant::now();
        out_len = out.len();
        drop((translated, out));
        parse.push(t1 - t0);
        translate.push(t2 - t1);
        write.push(t3 - t2);
        total.push(t3 - t0);
    }
    println!(
        "body {} bytes -> chat request {out_len} bytes, {runs} runs",
        body.len()
    );
    for (name, times) in [
        ("parse", &mut parse),
        ("translate", &mut translate),
        ("write", &mut write),
        ("total", &mut total),
    ] {
        times.sort();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{name:>9}: median {:8.0} us  min {:8.0} us",
            us(times[times.len() / 2]),
            us(times[0])
        );
    }
    Ok(())
}

/// The answer path: one SSE body decoded and translated per run, as the bridge does when the
/// upstream's whole answer arrives in one read.
fn answer_path(body: &[u8], runs: usize) -> anyhow::Result<()> {
    let mut times = Vec::with_capacity(runs);
    let mut out_len = 0;
    for _ in 0..runs {
        let t0 = Instant::now();
        let mut t = StreamTranslator::new("m".into(), Default::default(), true, 0, 1);
        let mut out = Vec::new();
        let mut decoder = SseDecoder::new();
        let mut saw_done = false;
        t.start(&mut out);
        decoder.push(body, |d| t.feed(d, &mut saw_done, &mut out));
        decoder.finish(|d| t.feed(d, &mut saw_done, &mut out));
        t.end_of_stream(saw_done);
        let response = t.finish(&mut out);
        times.push(t0.elapsed());
        out_len = out.len();
        drop((out, response));
    }
    times.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "answer {} bytes -> {out_len} bytes of events, {runs} runs: median {:.1} us  min {:.1} us",
        body.len(),
        us(times[times.len() / 2]),
        us(times[0])
    );
    Ok(())
}
