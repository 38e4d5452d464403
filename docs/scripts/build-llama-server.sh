#!/bin/sh
# Build llama.cpp's llama-server from the llama.cpp sources vendored in
# llama-cpp-python's sdist (the same llama.cpp the embedded backend and the
# grammar tests use), for the opt-in tests that run against a real
# llama-server (FCPROXY_LLAMA_SERVER; docs/e2e.md). Not needed by CI.
#
#   sh docs/scripts/build-llama-server.sh            # -> prints the binary's path
#   FCPROXY_LLAMA_SERVER=$(sh docs/scripts/build-llama-server.sh | tail -n 1) \
#       python -m pytest tests/e2e/test_llama_server_grammar.py
#
# JOBS (default 1: a shared machine) sets the build's parallelism; a CPU-only
# build of the server alone took ~25 min at -j1 on this project's 2-core machine.
set -eu

VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="$HOME/.cache/fcproxy/llama-server"
JOBS="${JOBS:-1}"
SOURCE="$CACHE/llama-cpp-python-$VERSION"
BINARY="$SOURCE/build/bin/llama-server"

if [ ! -x "$BINARY" ]; then
    mkdir -p "$CACHE"
    if [ ! -d "$SOURCE" ]; then
        SDIST="$CACHE/llama_cpp_python-$VERSION.tar.gz"
        # The sdist, not a wheel: it carries llama.cpp's sources under vendor/.
        [ -f "$SDIST" ] || python -m pip download --no-deps --no-binary :all: \
            "llama-cpp-python==$VERSION" -d "$CACHE"
        tar -xzf "$SDIST" -C "$CACHE"
        mv "$CACHE/llama_cpp_python-$VERSION" "$SOURCE"
    fi
    cmake -B "$SOURCE/build" -S "$SOURCE/vendor/llama.cpp" \
        -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
    cmake --build "$SOURCE/build" --target llama-server -j "$JOBS"
fi
echo "$BINARY"
