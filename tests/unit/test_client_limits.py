"""The connection cap under an open-files limit, and raising that limit at start-up."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from proxy.client_limits import connection_limits
from proxy.config import ModelEntry, Settings
from proxy.server import reserved_files
from tests.support.process import REPO_ROOT


@pytest.mark.parametrize(
    ("configured", "open_files", "reserved", "expected"),
    [
        # No limit to respect (Windows): as configured, uvicorn's backlog.
        (1024, None, 96, (1024, 2048)),
        # The usual hard limit once raised: as configured.
        (1024, 1_048_576, 96, (1024, 2048)),
        # 1,024 open files: 96 reserved, 4 accept batches of 58 kept free.
        (1024, 1024, 96, (696, 58)),
        (500, 1024, 96, (500, 58)),
        # Hardly any descriptors: a floor, whatever happens.
        (1024, 100, 96, (16, 16)),
    ],
)
def test_the_connection_cap_leaves_room_under_the_open_files_limit(
    configured: int, open_files: int | None, reserved: int, expected: tuple[int, int]
) -> None:
    assert connection_limits(configured, open_files, reserved) == expected


def test_each_upstream_pool_is_reserved() -> None:
    one = Settings(upstream="http://127.0.0.1:5000")
    two = Settings(
        upstream="http://127.0.0.1:5000",
        models=[ModelEntry(name="a", upstream="http://127.0.0.1:6000")],
    )
    assert reserved_files(one) == 64 + 32
    assert reserved_files(two) == 64 + 2 * 32


def test_the_soft_open_files_limit_is_raised_to_the_hard_one() -> None:
    # In a child process: this one's limits are not the test's to change.
    script = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 2048))\n"
        "from proxy.client_limits import raise_open_files_limit\n"
        "print(raise_open_files_limit(), resource.getrlimit(resource.RLIMIT_NOFILE))\n"
    )
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 2048:
        pytest.skip(f"the hard open-files limit here is {hard}")
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=True,
    )
    assert result.stdout.split() == ["2048", "(2048,", "2048)"]
