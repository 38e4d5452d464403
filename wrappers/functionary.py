"""MeetKai Functionary v3: ``>>>name\\n{...}`` (v3.2) and ``<function=name>{...}</function>`` (v3.1).

Both are Llama 3 fine-tunes with their own tool-call syntax; the parser
reads either, the two renderers follow MeetKai's two chat templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import (
    FunctionSchema,
    ParsedOutput,
    RenderOptions,
    WrapperParseError,
)
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count, marked_calls_grammar
from wrappers.llama3_layout import BEGIN_OF_TEXT, EOM, EOT, PYTHON_TAG, code_call, header
from wrappers.partial_json import parse_prefix, stable_dumps
from wrappers.registry import WrapperEntry
from wrappers.streaming import (
    EMPTY,
    PartialCall,
    Snapshot,
    compile_opener,
    held_text,
    safe_content_end,
)
from wrappers.tolerance import read_marked_json
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

RECIPIENT = ">>>"
FUNCTION_OPEN = "<function="
FUNCTION_CLOSE = "</function>"
# >>>name\n: a recipient is a name on its own line (">>> print(1)" in a
# Python session is not one).
_RECIPIENT_LINE = re.compile(r">>>([A-Za-z_][\w.-]*)[ \t]*\n")
_FUNCTION_TAG = re.compile(r"<function=([^>\s]+)>")
_PARTIAL_RECIPIENT_LINE = compile_opener(_RECIPIENT_LINE.pattern)

V32_SYSTEM = (
    "You are capable of executing available function(s) if required.\n"
    "Only execute function(s) when absolutely necessary.\n"
    "Ask for the required input to:recipient==all\n"
    "Use JSON for function arguments.\n"
    "Respond in this format:\n"
    ">>>${recipient}\n"
    "${content}\n"
    "Available functions:\n"
)
V31_INSTRUCTIONS = (
    "\nThink very carefully before calling functions.\n"
    "If a you choose to call a function ONLY reply in the following format:\n"
    "<{start_tag}={function_name}>{parameters}{end_tag}\n"
    "where\n\n"
    "start_tag => `<function`\n"
    "parameters => a JSON dict with the function argument name as key and function argument "
    "value as value.\n"
    "end_tag => `</function>`\n\n"
    "Here is an example,\n"
    '<function=example_function_name>{"example_name": "example_value"}</function>\n\n'
    "Reminder:\n"
    "- If looking for real time information use relevant functions before falling back to "
    "brave_search\n"
    "- Function calls MUST follow the specified format, start with <function= and end with "
    "</function>\n"
    "- Required parameters MUST be specified\n"
    "- Only call one function at a time\n"
    "- Put the entire function call reply on one line\n\n"
)


class FunctionaryV32Wrapper(ToolFormatWrapper):
    """Functionary v3.2 (small/medium): every message goes to a *recipient*.

    As MeetKai's v3.2 template (meetkai/functionary-medium-v3.2): the
    functions as a TypeScript namespace in the first system turn, the
    client's system prompt in a second one, and the answer prefilled with
    ``>>>``::

        <|begin_of_text|><|start_header_id|>system<|end_header_id|>

        You are capable of executing available function(s) if required.
        Only execute function(s) when absolutely necessary.
        Ask for the required input to:recipient==all
        Use JSON for function arguments.
        Respond in this format:
        >>>${recipient}
        ${content}
        Available functions:
        // Supported function definitions that should be called when necessary.
        namespace functions {

        // Get the current weather in a city.
        type get_weather = (_: {
        // City name, e.g. Paris.
        city: string,
        unit?: "celsius" | "fahrenheit",
        }) => any;

        } // namespace functions<|eot_id|><|start_header_id|>system<|end_header_id|>

        {system prompt}<|eot_id|><|start_header_id|>user<|end_header_id|>

        What is the weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>

        >>>

    The model names the recipient, ``all`` for the user, a function for a
    call, and may write several messages (parallel calls)::

        all
        Let me look.>>>get_weather
        {"city": "Paris"}>>>get_weather
        {"city": "Tokyo"}

    Results go back as ``tool`` turns. ``python`` with code rather than JSON
    is a call to ``python`` with ``{"code": ...}``. The parser also reads
    v3.1's ``<function=name>{...}</function>``.
    """

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        _RECIPIENT_LINE.pattern,
        _FUNCTION_TAG.pattern,
        re.escape(PYTHON_TAG),
    )
    call_start: ClassVar[str] = RECIPIENT
    call_pattern: ClassVar[re.Pattern[str]] = _RECIPIENT_LINE
    stop: ClassVar[tuple[str, ...]] = (EOT, EOM)

    #: The role results go back in, and what the prompt ends with.
    result_role: ClassVar[str] = "tool"
    prefill: ClassVar[str] = RECIPIENT

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # The prompt ends with the first ">>>": the answer starts at the name.
        # No grammar_trigger: ">>>all" (a message) starts the same way as a call.
        return marked_calls_grammar(
            functions,
            call_open="",
            name_sep="\n",
            between=RECIPIENT,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        # Both versions: the functions, then the client's system prompt as a turn of its own.
        out = BEGIN_OF_TEXT + header("system") + self.functions_prompt(functions) + EOT
        if system:
            out += header("system") + system + EOT
        for turn in turns:
            if turn.kind == "function":
                out += header(self.result_role) + (turn.content or "") + EOT
            elif turn.kind == "assistant":
                out += header("assistant") + self.assistant_turn(turn)
            else:
                out += header(turn.role) + (turn.content or "") + EOT
        return out + header("assistant") + self.prefill

    def functions_prompt(self, functions: Sequence[FunctionSchema]) -> str:
        return V32_SYSTEM + typescript_namespace(functions)

    def assistant_turn(self, turn: Turn) -> str:
        out = f"{RECIPIENT}all\n{turn.content}" if turn.content else ""
        out += "".join(f"{RECIPIENT}{c.name}\n{_arguments(c)}" for c in turn.calls)
        return out + EOT

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        # After the prefilled ">>>" the output starts with a recipient: put the marker back.
        if self.prefill and not raw.lstrip().startswith((RECIPIENT, FUNCTION_OPEN)):
            prefilled = self.prefill + raw.lstrip()
            if _RECIPIENT_LINE.match(prefilled):
                raw = prefilled
        return super().parse(raw, functions, options)

    def extract_calls(self, text: str) -> Extraction:
        return extract_functionary_calls(text)

    # ---- streaming ----

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        if self.prefill:
            # As parse() puts the prefilled ">>>" back: once it is clear whether
            # the output starts with a recipient.
            stripped = text.lstrip()
            if not stripped.startswith((RECIPIENT, FUNCTION_OPEN)):
                if RECIPIENT.startswith(stripped) or FUNCTION_OPEN.startswith(stripped):
                    return EMPTY
                prefilled = self.prefill + stripped
                line = _PARTIAL_RECIPIENT_LINE.match(prefilled, partial=True)
                if line is not None and line.partial:
                    return EMPTY
                if line is not None:
                    text = prefilled
        return super().stream_snapshot(
            text, functions, options, starts_in_reasoning=starts_in_reasoning
        )

    def stream_answer(
        self, rest: str, functions: Sequence[FunctionSchema], *, in_reasoning: bool
    ) -> tuple[str, list[PartialCall]]:
        # parse() strips the output's end before reading it: a ">>>name" line
        # with nothing after it yet may still be the last text, and then no line.
        rest = rest[: len(rest.rstrip())]
        syntax, first = first_syntax(rest)
        if syntax == "recipients":
            return _recipient_messages_so_far(rest, self._stop_suffixes, in_reasoning)
        end = self.content_end(rest)
        if syntax == "tags":
            calls = [] if in_reasoning else _function_tags_so_far(rest[first:])
            return held_text(rest[: min(first, end)]), calls
        return held_text(rest[:end]), []


class FunctionaryV31Wrapper(FunctionaryV32Wrapper):
    """Functionary v3.1 (small/medium): Llama 3.1 turns, ``<function=name>{...}</function>``.

    As MeetKai's v3.1 template (meetkai/functionary-medium-v3.1)::

        <|begin_of_text|><|start_header_id|>system<|end_header_id|>


        Cutting Knowledge Date: December 2023


        You have access to the following functions:

        Use the function 'get_weather' to 'Get the current weather in a city.'
        {"name": "get_weather", "description": "...", "parameters": {...}}


        Think very carefully before calling functions.
        If a you choose to call a function ONLY reply in the following format:
        <{start_tag}={function_name}>{parameters}{end_tag}
        ...
        - Put the entire function call reply on one line

        <|eot_id|><|start_header_id|>system<|end_header_id|>

        {system prompt}<|eot_id|><|start_header_id|>user<|end_header_id|>

        What is the weather in Paris?<|eot_id|><|start_header_id|>assistant<|end_header_id|>

    The model answers (several calls back to back, though the prompt asks
    for one)::

        <function=get_weather>{"city": "Paris"}</function><|eom_id|>

    Results go back as ``ipython`` turns; a turn with calls ends in
    ``<|eom_id|>``. The parser also reads v3.2's ``>>>`` recipients.
    """

    call_start: ClassVar[str] = FUNCTION_OPEN
    grammar_trigger: ClassVar[str] = FUNCTION_OPEN
    call_pattern: ClassVar[re.Pattern[str]] = _FUNCTION_TAG
    result_role: ClassVar[str] = "ipython"
    prefill: ClassVar[str] = ""

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return marked_calls_grammar(
            functions,
            call_open=FUNCTION_OPEN,
            name_sep=">",
            call_close=FUNCTION_CLOSE,
            only=only,
            max_calls=call_count(parallel, only),
        )

    def functions_prompt(self, functions: Sequence[FunctionSchema]) -> str:
        out = "\nCutting Knowledge Date: December 2023\n\n"
        if not functions:
            return out
        out += "\nYou have access to the following functions:\n\n"
        for f in functions:
            out += f"Use the function '{f['name']}' to '{f.get('description', '')}'\n"
            out += json.dumps(f, ensure_ascii=False) + "\n\n"
        return out + V31_INSTRUCTIONS

    def assistant_turn(self, turn: Turn) -> str:
        out = turn.content or ""
        for call in turn.calls:
            code = call.arguments.get("code")
            if call.name == "python" and isinstance(code, str):
                out += PYTHON_TAG + code
            else:
                out += f"{FUNCTION_OPEN}{call.name}>{_arguments(call)}{FUNCTION_CLOSE}"
        return out + (EOM if turn.calls else EOT)


def extract_functionary_calls(text: str) -> Extraction:
    """Calls in either Functionary v3 syntax, and the text around them."""
    syntax, _ = first_syntax(text)
    if syntax == "recipients":
        return _recipient_messages(text)
    if syntax == "tags":
        return _function_tags(text)
    return Extraction(text)


def first_syntax(text: str) -> tuple[str, int]:
    """Which syntax ``text`` is written in, and where its first marker starts.

    ``"recipients"`` (v3.2's ``>>>name``), ``"tags"`` (v3.1's
    ``<function=name>``, ``<|python_tag|>``) or ``""`` (no call marker).
    The first marker decides: a ``>>>name`` line quoted inside a v3.1 call's
    arguments does not turn the whole answer into v3.2 messages, and a
    streamed answer can tell which syntax it reads as soon as the first
    marker is whole.
    """
    recipient = _RECIPIENT_LINE.search(text)
    tag = _FUNCTION_TAG.search(text)
    starts = [s for s in (tag.start() if tag else -1, text.find(PYTHON_TAG)) if s != -1]
    tags = min(starts, default=-1)
    if recipient is not None and (tags == -1 or recipient.start() < tags):
        return "recipients", recipient.start()
    if tags != -1:
        return "tags", tags
    return "", -1


def _recipient_messages(text: str) -> Extraction:
    """v3.2: ``>>>recipient\\n`` starts each message; ``all`` is the user."""
    matches = list(_RECIPIENT_LINE.finditer(text))
    content = text[: matches[0].start()]
    calls: list[ExtractedCall] = []
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        body = text[match.end() : following.start() if following else len(text)]
        recipient = match.group(1)
        if recipient == "all":
            content += body
            continue
        call, rest = _recipient_call(recipient, body, text, after_calls=bool(calls))
        calls.append(call)
        content += rest
    return Extraction(content, calls)


def _recipient_call(
    recipient: str, body: str, text: str, *, after_calls: bool = False
) -> tuple[ExtractedCall, str]:
    try:
        # A message runs to the next >>> line; a cut-off one is mended only after complete calls.
        arguments, end = read_marked_json(body, 0, cut_off=after_calls)
    except json.JSONDecodeError as exc:
        if recipient == "python":
            return code_call(body), ""
        raise WrapperParseError(f"unreadable arguments for {recipient!r}: {exc}", text) from exc
    if not isinstance(arguments, dict):
        raise WrapperParseError(f"the arguments of {recipient!r} are not an object", text)
    return ExtractedCall(name=recipient, arguments=arguments), body[end:]


def _function_tags(text: str) -> Extraction:
    """v3.1: ``<function=name>{...}</function>``, and ``<|python_tag|>`` + code."""
    content = ""
    calls: list[ExtractedCall] = []
    position = 0
    while (match := _FUNCTION_TAG.search(text, position)) is not None:
        content += _before_python_tag(text[position : match.start()], calls)
        try:
            arguments, end = read_marked_json(
                text, match.end(), (FUNCTION_CLOSE,), cut_off=bool(calls)
            )
        except json.JSONDecodeError as exc:
            raise WrapperParseError(f"unreadable JSON after {match.group(0)}: {exc}", text) from exc
        if not isinstance(arguments, dict):
            raise WrapperParseError(f"the arguments of {match.group(1)!r} are not an object", text)
        calls.append(ExtractedCall(name=match.group(1), arguments=arguments))
        close = text.find(FUNCTION_CLOSE, end)
        gap = text[end:close] if close != -1 else ""
        position = close + len(FUNCTION_CLOSE) if close != -1 and not gap.strip() else end
    content += _before_python_tag(text[position:], calls)
    return Extraction(content, calls)


def _before_python_tag(segment: str, calls: list[ExtractedCall]) -> str:
    """The text of ``segment`` before a ``<|python_tag|>``; the code after it becomes a call."""
    before, tag, code = segment.partition(PYTHON_TAG)
    if tag:
        calls.append(code_call(code))
    return before


def _recipient_messages_so_far(
    text: str, stop_suffixes: Sequence[Any], in_reasoning: bool
) -> tuple[str, list[PartialCall]]:
    """:func:`_recipient_messages` on an output still being written.

    The content is the text before the first message and the ``all``
    messages up to the first call (what follows a call is sent at the end);
    the calls are the messages written so far.
    """
    matches = list(_RECIPIENT_LINE.finditer(text))
    content = text[: matches[0].start()]
    calls: list[PartialCall] = []
    content_open = True
    for index, match in enumerate(matches):
        last = index == len(matches) - 1
        if last:
            body = text[match.end() :]
            # The next recipient line, or the end-of-turn token, may be on its way.
            body = body[: safe_content_end(body, (_PARTIAL_RECIPIENT_LINE, *stop_suffixes))]
        else:
            body = text[match.end() : matches[index + 1].start()]
        recipient = match.group(1)
        if recipient == "all":
            content += body if content_open else ""
            continue
        content_open = False
        if in_reasoning:
            break
        if not last:
            try:
                call, _ = _recipient_call(recipient, body, text)
            except WrapperParseError:
                break
            calls.append(PartialCall(call.name, json.dumps(call.arguments, ensure_ascii=False)))
            continue
        found = parse_prefix(body) if recipient != "python" else None
        # python's body may be code rather than JSON: its arguments come at the end.
        arguments = found.value if found is not None else None
        calls.append(
            PartialCall(recipient, stable_dumps(arguments) if isinstance(arguments, dict) else "")
        )
    return held_text(content), calls


def _function_tags_so_far(text: str) -> list[PartialCall]:
    """The ``<function=name>{...}`` calls of ``text`` (which starts at the first tag) so far.

    Code after ``<|python_tag|>`` is sent whole at the end, and so is what follows it.
    """
    calls: list[PartialCall] = []
    position = 0
    while (match := _FUNCTION_TAG.search(text, position)) is not None:
        if PYTHON_TAG in text[position : match.start()]:
            break
        found = parse_prefix(text, match.end())
        if found is None or not isinstance(found.value, dict):
            break
        calls.append(PartialCall(match.group(1), stable_dumps(found.value)))
        if not found.complete:
            break
        position = found.end
    return calls


def _arguments(call: CallRecord) -> str:
    return json.dumps(call.arguments, ensure_ascii=False)


# ---- the TypeScript namespace of MeetKai's v3.2 template ----
# A port of the template's macros (generate_schema_from_functions and the
# ones it calls), quirks included: the model saw exactly this.

_NONE = "<|NONE|>"


def typescript_namespace(functions: Sequence[FunctionSchema]) -> str:
    """``namespace functions { ... }``: each function as a TypeScript type."""
    out = "// Supported function definitions that should be called when necessary.\n"
    out += "namespace functions {\n\n"
    for function in functions:
        function = function.get("function", function)
        name = function.get("name")
        if not name:
            continue
        parameters = _schema(function.get("parameters"))
        out += f"// {function.get('description', '')}\ntype {name}"
        if parameters and _schema(parameters.get("properties")):
            properties = _typescript_properties(
                _schema(parameters["properties"]), parameters.get("required", []), 0
            )
            out += " = (_: {" + properties + "\n}) => any;\n\n"
        else:
            out += " = () => any;\n\n"
    return out + "} // namespace functions"


def _typescript_properties(properties: dict[str, Any], required: Any, depth: int) -> str:
    out = ""
    offset = "    " * depth
    for name, param in properties.items():
        if not isinstance(param, dict):
            continue
        comment = _param_comment(param)
        examples = [f"Example {name}:", *_as_list(param["examples"])] if "examples" in param else []
        declaration = name if _is_required(name, required) else name + "?"
        param_type = _param_type(param)
        if param_type == "object":
            if comment != _NONE:
                out += f"\n{offset}{comment}"
            out += "".join(f"\n{offset}// {_example(e)}" for e in examples)
            out += f"\n{offset}{declaration}: {{"
            out += _typescript_properties(
                _schema(param.get("properties")), param.get("required", []), depth + 1
            )
            out += f"\n{offset}}},"
        elif param_type == "array":
            if "type" not in _schema(param.get("items")):
                out += _declaration(declaration + ": [],", comment, examples, depth)
            else:
                if comment != _NONE:
                    out += f"\n{offset}{comment}"
                out += "".join(f"\n{offset}// {_example(e)}" for e in examples)
                array = _typescript_array(declaration, param, depth)
                out += array if array.endswith(",") else array + ","
        else:
            if "enum" in param:
                param_type = _enum_options(_as_list(param["enum"]))
            if param.get("nullable"):
                param_type += " | null"
            out += _declaration(f"{declaration}: {param_type},", comment, examples, depth)
    return out


def _is_required(name: str, required: Any) -> bool:
    # The template adds "?" only when `required` is a list (or other iterable).
    return not isinstance(required, list | tuple | dict | str) or name in required


def _declaration(declaration: str, comment: str, examples: list[Any], depth: int) -> str:
    offset = "    " * depth
    out = ""
    if comment != _NONE:
        out += f"\n{offset}{comment}"
        out += "".join(f"\n{offset}// {_example(e)}" for e in examples)
    return out + f"\n{offset}{declaration}"


def _typescript_array(name: str | None, param: dict[str, Any], depth: int) -> str:
    offset = "    " * depth
    items = _schema(param.get("items"))
    if not items:
        return f"\n{offset}{name}: []" if name else f"\n{offset}[]"
    array_type = _param_type(items)
    if array_type == "object":
        out = f"\n{offset}{name}: {{" if name else f"\n{offset}{{"
        out += _typescript_properties(
            _schema(items.get("properties")), items.get("required", []), depth + 1
        )
        return out + f"\n{offset}}}[]"
    if array_type == "array":
        inner = _typescript_array(None, items, depth + 1)
        return f"\n{inner}[]" if not name else f"\n{offset}{name}: {inner.strip()}[]"
    if "enum" in items:
        options = _enum_options(_as_list(items["enum"]))
        return f"({options})[]" if name is None else f"\n{offset}{name}: ({options})[]"
    return f"\n{array_type}[]" if name is None else f"\n{offset}{name}: {array_type}[],"


def _param_type(param: dict[str, Any]) -> str:
    if "type" in param:
        raw = param["type"]
        return _typescript_type(" | ".join(raw) if isinstance(raw, list) else str(raw))
    if "oneOf" in param:
        types = [_jinja_str(item["type"]) for item in _schemas(param["oneOf"]) if "type" in item]
        unique = list(dict.fromkeys(types))
        return _typescript_type(" | ".join(unique))
    return ""


def _typescript_type(param_type: str) -> str:
    return "number" if param_type in ("integer", "float") else param_type


def _format(param: dict[str, Any]) -> str:
    if "format" in param:
        return str(param["format"])
    if "oneOf" in param:
        options = _schemas(param["oneOf"])
        last = options[-1].get("format") if options else None
        return "".join(
            _jinja_str(item["format"]) + ("" if item["format"] == last else " or ")
            for item in options
            if "format" in item
        )
    return _NONE


def _param_comment(param: dict[str, Any]) -> str:
    param_type = param.get("type", "any")
    format_ = _format(param)
    bounds = ("maximum", "minimum", "maxLength", "minLength")
    if not (
        "description" in param
        or "default" in param
        or format_ != _NONE
        or any(param.get(field) for field in bounds)
    ):
        return _NONE
    out = "//"
    if "description" in param:
        description = str(param["description"])
        out += " " + (description if description.endswith(".") else description + ".")
    if "default" in param:
        default = param["default"]
        shown = f'"{default}"' if param_type == "string" else _jinja_str(default)
        out += f" Default={shown}."
    if format_ != _NONE:
        out += f" Format={format_}"
    names = ("Maximum", "Minimum", "Maximum length", "Minimum length")
    for field, label in zip(bounds, names, strict=True):
        if field in param:
            out += f" {label}={_jinja_str(param[field])}"
    return out


def _enum_options(options: list[Any]) -> str:
    out = ""
    for option in options:
        out += f'"{option}"' if isinstance(option, str) else _jinja_str(option)
        if options and option != options[-1]:
            out += " | "
    return out


def _schema(value: Any) -> dict[str, Any]:
    """A subschema as a dict: a boolean schema (``true``) or a wrong-typed value has no keywords."""
    return value if isinstance(value, dict) else {}


def _schemas(value: Any) -> list[dict[str, Any]]:
    """The dict subschemas of a list keyword (``oneOf``); anything else is none."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _example(example: Any) -> str:
    return _jinja_str(example).replace("'", '"')


def _jinja_str(value: Any) -> str:
    """What Jinja's ``~`` and ``|string`` print: Python's ``str``."""
    return str(value)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="functionary-v3",
        factory=FunctionaryV32Wrapper,
        aliases=(
            "functionary",
            "functionary-v3.2",
            "functionary-small-v3.2",
            "functionary-medium-v3.2",
        ),
        description="MeetKai Functionary v3.2 >>>recipient messages, TypeScript namespace of functions",
        family="tool-call",
    ),
    WrapperEntry(
        name="functionary-v3.1",
        factory=FunctionaryV31Wrapper,
        aliases=("functionary-small-v3.1", "functionary-medium-v3.1"),
        description="MeetKai Functionary v3.1 <function=name>{...}</function>, Llama 3.1 turns",
        family="tool-call",
    ),
]
