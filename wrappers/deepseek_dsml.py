"""DeepSeek V3.2 (DSML): ``<｜DSML｜function_calls>`` blocks of ``invoke`` / ``parameter`` tags.

The format of DeepSeek-V3.2's chat template (llama.cpp
``models/templates/DeepSeek-V3.2.jinja``; vLLM
``vllm/tool_parsers/deepseekv32_tool_parser.py``). The tools, as JSON,
follow the system prompt with the instructions the template writes; turns
are ``<｜User｜>...<｜Assistant｜>`` and the assistant's end with
``<｜end▁of▁sentence｜>``. Thinking is off here (the turn opens with
``</think>``); a model that thinks anyway has its reasoning set aside::

    <｜begin▁of▁sentence｜>You are a helpful assistant.

    ## Tools

    You have access to a set of tools ...
    <functions>
    {"type": "function", "function": {"name": "get_weather", ...}}
    </functions>
    <｜User｜>What is the weather in Paris?<｜Assistant｜></think>

and the model answers::

    <｜DSML｜function_calls>
    <｜DSML｜invoke name="get_weather">
    <｜DSML｜parameter name="city" string="true">Paris</｜DSML｜parameter>
    </｜DSML｜invoke>
    </｜DSML｜function_calls>

``string="false"`` values are JSON; all are then typed by the request's
schema (:mod:`wrappers.invoke_calls`). Tool results go back in one
``<function_results>`` block of ``<result>`` tags. DeepSeek V4 and V4.1
spell the block (and V4.1 the tags) differently and are prompted another
way (:mod:`wrappers.deepseek_v4`); every DSML wrapper reads every spelling.
"""
# ruff: noqa: RUF001, RUF002  (DeepSeek's tokens use full-width bars)

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions
from wrappers.conversation import Turn
from wrappers.grammar import call_count
from wrappers.invoke_calls import InvokeFormat, extract_invokes, invoke_grammar, invokes_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction
from wrappers.xml_calls import XmlArgumentsWrapper, typed_arguments

DSML = "\uff5cDSML\uff5c"
FUNCTION_CALLS = f"<{DSML}function_calls>"
FUNCTION_CALLS_END = f"</{DSML}function_calls>"
BOS = "<\uff5cbegin\u2581of\u2581sentence\uff5c>"
EOS = "<\uff5cend\u2581of\u2581sentence\uff5c>"
USER = "<\uff5cUser\uff5c>"
ASSISTANT = "<\uff5cAssistant\uff5c>"
FORM = InvokeFormat(
    prefix=DSML, block_open=FUNCTION_CALLS, block_close=FUNCTION_CALLS_END, strip_values=False
)


def dsml_form(prefix: str, block: str) -> InvokeFormat:
    """A DSML spelling: the token before each tag, and the name of the calls' block."""
    return InvokeFormat(
        prefix=prefix,
        block_open=f"<{prefix}{block}>",
        block_close=f"</{prefix}{block}>",
        strip_values=False,
    )


#: DeepSeek V4 names the block ``tool_calls``; V4.1 puts a space after the
#: DSML token and names it ``calls`` (vLLM ``vllm/parser/deepseek_v4.py``,
#: ``deepseek_v41.py``).
FORM_V4 = dsml_form(DSML, "tool_calls")
FORM_V41 = dsml_form(DSML + " ", "calls")
_FORMS = (FORM_V41, FORM_V4, FORM)


def form_of(text: str, default: InvokeFormat) -> InvokeFormat:
    """The DSML spelling ``text`` is written in (``default`` when it shows none).

    A DeepSeek model served with another version's prompt still writes its
    own: each spelling's calls are read, its block tags never left as content.
    """
    for form in _FORMS:
        if form.block_open in text:
            return form
    # No block (models drop it): V4.1's spaced tags are its own; V3.2 and V4 share theirs.
    if FORM_V41.invoke.search(text):
        return FORM_V41
    return FORM_V4 if default is FORM_V41 else default


TOOLS_INSTRUCTIONS = (
    "## Tools\n\nYou have access to a set of tools you can use to answer the user's question.\n"
    f'You can invoke functions by writing a "<{DSML}function_calls>" block like the following '
    "as part of your reply to the user:\n"
    f"<{DSML}function_calls>\n"
    f'<{DSML}invoke name="$FUNCTION_NAME">\n'
    f'<{DSML}parameter name="$PARAMETER_NAME" string="true|false">$PARAMETER_VALUE'
    f"</{DSML}parameter>\n...\n</{DSML}invoke>\n"
    f'<{DSML}invoke name="$FUNCTION_NAME2">\n...\n</{DSML}invoke>\n'
    f"</{DSML}function_calls>\n\n"
    "String and scalar parameters should be specified as is without any escaping or quotes, "
    'while lists and objects should use JSON format. The "string" attribute should be set to '
    '"true" for string type parameters and "false" for other types (numbers, booleans, '
    "arrays, objects).\n\n"
    "If the thinking_mode is enabled, then after function results you should strongly consider "
    "outputting a thinking block. Here is an example:\n\n"
    f"<{DSML}function_calls>\n...\n</{DSML}function_calls>\n\n"
    "<function_results>\n...\n</function_results>\n\n"
    "<think>...thinking about results</think>\n\n"
    "Here are the functions available in JSONSchema format:\n<functions>"
)


#: The keys DeepSeek models wrap a whole call's arguments in (vLLM issue 41240,
#: sglang issue 38924): one DSML ``parameter name="arguments" string="false"`` holding them.
_WRAPPER_KEYS = ("arguments", "input")


def unwrapped(arguments: dict[str, Any], function: FunctionSchema | None) -> dict[str, Any]:
    """``arguments``, or what the model wrapped in one ``arguments`` / ``input`` parameter.

    Only where the tool has no parameter of that name: an object whose keys are
    all the tool's is its arguments (vLLM's ``_unwrap_wrapper_args``), and a
    single value is the argument of a tool that takes one (sglang issue 38924).
    """
    parameters = (function or {}).get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    if len(arguments) != 1 or not isinstance(properties, dict) or not properties:
        return arguments
    key, inner = next(iter(arguments.items()))
    if key not in _WRAPPER_KEYS or key in properties:
        return arguments
    if isinstance(inner, str) and inner.lstrip().startswith("{"):
        try:
            inner = json.loads(inner)
        except ValueError:
            return arguments
    if isinstance(inner, dict):
        return typed_arguments(inner, function) if set(inner) <= set(properties) else arguments
    if len(properties) == 1:
        return typed_arguments({next(iter(properties)): inner}, function)
    return arguments


def _unwrapped_json(arguments: str, function: FunctionSchema | None) -> str:
    value = json.loads(arguments)
    if not isinstance(value, dict):
        return arguments
    return json.dumps(unwrapped(value, function), ensure_ascii=False)


def tools_block(functions: Sequence[FunctionSchema]) -> str:
    lines = "".join(
        "\n" + json.dumps({"type": "function", "function": dict(f)}, ensure_ascii=False)
        for f in functions
    )
    return TOOLS_INSTRUCTIONS + lines + "\n</functions>"


def dsml_parameter(key: str, value: Any, prefix: str = DSML) -> str:
    """One parameter as the template writes it (GigaChat 3.5's GCML: ``prefix``)."""
    is_text = isinstance(value, str)
    text = value if is_text else json.dumps(value, ensure_ascii=False)
    return (
        f'<{prefix}parameter name="{key}" string="{"true" if is_text else "false"}">'
        f"{text}</{prefix}parameter>"
    )


class DeepSeekDSMLWrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = FUNCTION_CALLS
    grammar_trigger: ClassVar[str] = FUNCTION_CALLS
    # Any version's block or invoke (V4.1 writes a space after the DSML token).
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(f"<{DSML}"))
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(f"<{DSML}"),)
    stop: ClassVar[tuple[str, ...]] = (EOS,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BOS
        if system:
            out += system + ("\n\n" + tools_block(functions) + "\n" if functions else "")
        elif functions:
            out += tools_block(functions) + "\n"
        for index, turn in enumerate(turns):
            if turn.kind == "function":
                if index == 0 or turns[index - 1].kind != "function":
                    out += "\n\n<function_results>"
                out += f"\n<result>{turn.content or ''}</result>"
                if index + 1 == len(turns) or turns[index + 1].kind != "function":
                    out += "\n</function_results>\n\n</think>"
            elif turn.kind == "assistant":
                out += turn.content or ""
                if turn.calls:
                    out += f"\n\n{FUNCTION_CALLS}"
                    for call in turn.calls:
                        parameters = "\n".join(
                            dsml_parameter(k, v) for k, v in call.arguments.items()
                        )
                        out += f'\n<{DSML}invoke name="{call.name}">\n{parameters}\n</{DSML}invoke>'
                    out += f"\n{FUNCTION_CALLS_END}"
                out += EOS
            else:
                out += f"{USER}{turn.content or ''}{ASSISTANT}</think>"
        if not turns or turns[-1].kind == "assistant":
            out += f"{USER}\n{ASSISTANT}</think>"
        return out

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        calls = call_count(parallel, only)
        return invoke_grammar(functions, self.form, only, max_calls=calls, string_attribute=True)

    #: The spelling this version writes (and its grammar asks for).
    form: ClassVar[InvokeFormat] = FORM

    def extract_calls(self, text: str) -> Extraction:
        return extract_invokes(text, form_of(text, self.form))

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        parsed = super().parse(raw, functions, options)
        by_name = {f.get("name"): f for f in functions}
        calls = [
            dataclasses.replace(
                call, arguments=_unwrapped_json(call.arguments, by_name.get(call.name))
            )
            for call in parsed.tool_calls
        ]
        return dataclasses.replace(parsed, tool_calls=calls)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        # Each call is complete here (it leaves whole at its </invoke>): unwrap it as parse does.
        by_name = {f.get("name"): f for f in functions}
        return [
            PartialCall(call.name, _unwrapped_json(call.arguments, by_name.get(call.name)))
            for call in invokes_so_far(region, form_of(region, self.form), functions)
        ]


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="deepseek-dsml",
        factory=DeepSeekDSMLWrapper,
        aliases=("deepseek-v3.2", "dsml"),
        description="DeepSeek V3.2 <｜DSML｜function_calls> invoke/parameter blocks (reads V4's too)",
        family="tool-call",
    )
]
