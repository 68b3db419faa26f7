"""The fake v1 machine, for every test of `oomtui watch` that needs one."""

from __future__ import annotations

import pytest

from .fake_machine import v1_machine


@pytest.fixture
def v1(tmp_path):
    return v1_machine(tmp_path)
