"""``stop_reason: "stop_sequence"`` on ``/v1/messages``, behind every upstream dialect.

llama-server's ``/completion`` names the stop that ended its text
(``stopping_word``), so the client's stop sequences go upstream; the other
dialects do not, so fcproxy keeps them back and cuts the text itself
(proxy/backends/stops.py). Either way the anthropic SDK sees the same
message, whole and streamed. The fakes (tests/fakes/upstream.py) stop on the
stop strings they are sent, as the real servers do.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest

from tests.fakes.upstream import DIALECTS
from tests.integration.conftest import MakeProxy, RunningProxy
from tests.support.api_schemas import assert_anthropic_message

ASK: Any = [{"role": "user", "content": "Count to three."}]
REPORTS_STOP_WORD = {"llama-server"}


def client(proxy: RunningProxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=proxy.url, api_key="unused", max_retries=0, timeout=30)


def create(proxy: RunningProxy, *, stream: bool, stops: list[str]) -> anthropic.types.Message:
    kwargs: Any = {"model": "chatml", "max_tokens": 100, "messages": ASK, "stop_sequences": stops}
    if not stream:
        raw = client(proxy).messages.with_raw_response.create(**kwargs)
        assert_anthropic_message(json.loads(raw.text()))
        return raw.parse()
    with client(proxy).messages.stream(**kwargs) as events:
        return events.get_final_message()


def sent_stops(proxy: RunningProxy) -> list[str]:
    assert proxy.upstream is not None
    body = proxy.upstream.generation_requests[-1].json or {}
    options = body.get("options") or {}
    found = [body.get(k) or options.get(k) for k in ("stop", "stopping_strings", "stop_sequence")]
    return [s for stops in found if stops for s in stops]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_matched_stop_sequence_is_named(
    make_proxy: MakeProxy, dialect: str, stream: bool
) -> None:
    proxy = make_proxy(dialect, wrapper="chatml")
    assert proxy.upstream is not None
    proxy.upstream.reply("One, two, three. ### Four, five.")
    message = create(proxy, stream=stream, stops=["END", "###"])
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == "###"
    assert [b.text for b in message.content if b.type == "text"] == ["One, two, three."]
    # Only an upstream that says which stop matched is sent the client's.
    assert ("###" in sent_stops(proxy)) == (dialect in REPORTS_STOP_WORD)
    assert "<|im_end|>" in sent_stops(proxy)  # the format's own stop always goes


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("dialect", ["llama-server", "ollama"])
def test_a_format_stop_or_no_match_is_end_turn(
    make_proxy: MakeProxy, dialect: str, stream: bool
) -> None:
    proxy = make_proxy(dialect, wrapper="chatml")
    assert proxy.upstream is not None
    proxy.upstream.reply("Done here.<|im_end|> ### leftover", "No stop in this one.")
    for expected in ("Done here.", "No stop in this one."):
        message = create(proxy, stream=stream, stops=["###"])
        assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
        assert [b.text for b in message.content if b.type == "text"] == [expected]
