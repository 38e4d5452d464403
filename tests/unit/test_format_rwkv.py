"""``rwkv``: RWKV, a fenced JSON call after ``**Tool Call:**``.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

import json

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_format_cases import Case, assert_registered
from wrappers.base import FunctionSchema
from wrappers.detection import detect_format
from wrappers.rwkv import RwkvWrapper, call_block
from wrappers.template_detection import wrapper_for_template

NAME = "rwkv"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/04e47dbebc98b1069dbe78163aa7346e38a9e667/tests/tool_parsers/test_rwkv_tool_parser.py"


def _tool(name: str) -> FunctionSchema:
    # VLLM's _tool: every tool takes a city.
    return {
        "name": name,
        "description": f"{name} description",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    }


FUNCTIONS: list[FunctionSchema] = [
    _tool("get_weather"),
    _tool("get_forecast"),
    _tool("read"),
    _tool("edit"),
    _tool("bash"),
]


def _tool_call(name: str, arguments: dict[str, object]) -> str:
    # VLLM's _tool_call.
    return (
        "**Tool Call:**\n```json\n"
        f"{json.dumps({'name': name, 'arguments': arguments}, indent=2)}\n```"
    )


PARIS: Call = ("get_weather", {"city": "Paris"})

REAL_OUTPUTS: list[Case] = [
    # VLLM test_rwkv_tool_parser_extracts_markdown_tool_call.
    ("vllm-markdown-call", _tool_call("get_weather", {"city": "Paris"}), None, [PARIS]),
    # VLLM test_rwkv_tool_parser_extracts_parallel_markdown_tool_calls.
    (
        "vllm-parallel",
        _tool_call("get_weather", {"city": "Paris"})
        + "\n"
        + _tool_call("get_forecast", {"city": "Berlin"}),
        None,
        [PARIS, ("get_forecast", {"city": "Berlin"})],
    ),
    # VLLM test_rwkv_tool_parser_extracts_bash_json_tool_call.
    (
        "vllm-bash",
        _tool_call("bash", {"command": "python /tmp/calculator.py"}),
        None,
        [("bash", {"command": "python /tmp/calculator.py"})],
    ),
    # VLLM test_rwkv_tool_parser_streams_tool_call_without_leaking_marker.
    (
        "vllm-text-first",
        "Checking.\n" + _tool_call("get_weather", {"city": "Paris"}),
        "Checking.",
        [PARIS],
    ),
    # VLLM test_rwkv_tool_parser_extracts_legacy_xml_tool_call: <tool_call> and a Python
    # dict on one line (vLLM renames filePath to path for this agent's read tool;
    # fcproxy keeps the arguments as written).
    (
        "vllm-legacy-tool-call",
        "Need to inspect the file.\n<tool_call>\n"
        "{'arguments': {'action': 'view_file', 'industryType': 'code', "
        "'filePath': 'calculator.py'}, 'name': 'read', 'type': 'tool_call'}\n",
        "Need to inspect the file.",
        [("read", {"action": "view_file", "industryType": "code", "filePath": "calculator.py"})],
    ),
    # VLLM test_rwkv_tool_parser_normalizes_legacy_edit_tool_call (not renamed here).
    (
        "vllm-legacy-edit",
        "<tool_call>\n{'arguments': {'action': 'replace_text', 'filePath': 'calculator.py', "
        "'oldText': 'return a - b', 'newText': 'return a + b'}, "
        "'name': 'edit', 'type': 'tool_call'}\n",
        None,
        [
            (
                "edit",
                {
                    "action": "replace_text",
                    "filePath": "calculator.py",
                    "oldText": "return a - b",
                    "newText": "return a + b",
                },
            )
        ],
    ),
    # VLLM test_rwkv_tool_parser_streams_standalone_json_tool_call: a bare fenced call
    # with double-encoded arguments (read by the tolerance every format has).
    (
        "vllm-standalone-fence",
        'Checking.\n```json\n{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}\n```',
        "Checking.",
        [PARIS],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    # VLLM test_rwkv_tool_parser_rejects_malformed_tool_call: the closing brace is
    # missing. vLLM gives it back as text; fcproxy mends it (issue 13: a missing final brace).
    (
        "vllm-missing-final-brace",
        '**Tool Call:**\n```json\n{ "name": "get_weather", "arguments": {"city": "Paris" }\n```',
        None,
        [PARIS],
    ),
    ("end-of-turn", call_block(*PARIS) + "\n\nUser:", None, [PARIS]),
    (
        "no-blank-line-before-the-fence",
        '**Tool Call:** ```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```',
        None,
        [PARIS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_rwkv_tool_parser_keeps_non_tool_output_as_content.
    ("vllm-plain", "There is no tool call here."),
    # VLLM test_rwkv_tool_parser_keeps_bash_fence_as_content.
    (
        "vllm-bash-fence",
        "You can run this command manually:\n```bash\n"
        "perl -0pi -e 's/return a - b/return a + b/' /tmp/calculator.py\n```\n",
    ),
]

BROKEN: list[tuple[str, str]] = [
    ("marker-without-a-call", "**Tool Call:**\n```json\n```"),
]


def test_renders_rwkv_turns_with_the_call_format() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?\n\nThanks."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c0", "content": "sunny"},
    ]
    text = RwkvWrapper().render(messages, FUNCTIONS[:1]).text
    assert text.startswith("System: Be brief.\n# Tools\n")
    assert text.endswith(
        "User: Weather in Paris?\nThanks.\n\n"
        f"Assistant: {call_block(*PARIS)}\n\nTool: sunny\n\nAssistant:"
    )
    # What the prompt shows reads back as the call.
    assert RwkvWrapper().parse(call_block(*PARIS), FUNCTIONS).tool_calls[0].name == "get_weather"


def test_the_grammar_is_fenced_calls_after_the_marker() -> None:
    text = RwkvWrapper().call_grammar(FUNCTIONS[:1], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    assert grammar.matches(
        '**Tool Call:**\n```json\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n```'
    )
    assert not grammar.matches('```json\n{"name": "get_weather", "arguments": {}}\n```')


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[0][1]) == NAME
    assert wrapper_for_template("{{- '**Tool Call:**\\n```json' }}") == NAME


def test_registered() -> None:
    assert_registered(NAME, RwkvWrapper, ("rwkv-7",))
