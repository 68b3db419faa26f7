"""What the scene writers (`oomtui import`, `oomtui snapshot`) share: TOML strings, and how a process's
measured anon pages fit the memory the scene builder gives every process by itself."""

from __future__ import annotations

from typing import NamedTuple

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
