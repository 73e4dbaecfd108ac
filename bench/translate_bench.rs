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

use aimux::bridge::translate::responses::ResponsesRequest;
use aimux::bridge::translate::{TranslateOptions, translate_request_with};
use std::time::{Duration, Instant};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: translate_bench BODY.json [RUNS]"))?;
    let runs: usize = args.next().map_or(Ok(200), |n| n.parse())?;
    let body = std::fs::read(&path)?;
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
