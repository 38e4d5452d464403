"""Which wrapper reads a model's output, judged from the model's chat template.

A chat template (the Jinja ``chat_template`` of ``tokenizer_config.json``,
what llama.cpp's ``/props`` reports) spells out the model's tool-call format:
the Qwen 2.5 template tells the model to answer in ``<tool_call>`` tags, the
Mistral Nemo one prints ``[TOOL_CALLS]`` before past calls. So the format is
read from marker strings in the template text, never from the model's name::

    >>> wrapper_for_template("...<|im_start|>...<tool_call>...")
    'hermes'

This is what llama.cpp does: ``common_chat_templates_apply_jinja`` in
``common/chat.cpp`` (ggml-org/llama.cpp, before its 2026 rewrite to a
differential auto-parser; read at the mirror ye-NX/llama.cpp@b354d7c9)
checks ``src.find(...)`` for DeepSeek R1's tool-calls-begin token, then
``"<|END_THINKING|><|START_ACTION|>"`` (Command R7B), ``"<|tool_call|>"``
(Granite), ``"<tool_call>"`` (Hermes 2/3 Pro, Qwen 2.5), ``">>>all"``
(Functionary v3.2), ``" functools["`` (Firefunction v2),
``"<|start_header_id|>"`` + ``"<function="`` (Functionary v3.1),
``"<|start_header_id|>ipython<|end_header_id|>"`` (Llama 3.x), and
``"[TOOL_CALLS]"`` (Mistral Nemo), falling back to a generic JSON handler.
The newer version keeps marker checks for the formats its auto-parser
cannot derive (``"<|tool_calls_section_begin|>"`` for Kimi K2,
``"<|tool_list_start|>"`` for LFM2; ggml-org/llama.cpp@0083bb18).

Order matters where templates share markers: Qwen3-Coder and Seed-OSS
templates also hold ``<tool_call>`` or ``<function=``, GLM 4.5+ holds
``<tool_call>`` too, Functionary v3.1 and Firefunction v2 are Llama 3
templates. The rules below run most specific first; templates with no tool
markers at all are matched by their turn markers to a MemGPT-style wrapper
(ChatML, Llama 3, Zephyr), and anything else gets ``generic-json``.

Only registered wrappers are returned: each rule names a chain (the format's
own wrapper, then ``generic-json``), and the first registered name wins, so
a format whose module is not installed still gets a parser that reads JSON
calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from wrappers.registry import find_entry

#: The last resort: a parser that finds a ``{"name", "arguments"}`` object anywhere.
GENERIC_JSON = "generic-json"


@dataclass(frozen=True)
class FormatRule:
    """A template whose text holds ``all_of`` (and, if given, one of ``any_of``) uses ``wrapper``.

    ``native_tools``: the template itself describes tools and calls (the
    model was trained on its own call format); false for the turn-marker
    rules at the end, whose templates know nothing about tools.
    """

    wrapper: str
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    native_tools: bool = True

    def markers_in(self, template: str) -> tuple[str, ...] | None:
        """The markers of this rule found in ``template``, or None if the rule does not match."""
        if not all(marker in template for marker in self.all_of):
            return None
        found_any = tuple(marker for marker in self.any_of if marker in template)
        if self.any_of and not found_any:
            return None
        return self.all_of + found_any[:1]


#: Most specific first; the first matching rule decides.
RULES: tuple[FormatRule, ...] = (
    # Muse Glimmer: harmony-like to=RECIPIENT messages, ATEM <atem:invoke> calls (before harmony).
    FormatRule("muse-glimmer", any_of=("<atem:function_calls>", "<atem:invoke")),
    # gpt-oss (harmony): channels, and calls addressed to functions.NAME.
    FormatRule("harmony", all_of=("<|channel|>", "<|message|>")),
    # Swiss AI Apertus: <|tools_prefix|>[{"name": {...}}]<|tools_suffix|>.
    FormatRule("apertus", any_of=("<|tools_prefix|>",)),
    # NVIDIA Nemotron Nano v2: <TOOLCALL>[...]</TOOLCALL>, <SPECIAL_11> turns.
    FormatRule("nemotron", any_of=("<TOOLCALL>", "<AVAILABLE_TOOLS>")),
    # FunctionGemma: <start_function_call>call:NAME{...}<end_function_call>.
    FormatRule("functiongemma", any_of=("<start_function_call>", "<start_function_declaration>")),
    # Gemma 4: <|tool_call>call:NAME{...}<tool_call|>, <|turn> turns.
    FormatRule("gemma4", any_of=("<|tool_call>", "<|tool>declaration:")),
    # DeepSeek V4.1 writes a space after the DSML token (a calls block), V4 names it tool_calls.
    FormatRule(
        "deepseek-v4.1",
        all_of=("\uff5cDSML\uff5c",),
        any_of=("\uff5cDSML\uff5c calls", "\uff5cDSML\uff5c invoke", "}} calls>", "}} invoke"),
    ),
    FormatRule(
        "deepseek-v4",
        all_of=("\uff5cDSML\uff5c",),
        any_of=("\uff5cDSML\uff5ctool_calls", "tool_calls_block_name", "}}tool_calls>"),
    ),
    # DeepSeek V3.2: DSML invoke / parameter tags.
    FormatRule("deepseek-dsml", any_of=("\uff5cDSML\uff5c", "dsml_token")),
    # Tencent Hunyuan A13B: <tool_calls>[...]</tool_calls>, <|extra_0|> turn ends.
    FormatRule("hunyuan-a13b", all_of=("<tool_calls>", "<|extra_0|>")),
    # Tencent HY v3 (Hy3-preview): <tool_call>NAME<tool_sep> and GLM's <arg_key> tags (before GLM).
    FormatRule("hunyuan-v3", any_of=("<tool_sep>", "<\uff5chy_User\uff5c>")),
    # Tencent HY v4: the same calls, each token with its checkpoint's suffix (<tool_call:...>).
    FormatRule("hunyuan-v4", any_of=("<tool_call:", "<arg_key:")),
    # InternLM2 / 2.5: <|action_start|><|plugin|>{...}<|action_end|>.
    FormatRule("internlm2", any_of=("<|action_start|>", "name=<|plugin|>")),
    # AI2 OLMo 3: Python calls, one per line, in <function_calls> tags.
    FormatRule("olmo3", any_of=("<function_calls>",)),
    # MiniMax M3: ]<]minimax[>[ before every tag of a call (its turns are M2's: first).
    FormatRule("minimax-m3", any_of=("]<]minimax[>[",)),
    # MiniMax M2: <minimax:tool_call><invoke name=...>.
    FormatRule("minimax-m2", any_of=("<minimax:tool_call>", "]~b]ai")),
    # MiniCPM5: <function name="f"><param name="k">v</param></function> (no <tool_call>).
    FormatRule("minicpm5", all_of=("<function name=", "<param name=")),
    # Salesforce xLAM-2 (Qwen and Llama based): a bare JSON list of calls.
    FormatRule("xlam", any_of=("make calls in a single JSON array",)),
    # DeepSeek V3 / R1 (and its Qwen / Llama distills): full-width bars and ▁.
    FormatRule("deepseek", any_of=("<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>")),  # noqa: RUF001
    # Command R7B (<|START_ACTION|>) and Command R+ ("Action:" + a ```json list).
    FormatRule("command-r", any_of=("<|START_ACTION|>",)),
    FormatRule("command-r", all_of=("<|START_OF_TURN_TOKEN|>", "Action:")),
    # Kimi K3 (XTML): <|open|>tools<|sep|><|open|>call tool="f" index="1"<|sep|>...
    FormatRule("kimi-k3", all_of=("<|open|>", "<|close|>", "<|sep|>")),
    FormatRule("kimi-k2", any_of=("<|tool_calls_section_begin|>", "<|tool_call_begin|>")),
    # LFM2 lists tools in <|tool_list_start|>; LFM2.5 templates also show <|tool_call_start|>.
    FormatRule("lfm2", any_of=("<|tool_call_start|>", "<|tool_list_start|>")),
    # Seed-OSS wraps Qwen3-Coder-like <function=...><parameter=...> in <seed:tool_call>.
    FormatRule("seed-oss", any_of=("<seed:tool_call>",)),
    # openPangu: [unused9]ROLE...[unused10] turns, calls in [unused11][...][unused12].
    FormatRule("pangu", any_of=("[unused11]", "[unused9]")),
    # RWKV: a fenced JSON call after "**Tool Call:**".
    FormatRule("rwkv", any_of=("**Tool Call:**",)),
    # K2 Horizon (IFM): GLM-style pairs under <ifm|...> tags.
    FormatRule("k2-horizon", any_of=("<ifm|tool_call", "<ifm|arg_key>")),
    # iQuest Coder V2: GLM's key / value pairs in <iquestcoder_tool_call> (before GLM's rule).
    FormatRule("iquest-coder-v2", any_of=("<iquestcoder_tool_call>",)),
    # HyperCLOVA X SEED Think 32B: GLM's calls (JSON values) in ChatML turns.
    FormatRule("hyperclovax-seed-think-32b", all_of=("<|im_start|>", "<arg_key>")),
    # GLM 4.5+ (and templates copying it): <tool_call>name<arg_key>k</arg_key><arg_value>...
    FormatRule("glm4", any_of=("<arg_key>",)),
    # MiroMind MiroThinker: MCP-style <use_mcp_tool> blocks (its template also shows <tool_call>).
    FormatRule("mirothinker", any_of=("<use_mcp_tool>",)),
    # Zyphra ZAYA1: Qwen3-Coder's calls in <zyphra_tool_call> tags.
    FormatRule("zaya", any_of=("<zyphra_tool_call>",)),
    # Qwen3-Coder, Qwen 3.5, Nemotron 3: <function=name><parameter=k>v</parameter></function>.
    FormatRule("qwen3-coder", all_of=("<function=", "<parameter=")),
    # Functionary v3.2 (>>>recipient) and v3.1 (<function=name>{...}</function> on Llama 3.1).
    FormatRule("functionary-v3", any_of=(">>>all",)),
    FormatRule("functionary-v3", all_of=("<|start_header_id|>", "<function=")),
    # Phi-4-mini (<|tool|>...<|/tool|> definitions) and Firefunction v2: functools[{...}].
    FormatRule("phi4", any_of=("functools[",)),
    FormatRule("phi4", all_of=("<|tool|>", "<|/tool|>")),
    # vLLM's Qwen2.5-Coder template: Hermes calls between <tools> tags.
    FormatRule("qwen2.5-coder", any_of=("use <tools> tags",)),
    # NAVER HyperCLOVA X SEED Think: a tool_list turn, calls in an "assistant -> tool/function_call" turn.
    FormatRule("hyperclovax-seed-think", any_of=("-> tool/function_call",)),
    # MiniMax-M1: <beginning_of_sentence> messages, <tool_calls> with one object per line.
    FormatRule("minimax-m1", all_of=("<beginning_of_sentence>", "<tool_calls>")),
    # StepFun Step3: <steptml:invoke> calls in a tool_calls_begin block.
    FormatRule("step3", any_of=("<steptml:invoke", "steptml:parameter")),
    # StepFun Step-Audio 2: tools in a tool_json_schemas turn, <tool_call>function\nNAME\n{...}.
    FormatRule("step-audio-2", any_of=("tool_json_schemas",)),
    # Thinking Machines Inkling: typed message blocks, calls after <|content_invoke_tool_json|>.
    FormatRule("inkling", any_of=("<|content_invoke_tool_json|>",)),
    # dots.llm: <invoke> calls in <dots_function_call> blocks.
    FormatRule("dots", any_of=("<dots_function_call>",)),
    # Upstage Solar Open 2: <|tool_call:start|>name, <|tool_arg:start|>k<|tool_arg:value|>v.
    FormatRule("solar-open2", any_of=("<|tool_call:start|>", "<|tool_arg:value|>")),
    # Upstage Solar Open (100B): JSON calls after <|tool_call:name|>, <|tool_response:...|> results.
    FormatRule("solar-open-100b", any_of=("<|tool_call:name|>", "<|tool_response:result|>")),
    # PLaMo 3: <|plamo:begin_tool_requests:plamo|> requests with JSON arguments.
    FormatRule("plamo3", any_of=("<|plamo:begin_tool_request", "plamo:begin_tool_name")),
    # Meta CWM: <tool: NAME> blocks, results in "tool: NAME" turns (Llama 3 headers).
    FormatRule("cwm", any_of=("<tool: ",)),
    # ServiceNow Apriel 1.5: reasoning, [BEGIN FINAL RESPONSE], <tool_calls>[...] answers.
    FormatRule("apriel", all_of=("[BEGIN FINAL RESPONSE]", "<tool_calls>")),
    # AI21 Jamba: <|bom|><|role|> messages, <tool_definitions>, <tool_calls>[...] answers.
    FormatRule("jamba", all_of=("<|bom|>",), any_of=("<tool_calls>", "<tool_definitions>")),
    # Meituan LongCat-Flash: Hermes calls in <longcat_tool_call> tags, [Round N] USER: turns.
    FormatRule("longcat", any_of=("<longcat_tool_call>",)),
    # Baidu ERNIE 4.5: <|begin_of_sentence|> and User:/Assistant: turns; Hermes calls.
    FormatRule("ernie4.5", all_of=("<|begin_of_sentence|>", "<tool_call>")),
    # Sber GigaChat 3.5: GigaChat 3's messages, GCML invoke blocks (before GigaChat 3's rule).
    FormatRule("gigachat3.5", any_of=("\uff5cGCML\uff5c",)),
    # Sber GigaChat 3: ROLE<|role_sep|> messages, calls as a "function call" message.
    FormatRule("gigachat3", any_of=("<|role_sep|>",)),
    # IBM granite-20b-functioncalling: tools after <|function_call_library|>, <function_call> calls.
    FormatRule("granite-20b-fc", any_of=("<|function_call_library|>",)),
    # Granite 4.0: Hermes <tool_call> in Granite's role turns (Granite 3 writes <|tool_call|>).
    FormatRule("granite4", all_of=("<|start_of_role|>", "<tool_call>")),
    FormatRule("granite", any_of=("<|tool_call|>",)),
    FormatRule("mistral", any_of=("[TOOL_CALLS]",)),
    # Hermes 2 Pro / 3, Qwen 2.5 / 3, QwQ, Granite 4 and many fine-tunes.
    FormatRule("hermes", any_of=("<tool_call>",)),
    # Llama 3.1 / 3.2 / 3.3: results in an ipython turn, built-in tools after <|python_tag|>.
    FormatRule("llama3-json", any_of=("<|python_tag|>", "ipython<|end_header_id|>")),
    # No tool markers: the MemGPT-style wrapper for the template's turn format.
    FormatRule("chatml", any_of=("<|im_start|>",), native_tools=False),
    FormatRule("llama3", any_of=("<|start_header_id|>",), native_tools=False),
    FormatRule("zephyr-7B", all_of=("<|user|>",), native_tools=False),
)


@dataclass(frozen=True)
class TemplateFormat:
    """What a template says about the model's format (``fcproxy doctor`` prints it).

    ``wrapper`` is the format's own wrapper, registered or not; ``markers``
    the template text that decided it (empty for the generic fallback).
    """

    wrapper: str
    markers: tuple[str, ...] = ()
    native_tools: bool = False

    @property
    def candidates(self) -> tuple[str, ...]:
        """Wrapper names to try, most specific first."""
        if self.wrapper == GENERIC_JSON:
            return (GENERIC_JSON,)
        return (self.wrapper, GENERIC_JSON)


def detect_template_format(template: str) -> TemplateFormat:
    """The format ``template`` uses, from the first rule whose markers it holds."""
    for rule in RULES:
        markers = rule.markers_in(template)
        if markers is not None:
            return TemplateFormat(rule.wrapper, markers, rule.native_tools)
    return TemplateFormat(GENERIC_JSON)


def wrapper_for_template(template: str) -> str | None:
    """The registered wrapper that reads the tool calls of a model with this chat template.

    Falls back along :attr:`TemplateFormat.candidates` to the first
    registered name (canonical, not an alias); None when none is registered.
    """
    for name in detect_template_format(template).candidates:
        entry = find_entry(name)
        if entry is not None:
            return entry.name
    return None
