"""The wheel ships the built-in scenes as oomtui/scenes (pyproject force-include) and the lab's C source."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_wheel_contains_the_package_and_every_builtin_scene(tmp_path):
    pytest.importorskip("hatchling")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
                   cwd=REPO, check=True, capture_output=True)
    (whl,) = tmp_path.glob("oomtui-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    scenes = {f"oomtui/scenes/{p.name}" for p in (REPO / "scenes").glob("*.toml")}
    assert scenes and scenes <= names
    assert "oomtui/cli.py" in names and "oomtui/kernel/oom_kill.py" in names
    assert "oomtui/lab/lmkd_race.c" in names  # `oomtui lab lmkd-race` builds it where it is installed
    assert not any(n.startswith("tests/") for n in names)
