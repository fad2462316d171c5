"""Fixtures of the journeys tests (builders live in ``factories.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.journeys.factories import shared_data_dir


@pytest.fixture
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("shared data dir not available (set SAFAR_SHARED_DATA_DIR)")
    return path
