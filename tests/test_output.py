"""--json documents carry format_version, and `oomtui schema NAME` describes what the commands really print:
each real output is checked against the printed JSON Schema (jsonschema, an independent validator) and
decoded strictly by msgspec as the documented type."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import msgspec
import pytest

from oomtui.errors import UserError
from oomtui.importers.explain import FORMAT_VERSION as EXPLAIN_VERSION
from oomtui.lab import runner
from oomtui.output import FORMAT_VERSION, SCHEMAS, document_type

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "tests" / "data" / "reports" / "kmsg-5.10-two-reports-global-and-memcg.log"


def oomtui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomtui", *args], capture_output=True, text=True, cwd=REPO)


def printed_schema(name: str) -> dict:
    r = oomtui("schema", name)
    assert r.returncode == 0, r.stderr
    schema = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def check_document(name: str, text: str) -> dict:
    doc = json.loads(text)
    # one version for every document dumps() prints; explain keeps its own
    assert doc["format_version"] == (EXPLAIN_VERSION if name == "explain" else FORMAT_VERSION)
    jsonschema.validate(doc, printed_schema(name), cls=jsonschema.Draft202012Validator)
    msgspec.json.decode(text, type=document_type(name))
    return doc


@pytest.mark.parametrize(("name", "args"), [
    ("run", ["run", "frozen-android-app", "--json"]),  # with a game result
    ("run", ["run", "futex-race-2022", "--autoplay", "--json"]),
    ("trials", ["run", "docs/lmkd-race.toml", "--trials", "20", "--seed", "1", "--json"]),
    ("compare", ["compare", "frozen-robust-holder", "--json"]),
    ("compare-trials", ["compare", "lmkd-player", "--trials", "5", "--json"]),
    ("explain", ["explain", str(REPORT), "--json"]),
    ("lab", ["lab", "--all", "--model-only", "--json"]),
    ("check-scores", ["snapshot", "--check-scores", "--json"]),
])
def test_real_outputs_match_their_printed_schema(name: str, args: list[str]) -> None:
    r = oomtui(*args)
    assert r.returncode in (0, 1), r.stderr  # lab and check-scores exit 1 on a disagreement, still printing
    check_document(name, r.stdout)


def test_a_run_with_races_carries_a_trials_document() -> None:
    doc = check_document("run", oomtui("run", "lmkd-player", "--json").stdout)
    # the run's own schema leaves `races` open: it is a trials document, without a version of its own
    races = {"format_version": doc["format_version"], **doc["races"]}
    jsonschema.validate(races, printed_schema("trials"), cls=jsonschema.Draft202012Validator)
    msgspec.convert(races, document_type("trials"))


def test_a_real_lab_run_matches_the_schema() -> None:
    """--model-only leaves `real` null: one experiment on this kernel fills it (root, cgroup v1 memory)."""
    try:
        runner.check_machine()
    except UserError as e:
        pytest.skip(str(e))
    doc = check_document("lab", oomtui("lab", "memcg-oom", "--json", "--yes").stdout)
    assert doc["experiments"][0]["real"]["measured"]


def test_a_document_of_another_version_or_shape_is_refused() -> None:
    text = oomtui("run", "first-oom", "--json").stdout
    doc = json.loads(text)
    for bad in ({**doc, "format_version": FORMAT_VERSION + 1}, {k: v for k, v in doc.items() if k != "format_version"},
                {**doc, "kills": "none"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, printed_schema("run"), cls=jsonschema.Draft202012Validator)
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(json.dumps(bad), type=document_type("run"))


def test_scene_schema_is_the_default_and_has_no_format_version() -> None:
    default = oomtui("schema")
    assert default.returncode == 0 and json.loads(default.stdout) == printed_schema("scene")
    assert "format_version" not in default.stdout
    scene = json.loads(default.stdout)
    for path in sorted((REPO / "scenes").glob("*.toml")):
        jsonschema.validate(tomllib.loads(path.read_text()), scene, cls=jsonschema.Draft202012Validator)
    with pytest.raises(jsonschema.ValidationError, match="'tittle' was unexpected"):
        jsonschema.validate({"title": "x", "tittle": "x", "story": "", "ram": "1 GiB"}, scene, cls=jsonschema.Draft202012Validator)


def test_every_schema_name_is_a_choice_and_an_unknown_one_is_refused() -> None:
    r = oomtui("schema", "--help")
    assert all(name in r.stdout for name in SCHEMAS)
    r = oomtui("schema", "runn")
    assert r.returncode == 2 and "invalid choice 'runn'; did you mean 'run'?" in r.stderr
