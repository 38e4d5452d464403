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
from dataclasses import dataclass, field
from typing import Any

from proxy.backends.base import Completion, GenerationParams
from proxy.config import Settings
from proxy.dialects import NormalizedRequest, normalize
from proxy.errors import ContextLengthExceeded, InvalidRequestError, OutputParseError
from proxy.json_body import replace_lone_surrogates
from proxy.routing import Route, Router
from proxy.schemas import ChatCompletionRequest
from proxy.tool_schemas import argument_error
from proxy.usage import Usage, count_tokens, resolve_usage
from wrappers.base import (
    FunctionSchema,
    LLMChatCompletionWrapper,
    Message,
    ParsedOutput,
    Prompt,
    RenderOptions,
    WrapperParseError,
)
from wrappers.jinja_template import ChatTemplateError

logger = logging.getLogger("fcproxy.pipeline")

#: Room a prompt must leave in the context window for the answer (or the
#: client's max_tokens, if smaller): a MemGPT call needs a few hundred tokens.
MIN_ANSWER_TOKENS = 256


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


@dataclass(frozen=True)
class CheckedOutput:
    output: ParsedOutput
    #: Why the output is not a usable answer yet (None: it is).
    problem: str | None = None
    #: The output holds calls, but their arguments break the schema.
    schema_problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None and self.schema_problem is None


class ChatPipeline:
    def __init__(self, router: Router, settings: Settings) -> None:
        self.router = router
        self.settings = settings

    async def run(self, request: ChatCompletionRequest) -> ChatResult:
        started = time.perf_counter()
        normalized = normalize(request)  # 1
        route = self.router.route(request.model)  # 2
        constrain = self.settings.grammar
        options = _render_options(
            normalized,
            grammar=constrain and route.backend.supports_grammar,
            json_schema=constrain and route.backend.supports_json_schema,
        )
        try:
            prompt = route.wrapper.render(normalized.messages, normalized.functions, options)  # 3
        except ChatTemplateError as exc:
            # The model's own template refused the conversation ("roles must
            # alternate", ...): the client's request, not a server fault.
            raise InvalidRequestError(
                f"The model's chat template refused this request: {exc}"
            ) from None
        params, prompt_count = await self._generation_params(request, route, prompt)

        max_attempts = 1 + self.settings.max_retries
        checked: CheckedOutput | None = None
        completion: Completion | None = None
        attempt = 0
        for attempt in range(1, max_attempts + 1):
            completion = _valid_unicode(await route.backend.complete(prompt.text, params))  # 4
            checked = check_output(route.wrapper, completion.text, normalized, options)  # 5 + 6
            if checked.usable or not _worth_retrying(checked, completion.text, normalized):
                break
            logger.info(
                "model=%s wrapper=%s attempt %d/%d unusable output: %s",
                request.model,
                route.wrapper_name,
                attempt,
                max_attempts,
                checked.problem or checked.schema_problem,
            )
        assert checked is not None and completion is not None

        warnings: list[str] = []
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
        usage = await resolve_usage(
            route.backend,
            prompt.text,
            completion.text,
            reported_prompt=completion.prompt_tokens,
            reported_completion=completion.completion_tokens,
            known_prompt=prompt_count,
        )
        finish_reason = _finish_reason(normalized, output, completion)
        logger.info(
            "model=%s wrapper=%s backend=%s calls=%s attempts=%d tokens=%d+%d(%s) %.0f ms",
            request.model,
            route.wrapper_name,
            route.backend.name,
            ",".join(c.name for c in output.tool_calls) or "-",
            attempt,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.source,
            (time.perf_counter() - started) * 1000,
        )
        return ChatResult(
            model=request.model,
            dialect=normalized.dialect,
            output=output,
            finish_reason=finish_reason,
            usage=usage,
            attempts=attempt,
            warnings=warnings,
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
        params = GenerationParams(
            max_tokens=max_tokens,
            temperature=_first(request.temperature, defaults.temperature),
            top_p=_first(request.top_p, defaults.top_p),
            stop=_unique([*prompt.stop, *defaults.stop, *request.stop_list()]),
            seed=_first(request.seed, defaults.seed),
            presence_penalty=_first(request.presence_penalty, defaults.presence_penalty),
            frequency_penalty=_first(request.frequency_penalty, defaults.frequency_penalty),
            context_window=route.context_window,
            grammar=prompt.grammar,
            json_schema=prompt.json_schema,
            model=route.upstream_model,
        )
        return params, prompt_count


def _render_options(
    request: NormalizedRequest, *, grammar: bool, json_schema: bool
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
        call_required=choice.call_required,
        allow_calls=choice.mode != "none",
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
        return CheckedOutput(ParsedOutput(content=raw.strip() or None))
    try:
        parsed = wrapper.parse(raw, request.functions, options)
    except WrapperParseError as exc:
        return CheckedOutput(ParsedOutput(content=raw.strip() or None), problem=str(exc))

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
    if request.choice.call_required or checked.schema_problem is not None:
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


def _valid_unicode(completion: Completion) -> Completion:
    """The completion with lone surrogates replaced (an upstream's JSON can hold them
    as ``\\ud800`` escapes); such a text cannot be encoded into the answer."""
    text, replaced = replace_lone_surrogates(completion.text)
    return dataclasses.replace(completion, text=text) if replaced else completion


def _finish_reason(request: NormalizedRequest, output: ParsedOutput, completion: Completion) -> str:
    if output.tool_calls:
        return "function_call" if request.dialect == "functions" else "tool_calls"
    return "length" if completion.finish_reason == "length" else "stop"


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(s for s in items if s))
