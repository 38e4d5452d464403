"""Wrapper names and aliases -> wrapper instances.

Three sources, in this order:

1. built-in wrappers: each module in ``_BUILTIN_MODULES`` exposes
   ``WRAPPER_ENTRIES``, a list of :class:`WrapperEntry`;
2. third-party packages: entry points in the group ``fcproxy.wrappers``
   (entry point name = wrapper name, object = a wrapper class or factory);
3. a dotted path given in the config (``mypkg.mywrappers:MyWrapper`` or
   ``mypkg.mywrappers.MyWrapper``), loaded on demand by :func:`get_wrapper`.

Names match case-insensitively: MemGPT users type ``zephyr-7B`` or
``zephyr-7b``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points

from wrappers.base import LLMChatCompletionWrapper

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "fcproxy.wrappers"

WrapperFactory = Callable[[], LLMChatCompletionWrapper]

_BUILTIN_MODULES = (
    "wrappers.airoboros",
    "wrappers.dolphin",
    "wrappers.zephyr",
    "wrappers.chatml",
    "wrappers.llama3",
    # Before glm4 and hermes: all open calls with <tool_call>; detection tries equal
    # openers in this order (HyperCLOVA X 32B claims only GLM calls with quoted values).
    "wrappers.hyperclovax_32b",
    # Before hermes: both open calls with <tool_call>; detection tries equal openers in this order.
    "wrappers.glm4",
    "wrappers.hermes",
    "wrappers.llama3_json",
    "wrappers.mistral",
    "wrappers.functionary",
    "wrappers.pythonic",
    "wrappers.generic_json",
    "wrappers.auto",
    "wrappers.deepseek",
    "wrappers.granite",
    "wrappers.phi4",
    "wrappers.qwen3_coder",
    "wrappers.command_r",
    "wrappers.gemma",
    "wrappers.kimi_k2",
    "wrappers.lfm2",
    "wrappers.seed_oss",
    "wrappers.gemma4",
    "wrappers.harmony",
    "wrappers.minimax",
    "wrappers.deepseek_dsml",
    "wrappers.functiongemma",
    "wrappers.nemotron",
    "wrappers.apertus",
    "wrappers.minicpm5",
    "wrappers.kimi_k3",
    "wrappers.xlam",
    "wrappers.olmo3",
    "wrappers.internlm2",
    # Before hunyuan: both open calls with <tool_calls>; detection tries equal openers in
    # this order, and minimax_m1 claims only objects (Hunyuan, Jamba, Apriel write a list).
    "wrappers.minimax_m1",
    "wrappers.hunyuan",
    "wrappers.granite4",
    "wrappers.granite_20b_fc",
    "wrappers.gigachat3",
    "wrappers.ernie45",
    "wrappers.longcat",
    "wrappers.jamba",
    "wrappers.apriel",
    "wrappers.step3",
    "wrappers.gigachat35",
    "wrappers.minimax_m3",
    "wrappers.hunyuan_v3",
    "wrappers.hunyuan_v4",
    "wrappers.step_audio2",
    "wrappers.muse_glimmer",
    "wrappers.hyperclovax",
    "wrappers.qwen25_coder",
    "wrappers.inkling",
    "wrappers.deepseek_v4",
    "wrappers.zaya",
    "wrappers.mirothinker",
    "wrappers.dots",
    "wrappers.solar_open2",
    "wrappers.plamo3",
    "wrappers.cwm",
    "wrappers.iquest_coder",
    "wrappers.k2_horizon",
    "wrappers.rwkv",
    "wrappers.pangu",
    "wrappers.granite_pythonic",
    "wrappers.solar_open",
)


@dataclass(frozen=True)
class WrapperEntry:
    """A registered wrapper: its name, how to build it, and its other names."""

    name: str
    factory: WrapperFactory
    aliases: tuple[str, ...] = ()
    description: str = ""
    source: str = field(default="builtin", compare=False)
    #: "memgpt" (MemGPT's JSON-call formats), "tool-call" (formats with the
    #: model's own call markers), or "custom" (plug-ins).
    family: str = "custom"


class UnknownWrapperError(LookupError):
    """No wrapper has this name; the message lists the ones that exist."""

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(
            f"unknown wrapper {name!r}; available wrappers: {', '.join(available)}"
            " (or a dotted path such as 'mypackage.module:MyWrapper')"
        )
        self.name = name
        self.available = available


@cache
def _entries() -> dict[str, WrapperEntry]:
    """All registered wrappers keyed by lower-cased name *and* alias."""
    found: list[WrapperEntry] = []
    for module_name in _BUILTIN_MODULES:
        module = importlib.import_module(module_name)
        found.extend(module.WRAPPER_ENTRIES)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plug-in must not take the server down
            logger.warning("wrapper entry point %r failed to load: %s", ep.name, exc)
            continue
        found.append(WrapperEntry(name=ep.name, factory=obj, source=f"entry point {ep.value}"))

    table: dict[str, WrapperEntry] = {}
    for entry in found:
        for key in (entry.name, *entry.aliases):
            table.setdefault(key.lower(), entry)
    return table


def list_wrappers() -> list[WrapperEntry]:
    """Every registered wrapper once, in registration order."""
    seen: dict[str, WrapperEntry] = {}
    for entry in _entries().values():
        seen.setdefault(entry.name, entry)
    return list(seen.values())


def wrapper_names() -> list[str]:
    return [entry.name for entry in list_wrappers()]


def find_entry(name: str) -> WrapperEntry | None:
    """The registered wrapper with this name or alias, or None."""
    return _entries().get(name.lower())


def _load_dotted(path: str) -> WrapperFactory:
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ImportError(f"{path!r} is not a dotted path")
    module = importlib.import_module(module_name)
    factory: WrapperFactory = getattr(module, attr)
    return factory


def get_wrapper(name: str) -> LLMChatCompletionWrapper:
    """Build the wrapper registered as ``name`` (or alias), or load a dotted path.

    Raises :class:`UnknownWrapperError` listing the available names.
    """
    entry = find_entry(name)
    if entry is not None:
        return _instantiate(entry.factory, name)
    if "." in name or ":" in name:
        try:
            factory = _load_dotted(name)
        except (ImportError, AttributeError) as exc:
            raise UnknownWrapperError(name, wrapper_names()) from exc
        return _instantiate(factory, name)
    raise UnknownWrapperError(name, wrapper_names())


def _instantiate(factory: WrapperFactory, name: str) -> LLMChatCompletionWrapper:
    wrapper = factory()
    if not isinstance(wrapper, LLMChatCompletionWrapper):
        # Duck-typed MemGPT wrappers (not subclasses of our base) are accepted
        # if they have the two MemGPT methods.
        if hasattr(wrapper, "chat_completion_to_prompt") and hasattr(
            wrapper, "output_to_chat_completion_response"
        ):
            return _MemGPTDuckWrapper(wrapper)
        raise TypeError(f"wrapper {name!r} did not build an LLMChatCompletionWrapper")
    return wrapper


class _MemGPTDuckWrapper(LLMChatCompletionWrapper):
    """Adapts a MemGPT wrapper object that does not subclass our base."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def chat_completion_to_prompt(self, messages, functions, **kwargs):  # type: ignore[no-untyped-def]
        return self._inner.chat_completion_to_prompt(messages, functions)  # type: ignore[attr-defined]

    def output_to_chat_completion_response(self, raw_llm_output, **kwargs):  # type: ignore[no-untyped-def]
        return self._inner.output_to_chat_completion_response(raw_llm_output)  # type: ignore[attr-defined]
