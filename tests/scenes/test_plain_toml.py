"""oomtui.scene.plain_toml reads exactly what tomllib reads, or leaves the text to tomllib."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oomtui.scene import plain_toml
from oomtui.scene.builtin import builtin_dir
from oomtui.scene.load import SceneError, loads

STORM = Path(__file__).resolve().parents[1] / "data" / "engine" / "storm-600.toml"

# Lines a scene generator writes, and near misses: duplicates, tables declared twice, headers through
# values or missing tables, and values plain_toml leaves to tomllib (escapes, leading zeros, +1, 1_000,
# literal strings, arrays, inline tables, dotted keys, a tab or a CR inside).
LINES = [
    "[[processes]]", "[[processes.threads]]", "[processes.alloc]", "[processes]", "[alloc]", "[[alloc]]",
    "[processes.threads]", "[[processes.alloc]]", "[a.b]", "[[a.b.c]]", "[ processes ]",
    "pid = 1000", "pid = -0", "pid = 007", "pid = +1", "pid = 1_000", "tid = 99999999999999999999",
    'comm = "svc"', 'comm = "é ü 雪"', 'comm = "a\\tb"', "comm = 'lit'", 'comm = "x\tb"', 'comm = ""',
    "init = true", "init = false", "init = True", "threads = 1", "alloc = 2", "a = [1, 2]",
    "a = {b = 1}", "a.b = 1", '"q" = 1', "x=1", "  \tx = 1  # note", "# a comment", "", "   ",
    "x = 1 # tab\tin comment", "x = 1\r", "x = 1 # \x01", "= 1", "x =", "[[]]", "rss = \"4 MiB\"",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=12), st.booleans())
def test_plain_or_left_to_tomllib(lines, final_newline):
    text = "\n".join(lines) + ("\n" if final_newline else "")
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        with pytest.raises(plain_toml.NotPlain):
            plain_toml.loads(text)
        return
    try:
        got = plain_toml.loads(text)
    except plain_toml.NotPlain:
        return  # tomllib reads it instead
    assert got == expected
    assert repr(got) == repr(expected)  # the same types too (True is not 1)


def test_a_generated_scene_is_plain():
    text = STORM.read_text()
    assert plain_toml.loads(text) == tomllib.loads(text)


def test_builtin_scenes_read_the_same():
    for path in Path(builtin_dir()).glob("*.toml"):  # a str: scene/builtin.py avoids pathlib's import
        text = path.read_text()
        try:
            assert plain_toml.loads(text) == tomllib.loads(text)
        except plain_toml.NotPlain:
            pass


def test_errors_still_come_from_tomllib_and_msgspec():
    """A plain file with a duplicate key is tomllib's error (with its line); an unknown key in a
    plain file still gets msgspec's key path and a did-you-mean."""
    with pytest.raises(SceneError) as e:
        loads('title = "t"\nstory = "s"\nram = "1 GiB"\n[[processes]]\npid = 1\npid = 2\n', "dup.toml")
    assert str(e.value).startswith("dup.toml:6: not valid TOML")
    with pytest.raises(SceneError) as e:
        loads('title = "t"\nstory = "s"\nram = "1 GiB"\n[[processes]]\npid = 10\ncomm = "a"\nrsss = "1 MiB"\n',
              "typo.toml")
    assert str(e.value) == "typo.toml:7: unknown key 'rsss'; did you mean 'rss'? at processes[0].rsss"


@pytest.mark.parametrize("bad", ['pid = "x"', "rsss = 1", "oom_score_adj = 5000", 'comm = "a"\n  [[processes.threads]]\n  tid = 0'])
def test_a_bad_process_reads_the_same_plain_or_not(bad):
    """Process tables are decoded while a plain file is read; a bad one is still reported with its key
    path from the root and its line, word for word as when tomllib reads the file."""
    body = '\n[[processes]]\npid = 10\ncomm = "a"\n[[processes]]\n' + bad + '\n[[processes]]\npid = 30\ncomm = "c"\n'
    if "comm" not in bad:
        body = body.replace(bad, bad + '\ncomm = "b"')
    plain = 'title = "t"\nstory = "s"\nram = "1 GiB"' + body
    other = "title = 't'\nstory = \"s\"\nram = \"1 GiB\"" + body  # a literal string: tomllib reads it
    with pytest.raises(plain_toml.NotPlain):
        plain_toml.loads(other)
    errors = []
    for text in (plain, other):
        with pytest.raises(SceneError) as e:
            loads(text, "s.toml")
        errors.append(str(e.value))
    assert errors[0] == errors[1]
    assert "processes[1]" in errors[0]
