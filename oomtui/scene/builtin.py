"""The built-in scenes: the wheel ships them as oomtui/scenes (pyproject force-include), a source tree
has them in scenes/. `oomtui scenes` lists them from each file's title line alone: no scene is parsed
and msgspec is never imported, so the list comes as fast as Python starts (benchmarks/startup.py)."""

from __future__ import annotations

import os
import sys


def builtin_dir() -> str:
    """Inside the package where the wheel puts them, else a source checkout's scenes/ (an editable install).
    Plain paths: importlib.resources (and zipfile) cost start-up time."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    here = os.path.join(package, "scenes")
    return here if os.path.isdir(here) else os.path.join(os.path.dirname(package), "scenes")


def builtin_ids() -> list[str]:
    try:
        return sorted(n[:-5] for n in os.listdir(builtin_dir()) if n.endswith(".toml"))
    except OSError:
        return []


def _open(scene_id: str):
    try:
        return open(os.path.join(builtin_dir(), f"{scene_id}.toml"), encoding="utf-8")
    except OSError:
        return None


def builtin_text(scene_id: str) -> str | None:
    f = _open(scene_id)
    if f is None:
        return None
    with f:
        return f.read()


def builtin_title(scene_id: str) -> str:
    """The top-level `title` of a built-in scene, read up to its line (top-level keys come before any
    table); a title that does not fit on one line is read from the whole file."""
    import tomllib

    from ..text import visible

    f = _open(scene_id)
    if f is None:
        return ""
    with f:
        for line in f:
            if line.startswith("["):
                break
            if line.split("=", 1)[0].strip() == "title":
                try:
                    return visible(tomllib.loads(line)["title"])  # shown like a loaded scene's title
                except tomllib.TOMLDecodeError:
                    break
        f.seek(0)
        return visible(tomllib.loads(f.read()).get("title", ""))


def builtin_order(scene_id: str) -> int | None:
    """`order` of a built-in scene's [game] table (its place on the story path), read line by line as the
    title is: the built-in scenes write it `order = N`."""
    f = _open(scene_id)
    if f is None:
        return None
    with f:
        section = ""
        for line in f:
            if line.startswith("["):
                section = line.strip()
            elif section == "[game]" and line.split("=", 1)[0].strip() == "order":
                value = line.split("=", 1)[1].split("#", 1)[0].strip()
                return int(value) if value.isdigit() else None
    return None


def scenes_main(args) -> int:
    """The story scenes first, in the order the game plays them (as the scene picker lists them), then the
    scenarios by name."""
    ids = builtin_ids()
    orders = {sid: builtin_order(sid) for sid in ids}
    ids.sort(key=lambda sid: (orders[sid] is None, orders[sid] or 0, sid))
    width = max(map(len, ids), default=0)
    for sid in ids:
        sys.stdout.write(f"{sid:<{width}}  {builtin_title(sid)}\n")
    return 0
