#!/usr/bin/env python3
"""Drive `aimux bridge`'s Responses API with the official `openai` Python SDK.

Run by tests/it/openai_sdk.rs with the pinned venv (openai==3.54.0):

    python sdk_client.py --base-url http://127.0.0.1:PORT/v1 --api-key TOKEN SCENARIO

The Rust side scripts the mock upstream so that every model answer is one of the constants
below. Each scenario prints one JSON summary line and exits 0, or exits 1 with a traceback.

Scenarios:
  create         non-streamed responses.create: output_text and usage
  stream_create  responses.create(stream=True): output_text deltas + response.completed
  stream_helper  responses.stream(...) helper: get_final_response().output_text
  tool_call      a function tool: function_call output item (non-streamed, then via the helper)
  bad_request    an upstream HTTP 400 raises openai.BadRequestError
  wrong_token    a wrong API key is rejected (AuthenticationError / PermissionDeniedError)
  chat_create    chat.completions.create through bridge -> proxy: content and usage
  chat_stream    chat.completions.create(stream=True): content deltas and the usage chunk
  chat_tools     chat.completions.create with tools: a tool call comes back
"""

import argparse
import json
import sys

import openai

MODEL = "test-model"
TEXT = "Hello from aimux via the OpenAI SDK"
INSTRUCTIONS = "You are terse. SDK-INSTRUCTIONS-MARKER."
PROMPT = "Say hello."
USAGE = {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
TOOL_CALL_ID = "call_weather_1"
TOOL_ARGS = {"city": "Paris", "unit": "celsius"}
BAD_REQUEST_MESSAGE = "Invalid value for 'temperature': must be <= 2."

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}


def check(cond, what, got=None):
    if not cond:
        raise AssertionError(f"{what}; got: {got!r}")


def check_usage(usage):
    check(usage is not None, "response.usage is missing", usage)
    for k, v in USAGE.items():
        check(getattr(usage, k, None) == v, f"usage.{k} should be {v}", usage)


def scenario_create(client):
    resp = client.responses.create(model=MODEL, input=PROMPT, instructions=INSTRUCTIONS)
    check(resp.output_text == TEXT, "output_text", resp.output_text)
    check(resp.status in (None, "completed"), "status should be completed", resp.status)
    check_usage(resp.usage)
    return {"id": resp.id, "output_text": resp.output_text, "usage": resp.usage.model_dump()}


def scenario_stream_create(client):
    stream = client.responses.create(model=MODEL, input=PROMPT, stream=True)
    types, deltas, completed = [], [], None
    seqs = []
    for event in stream:
        types.append(event.type)
        seq = getattr(event, "sequence_number", None)
        if seq is not None:
            seqs.append(seq)
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        elif event.type == "response.completed":
            completed = event
    check("".join(deltas) == TEXT, "concatenated response.output_text.delta", deltas)
    check(len(deltas) >= 2, "text should arrive in several deltas", deltas)
    check(completed is not None, "no response.completed event", types)
    check(types[-1] == "response.completed", "response.completed should be the last event", types)
    check(completed.response.output_text == TEXT, "completed.response.output_text", completed.response.output_text)
    check_usage(completed.response.usage)
    check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), "sequence_number must increase", seqs)
    return {"events": types, "deltas": deltas}


def scenario_stream_helper(client):
    deltas = []
    with client.responses.stream(model=MODEL, input=PROMPT, instructions=INSTRUCTIONS) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    check(final.output_text == TEXT, "get_final_response().output_text", final.output_text)
    check("".join(deltas) == TEXT, "helper text deltas", deltas)
    check_usage(final.usage)
    return {"output_text": final.output_text, "deltas": deltas}


def check_function_call(resp, how):
    calls = [item for item in resp.output if item.type == "function_call"]
    check(len(calls) == 1, f"{how}: expected exactly one function_call output item", [i.type for i in resp.output])
    call = calls[0]
    check(call.name == "get_weather", f"{how}: function_call.name", call.name)
    check(call.call_id == TOOL_CALL_ID, f"{how}: function_call.call_id (upstream id must be kept)", call.call_id)
    check(json.loads(call.arguments) == TOOL_ARGS, f"{how}: function_call.arguments", call.arguments)
    return {"name": call.name, "call_id": call.call_id, "arguments": call.arguments}


def scenario_tool_call(client):
    resp = client.responses.create(model=MODEL, input="What's the weather in Paris?", tools=[WEATHER_TOOL])
    first = check_function_call(resp, "responses.create")
    arg_deltas = []
    with client.responses.stream(model=MODEL, input="What's the weather in Paris?", tools=[WEATHER_TOOL]) as stream:
        for event in stream:
            if event.type == "response.function_call_arguments.delta":
                arg_deltas.append(event.delta)
        final = stream.get_final_response()
    second = check_function_call(final, "responses.stream")
    if arg_deltas:
        check(json.loads("".join(arg_deltas)) == TOOL_ARGS, "function_call_arguments deltas", arg_deltas)
    return {"create": first, "stream": second, "arg_deltas": arg_deltas}


def scenario_bad_request(client):
    try:
        client.responses.create(model=MODEL, input=PROMPT)
    except openai.BadRequestError as e:
        check(e.status_code == 400, "status_code", e.status_code)
        check(BAD_REQUEST_MESSAGE in str(e), "the upstream error message should be visible", str(e))
        return {"status_code": e.status_code, "message": str(e)}
    raise AssertionError("expected openai.BadRequestError")


def scenario_wrong_token(client):
    try:
        client.responses.create(model=MODEL, input=PROMPT)
    except (openai.AuthenticationError, openai.PermissionDeniedError) as e:
        return {"status_code": e.status_code, "message": str(e)}
    raise AssertionError("expected an authentication error for a wrong API key")


def scenario_chat_create(client):
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": PROMPT}])
    check(r.choices[0].message.content == TEXT, "chat content", r.choices[0].message.content)
    check(r.usage is not None and r.usage.total_tokens == 18, "chat usage", r.usage)
    return {"content": r.choices[0].message.content}


def scenario_chat_stream(client):
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, usage = [], None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
    check("".join(parts) == TEXT, "streamed chat content", parts)
    check(len(parts) > 1, "content arrives in several deltas", parts)
    check(usage is not None and usage.total_tokens == 18, "usage chunk", usage)
    return {"deltas": len(parts)}


def scenario_chat_tools(client):
    r = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[{"type": "function", "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"}}],
    )
    calls = r.choices[0].message.tool_calls
    check(calls and calls[0].function.name == "get_weather", "tool call name", calls)
    check(calls[0].id == TOOL_CALL_ID, "tool call id", calls[0].id)
    check(json.loads(calls[0].function.arguments) == TOOL_ARGS, "tool call arguments", calls[0].function.arguments)
    return {"tool_calls": len(calls)}


SCENARIOS = {
    "create": scenario_create,
    "stream_create": scenario_stream_create,
    "stream_helper": scenario_stream_helper,
    "tool_call": scenario_tool_call,
    "bad_request": scenario_bad_request,
    "wrong_token": scenario_wrong_token,
    "chat_create": scenario_chat_create,
    "chat_stream": scenario_chat_stream,
    "chat_tools": scenario_chat_tools,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=30.0)
    result = SCENARIOS[args.scenario](client)
    print(json.dumps({"scenario": args.scenario, "openai": openai.__version__, "ok": True, "result": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
