"""``stream: true`` through the real server and the official OpenAI SDK.

The upstream is the fake webui (tests/fakes/upstream.py), a stand-in for a
text-only LLM server; the model's text is what each test queues. What is
checked is fcproxy's own logic: the streamed answer assembles into the
non-streamed one, errors before the first byte keep their status, retries
happen only while nothing was sent, and calls the client cannot use never leave.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.shared import assert_valid

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TOOLS: Any = [{"type": "function", "function": WEATHER}]
MESSAGES: Any = [{"role": "user", "content": "What's the weather in Paris?"}]
HERMES_CALL = 'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'


def sdk(proxy: RunningProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, timeout=30)


def assemble(chunks: list[Any]) -> dict[str, Any]:
    """The message a client builds from the chunks (as the SDK's stream helper does)."""
    content, reasoning = "", ""
    calls: dict[int, dict[str, str]] = {}
    function_call = {"name": "", "arguments": ""}
    finish = []
    for chunk in chunks:
        assert_valid(
            chunk.model_dump(mode="json", exclude_unset=True), "CreateChatCompletionStreamResponse"
        )
        for choice in chunk.choices:
            delta = choice.delta
            content += delta.content or ""
            reasoning += getattr(delta, "reasoning_content", None) or ""
            for tc in delta.tool_calls or []:
                entry = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += tc.id or ""
                if tc.function:
                    entry["name"] += tc.function.name or ""
                    entry["arguments"] += tc.function.arguments or ""
            if delta.function_call:
                function_call["name"] += delta.function_call.name or ""
                function_call["arguments"] += delta.function_call.arguments or ""
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    return {
        "content": content or None,
        "calls": [(c["name"], json.loads(c["arguments"])) for _, c in sorted(calls.items())],
        "function_call": function_call if function_call["name"] else None,
        "finish": finish,
        "ids": len({chunk.id for chunk in chunks}),
    }


@pytest.mark.parametrize("wrapper", ["hermes", "chatml"])
def test_the_streamed_answer_is_the_non_streamed_one(make_proxy: MakeProxy, wrapper: str) -> None:
    proxy = make_proxy("webui", wrapper=wrapper)
    assert proxy.upstream is not None
    reply = (
        HERMES_CALL
        if wrapper == "hermes"
        else '{"function": "get_weather", "params": {"inner_thoughts": "Look.", "city": "Paris"}}'
    )
    proxy.upstream.reply(reply, reply)
    client = sdk(proxy)
    whole = client.chat.completions.create(model="m", messages=MESSAGES, tools=TOOLS)
    chunks = list(
        client.chat.completions.create(model="m", messages=MESSAGES, tools=TOOLS, stream=True)
    )
    got = assemble(chunks)
    message = whole.choices[0].message
    assert got["content"] == message.content
    assert message.tool_calls is not None
    assert got["calls"] == [
        (c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls
    ]
    assert got["finish"] == ["tool_calls"] and got["ids"] == 1


def test_the_sdk_stream_helper_assembles_the_call(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(HERMES_CALL)
    with sdk(proxy).chat.completions.stream(model="m", messages=MESSAGES, tools=TOOLS) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "Let me look."
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.name == "get_weather"
    assert json.loads(message.tool_calls[0].function.arguments) == {"city": "Paris"}


def test_functions_clients_get_function_call_deltas(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(HERMES_CALL)
    chunks = list(
        sdk(proxy).chat.completions.create(
            model="m", messages=MESSAGES, functions=[WEATHER], stream=True
        )
    )
    got = assemble(chunks)
    assert got["function_call"] is not None
    assert got["function_call"]["name"] == "get_weather"
    assert json.loads(got["function_call"]["arguments"]) == {"city": "Paris"}
    assert got["finish"] == ["function_call"]


def test_a_required_call_is_retried_silently_while_nothing_was_sent(
    make_proxy: MakeProxy,
) -> None:
    # No grammar: the first answer is prose, which must not reach the client.
    proxy = make_proxy("webui", wrapper="hermes", grammar=False, max_retries=1)
    assert proxy.upstream is not None
    proxy.upstream.reply("I would rather chat about the weather.", HERMES_CALL)
    raw = sdk(proxy).chat.completions.with_raw_response.create(
        model="m", messages=MESSAGES, tools=TOOLS, tool_choice="required", stream=True
    )
    assert raw.headers["x-fcproxy-attempts"] == "2"
    got = assemble(list(raw.parse()))
    assert got["content"] == "Let me look."
    assert got["calls"] == [("get_weather", {"city": "Paris"})]


def test_a_required_call_that_never_comes_is_an_error_status_not_a_stream(
    make_proxy: MakeProxy,
) -> None:
    proxy = make_proxy("webui", wrapper="hermes", grammar=False, max_retries=1)
    assert proxy.upstream is not None
    proxy.upstream.reply("No.", "Still no.")
    with pytest.raises(openai.APIStatusError) as caught:
        list(
            sdk(proxy).chat.completions.create(
                model="m", messages=MESSAGES, tools=TOOLS, tool_choice="required", stream=True
            )
        )
    assert caught.value.status_code == 502
    assert caught.value.code == "output_parse_error"


def test_an_unreachable_upstream_answers_502_before_any_byte(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", upstream_url="http://127.0.0.1:9")
    response = httpx.post(
        proxy.url + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True},
        timeout=30,
    )
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "upstream_unavailable"


def test_a_call_to_an_unknown_function_never_leaves(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui", wrapper="hermes")
    assert proxy.upstream is not None
    proxy.upstream.reply(
        'Sure.\n<tool_call>\n{"name": "delete_everything", "arguments": {}}\n</tool_call>'
    )
    got = assemble(
        list(
            sdk(proxy).chat.completions.create(
                model="m", messages=MESSAGES, tools=TOOLS, stream=True
            )
        )
    )
    assert got["calls"] == []
    assert got["finish"] == ["stop"]


def test_plain_text_streams_with_usage_last(make_proxy: MakeProxy) -> None:
    proxy = make_proxy("webui")
    assert proxy.upstream is not None
    proxy.upstream.reply("Roses are red, violets are blue.")
    chunks = list(
        sdk(proxy).chat.completions.create(
            model="m",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    got = assemble(chunks)
    assert got["content"] == "Roses are red, violets are blue."
    assert got["finish"] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert all(c.usage is None for c in chunks[:-1])
