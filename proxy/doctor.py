"""``fcproxy doctor``: what the upstream is, and what fcproxy would do with it.

The first thing to run when something is off::

    $ fcproxy doctor --upstream http://127.0.0.1:8080
    upstream:        http://127.0.0.1:8080
    server:          llama.cpp's llama-server b6795 (found by GET /props)
    backend:         llamacpp
    models:          SmolLM2-135M-Instruct
    context length:  2048 tokens
    chat template:   Jinja, 12 lines:
                       {% for message in messages %}...
    grammar:         yes: calls are constrained by GBNF grammars
    token counting:  yes: the server's tokenizer
    embeddings:      no: ...
    wrapper:         chatml (chosen from the chat template's markers: <|im_start|>)
    client APIs:     OpenAI Chat Completions  /v1/chat/completions (tools and functions)
                     Anthropic Messages       /v1/messages, /v1/messages/count_tokens (...)
                     OpenAI Responses         /v1/responses (function tools, ...)

:func:`run_doctor` gathers a :class:`DoctorReport` (``--json`` prints it as
JSON); :func:`format_report` lays it out for people. Nothing here changes
the upstream: the probes are GETs, plus one token count and one embedding of
"hello" to see whether those work.

Where the server does not tell its chat template (llama-cpp-python's server,
vLLM) but names a GGUF file that exists on this machine (llama-cpp-python
names the model by its path), the template and the trained context length
are read from that file's metadata (:func:`read_gguf_metadata`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from proxy.backends import ALIASES, create_backend
from proxy.backends.base import Backend, SelfDescribing, UpstreamConfig, UpstreamProps
from proxy.detect import PROBE_TIMEOUT, SERVERS, Detection, detect
from proxy.errors import EmbeddingsNotSupported, ProxyError, UpstreamError
from proxy.redaction import redact_url

#: Lines of the chat template shown in the human-readable report.
TEMPLATE_LINES = 3


@dataclass
class DoctorReport:
    upstream: str
    #: False when nothing could be asked (the reason is in ``error``).
    reachable: bool = False
    error: str | None = None
    #: The kind of server (proxy.detect.SERVERS), its version, and the probe that told.
    server: str | None = None
    version: str | None = None
    detected_by: str | None = None
    #: The backend fcproxy speaks to it with, and why that one.
    backend: str | None = None
    notes: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    model_path: str | None = None
    context_window: int | None = None
    trained_context_window: int | None = None
    chat_template: str | None = None
    #: "jinja", or "go" for Ollama's templates.
    template_language: str | None = None
    #: Where the template came from: "server", or the GGUF file read on this machine.
    template_source: str | None = None
    grammar: bool = False
    token_counting: bool | None = None
    token_counting_detail: str = ""
    embeddings: bool | None = None
    embeddings_detail: str = ""
    wrapper: str | None = None
    wrapper_reason: str = ""

    @property
    def server_label(self) -> str | None:
        if self.server is None:
            return None
        name = SERVERS.get(self.server, self.server)
        return f"{name} {self.version}" if self.version else name

    @property
    def client_apis(self) -> list[str]:
        """What a client can use through fcproxy in front of this upstream."""
        counted = "by the server's tokenizer" if self.token_counting else "estimated"
        apis = [
            "OpenAI Chat Completions  /v1/chat/completions (tools and functions)",
            f"Anthropic Messages       /v1/messages, /v1/messages/count_tokens ({counted})",
            "OpenAI Responses         /v1/responses (function tools, previous_response_id)",
        ]
        if self.embeddings:
            apis.append("OpenAI Embeddings        /v1/embeddings")
        return apis

    def to_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "server_label": self.server_label,
            "client_apis": self.client_apis,
        }


async def run_doctor(
    url: str,
    *,
    backend_name: str | None = None,
    api_key: str | None = None,
    timeout: float = 10.0,
    default_wrapper: str = "chatml",
) -> DoctorReport:
    """Ask the upstream at ``url`` everything ``fcproxy doctor`` shows."""
    url = url.rstrip("/")
    report = DoctorReport(upstream=redact_url(url))
    try:
        detection = await detect(url, api_key=api_key, timeout=min(timeout, PROBE_TIMEOUT))
    except UpstreamError as exc:
        report.error = exc.message
        return report
    report.reachable = True
    _describe_detection(report, detection, backend_name)
    assert report.backend is not None
    config = UpstreamConfig(url=url, api_key=api_key, timeout=timeout, connect_timeout=timeout)
    backend = create_backend(report.backend, config)
    try:
        await _ask_backend(report, backend, timeout)
    finally:
        await backend.aclose()
    report.wrapper, report.wrapper_reason = choose_wrapper(report.chat_template, default_wrapper)
    return report


def _describe_detection(report: DoctorReport, found: Detection, backend_name: str | None) -> None:
    report.server, report.version, report.detected_by = found.server, found.version, found.evidence
    if backend_name in (None, "", "auto"):
        report.backend = found.backend
        return
    assert backend_name is not None
    report.backend = ALIASES.get(backend_name, backend_name)
    if report.backend != found.backend and found.server != "openai-compatible":
        report.notes.append(
            f"the upstream looks like {found.label}, which --backend {found.backend} speaks; "
            f"--backend {backend_name} may not understand it"
        )


async def _ask_backend(report: DoctorReport, backend: Backend, timeout: float) -> None:
    report.grammar = backend.supports_grammar
    report.models = await backend.models()
    props = UpstreamProps(server=report.server or backend.name)
    if isinstance(backend, SelfDescribing):
        try:
            props = await backend.props()
        except ProxyError as exc:
            report.notes.append(f"the upstream did not describe itself: {exc.message}")
    report.version = report.version or props.version
    report.model_path = props.model_path
    report.context_window = props.context_window
    report.trained_context_window = props.trained_context_window
    report.chat_template = props.chat_template
    if props.chat_template:
        report.template_language = "go" if report.server == "ollama" else "jinja"
        report.template_source = "server"
    if props.model and props.model not in report.models:
        report.models.insert(0, props.model)
    if not report.chat_template or not (report.context_window or report.trained_context_window):
        _read_local_model_file(report)

    try:
        count = await asyncio.wait_for(backend.count_tokens("Hello, world."), timeout)
    except (ProxyError, TimeoutError) as exc:
        report.token_counting, report.token_counting_detail = False, _reason(exc)
    else:
        report.token_counting = count is not None
        report.token_counting_detail = (
            "the server's tokenizer"
            if count is not None
            else "no tokenizer endpoint; fcproxy estimates 1 token per 4 characters"
        )

    try:
        embedded = await asyncio.wait_for(backend.embed(["hello"], None), timeout)
    except EmbeddingsNotSupported as exc:
        report.embeddings, report.embeddings_detail = False, exc.message
    except (ProxyError, TimeoutError) as exc:
        report.embeddings, report.embeddings_detail = False, _reason(exc)
    else:
        width = len(embedded.vectors[0]) if embedded.vectors else 0
        report.embeddings, report.embeddings_detail = True, f"{width} dimensions"


def _read_local_model_file(report: DoctorReport) -> None:
    """Fill the template and trained context from a GGUF file the server names, if it is here."""
    for candidate in [report.model_path, *report.models]:
        if not candidate or not candidate.lower().endswith(".gguf"):
            continue
        path = Path(candidate)
        if not path.is_file():
            continue
        try:
            meta = read_gguf_metadata(path, _wanted_gguf_key)
        except (OSError, ValueError, struct.error) as exc:
            report.notes.append(f"could not read the model file {path}: {exc}")
            return
        template = meta.get("tokenizer.chat_template")
        found = []
        if not report.chat_template and isinstance(template, str) and template:
            report.chat_template, report.template_language = template, "jinja"
            report.template_source = str(path)
            found.append("chat template")
        trained = next(
            (v for k, v in meta.items() if k.endswith(".context_length") and isinstance(v, int)),
            None,
        )
        if trained and not report.trained_context_window:
            report.trained_context_window = trained
            found.append("trained context length")
        if found:
            report.notes.append(
                f"{' and '.join(found)} read from the model file {path} (the server does not "
                "expose them)"
            )
        return


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ProxyError):
        return exc.message
    return f"no answer in time ({type(exc).__name__})"


def choose_wrapper(template: str | None, default: str) -> tuple[str, str]:
    """The wrapper for a model with this chat template, and why (the default when unsure).

    The choice from the template's markers is ``wrappers.template_detection``'s;
    without that module, or a template, it is the configured default.
    """
    if not template:
        return default, "the configured default: the upstream exposes no chat template"
    try:
        detection = importlib.import_module("wrappers.template_detection")
    except ImportError:
        return default, (
            "the configured default: choosing from the chat template needs "
            "wrappers.template_detection, which this build does not have"
        )
    try:
        chosen = detection.wrapper_for_template(template)
        describe = getattr(detection, "detect_template_format", None)
        markers = getattr(describe(template), "markers", ()) if callable(describe) else ()
    except Exception as exc:  # a broken wrapper module must not hide the rest of the report
        return default, (
            f"the configured default: choosing from the chat template failed "
            f"({type(exc).__name__}: {exc})"
        )
    if not chosen:
        return default, "the configured default: no wrapper matches the chat template"
    reason = "chosen from the chat template's markers"
    if markers:
        reason += ": " + ", ".join(str(m) for m in markers)
    return str(chosen), reason


def format_report(report: DoctorReport) -> str:
    """``key: value`` lines, values aligned, for people."""
    rows: list[tuple[str, str]] = [("upstream", report.upstream)]
    if not report.reachable:
        rows.append(("error", report.error or "unreachable"))
        return _align(rows)
    rows.append(("server", f"{report.server_label} (found by {report.detected_by})"))
    rows.append(("backend", report.backend or "?"))
    rows.append(("models", ", ".join(report.models) or "none listed"))
    if report.model_path:
        rows.append(("model file", report.model_path))
    rows.append(("context length", _context(report)))
    rows.append(("chat template", _template(report)))
    rows.append(
        (
            "grammar",
            "yes: calls are constrained by GBNF grammars"
            if report.grammar
            else "no: calls are parsed from free text (retried when unusable)",
        )
    )
    rows.append(
        (
            "token counting",
            f"{'yes' if report.token_counting else 'no'}: {report.token_counting_detail}",
        )
    )
    rows.append(
        ("embeddings", f"{'yes' if report.embeddings else 'no'}: {report.embeddings_detail}")
    )
    rows.append(("wrapper", f"{report.wrapper} ({report.wrapper_reason})"))
    rows.append(("client APIs", "\n".join(report.client_apis)))
    rows.extend(("note", note) for note in report.notes)
    return _align(rows)


def _context(report: DoctorReport) -> str:
    trained = report.trained_context_window
    if report.context_window:
        text = f"{report.context_window} tokens"
        if trained and trained != report.context_window:
            text += f" (the model was trained for {trained})"
        return text
    if trained:
        return (
            f"not exposed by this server (the model was trained for {trained} tokens); set "
            "context_window to the context it was started with"
        )
    return (
        "not exposed by this server; set context_window to the context it was started "
        "with, so that over-long prompts are refused instead of cut"
    )


def _template(report: DoctorReport) -> str:
    template = report.chat_template
    if not template:
        return "not exposed by this server"
    lines = template.splitlines() or [template]
    language = "Go template" if report.template_language == "go" else "Jinja"
    if report.template_source not in (None, "server"):
        language += " (from the model file)"
    shown = [line if len(line) <= 100 else line[:97] + "..." for line in lines[:TEMPLATE_LINES]]
    if len(lines) > TEMPLATE_LINES:
        shown.append("...")
    head = f"{language}, {len(lines)} line{'s' if len(lines) != 1 else ''}:"
    return "\n".join([head, *("  " + line for line in shown)])


def _align(rows: list[tuple[str, str]]) -> str:
    width = max(len(key) for key, _ in rows) + 2
    out: list[str] = []
    for key, value in rows:
        first, *rest = value.split("\n")
        out.append(f"{key + ':':<{width}} {first}".rstrip())
        out.extend(f"{'':<{width}} {line}".rstrip() for line in rest)
    return "\n".join(out)


# -- GGUF metadata -------------------------------------------------------------------------
# The layout is GGUF's (github.com/ggerganov/ggml, docs/gguf.md), versions 2 and 3:
# "GGUF", uint32 version, uint64 tensor count, uint64 key-value count, then per
# pair a string key, a uint32 value type and the value; strings are a uint64
# length and UTF-8 bytes; arrays a uint32 element type, a uint64 count and the
# elements. All little-endian.


def _wanted_gguf_key(key: str) -> bool:
    return key in ("general.architecture", "general.name", "tokenizer.chat_template") or (
        key.endswith(".context_length")
    )


#: GGUF value type -> struct format of the scalar types.
_GGUF_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_GGUF_STRING, _GGUF_ARRAY = 8, 9
#: No metadata string is this long; a larger length means a corrupt or foreign file.
_GGUF_MAX_STRING = 64 * 1024 * 1024


def read_gguf_metadata(path: Path, wanted: Callable[[str], bool]) -> dict[str, Any]:
    """The metadata values of a GGUF file whose keys ``wanted`` accepts (others are skipped)."""
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ValueError("not a GGUF file")
        (version,) = struct.unpack("<I", file.read(4))
        if version < 2:
            raise ValueError(f"GGUF version {version} is not supported")
        _count = _gguf_scalar(file, 10)  # tensors
        found: dict[str, Any] = {}
        for _ in range(_gguf_scalar(file, 10)):
            key = _gguf_string(file)
            kind = _gguf_scalar(file, 4)
            if wanted(key):
                found[key] = _gguf_value(file, kind)
            else:
                _gguf_skip(file, kind)
        return found


def _gguf_scalar(file: BinaryIO, kind: int) -> Any:
    fmt = _GGUF_SCALARS.get(kind)
    if fmt is None:
        raise ValueError(f"unknown GGUF value type {kind}")
    return struct.unpack(fmt, file.read(struct.calcsize(fmt)))[0]


def _gguf_length(file: BinaryIO) -> int:
    length = int(_gguf_scalar(file, 10))
    if length > _GGUF_MAX_STRING:
        raise ValueError(f"implausible GGUF length {length}")
    return length


def _gguf_string(file: BinaryIO) -> str:
    return file.read(_gguf_length(file)).decode("utf-8", "replace")


def _gguf_value(file: BinaryIO, kind: int) -> Any:
    if kind == _GGUF_STRING:
        return _gguf_string(file)
    if kind == _GGUF_ARRAY:
        item_kind = _gguf_scalar(file, 4)
        return [_gguf_value(file, item_kind) for _ in range(_gguf_length(file))]
    return _gguf_scalar(file, kind)


def _gguf_skip(file: BinaryIO, kind: int) -> None:
    if kind == _GGUF_STRING:
        file.seek(_gguf_length(file), 1)
    elif kind == _GGUF_ARRAY:
        item_kind = _gguf_scalar(file, 4)
        count = int(_gguf_scalar(file, 10))
        if item_kind in _GGUF_SCALARS:  # fixed size: skip them all at once
            file.seek(count * struct.calcsize(_GGUF_SCALARS[item_kind]), 1)
        else:
            for _ in range(count):
                _gguf_skip(file, item_kind)
    else:
        fmt = _GGUF_SCALARS.get(kind)
        if fmt is None:
            raise ValueError(f"unknown GGUF value type {kind}")
        file.seek(struct.calcsize(fmt), 1)
