"""Scene text reaches no terminal raw: control characters in a comm, a title, a story, a goal, a
caption or a file name are shown as escapes (oomtui.text.visible), in every output."""

from __future__ import annotations

import pytest

from oomtui.cli import main as cli_main
from oomtui.importers.scene_text import toml_str
from oomtui.scene.load import load_scene, loads
from oomtui.scene.sim import Simulation
from oomtui.text import visible

# the characters a hostile scene would use: clear screen, bell, the one-byte CSI, a lone CR, NUL,
# DEL, a right-to-left override and the Unicode line separator
NASTY = "\x1b[2J\x07\x9b31m\r\x00\x7f\u202e\u2028"
SHOWN = "\\x1b[2J\\x07\\x9b31m\\r\\x00\\x7f\\u202e\\u2028"
RAW = ["\x1b", "\x07", "\x9b", "\r", "\x00", "\x7f", "\u202e", "\u2028"]


def test_visible_escapes_controls_and_keeps_text():
    assert visible(NASTY) == SHOWN
    assert visible("db: 900 MiB, ünïcödé 漢字 \\ ok") == "db: 900 MiB, ünïcödé 漢字 \\ ok"  # nothing to do
    assert visible("a\nb\tc") == "a\\nb\\tc"  # one line: newline and tab escaped too
    assert visible("a\nb\tc", multiline=True) == "a\nb\tc"
    assert visible("a\r\nb\rc", multiline=True) == "a\nb\\rc"  # CRLF is a newline, a lone CR is not
    assert visible("\x85\x9f\x80") == "\\x85\\x9f\\x80"  # C1, NEL included
    for ch in map(chr, range(0x20)):
        assert not any(c in visible(ch) for c in RAW + ["\n", "\t"])


def scene_text(comm: str = "db" + NASTY, title: str = "Evil" + NASTY) -> str:
    """A small scene with the nasty characters in every kind of text, identifiers included."""
    cg = toml_str("/app" + NASTY)
    story, loader = toml_str("line one" + NASTY + "\nline two"), toml_str("lo\nader")  # (no \ in an f-string)
    return f"""
title = {toml_str(title)}
story = {story}
source = {toml_str("src" + NASTY)}
ram = "2 GiB"
reserved = "256 MiB"
duration = "6s"

[game]
difficulty = "intro"
par = 1
hint = {toml_str("hint" + NASTY)}

[[goals]]
kind = "survives"
pid = 100
text = {toml_str("goal" + NASTY)}

[[cgroups]]
path = {cg}
freezer = "v2"

[[processes]]
pid = 1
comm = "init"
init = true
rss = "8 MiB"

[[processes]]
pid = 100
comm = {toml_str(comm)}
cgroup = {cg}
parent = 1
rss = "900 MiB"

[[processes]]
pid = 300
comm = {loader}
parent = 1
rss = "32 MiB"
  [processes.alloc]
  rate = "512 MiB/s"
  target = "1500 MiB"
  start = "1s"

[[futexes]]
name = {toml_str("M" + NASTY)}
private_to = 100
owner = 100

[[actions]]
at = "3s"
do = "freeze"
cgroup = {cg}
caption = {toml_str("cap" + NASTY)}

[[walkthrough]]
at = "0s"
caption = {toml_str("walk" + NASTY)}
"""


def _strings(obj):
    import msgspec

    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, msgspec.Struct):
        for f in obj.__struct_fields__:
            yield from _strings(getattr(obj, f))


def test_loading_makes_every_string_visible_and_references_still_match():
    sc = loads(scene_text()).scene
    for s in _strings(sc):
        assert not any(c in s for c in RAW), s
    assert sc.title == "Evil" + SHOWN and sc.processes[1].comm == "db" + SHOWN
    assert sc.processes[2].comm == "lo\\nader"  # one line
    assert sc.story == "line one" + SHOWN + "\nline two"  # several lines: the newline stays
    assert sc.goals[0].text == "goal" + SHOWN and sc.game.hint == "hint" + SHOWN
    assert sc.actions[0].caption == "cap" + SHOWN and sc.walkthrough[0].caption == "walk" + SHOWN
    # the cgroup path changed the same way where it is defined and where it is used
    sim = Simulation(loads(scene_text()))
    assert sim.k.process(100).cgroup.path == "/app" + SHOWN
    sim.run()  # the scripted freeze finds its cgroup


def _evil_file(tmp_path, **kw):
    f = tmp_path / ("evil\x1b[2J\x07.toml")
    f.write_text(scene_text(**kw), encoding="utf-8")
    return f


def _assert_clean(out: str) -> None:
    for c in RAW:
        assert c not in out, repr(c)


@pytest.fixture
def plain_terminal(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")  # and capsys is no tty: any \x1b would be the scene's
    monkeypatch.setenv("COLUMNS", "200")


def test_check_prints_escapes(tmp_path, capsys, plain_terminal):
    f = _evil_file(tmp_path)
    assert cli_main(["check", str(f)]) == 0
    out, err = capsys.readouterr()
    _assert_clean(out + err)
    assert out.strip() == f"ok {tmp_path}/evil\\x1b[2J\\x07.toml: Evil{SHOWN}"


def test_check_error_with_an_escape_in_the_file_name(tmp_path, capsys, plain_terminal):
    f = tmp_path / "bad\x1b]0;pwned\x07.toml"
    f.write_text("title = \n", encoding="utf-8")
    missing = tmp_path / "gone\x1b[2J.toml"
    assert cli_main(["check", str(f), str(missing)]) == 2
    out, err = capsys.readouterr()
    _assert_clean(out + err)
    assert "bad\\x1b]0;pwned\\x07.toml:1: not valid TOML" in err
    assert "gone\\x1b[2J.toml: no such file" in err


def test_a_bad_value_quoted_in_an_error_is_escaped(tmp_path, capsys, plain_terminal):
    f = _evil_file(tmp_path)
    f.write_text(scene_text().replace('difficulty = "intro"', f"difficulty = {toml_str('x' + NASTY)}"))
    assert cli_main(["run", str(f)]) == 2
    out, err = capsys.readouterr()
    _assert_clean(out + err)
    assert "game.difficulty" in err


def test_run_prints_escapes(tmp_path, capsys, plain_terminal):
    f = _evil_file(tmp_path)
    assert cli_main(["run", str(f)]) == 0
    out, err = capsys.readouterr()
    _assert_clean(out + err)
    assert f"Evil{SHOWN}" in out and f"db{SHOWN}" in out  # title, and the comm in dmesg and the timeline
    assert f"goal{SHOWN}" in out


def test_compare_prints_escapes(tmp_path, capsys, plain_terminal):
    f = _evil_file(tmp_path, comm="db\x1b[2J")  # short enough for the table's column
    assert cli_main(["compare", str(f)]) == 0
    out, err = capsys.readouterr()
    _assert_clean(out + err)
    assert "db\\x1b[2J" in out


def test_builtin_scenes_are_unchanged():
    # nothing in the shipped scenes is escaped: the sanitising only ever touches hostile text
    from oomtui.scene.load import builtin_ids

    for sid in builtin_ids():
        sc = load_scene(sid).scene
        assert not any("\\x" in s or "\\u" in s for s in _strings(sc)), sid
