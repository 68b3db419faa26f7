"""`oomtui scenes` reads each built-in scene's title line only: the same titles as loading the scenes,
without parsing them or importing msgspec."""

from __future__ import annotations

import subprocess
import sys

from oomtui.scene import builtin
from oomtui.scene.builtin import builtin_ids, builtin_title
from oomtui.scene.load import load_scene


def test_titles_are_those_of_the_loaded_scenes() -> None:
    ids = builtin_ids()
    assert len(ids) >= 20
    for sid in ids:
        assert builtin_title(sid) == load_scene(sid).scene.title, sid


def test_scenes_imports_no_msgspec_and_lists_every_scene() -> None:
    code = ("import sys; from oomtui.cli import main; main(['scenes']); "
            "print('msgspec' in sys.modules, 'oomtui.scene.load' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[-1] == "False False"
    assert sorted(line.split()[0] for line in out[:-1]) == builtin_ids()  # each once (the story first)
    assert "first-oom               1. The first OOM kill" in out


def test_a_title_found_only_by_parsing_the_whole_file(tmp_path, monkeypatch) -> None:
    # a title in a multi-line string, after a comment with an '=' in it; a table's `title` is no scene title
    (tmp_path / "long.toml").write_text('# a = b\nstory = "x"\ntitle = """Two\\u0007\nlines"""\nram = 1\n')
    (tmp_path / "none.toml").write_text('story = "x"\n[game]\ntitle = "not the scene\'s"\n')
    monkeypatch.setattr(builtin, "builtin_dir", lambda: str(tmp_path))
    assert builtin_ids() == ["long", "none"]
    assert builtin_title("long") == "Two\\x07\\nlines"  # control characters shown, as everywhere
    assert builtin_title("none") == ""
