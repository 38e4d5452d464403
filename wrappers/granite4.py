"""IBM Granite 4.0: Hermes calls, ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, in Granite's role turns.

Granite 4.0 dropped Granite 3's ``<|tool_call|>[...]`` list for the Hermes
format (vLLM ``vllm/tool_parsers/granite4_tool_parser.py``) but kept
Granite's role tokens. The model card of ``ibm-granite/granite-4.0-h-1b``
shows the prompt its chat template renders for a request with tools and no
system message, and the model's answer::

    <|start_of_role|>system<|end_of_role|>You are a helpful assistant with access to the following tools. You may call one or more tools to assist with the user query.

    You are provided with function signatures within <tools></tools> XML tags:
    <tools>
    {"type": "function", "function": {"name": "get_current_weather", ...}}
    </tools>

    For each tool call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:
    <tool_call>
    {"name": <function-name>, "arguments": <args-json-object>}
    </tool_call>. If a tool does not exist in the provided list of tools, notify the user that you do not have the ability to fulfill the request.<|end_of_text|>
    <|start_of_role|>user<|end_of_role|>What's the weather like in Boston right now?<|end_of_text|>
    <|start_of_role|>assistant<|end_of_role|><tool_call>
    {"name": "get_current_weather", "arguments": {"city": "Boston"}}
    </tool_call><|end_of_text|>

The rest follows the template's layout (llama.cpp
``models/templates/ibm-granite-granite-4.0.jinja``), which the model card
does not show: a client's system prompt comes before the tool instructions,
past calls are ``<tool_call>`` blocks in the assistant turn, results
``<tool_response>`` blocks in one user turn. Granite 4 writes prose between
calls, and sometimes the arguments as a JSON string; both are read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import ClassVar

from wrappers.base import FunctionSchema
from wrappers.conversation import Turn
from wrappers.granite import END, role_turn
from wrappers.hermes import HermesWrapper
from wrappers.registry import WrapperEntry
from wrappers.tool_format import tools_json_lines

TOOLS_PREFIX = (
    "You are a helpful assistant with access to the following tools. You may call one or more "
    "tools to assist with the user query.\n\nYou are provided with function signatures within "
    "<tools></tools> XML tags:\n<tools>\n"
)
TOOLS_SUFFIX = (
    "\n</tools>\n\nFor each tool call, return a json object with function name and arguments "
    "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
    '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>. If a tool does '
    "not exist in the provided list of tools, notify the user that you do not have the ability "
    "to fulfill the request."
)


class Granite4Wrapper(HermesWrapper):
    stop: ClassVar[tuple[str, ...]] = (END,)

    def render_chat(
        self, system: str, turns: list[Turn], functions: Sequence[FunctionSchema]
    ) -> str:
        if functions:
            tools = TOOLS_PREFIX + tools_json_lines(functions) + TOOLS_SUFFIX
            system = f"{system}\n\n{tools}" if system else tools
        out = role_turn("system", system) if system else ""
        for index, turn in enumerate(turns):
            content = turn.content or ""
            if turn.kind == "function":
                # Consecutive results share one user turn.
                if index == 0 or turns[index - 1].kind != "function":
                    out += "<|start_of_role|>user<|end_of_role|>"
                out += f"\n<tool_response>\n{content}\n</tool_response>"
                if index == len(turns) - 1 or turns[index + 1].kind != "function":
                    out += f"{END}\n"
            elif turn.kind == "assistant":
                for number, call in enumerate(turn.calls):
                    if number or content:
                        content += "\n"
                    arguments = json.dumps(call.arguments, ensure_ascii=False)
                    content += (
                        f'<tool_call>\n{{"name": "{call.name}", "arguments": {arguments}}}'
                        "\n</tool_call>"
                    )
                out += role_turn("assistant", content)
            else:
                out += role_turn(turn.role if turn.kind == "other" else "user", content)
        return out + "<|start_of_role|>assistant<|end_of_role|>"


WRAPPER_ENTRIES: list[WrapperEntry] = [
    WrapperEntry(
        name="granite4",
        factory=Granite4Wrapper,
        aliases=("granite-4", "granite-4.0", "granite4-h", "granite-4.0-h", "granite4-micro"),
        description="IBM Granite 4.0 <tool_call>{...}</tool_call> (Hermes) after Granite's role tokens",
        family="tool-call",
    )
]
