"""Structured outputs against real llama.cpp with SmolLM2-135M (issue 10's acceptance).

Real: the OpenAI SDK, fcproxy (``fcproxy serve`` before llama-cpp-python's
server, and the embedded backend in-process), the 135M model. A model this
small writes prose around its JSON, or JSON of another shape, when asked
nicely; the grammar converted from the schema is what makes ``.parsed``
come back every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import jsonschema
import openai
import pytest
from pydantic import BaseModel

from proxy.app import create_app
from proxy.config import Settings
from tests.e2e.processes import ServerProcess
from tests.e2e.weather import STRICT_ALARM
from tests.support.server import ServerThread

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

MODEL = "smollm2-local"
ASK = [{"role": "user", "content": "Ada is 36 years old. Give her name and age."}]


class Person(BaseModel):
    name: str
    age: int


@pytest.fixture(scope="module")
def llama_client(llama_proxy: ServerProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=llama_proxy.url + "/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="module")
def embedded_client() -> Iterator[openai.OpenAI]:
    pytest.importorskip("llama_cpp", reason="the embedded extra is not installed")
    settings = Settings(embedded_n_ctx=2048, embedded_threads=1, default_max_tokens=128)
    with ServerThread(create_app(settings), name="fcproxy-embedded") as running:
        yield openai.OpenAI(base_url=running.url + "/v1", api_key="unused", max_retries=0)


@pytest.fixture(params=["llama-server", "embedded"])
def client(request: pytest.FixtureRequest) -> openai.OpenAI:
    name = "llama_client" if request.param == "llama-server" else "embedded_client"
    return cast(openai.OpenAI, request.getfixturevalue(name))


def test_sdk_parse_returns_the_parsed_model(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL, messages=cast(Any, ASK), response_format=Person, max_tokens=64, timeout=120
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Person)


def test_json_object_returns_parseable_json(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=cast(Any, ASK),
        response_format={"type": "json_object"},
        max_tokens=64,
        timeout=120,
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)


def test_strict_tool_arguments_are_schema_valid_under_auto(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=cast(Any, [{"role": "user", "content": "Set an alarm at 7 for the gym."}]),
        tools=[cast(Any, STRICT_ALARM)],
        tool_choice="auto",
        max_tokens=96,
        timeout=120,
    )
    message = completion.choices[0].message
    for call in message.tool_calls or []:
        jsonschema.validate(
            json.loads(call.function.arguments), STRICT_ALARM["function"]["parameters"]
        )
