"""The official OpenAI SDK against the real server, both dialects.

The upstream is the fake webui (tests/fakes/upstream.py): a stand-in for a
text-only LLM server that writes MemGPT's chatml call format.
"""

from __future__ import annotations

import json

import openai
import pytest

from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.shared import assert_valid

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name"}},
        "required": ["city"],
    },
}
TIME = {
    "name": "get_time",
    "description": "Current time in a timezone.",
    "parameters": {
        "type": "object",
        "properties": {"tz": {"type": "string", "description": "IANA timezone"}},
        "required": ["tz"],
    },
}
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What's the weather in Paris?"},
]


def weather_call(city: str = "Paris") -> str:
    return json.dumps(
        {"function": "get_weather", "params": {"inner_thoughts": "Look it up.", "city": city}}
    )


@pytest.fixture
def proxy(make_proxy: MakeProxy) -> RunningProxy:
    return make_proxy("webui")


@pytest.fixture
def client(proxy: RunningProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.base_url, api_key="unused", max_retries=0, timeout=30)


@pytest.mark.parametrize(
    "tool_choice",
    ["auto", "required", {"type": "function", "function": {"name": "get_weather"}}],
)
def test_tools_dialect_returns_tool_calls(
    proxy: RunningProxy, client: openai.OpenAI, tool_choice: object
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(weather_call())

    completion = client.chat.completions.create(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
        tools=[{"type": "function", "function": WEATHER}, {"type": "function", "function": TIME}],
        tool_choice=tool_choice,  # type: ignore[arg-type]
    )

    assert_valid(
        completion.model_dump(mode="json", exclude_unset=True), "CreateChatCompletionResponse"
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Paris"}  # type: ignore[union-attr]
    assert choice.message.content == "Look it up."
    assert completion.usage is not None and completion.usage.total_tokens > 0


def test_functions_dialect_returns_function_call(
    proxy: RunningProxy, client: openai.OpenAI
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(weather_call("Lyon"))

    completion = client.chat.completions.create(  # type: ignore[call-overload]
        model="local-model", messages=MESSAGES, functions=[WEATHER, TIME], function_call="auto"
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "function_call"
    assert choice.message.tool_calls is None
    assert choice.message.function_call.name == "get_weather"
    assert json.loads(choice.message.function_call.arguments) == {"city": "Lyon"}


def test_named_function_choice_in_functions_dialect(
    proxy: RunningProxy, client: openai.OpenAI
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(weather_call("Oslo"))

    completion = client.chat.completions.create(  # type: ignore[call-overload]
        model="local-model",
        messages=MESSAGES,
        functions=[WEATHER, TIME],
        function_call={"name": "get_weather"},
    )

    assert completion.choices[0].message.function_call.name == "get_weather"


def test_auto_with_a_prose_answer_returns_plain_content(
    proxy: RunningProxy, client: openai.OpenAI
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply("It is sunny in Paris today.")

    completion = client.chat.completions.create(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
        tools=[{"type": "function", "function": WEATHER}],
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert choice.message.content == "It is sunny in Paris today."


def test_no_tools_is_plain_chat(proxy: RunningProxy, client: openai.OpenAI) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply("A summary of the conversation.")

    completion = client.chat.completions.create(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
    )

    assert completion.choices[0].message.content == "A summary of the conversation."
    assert completion.choices[0].finish_reason == "stop"


def test_history_with_tool_results_reaches_the_prompt(
    proxy: RunningProxy, client: openai.OpenAI
) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(weather_call("Rome"))
    history = [
        *MESSAGES,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_abc",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_abc", "content": "18 C and sunny"},
        {"role": "user", "content": [{"type": "text", "text": "And in Rome?"}]},
    ]

    client.chat.completions.create(
        model="local-model",
        messages=history,  # type: ignore[arg-type]
        tools=[{"type": "function", "function": WEATHER}],
    )

    [sent] = proxy.upstream.generation_requests
    assert sent.json is not None
    prompt = sent.json["prompt"]
    assert "18 C and sunny" in prompt
    assert "And in Rome?" in prompt
    assert "get_weather" in prompt


def test_streaming_yields_the_call_in_chunks(proxy: RunningProxy, client: openai.OpenAI) -> None:
    assert proxy.upstream is not None
    proxy.upstream.reply(weather_call("Nice"))

    stream = client.chat.completions.create(
        model="local-model",
        messages=MESSAGES,  # type: ignore[arg-type]
        tools=[{"type": "function", "function": WEATHER}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    for chunk in chunks:
        assert_valid(
            chunk.model_dump(mode="json", exclude_unset=True), "CreateChatCompletionStreamResponse"
        )
    # The name comes once, in the call's first chunk; arguments follow as fragments.
    names = [
        tc.function.name
        for c in chunks
        for choice in c.choices
        for tc in choice.delta.tool_calls or []
        if tc.function and tc.function.name is not None
    ]
    arguments = "".join(
        tc.function.arguments or ""
        for c in chunks
        for choice in c.choices
        for tc in choice.delta.tool_calls or []
        if tc.function
    )
    finish = [choice.finish_reason for c in chunks for choice in c.choices if choice.finish_reason]
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"city": "Nice"}
    assert finish == ["tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
