#!/usr/bin/env python3
"""Small measuring client for bench/run.sh (stdlib only).

  client.py check KIND URL BODY EXPECTED [-H 'Name: value']...
      One request; exits 1 with the reason and the start of the body unless the answer is a 200 of
      KIND (chat-json, chat-sse, resp-json, resp-sse) that carries exactly the text in EXPECTED.

  client.py seq URL BODY N [-H 'Name: value']... [--timeout S]
      N sequential requests on one kept-alive connection (a warm-up request first). Prints one JSON
      line: medians and p90 of ttfb_ms (first body byte), ttft_ms (first byte of the answer's first
      text delta, "w00"), total_ms (whole response read), plus n and failures.

  client.py startup --runs N --ready file:PATH|tcp:PORT|http:URL [--timeout S] -- CMD ARGS...
      Spawns CMD N times; each time measures spawn -> ready (file present and non-empty, TCP
      connect accepted, or HTTP 200), then stops it (SIGTERM; SIGKILL if still alive after
      --term-wait seconds, default 3). Prints JSON with the median, min and max in ms and how many
      runs ignored the SIGTERM.
"""

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

FIRST_TOKEN = b"w00"


def parse_headers(args):
    headers = {"Content-Type": "application/json"}
    rest = []
    i = 0
    while i < len(args):
        if args[i] == "-H":
            name, _, value = args[i + 1].partition(":")
            headers[name.strip()] = value.strip()
            i += 2
        else:
            rest.append(args[i])
            i += 1
    return headers, rest


def connect(url, timeout):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    path = u.path + ("?" + u.query if u.query else "")
    return conn, path


def one_request(conn, path, body, headers):
    """Returns (status, content_type, body_bytes, ttfb_s, ttft_s, total_s)."""
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    ttfb = ttft = None
    chunks = []
    seen = b""
    while True:
        data = resp.read1(65536)
        if not data:
            break
        now = time.perf_counter()
        if ttfb is None:
            ttfb = now - t0
        if ttft is None:
            seen = seen[-8:] + data
            if FIRST_TOKEN in seen:
                ttft = now - t0
        chunks.append(data)
    chunks.append(resp.read())  # read1() never marks a Content-Length body finished; read() does
    total = time.perf_counter() - t0
    return resp.status, resp.getheader("content-type", ""), b"".join(chunks), ttfb or total, ttft or total, total


def sse_data(body):
    for block in body.decode("utf-8", "replace").split("\n\n"):
        event = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            yield event, "\n".join(data)


def extract_text(kind, body):
    """The assistant text a response carries, or raises ValueError saying what is wrong."""
    if kind == "chat-json":
        return json.loads(body)["choices"][0]["message"]["content"]
    if kind == "resp-json":
        obj = json.loads(body)
        if obj.get("status") not in (None, "completed"):
            raise ValueError(f"status {obj.get('status')!r}")
        text = ""
        for item in obj.get("output", []):
            if item.get("type") == "message":
                for part in item.get("content", []):
                    if part.get("type") == "output_text":
                        text += part.get("text", "")
        return text
    if kind == "chat-sse":
        text, done = "", False
        for _, data in sse_data(body):
            if data == "[DONE]":
                done = True
                continue
            for choice in json.loads(data).get("choices", []):
                text += (choice.get("delta") or {}).get("content") or ""
        if not done:
            raise ValueError("no [DONE]")
        return text
    if kind == "resp-sse":
        text, completed, failed = "", False, None
        for event, data in sse_data(body):
            if data == "[DONE]":
                continue
            obj = json.loads(data)
            etype = obj.get("type") or event
            if etype == "response.output_text.delta":
                text += obj.get("delta", "")
            elif etype == "response.completed":
                completed = True
            elif etype in ("response.failed", "error"):
                failed = data[:300]
        if failed:
            raise ValueError(f"stream failed: {failed}")
        if not completed:
            raise ValueError("no response.completed event")
        return text
    raise ValueError(f"unknown kind {kind}")


def cmd_check(args):
    headers, rest = parse_headers(args)
    kind, url, body_path, expected_path = rest
    body = open(body_path, "rb").read()
    expected = open(expected_path, encoding="utf-8").read()
    try:
        conn, path = connect(url, 60)
        status, ctype, data, *_ = one_request(conn, path, body, headers)
    except Exception as e:  # noqa: BLE001 - any failure is the message
        print(f"check {kind} {url}: request failed: {e!r}", file=sys.stderr)
        return 1
    snippet = data[:400].decode("utf-8", "replace")
    if status != 200:
        print(f"check {kind} {url}: HTTP {status} ({ctype}): {snippet}", file=sys.stderr)
        return 1
    try:
        text = extract_text(kind, data)
    except Exception as e:  # noqa: BLE001
        print(f"check {kind} {url}: bad answer ({e}); content-type {ctype}; body starts: {snippet}", file=sys.stderr)
        return 1
    if text != expected:
        print(f"check {kind} {url}: text differs: got {text[:80]!r}..., want {expected[:80]!r}...", file=sys.stderr)
        return 1
    return 0


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def cmd_seq(args):
    headers, rest = parse_headers(args)
    timeout = 60.0
    if "--timeout" in rest:
        i = rest.index("--timeout")
        timeout = float(rest[i + 1])
        del rest[i : i + 2]
    url, body_path, n = rest[0], rest[1], int(rest[2])
    body = open(body_path, "rb").read()
    ttfb, ttft, total = [], [], []
    failures = 0
    last_error = ""
    conn = None
    deadline = time.monotonic() + max(timeout * 2, 30)
    for i in range(n + 1):  # request 0 is a warm-up
        if time.monotonic() > deadline:
            last_error = f"gave up after {i} requests (time budget)"
            break
        try:
            if conn is None:
                conn, path = connect(url, timeout)
            status, _, data, a, b, c = one_request(conn, path, body, headers)
        except Exception as e:  # noqa: BLE001
            failures += 1
            last_error = repr(e)
            if conn is not None:
                conn.close()
            conn = None
            continue
        if status != 200:
            failures += 1
            last_error = f"HTTP {status}: {data[:200]!r}"
            continue
        if i > 0:
            ttfb.append(a * 1000)
            ttft.append(b * 1000)
            total.append(c * 1000)
    out = {"n": len(total), "failures": failures}
    if last_error:
        out["last_error"] = last_error
    if total:
        for name, vals in (("ttfb_ms", ttfb), ("ttft_ms", ttft), ("total_ms", total)):
            out[name] = round(statistics.median(vals), 3)
            out[name.replace("_ms", "_p90_ms")] = round(pct(vals, 90), 3)
    print(json.dumps(out))
    return 0 if total else 1


def ready_probe(spec):
    kind, _, arg = spec.partition(":")
    if kind == "file":
        return lambda: os.path.exists(arg) and os.path.getsize(arg) > 0
    if kind == "tcp":
        port = int(arg)

        def tcp():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return True
            except OSError:
                return False

        return tcp
    if kind == "http":
        u = urllib.parse.urlsplit(arg)

        def http_ok():
            try:
                c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
                c.request("GET", u.path)
                ok = c.getresponse().status == 200
                c.close()
                return ok
            except OSError:
                return False

        return http_ok
    raise SystemExit(f"unknown --ready {spec}")


def cmd_startup(args):
    sep = args.index("--")
    opts, cmd = args[:sep], args[sep + 1 :]
    runs, ready, timeout, term_wait = 10, None, 30.0, 3.0
    ignored_term = 0
    i = 0
    while i < len(opts):
        if opts[i] == "--runs":
            runs = int(opts[i + 1])
        elif opts[i] == "--ready":
            ready = opts[i + 1]
        elif opts[i] == "--timeout":
            timeout = float(opts[i + 1])
        elif opts[i] == "--term-wait":
            term_wait = float(opts[i + 1])
        i += 2
    probe = ready_probe(ready)
    path = ready[5:] if ready.startswith("file:") else None
    times = []
    for _ in range(runs):
        if path and os.path.exists(path):
            os.unlink(path)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        ok = False
        while time.perf_counter() - t0 < timeout:
            if probe():
                ok = True
                break
            if proc.poll() is not None:
                break
            time.sleep(0.0005 if path else 0.002)
        elapsed = (time.perf_counter() - t0) * 1000
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=term_wait)
        except subprocess.TimeoutExpired:
            ignored_term += 1  # a server that ignores SIGTERM right after it said it was ready
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if not ok:
            print(json.dumps({"error": f"not ready after {elapsed:.0f} ms (exit {proc.returncode})"}))
            return 1
        times.append(elapsed)
        time.sleep(0.05)  # let the port go
    print(json.dumps({"median_ms": round(statistics.median(times), 2), "min_ms": round(min(times), 2), "max_ms": round(max(times), 2), "runs": runs, "sigterm_ignored": ignored_term}))
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("check", "seq", "startup"):
        sys.exit(__doc__)
    return {"check": cmd_check, "seq": cmd_seq, "startup": cmd_startup}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
