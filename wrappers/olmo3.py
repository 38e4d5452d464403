"""AI2 OLMo 3: Python calls, one per line, in ``<function_calls>`` tags.

The format of OLMo 3's tool-use template (vLLM
``examples/tool_chat_template_olmo3.jinja``; parser
``vllm/tool_parsers/olmo3_tool_parser.py``). ChatML turns; the system turn
holds the instructions and the functions as JSON lines in ``<functions>``::

    <|im_start|>system
    You are a helpful function-calling AI assistant.

    You have access to the following functions. To call functions, respond with a pythonic function call wrapped in <function_calls></function_calls> XML tags.
    ...
    Here are the available functions:
    <functions>
    {"name": "get_weather", "parameters": {...}}
    </functions><|im_end|>
    <|im_start|>user
    What is the weather in Paris and in Rome?<|im_end|>
    <|im_start|>assistant

and the model answers::

    <function_calls>
    get_weather(city='Paris')
    get_weather(city='Rome')
    </function_calls>

Calls are read with :mod:`ast` (literals only, JSON's ``true`` / ``null`` too,
as in :mod:`wrappers.python_calls`); a Python list of calls between the tags
reads as well. Results come back as ``tool`` turns.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, WrapperParseError
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count, calls_grammar, literal
from wrappers.python_calls import (
    PYTHON_VALUES,
    SINGLE_QUOTED_CHAR,
    NotACallList,
    parse_call_list,
    python_call,
)
from wrappers.registry import WrapperEntry
from wrappers.tool_format import ExtractedCall, Extraction, ToolFormatWrapper

FUNCTION_CALLS = "<function_calls>"
FUNCTION_CALLS_END = "</function_calls>"
IM_END = "<|im_end|>"
DEFAULT_SYSTEM = "You are a helpful function-calling AI assistant."
TOOLS_INSTRUCTIONS = (
    "\n\nYou have access to the following functions. To call functions, respond with a "
    "pythonic function call wrapped in <function_calls></function_calls> XML tags."
    "\n\nFor example, to call a function named 'get_weather' with parameters city='New York' "
    "and units='celsius', respond with:"
    "\n<function_calls>\nget_weather(city='New York', units='celsius')\n</function_calls>"
    "\n\nYou can call multiple functions by putting each call on a new line within the tags:"
    "\n<function_calls>\nfunction1(param1='value1')\nfunction2(param2='value2')\n"
    "</function_calls>\n\nHere are the available functions:\n<functions>\n"
)
NO_TOOLS = "\nYou do not currently have access to any functions."


def template_value(value: Any) -> str:
    """An argument as the template writes it: strings in single quotes, JSON otherwise.

    The template does not escape a quote, backslash or newline inside a
    string (``'Martha's'`` is no Python); fcproxy does, so the history stays
    readable by the model's own parser.
    """
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
        return f"'{escaped}'"
    return json.dumps(value, ensure_ascii=False)


#: Python strings (the template's single quotes, or double), JSON's constants
#: (the template writes ``true``, ``null``), as :func:`template_value` does.
OLMO3_VALUES = dataclasses.replace(
    PYTHON_VALUES,
    name="olmo3",
    write=template_value,
    string_quotes=("'", "'"),
    string_char=SINGLE_QUOTED_CHAR,
)


def call_line(call: CallRecord) -> str:
    arguments = ", ".join(f"{key}={template_value(v)}" for key, v in call.arguments.items())
    return f"{call.name}({arguments})"


def calls_in_block(payload: str, text: str) -> list[ExtractedCall]:
    """The calls between the tags: one per line (statements), or a Python list."""
    try:
        module = ast.parse(payload.strip())
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise WrapperParseError(f"an OLMo 3 call is not Python: {exc}", text) from exc
    sources = [ast.get_source_segment(payload.strip(), stmt) or "" for stmt in module.body]
    if not sources or not all(isinstance(stmt, ast.Expr) for stmt in module.body):
        raise WrapperParseError("<function_calls> holds no call", text)
    # Each line is a call (or a list of them): read as one list, literals only.
    listed = sources[0] if len(sources) == 1 else "[" + ", ".join(sources) + "]"
    try:
        calls = parse_call_list(listed)
    except NotACallList as exc:
        raise WrapperParseError(f"unreadable OLMo 3 call: {exc}", text) from exc
    return calls


class Olmo3Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = FUNCTION_CALLS
    grammar_trigger: ClassVar[str] = FUNCTION_CALLS
    stop: ClassVar[tuple[str, ...]] = (IM_END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = "<|im_start|>system\n" + (system.strip() or DEFAULT_SYSTEM)
        if functions:
            out += TOOLS_INSTRUCTIONS
            out += "\n".join(json.dumps(dict(f), ensure_ascii=False) for f in functions)
            out += "\n</functions>"
        else:
            out += NO_TOOLS
        out += f"{IM_END}\n"
        for turn in turns:
            content = (turn.content or "").strip()
            if turn.kind == "assistant" and turn.calls:
                lines = "\n".join(call_line(call) for call in turn.calls)
                out += f"<|im_start|>assistant\n{FUNCTION_CALLS}\n{lines}\n{FUNCTION_CALLS_END}"
            elif turn.kind == "function":
                returned = f"Function {turn.name} returned:\n" if turn.name else ""
                out += f"<|im_start|>tool\n{returned}{content}"
            else:
                out += f"<|im_start|>{turn.role}\n{content}"
            out += f"{IM_END}\n"
        return out + "<|im_start|>assistant\n"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # One call a line between the tags, as the system prompt shows.
        return calls_grammar(
            functions,
            python_call(OLMO3_VALUES),
            only=only,
            max_calls=call_count(parallel, only),
            start=literal(FUNCTION_CALLS + "\n"),
            separator=literal("\n"),
            end=literal("\n" + FUNCTION_CALLS_END),
        )

    def extract_calls(self, text: str) -> Extraction:
        content = ""
        calls: list[ExtractedCall] = []
        position = 0
        while (start := text.find(FUNCTION_CALLS, position)) != -1:
            content += text[position:start]
            end = text.find(FUNCTION_CALLS_END, start)
            if end == -1:
                raise WrapperParseError("a <function_calls> block is cut off", text)
            calls.extend(calls_in_block(text[start + len(FUNCTION_CALLS) : end], text))
            position = end + len(FUNCTION_CALLS_END)
        return Extraction(content + text[position:], calls)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="olmo3",
        factory=Olmo3Wrapper,
        aliases=("olmo-3", "olmo3-instruct", "olmo-3-instruct"),
        description="AI2 OLMo 3 <function_calls>f(a=1)\\ng(b=2)</function_calls>, ChatML turns",
        family="tool-call",
    )
]
