"""The ``jinja`` wrapper: the model's own chat template renders the prompt.

Every instruct model ships a Jinja chat template (``chat_template`` in its
``tokenizer_config.json``; llama.cpp's ``/props`` reports the one in the
GGUF). Rendering with it gives the model exactly the prompt it was trained
on, tool descriptions included, for models no hand-written wrapper covers::

    wrapper = JinjaTemplateWrapper.from_template(load_template("qwen2.5.jinja"))
    prompt = wrapper.render(messages, functions, RenderOptions())
    # <|im_start|>system ... # Tools ... <tools>{"type": "function", ...}</tools> ...
    # <|im_start|>user\\nWhat is the weather in Paris?<|im_end|>\\n<|im_start|>assistant\\n
    parsed = wrapper.parse(model_output, functions)   # read by the ``hermes`` parser

Rendering follows Hugging Face's ``apply_chat_template``
(``transformers/utils/chat_template_utils.py``, ``_compile_jinja_template``):
an ``ImmutableSandboxedEnvironment`` with ``trim_blocks`` and
``lstrip_blocks``, the ``loopcontrols`` extension and ``{% generation %}``
tag (plus ``do``, harmless where nothing can be mutated), HF's ``tojson`` filter
(``ensure_ascii=False``, ``indent``), ``raise_exception`` and
``strftime_now``; ``messages``, ``tools`` (``[{"type": "function",
"function": {...}}]``), ``documents``, ``add_generation_prompt=True``,
``bos_token`` and ``eos_token`` are the variables. The sandbox stops a
template (which may come from a URL or the upstream) from reaching Python
internals or mutating anything.

fcproxy hands wrappers the *functions* dialect; templates expect the
*tools* dialect, so messages are converted back: assistant ``function_call``
turns become ``tool_calls`` with ids (consecutive call turns merged back
into one answer where the template can print that; Llama 3.1's cannot),
``role: function`` becomes ``role: tool`` with the matching ``tool_call_id``
and ``name``, content is a string (None on a call turn without text, as
OpenAI sends it, unless the template needs a string).

Parsing is delegated: the template's tool-call markers pick the parser
(:func:`wrappers.template_detection.wrapper_for_template`), or one is named
explicitly. So the ``jinja`` wrapper is the model's template plus the parser
for the format that template teaches.

What a template can print is found the way llama.cpp's minja finds it
(google/minja ``include/minja/chat-template.hpp``, its capability probes):
probe conversations carrying marker values show whether the template prints
tools, tool calls (as objects or JSON strings), tool results and a system
message. What it cannot print is written into the conversation instead (the
function list in the system prompt, calls and results as JSON text), so the
model still sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.ext import Extension
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from wrappers.base import (
    FunctionSchema,
    LLMChatCompletionWrapper,
    Message,
    NativeWrapper,
    ParsedOutput,
    Prompt,
    RenderOptions,
    WrapperParseError,
)
from wrappers.conversation import Turn, arguments_dict, merge_parallel_calls, split_conversation
from wrappers.memgpt_format import MemGPTStyleWrapper
from wrappers.registry import find_entry, get_wrapper
from wrappers.streaming import Snapshot
from wrappers.template_detection import GENERIC_JSON, wrapper_for_template
from wrappers.template_errors import (
    JINJA_WRAPPER_NAME,
    ChatTemplateError,
    TemplateSourceError,
)

#: The name routing recognises in ``wrapper:`` (not a registry entry: it needs a template).
#: How long :func:`load_template` waits for a template URL.
URL_TIMEOUT_SECONDS = 10.0


class UnsafeTemplateError(ChatTemplateError):
    """The template tried what the sandbox forbids (Python internals, mutation)."""


class _TemplateRaised(jinja2.TemplateError):
    """Raised by the template's own ``raise_exception(message)``."""


# ---- the Jinja environment (Hugging Face's) ----


def tojson(
    value: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    """HF's ``tojson``: Jinja's own escapes ``<``/``>``/``&`` for HTML, which would change prompts."""
    return json.dumps(
        value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def raise_exception(message: str) -> None:
    """What templates call to refuse a conversation."""
    raise _TemplateRaised(message)


class _GenerationTag(Extension):
    """HF's ``{% generation %}...{% endgeneration %}`` (marks tokens for training): just the body."""

    tags: ClassVar[set[str]] = {"generation"}  # type: ignore[misc]

    def parse(self, parser: Parser) -> nodes.Node | list[nodes.Node]:
        next(parser.stream)
        body: list[nodes.Node] = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return body


def chat_template_environment(
    clock: Callable[[], datetime] = datetime.now,
) -> ImmutableSandboxedEnvironment:
    """A sandboxed environment with the options and helpers HF chat templates rely on."""
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_GenerationTag, "jinja2.ext.loopcontrols", "jinja2.ext.do"],
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: clock().strftime(fmt)
    return env


# ---- special tokens and stop strings a template implies ----

#: (markers in the template, bos_token, eos_token), most specific first; for
#: templates whose tokenizer config is not at hand.
_SPECIAL_TOKEN_GUESSES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("<｜User｜>",), "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"),  # noqa: RUF001
    (("<|start_header_id|>",), "<|begin_of_text|>", "<|eot_id|>"),
    (("<|im_start|>",), "", "<|im_end|>"),
    (("[INST]",), "<s>", "</s>"),
    (("<start_of_turn>",), "<bos>", "<eos>"),
    (("<|START_OF_TURN_TOKEN|>",), "<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    (("<|start_of_role|>",), "", "<|end_of_text|>"),
    (("<|user|>", "<|end|>"), "<s>", "<|endoftext|>"),
    (("<|user|>",), "<s>", "</s>"),
)

#: Tokens that end a turn; those a template prints become stop strings.
END_OF_TURN_TOKENS: tuple[str, ...] = (
    "<|im_end|>",
    "<|eot_id|>",
    "<|eom_id|>",
    "<|end|>",
    "<end_of_turn>",
    "<|END_OF_TURN_TOKEN|>",
    "<｜end▁of▁sentence｜>",  # noqa: RUF001
    "<|end_of_text|>",
    "<|endoftext|>",
)

#: Text a generation prompt can end with that is the start of the answer
#: (Functionary v3.2 ends with ">>>"; the model writes "all\n..." or "name\n{...}").
_ANSWER_PREFIXES: tuple[str, ...] = (">>>",)


def guess_special_tokens(template: str) -> tuple[str, str]:
    """``(bos_token, eos_token)`` for a template's family, or ``("", "")``."""
    for markers, bos, eos in _SPECIAL_TOKEN_GUESSES:
        if all(marker in template for marker in markers):
            return bos, eos
    return "", ""


# ---- what a template can print (probed, as minja does) ----

_PROBE_FUNCTION = "fcproxy_probe_function"
_PROBE_OTHER_FUNCTION = "fcproxy_probe_other"
_PROBE_ARGUMENT = "fcproxy_probe_argument"
_PROBE_VALUE = "fcproxy-probe-value"
_PROBE_RESULT = "fcproxy-probe-result"
_PROBE_SYSTEM = "fcproxy-probe-system"
_PROBE_USER = "fcproxy-probe-user"


@dataclass(frozen=True)
class TemplateCapabilities:
    """What the template prints, found by rendering probe conversations.

    ``object_arguments``: call arguments go in as an object (most templates
    ``tojson`` them) rather than as a JSON string (Functionary v3.2 adds them
    to a string). ``no_tools``: the ``tools`` value for a request without
    functions (``None`` as HF passes; ``[]`` for tool-use-only templates that
    loop over ``tools`` unconditionally). ``answer_prefix``: text the
    generation prompt ends with that belongs to the answer.
    ``null_call_content``: a call turn without text has ``content: None``, as
    OpenAI sends it (DeepSeek R1's template prints an empty extra turn for
    ``""``); ``""`` for templates that concatenate the content.
    """

    system_role: bool = True
    tools: bool = True
    tool_calls: bool = True
    tool_responses: bool = True
    parallel_tool_calls: bool = True
    object_arguments: bool = True
    null_call_content: bool = True
    no_tools: list[Any] | None = None
    answer_prefix: str = ""


# ---- where templates come from ----


@dataclass(frozen=True)
class TemplateSource:
    """A template and, where its source says, the model's BOS/EOS tokens."""

    text: str
    bos_token: str | None = None
    eos_token: str | None = None


def load_template(source: str) -> str:
    """The chat template at ``source``: a file path or an ``http(s)://`` URL.

    The file may be the template itself (``.jinja``) or a JSON document
    holding one: HF's ``tokenizer_config.json`` / ``chat_template.json``
    or a saved llama.cpp ``/props`` answer. Raises :class:`TemplateSourceError`.
    """
    return load_template_source(source).text


def load_template_source(source: str) -> TemplateSource:
    """As :func:`load_template`, with the BOS/EOS tokens a ``tokenizer_config.json`` names."""
    if source.startswith(("http://", "https://")):
        text = _fetch(source)
    else:
        path = Path(source).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise TemplateSourceError(f"cannot read chat template {source!r}: {exc}") from exc
    return template_source_from_text(text, origin=source)


def _fetch(url: str) -> str:
    # Imported here: wrappers/ is HTTP-free except for this start-up fetch.
    import httpx

    try:
        response = httpx.get(url, timeout=URL_TIMEOUT_SECONDS, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise TemplateSourceError(f"cannot fetch chat template {url!r}: {exc}") from exc
    return response.text


def template_source_from_text(text: str, origin: str = "template") -> TemplateSource:
    """The template in ``text``: the text itself, or the ``chat_template`` of a JSON document.

    A list of named templates (HF's multi-template form) yields ``tool_use``
    if present (fcproxy renders tools), else ``default``, else the first.
    """
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except json.JSONDecodeError:
            document = None
        if isinstance(document, dict) and "chat_template" in document:
            return TemplateSource(
                text=_named_template(document["chat_template"], origin),
                bos_token=_token_text(document.get("bos_token")),
                eos_token=_token_text(document.get("eos_token")),
            )
    if not stripped:
        raise TemplateSourceError(f"{origin} holds no chat template")
    return TemplateSource(text=text)


def _named_template(value: Any, origin: str) -> str:
    if isinstance(value, list):
        named = {item.get("name"): item.get("template") for item in value if isinstance(item, dict)}
        value = named.get("tool_use") or named.get("default") or next(iter(named.values()), None)
    if not isinstance(value, str) or not value.strip():
        raise TemplateSourceError(f"{origin} has no usable chat_template")
    return value


def _token_text(value: Any) -> str | None:
    """A special token as ``tokenizer_config.json`` writes it: a string or ``{"content": ...}``."""
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


class UpstreamPropsLike(Protocol):
    """What an upstream says about itself (``proxy.backends.base.UpstreamProps`` fits)."""

    @property
    def chat_template(self) -> str | None: ...


@runtime_checkable
class ExposesProps(Protocol):
    """A backend that can report its chat template (llama.cpp's ``/props``)."""

    async def props(self) -> UpstreamPropsLike: ...


async def template_source_from_upstream(backend: object) -> TemplateSource | None:
    """The chat template the upstream reports, or None when it reports none.

    ``backend`` is any object with an async ``props()`` whose result has a
    ``chat_template`` attribute (and, if the server tells, ``bos_token`` /
    ``eos_token``); backends without ``props()`` give None. Errors of the
    request itself (upstream down) propagate.
    """
    if not isinstance(backend, ExposesProps):
        return None
    props = await backend.props()
    text = getattr(props, "chat_template", None)
    if not isinstance(text, str) or not text.strip():
        return None
    return TemplateSource(
        text=text,
        bos_token=_token_text(getattr(props, "bos_token", None)),
        eos_token=_token_text(getattr(props, "eos_token", None)),
    )


async def template_from_upstream(backend: object) -> str | None:
    """The upstream's chat template text (see :func:`template_source_from_upstream`)."""
    source = await template_source_from_upstream(backend)
    return source.text if source else None


# ---- the wrapper ----


class JinjaTemplateWrapper(NativeWrapper):
    """Renders with the model's chat template; parses with the matching format's wrapper.

    Build with :meth:`from_template`. ``parser`` is a wrapper name (or an
    instance); by default it is chosen from the template's tool-call markers.
    ``bos_token`` / ``eos_token`` default to the template family's (see
    :func:`guess_special_tokens`). ``variables`` are extra template variables
    (``enable_thinking``, ``date_string``, ...). ``strip_leading_bos``: drop
    the BOS the template prints at the start, because llama.cpp, vLLM and
    Ollama add their own when they tokenize (llama.cpp's chat code strips it
    the same way).
    """

    #: Variables the wrapper sets; ``variables`` may not override them.
    RESERVED_VARIABLES: ClassVar[frozenset[str]] = frozenset(
        {"messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token"}
    )

    def __init__(
        self,
        template: str,
        parser: str | LLMChatCompletionWrapper | None = None,
        *,
        bos_token: str | None = None,
        eos_token: str | None = None,
        variables: Mapping[str, Any] | None = None,
        strip_leading_bos: bool = True,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        guessed_bos, guessed_eos = guess_special_tokens(template)
        self.template_text = template
        self.bos_token = guessed_bos if bos_token is None else bos_token
        self.eos_token = guessed_eos if eos_token is None else eos_token
        self.variables = dict(variables or {})
        clash = self.RESERVED_VARIABLES & self.variables.keys()
        if clash:
            raise ValueError(f"template variables {sorted(clash)} are set by the wrapper")
        self.strip_leading_bos = strip_leading_bos
        try:
            self._template = chat_template_environment(clock).from_string(template)
        except jinja2.TemplateSyntaxError as exc:
            raise ChatTemplateError(
                f"the chat template does not compile (line {exc.lineno}): {exc.message}"
            ) from exc
        self.capabilities = self._probe_capabilities()
        self.parser_name, self.parser = self._parser(parser)
        self._fallback_parser = self._json_fallback_parser()
        self._stop = self._stop_strings()

    @classmethod
    def from_template(
        cls,
        text: str,
        parser: str | LLMChatCompletionWrapper | None = None,
        bos_token: str | None = None,
        eos_token: str | None = None,
        **options: Any,
    ) -> JinjaTemplateWrapper:
        """The wrapper for a template text (``options``: ``variables``, ``strip_leading_bos``)."""
        return cls(text, parser, bos_token=bos_token, eos_token=eos_token, **options)

    # ---- rendering ----

    def render(
        self,
        messages: list[Message],
        functions: list[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> Prompt:
        options = options or RenderOptions()
        offered = list(functions) if options.allow_calls else []
        chat = self.template_messages(messages, offered, options)
        if offered and self.capabilities.tools:
            tools: list[Any] | None = [{"type": "function", "function": dict(f)} for f in offered]
        else:
            tools = self.capabilities.no_tools
        return Prompt(text=self._render(chat, tools), stop=self.stop_sequences())

    def template_messages(
        self,
        messages: Sequence[Message],
        functions: Sequence[FunctionSchema] = (),
        options: RenderOptions | None = None,
    ) -> list[Message]:
        """``messages`` as the template receives them: tools dialect, with any polyfills applied."""
        caps = self.capabilities
        chat = tools_dialect_messages(
            messages,
            # Calls the template cannot print become text, and one answer's
            # calls belong in one turn of text.
            merge_calls=caps.parallel_tool_calls or not caps.tool_calls,
            object_arguments=caps.object_arguments,
            null_call_content=caps.null_call_content,
        )
        if functions and not caps.tools:
            chat = _with_system_text(chat, describe_functions(functions, options))
        if not caps.tool_calls:
            chat = [_calls_as_text(message) for message in chat]
        if not caps.tool_responses:
            chat = _results_as_user_turns(chat)
        if not caps.system_role:
            chat = _system_folded_into_user(chat)
        return chat

    def _render(self, chat: list[Message], tools: list[Any] | None) -> str:
        try:
            text = self._template.render(self._context(chat, tools))
        except SecurityError as exc:
            raise UnsafeTemplateError(
                f"the chat template tried something the sandbox forbids: {exc}"
            ) from exc
        except _TemplateRaised as exc:
            raise ChatTemplateError(
                f"the model's chat template rejected the conversation: {exc.message}"
            ) from exc
        except Exception as exc:  # a template can fail in any way Python can
            raise ChatTemplateError(
                f"the chat template failed to render: {type(exc).__name__}: {exc}"
            ) from exc
        if self.strip_leading_bos and self.bos_token:
            text = text.removeprefix(self.bos_token)
        return text

    def _context(self, chat: list[Message], tools: list[Any] | None) -> dict[str, Any]:
        return {
            **self.variables,
            "messages": chat,
            "tools": tools,
            "documents": None,
            "add_generation_prompt": True,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
        }

    def stop_sequences(self) -> list[str]:
        return list(self._stop)

    def _stop_strings(self) -> list[str]:
        stops = [token for token in END_OF_TURN_TOKENS if token in self.template_text]
        if self.eos_token:
            stops.append(self.eos_token)
        # A MemGPT wrapper's stop strings belong to its own prompt ("\nUSER", "\n#"),
        # and would cut answers short here; a tool-call format's are end-of-turn tokens.
        if not isinstance(self.parser, MemGPTStyleWrapper):
            stops.extend(self.parser.stop_sequences())
        return list(dict.fromkeys(stops))

    # ---- parsing ----

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        prefix = self.capabilities.answer_prefix
        if prefix and not raw.lstrip().startswith(prefix):
            raw = prefix + raw
        try:
            parsed = self.parser.parse(raw, functions, options)
        except WrapperParseError:
            if self._fallback_parser is None:
                raise
            return self._fallback_parser.parse(raw, functions, options)
        if not parsed.tool_calls and self._fallback_parser is not None:
            try:
                fallback = self._fallback_parser.parse(raw, functions, options)
            except WrapperParseError:
                return parsed
            if fallback.tool_calls:
                return fallback
        return parsed

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        if self._fallback_parser is not None:
            # Which of two parsers reads the output is only known at the end.
            return super().stream_snapshot(text, functions, options)
        prefix = self.capabilities.answer_prefix
        if prefix and not text.lstrip().startswith(prefix):
            text = prefix + text
        return self.parser.stream_snapshot(
            text, functions, options, starts_in_reasoning=starts_in_reasoning
        )

    # ---- construction ----

    def _parser(
        self, parser: str | LLMChatCompletionWrapper | None
    ) -> tuple[str, LLMChatCompletionWrapper]:
        if isinstance(parser, LLMChatCompletionWrapper):
            return type(parser).__name__, parser
        name = parser or wrapper_for_template(self.template_text)
        if name is None:
            raise ChatTemplateError(
                "no registered wrapper reads this chat template's tool calls;"
                " name one with the template_parser option"
            )
        if name.lower() == JINJA_WRAPPER_NAME:
            raise ChatTemplateError("the jinja wrapper cannot parse for itself; name a format")
        wrapper = get_wrapper(name)
        if isinstance(wrapper, MemGPTStyleWrapper):
            # The template wrote the prompt, so nothing was prefilled for the
            # parser to put back: the same parser as the format's -grammar variant.
            wrapper.constrained = True
        entry = find_entry(name)
        return (entry.name if entry else name), wrapper

    def _json_fallback_parser(self) -> LLMChatCompletionWrapper | None:
        """For templates that cannot describe tools: the function list asks for JSON calls.

        A MemGPT parser reads those itself; a tool-call format's parser may
        not, so ``generic-json`` reads what it misses (when it is installed).
        """
        if self.capabilities.tools or isinstance(self.parser, MemGPTStyleWrapper):
            return None
        if self.parser_name == GENERIC_JSON or find_entry(GENERIC_JSON) is None:
            return None
        return get_wrapper(GENERIC_JSON)

    def _probe_capabilities(self) -> TemplateCapabilities:
        user: Message = {"role": "user", "content": _PROBE_USER}
        base = self._probe([user], None)
        no_tools: list[Any] | None = None
        if base is None:
            # Tool-use-only templates (Hermes 2 Pro/3 "tool_use") loop over tools unconditionally.
            base = self._probe([user], [])
            no_tools = []
        if base is None or _PROBE_USER not in base:
            detail = self._failure([user], None)
            raise ChatTemplateError(
                f"the chat template cannot render a one-message conversation: {detail}"
            )
        caps = TemplateCapabilities(no_tools=no_tools)

        system = self._probe([{"role": "system", "content": _PROBE_SYSTEM}, user], no_tools)
        caps = replace(caps, system_role=system is not None and _PROBE_SYSTEM in system)

        probe_tools = [
            {"type": "function", "function": _probe_schema(name)}
            for name in (_PROBE_FUNCTION, _PROBE_OTHER_FUNCTION)
        ]
        with_tools = self._probe([user], probe_tools)
        caps = replace(caps, tools=with_tools is not None and _PROBE_FUNCTION in with_tools)

        tools = probe_tools if caps.tools else no_tools
        # (object_arguments, null_call_content), most faithful to OpenAI's shape first.
        shapes = [(True, True), (True, False), (False, True), (False, False)]
        # A shape must hold for a whole exchange: QwQ splits every assistant
        # content on "</think>", so content None only fails once a result follows.
        shape = next((s for s in shapes if self._shows_exchange(user, s, tools)), None)
        responses = shape is not None
        if shape is None:
            shape = next((s for s in shapes if self._shows_call(user, s, tools)), None)
        if shape is None:
            caps = replace(caps, tool_calls=False, parallel_tool_calls=False)
        else:
            caps = replace(caps, object_arguments=shape[0], null_call_content=shape[1])
            pair = _probe_call_turn([_PROBE_FUNCTION, _PROBE_OTHER_FUNCTION], *shape)
            rendered = self._probe([user, pair], tools)
            caps = replace(
                caps,
                parallel_tool_calls=rendered is not None and _PROBE_OTHER_FUNCTION in rendered,
            )
        if not responses:
            call_turn = _probe_call_turn(
                [_PROBE_FUNCTION], caps.object_arguments, caps.null_call_content
            )
            if not caps.tool_calls:
                call_turn = _calls_as_text(call_turn)
            rendered = self._probe([user, call_turn, _probe_result()], tools)
            responses = rendered is not None and _PROBE_RESULT in rendered
        caps = replace(caps, tool_responses=responses)

        prefix = next((p for p in _ANSWER_PREFIXES if base.endswith(p)), "")
        return replace(caps, answer_prefix=prefix)

    def _shows_call(self, user: Message, shape: tuple[bool, bool], tools: list[Any] | None) -> bool:
        rendered = self._probe([user, _probe_call_turn([_PROBE_FUNCTION], *shape)], tools)
        return rendered is not None and _shows_probe_call(rendered)

    def _shows_exchange(
        self, user: Message, shape: tuple[bool, bool], tools: list[Any] | None
    ) -> bool:
        """A call, its result, an answer and a next question all render."""
        exchange = [
            user,
            _probe_call_turn([_PROBE_FUNCTION], *shape),
            _probe_result(),
            {"role": "assistant", "content": "fcproxy-probe-answer"},
            {"role": "user", "content": "fcproxy-probe-again"},
        ]
        rendered = self._probe(exchange, tools)
        return rendered is not None and _shows_probe_call(rendered) and _PROBE_RESULT in rendered

    def _probe(self, chat: list[Message], tools: list[Any] | None) -> str | None:
        """The template's output for a probe conversation, or None if it refuses it."""
        try:
            return str(self._template.render(self._context(chat, tools)))
        except SecurityError as exc:
            raise UnsafeTemplateError(
                f"the chat template tried something the sandbox forbids: {exc}"
            ) from exc
        except Exception:  # any failure means "cannot print this"
            return None

    def _failure(self, chat: list[Message], tools: list[Any] | None) -> str:
        try:
            self._template.render(self._context(chat, tools))
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "the output does not contain the message"


def _probe_schema(name: str) -> FunctionSchema:
    return {
        "name": name,
        "description": "fcproxy probe",
        "parameters": {
            "type": "object",
            "properties": {_PROBE_ARGUMENT: {"type": "string", "description": "probe"}},
            "required": [_PROBE_ARGUMENT],
        },
    }


def _probe_call_turn(names: Sequence[str], object_arguments: bool, null_content: bool) -> Message:
    arguments: dict[str, Any] = {_PROBE_ARGUMENT: _PROBE_VALUE}
    return {
        "role": "assistant",
        "content": None if null_content else "",
        "tool_calls": [
            _tool_call(_call_id(index), name, arguments, object_arguments)
            for index, name in enumerate(names, start=1)
        ],
    }


def _probe_result() -> Message:
    return {
        "role": "tool",
        "tool_call_id": _call_id(1),
        "name": _PROBE_FUNCTION,
        "content": _PROBE_RESULT,
    }


def _shows_probe_call(rendered: str) -> bool:
    """The call's argument value is in the output as the template means to show it.

    Not double-encoded (string arguments ``tojson``-ed again: ``\\"value``) and
    not a Python repr (``{'argument': 'value'}`` from printing a dict). The
    value, not the argument name, is looked for: tool definitions hold the name.
    """
    return (
        _PROBE_VALUE in rendered
        and f'\\"{_PROBE_VALUE}' not in rendered
        and f"'{_PROBE_VALUE}'" not in rendered
    )


# ---- the conversation in the tools dialect ----


def _call_id(number: int) -> str:
    """Deterministic (the prompt stays byte-stable for the KV cache) and 9 alphanumerics
    (Mistral's templates refuse other ids)."""
    return f"call{number:05d}"


def _tool_call(
    call_id: str, name: str, arguments: dict[str, Any], object_arguments: bool
) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {
            "name": name,
            "arguments": arguments
            if object_arguments
            else json.dumps(arguments, ensure_ascii=False),
        },
    }


def tools_dialect_messages(
    messages: Sequence[Message],
    *,
    merge_calls: bool = True,
    object_arguments: bool = True,
    null_call_content: bool = True,
) -> list[Message]:
    """fcproxy's functions-dialect history as OpenAI tools-dialect messages.

    Assistant ``function_call`` -> ``tool_calls`` (ids ``call00001``, ...;
    with ``merge_calls``, consecutive call turns become one answer again);
    ``role: function`` -> ``role: tool`` whose ``tool_call_id`` is the
    earliest unanswered call of that name (else the earliest unanswered
    call). Content is a string, except on a call turn without text, where
    it is None (OpenAI's shape) unless ``null_call_content`` is false.
    """
    has_system = bool(messages) and str(messages[0].get("role", "")).lower() in (
        "system",
        "developer",
    )
    system, turns = split_conversation(messages)
    if merge_calls:
        turns = merge_parallel_calls(turns)
    out: list[Message] = [{"role": "system", "content": system}] if has_system else []
    pending: list[tuple[str, str]] = []  # (id, name) of calls not yet answered
    count = 0
    for turn in turns:
        if turn.kind == "assistant" and turn.calls:
            calls = []
            for call in turn.calls:
                count += 1
                calls.append(
                    _tool_call(_call_id(count), call.name, call.arguments, object_arguments)
                )
                pending.append((_call_id(count), call.name))
            content = turn.content or (None if null_call_content else "")
            out.append({"role": "assistant", "content": content, "tool_calls": calls})
        elif turn.kind == "function":
            call_id, name = _answered_call(pending, turn)
            if not call_id:
                count += 1
                call_id = _call_id(count)
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": call_id,
                    "name": name,
                    "content": turn.content or "",
                }
            )
        else:
            out.append({"role": turn.role, "content": turn.content or ""})
    return out


def _answered_call(pending: list[tuple[str, str]], turn: Turn) -> tuple[str, str]:
    """Take the call a result answers out of ``pending``: ``(id, name)``, ``("", name)`` if none."""
    for index, (call_id, name) in enumerate(pending):
        if turn.name is None or name == turn.name:
            del pending[index]
            return call_id, turn.name or name
    if pending:
        call_id, name = pending.pop(0)
        return call_id, turn.name or name
    return "", turn.name or ""


# ---- polyfills for what a template cannot print ----


def describe_functions(
    functions: Sequence[FunctionSchema], options: RenderOptions | None = None
) -> str:
    """The function list and the call format, for templates that cannot show tools."""
    options = options or RenderOptions()
    lines = [
        "You can call the following functions. To call one, answer with a JSON object"
        ' of this shape and nothing else: {"name": <function name>, "arguments": {<argument'
        " name>: <value>, ...}}",
        "",
        "Functions:",
        *(json.dumps(dict(f), ensure_ascii=False) for f in functions),
    ]
    if options.forced_function:
        lines += ["", f"You must call the function {options.forced_function}."]
    elif options.call_required:
        lines += ["", "You must call one of these functions."]
    return "\n".join(lines)


def _call_text(call: Mapping[str, Any]) -> str:
    function = call.get("function", call)
    arguments = arguments_dict(function.get("arguments"))
    return json.dumps(
        {"name": function.get("name", ""), "arguments": arguments}, ensure_ascii=False
    )


def _with_system_text(chat: list[Message], text: str) -> list[Message]:
    if chat and chat[0]["role"] == "system":
        system = chat[0]["content"]
        return [{**chat[0], "content": f"{system}\n\n{text}" if system else text}, *chat[1:]]
    return [{"role": "system", "content": text}, *chat]


def _calls_as_text(message: Message) -> Message:
    """An assistant call turn as text: content, then one JSON call per line."""
    calls = message.get("tool_calls")
    if not calls:
        return message
    lines = [message["content"]] if message.get("content") else []
    lines += [_call_text(call) for call in calls]
    return {"role": "assistant", "content": "\n".join(lines)}


def _results_as_user_turns(chat: list[Message]) -> list[Message]:
    """Results as user text, as minja's polyfill writes them.

    A result joins the user turn before it, and a user message joins the
    results before it: templates that insist on alternating roles (Gemma,
    Mistral v1) refuse two user turns in a row.
    """
    out: list[Message] = []
    joined = False  # out[-1] holds results
    for message in chat:
        if message["role"] == "tool":
            text = json.dumps(
                {"tool_response": {"tool": message.get("name", ""), "content": message["content"]}},
                ensure_ascii=False,
            )
            if out and out[-1]["role"] == "user":
                out[-1] = {**out[-1], "content": f"{out[-1]['content']}\n{text}"}
            else:
                out.append({"role": "user", "content": text})
            joined = True
        elif message["role"] == "user" and joined:
            out[-1] = {**out[-1], "content": f"{out[-1]['content']}\n{message['content']}"}
        else:
            out.append(message)
            joined = False
    return out


def _system_folded_into_user(chat: list[Message]) -> list[Message]:
    """For templates without a system role: the system prompt opens the first user turn."""
    if not chat or chat[0]["role"] != "system":
        return chat
    system, rest = chat[0]["content"], chat[1:]
    if rest and rest[0]["role"] == "user":
        return [{**rest[0], "content": f"{system}\n\n{rest[0]['content']}"}, *rest[1:]]
    return [{"role": "user", "content": system}, *rest]
