"""The ``fcproxy`` command: ``serve``, ``doctor``, ``parse`` and ``wrappers``."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer

from proxy import __version__
from proxy.config import EMBEDDED, Settings, load_settings
from proxy.errors import ConfigError
from proxy.redaction import Redactor, install_log_redaction, redact_url

app = typer.Typer(
    name="fcproxy",
    help=(
        "OpenAI-compatible proxy that adds function calling to local LLM servers.\n\n"
        "Point a client (MemGPT, the OpenAI SDK, curl) at fcproxy; fcproxy renders the\n"
        "conversation and functions into the model's prompt format, asks your text-only\n"
        "LLM server (text-generation-webui, LM Studio, ...) for a completion, and turns\n"
        "the text back into function_call / tool_calls.\n\n"
        "Start here:\n\n"
        "  fcproxy serve                 # the bundled SmolLM2 model, in-process\n\n"
        "  fcproxy serve --upstream http://127.0.0.1:5000   # finds out what serves there\n\n"
        "  fcproxy doctor --upstream http://127.0.0.1:5000  # ... and tells you"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

# Optional[...] instead of "X | None": typer reads these annotations at run time.
ConfigOpt = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--config",
        "-c",
        help="YAML config file (default: ./fcproxy.yaml if present, or $FCPROXY_CONFIG). "
        "See config.example.yaml for every option.",
        show_default=False,
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fcproxy {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """OpenAI-compatible function calling for local LLM servers."""


@app.command()
def serve(
    config: ConfigOpt = None,
    upstream: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="URL of the LLM server, e.g. http://127.0.0.1:5000 [env FCPROXY_UPSTREAM; "
            "default: none, run the bundled model in-process]",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Upstream dialect: auto, llamacpp, koboldcpp, ollama, openai-completions "
            "(alias vllm), webui, webui-legacy, lmstudio, lmstudio-legacy, embedded [env "
            "FCPROXY_BACKEND or MemGPT's BACKEND_TYPE; default: embedded without --upstream, "
            "else auto: probe the upstream at start-up]",
            show_default=False,
        ),
    ] = None,
    wrapper: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Default prompt format / call parser (see `fcproxy wrappers`) "
            "[env FCPROXY_WRAPPER; default chatml]",
            show_default=False,
        ),
    ] = None,
    chat_template: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="For --wrapper jinja: the model's chat template, a file, an http(s) URL, or "
            "'upstream' (what llama-server reports) [env FCPROXY_CHAT_TEMPLATE]",
            show_default=False,
        ),
    ] = None,
    host: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Address to listen on [env FCPROXY_HOST; default 127.0.0.1]", show_default=False
        ),
    ] = None,
    port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(help="Port to listen on [env FCPROXY_PORT; default 8000]", show_default=False),
    ] = None,
    context_window: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Model context window in tokens; longer prompts get a "
            "context_length_exceeded error instead of being silently cut "
            "[env FCPROXY_CONTEXT_WINDOW; default: unchecked]",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds one whole upstream exchange may take, connection to last byte "
            "[env FCPROXY_TIMEOUT; default 600]",
            show_default=False,
        ),
    ] = None,
    connect_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds to open a connection to the upstream [env FCPROXY_CONNECT_TIMEOUT; "
            "default 5]",
            show_default=False,
        ),
    ] = None,
    first_byte_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds until the upstream starts answering (a stream: its first text) "
            "[env FCPROXY_FIRST_BYTE_TIMEOUT; default: --timeout]",
            show_default=False,
        ),
    ] = None,
    idle_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Longest upstream silence once it has started answering (a stream: between "
            "texts) [env FCPROXY_IDLE_TIMEOUT; default: --timeout]",
            show_default=False,
        ),
    ] = None,
    max_upstream_bytes: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Largest upstream answer (or streamed text) taken, in bytes "
            "[env FCPROXY_MAX_UPSTREAM_BYTES; default 16777216]",
            show_default=False,
        ),
    ] = None,
    max_retries: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Extra generations when the output holds no usable call [default 1]",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="debug, info, warning or error [default info]", show_default=False),
    ] = None,
    workers: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Processes serving the one port, one per core at most; each has its own "
            "connection cap, upstream slots (max_concurrency) and /metrics counts "
            "[env FCPROXY_WORKERS; default 1]",
            show_default=False,
        ),
    ] = None,
    log_format: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="text, or json: one JSON object a line with time, level, logger, "
            "request_id and message [env FCPROXY_LOG_FORMAT; default text]",
            show_default=False,
        ),
    ] = None,
    allowed_host: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            help="Answer only requests addressed to this host name (the Host header); "
            "repeat for more; *.example.com for subdomains; localhost and 127.0.0.1 always "
            "work. Stops DNS-rebinding pages [env FCPROXY_ALLOWED_HOSTS, comma-separated; "
            "default: any host]",
            show_default=False,
        ),
    ] = None,
    cors_origin: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            help="Let web pages from this origin (e.g. http://localhost:3000) call the API "
            "from a browser; repeat for more; * for any [env FCPROXY_CORS_ORIGINS, "
            "comma-separated; default: none, CORS off]",
            show_default=False,
        ),
    ] = None,
    max_concurrency: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Requests at once to each upstream; the rest wait in a queue "
            "[env FCPROXY_MAX_CONCURRENCY; default: sized to the backend, 1 for embedded, "
            "4 for local servers, 16 for openai-completions]",
            show_default=False,
        ),
    ] = None,
    max_queue: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Requests that may wait for each upstream; more get 429 with Retry-After "
            "[env FCPROXY_MAX_QUEUE; default 16]",
            show_default=False,
        ),
    ] = None,
    queue_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds a request may wait in that queue before 429 "
            "[env FCPROXY_QUEUE_TIMEOUT_S; default 120]",
            show_default=False,
        ),
    ] = None,
    max_client_connections: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Client connections at once; past it the longest-idle or slowest is closed "
            "[env FCPROXY_MAX_CLIENT_CONNECTIONS; default 1024, kept under the open-files limit]",
            show_default=False,
        ),
    ] = None,
    header_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds a client has to send the request line and headers "
            "[env FCPROXY_HEADER_TIMEOUT; default 10]",
            show_default=False,
        ),
    ] = None,
    body_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds a client has to send the whole request body, else 408 "
            "[env FCPROXY_BODY_TIMEOUT; default 60]",
            show_default=False,
        ),
    ] = None,
    keep_alive_timeout: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option(
            help="Seconds an idle connection stays open between requests "
            "[env FCPROXY_KEEP_ALIVE_TIMEOUT; default 15]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the OpenAI-compatible server.

    Settings come from the YAML file, then FCPROXY_* environment variables,
    then these flags (each overrides the one before).
    """
    cli_values: dict[str, Any] = {
        "upstream": upstream,
        "backend": backend,
        "wrapper": wrapper,
        "chat_template": chat_template,
        "host": host,
        "port": port,
        "context_window": context_window,
        "timeout": timeout,
        "connect_timeout": connect_timeout,
        "first_byte_timeout": first_byte_timeout,
        "idle_timeout": idle_timeout,
        "max_upstream_bytes": max_upstream_bytes,
        "max_retries": max_retries,
        "log_level": log_level,
        "log_format": log_format,
        "workers": workers,
        # An unused repeatable flag may arrive as []: that is "not given".
        "allowed_hosts": allowed_host or None,
        "cors_origins": cors_origin or None,
        "max_concurrency": max_concurrency,
        "max_queue": max_queue,
        "queue_timeout_s": queue_timeout,
        "max_client_connections": max_client_connections,
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
        "keep_alive_timeout": keep_alive_timeout,
    }
    settings = _load_or_exit(config, cli_values)
    _configure_logging(settings.log_level, settings.log_format)

    from proxy.app import create_app
    from proxy.server import serve as serve_http

    try:
        application = create_app(settings)
    except ConfigError as exc:
        _fail(str(exc))
    log = logging.getLogger("fcproxy")
    upstream = redact_url(settings.upstream or "the bundled model, in-process")
    if settings.backend_name == "embedded":
        log.info("no upstream configured: serving %s with llama.cpp (embedded backend)", upstream)
    log.info(
        "fcproxy %s listening on http://%s:%d -> %s upstream at %s, default wrapper %s",
        __version__,
        settings.host,
        settings.port,
        settings.backend_name,
        upstream,
        settings.wrapper,
    )
    if settings.models:
        log.info("model table: %s", ", ".join(m.name for m in settings.models))
    serve_http(application, settings)


@app.command()
def doctor(
    upstream: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="URL of the LLM server to examine [default: the configured upstream]",
            show_default=False,
        ),
    ] = None,
    backend: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Examine it as this backend instead of the detected one (see `serve --help`)",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON, for scripts.")
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each answer of the upstream.")
    ] = 10.0,
    config: ConfigOpt = None,
) -> None:
    """Say what the upstream is and what fcproxy would do with it.

    Prints the kind of server and its version, its models, context length,
    chat template, whether it takes grammars, counts tokens and computes
    embeddings, and the wrapper fcproxy would choose. Exits 1, with the
    reason, when the upstream cannot be reached.
    """
    import asyncio

    from proxy.doctor import format_report, run_doctor

    settings = _load_or_exit(config, {"upstream": upstream, "backend": backend})
    if settings.upstream is None:
        _fail("doctor needs an upstream: --upstream URL (or upstream: in the config)")
    if settings.backend_name == EMBEDDED:
        _fail("the embedded backend has no upstream to examine; pass --backend auto or another")
    # The report quotes the upstream's answers: keep its key and password out.
    redactor = Redactor.for_upstream(settings.upstream, settings.upstream_api_key)
    install_log_redaction(redactor)
    report = asyncio.run(
        run_doctor(
            settings.upstream,
            backend_name=settings.backend_name,
            api_key=settings.upstream_api_key,
            timeout=timeout,
            default_wrapper=settings.wrapper,
        )
    )
    if json_output:
        typer.echo(json.dumps(redactor.redact_json(report.to_json()), indent=2, ensure_ascii=False))
    else:
        typer.echo(redactor.redact(format_report(report)))
    if not report.reachable:
        if not json_output:
            typer.echo(f"fcproxy: error: {redactor.redact(report.error or '')}", err=True)
        raise typer.Exit(1)


@app.command()
def parse(
    wrapper: Annotated[
        str, typer.Option(help="Wrapper whose parser to run (see `fcproxy wrappers`).")
    ] = "chatml",
    functions: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="JSON file: a list of OpenAI function definitions, or of tools "
            "({type: function, function: {...}}), or a request body holding either. "
            "Calls to other names are rejected, as the server does.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Parse raw model output from stdin and print the assistant message the server would return.

    Example:  echo '{"function": "send_message", "params": {"inner_thoughts": "hi",
    "message": "Hello!"}}' | fcproxy parse --wrapper chatml

    Exits 1 with the reason on stderr when the output holds no usable call.
    """
    from proxy.parse_command import ParseCommandError, parse_raw_output

    raw = sys.stdin.read()
    try:
        message = parse_raw_output(raw, wrapper, functions)
    except ParseCommandError as exc:
        _fail(str(exc), code=exc.exit_code)
    typer.echo(json.dumps(message, indent=2, ensure_ascii=False))


@app.command("wrappers")
def list_wrappers_command(
    long: Annotated[
        bool, typer.Option("--long", "-l", help="Also print each wrapper's description.")
    ] = False,
) -> None:
    """List wrapper names (what to pass as --wrapper or as the model name), one per line.

    Each line starts with the name, followed by its aliases.
    """
    from wrappers.registry import list_wrappers

    for entry in list_wrappers():
        line = " ".join([entry.name, *entry.aliases])
        if long and entry.description:
            line += f"\t{entry.description}"
        typer.echo(line)


def _load_or_exit(config: Path | None, cli_values: dict[str, Any]) -> Settings:
    try:
        return load_settings(config, cli_values)
    except ConfigError as exc:
        _fail(str(exc))


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"fcproxy: error: {redact_url(message)}", err=True)
    raise typer.Exit(code)


def _configure_logging(level: str, log_format: str = "text") -> None:
    from proxy.logs import configure_logging

    configure_logging(level, log_format)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
