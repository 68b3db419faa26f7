"""`oomtui completion bash|zsh|fish` and `oomtui man`, as a shell and man(1) read them. The expected
subcommands and options come from argparse's own view of the parser, not from the generators."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui.cli import build_parser

OOMTUI = Path(sys.executable).with_name("oomtui")  # the console script, as a user's shell finds it


def oomtui(*args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "oomtui", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def choices(command: str) -> list[str]:
    """The choices of a subcommand's positional argument, as argparse holds them."""
    (action,) = [a for a in subcommands()[command]._actions if not a.option_strings and a.choices]
    return list(action.choices)


def flags(p: argparse.ArgumentParser) -> set[str]:
    """The options --help lists (a hidden one, help=SUPPRESS, is for oomtui's own use)."""
    return {f for a in p._actions if a.help != argparse.SUPPRESS for f in a.option_strings}


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "oomtui.bash"
    path.write_text(oomtui("completion", "bash"))
    return path


def bash_complete(script: Path, line: str, cwd: Path | None = None) -> list[str]:
    """What <Tab> offers after `line` in a real bash that sourced the script (COMPREPLY of its function)."""
    words = line.split(" ")
    words[0] = str(OOMTUI)
    prog = " ".join(f"'{w}'" for w in words)
    code = f'source "$1"; COMP_WORDS=({prog}); COMP_CWORD={len(words) - 1}; _oomtui; printf "%s\\n" "${{COMPREPLY[@]}}"'
    r = subprocess.run(["bash", "--norc", "-c", code, "bash", str(script)], capture_output=True, text=True, cwd=cwd)
    assert r.returncode == 0 and not r.stderr, r.stderr
    return sorted(w for w in r.stdout.splitlines() if w)


def test_bash_completes_subcommands_and_their_options(bash_script: Path) -> None:
    assert bash_complete(bash_script, "oomtui p") == ["play", "policies"]
    assert bash_complete(bash_script, "oomtui pl") == ["play"]
    assert bash_complete(bash_script, "oomtui ") == sorted(subcommands())
    assert bash_complete(bash_script, "oomtui record --o") == ["--output", "--overwrite"]
    no = sorted(f for f in flags(subcommands()["play"]) if f.startswith("--no"))
    assert "--no-teach" in no and bash_complete(bash_script, "oomtui play --no") == no
    for name, p in subcommands().items():
        assert bash_complete(bash_script, f"oomtui {name} -") == sorted(flags(p)), name


def test_bash_completes_values_files_and_scene_ids(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "oom.log").write_text("")
    (tmp_path / "other.cast").write_text("")
    assert bash_complete(bash_script, "oomtui explain o", cwd=tmp_path) == ["oom.log", "other.cast"]
    assert bash_complete(bash_script, "oomtui record -o ot", cwd=tmp_path) == ["other.cast"]
    assert bash_complete(bash_script, "oomtui play --speed ", cwd=tmp_path) == []  # a number: nothing to offer
    assert bash_complete(bash_script, "oomtui schema ") == sorted(choices("schema"))
    assert bash_complete(bash_script, "oomtui completion ") == ["bash", "fish", "zsh"]
    # a scene: the built-in ids as `oomtui scenes` lists them, and files
    ids = [line.split()[0] for line in oomtui("scenes").splitlines()]
    assert bash_complete(bash_script, "oomtui run frozen-", cwd=tmp_path) == sorted(i for i in ids if i.startswith("frozen-"))
    assert "first-oom" in bash_complete(bash_script, "oomtui play ", cwd=tmp_path)


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (.ci/run installs it)")
def test_fish_completes_subcommands_options_and_choices(tmp_path: Path) -> None:
    script = tmp_path / "oomtui.fish"
    script.write_text(oomtui("completion", "fish"))

    def complete(line: str) -> list[str]:
        env = {**os.environ, "PATH": f"{OOMTUI.parent}:{os.environ['PATH']}", "HOME": str(tmp_path)}
        r = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0 and not r.stderr, r.stderr
        return sorted(w.split("\t")[0] for w in r.stdout.splitlines())

    assert complete("oomtui p") == ["play", "policies"]
    assert complete("oomtui record --o") == ["--output", "--overwrite"]
    assert complete("oomtui schema ") == sorted(choices("schema"))
    assert "frozen-forever" in complete("oomtui play frozen-")


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (.ci/run installs it)")
def test_zsh_script_parses_and_names_every_subcommand_and_option(tmp_path: Path) -> None:
    text = oomtui("completion", "zsh")
    assert text.startswith("#compdef oomtui\n")
    script = tmp_path / "_oomtui"
    script.write_text(text)
    r = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for name, p in subcommands().items():
        assert f"'{name}:" in text and f"        {name})" in text
        for f in flags(p):
            assert f"{f}[" in text or f"{f}," in text or f",{f}}}" in text, (name, f)


def test_man_page_has_every_subcommand_and_option() -> None:
    roff = oomtui("man")
    assert roff.startswith(".TH OOMTUI 1 ")
    for name, p in subcommands().items():
        assert f"\n.SS {name}\n" in roff
        for f in flags(p):
            escaped = f.replace("-", "\\-")  # roff: an ASCII minus
            assert f"\\fB{escaped}\\fR" in roff, (name, f)


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_renders_without_warnings(tmp_path: Path) -> None:
    page = tmp_path / "oomtui.1"
    page.write_text(oomtui("man"))
    r = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True, text=True,
                       env={**os.environ, "MANWIDTH": "80", "PAGER": "cat"})
    assert r.returncode == 0 and not r.stderr, r.stderr
    text = re.sub(".\b", "", r.stdout)  # bold and underline are overstruck characters (col -b)
    assert "oomtui - Watch, play with and check" in text
    for name in subcommands():
        assert f"oomtui {name}" in text
