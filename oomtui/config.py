"""The player's config file, read by `oomtui play` (and `oomtui` alone): theme, keys, speed, layout.

$XDG_CONFIG_HOME/oomtui/config.toml, by default ~/.config/oomtui/config.toml (platformdirs: elsewhere
on macOS and Windows). Every key is optional:

    theme = "nord"     # a Textual theme; switching theme in the palette (ctrl+p) saves it here
    preset = "vim"     # "default" or "vim": j/k move, h/l fold, g/G ends, ctrl+u/d page; kill is K, hint H
    speed = 2          # simulated seconds per real second (0.05 to 100); --speed wins
    layout = "auto"    # "auto" (wide, or compact on a small terminal) or "big" (the presenter layout, --big)

    [keymap]           # binding id = key(s), over the preset; `oomtui config --show` lists every id
    "oomtui.kill" = "K"

`record` and `screenshot` never read it: a recording is the same file whoever makes it. Errors are
worded like a scene's (file, line, key, what was expected, did you mean) and stop `play` before it
starts. Nothing here imports Textual: the checks that need it (theme names, binding ids, keys that
clash) are in oomtui/tui/keys.py.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import FileError, UserError
from .text import visible

# the compact layout stays the terminal size's choice: forced on a large terminal it leaves the tree
# most of the screen and dmesg a line, and the wide one forced on a small terminal cuts panels
LAYOUTS = ("auto", "big")
SPEED_MIN, SPEED_MAX = 0.05, 100.0

# btop's vim_keys: h/j/k/l move in lists and g/G jump to the ends, so its help and kill keys move to
# the shifted letters. Here k (SIGKILL) becomes K and h (hint) becomes H; the dmesg pane scrolls alike.
_VIM_MOVES = {"up": "up,k", "down": "down,j", "home": "home,g", "end": "end,G",
              "pageup": "pageup,ctrl+u", "pagedown": "pagedown,ctrl+d"}
PRESETS: dict[str, dict[str, str]] = {
    "default": {},
    "vim": {
        **{f"tree.{k}": v for k, v in _VIM_MOVES.items()},
        "tree.collapse": "left,h", "tree.expand": "right,l",
        **{f"dmesg.{k}": v for k, v in _VIM_MOVES.items()},
        "dmesg.left": "left,h", "dmesg.right": "right,l",
        "oomtui.kill": "K", "oomtui.hint": "H",
    },
}
KEYS = ("theme", "preset", "speed", "layout", "keymap")


class ConfigError(FileError):
    """An error in the config file."""


@dataclass(frozen=True)
class Config:
    file: str  # the name errors show
    path: Path | None = None  # where it is (or would be); None: no home to keep one in
    text: str = ""
    theme: str | None = None  # None: Textual's default (textual-dark, or $TEXTUAL_THEME)
    preset: str = "default"
    speed: float = 1.0
    layout: str = "auto"
    keymap: dict[str, str] = field(default_factory=dict)  # the file's own, by binding id

    def keys(self) -> dict[str, str]:
        """The keymap in force: the preset's, then the file's over it."""
        return {**PRESETS[self.preset], **self.keymap}

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.file, key, message, locate(self.text, key))


def user_dir(kind: str) -> Path | None:
    """oomtui's user "config" or "state" directory (platformdirs); None when there is no home to put it
    in: $XDG_..._HOME unset or relative and HOME empty or relative (nothing is ever written relative to
    the working directory), or no home at all."""
    import platformdirs  # Textual imports it anyway: nothing more for `play`

    xdg = os.environ.get(f"XDG_{kind.upper()}_HOME", "")
    home = os.environ.get("HOME")
    if not os.path.isabs(xdg) and home is not None and not os.path.isabs(home):
        return None  # platformdirs would fall back to the passwd entry: not the home this user gave
    try:
        d = platformdirs.user_config_path("oomtui") if kind == "config" else platformdirs.user_state_path("oomtui")
    except (RuntimeError, OSError, KeyError):  # "could not determine the home directory"
        return None
    return d if d.is_absolute() else None


def config_path() -> Path | None:
    d = user_dir("config")
    return d / "config.toml" if d is not None else None


def load(path: Path | None = None) -> Config:
    """The config file at path (default: config_path()); no file is the defaults."""
    path = config_path() if path is None else path
    if path is None:
        return Config("(no home directory: no config file)")
    name = visible(str(path))
    try:
        if path.exists() and not path.is_file():  # a directory, or a FIFO that would hang the read
            raise ConfigError(name, None, "not a regular file; expected the config file (TOML)")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(name, path)
    except UnicodeDecodeError:
        raise ConfigError(name, None, "not UTF-8 text; expected the config file (TOML)") from None
    except OSError as e:
        raise ConfigError(name, None, f"cannot read: {visible(e.strerror or str(e))}") from None
    return parse(text, name, path)


def parse(text: str, name: str = "<config>", path: Path | None = None) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        raise ConfigError(name, None, f"not valid TOML: {re.sub(r' [(]at line.*', '', str(e))}",
                          int(m.group(1)) if m else None) from None
    cfg = Config(name, path, text)
    for key in data:
        if key not in KEYS:
            raise cfg.error(key, f"unknown key {key!r}{did_you_mean(key, KEYS)}")
    out: dict = {}
    if "theme" in data:
        out["theme"] = _string(cfg, "theme", data["theme"], "a theme name, e.g. \"nord\"")
    if "preset" in data:
        out["preset"] = _choice(cfg, "preset", data["preset"], tuple(PRESETS))
    if "layout" in data:
        out["layout"] = _choice(cfg, "layout", data["layout"], LAYOUTS)
    if "speed" in data:
        v = data["speed"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise cfg.error("speed", f"expected a number (simulated seconds per real second), got {_shown(v)}")
        if not SPEED_MIN <= v <= SPEED_MAX:
            raise cfg.error("speed", f"expected {SPEED_MIN:g} to {SPEED_MAX:g}, got {v:g}")
        out["speed"] = float(v)
    if "keymap" in data:
        if not isinstance(data["keymap"], dict):
            raise cfg.error("keymap", f"expected a table ([keymap], binding id = key), got {_shown(data['keymap'])}")
        out["keymap"] = _keymap(cfg, data["keymap"])
    return Config(name, path, text, **out)


def _keymap(cfg: Config, table: dict, prefix: str = "") -> dict[str, str]:
    """Binding id -> keys. `oomtui.kill = "K"` (a dotted key) and `"oomtui.kill" = "K"` are the same."""
    out: dict[str, str] = {}
    for k, v in table.items():
        bid = prefix + k
        if isinstance(v, dict):
            out.update(_keymap(cfg, v, bid + "."))
            continue
        keys = _string(cfg, f"keymap.{bid}", v, 'key names separated by commas, e.g. "K" or "down,j"')
        if any(not k.strip() or " " in k.strip() for k in keys.split(",")):
            raise cfg.error(f"keymap.{bid}", f'expected key names separated by commas, e.g. "K" or "down,j", '
                                             f"got {keys!r}")
        out[bid] = ",".join(k.strip() for k in keys.split(","))
    return out


def _string(cfg: Config, key: str, v: object, what: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise cfg.error(key, f"expected {what}, got {_shown(v)}")
    return v.strip()


def _choice(cfg: Config, key: str, v: object, choices: tuple[str, ...]) -> str:
    if v not in choices:
        hint = did_you_mean(v, choices, "") if isinstance(v, str) else ""
        raise cfg.error(key, f"expected one of {', '.join(map(repr, choices))}, got {_shown(v)}{hint}")
    return v  # type: ignore[return-value]


def _shown(v: object) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string", dict: "a table",
            list: "an array"}.get(type(v), "a date or time")
    return f"{kind} ({v!r})" if not isinstance(v, (dict, list)) else kind


def did_you_mean(word: str, choices, otherwise: str | None = None) -> str:
    """"; did you mean 'x'?" for the nearest choice, else `otherwise` (default: every choice)."""
    hint = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    if hint:
        return f"; did you mean {hint[0]!r}?"
    return f"; valid: {', '.join(choices)}" if otherwise is None else otherwise


# ---------------------------------------------------------------------- lines, for error messages
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]")
_ASSIGN = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _dotted(key: str) -> str:
    """A TOML key as written (bare, quoted, dotted) to the dotted path tomllib gives it."""
    return ".".join(p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", key))


def locate(text: str, key: str) -> int | None:
    """The line of a key path ("speed", "keymap.oomtui.kill") in the config text; best effort."""
    table = ""
    for i, line in enumerate(text.splitlines(), 1):
        h = _HEADER.match(line)
        if h:
            table = _dotted(h.group(1))
            if table == key:
                return i
            continue
        a = _ASSIGN.match(line)
        if a and ".".join(filter(None, (table, _dotted(a.group(1))))) == key:
            return i
    return None


# ---------------------------------------------------------------------- saving the theme
def save_theme(path: Path, theme: str) -> None:
    """Set `theme = "..."` in the config file, every other line as it was (comments too); the file is
    replaced atomically (a new file renamed over it), through a symlink to its target. Raises UserError."""
    real = Path(os.path.realpath(path))
    try:
        old = real.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = "# oomtui's config: `oomtui config --show` lists every key with its value now\n"
    except UnicodeDecodeError:
        raise UserError(f"{visible(str(path))}: not saved: not UTF-8 text") from None
    except OSError as e:
        raise UserError(f"{visible(str(path))}: cannot read: {e.strerror or e}") from None
    new = with_theme(old, theme)
    try:
        if tomllib.loads(new).get("theme") != theme:
            raise ValueError
    except (tomllib.TOMLDecodeError, ValueError):  # edited meanwhile into something this cannot edit
        raise UserError(f"{visible(str(path))}: not saved: the file is no longer valid TOML "
                        "(or has no plain theme line)") from None
    tmp = real.with_name(f".{real.name}.{os.getpid()}.tmp")
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(new, encoding="utf-8")
        if real.exists():
            os.chmod(tmp, real.stat().st_mode & 0o7777)
        os.replace(tmp, real)
    except OSError as e:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise UserError(f"{visible(str(path))}: cannot write: {e.strerror or e}") from None


_THEME_LINE = re.compile(r"^(\s*theme\s*=\s*)(\"[^\"\n]*\"|'[^'\n]*')(.*)$")


def with_theme(text: str, theme: str) -> str:
    """text with its top-level theme line set to theme (a trailing comment kept), or one added before
    the first table (after everything, if there is none)."""
    import json

    value = json.dumps(theme)  # a TOML basic string for any theme name
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if _HEADER.match(line):
            lines.insert(i, f"theme = {value}\n")
            return "".join(lines)
        m = _THEME_LINE.match(line)
        if m:
            end = "\n" if line.endswith("\n") else ""
            lines[i] = f"{m.group(1)}{value}{m.group(3).rstrip(chr(10))}{end}"
            return "".join(lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines) + f"theme = {value}\n"


# ---------------------------------------------------------------------- `oomtui config`
def main(args) -> int:
    """`oomtui config --path` prints where the file is; `--show` (the default) the config in force, defaults included."""
    path = config_path()
    if args.path:
        if path is None:
            raise UserError("no home directory (HOME or XDG_CONFIG_HOME): no config file")
        print(path)
        return 0
    from .tui.keys import check, effective_bindings

    cfg = load(path)
    check(cfg)  # theme names, binding ids and clashes: what `play` checks
    print(show(cfg, effective_bindings(cfg.keys())))
    return 0


def show(cfg: Config, bindings: dict[str, str]) -> str:
    """The config in force as TOML: what the file sets, the defaults for the rest, every binding's keys."""
    import json

    theme = cfg.theme or os.environ.get("TEXTUAL_THEME") or "textual-dark"
    exists = cfg.path is not None and cfg.path.is_file()
    out = [f"# {cfg.file}" + ("" if exists else " (no such file: the defaults)"),
           f"theme = {json.dumps(theme)}", f"preset = {json.dumps(cfg.preset)}", f"speed = {cfg.speed:g}",
           f"layout = {json.dumps(cfg.layout)}", "", "[keymap]  # binding id = key(s), as the preset and the file set them"]
    group = None
    for bid, keys in bindings.items():
        if bid.split(".")[0] != group and group is not None:
            out.append("")  # the App's, the process tree's, dmesg's, the dialogs'
        group = bid.split(".")[0]
        out.append(f"{json.dumps(bid)} = {json.dumps(keys)}")
    return "\n".join(out)
