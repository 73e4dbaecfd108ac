#!/usr/bin/env python3
"""Writes the benchmark's fixtures into OUT (deterministic; stdlib only).

OUT/www/{json,sse}/v1/chat/completions   canned answers served by the nginx upstream for any
                                         method (json: one chat.completion; sse: 50 data
                                         chunks + [DONE])
OUT/www/{json,sse}/v1/models             a model list (codex-relay asks for it at start)
OUT/bodies/chat_{tiny,2mb}_{json,sse}.json   Chat Completions requests (upstream and nginx hop)
OUT/bodies/resp_{tiny,2mb}_{json,sse}.json   Responses requests (bridges); *_2mb is a Codex-like
                                             history of about 2 MiB
OUT/expected.txt                             the assistant text every path must deliver

Usage: gen_fixtures.py OUT
"""

import json
import os
import random
import sys

MODEL = "m"
CREATED = 1_700_000_000
CHUNKS = 50  # data events in the SSE answer, not counting [DONE]
TARGET_2MB = 2 * 1024 * 1024  # the request body is at least this many bytes


def words(n):
    """The assistant's answer: n distinct delta pieces."""
    return [f"w{i:02d} " for i in range(n)]


def chat_chunk(delta, finish=None):
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def sse_answer():
    # role chunk + 47 text chunks + finish chunk + usage chunk = 50 data events, then [DONE]
    pieces = words(CHUNKS - 3)
    events = [chat_chunk({"role": "assistant", "content": ""})]
    events += [chat_chunk({"content": p}) for p in pieces]
    events.append(chat_chunk({}, "stop"))
    events.append(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": MODEL,
            "choices": [],
            "usage": {"prompt_tokens": 11, "completion_tokens": len(pieces), "total_tokens": 11 + len(pieces)},
        }
    )
    assert len(events) == CHUNKS
    body = "".join("data: " + json.dumps(e, separators=(",", ":")) + "\n\n" for e in events)
    return body + "data: [DONE]\n\n", "".join(pieces)


def json_answer(text):
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": CHUNKS - 3, "total_tokens": 11 + CHUNKS - 3},
        },
        separators=(",", ":"),
    )


# ---------------------------------------------------------------------------------------------
# A Codex-like history: instructions, a developer message, environment context, then turns of
# user request -> shell calls with large outputs (file contents, test logs) -> assistant answer.

IDENTS = [
    "request", "response", "upstream", "chunk", "stream", "buffer", "config", "provider", "route",
    "model", "token", "header", "body", "event", "delta", "usage", "error", "timeout", "client",
    "server", "state", "handle", "parse", "decode", "encode", "write", "read", "flush", "span",
]
TYPES = ["String", "Vec<u8>", "Option<&str>", "Result<(), Error>", "usize", "bool", "Bytes", "Value"]


def code_file(rng, lines):
    out = []
    for i in range(lines):
        a, b, c = rng.choice(IDENTS), rng.choice(IDENTS), rng.choice(TYPES)
        kind = rng.randrange(7)
        if kind == 0:
            out.append(f"pub fn {a}_{b}(&mut self, {b}: {c}) -> {rng.choice(TYPES)} {{")
        elif kind == 1:
            out.append(f'    let {a} = self.{b}.get("{a}-{i}").unwrap_or_default(); // {b} → {a}')
        elif kind == 2:
            out.append(f'    if {a}.is_empty() {{ return Err(anyhow!("empty {a}: {{}}", "\\"{b}\\"")); }}')
        elif kind == 3:
            out.append(f"    // {a} {b}: keep the {rng.choice(IDENTS)} in order (see #{rng.randrange(999)})")
        elif kind == 4:
            out.append(f"    self.{a}.push({b}.clone());\t// tab\tseparated")
        elif kind == 5:
            out.append("}")
        else:
            out.append(f'    assert_eq!({a}.len(), {rng.randrange(100)}, "{b} ünïcödé ✓");')
    return "\n".join(out) + "\n"


def test_log(rng, lines):
    out = []
    for i in range(lines):
        name = f"{rng.choice(IDENTS)}::{rng.choice(IDENTS)}_{rng.choice(IDENTS)}_{i}"
        out.append(f"test {name} ... {'ok' if rng.random() > 0.05 else 'FAILED'}")
    out.append(f"\ntest result: FAILED. {lines - 3} passed; 3 failed; 0 ignored; finished in 4.21s")
    return "\n".join(out) + "\n"


INSTRUCTIONS = (
    "You are Codex, a coding agent running in the user's terminal. You help with software "
    "engineering tasks: read files, run commands, edit code with apply_patch, run tests.\n\n"
    + "\n".join(
        f"- Guideline {i}: prefer small, reviewable changes; explain what you changed and why; "
        f"never run destructive commands without being asked; keep the user's style ({i})."
        for i in range(120)
    )
)

TOOLS = [
    {
        "type": "function",
        "name": "shell_command",
        "description": "Runs a shell command and returns its output.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The shell script to run."},
                "workdir": {"type": "string", "description": "Working directory."},
                "timeout_ms": {"type": "number", "description": "Timeout in milliseconds."},
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    },
    {
        "type": "function",
        "name": "update_plan",
        "description": "Updates the task plan.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "explanation": {"type": "string"},
                "plan": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step": {"type": "string"},
                            "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                        },
                        "required": ["step", "status"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["plan"],
            "additionalProperties": False,
        },
    },
]


def codex_history(rng):
    """(responses_input, chat_messages) for a ~2 MiB session."""
    dev = "<permissions instructions>\nFilesystem sandboxing: workspace-write. Approvals: on-request.\n</permissions instructions>"
    env = (
        "<environment_context>\n  <cwd>/home/dev/project</cwd>\n  <shell>bash</shell>\n"
        "</environment_context>"
    )
    resp = [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": dev}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": env}]},
    ]
    chat = [
        {"role": "system", "content": INSTRUCTIONS + "\n\n" + dev},
        {"role": "user", "content": env},
    ]
    turn = 0
    call = 0
    while len(json.dumps(resp, ensure_ascii=False).encode()) < TARGET_2MB:
        turn += 1
        ask = f"Turn {turn}: the {rng.choice(IDENTS)} tests fail after the {rng.choice(IDENTS)} refactor; fix them."
        resp.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": ask}]})
        chat.append({"role": "user", "content": ask})
        for _ in range(rng.randrange(2, 5)):
            call += 1
            cid = f"call_{call:05d}"
            if rng.random() < 0.6:
                cmd = f"sed -n 1,400p src/{rng.choice(IDENTS)}/{rng.choice(IDENTS)}.rs"
                output = code_file(rng, rng.randrange(120, 400))
            else:
                cmd = "cargo test 2>&1 | tail -n 300"
                output = test_log(rng, rng.randrange(80, 300))
            args = json.dumps({"command": cmd, "workdir": "/home/dev/project"})
            resp.append({"type": "function_call", "name": "shell_command", "arguments": args, "call_id": cid})
            resp.append({"type": "function_call_output", "call_id": cid, "output": output})
            chat.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": cid, "type": "function", "function": {"name": "shell_command", "arguments": args}}],
                }
            )
            chat.append({"role": "tool", "tool_call_id": cid, "content": output})
        answer = f"Fixed the {rng.choice(IDENTS)} handling in turn {turn}; all tests pass now."
        resp.append({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": answer}]})
        chat.append({"role": "assistant", "content": answer})
    last = "Now summarise what changed in this session."
    resp.append({"type": "message", "role": "user", "content": [{"type": "input_text", "text": last}]})
    chat.append({"role": "user", "content": last})
    return resp, chat


def responses_body(inp, stream, tools=None, instructions=INSTRUCTIONS):
    body = {"model": MODEL, "instructions": instructions, "input": inp}
    if tools:
        body.update(tools=tools, tool_choice="auto", parallel_tool_calls=False)
    body.update(store=False, stream=stream)
    return body


def chat_body(messages, stream, tools=None):
    body = {"model": MODEL, "messages": messages}
    if tools:
        body.update(
            tools=[{"type": "function", "function": {k: t[k] for k in ("name", "description", "parameters")}} for t in tools],
            tool_choice="auto",
        )
    body["stream"] = stream
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    sse, text = sse_answer()
    models = json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model", "created": CREATED, "owned_by": "bench"}]})
    for prefix in ("json", "sse"):
        write(f"{out}/www/{prefix}/v1/models", models)
    write(f"{out}/www/json/v1/chat/completions", json_answer(text))
    write(f"{out}/www/sse/v1/chat/completions", sse)
    write(f"{out}/expected.txt", text)

    tiny_in = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say hello."}]}]
    tiny_chat = [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Say hello."}]
    rng = random.Random(20260601)
    big_in, big_chat = codex_history(rng)
    dump = lambda o: json.dumps(o, separators=(",", ":"), ensure_ascii=False)
    for stream, suffix in ((False, "json"), (True, "sse")):
        write(f"{out}/bodies/resp_tiny_{suffix}.json", dump(responses_body(tiny_in, stream, instructions="You are a helpful assistant.")))
        write(f"{out}/bodies/chat_tiny_{suffix}.json", dump(chat_body(tiny_chat, stream)))
        write(f"{out}/bodies/resp_2mb_{suffix}.json", dump(responses_body(big_in, stream, TOOLS)))
        write(f"{out}/bodies/chat_2mb_{suffix}.json", dump(chat_body(big_chat, stream, TOOLS)))
    size = os.path.getsize(f"{out}/bodies/resp_2mb_sse.json")
    print(f"fixtures: {out} (2 MB history: {size} bytes, {len(big_in)} input items; SSE answer: {CHUNKS} chunks)")


if __name__ == "__main__":
    main()
