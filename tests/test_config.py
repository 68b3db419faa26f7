"""The config file (oomtui/config.py): where it lives, what it accepts, how its errors read, and how a
theme switched in the palette is written back. Every test has its own XDG_CONFIG_HOME (conftest)."""

from __future__ import annotations

import os

import pytest

from oomtui import config
from oomtui.cli import main
from oomtui.config import ConfigError


def write(config_home, text: str):
    p = config_home / "oomtui" / "config.toml"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def error_for(config_home, text: str) -> str:
    write(config_home, text)
    with pytest.raises(ConfigError) as e:
        config.load()
    return str(e.value)


def test_the_path_follows_xdg_config_home(config_home, capsys):
    assert config.config_path() == config_home / "oomtui" / "config.toml"
    assert main(["config", "--path"]) == 0
    assert capsys.readouterr().out == f"{config_home}/oomtui/config.toml\n"


def test_no_file_is_the_defaults(config_home):
    c = config.load()
    assert (c.theme, c.preset, c.speed, c.layout, c.keymap, c.keys()) == (None, "default", 1.0, "auto", {}, {})
    assert not (config_home / "oomtui").exists()  # reading creates nothing


def test_every_key(config_home):
    write(config_home, 'theme = "nord"\npreset = "vim"\nspeed = 2\nlayout = "big"\n'
                       '[keymap]\noomtui.end = "E"\n"oomtui.help" = "?"\n')
    c = config.load()
    assert (c.theme, c.preset, c.speed, c.layout) == ("nord", "vim", 2.0, "big")
    # a dotted key and a quoted one mean the same binding id
    assert c.keymap == {"oomtui.end": "E", "oomtui.help": "?"}
    assert c.keys()["oomtui.kill"] == "K" and c.keys()["oomtui.end"] == "E"  # the preset, then the file


def test_the_file_overrides_the_preset(config_home):
    write(config_home, 'preset = "vim"\n[keymap]\n"oomtui.kill" = "x"\n')
    assert config.load().keys()["oomtui.kill"] == "x"


@pytest.mark.parametrize("text, expected", [
    ('sped = 2\n', "config.toml:1: unknown key 'sped'; did you mean 'speed'? at sped"),
    ('theme = "nord"\n\nspeed = "fast"\n',
     "config.toml:3: expected a number (simulated seconds per real second), got a string ('fast') at speed"),
    ("speed = 0\n", "config.toml:1: expected 0.05 to 100, got 0 at speed"),
    ("speed = nan\n", "config.toml:1: expected a number (simulated seconds per real second), got a number (nan)"),
    ("speed = true\n", "got a boolean (True) at speed"),
    ('preset = "vi"\n', "config.toml:1: expected one of 'default', 'vim', got a string ('vi'); did you mean 'vim'? "
                        "at preset"),
    ('layout = "compact"\n', "config.toml:1: expected one of 'auto', 'big', got a string ('compact') at layout"),
    ("theme = 3\n", 'config.toml:1: expected a theme name, e.g. "nord", got a number (3) at theme'),
    ("keymap = 3\n", "config.toml:1: expected a table ([keymap], binding id = key), got a number (3) at keymap"),
    ('# keys\n[keymap]\n\n"oomtui.kill" = 75\n',
     'config.toml:4: expected key names separated by commas, e.g. "K" or "down,j", got a number (75) at '
     "keymap.oomtui.kill"),
    ('[keymap.tree]\nup = "up, ,k"\n', "config.toml:2: expected key names separated by commas"),
    ("speed = 2\n[keymap\n", "config.toml:2: not valid TOML: Expected ']' at the end of a table declaration"),
])
def test_errors_name_the_file_line_key_and_what_was_expected(config_home, text, expected):
    msg = error_for(config_home, text)
    assert msg.startswith(str(config_home / "oomtui")) and expected in msg


def test_a_directory_or_bad_bytes_is_an_error_not_a_crash(config_home):
    (config_home / "oomtui" / "config.toml").mkdir(parents=True)
    with pytest.raises(ConfigError, match="not a regular file"):
        config.load()
    (config_home / "oomtui" / "config.toml").rmdir()
    (config_home / "oomtui" / "config.toml").write_bytes(b"theme = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        config.load()


def test_locate_finds_bare_quoted_dotted_and_table_keys():
    text = ('# c\ntheme = "x"\n[keymap]\noomtui.kill = "K"\n"oomtui.hint" = "H"\n[keymap.tree]\n'
            "'up' = 'k'\n")
    assert [config.locate(text, k) for k in ("theme", "keymap", "keymap.oomtui.kill", "keymap.oomtui.hint",
                                             "keymap.tree.up", "keymap.tree.down")] == [2, 3, 4, 5, 7, None]


# ---------------------------------------------------------------------- saving the theme
def test_saving_the_theme_edits_only_its_line(config_home):
    text = '# mine\ntheme = "dracula"   # dark, for the evening\nspeed = 2\n\n[keymap]\n# vim-ish\n"oomtui.kill" = "K"\n'
    p = write(config_home, text)
    config.save_theme(p, "nord")
    assert p.read_text() == text.replace('"dracula"', '"nord"')
    assert config.load().theme == "nord" and config.load().keymap == {"oomtui.kill": "K"}


def test_saving_the_theme_adds_it_before_the_first_table_or_creates_the_file(config_home):
    p = write(config_home, 'speed = 2\n[keymap]\n"oomtui.kill" = "K"\n')
    config.save_theme(p, "nord")
    assert p.read_text() == 'speed = 2\ntheme = "nord"\n[keymap]\n"oomtui.kill" = "K"\n'
    p.unlink()
    config.save_theme(p, "gruvbox")
    assert p.read_text().startswith("# ") and config.load().theme == "gruvbox"
    assert os.listdir(p.parent) == ["config.toml"]  # no temporary file left


def test_saving_through_a_symlink_keeps_the_link(config_home, tmp_path):
    target = tmp_path / "dotfiles" / "oomtui.toml"
    target.parent.mkdir()
    target.write_text('theme = "dracula"\n')
    link = config_home / "oomtui" / "config.toml"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    config.save_theme(link, "nord")
    assert link.is_symlink() and target.read_text() == 'theme = "nord"\n'


def test_a_file_edited_into_bad_toml_is_not_overwritten(config_home):
    p = write(config_home, 'theme = "dracula"\n[keymap\n')
    with pytest.raises(config.UserError, match="not saved"):
        config.save_theme(p, "nord")
    assert p.read_text() == 'theme = "dracula"\n[keymap\n'


def test_an_unusable_place_is_a_user_error(tmp_path):
    home = tmp_path / "file"
    home.write_text("")  # a file where the directory should be: fails even for root
    with pytest.raises(config.UserError, match="config.toml: cannot read: Not a directory$"):
        config.save_theme(home / "oomtui" / "config.toml", "nord")
    assert home.read_text() == ""
