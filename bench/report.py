#!/usr/bin/env python3
"""Renders bench/run.sh's measurements (TSV: row, metric, value) as the markdown report.

Usage: report.py RESULTS.tsv > latest.md
"""

import json
import sys
from collections import defaultdict

SYSTEMS = [
    ("upstream", "nginx upstream alone"),
    ("hop", "nginx hop (zero-logic proxy)"),
    ("bridge", "aimux bridge (Responses → Chat)"),
    ("link", "aimux full link (bridge → proxy)"),
    ("relay", "codex-relay {codex-relay}"),
    ("litellm", "LiteLLM {litellm} (use_chat_completions_api)"),
]
MODES = [("json", "non-stream"), ("sse", "stream")]
CONNS = (1, 16, 64)


def load(path):
    data = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 2)
            if len(parts) == 3:
                data[parts[0]][parts[1]] = parts[2]
    return data


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def ms(us):
    v = num(us)
    return None if v is None else v / 1000


def f(v, digits=2):
    if v is None:
        return "–"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def seq(data, row):
    try:
        return json.loads(data[row].get("seq", ""))
    except json.JSONDecodeError:
        return {"error": data[row].get("seq", "")[:120]}


def na_reason(data, sys_, row=None):
    for key in (sys_, row):
        if key and "na" in data.get(key, {}):
            return "n/a (" + data[key]["na"].replace("|", "/") + ")"
    return None


def rss(kb_list):
    vals = [num(x) for x in (kb_list or "").split()]
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    return " + ".join(f"{v / 1024:.1f}" for v in vals)


def main():
    data = load(sys.argv[1])
    meta = data.get("meta", {})
    versions = {"codex-relay": meta.get("codex-relay", ""), "litellm": meta.get("litellm", "")}
    if "na" in data.get("relay", {}):
        versions["codex-relay"] = ""  # not measured: the installed version (if any) is not the one asked for
    if "na" in data.get("litellm", {}):
        versions["litellm"] = ""
    names = {k: v.format(**versions).replace("  ", " ") for k, v in SYSTEMS}
    out = []
    w = out.append

    w("# aimux benchmark")
    w("")
    w(f"- date: {meta.get('date', '?')}")
    w(f"- machine: {meta.get('machine', '?')}")
    w(f"- load average: {meta.get('load_start', '?')} at the start, {meta.get('load', '?')}")
    w(
        f"- versions: aimux {meta.get('aimux', '?')}, nginx {meta.get('nginx', '?')}, wrk {meta.get('wrk', '?')}, "
        f"codex-relay {meta.get('codex-relay') or 'n/a'}, litellm {meta.get('litellm') or 'n/a'}, python {meta.get('python', '?')}"
    )
    w(f"- run: {meta.get('params', '?')}; wall time {meta.get('wall', '?')}")
    w("- command: `bash bench/run.sh` (loopback only; see bench/README.md)")
    w("")

    # ---- throughput and latency
    w("## Throughput and latency (wrk, one request per round trip, kept-alive connections)")
    w("")
    w(
        "| system | mode | req/s @1 | p50 / p99 ms @1 | req/s @16 | p50 / p99 ms @16 | req/s @64 | p50 / p99 ms @64 "
        "| @64 vs nginx hop | CPU µs/req @64 (of it user) | added p50 @1 vs upstream (ms) | errors |"
    )
    w("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for sys_, _ in SYSTEMS:
        for mode, mode_name in MODES:
            row = f"{sys_}/{mode}"
            reason = na_reason(data, sys_, row)
            if reason:
                w(f"| {names[sys_]} | {mode_name} | {reason} |  |  |  |  |  |  |  |  |  |")
                continue
            d = data.get(row, {})
            cells = []
            errors = 0
            for c in CONNS:
                if f"wrk_fail@{c}" in d:
                    cells += [f"wrk failed: {d[f'wrk_fail@{c}'][:60]}", ""]
                    continue
                cells.append(f(num(d.get(f"rps@{c}"))))
                cells.append(f"{f(ms(d.get(f'p50_us@{c}')))} / {f(ms(d.get(f'p99_us@{c}')))}")
                errors += int(num(d.get(f"errors@{c}")) or 0) + int(num(d.get(f"non2xx@{c}")) or 0)
            hop = num(data.get(f"hop/{mode}", {}).get("rps@64"))
            mine = num(d.get("rps@64"))
            ratio = f"{mine / hop:.2f}×" if hop and mine is not None and sys_ != "hop" else "–"
            base = ms(data.get(f"upstream/{mode}", {}).get("p50_us@1"))
            p50 = ms(d.get("p50_us@1"))
            added = f(p50 - base, 3) if base is not None and p50 is not None and sys_ != "upstream" else "–"
            err = str(errors)
            if "after_load" in d:
                err += " (" + d["after_load"][:80] + ")"
            cpu = f(num(d.get("cpu_us_per_req@64")), 1)
            user = num(d.get("cpu_user_us_per_req@64"))
            if user is not None and cpu != "–":
                cpu += f" ({f(user, 1)})"
            w(f"| {names[sys_]} | {mode_name} | " + " | ".join(cells) + f" | {ratio} | {cpu} | {added} | {err} |")
    w("")

    # ---- first byte and memory
    w("## Time to first byte and memory")
    w("")
    w("| system | mode | first byte ms | first text delta ms | whole answer ms | RSS idle MB | RSS peak @64 MB |")
    w("|---|---|--:|--:|--:|--:|--:|")
    for sys_, _ in SYSTEMS:
        for mode, mode_name in MODES:
            row = f"{sys_}/{mode}"
            reason = na_reason(data, sys_, row)
            if reason:
                w(f"| {names[sys_]} | {mode_name} | {reason} |  |  |  |  |")
                continue
            s = seq(data, row)
            d = data.get(row, {})
            if "ttfb_ms" not in s:
                w(f"| {names[sys_]} | {mode_name} | n/a ({s.get('last_error') or s.get('error') or 'no answer'}) |  |  | {rss(d.get('rss_idle_kb'))} | {rss(d.get('rss_load_kb'))} |")
                continue
            w(
                f"| {names[sys_]} | {mode_name} | {f(s['ttfb_ms'], 3)} | {f(s['ttft_ms'], 3)} | {f(s['total_ms'], 3)} "
                f"| {rss(d.get('rss_idle_kb'))} | {rss(d.get('rss_load_kb'))} |"
            )
    w("")

    # ---- 2 MB history
    w("## A 2 MB Codex history (streamed, sequential requests, median)")
    w("")
    w("| system | tiny request ms | 2 MB history ms | 2 MB − tiny (ms) | 2 MB vs upstream alone (ms) | RSS after MB | RSS 3 s later MB |")
    w("|---|--:|--:|--:|--:|--:|--:|")
    up_big = seq(data, "upstream/big").get("total_ms")
    notes = []
    for sys_, _ in SYSTEMS:
        reason = na_reason(data, sys_, f"{sys_}/big")
        if reason:
            w(f"| {names[sys_]} | {reason} |  |  |  |  |  |")
            continue
        after = rss(data.get(f"{sys_}/big", {}).get("rss_after_kb"))
        quiet = rss(data.get(f"{sys_}/big", {}).get("rss_quiet_kb"))
        tiny = seq(data, f"{sys_}/sse").get("total_ms")
        big = seq(data, f"{sys_}/big")
        bt = big.get("total_ms")
        if bt is None:
            w(f"| {names[sys_]} | {f(tiny, 3)} | n/a ({big.get('last_error') or big.get('error') or 'no answer'}) |  |  | {after} | {quiet} |")
            continue
        w(
            f"| {names[sys_]} | {f(tiny, 3)} | {f(bt, 3)} (n={big.get('n')}) | {f(bt - tiny, 3) if tiny is not None else '–'} "
            f"| {f(bt - up_big, 3) if up_big is not None and sys_ != 'upstream' else '–'} | {after} | {quiet} |"
        )
        if big.get("failures"):
            notes.append(f"{names[sys_]}: {big['failures']} of the 2 MB requests failed ({big.get('last_error', '')[:100]})")
    w("")
    for n in notes:
        w(f"- {n}")
    if notes:
        w("")

    # ---- start-up
    w("## Start-up time to ready")
    w("")
    w("| process | ready when | median ms | min ms | max ms | runs | SIGTERM ignored |")
    w("|---|---|--:|--:|--:|--:|--:|")
    for row, name, ready, sys_ in (
        ("aimux-bridge", "aimux bridge", "`--server-info` file written", "bridge"),
        ("aimux-proxy", "aimux proxy", "`--server-info` file written", "link"),
        ("codex-relay", names["relay"], "port accepts a connection", "relay"),
        ("litellm", names["litellm"], "`GET /health/liveliness` is 200", "litellm"),
    ):
        reason = na_reason(data, sys_)
        if reason:
            w(f"| {name} | {ready} | {reason} |  |  |  |  |")
            continue
        try:
            s = json.loads(data.get(row, {}).get("startup", "{}"))
        except json.JSONDecodeError:
            s = {"error": data[row]["startup"][:100]}
        if "median_ms" not in s:
            w(f"| {name} | {ready} | n/a ({s.get('error', 'not measured')}) |  |  |  |  |")
            continue
        w(f"| {name} | {ready} | {f(s['median_ms'])} | {f(s['min_ms'])} | {f(s['max_ms'])} | {s['runs']} | {s.get('sigterm_ignored', '–')} |")
    w("")
    if "verified" in data.get("litellm", {}):
        w(f"LiteLLM check: {data['litellm']['verified']} (its Responses → Chat bridge ran).")
        w("")

    w("## What the columns mean")
    w("")
    w(
        """- **upstream alone**: wrk straight at the fixed-answer nginx (one worker, static canned answers:
  `POST /json/v1/chat/completions` → one `chat.completion`, `POST /sse/v1/chat/completions` → 50 SSE
  chunks + `[DONE]`). **nginx hop**: a second one-worker nginx that `proxy_pass`es to it over kept-alive
  HTTP/1.1 with buffering off: the cost of one HTTP hop here, the floor for any bridge.
- The bridges get a tiny Responses request (`stream: false` = non-stream, `stream: true` = stream) and must
  deliver the canned text; every row is checked for the exact text before and after it is timed. The aimux
  rows point at `/auto/`, which answers `Accept: application/json` (what aimux sends when its client
  does not stream) with the JSON answer and anything else with the SSE stream; codex-relay and LiteLLM
  point at the JSON answer for non-stream and the SSE answer for stream. Every system handles one JSON
  object when not streaming and the 50 chunks when streaming.
- **req/s @N**: wrk with N kept-alive connections (2 threads, 1 for N=1) for the run length above.
  **p50 / p99**: wrk's latency percentiles at that load, whole response.
- **@64 vs nginx hop**: req/s at 64 connections divided by the nginx hop's in the same mode.
- **CPU µs/req @64**: user + system CPU the row's own processes used during the 64-connection run
  (`/proc/PID/stat`), per request: the nginx rows their own nginx (the hop without the upstream behind
  it), aimux its bridge (full link: bridge + proxy), the peers their process trees. Far steadier than
  req/s on a shared box: use it to compare two builds. In brackets, the user-space part; the rest is
  kernel time, mostly the loopback TCP path, which every hop pays alike.
- **added p50 @1 vs upstream**: p50 at one connection minus the upstream alone's p50 in the same mode.
- **errors**: socket errors + non-2xx responses over the three wrk runs.
- **first byte / first text delta / whole answer**: medians over sequential requests on one kept-alive
  connection (Python client, after a warm-up request): first byte of the response body, first byte of the
  first text delta (`w00`), end of the response. The client's own overhead (~0.1 ms) is in every row alike.
- **RSS idle**: VmRSS after start-up and one tiny request of each mode; **RSS peak @64**: highest VmRSS sampled every
  0.1 s during the 64-connection run (full link: bridge + proxy; LiteLLM: its process tree).
- **2 MB history**: a Codex-like session (instructions, tools, ~430 items of shell calls with file contents
  and test logs) as a streamed Responses request (the upstream and hop rows get the same history as Chat
  messages); **2 MB vs upstream alone** is what the system adds on top of nginx receiving the same size.
- **RSS after** (2 MB table): VmRSS right after the 2 MB requests (stream-mode process); **3 s later**: after
  three quiet seconds, whether the process gave the memory back.
- **Start-up**: spawn → ready, as stated per process, median of the runs. Each run is then stopped with
  SIGTERM; **SIGTERM ignored** counts runs still alive 3 s later (20 s for LiteLLM), which got SIGKILL.
- Everything shares the same cores with wrk and the Python client, so absolute numbers depend on the box;
  compare rows of one run. A load average well above 0 at the start means other work was running too."""
    )
    print("\n".join(out))


if __name__ == "__main__":
    main()
