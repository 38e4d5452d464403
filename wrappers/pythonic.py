"""Pythonic tool calls: ``[get_weather(city="Paris"), get_time(tz="UTC")]``.

Llama 3.2 1B/3B and Llama 4 were trained to call tools with a Python list of
calls (Meta's "zero-shot function calling" prompt format); ToolACE and other
Llama 3.1 fine-tunes answer the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import CallRecord, Turn
from wrappers.grammar import call_count
from wrappers.llama3_layout import (
    BEGIN_OF_TEXT,
    DEFAULT_DATE,
    END_OF_TEXT,
    EOM,
    EOT,
    header,
    indented_tools,
    system_preamble,
)
from wrappers.python_calls import (
    CALL_LIST_START,
    call_list_triggers,
    find_call_lists,
    python_calls_grammar,
    python_literal,
)
from wrappers.registry import WrapperEntry
from wrappers.tool_format import Extraction, ToolFormatWrapper

DEFAULT_SYSTEM = (
    "You are a helpful assistant with tool calling capabilities. Only reply with a tool call "
    "if the function exists in the library provided by the user. If it doesn't exist, just "
    "reply directly in natural language. When you receive a tool call response, use the "
    "output to format an answer to the original user question."
)
TOOLS_INSTRUCTIONS = (
    "You have access to the following functions. To call functions, please respond with a "
    "python list of the calls. Respond in the format [func_name1(params_name1=params_value1, "
    "params_name2=params_value2...), func_name2(params)] Do not use variables.\n\n"
)


class PythonicWrapper(ToolFormatWrapper):
    """Llama 3.2 (and 3.3) pythonic calls, laid out as vLLM's Llama 3.2 pythonic template.

    The tools go into the system turn (vLLM's
    ``examples/tool_chat_template_llama3.2_pythonic.jinja``)::

        <|begin_of_text|><|start_header_id|>system<|end_header_id|>

        Environment: ipython
        Cutting Knowledge Date: December 2023
        Today Date: 26 Jul 2024

        You have access to the following functions. To call functions, please respond with a python list of the calls. Respond in the format [func_name1(params_name1=params_value1, params_name2=params_value2...), func_name2(params)] Do not use variables.

        {
            "type": "function",
            "function": {
                "name": "get_weather",
                ...
            }
        }

        {system prompt}<|eot_id|><|start_header_id|>user<|end_header_id|>

        What is the weather in Paris and in Tokyo?<|eot_id|><|start_header_id|>assistant<|end_header_id|>

    and the model answers with a Python list of calls (parallel calls)::

        [get_weather(city="Paris"), get_weather(city="Tokyo")]<|eot_id|>

    Results go back as ``ipython`` turns holding ``{"output": ...}``. The
    parser reads the list with :mod:`ast`, literals only; it also finds it
    after prose, in a code fence, between ``<|python_start|>`` and
    ``<|python_end|>`` (Llama 4) or after ``<|python_tag|>``.

    Where this differs from the template, on purpose: argument values in the
    history are written as Python literals (``city="Paris"``); the template
    prints them with ``%s`` (``city=Paris``), which no parser reads back.
    """

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (
        "\\[",
        "<\\|python_tag\\|>",
        "<\\|python_start\\|>",
        "```",
        "[A-Za-z_][\\w.]*\\s*\\(",
    )

    call_start: ClassVar[str] = "["
    #: Stricter than ``call_start`` (a ``[`` alone is common in prose): what
    #: :mod:`wrappers.detection` looks for.
    call_pattern: ClassVar[re.Pattern[str]] = CALL_LIST_START
    #: Under auto without lazy grammars, a ``[`` in the answer starts the call list.
    grammar_trigger: ClassVar[str] = "["
    #: Llama 4's end tokens too: the same calls come from either generation.
    stop: ClassVar[tuple[str, ...]] = (EOT, EOM, END_OF_TEXT, "<|eot|>", "<|eom|>")

    def __init__(self, date: str = DEFAULT_DATE) -> None:
        self.date = date

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BEGIN_OF_TEXT + header("system") + system_preamble(self.date, ipython=bool(functions))
        if functions:
            out += TOOLS_INSTRUCTIONS + indented_tools(functions)
        out += (system.strip() or DEFAULT_SYSTEM) + EOT
        for turn in turns:
            if turn.kind == "function":
                output = json.dumps({"output": turn.content or ""}, ensure_ascii=False)
                out += header("ipython") + output + EOT
            elif turn.kind == "assistant" and turn.calls:
                out += header("assistant") + call_list(turn.calls) + EOT
            else:
                out += header(turn.role) + (turn.content or "").strip() + EOT
        return out + header("assistant")

    def extract_calls(self, text: str) -> Extraction:
        return find_call_lists(text)

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return python_calls_grammar(functions, only=only, max_calls=call_count(parallel, only))

    def lazy_grammar_triggers(self, functions: Sequence[FunctionSchema]) -> list[str]:
        return call_list_triggers(functions)


LLAMA4_EOT = "<|eot|>"
LLAMA4_DEFAULT_SYSTEM = (
    "You are a helpful assistant and an expert in function composition. You can answer general "
    "questions using your internal knowledge OR invoke functions when necessary. Follow these "
    "strict guidelines:\n\n1. FUNCTION CALLS:\n- ONLY use functions that are EXPLICITLY listed "
    "in the function list below\n- If NO functions are listed (empty function list []), "
    "respond ONLY with internal knowledge or \"I don't have access to [Unavailable service] "
    'information"\n- If a function is not in the list, respond ONLY with internal knowledge or '
    '"I don\'t have access to [Unavailable service] information"\n- If ALL required parameters '
    "are present AND the query EXACTLY matches a listed function's purpose: output ONLY the "
    "function call(s)\n- Use exact format: [func_name1(param1=value1, param2=value2), "
    'func_name2(...)]\nExamples:\nCORRECT: [get_weather(location="Vancouver"), '
    'calculate_route(start="Boston", end="New York")] <- Only if get_weather and '
    'calculate_route are in function list\nINCORRECT: get_weather(location="New York")\n'
    'INCORRECT: Let me check the weather: [get_weather(location="New York")]\nINCORRECT: '
    '[get_events(location="Singapore")] <- If function not in list\n\n2. RESPONSE RULES:\n- '
    "For pure function requests matching a listed function: ONLY output the function call(s)\n"
    "- For knowledge questions: ONLY output text\n- For missing parameters: ONLY request the "
    "specific missing parameters\n- For unavailable services (not in function list): output "
    "ONLY with internal knowledge or \"I don't have access to [Unavailable service] "
    'information". Do NOT execute a function call.\n- If the query asks for information '
    "beyond what a listed function provides: output ONLY with internal knowledge about your "
    "limitations\n- NEVER combine text and function calls in the same response\n- NEVER "
    "suggest alternative functions when the requested service is unavailable\n- NEVER create "
    "or invent new functions not listed below\n\n3. STRICT BOUNDARIES:\n- ONLY use functions "
    "from the list below - no exceptions\n- NEVER use a function as an alternative to "
    "unavailable information\n- NEVER call functions not present in the function list\n- "
    "NEVER add explanatory text to function calls\n- NEVER respond with empty brackets\n- Use "
    "proper Python/JSON syntax for function calls\n- Check the function list carefully before "
    "responding\n\n4. TOOL RESPONSE HANDLING:\n- When receiving tool responses: provide "
    "concise, natural language responses\n- Don't repeat tool response verbatim\n- Don't add "
    "supplementary information\n\nHere is a list of functions in JSON format that you can "
    "invoke:\n"
)
LLAMA4_TOOLS_INTRO = (
    "\nHere is a list of functions in JSON format that you can invoke. Use exact format: "
    "[func_name1(param1=value1, param2=value2), func_name2(...)]\n"
)


def llama4_header(role: str) -> str:
    return f"<|header_start|>{role}<|header_end|>\n\n"


class Llama4PythonicWrapper(PythonicWrapper):
    """Llama 4 (Scout, Maverick) pythonic calls, laid out as vLLM's Llama 4 pythonic template.

    Llama 4's tokens, and Meta's Llama 4 tool-calling system prompt when the
    client sends none (vLLM's ``examples/tool_chat_template_llama4_pythonic.jinja``)::

        <|begin_of_text|><|header_start|>system<|header_end|>

        {system prompt}
        Here is a list of functions in JSON format that you can invoke. Use exact format: [func_name1(param1=value1, param2=value2), func_name2(...)]
        [
            {
                "type": "function",
                "function": {...}
            }
        ]
        <|eot|><|header_start|>user<|header_end|>

        What is the weather in Paris?<|eot|><|header_start|>assistant<|header_end|>

    and the model answers::

        [get_weather(city="Paris")]<|eot|>

    Results go back as ``ipython`` turns holding the JSON-encoded result.
    Where this differs from the template, on purpose: argument values are
    written as Python literals (the template quotes every value, numbers
    too: ``days="3"``); the template prints the tools only when they are
    passed as ``custom_tools`` (passed as ``tools`` they are silently left
    out), this wrapper always prints them.
    """

    stop: ClassVar[tuple[str, ...]] = (LLAMA4_EOT, "<|eom|>", END_OF_TEXT, EOT, EOM)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        tools = [{"type": "function", "function": dict(f)} for f in functions]
        tool_list = json.dumps(tools, indent=4, ensure_ascii=False) + "\n"
        out = BEGIN_OF_TEXT
        if system.strip():
            out += llama4_header("system") + system.strip()
            if functions:
                out += LLAMA4_TOOLS_INTRO + tool_list
            out += LLAMA4_EOT
        elif functions:
            out += llama4_header("system") + LLAMA4_DEFAULT_SYSTEM + tool_list + LLAMA4_EOT
        for turn in turns:
            if turn.kind == "function":
                out += llama4_header("ipython")
                out += json.dumps(turn.content or "", ensure_ascii=False) + LLAMA4_EOT
            elif turn.kind == "assistant" and turn.calls:
                out += llama4_header("assistant") + (turn.content or "")
                out += call_list(turn.calls) + LLAMA4_EOT
            else:
                out += llama4_header(turn.role) + (turn.content or "") + LLAMA4_EOT
        return out + llama4_header("assistant")


def call_list(calls: Sequence[CallRecord]) -> str:
    """``[f(a=1), g(b="x")]``: calls from the history as the model writes them."""
    rendered = (
        call.name
        + "("
        + ", ".join(f"{key}={python_literal(value)}" for key, value in call.arguments.items())
        + ")"
        for call in calls
    )
    return "[" + ", ".join(rendered) + "]"


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="pythonic",
        factory=PythonicWrapper,
        aliases=("llama3.2-pythonic", "llama-3.2-pythonic", "llama3.3-pythonic"),
        description="Python-list calls [f(a=1), g(b='x')], Llama 3.2 layout (also ToolACE output)",
        family="tool-call",
    ),
    WrapperEntry(
        name="llama4-pythonic",
        factory=Llama4PythonicWrapper,
        aliases=("llama4", "llama-4", "llama4-scout", "llama4-maverick"),
        description="Llama 4 Python-list calls, Llama 4 tokens and tool prompt",
        family="tool-call",
    ),
]
