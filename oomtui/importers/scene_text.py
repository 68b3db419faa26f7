"""What the scene writers (`oomtui import`, `oomtui snapshot`) share: the schema line, TOML strings, and
how a process's measured anon pages fit the memory the scene builder gives every process by itself."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..errors import UserError

# A header directive of taplo (and of even-better-toml, VS Code's TOML extension, built on it): the scene's JSON
# Schema, for completion and checks as it is edited. The path is relative to the scene, so the writers put the
# schema file beside it; `oomtui schema` prints the same.
SCHEMA_FILE = "oomtui-scene.schema.json"
SCHEMA_DIRECTIVE = f"#:schema ./{SCHEMA_FILE}"


def write_schema_beside(scene: Path) -> str | None:
    """Put the schema that the directive names next to a scene file, unless it is there already. Returns
    the line that tells the user so, or None."""
    from ..output import schema_text

    path = scene.parent / SCHEMA_FILE
    text = schema_text("scene")
    try:
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            return None
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UserError(f"{path}: cannot write the scene's schema: {e.strerror or e}") from None
    return f"wrote {path}: the JSON Schema that the scene's #:schema line names, for editors (taplo)"

# oomtui/scene/build.py _stacks(): every thread gets a stack with ThreadSpec.stack_rss (64 KiB) resident,
# and the leader a 16 KiB static TLS block, all anonymous memory on top of the process's `rss`.
STACK_PAGES = 16
TLS_PAGES = 4

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_str(s: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped; a lone surrogate (an
    undecodable byte read with surrogateescape) becomes U+FFFD, which TOML can hold."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append("\\ufffd")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class AnonFit(NamedTuple):
    """A process's memory as scene keys, so that the builder's anon pages equal the measured ones."""

    heap: int  # the scene's `rss`: pages
    stacks: list[int]  # resident stack pages per thread, leader first (STACK_PAGES is the default)
    file: int
    shmem: int


def fit_anon(anon: int, file: int = 0, shmem: int = 0, threads: int = 1) -> AnonFit:
    """Split `anon` measured pages into heap + a stack per thread + the leader's TLS block. A process with
    less anon than that keeps the TLS block and shrinks its stacks (leader first keeps the most); when
    even the TLS block does not fit, its pages are taken from file, then shmem, so the total holds."""
    threads = max(threads, 1)
    fixed = STACK_PAGES * threads + TLS_PAGES
    if anon >= fixed:
        return AnonFit(anon - fixed, [STACK_PAGES] * threads, file, shmem)
    left = max(anon - TLS_PAGES, 0)
    stacks = []
    for _ in range(threads):
        stacks.append(min(STACK_PAGES, left))
        left -= stacks[-1]
    excess = max(TLS_PAGES - anon, 0)
    take = min(excess, file)
    file, excess = file - take, excess - take
    return AnonFit(0, stacks, file, shmem - min(excess, shmem))
