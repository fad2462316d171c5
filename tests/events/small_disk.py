"""A real, small tmpfs for disk-full tests: mounted for the test, filled and freed on demand."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest


@contextmanager
def small_tmpfs(path: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``path``; skip (with the reason) where that is impossible.

    ``.ci/run`` sets ``SAFAR_TEST_REQUIRE_TMPFS=1`` (it runs as root): there a skip is a failure.
    """
    if os.geteuid() != 0:
        _skip("mounting a small tmpfs needs root; .ci/run runs these tests as root")
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        _skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def _skip(reason: str) -> NoReturn:
    if os.environ.get("SAFAR_TEST_REQUIRE_TMPFS") == "1":
        pytest.fail(f"SAFAR_TEST_REQUIRE_TMPFS=1 but {reason}")
    pytest.skip(reason)


def fill(directory: Path, *, leave: int = 0) -> Path:
    """Write one file until the disk refuses (ENOSPC), then give ``leave`` bytes back."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for chunk in (b"\0" * 65536, b"\0" * 512):
            try:
                while True:
                    os.write(fd, chunk)
            except OSError:
                pass
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(filler.stat().st_size - leave, 0))
    return filler


def free_bytes(directory: Path) -> int:
    st = os.statvfs(directory)
    return st.f_bavail * st.f_frsize
