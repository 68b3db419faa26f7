"""The wheel: the package, the built-in scenes as oomtui/scenes (pyproject force-include), the lab's C source,
the licence and the metadata; and constraints.txt (what CI installs) inside the ranges pyproject.toml declares."""

import email.parser
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(out)],
                   cwd=REPO, check=True, capture_output=True)
    (whl,) = out.glob("oomtui-*.whl")
    return zipfile.ZipFile(whl)


def test_wheel_contains_the_package_and_every_builtin_scene(wheel):
    names = set(wheel.namelist())
    scenes = {f"oomtui/scenes/{p.name}" for p in (REPO / "scenes").glob("*.toml")}
    assert scenes and scenes <= names
    assert "oomtui/cli.py" in names and "oomtui/kernel/oom_kill.py" in names
    assert "oomtui/lab/lmkd_race.c" in names  # `oomtui lab lmkd-race` builds it where it is installed
    assert not any(n.startswith("tests/") for n in names)


def test_wheel_carries_the_licence_and_the_project_metadata(wheel):
    (meta_name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    meta = email.parser.Parser().parsestr(wheel.read(meta_name).decode())
    assert meta["License-Expression"] == "MIT" and meta["License-File"] == "LICENSE"
    licence = wheel.read(meta_name.replace("METADATA", "licenses/LICENSE")).decode()
    assert licence.startswith("MIT License\n\nCopyright (c) 2026 the oomtui authors\n")
    assert "Programming Language :: Python :: 3.11" in meta.get_all("Classifier")
    assert all(url.split(", ")[1].startswith("https://") for url in meta.get_all("Project-URL"))


def test_constraints_pin_what_the_declared_ranges_admit():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    extras = project["optional-dependencies"]
    requirements = [Requirement(r) for r in project["dependencies"] + extras["test"]]
    for own in [r for r in requirements if r.name == project["name"]]:  # "oomtui[web]": that extra's own
        requirements += [Requirement(r) for extra in own.extras for r in extras[extra]]
    for r in (r for r in requirements if r.name != project["name"]):
        name = canonicalize_name(r.name)
        assert name in pins, f"constraints.txt does not pin {r.name}"
        assert r.specifier.contains(pins[name]), f"{r.name}=={pins[name]} is outside {r}"
