"""What MemGPT's local-LLM wrappers share, written once.

MemGPT (``memgpt/local_llm/llm_chat_completion_wrappers/``, tag 0.3.25)
shipped one prompt idea in several chat formats (airoboros, dolphin, zephyr,
chatml, llama3): the function list goes into the system prompt in a YAML-like
block, past calls are shown as JSON, and the model answers with one JSON
object::

    {
      "function": "send_message",
      "params": {
        "inner_thoughts": "User greeted me. Reply warmly.",
        "message": "Hi Chad!"
      }
    }

``inner_thoughts`` (the agent's private monologue) becomes the assistant
message's ``content`` and leaves the arguments. The prompt ends with the
start of that object already written (the *prefill*), so the model cannot
answer in prose; the parser puts the prefill back in front of the output.

This module holds the strings every format shares (byte-identical to
MemGPT's, so prompts match what MemGPT sent), the conversation
normalization, the function-list rendering and the answer parsing. A format
module only lays out turns: :meth:`MemGPTStyleWrapper.render_conversation`.

Where MemGPT crashed (a missing system message, ``content: None`` where it
concatenated strings, roles it asserted against), these helpers do the
obvious thing instead; where MemGPT produced a prompt, they produce the same
bytes, quirks included.
"""

from __future__ import annotations

import json
import re
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any, ClassVar, Literal

from wrappers.base import (
    FunctionSchema,
    LLMChatCompletionWrapper,
    Message,
    ParsedOutput,
    Prompt,
    RenderOptions,
    ToolCall,
    WrapperParseError,
)
from wrappers.conversation import (
    CallRecord,
    Turn,
    split_conversation,
)
from wrappers.grammar import memgpt_call_grammar, memgpt_call_schema
from wrappers.json_extract import extract_json_object, loads_object
from wrappers.json_key import json_key
from wrappers.memgpt_stream import memgpt_snapshot
from wrappers.registry import WrapperEntry
from wrappers.streaming import EMPTY, Snapshot

INNER_THOUGHTS_KWARG = "inner_thoughts"
INNER_THOUGHTS_DESCRIPTION = "Deep inner monologue private to you only."

SELECT_FUNCTION_INSTRUCTION = (
    "Please select the most suitable function and parameters from the list of available"
    " functions below, based on the ongoing conversation. Provide your response in JSON format."
)
AVAILABLE_FUNCTIONS = "Available functions:"
FUNCTION_RETURN = "FUNCTION RETURN:"

#: Prefill that makes the model start its answer with a call.
CALL_PREFILL = '\n{\n  "function":'
#: Older prefill (dolphin, zephyr, airoboros without inner monologue).
OPENING_BRACE_PREFILL = "\n{"

#: MemGPT's stop strings (``memgpt/local_llm/settings/simple.py``), which
#: MemGPT sent with every wrapper. The last one ends the answer after the
#: ``params`` object: the parser closes the braces it cuts off.
MEMGPT_STOP_SEQUENCES: tuple[str, ...] = (
    "\nUSER:",
    "\nASSISTANT:",
    "\nFUNCTION RETURN:",
    "\nUSER",
    "\nASSISTANT",
    "\nFUNCTION RETURN",
    "\nFUNCTION",
    "\nFUNC",
    "<|im_start|>",
    "<|im_end|>",
    "<|im_sep|>",
    "\n### ",
    "\n#",
    "  }\n}\n",
)

#: Where a format asks the model to write its inner monologue:
#: ``"params"``: ``{"function": ..., "params": {"inner_thoughts": ..., ...}}``;
#: ``"top-level"``: ``{"inner_thoughts": ..., "function": ..., "params": {...}}``;
#: ``"none"``: not asked for (``{"function": ..., "params": {...}}``).
InnerThoughtsPlacement = Literal["params", "top-level", "none"]

# OpenAI allows [a-zA-Z0-9_-]{1,64}; dots show up in namespaced tools.
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_NAME_KEYS = ("function", "name", "function_name")
_PARAMS_KEYS = ("params", "parameters", "arguments", "args")
_NO_FUNCTION = ("", "none", "null")


def forced_call_prefill(name: str) -> str:
    """Prefill that makes the model call ``name`` (MemGPT's first-message trick)."""
    return f'\n{{\n  "function": {json.dumps(name, ensure_ascii=False)},'


_MISSING = object()


def _json_or_missing(text: str | None) -> Any:
    if text is None:
        return _MISSING
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return _MISSING


def simplified_user_text(content: str | None) -> str:
    """MemGPT's ``simplify_json_content``: the ``message`` of a MemGPT user event.

    Anything else (other events, plain text) stays as it is. Formatting
    follows MemGPT's f-strings, so a null prints as ``None``.
    """
    value = _json_or_missing(content)
    if isinstance(value, dict) and "message" in value:
        return f"{value['message']}"
    return f"{content}"


def pretty_json_text(content: str | None, indent: int = 2) -> str:
    """JSON content re-indented (how chatml shows events and function results)."""
    if content is not None and len(content) <= _MAX_CACHED_CONTENT:
        # An agent sends its whole history every turn: re-indent each message once.
        return _pretty_json_text(content, indent)
    return _pretty_json_text.__wrapped__(content, indent)


#: Longer messages are re-indented every time (the cache holds at most ~16 MB).
_MAX_CACHED_CONTENT = 16_384


@lru_cache(maxsize=512)
def _pretty_json_text(content: str | None, indent: int) -> str:
    value = _json_or_missing(content)
    if value is _MISSING:
        return content or ""
    return json.dumps(value, indent=indent, ensure_ascii=False)


def user_event_type(content: str | None) -> Any:
    """The ``type`` of a MemGPT user event (``user_message``, ``heartbeat``...), or None."""
    value = _json_or_missing(content)
    return value.get("type") if isinstance(value, dict) else None


@dataclass(frozen=True)
class Conversation:
    """Everything a format lays out: the request, normalized, and MemGPT's extras."""

    system: str
    turns: list[Turn]
    functions: Sequence[FunctionSchema]
    #: The agent's first reply (formats that support it prefill ``send_message``).
    first_message: bool = False
    #: Replaces the function list (MemGPT's grammar generator wrote one).
    function_documentation: str | None = None


# ---- the function list and past calls ----


def function_list(
    conversation: Conversation,
    *,
    add_inner_thoughts: bool,
    instruction: str = SELECT_FUNCTION_INSTRUCTION,
) -> str:
    """The instruction, ``Available functions:`` and the functions, as MemGPT joined them.

    With ``function_documentation`` the instruction is always the standard
    one (so it was in MemGPT, even for chatml-noforce).
    """
    if conversation.function_documentation is not None:
        return (
            f"{SELECT_FUNCTION_INSTRUCTION}\n{AVAILABLE_FUNCTIONS}"
            f"\n{conversation.function_documentation}"
        )
    listing = describe_functions(conversation.functions, add_inner_thoughts=add_inner_thoughts)
    return f"{instruction}\n{AVAILABLE_FUNCTIONS}{listing}"


def describe_function(schema: FunctionSchema, *, add_inner_thoughts: bool) -> str:
    """One function in MemGPT's YAML-like layout::

        send_message:
          description: Sends a message to the human user.
          params:
            inner_thoughts: Deep inner monologue private to you only.
            message: Message contents. All unicode (including emojis) are supported.

    Types and ``required`` are not shown (MemGPT did not show them). MemGPT
    0.1 clients declare ``inner_thoughts`` themselves; it is listed once.
    """
    lines = [
        f"{schema.get('name', '')}:",
        f"  description: {schema.get('description', '')}",
        "  params:",
    ]
    if add_inner_thoughts:
        lines.append(f"    {INNER_THOUGHTS_KWARG}: {INNER_THOUGHTS_DESCRIPTION}")
    for key, spec in _properties(schema).items():
        if add_inner_thoughts and key == INNER_THOUGHTS_KWARG:
            continue
        lines.append(f"    {key}: {_param_description(spec)}")
    return "\n".join(lines)


def describe_functions(functions: Sequence[FunctionSchema], *, add_inner_thoughts: bool) -> str:
    """Every function, each on a new line (the block follows ``Available functions:``)."""
    # Clients send the same functions every turn: lay each list out once.
    return _described_functions(json_key(functions), add_inner_thoughts)


@lru_cache(maxsize=64)
def _described_functions(functions_json: str, add_inner_thoughts: bool) -> str:
    functions: list[FunctionSchema] = json.loads(functions_json)
    return "".join(
        "\n" + describe_function(schema, add_inner_thoughts=add_inner_thoughts)
        for schema in functions
    )


def _properties(schema: FunctionSchema) -> dict[str, Any]:
    parameters = schema.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    return properties if isinstance(properties, dict) else {}


def _param_description(spec: Any) -> Any:
    if not isinstance(spec, dict):
        return ""
    # MemGPT required a description; the type is the next best hint.
    return spec.get("description", spec.get("type", ""))


def declares_parameter(functions: Sequence[FunctionSchema], name: str, parameter: str) -> bool:
    """Does the request's schema for function ``name`` have this parameter?"""
    return any(
        schema.get("name") == name and parameter in _properties(schema) for schema in functions
    )


def call_json(
    call: CallRecord,
    *,
    inner_thoughts: str | None,
    placement: InnerThoughtsPlacement,
    indent: int = 2,
) -> str:
    """A past call as the JSON the model is asked to write.

    Arguments that carry their own ``inner_thoughts`` (MemGPT 0.1 history)
    keep it: MemGPT merged ``{"inner_thoughts": content, **arguments}``.
    """
    call_object: dict[str, Any]
    if placement == "params":
        params = {INNER_THOUGHTS_KWARG: inner_thoughts, **call.arguments}
        call_object = {"function": call.name, "params": params}
    elif placement == "top-level":
        call_object = {
            INNER_THOUGHTS_KWARG: inner_thoughts,
            "function": call.name,
            "params": dict(call.arguments),
        }
    else:
        call_object = {"function": call.name, "params": call.arguments}
    # The history's calls come again every turn: indent each one once.
    return _indented_json(json_key(call_object), indent)


@lru_cache(maxsize=512)
def _indented_json(value_json: str, indent: int) -> str:
    return json.dumps(json.loads(value_json), indent=indent, ensure_ascii=False)


# ---- reading the answer ----


@dataclass(frozen=True)
class Answer:
    """What a MemGPT-style answer says: inner thoughts and at most one call."""

    content: str | None
    name: str | None = None
    arguments: dict[str, Any] | None = None


def reattach_prefill(raw: str, prefill: str) -> str:
    """Put the text the prompt ended with back in front of the model's output.

    Some backends echo it; then it is already there (MemGPT compared the
    output's first characters with the prefill the same way).
    """
    if not prefill or raw.lstrip().startswith(prefill.lstrip()):
        return raw
    return prefill + raw


def read_answer(
    raw: str,
    *,
    prefill: str,
    functions: Sequence[FunctionSchema],
    placement: InnerThoughtsPlacement,
    allow_no_call: bool,
) -> Answer:
    """Read inner thoughts and the call out of the model's output.

    Tries the output with the prefill put back first (what MemGPT did), then
    the output alone, for models that ignore the prefill and start their own
    object. Raises :class:`WrapperParseError` when neither holds a call (or,
    where ``allow_no_call``, at least inner thoughts).
    """
    if "{" not in raw and "}" not in raw:
        # Prose. Checked before the prefill goes back on: '{"function":
        # "send_message",' + "Sure!" repairs into a call nobody made.
        raise WrapperParseError("the output holds no JSON object", raw)
    candidates = [reattach_prefill(raw, prefill)]
    if candidates[0] != raw:
        candidates.append(raw)
    problem = "no JSON object in the output"
    for text in candidates:
        try:
            found = extract_json_object(text)
            return interpret_answer(
                found, functions=functions, placement=placement, allow_no_call=allow_no_call
            )
        except WrapperParseError as exc:
            problem = str(exc)
    raise WrapperParseError(problem, raw)


def interpret_answer(
    found: dict[str, Any],
    *,
    functions: Sequence[FunctionSchema],
    placement: InnerThoughtsPlacement,
    allow_no_call: bool,
) -> Answer:
    """Turn the JSON object a model wrote into an :class:`Answer`."""
    outer_thoughts = found.get(INNER_THOUGHTS_KWARG)
    nested = _nested_call(found)
    if nested is not None:
        found = nested
        if isinstance(outer_thoughts, dict):
            outer_thoughts = None
    name = _call_name(found)
    params = _call_params(found)
    if name is not None and params is None:
        # MemGPT required "params" too; without it, prose after a prefilled
        # function name would pass for a call.
        raise WrapperParseError(f"the call to {name!r} has no params")
    params = params or {}
    inner = params.get(INNER_THOUGHTS_KWARG)
    outer = found.get(INNER_THOUGHTS_KWARG, outer_thoughts)
    first, second = (outer, inner) if placement == "top-level" else (inner, outer)
    content = _thoughts_text(first if first is not None else second)

    if name is None:
        if allow_no_call and content is not None:
            return Answer(content=content)
        raise WrapperParseError("the JSON object names no function")
    return Answer(
        content=content, name=name, arguments=_clean_arguments(name, params, content, functions)
    )


def _nested_call(found: dict[str, Any]) -> dict[str, Any] | None:
    """The whole call a model wrote *after* the prefill, which it ignored.

    ``{"function": {"function": ..., "params": ...}}`` after a
    ``{"function":`` prefill (MemGPT saw this too), or the same nested in
    ``"inner_thoughts"`` after an ``{"inner_thoughts":`` prefill.
    """
    for key in ("function", INNER_THOUGHTS_KWARG):
        value = found.get(key)
        if isinstance(value, dict) and any(k in value for k in _NAME_KEYS):
            return value
    return None


def _call_name(found: dict[str, Any]) -> str | None:
    for key in _NAME_KEYS:
        value = found.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise WrapperParseError(f"the function name is not a string: {value!r}")
        name = value.strip()
        if name.lower() in _NO_FUNCTION:
            return None
        if not _FUNCTION_NAME.fullmatch(name):
            raise WrapperParseError(f"{name[:80]!r} is not a function name")
        return name
    return None


def _call_params(found: dict[str, Any]) -> dict[str, Any] | None:
    for key in _PARAMS_KEYS:
        if key not in found:
            continue
        value = found[key]
        if value is None:
            return {}
        if isinstance(value, str):
            value = loads_object(value)
        if not isinstance(value, dict):
            raise WrapperParseError(f"the call's {key!r} is not an object")
        return value
    return None


def _thoughts_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _clean_arguments(
    name: str,
    params: dict[str, Any],
    content: str | None,
    functions: Sequence[FunctionSchema],
) -> dict[str, Any]:
    """MemGPT's argument cleaning, minus what would break the request's schema.

    MemGPT dropped ``inner_thoughts`` (it is the content now) and
    ``request_heartbeat`` from ``send_message``. A schema that declares
    either parameter (MemGPT 0.1 declared ``inner_thoughts``) gets it kept,
    so the arguments still satisfy the schema.
    """
    arguments = dict(params)
    if declares_parameter(functions, name, INNER_THOUGHTS_KWARG):
        if INNER_THOUGHTS_KWARG not in arguments and content is not None:
            arguments = {INNER_THOUGHTS_KWARG: content, **arguments}
    else:
        arguments.pop(INNER_THOUGHTS_KWARG, None)
    if name == "send_message" and not declares_parameter(functions, name, "request_heartbeat"):
        arguments.pop("request_heartbeat", None)
    return arguments


# ---- the shared wrapper ----


class MemGPTStyleWrapper(LLMChatCompletionWrapper):
    """Base of the MemGPT wrappers: prefill, stop strings and answer parsing.

    A subclass lays out the conversation in its chat format
    (:meth:`render_conversation`) and says where the model writes its
    inner monologue (``inner_thoughts``); everything else is here.

    The one constructor option, ``constrained``, makes a ``-grammar`` variant:

    ``constrained``
        A ``-grammar`` variant: MemGPT sent a grammar and no prefill (a
        prefill would clash with a grammar that starts at ``{``). These
        variants never prefill, not even for a forced function; the grammar
        is expected to do the forcing.
    """

    inner_thoughts: ClassVar[InnerThoughtsPlacement] = "params"
    #: MemGPT passed ``first_message`` only to wrappers that declared this.
    supports_first_message: ClassVar[bool] = False
    #: May an answer be inner thoughts alone (``"function": null``)?
    allows_no_call: ClassVar[bool] = False
    #: End-of-turn tokens some backends leave at the end of the output.
    end_of_turn_tokens: ClassVar[tuple[str, ...]] = ()
    #: Added after MemGPT's stop strings (which MemGPT shared across formats).
    extra_stop_sequences: ClassVar[tuple[str, ...]] = ()
    #: Text the prompt ends with, which the model continues.
    assistant_prefill: ClassVar[str] = CALL_PREFILL
    #: Used instead on the agent's first reply where ``supports_first_message``.
    first_message_prefill: ClassVar[str] = forced_call_prefill("send_message")

    def __init__(self, *, constrained: bool = False) -> None:
        self.constrained = constrained

    @abstractmethod
    def render_conversation(self, conversation: Conversation) -> str:
        """The prompt up to where the model's answer starts, prefill excluded."""

    # ---- rendering ----

    def uses_grammar(self, options: RenderOptions) -> bool:
        """Constrain this answer with a grammar? Only where a call must come.

        A format that lets the model answer without a call (``-noforce``) is
        left free under ``auto``: a grammar would force a call every time.
        """
        return (
            (options.grammar or options.json_schema)
            and options.allow_calls
            and (options.call_required or not self.allows_no_call)
        )

    def forced_name(
        self, functions: Sequence[FunctionSchema], options: RenderOptions
    ) -> str | None:
        """The one function this answer must call, if any."""
        if options.forced_function:
            return options.forced_function
        names = {f.get("name") for f in functions}
        if self._first_message(options) and "send_message" in names:
            return "send_message"
        return None

    def prefill(self, options: RenderOptions) -> str:
        """The text the prompt ends with; :meth:`parse` puts it back."""
        # A grammar starts at "{", so a prefill would clash with it (MemGPT's
        # -grammar variants dropped the prefill for the same reason).
        if self.constrained or not options.allow_calls or self.uses_grammar(options):
            return ""
        if options.forced_function:
            return forced_call_prefill(options.forced_function)
        if options.call_required and self.allows_no_call:
            return CALL_PREFILL
        if self._first_message(options):
            return self.first_message_prefill
        return self.assistant_prefill

    def _first_message(self, options: RenderOptions) -> bool:
        return options.first_message and self.supports_first_message

    def _prompt_text(
        self,
        messages: list[Message],
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        function_documentation: str | None = None,
    ) -> str:
        system, turns = split_conversation(messages)
        conversation = Conversation(
            system,
            turns,
            functions,
            first_message=self._first_message(options),
            function_documentation=function_documentation,
        )
        return self.render_conversation(conversation) + self.prefill(options)

    def chat_completion_to_prompt(
        self,
        messages: list[Message],
        functions: list[FunctionSchema],
        first_message: bool = False,
        function_documentation: str | None = None,
        **kwargs: Any,
    ) -> str:
        """MemGPT's API; ``function_documentation`` replaces the function list."""
        options = RenderOptions(first_message=first_message)
        return self._prompt_text(messages, functions, options, function_documentation)

    def render(
        self,
        messages: list[Message],
        functions: list[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> Prompt:
        options = options or RenderOptions()
        text = self._prompt_text(messages, functions, options)
        grammar = schema = None
        if self.uses_grammar(options) and functions:
            only = self.forced_name(functions, options)
            if options.grammar:
                grammar = memgpt_call_grammar(
                    functions, inner_thoughts=self.inner_thoughts, only=only
                )
            else:
                schema = memgpt_call_schema(
                    functions, inner_thoughts=self.inner_thoughts, only=only
                )
        return Prompt(text=text, stop=self.stop_sequences(), grammar=grammar, json_schema=schema)

    def stop_sequences(self) -> list[str]:
        return [*MEMGPT_STOP_SEQUENCES, *self.extra_stop_sequences]

    # ---- parsing ----

    def read(self, raw: str, functions: Sequence[FunctionSchema], options: RenderOptions) -> Answer:
        """Inner thoughts and call in ``raw``, the output of a prompt rendered with ``options``."""
        text = raw.rstrip()
        for token in self.end_of_turn_tokens:
            text = text.removesuffix(token)
        return read_answer(
            text,
            prefill=self.prefill(options),
            functions=functions,
            placement=self.inner_thoughts,
            allow_no_call=self.allows_no_call,
        )

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        if "{" not in text and "}" not in text:
            return EMPTY  # read_answer takes brace-less output for prose
        return memgpt_snapshot(
            reattach_prefill(text, self.prefill(options)),
            functions=functions,
            placement=self.inner_thoughts,
            valid_name=_FUNCTION_NAME.fullmatch,
            declares=declares_parameter,
        )

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        try:
            answer = self.read(raw, functions, options or RenderOptions())
        except WrapperParseError as exc:
            raise WrapperParseError(str(exc), raw) from exc
        calls = []
        if answer.name is not None:
            arguments = json.dumps(answer.arguments or {}, ensure_ascii=False)
            calls.append(ToolCall(name=answer.name, arguments=arguments))
        return ParsedOutput(content=answer.content or None, tool_calls=calls)

    def output_to_chat_completion_response(
        self,
        raw_llm_output: str,
        first_message: bool = False,
        functions: Sequence[FunctionSchema] = (),
        **kwargs: Any,
    ) -> Message:
        """MemGPT's API: ``{"role": "assistant", "content": ..., "function_call": ...}``."""
        answer = self.read(raw_llm_output, functions, RenderOptions(first_message=first_message))
        message: Message = {"role": "assistant", "content": answer.content}
        if answer.name is not None:
            message["function_call"] = {
                "name": answer.name,
                "arguments": json.dumps(answer.arguments or {}, ensure_ascii=False),
            }
        return message


def entries_with_grammar_variant(
    name: str,
    factory: Callable[..., MemGPTStyleWrapper],
    *,
    description: str,
    aliases: tuple[str, ...] = (),
    grammar_aliases: tuple[str, ...] = (),
) -> list[WrapperEntry]:
    """``name`` and ``name-grammar`` (the same format, no prefill), as MemGPT paired them."""
    return [
        WrapperEntry(
            name=name, factory=factory, aliases=aliases, description=description, family="memgpt"
        ),
        WrapperEntry(
            name=f"{name}-grammar",
            factory=partial(factory, constrained=True),
            aliases=grammar_aliases,
            description=f"{name} without a prefill, for grammar-constrained backends",
            family="memgpt",
        ),
    ]
