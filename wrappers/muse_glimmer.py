"""Muse Glimmer: channel-scoped messages, calls as ATEM ``<atem:invoke>`` blocks.

The format of vLLM's ``muse_glimmer`` parser
(``vllm/frontend/processing/tool_parsers/muse_glimmer_tool_parser.py``). An
answer is a sequence of messages, each addressed to a recipient: reasoning to
``self``, a call to the tool, the answer to ``user``. The prompt ends with
``<|start|>assistant``, so the first header comes without it::

     to=self<|message|>I should look it up.<|eom|><|start|>assistant to=weather.get<|message|><atem:function_calls>
    <atem:invoke name="weather.get">
    <atem:parameter name="city">Paris</atem:parameter>
    </atem:invoke>
    </atem:function_calls><|eom|>

The ``self`` messages go to ``reasoning_content`` (an invoke quoted there is
no call), the others' bodies are read as the answer (:mod:`wrappers.invoke_calls`,
values typed by the schema, their spaces kept). A call to a tool registered
by a bare name comes back doubled (``get_weather.get_weather``, the template
makes ``get_weather.*`` its namespace) or under a namespace of the model's
own choosing; it is bound to the registered tool where that is unambiguous,
as vLLM's parser does.

The checkpoint's chat template was not at hand. The prompt follows the
protocol the reference parser documents: a system message with the
reasoning strength, the tools (namespaces, then function schemas, each as
JSON) and the ``# Valid recipients`` line; ``<|start|>ROLE<|message|>...<|eot|>``
turns; past calls as the messages above; results as ``tool NAME`` messages
in ``<tool_output>`` tags. The wording of the tool instructions is that of a
third-party rendering of the template, not verified against the checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema, ParsedOutput, RenderOptions
from wrappers.conversation import Turn
from wrappers.grammar import call_count, calls_grammar, keyed_call, literal, text_values
from wrappers.invoke_calls import InvokeFormat, extract_invokes, invokes_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import PartialCall, Snapshot, without_partial_suffix
from wrappers.tool_format import Extraction
from wrappers.xml_calls import XmlArgumentsWrapper, typed_arguments

BOS = "<|begin_of_text|>"
START, MESSAGE, EOM, EOT = "<|start|>", "<|message|>", "<|eom|>", "<|eot|>"
CALLS, CALLS_END = "<atem:function_calls>", "</atem:function_calls>"
PARAMETER_END = "</atem:parameter>\n"
FORM = InvokeFormat(prefix="atem:", block_open=CALLS, block_close=CALLS_END, strip_values=False)
DEFAULT_SYSTEM = "You are a helpful AI assistant.\nKnowledge cutoff: 2026-01-04."
# A message header; the first of a turn has no "<|start|>assistant" (the prompt wrote it).
_HEADER = re.compile(
    r"(?:<\|start\|>\s*assistant)?[^\S\n]*(?:to=(?P<to>[A-Za-z0-9_.\-]+))?<\|message\|>"
)
_END = re.compile(r"<\|eom\|>|<\|eot\|>")
# A header still being written at the end of the text (" to=sel").
_OPEN_HEADER = re.compile(r"(?:\A|[^\S\n]+)(?:to=[A-Za-z0-9_.\-]*|to|t)\Z")
TOOL_INSTRUCTIONS = (
    "In this environment you have access to a set of tools you can use to answer the user's "
    "question.\n\n"
    f'You can invoke a function by writing a "{CALLS}" block like the following:\n'
    f'{CALLS}\n<atem:invoke name="$FUNCTION_NAME">\n'
    '<atem:parameter name="$PARAMETER_NAME">$PARAMETER_VALUE</atem:parameter>\n'
    f"...\n</atem:invoke>\n{CALLS_END}\n\n"
    "String and scalar parameters should be specified as is, while lists and objects should "
    "use JSON format. Note that spaces for string values are not stripped. The output is not "
    "expected to be valid XML and is parsed with regular expressions.\n"
    "Here are the functions available in JSONSchema format:\n"
)
TOOL_EXAMPLE = (
    "Here's an example of how to call a function in the tool set:\n"
    "(If the tool namespace is not specified, invoke the function directly as "
    "`example_function_name` rather than `example_tool_name.example_function_name`)\n\n"
    "to=example_tool_name.example_function_name\n\n"
    f'{CALLS}\n<atem:invoke name="example_tool_name.example_function_name">\n'
    '<atem:parameter name="example_parameter_1">value_1</atem:parameter>\n'
    '<atem:parameter name="example_parameter_2">This is the value for the second parameter\n'
    'that can span\n"multiple" lines\n</atem:parameter>\n'
    f"</atem:invoke>\n{CALLS_END}"
)


def channel_text(text: str) -> str:
    """``text`` with its framing removed: ``self`` bodies as ``<think>`` blocks,
    every other body as it is (text without a header stays as it is)."""
    if _HEADER.search(text) is None:
        return text
    out: list[str] = []
    position = 0
    while (header := _HEADER.search(text, position)) is not None:
        out.append(text[position : header.start()])
        body_start = header.end()
        end = _END.search(text, body_start)
        following = _HEADER.search(text, body_start)
        stop = min(end.start() if end else len(text), following.start() if following else len(text))
        # A "<|start|>" begins the next header even before its <|message|> has come.
        partial = text.find(START, body_start, stop)
        stop = partial if partial != -1 else stop
        body = text[body_start:stop]
        if header.group("to") == "self":
            # Closed by its end marker or by the next message; open while written.
            out.append(f"<think>{body}" + ("</think>" if stop < len(text) else ""))
        else:
            out.append(body)
        position = end.end() if end is not None and end.start() == stop else stop
    out.append(text[position:])
    return "".join(out)


def recipient_name(name: str, registered: Sequence[str]) -> str:
    """The registered tool an emitted invoke name means (vLLM's binding)."""
    if not registered or name in registered:
        return name
    head, dot, tail = name.partition(".")
    if dot and head == tail and head in registered:
        return head  # a bare name, doubled: "get_weather.get_weather"
    leaf = name.rsplit(".", 1)[-1]
    matches = [r for r in registered if r == leaf or r.rsplit(".", 1)[-1] == leaf]
    return matches[0] if len(matches) == 1 and "." in name else name


def namespaces(functions: Sequence[FunctionSchema]) -> list[str]:
    return list(dict.fromkeys(str(f["name"]).split(".")[0] for f in functions))


class MuseGlimmerWrapper(XmlArgumentsWrapper):
    streams_content: ClassVar[bool] = True
    call_start: ClassVar[str] = CALLS
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(r"<atem:(?:function_calls>|invoke\s)")
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(CALLS), r"<atem:invoke\s")
    # No grammar under "auto": the reasoning header " to=self" starts like a call's.
    grammar_reasoning: ClassVar[tuple[str, str, bool] | None] = (
        " to=self<|message|>",
        f"{EOM}{START}assistant",
        False,
    )
    stop: ClassVar[tuple[str, ...]] = (EOT, "<|end_of_text|>")

    def __init__(self, reasoning_strength: str = "high") -> None:
        self.reasoning_strength = reasoning_strength

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = f"{BOS}{START}system{MESSAGE}{system or DEFAULT_SYSTEM}"
        out += f"\n\nReasoning strength: {self.reasoning_strength}."
        if functions:
            out += "\n\n" + TOOL_INSTRUCTIONS + "// Tool metadata\n"
            out += "".join(
                json.dumps({"name": ns, "description": ""}, ensure_ascii=False) + "\n"
                for ns in namespaces(functions)
            )
            out += "// Function schemas\n"
            out += "".join(
                json.dumps(
                    {
                        "name": f["name"],
                        "description": f.get("description", ""),
                        "parameters": f.get("parameters") or {},
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for f in functions
            )
            out += "\n" + TOOL_EXAMPLE
        recipients = ['"self"', *(f'"{ns}.*"' for ns in namespaces(functions)), '"user"']
        out += f"\n\n# Valid recipients: {', '.join(recipients)}.{EOT}"
        called: list[str] = []
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant":
                messages = [f"{START}assistant to=user{MESSAGE}{content}"] if content else []
                for call in turn.calls:
                    parameters = "".join(
                        f'<atem:parameter name="{key}">'
                        + (
                            value
                            if isinstance(value, str)
                            else json.dumps(value, ensure_ascii=False)
                        )
                        + PARAMETER_END
                        for key, value in call.arguments.items()
                    )
                    messages.append(
                        f"{START}assistant to={call.name}{MESSAGE}{CALLS}\n"
                        f'<atem:invoke name="{call.name}">\n{parameters}</atem:invoke>\n{CALLS_END}'
                    )
                called = [call.name for call in turn.calls]
                out += EOM.join(messages) + (EOM if turn.calls else EOT)
            elif turn.kind == "function":
                run_start = next(
                    i for i in range(index, -1, -1) if i == 0 or turns[i - 1].kind != "function"
                )
                position = index - run_start
                name = turn.name or (called[position] if position < len(called) else "tool")
                out += (
                    f'{START}tool {name}{MESSAGE}<tool_output name="{name}">\n{content}\n'
                    f"</tool_output>{EOT}"
                )
            else:
                role = "user" if turn.kind == "user" else turn.role
                out += f"{START}{role}{MESSAGE}{content}{EOT}"
        return out + f"{START}assistant"

    def rewrite_output(self, text: str) -> str:
        return channel_text(text)

    def stream_snapshot(
        self,
        text: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions,
        *,
        starts_in_reasoning: bool = False,
    ) -> Snapshot:
        # The messages' recipients say what is reasoning; no prompt opens a block.
        return super().stream_snapshot(text, functions, options, starts_in_reasoning=False)

    def whole_tokens(self, text: str) -> str | None:
        # A header still being written decides what the text after it is.
        start = text.rfind(START)
        if start != -1 and MESSAGE not in text[start:]:
            text = text[:start]
        text = without_partial_suffix(text, (START, MESSAGE, EOM, EOT))
        tail = _OPEN_HEADER.search(text)
        return text if tail is None else text[: tail.start()]

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        # Each call is a message of its own, addressed to its function.
        def member(key: str, value: str) -> str:
            opener = literal(f'<atem:parameter name="{key}">')
            return f"{opener} {value} {literal(PARAMETER_END)}"

        write = keyed_call(
            lambda name: literal(f' to={name}{MESSAGE}{CALLS}\n<atem:invoke name="{name}">\n'),
            member,
            literal(f"</atem:invoke>\n{CALLS_END}"),
            text_values("</atem:parameter>"),
        )
        return calls_grammar(
            functions,
            write,
            only=only,
            max_calls=call_count(parallel, only),
            separator=literal(f"{EOM}{START}assistant"),
        )

    def extract_calls(self, text: str) -> Extraction:
        return extract_invokes(text, FORM)

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        names = [str(f.get("name")) for f in functions]
        schemas = {f.get("name"): f for f in functions}
        calls = []
        for call in invokes_so_far(region, FORM, functions):
            name = recipient_name(call.name, names)
            arguments = typed_arguments(json.loads(call.arguments), schemas.get(name))
            calls.append(PartialCall(name, json.dumps(arguments, ensure_ascii=False)))
        return calls

    def parse(
        self,
        raw: str,
        functions: Sequence[FunctionSchema],
        options: RenderOptions | None = None,
    ) -> ParsedOutput:
        parsed = super().parse(raw, functions, options)
        names = [str(f.get("name")) for f in functions]
        schemas = {f.get("name"): f for f in functions}
        calls = []
        for call in parsed.tool_calls:
            name = recipient_name(call.name, names)
            arguments = typed_arguments(json.loads(call.arguments), schemas.get(name))
            calls.append(
                dataclasses.replace(
                    call, name=name, arguments=json.dumps(arguments, ensure_ascii=False)
                )
            )
        return dataclasses.replace(parsed, tool_calls=calls)


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="muse-glimmer",
        factory=MuseGlimmerWrapper,
        aliases=("muse_glimmer", "museglimmer", "atem"),
        description="Muse Glimmer to=RECIPIENT<|message|> messages, <atem:invoke> calls",
        family="tool-call",
    )
]
