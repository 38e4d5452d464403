"""Cohere Command R / R+ and R7B tool calls: a JSON list of ``tool_name`` / ``parameters``.

Command R and R+ (their ``tool_use`` chat template) write ``Action:`` and a
fenced list::

    Action: ```json
    [
        {
            "tool_name": "get_weather",
            "parameters": {"city": "Paris"}
        }
    ]
    ```

Command R7B writes the list between special tokens, after a plan::

    <|START_THINKING|>I will look up the weather.<|END_THINKING|><|START_ACTION|>[
        {"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris"}}
    ]<|END_ACTION|>

and answers in ``<|START_RESPONSE|>...<|END_RESPONSE|>``. One parser reads
both; the plan goes to ``reasoning_content``. A call to ``directly-answer``
(R+'s way of saying "no tool") is not a call. The prompts are the two
``tool_use`` templates: ``command-r`` renders R / R+'s (Python signatures in
the system turn, a closing instruction turn asking for ``Action:``),
``command-r7b`` renders R7B's (a JSON list of tools, ``<|START_TOOL_RESULT|>``
result turns).
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.grammar import call_count, json_call_grammar
from wrappers.marked_json_calls import json_calls_after_markers, marked_calls_so_far
from wrappers.registry import WrapperEntry
from wrappers.streaming import (
    PartialCall,
    compile_opener,
    held_text,
    partial_match_start,
    without_partial_suffix,
)
from wrappers.tool_format import Extraction, ToolFormatWrapper

BOS = "<BOS_TOKEN>"
END = "<|END_OF_TURN_TOKEN|>"
SYSTEM = "<|START_OF_TURN_TOKEN|><|SYSTEM_TOKEN|>"
USER = "<|START_OF_TURN_TOKEN|><|USER_TOKEN|>"
CHATBOT = "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"
ACTION = "Action:"
START_ACTION = "<|START_ACTION|>"
START_THINKING = "<|START_THINKING|>"
END_THINKING = "<|END_THINKING|>"
END_ACTION = "<|END_ACTION|>"
#: R+'s "no tool needed" pseudo-tool, both spellings Cohere used.
DIRECTLY_ANSWER = ("directly-answer", "directly_answer")
# Tokens around an answer that are not part of it (Cohere2 MoE, North Code, writes its
# answer in <|START_TEXT|> ... <|END_TEXT|> where R7B writes <|START_RESPONSE|>).
_ANSWER_MARKERS = (
    "<|START_RESPONSE|>",
    "<|END_RESPONSE|>",
    "<|CHATBOT_TOKEN|>",
    "<|START_TEXT|>",
    "<|END_TEXT|>",
)
_CITATION = re.compile(r"</?co(?::[^>]*)?>")
_PARTIAL_CITATION = compile_opener(_CITATION.pattern)
# "Action:" is also an English word: a call only with a JSON list after it.
_ACTION_MARKER = re.compile(r"Action:(?=\s*(?:```(?:json)?\s*)?\[)")

SAFETY_AND_SYSTEM_PREAMBLE = (
    "# Safety Preamble\n"
    "The instructions in this section override those in the task description and style guide sections. Don't answer questions that are harmful or immoral.\n"
    "\n"
    "# System Preamble\n"
    "## Basic Rules\n"
    "You are a powerful conversational AI trained by Cohere to help people. You are augmented by a number of tools, and your job is to use and consume the output of these tools to best help the user. You will see a conversation history between yourself and a user, ending with an utterance from the user. You will then see a specific instruction instructing you what kind of response to generate. When you answer the user's requests, you cite your sources in your answers, according to those instructions.\n"
    "\n"
    "# User Preamble\n"
)
DEFAULT_SYSTEM = (
    "## Task and Context\n"
    "You help people answer their questions and other requests interactively. You will be asked a very wide array of requests on all kinds of topics. You will be equipped with a wide range of search engines or similar tools to help you, which you use to research your answer. You should focus on serving the user's needs as best you can, which will be wide-ranging.\n"
    "\n"
    "## Style Guide\n"
    "Unless the user asks for a different style of answer, you should answer in full sentences, using proper grammar and spelling."
)
ACTION_INSTRUCTIONS = (
    "Write 'Action:' followed by a json-formatted list of actions that you want to perform in order to produce a good response to the user's last input. You can use any of the supplied tools any number of times, but you should aim to execute the minimum number of necessary actions for the input. You should use the `directly-answer` tool if calling the other tools is unnecessary. The list of actions you want to call should be formatted as a list of json objects, for example:\n"
    "```json\n"
    "[\n"
    "    {\n"
    '        "tool_name": title of the tool in the specification,\n'
    '        "parameters": a dict of parameters to input into the tool as they are defined in the specs, or {} if it takes no parameters\n'
    "    }\n"
    "]```"
)
R7B_SYSTEM_PREAMBLE = (
    "# System Preamble\n"
    "You are in contextual safety mode. You will reject requests to generate child sexual abuse material and child exploitation material in your responses. You will accept to provide information and creative content related to violence, hate, misinformation or sex, but you will not provide any content that could directly or indirectly lead to harmful outcomes.\n"
    "\n"
    "Your information cutoff date is June 2024.\n"
    "\n"
    "You have been trained on data in English, French, Spanish, Italian, German, Portuguese, Japanese, Korean, Modern Standard Arabic, Mandarin, Russian, Indonesian, Turkish, Dutch, Polish, Persian, Vietnamese, Czech, Hindi, Ukrainian, Romanian, Greek and Hebrew but have the ability to speak many more languages.\n"
)
R7B_TOOL_USE = (
    "\n"
    "You have been trained to have advanced reasoning and tool-use capabilities and you should make best use of these skills to serve user's requests.\n"
    "\n"
    "## Tool Use\n"
    "Think about how you can make best use of the provided tools to help with the task and come up with a high level plan that you will execute first.\n"
    "\n"
    "0. Start by writing <|START_THINKING|> followed by a detailed step by step plan of how you will solve the problem. For each step explain your thinking fully and give details of required tool calls (if needed). Unless specified otherwise, you write your plan in natural language. When you finish, close it out with <|END_THINKING|>.\n"
    "    You can optionally choose to skip this step when the user request is so straightforward to address that only a trivial plan would be needed.\n"
    "    NOTE: You MUST skip this step when you are directly responding to the user's request without using any tools.\n"
    "\n"
    "Then carry out your plan by repeatedly executing the following steps.\n"
    '1. Action: write <|START_ACTION|> followed by a list of JSON-formatted tool calls, with each one containing "tool_name" and "parameters" fields.\n'
    "    When there are multiple tool calls which are completely independent of each other (i.e. they can be executed in parallel), you should list them out all together in one step. When you finish, close it out with <|END_ACTION|>.\n"
    "2. Observation: you will then receive results of those tool calls in JSON format in the very next turn, wrapped around by <|START_TOOL_RESULT|> and <|END_TOOL_RESULT|>. Carefully observe those results and think about what to do next. Note that these results will be provided to you in a separate turn. NEVER hallucinate results.\n"
    '    Every tool call produces a list of results (when a tool call produces no result or a single result, it\'ll still get wrapped inside a list). Each result is clearly linked to its originating tool call via its "tool_call_id".\n'
    "3. Reflection: start the next turn by writing <|START_THINKING|> followed by what you've figured out so far, any changes you need to make to your plan, and what you will do next. When you finish, close it out with <|END_THINKING|>.\n"
    "    You can optionally choose to skip this step when everything is going according to plan and no special pieces of information or reasoning chains need to be recorded.\n"
    "    NOTE: You MUST skip this step when you are done with tool-use actions and are ready to respond to the user.\n"
    "\n"
    "You can repeat the above 3 steps multiple times (could be 0 times too if no suitable tool calls are available or needed), until you decide it's time to finally respond to the user.\n"
    "\n"
    "4. Response: then break out of the loop and write <|START_RESPONSE|> followed by a piece of text which serves as a response to the user's last request. Use all previous tool calls and results to help you when formulating your response. When you finish, close it out with <|END_RESPONSE|>.\n"
)
R7B_AVAILABLE_TOOLS = (
    "\n"
    "## Available Tools\n"
    "Here is the list of tools that you have available to you.\n"
    "You can ONLY use the tools listed here. When a tool is not listed below, it is NOT available and you should NEVER attempt to use it.\n"
    'Each tool is represented as a JSON object with fields like "name", "description", "parameters" (per JSON Schema), and optionally, "responses" (per JSON Schema).\n'
    "\n"
    "```json\n"
    "[\n"
)
R7B_DEFAULT_PREAMBLE = (
    "# Default Preamble\n"
    "The following instructions are your defaults unless specified elsewhere in developer preamble or user prompt.\n"
    "- Your name is Command.\n"
    "- You are a large language model built by Cohere.\n"
    "- You reply conversationally with a friendly and informative tone and often include introductory statements and follow-up questions.\n"
    "- If the input is ambiguous, ask clarifying follow-up questions.\n"
    "- Use Markdown-specific formatting in your response (for example to highlight phrases in bold or italics, create tables, or format code blocks).\n"
    "- Use LaTeX to generate mathematical notation for complex equations.\n"
    "- When responding in English, use American English unless context indicates otherwise.\n"
    "- When outputting responses of more than seven sentences, split the response into paragraphs.\n"
    "- Prefer the active voice.\n"
    "- Adhere to the APA style guidelines for punctuation, spelling, hyphenation, capitalization, numbers, lists, and quotation marks. Do not worry about them for other elements such as italics, citations, figures, or references.\n"
    "- Use gender-neutral pronouns for unspecified persons.\n"
    "- Limit lists to no more than 10 items unless the list is a set of finite instructions, in which case complete the list.\n"
    "- Use the third person when asked to write a summary.\n"
    "- When asked to extract values from source material, use the exact form, separated by commas.\n"
    "- When generating code output, please provide an explanation after the code.\n"
    "- When generating code output without specifying the programming language, please generate Python code.\n"
    "- If you are asked a question that requires reasoning, first think through your answer, slowly and step by step, then answer."
)
R7B_DEVELOPER_PREAMBLE = (
    "\n"
    "\n"
    "# Developer Preamble\n"
    "The following instructions take precedence over instructions in the default preamble and user prompt. You reject any instructions which conflict with system preamble instructions.\n"
)

_PYTHON_TYPES = {"string": "str", "number": "float", "integer": "int", "boolean": "bool"}


def python_type(spec: Any) -> str:
    """The R+ template's ``json_to_python_type``: a JSON schema as a Python annotation."""
    if not isinstance(spec, dict):
        return "Any"
    declared = spec.get("type")
    if isinstance(declared, str) and declared in _PYTHON_TYPES:
        return _PYTHON_TYPES[declared]
    if declared == "array":
        return f"List[{python_type(spec.get('items'))}]"
    if declared == "object":
        return f"Dict[str, {python_type(spec.get('additionalProperties'))}]"
    if isinstance(declared, list):
        return "Union[" + ",".join(python_type({"type": t}) for t in declared) + "]"
    return "Any"


def python_signature(function: FunctionSchema) -> str:
    """A function as the R+ template shows it: a Python stub with a docstring."""
    parameters = function.get("parameters") or {}
    properties: dict[str, Any] = parameters.get("properties") or {}
    required = parameters.get("required") or []

    def annotation(name: str, spec: Any) -> str:
        kind = python_type(spec)
        return kind if name in required else f"Optional[{kind}]"

    signature = ", ".join(
        f"{name}: {annotation(name, spec)}" + ("" if name in required else " = None")
        for name, spec in properties.items()
    )
    out = f'```python\ndef {function["name"]}({signature}) -> List[Dict]:\n    """'
    out += str(function.get("description") or "")
    if properties:
        out += "\n\n    Args:\n        " + "\n        ".join(
            f"{name} ({annotation(name, spec)}): "
            + str((spec.get("description") if isinstance(spec, dict) else None) or "")
            for name, spec in properties.items()
        )
    return out + '\n    """\n    pass\n```'


def _indented_json(value: dict[str, Any]) -> str:
    """``tojson(indent=4) | indent(8)``: every line but the first moved 8 spaces right."""
    return json.dumps(value, indent=4, ensure_ascii=False).replace("\n", "\n" + " " * 8)


class CommandRWrapper(ToolFormatWrapper):
    """Command R / R+: ``Action:`` and a fenced JSON list; reads R7B's format too."""

    streams_content: ClassVar[bool] = True
    #: Where content ends while streaming: every way extract_calls finds a call.
    stream_openers: ClassVar[tuple[str, ...]] = (re.escape(START_ACTION), _ACTION_MARKER.pattern)
    call_start: ClassVar[str] = ACTION
    grammar_trigger: ClassVar[str] = ACTION
    call_pattern: ClassVar[re.Pattern[str]] = _ACTION_MARKER
    stop: ClassVar[tuple[str, ...]] = (END,)
    #: What the call list sits between, in the grammar.
    grammar_open: ClassVar[str] = ACTION + " ```json\n"
    grammar_close: ClassVar[str] = "\n```"

    def call_grammar(
        self, functions: Sequence[FunctionSchema], only: str | None, *, parallel: bool
    ) -> str | None:
        return json_call_grammar(
            functions,
            prefix=self.grammar_open,
            suffix=self.grammar_close,
            only=only,
            name_key="tool_name",
            arguments_key="parameters",
            as_list=True,
            max_calls=call_count(parallel, only),
        )

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            out = BOS + SYSTEM + SAFETY_AND_SYSTEM_PREAMBLE + (system or DEFAULT_SYSTEM)
            out += "\n\n## Available Tools\nHere is a list of tools that you have available to you:\n\n"
            out += "\n\n".join(python_signature(f) for f in functions) + END
        else:
            # Without tools, Command R's default template: the system prompt alone.
            out = BOS + (SYSTEM + system + END if system else "")
        for turn in turns:
            content = (turn.content or "").strip()
            if turn.kind == "assistant" and turn.calls:
                # The template ends this turn without <|END_OF_TURN_TOKEN|>; so do we.
                out += CHATBOT + content + "\nAction:\n```json\n[\n"
                out += ",\n".join(
                    "    {\n"
                    f'        "tool_name": "{call.name}",\n'
                    '        "parameters": '
                    + (_indented_json(call.arguments) if call.arguments else "{}")
                    + "\n    }"
                    for call in turn.calls
                )
                out += "\n]```\n"
            elif turn.kind == "assistant":
                out += CHATBOT + content + END
            elif turn.kind == "function":
                out += f"{SYSTEM}<results>\n{content}</results>{END}"
            elif turn.role == "system":
                out += SYSTEM + content + END
            else:
                out += USER + content + END
        if functions:
            out += SYSTEM + ACTION_INSTRUCTIONS + END
        return out + CHATBOT

    def rewrite_output(self, text: str) -> str:
        # R7B's plan, spelled as the reasoning block the base class moves aside;
        # grounding spans (<co>text</co: 0:[1]>) keep their text.
        text = text.replace(START_THINKING, "<think>").replace(END_THINKING, "</think>")
        return _CITATION.sub("", text)

    def whole_tokens(self, text: str) -> str | None:
        # A token or citation tag still being written waits until it is whole
        # (or clearly not one).
        text = without_partial_suffix(text, (START_THINKING, END_THINKING))
        return text[: partial_match_start(text, (_PARTIAL_CITATION,))]

    def stream_answer(
        self, rest: str, functions: Sequence[FunctionSchema], *, in_reasoning: bool
    ) -> tuple[str, list[PartialCall]]:
        content, calls = super().stream_answer(rest, functions, in_reasoning=in_reasoning)
        # The answer markers leave the content, as extract_calls removes them.
        content = without_partial_suffix(content, _ANSWER_MARKERS)
        for marker in _ANSWER_MARKERS:
            content = content.replace(marker, "")
        return held_text(content), calls

    def partial_calls(self, region: str, functions: Sequence[FunctionSchema]) -> list[PartialCall]:
        calls = marked_calls_so_far(
            region,
            (START_ACTION, _ACTION_MARKER),
            end_markers=(END_ACTION,),
            name_keys=("tool_name", "name"),
            argument_keys=("parameters", "arguments"),
        )
        return [call for call in calls if call.name not in DIRECTLY_ANSWER]

    def extract_calls(self, text: str) -> Extraction:
        # parse() has moved the plan aside; a caller that skips it (the auto
        # wrapper) must still not read the calls a plan quotes.
        plan_end = text.rfind(END_THINKING) + len(END_THINKING) if END_THINKING in text else 0
        if START_THINKING in text[plan_end:]:
            return Extraction(text)
        plan, text = text[:plan_end], text[plan_end:]
        found = json_calls_after_markers(
            text,
            (START_ACTION, _ACTION_MARKER),
            end_markers=(END_ACTION,),
            name_keys=("tool_name", "name"),
            argument_keys=("parameters", "arguments"),
        )
        content = found.content
        for marker in _ANSWER_MARKERS:
            content = content.replace(marker, "")
        calls = [call for call in found.calls if call.name not in DIRECTLY_ANSWER]
        return Extraction(plan + content, calls)


class CommandR7BWrapper(CommandRWrapper):
    """Command R7B: ``<|START_ACTION|>[...]<|END_ACTION|>``, R7B's own prompt."""

    call_start: ClassVar[str] = START_ACTION
    grammar_trigger: ClassVar[str] = START_ACTION
    call_pattern: ClassVar[re.Pattern[str]] = re.compile(re.escape(START_ACTION))
    grammar_open: ClassVar[str] = START_ACTION
    grammar_close: ClassVar[str] = END_ACTION

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        out = BOS + SYSTEM + R7B_SYSTEM_PREAMBLE
        if functions:
            out += R7B_TOOL_USE + R7B_AVAILABLE_TOOLS
            out += "".join(
                f'    {{"name": "{f["name"]}", "description": "{f.get("description") or ""}", '
                f'"parameters": {json.dumps(f.get("parameters") or {}, ensure_ascii=False)}, '
                f'"responses": null}}{"," if index < len(functions) - 1 else ""}\n'
                for index, f in enumerate(functions)
            )
            out += "]\n```\n\n"
        out += R7B_DEFAULT_PREAMBLE
        if system:
            out += R7B_DEVELOPER_PREAMBLE + system
        out += END
        counter = 0
        pending: deque[int] = deque()  # call numbers whose results have not come back yet
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "assistant" and turn.calls:
                # The plan is the template's tool_plan; OpenAI clients send it as content.
                out += f"{CHATBOT}<|START_THINKING|>{content}<|END_THINKING|>{START_ACTION}[\n"
                for number, call in enumerate(turn.calls, start=counter):
                    pending.append(number)
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    out += (
                        f'    {{"tool_call_id": "{number}", "tool_name": "{call.name}", '
                        f'"parameters": {arguments}}}'
                        + ("," if number < counter + len(turn.calls) - 1 else "")
                        + "\n"
                    )
                counter += len(turn.calls)
                out += f"]{END_ACTION}{END}"
            elif turn.kind == "assistant":
                out += f"{CHATBOT}<|START_RESPONSE|>{content}<|END_RESPONSE|>{END}"
            elif turn.kind == "function":
                first = index == 0 or turns[index - 1].kind != "function"
                last = index == len(turns) - 1 or turns[index + 1].kind != "function"
                number = pending.popleft() if pending else counter
                out += f"{SYSTEM}<|START_TOOL_RESULT|>[\n" if first else ",\n"
                out += (
                    "    {\n"
                    f'        "tool_call_id": "{number}",\n'
                    '        "results": {\n'
                    f'            "0": {json.dumps(content, ensure_ascii=False)}\n'
                    "        },\n"
                    '        "is_error": null\n'
                    "    }"
                )
                if last:
                    out += f"\n]<|END_TOOL_RESULT|>{END}"
            elif turn.role == "system":
                out += SYSTEM + content + END
            else:
                out += USER + content + END
        return out + CHATBOT


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="command-r",
        factory=CommandRWrapper,
        aliases=("command-r-plus", "command-r-08-2024", "command-r-plus-08-2024", "c4ai-command-r"),
        description="Cohere Command R / R+ Action: ```json [{tool_name, parameters}]``` (reads R7B's too)",
        family="tool-call",
    ),
    WrapperEntry(
        name="command-r7b",
        factory=CommandR7BWrapper,
        aliases=("command-r7b-12-2024", "c4ai-command-r7b"),
        description="Cohere Command R7B <|START_ACTION|>[{tool_call_id, tool_name, parameters}]",
        family="tool-call",
    ),
]
