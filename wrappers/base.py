"""The wrapper contract: MemGPT's ``LLMChatCompletionWrapper`` plus what fcproxy needs.

A wrapper knows one model family's prompt format and how that model writes a
function call. MemGPT's public API is two methods::

    prompt = wrapper.chat_completion_to_prompt(messages, functions)
    message = wrapper.output_to_chat_completion_response(raw_llm_output)
    # message == {"role": "assistant", "content": "inner thoughts",
    #             "function_call": {"name": "send_message", "arguments": "{...}"}}

A wrapper written for MemGPT works in fcproxy unchanged. fcproxy's pipeline
calls :meth:`LLMChatCompletionWrapper.render` and
:meth:`LLMChatCompletionWrapper.parse`, whose default implementations are
built on those two methods; built-in wrappers override them to add stop
sequences, first-message prefills and parallel calls.

``messages`` are OpenAI chat messages in the legacy *functions* dialect
(assistant turns carry ``function_call``, results come as ``role: function``)
and ``functions`` are OpenAI function definitions (``name``, ``description``,
``parameters``): exactly what MemGPT 0.1 passed. The pipeline converts the
``tools`` dialect into that shape before a wrapper sees it, so a wrapper
handles one dialect only.
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from wrappers.streaming import Snapshot

Message = dict[str, Any]
#: How a call grammar constrains an answer under ``tool_choice: "auto"`` (RenderOptions).
AutoGrammar = Literal["none", "lazy", "text-or-call"]
FunctionSchema = dict[str, Any]


def new_call_id() -> str:
    """An OpenAI-style tool call id (``call_`` + 24 hex characters)."""
    return "call_" + os.urandom(12).hex()


@dataclass(frozen=True)
class ToolCall:
    """One function call the model made; ``arguments`` is always a JSON string."""

    name: str
    arguments: str
    id: str = field(default_factory=new_call_id)


@dataclass(frozen=True)
class ParsedOutput:
    """What a wrapper read out of the model's raw text."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning_content: str | None = None


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt and everything the backend needs to generate from it.

    ``grammar`` is GBNF and ``json_schema`` a JSON schema of the expected call,
    for backends that constrain decoding; both are optional hints.
    """

    text: str
    stop: list[str] = field(default_factory=list)
    grammar: str | None = None
    json_schema: dict[str, Any] | None = None
    #: Non-empty: ``grammar`` is lazy, it applies from the first of these words
    #: on (llama.cpp's ``grammar_lazy`` + ``grammar_triggers``); text before is free.
    grammar_triggers: list[str] = field(default_factory=list)


class WrapperParseError(ValueError):
    """The model's output holds no function call this wrapper can read.

    ``raw`` keeps the output so the caller can show its start in an error.
    """

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


@dataclass(frozen=True)
class RenderOptions:
    """Per-request facts a wrapper may use when rendering.

    ``first_message``: the agent's first reply in this conversation (MemGPT's
    wrappers prefill ``send_message`` then). ``forced_function``: the client
    named the function to call (``function_call: {"name": ...}``).
    ``call_required``: the client requires some call (``tool_choice:
    "required"``). ``allow_calls``: false under ``"none"``. ``grammar``: the
    backend accepts a GBNF grammar, so a wrapper that can should return one
    in :attr:`Prompt.grammar` (and drop any prefill the grammar replaces).
    ``json_schema``: the same for backends constrained by a JSON schema
    (:attr:`Prompt.json_schema`). ``auto_grammar``: under ``auto``, how a
    format with a call grammar may constrain: ``lazy`` (the upstream takes
    grammar triggers), ``text-or-call`` (a grammar of free text then calls),
    ``none``.
    """

    first_message: bool = False
    forced_function: str | None = None
    call_required: bool = False
    allow_calls: bool = True
    grammar: bool = False
    json_schema: bool = False
    #: May the answer hold several calls (``parallel_tool_calls``)?
    parallel_calls: bool = True
    auto_grammar: AutoGrammar = "none"


class LLMChatCompletionWrapper(ABC):
    """Base class of every wrapper (MemGPT's public API, extended).

    Names are given by the registry (``wrappers/registry.py``), not the
    class: one class may be registered under several names with different
    constructor options, as MemGPT did (``zephyr-7B`` / ``zephyr-7B-grammar``).
    """

    #: Can the format express several calls in one answer?
    supports_parallel_calls: ClassVar[bool] = False

    @abstractmethod
    def chat_completion_to_prompt(
        self, messages: list[Message], functions: list[FunctionSchema], **kwargs: Any
    ) -> str:
        """Render the conversation and function list as one prompt string."""

    @abstractmethod
    def output_to_chat_completion_response(self, raw_llm_output: str, **kwargs: Any) -> Message:
        """Turn the model's raw text into an assistant message dict.

        The dict has ``role``, ``content`` and, when the model called a
        function, ``function_call: {"name": str, "arguments": str}``. Raise
        :class:`WrapperParseError` (or any ``ValueError``) when the text holds
        no readable call.
        """

    # ---- fcproxy extensions, with defaults on top of MemGPT's two methods ----

    def stop_sequences(self) -> list[str]:
        """Strings that end the model's turn in this format."""
        return []

    def render(
        self,
        messages: list[Message],
        functions: list[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> Prompt:
        """Render a :class:`Prompt` for the backend."""
        return Prompt(
            text=self.chat_completion_to_prompt(messages, functions),
            stop=self.stop_sequences(),
        )

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        """Read content and calls out of the model's raw text.

        Raises :class:`WrapperParseError` when no call can be read; the
        pipeline decides whether that is an error (call required) or plain
        content (``auto``).
        """
        try:
            message = self.output_to_chat_completion_response(raw)
        except WrapperParseError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise WrapperParseError(f"{type(exc).__name__}: {exc}", raw) from exc
        return parsed_output_from_message(message)

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        """What is certain about the output so far (``text``, a prefix of the output).

        Each field of the :class:`~wrappers.streaming.Snapshot` must be a
        prefix of what :meth:`parse` returns for the whole output, whatever
        follows. The default knows nothing until the end: the answer is then
        sent in one piece. Formats that can tell more override it.
        """
        from wrappers.streaming import EMPTY

        return EMPTY


class NativeWrapper(LLMChatCompletionWrapper):
    """Base of wrappers written against fcproxy's :meth:`render` and :meth:`parse`.

    MemGPT's two methods are derived from those, the reverse of the base
    class's defaults, so a subclass implements each piece of logic once.
    """

    @abstractmethod
    def render(
        self,
        messages: list[Message],
        functions: list[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> Prompt: ...

    @abstractmethod
    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput: ...

    def chat_completion_to_prompt(
        self, messages: list[Message], functions: list[FunctionSchema], **kwargs: Any
    ) -> str:
        return self.render(messages, functions).text

    def output_to_chat_completion_response(self, raw_llm_output: str, **kwargs: Any) -> Message:
        parsed = self.parse(raw_llm_output, kwargs.get("functions", ()))
        message: Message = {"role": "assistant", "content": parsed.content}
        if parsed.tool_calls:
            first = parsed.tool_calls[0]
            message["function_call"] = {"name": first.name, "arguments": first.arguments}
        return message


def parsed_output_from_message(message: Message) -> ParsedOutput:
    """Convert a MemGPT-style assistant message dict into a :class:`ParsedOutput`."""
    calls: list[ToolCall] = []
    function_call = message.get("function_call")
    if function_call:
        calls.append(
            ToolCall(
                name=str(function_call["name"]),
                arguments=arguments_as_json_string(function_call.get("arguments", {})),
            )
        )
    for tool_call in message.get("tool_calls") or []:
        function = tool_call.get("function", tool_call)
        calls.append(
            ToolCall(
                name=str(function["name"]),
                arguments=arguments_as_json_string(function.get("arguments", {})),
            )
        )
    content = message.get("content")
    return ParsedOutput(
        content=content if isinstance(content, str) and content != "" else None,
        tool_calls=calls,
        reasoning_content=message.get("reasoning_content"),
    )


def arguments_as_json_string(arguments: Any) -> str:
    """OpenAI wants ``arguments`` as a JSON *string*; accept dicts or strings."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, ensure_ascii=False)
