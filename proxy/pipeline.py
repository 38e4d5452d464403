"""The whole story of one chat completion request, top to bottom.

1. normalize   functions/function_call <-> tools/tool_choice -> one request  (dialects.py)
2. route       model name -> (wrapper, backend)                            (routing.py)
3. render      wrapper.render(messages, functions) -> Prompt
4. generate    backend.complete(prompt, params), after a context-window check
5. parse       wrapper.parse(text) -> content + calls
6. check       call names among the request's functions, arguments valid JSON
               and valid against the function's schema; if not, bounded retry
7. respond     the caller builds a ChatCompletion (or SSE chunks) from the
               :class:`ChatResult` in the client's dialect            (responses.py)

This module is the only place that knows the order.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from proxy.backends.base import Completion, GenerationParams, TextDelta
from proxy.call_gate import CallGate
from proxy.config import Settings
from proxy.dialects import NormalizedRequest, normalize
from proxy.errors import ContextLengthExceeded, InvalidRequestError, OutputParseError
from proxy.json_body import replace_lone_surrogates
from proxy.reask import reask_messages
from proxy.routing import Route, Router
from proxy.schemas import ChatCompletionRequest
from proxy.structured import ResponseFormat, read_content, with_instruction
from proxy.tool_schemas import argument_error
from proxy.usage import Usage, count_tokens, resolve_usage
from wrappers.base import (
    AutoGrammar,
    FunctionSchema,
    LLMChatCompletionWrapper,
    Message,
    ParsedOutput,
    Prompt,
    RenderOptions,
    WrapperParseError,
)
from wrappers.jinja_template import ChatTemplateError
from wrappers.json_extract import repaired_json
from wrappers.json_schema_grammar import SchemaGrammarError, schema_grammar
from wrappers.streaming import OutputDelta, OutputReader, PlainText, StreamParser

logger = logging.getLogger("fcproxy.pipeline")

#: Room a prompt must leave in the context window for the answer (or the
#: client's max_tokens, if smaller): a MemGPT call needs a few hundred tokens.
MIN_ANSWER_TOKENS = 256
#: What a response_format answer failed to be, in its 502.
JSON_ANSWER = "the JSON the response_format asks for"


@dataclass(frozen=True)
class ChatResult:
    """Everything the response step needs, in neither dialect yet."""

    model: str
    dialect: str
    output: ParsedOutput
    finish_reason: str
    usage: Usage
    attempts: int = 1
    warnings: list[str] = field(default_factory=list)
    #: The client's stop sequence that ended the text, where known (no calls then).
    stop_sequence: str | None = None


@dataclass(frozen=True)
class CheckedOutput:
    output: ParsedOutput
    #: Why the output is not a usable answer yet (None: it is).
    problem: str | None = None
    #: The output holds calls, but their arguments break the schema.
    schema_problem: str | None = None
    #: ``response_format`` asked for JSON and the content is not that (no call either).
    content_problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None and self.schema_problem is None and not self.content_problem

    @property
    def what_is_wrong(self) -> str | None:
        return self.content_problem or self.problem or self.schema_problem


@dataclass(frozen=True)
class Prepared:
    """Steps 1-3 done: what every attempt at generating an answer starts from."""

    request: ChatCompletionRequest
    normalized: NormalizedRequest
    route: Route
    options: RenderOptions
    prompt: Prompt
    params: GenerationParams
    prompt_count: tuple[int, str] | None


@dataclass(frozen=True)
class StreamStart:
    """The first event of a streamed answer: the attempt that is being sent."""

    attempt: int


@dataclass(frozen=True)
class StreamEnd:
    """The last event of a streamed answer."""

    finish_reason: str
    usage: Usage
    attempts: int
    warnings: list[str] = field(default_factory=list)
    #: The answer as the client has assembled it (content, calls with their ids).
    output: ParsedOutput = field(default_factory=lambda: ParsedOutput(content=None))
    #: The client's stop sequence that ended the text, where known (no calls then).
    stop_sequence: str | None = None


StreamEvent = StreamStart | OutputDelta | StreamEnd


class PipelineObserver(Protocol):
    """Who hears of parse outcomes and answers (proxy/metrics.py's Metrics)."""

    def parsed(self, wrapper: str, outcome: str, seconds: float) -> None: ...

    def answered(
        self, model: str, attempts: int, prompt_tokens: int, completion_tokens: int
    ) -> None: ...


class ChatPipeline:
    def __init__(
        self, router: Router, settings: Settings, observer: PipelineObserver | None = None
    ) -> None:
        self.router = router
        self.settings = settings
        self.observer = observer

    async def prepare(self, request: ChatCompletionRequest) -> Prepared:
        """Steps 1-3, and the generation parameters (after the context-window check)."""
        normalized, route, options, prompt = self.render(request)
        params, prompt_count = await self._generation_params(request, route, prompt)
        return Prepared(request, normalized, route, options, prompt, params, prompt_count)

    async def count_prompt_tokens(self, request: ChatCompletionRequest) -> tuple[int, str]:
        """Tokens in the prompt ``request`` renders to (the upstream's tokenizer, else
        the estimate), with no context-window check: Anthropic's ``count_tokens``."""
        _, route, _, prompt = self.render(request)
        return await count_tokens(route.backend, prompt.text)

    def render(
        self, request: ChatCompletionRequest
    ) -> tuple[NormalizedRequest, Route, RenderOptions, Prompt]:
        """Steps 1-3: normalize, route, render."""
        normalized = normalize(request)  # 1
        route = self.router.route(request.model)  # 2
        constrain = self._may_constrain(route)
        options = _render_options(
            normalized,
            grammar=constrain and route.backend.supports_grammar,
            json_schema=constrain and route.backend.supports_json_schema,
            auto_grammar=_auto_grammar(route, normalized) if constrain else "none",
        )
        fmt = normalized.response_format
        messages = with_instruction(normalized.messages, fmt) if fmt else normalized.messages
        prompt = self._render(normalized, route, options, messages)  # 3
        return normalized, route, options, prompt

    def _may_constrain(self, route: Route) -> bool:
        """Whether this route's answers may be constrained at all (``grammar``, ``constrain``)."""
        return self.settings.grammar and route.constrain != "never"

    def _render(
        self,
        normalized: NormalizedRequest,
        route: Route,
        options: RenderOptions,
        messages: list[Message],
    ) -> Prompt:
        """Step 3 for ``messages``: the wrapper's prompt, constrained to the response format."""
        try:
            prompt = route.wrapper.render(messages, normalized.functions, options)
        except ChatTemplateError as exc:
            # The model's own template refused the conversation ("roles must
            # alternate", ...): the client's request, not a server fault.
            raise InvalidRequestError(
                f"The model's chat template refused this request: {exc}"
            ) from None
        fmt = normalized.response_format
        if fmt is None or normalized.functions or not self._may_constrain(route):
            # With tools, the answer is a call or JSON content: the wrapper's
            # call grammar does not cover both, so the content is checked after.
            return prompt
        return constrain_content(prompt, fmt, route)

    async def run(self, request: ChatCompletionRequest) -> ChatResult:
        started = time.perf_counter()
        prepared = await self.prepare(request)
        normalized, route, prompt = prepared.normalized, prepared.route, prepared.prompt

        max_attempts = 1 + self.settings.max_retries
        deadline = started + self.settings.retry_budget_s
        checked: CheckedOutput | None = None
        completion: Completion | None = None
        attempt_prompt, params, prompt_count = prompt, prepared.params, prepared.prompt_count
        usages: list[Usage] = []
        attempt = 0
        for attempt in range(1, max_attempts + 1):
            completion = _valid_unicode(  # 4
                await route.backend.complete(attempt_prompt.text, params)
            )
            usages.append(await self._usage(prepared, completion, attempt_prompt, prompt_count))
            parse_started = time.perf_counter()
            repaired = repaired_json.set(False)
            checked = check_output(  # 5 + 6
                route.wrapper, completion.text, normalized, prepared.options
            )
            was_repaired = repaired_json.get()
            repaired_json.reset(repaired)
            worth_retrying = not checked.usable and _worth_retrying(
                checked, completion.text, normalized
            )
            self._observe_parse(
                prepared,
                checked,
                was_repaired,
                worth_retrying and attempt < max_attempts and time.perf_counter() < deadline,
                time.perf_counter() - parse_started,
            )
            if not worth_retrying:
                break
            self._log_unusable(prepared, attempt, max_attempts, checked)
            if attempt == max_attempts:
                break
            if time.perf_counter() >= deadline:
                logger.info("retry budget of %.0f s spent", self.settings.retry_budget_s)
                break
            reask = await self._reask(prepared, completion.text, checked)
            if reask is None:
                break
            attempt_prompt, params, prompt_count = reask
        assert checked is not None and completion is not None

        warnings: list[str] = []
        if checked.content_problem is not None:
            raise OutputParseError(
                checked.content_problem, completion.text, attempts=attempt, expected=JSON_ANSWER
            )
        if checked.problem is not None:
            if normalized.choice.call_required:
                raise OutputParseError(checked.problem, completion.text, attempts=attempt)
            # Under "auto" an answer without a call is a legitimate answer.
            warnings.append(checked.problem)
        if checked.schema_problem is not None:
            # The arguments are valid JSON, so the client can read them; its
            # own validation reports the mismatch better than a 502 would.
            warnings.append(checked.schema_problem)

        output = checked.output
        usage = sum_usage(usages)
        finish_reason = _finish_reason(normalized, output, completion)
        self._log_answer(prepared, output, attempt, usage, started)
        return ChatResult(
            model=request.model,
            dialect=normalized.dialect,
            output=output,
            finish_reason=finish_reason,
            usage=usage,
            attempts=attempt,
            warnings=warnings,
            stop_sequence=_stop_sequence(params, output, completion),
        )

    async def run_stream(self, prepared: Prepared) -> AsyncIterator[StreamEvent]:
        """Steps 4-6 as the model writes: :class:`StreamStart`, deltas, :class:`StreamEnd`.

        When output may leave (docs/streaming.md): content under ``auto`` at
        once; calls once their name passes the checks, arguments as written.
        Where a call is required and no grammar guarantees one, everything is
        held until a call's name passes the checks, so that an attempt without
        a usable call can still be retried silently. Once anything was sent,
        a problem becomes a warning, and a call cut off is closed into valid
        JSON with ``finish_reason: "length"``.
        """
        started = time.perf_counter()
        normalized, route, prompt = prepared.normalized, prepared.route, prepared.prompt
        reader: OutputReader = route.wrapper if normalized.functions else PlainText()
        constrained = bool(prompt.grammar or prompt.json_schema)
        max_attempts = 1 + self.settings.max_retries
        fmt = normalized.response_format
        # Unconstrained JSON is held whole while a retry is possible: a
        # failed attempt can then be re-asked silently (docs/streaming.md).
        hold_json = fmt is not None and not constrained and max_attempts > 1
        hold = (normalized.choice.call_required and not constrained) or hold_json
        starts_in_reasoning = prompt.text.rstrip().endswith("<think>")
        deadline = started + self.settings.retry_budget_s
        attempt_prompt, params, prompt_count = prompt, prepared.params, prepared.prompt_count
        usages: list[Usage] = []
        for attempt in range(1, max_attempts + 1):
            parser = StreamParser(
                reader,
                normalized.functions,
                prepared.options,
                starts_in_reasoning=starts_in_reasoning,
            )
            gate = CallGate(normalized, hold=hold)
            started_sending = False
            deltas = route.backend.stream(attempt_prompt.text, params)  # 4
            completion_parts: list[str] = []
            finish: str | None = None
            stop_word: str | None = None
            counts: list[int | None] = [None, None]
            try:
                async for piece in deltas:
                    # An upstream's JSON may hold lone surrogates (\ud800), which
                    # UTF-8 cannot encode into the answer.
                    piece = _valid_delta(piece)
                    completion_parts.append(piece.text)
                    finish = piece.finish_reason or finish
                    stop_word = piece.stop_word or stop_word
                    if piece.prompt_tokens is not None:
                        counts[0] = piece.prompt_tokens
                    if piece.completion_tokens is not None:
                        counts[1] = piece.completion_tokens
                    ready = gate.admit(parser.feed(piece.text))  # 5, as far as known
                    if ready and not started_sending:
                        started_sending = True
                        yield StreamStart(attempt)
                    for delta in ready:
                        yield delta
            finally:
                # Closing the upstream stream closes its request: a client that
                # left stops the generation.
                await deltas.aclose()
            raw = "".join(completion_parts)
            completion = Completion(raw, counts[0], counts[1], finish, stop_word)
            usages.append(await self._usage(prepared, completion, attempt_prompt, prompt_count))
            parse_started = time.perf_counter()
            repaired = repaired_json.set(False)
            tail, parsed = parser.finish()
            checked = check_parsed(parsed, raw, normalized)  # 6
            was_repaired = repaired_json.get()
            repaired_json.reset(repaired)
            retry = (
                not gate.sent_anything
                and not checked.usable
                and attempt < max_attempts
                and _worth_retrying(checked, raw, normalized)
                and time.perf_counter() < deadline
            )
            self._observe_parse(
                prepared, checked, was_repaired, retry, time.perf_counter() - parse_started
            )
            if retry:
                self._log_unusable(prepared, attempt, max_attempts, checked)
                reask = await self._reask(prepared, raw, checked)
                if reask is not None:
                    attempt_prompt, params, prompt_count = reask
                    continue
            if not gate.sent_anything and checked.content_problem:
                raise OutputParseError(
                    checked.content_problem, raw, attempts=attempt, expected=JSON_ANSWER
                )
            if not gate.sent_anything and checked.problem and normalized.choice.call_required:
                raise OutputParseError(checked.problem, raw, attempts=attempt)
            ready = gate.admit(tail)
            if gate.holding:
                ready = gate.release() + ready
                if hold_json and not checked.output.tool_calls:
                    # The JSON alone, without the prose or fences around it.
                    ready = [d for d in ready if d.kind != "content"]
                    ready.append(OutputDelta("content", checked.output.content or ""))
            warnings = [
                p for p in (checked.problem, checked.schema_problem, checked.content_problem) if p
            ]
            if parser.divergence:
                logger.warning("stream differs from the one-shot parse: %s", parser.divergence)
                warnings.append(f"the streamed answer differs from the output: {parser.divergence}")
            final_args = {i: c.arguments for i, c in enumerate(checked.output.tool_calls)}
            closing = gate.close_calls(final_args)
            output = checked.output
            finish_reason = _finish_reason(normalized, output, completion)
            if closing:
                ready += closing
                finish_reason = "length"
                warnings.append("a call was cut off; its arguments were closed into valid JSON")
            elif gate.calls_sent and not output.tool_calls:
                finish_reason = "tool_calls" if normalized.dialect == "tools" else "function_call"
            if not started_sending:
                yield StreamStart(attempt)
            for delta in ready:
                yield delta
            usage = sum_usage(usages)
            self._log_answer(prepared, output, attempt, usage, started)
            stop_sequence = None if closing else _stop_sequence(params, output, completion)
            yield StreamEnd(finish_reason, usage, attempt, warnings, output, stop_sequence)
            return

    async def _usage(
        self,
        prepared: Prepared,
        completion: Completion,
        prompt: Prompt | None = None,
        prompt_count: tuple[int, str] | None = None,
    ) -> Usage:
        """One attempt's usage (``prompt``: the attempt's, when it was a re-ask)."""
        return await resolve_usage(
            prepared.route.backend,
            (prompt or prepared.prompt).text,
            completion.text,
            reported_prompt=completion.prompt_tokens,
            reported_completion=completion.completion_tokens,
            known_prompt=prompt_count if prompt is not None else prepared.prompt_count,
        )

    async def _reask(
        self, prepared: Prepared, previous_output: str, checked: CheckedOutput
    ) -> tuple[Prompt, GenerationParams, tuple[int, str] | None] | None:
        """The next attempt's prompt: the failed answer and what was wrong (proxy/reask.py).

        None when the longer conversation no longer fits the context window:
        the retry is then not made, and the last answer stands.
        """
        normalized = prepared.normalized
        fmt = normalized.response_format
        messages = with_instruction(normalized.messages, fmt) if fmt else normalized.messages
        messages = reask_messages(
            messages,
            previous_output,
            checked.what_is_wrong or "the answer was not usable",
            functions=normalized.functions,
            call_required=normalized.choice.call_required,
            wants_json=fmt is not None,
        )
        prompt = self._render(normalized, prepared.route, prepared.options, messages)
        try:
            params, prompt_count = await self._generation_params(
                prepared.request, prepared.route, prompt
            )
        except ContextLengthExceeded:
            logger.info("no re-ask: the conversation with the failed answer does not fit")
            return None
        return prompt, params, prompt_count

    def _log_unusable(
        self, prepared: Prepared, attempt: int, max_attempts: int, checked: CheckedOutput
    ) -> None:
        logger.info(
            "model=%s wrapper=%s attempt %d/%d unusable output: %s",
            prepared.request.model,
            prepared.route.wrapper_name,
            attempt,
            max_attempts,
            checked.problem or checked.schema_problem,
        )

    def _observe_parse(
        self,
        prepared: Prepared,
        checked: CheckedOutput,
        repaired: bool,
        retry: bool,
        seconds: float,
    ) -> None:
        if self.observer is None or not prepared.normalized.functions:
            return
        if retry:
            outcome = "retried"
        elif checked.content_problem is not None:
            outcome = "failed"
        elif checked.problem is not None:
            outcome = "failed" if prepared.normalized.choice.call_required else "no_call"
        else:
            outcome = "repaired" if repaired else "ok"
        self.observer.parsed(prepared.route.wrapper_name, outcome, seconds)

    def _log_answer(
        self,
        prepared: Prepared,
        output: ParsedOutput,
        attempt: int,
        usage: Usage,
        started: float,
    ) -> None:
        if self.observer is not None:
            self.observer.answered(
                prepared.request.model, attempt, usage.prompt_tokens, usage.completion_tokens
            )
        logger.info(
            "model=%s wrapper=%s backend=%s calls=%s attempts=%d tokens=%d+%d(%s) %.0f ms",
            prepared.request.model,
            prepared.route.wrapper_name,
            prepared.route.backend.name,
            ",".join(c.name for c in output.tool_calls) or "-",
            attempt,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.source,
            (time.perf_counter() - started) * 1000,
        )

    async def _generation_params(
        self, request: ChatCompletionRequest, route: Route, prompt: Prompt
    ) -> tuple[GenerationParams, tuple[int, str] | None]:
        defaults = route.defaults
        max_tokens = (
            request.max_completion_tokens
            or request.max_tokens
            or defaults.max_tokens
            or self.settings.default_max_tokens
        )
        prompt_count: tuple[int, str] | None = None
        if route.context_window:
            prompt_count = await count_tokens(route.backend, prompt.text)
            prompt_tokens = prompt_count[0]
            room = route.context_window - prompt_tokens
            # A prompt that leaves no room for a whole answer is refused like
            # one that does not fit: an answer cut off after a few tokens is a
            # broken call, while the error makes MemGPT summarize its memory.
            if room < min(max_tokens, MIN_ANSWER_TOKENS):
                raise ContextLengthExceeded(
                    context_window=route.context_window,
                    prompt_tokens=prompt_tokens + min(max_tokens, MIN_ANSWER_TOKENS),
                )
            # Upstreams silently cut the *start* of an over-long prompt (the
            # system prompt!); keep prompt + answer inside the window instead.
            max_tokens = min(max_tokens, room)
        stops = _unique([*prompt.stop, *defaults.stop])
        params = GenerationParams(
            max_tokens=max_tokens,
            temperature=_first(request.temperature, defaults.temperature),
            top_p=_first(request.top_p, defaults.top_p),
            top_k=_first(request.top_k, defaults.top_k),
            stop=stops,
            stop_sequences=[s for s in _unique(request.stop_list()) if s not in stops],
            seed=_first(request.seed, defaults.seed),
            presence_penalty=_first(request.presence_penalty, defaults.presence_penalty),
            frequency_penalty=_first(request.frequency_penalty, defaults.frequency_penalty),
            context_window=route.context_window,
            grammar=prompt.grammar,
            json_schema=prompt.json_schema,
            grammar_lazy=bool(prompt.grammar and prompt.grammar_triggers),
            grammar_triggers=list(prompt.grammar_triggers),
            model=route.upstream_model,
        )
        return params, prompt_count


def _auto_grammar(route: Route, request: NormalizedRequest) -> AutoGrammar:
    """How calls may be constrained under ``tool_choice: "auto"`` on this route.

    Lazy where the upstream takes grammar triggers (llama-server): free text,
    then a call held to its grammar once its marker is written. Elsewhere a
    text-or-call grammar, with ``constrain: always`` or when a tool is
    ``strict`` (the client asked for arguments valid by construction); it
    also bounds what the prose may contain: never the call marker outside a call.
    """
    backend = route.backend
    if not backend.supports_grammar:
        return "none"
    if getattr(backend, "supports_lazy_grammar", False):
        return "lazy"
    strict = any(f.get("strict") is True for f in request.functions)
    return "text-or-call" if route.constrain == "always" or strict else "none"


def _render_options(
    request: NormalizedRequest,
    *,
    grammar: bool,
    json_schema: bool,
    auto_grammar: AutoGrammar = "none",
) -> RenderOptions:
    choice = request.choice
    return RenderOptions(
        grammar=grammar and bool(request.functions),
        json_schema=json_schema and not grammar and bool(request.functions),
        # MemGPT's first-reply prefill forces send_message: only when the
        # client is MemGPT-like (offers send_message) and left the choice open.
        first_message=(
            choice.mode == "auto"
            and "send_message" in request.function_names
            and is_first_reply(request.messages)
        ),
        forced_function=choice.name if choice.mode == "named" else None,
        parallel_calls=request.parallel_calls,
        auto_grammar=auto_grammar,
        call_required=choice.call_required,
        # A JSON answer without tools must not start with a MemGPT call's prefill.
        allow_calls=choice.mode != "none"
        and (bool(request.functions) or request.response_format is None),
    )


def is_first_reply(messages: list[Message]) -> bool:
    """No assistant turn since the first user message (MemGPT's "first message").

    MemGPT's boot sequence puts an assistant turn *before* the first user
    message; that one does not count.
    """
    seen_user = False
    for message in messages:
        if message["role"] == "user":
            seen_user = True
        elif message["role"] == "assistant" and seen_user:
            return False
    return seen_user


def check_output(
    wrapper: LLMChatCompletionWrapper, raw: str, request: NormalizedRequest, options: RenderOptions
) -> CheckedOutput:
    """Steps 5 and 6: parse the raw text and keep only calls the client can use."""
    if not request.functions:
        return check_parsed(ParsedOutput(content=raw.strip() or None), raw, request)
    try:
        parsed: ParsedOutput | WrapperParseError = wrapper.parse(raw, request.functions, options)
    except WrapperParseError as exc:
        parsed = exc
    return check_parsed(parsed, raw, request)


def check_parsed(
    parsed: ParsedOutput | WrapperParseError, raw: str, request: NormalizedRequest
) -> CheckedOutput:
    """Step 6 on a parse (or the reason it failed): keep only calls the client can use.

    With ``response_format``, an answer without a call must be JSON of the
    asked shape (:func:`check_content`).
    """
    return check_content(_check_calls(parsed, raw, request), request)


def check_content(checked: CheckedOutput, request: NormalizedRequest) -> CheckedOutput:
    """The ``response_format`` check: content without a call is the asked JSON, alone."""
    fmt = request.response_format
    if fmt is None or checked.output.tool_calls or request.choice.call_required:
        # A required call is not replaced by JSON content.
        return checked
    reading = read_content(checked.output.content, fmt)
    if reading.problem is not None:
        return dataclasses.replace(checked, problem=None, content_problem=reading.problem)
    # Content that validates is the answer, even under "auto" with tools.
    output = dataclasses.replace(checked.output, content=reading.text)
    return CheckedOutput(output)


def _check_calls(
    parsed: ParsedOutput | WrapperParseError, raw: str, request: NormalizedRequest
) -> CheckedOutput:
    if not request.functions:
        return CheckedOutput(ParsedOutput(content=raw.strip() or None))
    if isinstance(parsed, WrapperParseError):
        return CheckedOutput(ParsedOutput(content=raw.strip() or None), problem=str(parsed))

    by_name = {f["name"]: f for f in request.functions}
    calls = [c for c in parsed.tool_calls if c.name in by_name]
    unknown = [c.name for c in parsed.tool_calls if c.name not in by_name]
    if request.choice.mode == "named":
        calls = [c for c in calls if c.name == request.choice.name]
    if not request.parallel_calls:
        calls = calls[:1]
    if not calls:
        if unknown:
            problem = (
                f"the model called {', '.join(map(repr, unknown))}, which is not among the "
                f"request's functions ({', '.join(by_name)})"
            )
        elif request.choice.mode == "named":
            problem = f"the model did not call the requested function {request.choice.name!r}"
        else:
            problem = "the output holds no function call"
        # A call to an unknown function is shown as the raw text it was; a
        # plain answer keeps what the wrapper made of it (reasoning split off).
        content = parsed.content if parsed.tool_calls == [] else raw.strip() or None
        fallback = ParsedOutput(content=content, reasoning_content=parsed.reasoning_content)
        return CheckedOutput(fallback, problem=problem)

    schema_problems = [
        p for p in (_argument_problem(c.name, c.arguments, by_name[c.name]) for c in calls) if p
    ]
    output = ParsedOutput(
        content=parsed.content, tool_calls=calls, reasoning_content=parsed.reasoning_content
    )
    return CheckedOutput(output, schema_problem="; ".join(schema_problems) or None)


def _worth_retrying(checked: CheckedOutput, raw: str, request: NormalizedRequest) -> bool:
    """Is another generation likely to do better?

    Under ``auto`` a plain prose answer is a fine answer, so only output that
    looks like a botched call (JSON, or a function's name) is retried.
    """
    if (
        request.choice.call_required
        or checked.schema_problem is not None
        or checked.content_problem is not None
    ):
        return True
    return "{" in raw or any(name in raw for name in request.function_names)


def _argument_problem(name: str, arguments: str, function: FunctionSchema) -> str | None:
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as exc:
        return f"arguments of {name!r} are not valid JSON: {exc}"
    except RecursionError:
        return f"arguments of {name!r} are nested too deeply to read"
    if not isinstance(value, dict):
        return f"arguments of {name!r} are not a JSON object"
    # The schema was checked when the request came in (proxy/tool_schemas.py).
    error = argument_error(function.get("parameters") or {}, value)
    if error is not None:
        return f"arguments of {name!r} do not match its schema: {error}"
    return None


def _valid_delta(delta: TextDelta) -> TextDelta:
    text, replaced = replace_lone_surrogates(delta.text)
    return dataclasses.replace(delta, text=text) if replaced else delta


def _valid_unicode(completion: Completion) -> Completion:
    """The completion with lone surrogates replaced (an upstream's JSON can hold them
    as ``\\ud800`` escapes); such a text cannot be encoded into the answer."""
    text, replaced = replace_lone_surrogates(completion.text)
    return dataclasses.replace(completion, text=text) if replaced else completion


def _finish_reason(request: NormalizedRequest, output: ParsedOutput, completion: Completion) -> str:
    if output.tool_calls:
        return "function_call" if request.dialect == "functions" else "tool_calls"
    return "length" if completion.finish_reason == "length" else "stop"


def _stop_sequence(
    params: GenerationParams, output: ParsedOutput, completion: Completion
) -> str | None:
    """The client's stop sequence that ended a text answer (a format's own stop is no such)."""
    word = completion.stop_word
    return word if word in params.stop_sequences and not output.tool_calls else None


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(s for s in items if s))


def constrain_content(prompt: Prompt, fmt: ResponseFormat, route: Route) -> Prompt:
    """``prompt`` with the response format's constraint, in the form the backend takes.

    A GBNF grammar where the backend takes one (llama.cpp, koboldcpp, webui,
    the embedded model), else the schema itself (Ollama's ``format``, LM
    Studio's and vLLM's ``response_format``), else nothing: the answer is
    then validated and re-asked (proxy/reask.py).
    """
    backend = route.backend
    if backend.supports_grammar:
        try:
            return dataclasses.replace(prompt, grammar=schema_grammar(fmt.schema), json_schema=None)
        except SchemaGrammarError as exc:
            logger.info("response_format schema not constrained (%s); validating instead", exc)
            return prompt
    if backend.supports_json_schema:
        return dataclasses.replace(prompt, json_schema=fmt.schema, grammar=None)
    return prompt


def sum_usage(usages: list[Usage]) -> Usage:
    """The usage of every attempt together: the client pays for retries too."""
    sources = {u.source for u in usages}
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in usages),
        completion_tokens=sum(u.completion_tokens for u in usages),
        # One source if all agree; else the least exact of them.
        source=next(
            (s for s in ("estimate", "tokenizer", "upstream") if s in sources), usages[0].source
        )
        if len(sources) > 1
        else usages[0].source,
    )
