"""``cwm``: Meta CWM, ``<tool: NAME>`` blocks whose body is the call's input.

The tables are read through both paths by tests/unit/test_case_tables.py and
tests/unit/test_stream_contract.py.
"""

from __future__ import annotations

from tests.support.gbnf import Grammar
from tests.unit.format_checks import Call
from tests.unit.tool_call_conversation import call_turns
from tests.unit.tool_format_cases import Case, ReasoningCase, assert_registered
from wrappers.base import FunctionSchema
from wrappers.cwm import CwmWrapper
from wrappers.detection import detect_format
from wrappers.template_detection import wrapper_for_template

NAME = "cwm"

# Sources of the real outputs below.
VLLM = "https://github.com/vllm-project/vllm/blob/d9df1c5045f0c5f8212d865461c335bd6901bd5b/tests/tool_parsers/test_cwm_tool_parser.py"
# The call format and the tool announcement (the bash tool).
GUIDE = "https://github.com/facebookresearch/cwm/blob/7930e0298bf32aae28cc0e35e18a54c772603364/PROMPTING_GUIDE.md"


def function(function_name: str, description: str = "", **types: str) -> FunctionSchema:
    properties = {key: {"type": kind} for key, kind in types.items()}
    return {
        "name": function_name,
        "description": description,
        "parameters": {"type": "object", "properties": properties},
    }


FUNCTIONS: list[FunctionSchema] = [
    function("bash", "Executes bash command(s) in the current session.", command="string"),
    function("terminal", command="string"),
    # One parameter of its own: a text input goes there (vLLM's key is "command").
    function("python", code="string"),
    function("get_weather", city="string", days="integer"),
]

FIND = 'find . -name "*.py" | xargs grep -n "def bulk_create"'
LS: Call = ("bash", {"command": "ls -la"})

REAL_OUTPUTS: list[Case] = [
    # VLLM test_extract_tool_calls_multiple_tools: the label "function", the name first.
    (
        "vllm-function-label-parallel",
        "preamble\n<tool: function>\nterminal echo hi\n</tool>\n"
        "<tool: function>\nterminal echo bye\n</tool>\n",
        "preamble",
        [("terminal", {"command": "echo hi"}), ("terminal", {"command": "echo bye"})],
    ),
    # GUIDE "Tool Use": the label is the tool, the body its input.
    ("guide-bash", "<tool: bash>\nls -la\n</tool>", None, [LS]),
    (
        "guide-multiline-input",
        "<tool: bash>\ncd src\nls\n</tool>",
        None,
        [("bash", {"command": "cd src\nls"})],
    ),
]

MESSY_OUTPUTS: list[Case] = [
    (
        "json-object-input",
        '<tool: get_weather>\n{"city": "Paris", "days": 2}\n</tool>',
        None,
        [("get_weather", {"city": "Paris", "days": 2})],
    ),
    (
        "text-input-to-the-one-parameter",
        "<tool: python>\nprint(1 + 1)\n</tool>",
        None,
        [("python", {"code": "print(1 + 1)"})],
    ),
    ("upper-case-tag", "<TOOL: bash>\nls -la\n</TOOL>", None, [LS]),
    ("end-of-turn-token", "<tool: bash>\nls -la\n</tool><|eot_id|>", None, [LS]),
    (
        "cut-off-after-a-call",
        "<tool: bash>\nls -la\n</tool>\n<tool: bash>\npw",
        None,
        [LS],
    ),
]

NO_CALLS: list[tuple[str, str]] = [
    # VLLM test_extract_tool_calls_no_tools.
    ("vllm-plain", "This is a test"),
    ("angle-brackets", "Use a <b>tool</b>: the one you like."),
]

BROKEN: list[tuple[str, str]] = [
    ("cut-off", "Let me look.\n<tool: bash>\nls -l"),
]

REASONING: list[ReasoningCase] = [
    # VLLM test_extract_tool_calls_single_terminal_inline (vLLM keeps the block as content).
    (
        "vllm-think-then-call",
        f"<think>Let me search.</think>\n<tool: function>\nterminal {FIND}\n</tool>\n",
        "Let me search.",
        None,
        [("terminal", {"command": FIND})],
    ),
    # VLLM test_extract_tool_calls_shorthand_missing_gt_uses_label_as_tool_name: the
    # reasoning block was opened by the prompt; the input goes to python's one parameter.
    (
        "vllm-shorthand",
        'prefix\n</think> <tool: python import os; print(os.listdir("_pytest")) </tool>\n',
        "prefix",
        None,
        [("python", {"code": 'import os; print(os.listdir("_pytest"))'})],
    ),
    (
        "a-call-in-the-thought-is-not-a-call",
        "<think>maybe <tool: bash>\nls\n</tool></think>No need.",
        "maybe <tool: bash>\nls\n</tool>",
        "No need.",
        [],
    ),
]


def test_renders_the_guides_layout() -> None:
    messages = [
        {"role": "system", "content": "You are a helpful AI assistant."},
        {"role": "user", "content": "List the files."},
        *call_turns([LS], ["a.py"]),
    ]
    text = CwmWrapper().render(messages, FUNCTIONS[:1]).text
    assert text == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
        "You are a helpful AI assistant.\n\nYou have access to the following tools:\n\n"
        "<tool: bash>\n[command]\n</tool>\n"
        'Executes bash command(s) in the current session. [command]: {"type": "string"}'
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nList the files.<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n<tool: bash>\nls -la\n</tool><|eot_id|>"
        "<|start_header_id|>tool: bash<|end_header_id|>\n\na.py<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_past_calls_of_several_parameters_are_json() -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        *call_turns([("get_weather", {"city": "Paris", "days": 2})], ["sun"]),
    ]
    text = CwmWrapper().render(messages, FUNCTIONS).text
    assert '<tool: get_weather>\n{"city": "Paris", "days": 2}\n</tool>' in text
    assert "<|start_header_id|>tool: get_weather<|end_header_id|>\n\nsun" in text
    assert "<tool: get_weather>\n[arguments as a JSON object]\n</tool>\nArguments: {" in text


def test_the_grammar_writes_json_inputs() -> None:
    text = CwmWrapper().call_grammar(FUNCTIONS[3:], None, parallel=True)
    assert text is not None
    grammar = Grammar(text)
    call = '<tool: get_weather>\n{"city": "Paris"}\n</tool>'
    assert grammar.matches(call)
    assert grammar.matches(call + "\n" + call)
    assert not grammar.matches("<tool: get_weather>\nParis\n</tool>")


def test_detected_from_its_output_and_its_template() -> None:
    assert detect_format(REAL_OUTPUTS[1][1]) == NAME
    assert wrapper_for_template("{{- '<|start_header_id|>' }}...<tool: bash>") == NAME


def test_registered() -> None:
    assert_registered(NAME, CwmWrapper, ("meta-cwm", "code-world-model"))
