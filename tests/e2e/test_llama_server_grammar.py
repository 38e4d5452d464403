"""Lazy call grammars on llama.cpp's own llama-server (opt-in, as test_doctor's).

Real: ``llama-server`` built from the llama.cpp that llama-cpp-python 0.3.36's
sdist carries (docs/scripts/build-llama-server.sh), SmolLM2-135M, ``fcproxy
serve --wrapper W`` in front of it, the OpenAI SDK. Skipped unless
``FCPROXY_LLAMA_SERVER`` names the binary or one is on ``PATH``.

Under ``tool_choice: "auto"`` fcproxy sends llama-server a lazy grammar
(``grammar_lazy``, ``grammar_triggers``): the server has to take it, leave
prose free, and hold a call to the grammar from the format's call marker on.
Its debug log says when the trigger fired ("Grammar triggered on regex").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import jsonschema
import openai
import pytest

from tests.e2e.processes import (
    ServerProcess,
    llama_server_binary,
    start_fcproxy,
    start_llama_cpp_server,
)
from tests.e2e.weather import STRICT_ALARM

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

#: A call the model is asked to copy, in Qwen3-Coder's syntax, with an hour
#: out of range and a label outside the enum. SmolLM2 copies it (greedy);
#: under Hermes' tool prompt it writes prose about the call instead.
OUT_OF_SCHEMA = (
    "<tool_call>\n<function=set_alarm>\n<parameter=hour>\n31\n</parameter>\n"
    "<parameter=label>\nparty\n</parameter>\n</function>\n</tool_call>"
)
TRIGGERED = "Grammar triggered"
#: What llama-server logs at each token while a lazy grammar waits.
WAITING = "Grammar still awaiting trigger"


@pytest.fixture(scope="module")
def real_llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    binary = llama_server_binary()
    log = tmp_path_factory.mktemp("llama-server") / "llama-server.log"
    server = start_llama_cpp_server(binary, log)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clients(real_llama_server: ServerProcess) -> Iterator[dict[str, openai.OpenAI]]:
    """An OpenAI client of ``fcproxy serve --wrapper W`` per format, all before the server."""
    proxies: list[ServerProcess] = []
    made: dict[str, openai.OpenAI] = {}
    for wrapper in ("hermes", "qwen3-coder"):
        log = Path(real_llama_server.log_path).parent / f"fcproxy-{wrapper}.log"
        proxy = start_fcproxy(
            real_llama_server.url, "llamacpp", log, extra_args=("--wrapper", wrapper)
        )
        proxies.append(proxy)
        made[wrapper] = openai.OpenAI(base_url=proxy.url + "/v1", api_key="unused", max_retries=0)
    yield made
    for proxy in proxies:
        proxy.stop()


def ask(client: openai.OpenAI, text: str) -> Any:
    return client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": text}],
        tools=[cast(Any, STRICT_ALARM)],
        tool_choice="auto",
        temperature=0,
        max_tokens=96,
        timeout=180,
    )


def test_a_call_is_held_to_the_grammar_from_its_trigger_on(
    clients: dict[str, openai.OpenAI], real_llama_server: ServerProcess
) -> None:
    start = real_llama_server.log_size()
    completion = ask(clients["qwen3-coder"], "Copy this text:\n" + OUT_OF_SCHEMA)
    log = real_llama_server.log_text(start)
    # llama-server took the lazy grammar, and the model wrote the trigger...
    assert WAITING in log and TRIGGERED in log, log[-3000:]
    # ... from which on it could not copy 31 or "party".
    [call] = completion.choices[0].message.tool_calls or []
    assert call.function.name == "set_alarm"
    jsonschema.validate(json.loads(call.function.arguments), STRICT_ALARM["function"]["parameters"])
    assert completion.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("wrapper", ["hermes", "qwen3-coder"])
def test_prose_stays_free_until_the_trigger(
    wrapper: str, clients: dict[str, openai.OpenAI], real_llama_server: ServerProcess
) -> None:
    start = real_llama_server.log_size()
    completion = ask(clients[wrapper], "Say hello to Ada.")
    log = real_llama_server.log_text(start)
    message = completion.choices[0].message
    # A lazy grammar was in force (it waited at every token) and never applied.
    assert WAITING in log and TRIGGERED not in log, log[-3000:]
    assert not message.tool_calls and message.content
