"""Sber GigaChat 3 / 3.1: ``function call<|role_sep|>\\n{"name": ..., "arguments": {...}}``.

The format of GigaChat3's chat template (llama.cpp
``models/templates/GigaChat3-10B-A1.8B.jinja``; parser
``vllm/tool_parsers/gigachat3_tool_parser.py``). Every message is
``ROLE<|role_sep|>\\nTEXT<|message_sep|>\\n\\n``; the prompt opens with
Sber's ``developer system`` message (the roles and rules of the dialog),
then the client's ``system`` message, then the tools as a TypeScript
``namespace functions`` in a ``function descriptions`` message::

    function descriptions<|role_sep|>
    namespace functions {
    // Get the weather
    type get_weather = (_: {
      city: string,
    }) => any;

    } // namespace functions

    <|message_sep|>

    user<|role_sep|>
    What is the weather in Paris?<|message_sep|>

    assistant<|role_sep|>

A call is a message of its own after the assistant's text; GigaChat 3.1
writes a ``<|function_call|>`` token instead of the role header::

    Let me check.<|message_sep|>

    function call<|role_sep|>
    {"name": "get_weather", "arguments": {"city": "Paris"}}

One call per answer; results come back as ``function result`` messages. The
template writes only the first call of an assistant turn; fcproxy writes each
as its own ``function call`` message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall
from wrappers.tool_format import Extraction, ToolFormatWrapper

ROLE_SEP = "<|role_sep|>\n"
MESSAGE_SEP = "<|message_sep|>\n\n"
EOS = "</s>"
CALL_HEADER = "function call" + ROLE_SEP
CALL_TOKEN = "<|function_call|>"
# The end of the assistant's text belongs to the call that follows it.
_OPENER = r"(?:<\|message_sep\|>\s*)?(?:function call<\|role_sep\|>|<\|function_call\|>)"
_MARKER = re.compile(_OPENER)
_ADDITIONAL_KEYS = ("format", "maxItems", "maximum", "minItems", "minimum", "pattern")
DEVSYSTEM = """<role_description>
Description of the roles available in the dialog.

`developer system`
A message added by Sber before the main dialog. It has the highest priority and sets global, non-overridable conditions (for example, conversation rules, the safety policy, the assistant's overall response style, etc.).

`system`
A system instruction added by developers or by the user, but with a lower priority than `developer system`. It usually describes the assistant's instructions, a specific response style, and other conditions for this particular dialog.

`user`
A message or request from the user. The assistant follows it if it does not conflict with higher-priority instructions (see <instruction_priority>).

`user memory`
A sequence of the most up-to-date long-term facts about the user at the time of their request, presented as a JSON list of strings. Facts are listed in chronological order, meaning newer facts are appended to the end of the sequence. When facts are changed or deleted, records of previous facts remain in the sequence. The assistant saves facts using a function and uses them in accordance with the <memory_guidelines> block below.

`added files`
Metadata about files available for use in the dialog, presented in JSON format. It contains the following keys: id (a unique file identifier), name (file name), type (file type).

`assistant`
The assistant's reply to the user's request. If the system instruction or the user does not set additional rules for `assistant`, this reply must comply with the instructions in the <assistant_guidelines> block below. The list of functions available to call is contained in `function descriptions`. The name of the required function and its arguments will be generated next by the `function call` role. In its replies, the assistant follows the instructions in accordance with <instruction_priority>.

`function descriptions`
Function descriptions in TypeScript format. A function is a special tool (or a set of instructions) that the assistant can call to perform specific actions, computations, or obtain data needed to solve the user's task. Each function description contains blocks with the name, description, and arguments. Sometimes the description contains separate blocks with return parameters and usage examples that illustrate the correct call and arguments.

`function call`
The function that `assistant` calls based on the dialog context, and its arguments. The function is invoked in strict accordance with the instructions in the <function_usage> block.

`function result`
The result of the last function call.
</role_description>

<available_modalities>
The assistant can work with the following modalities: text, available functions.
</available_modalities>

<instruction_priority>
If instructions from different roles conflict within the dialog context, observe the following priorities:{TWO_SPACES}
`developer system` > `system` > `user` > `function descriptions` > `function result` > `user memory`
</instruction_priority>

<function_usage>
Basic instructions for working with functions.

Only call those functions that are described in `function descriptions`.

Call available functions when, according to their description, such a call will help provide a more complete and/or accurate answer to the user's request. Fill in function arguments using information from the dialog context. If a function could help answer the request but a required argument is missing from the context, ask the user for the missing data before calling the function. If a necessary function is unavailable or an error occurs, briefly inform the user and, if possible, suggest an alternative.
</function_usage>

<memory_guidelines>
Rules for using facts in long-term memory:

If there is no message under the `user memory` role in the dialog, this is equivalent to the absence of long-term facts about the user in memory. In that case, information about the user is limited to the current dialog, and no new facts should be saved.
</memory_guidelines>

<assistant_guidelines>
You are a helpful assistant.

# Instructions
- Strictly follow the instruction priority.
- Maintain a logical chain of reasoning when answering the user's question.
- For complex questions (for example, STEM), try to answer in detail unless the system message or dialog context limits the response length.
- Be helpful, truthful, and avoid unsafe or prohibited content in your responses.
- Try to reply in the language in which the user asked their question.
</assistant_guidelines>

A dialog will follow below.
The dialog may include various roles described in the <role_description> block.
Each turn begins with the role name and a special token that marks the end of the role's full name, and ends with a special end-of-turn token.
Your task is to continue the dialog from the last specified role in accordance with the dialog context.""".replace(
    "{TWO_SPACES}", "  "
)  # the template's trailing spaces


def message(role: str, content: str) -> str:
    return f"{role}{ROLE_SEP}{content}{MESSAGE_SEP}"


def _jinja_str(value: Any) -> str:
    """``value`` as Jinja's ``~`` writes it (Python's ``str``)."""
    return str(value)


def typescript_type(schema: Any, indent: str, step: int = 2) -> str:
    """The template's ``json_schema_to_typescript`` macro."""
    schema = schema if isinstance(schema, dict) else {}
    kind = schema.get("type")
    if kind == "object":
        out = "{\n"
        required = schema.get("required") or []
        for key, value in (schema.get("properties") or {}).items():
            value = value if isinstance(value, dict) else {}
            for line in (
                str(value.get("description", "")).split("\n") if "description" in value else ()
            ):
                if line.strip():
                    out += f"{indent}// {line}\n"
            for extra, extra_value in value.items():
                if extra in _ADDITIONAL_KEYS:
                    shown = (
                        f'"{extra_value}"'
                        if isinstance(extra_value, str)
                        else _jinja_str(extra_value)
                    )
                    out += f"{indent}// {extra}: {shown}\n"
            member = typescript_type(value, indent + " " * step, step)
            out += f"{indent}{key}{'' if key in required else '?'}: {member},"
            if "default" in value:
                default = value["default"]
                out += (
                    f' // default: "{default}"'
                    if isinstance(default, str)
                    else f" // default: {_jinja_str(default)}"
                )
            out += "\n"
        extra_properties = schema.get("additionalProperties")
        if extra_properties is True or isinstance(extra_properties, dict):
            value_schema = {"type": "any"} if extra_properties is True else extra_properties
            out += f"{indent}[key: string]: {typescript_type(value_schema, indent + ' ' * step, step)}\n"
        return out + indent[:-step] + "}"
    if kind == "string":
        if schema.get("enum"):
            return " | ".join(f'"{item}"' for item in schema["enum"])
        return "Date" if schema.get("format") in ("date-time", "date") else "string"
    if kind in ("number", "integer"):
        return " | ".join(_jinja_str(i) for i in schema["enum"]) if schema.get("enum") else "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        return (
            typescript_type(schema["items"], indent, step) + "[]"
            if "items" in schema
            else "Array<any>"
        )
    return "any"


def tool_namespace(functions: Sequence[FunctionSchema]) -> str:
    """The template's ``render_tool_namespace('functions', tools)``."""
    sections = ["namespace functions {"]
    for function in functions:
        lines = [
            f"// {line}" for line in (function.get("description") or "").split("\n") if line.strip()
        ]
        parameters = function.get("parameters") or {}
        if parameters.get("properties"):
            body = f"type {function['name']} = (_: {typescript_type(parameters, '  ')}) => "
        else:
            body = f"type {function['name']} = () => "
        lines.append(body + "any;\n")
        sections.append("\n".join(lines))
    sections.append("} // namespace functions")
    return "\n".join(sections)


class GigaChat3Wrapper(ToolFormatWrapper):
    streams_content: ClassVar[bool] = True
    supports_parallel_calls: ClassVar[bool] = True
    call_start: ClassVar[str] = "function call<|role_sep|>"
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(
        r"(?:function call<\|role_sep\|>|<\|function_call\|>)\s*\{"
    )
    #: Content also waits at a bare <|message_sep|>: what follows decides whether it is
    #: the end of the answer (cut off) or the start of a call message.
    stream_openers: ClassVar[tuple[str, ...]] = (_OPENER, r"<\|message_sep\|>")
    #: A plain answer ends its message with <|message_sep|>; it is not content.
    #: It is no stop string: the call comes after it.
    stop: ClassVar[tuple[str, ...]] = (EOS, "<|message_sep|>")
    #: The call message's opening, from the end of the assistant's text on: a
    #: plain answer ends with <|message_sep|> too, so that alone is no call.
    grammar_trigger: ClassVar[str] = MESSAGE_SEP + CALL_HEADER

    def stop_sequences(self) -> list[str]:
        return [EOS]

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = message("developer system", DEVSYSTEM)
        if system:
            out += message("system", system)
        if functions:
            out += message("function descriptions", tool_namespace(functions) + "\n\n")
        for turn in turns:
            content = turn.content or ""
            if turn.kind == "function":
                out += message("function result", content)
            elif turn.kind == "assistant":
                out += message("assistant", content)
                for call in turn.calls:
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += message(
                        "function call", f'{{"name": "{call.name}", "arguments": {arguments}}}'
                    )
            else:
                out += message(turn.role, content)
        if turns and turns[-1].kind == "assistant":
            return out
        return out + "assistant" + ROLE_SEP

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # One call: the template's assistant turn holds one.
        return json_call_grammar(functions, prefix=self.grammar_trigger, suffix="", only=only)

    def extract_calls(self, text: str) -> Extraction:
        return json_calls_after_markers(text, (_MARKER,), end_markers=("<|message_sep|>",))

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        return marked_calls_so_far(region, (_MARKER,), end_markers=("<|message_sep|>",))


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="gigachat3",
        factory=GigaChat3Wrapper,
        aliases=("gigachat", "gigachat-3", "gigachat3.1", "gigachat-3.1", "gigachat3-10b-a1.8b"),
        description='Sber GigaChat 3 / 3.1 function call<|role_sep|>\\n{"name", "arguments"} (or <|function_call|>)',
        family="tool-call",
    )
]
