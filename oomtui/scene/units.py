"""Sizes, durations and rates as scene authors write them: "512 MiB", "150ms", "12 GB/s"."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated

from msgspec import Meta

from ..kernel.page_types import PAGE_SIZE

_SIZE_UNITS = {
    "": 1, "b": 1,
    "k": 1024, "kb": 1000, "kib": 1024,
    "m": 1024**2, "mb": 1000**2, "mib": 1024**2,
    "g": 1024**3, "gb": 1000**3, "gib": 1024**3,
    "t": 1024**4, "tb": 1000**4, "tib": 1024**4,
}
_NUM = r"(\d+(?:\.\d+)?|\.\d+)"
_SIZE_RE = re.compile(rf"^\s*{_NUM}\s*([a-zA-Z]*)\s*$")
# Upper bounds, so that a typo cannot ask for a machine or a run that never finishes: x86-64's
# address space with 5-level paging (57 bits), and an hour of simulated time (a scene's story is
# seconds long; the engine steps every jiffy).
MAX_SIZE = 1 << 57
MAX_DURATION_S = 3600
SIZE_HELP = 'bytes, or a number with a unit: "512 MiB", "4 KiB", "2G", "1.5 GB"; at most 128 PiB'
DURATION_HELP = 'a time: "2s", "150ms", "40 jiffies", "0"; at most 60 minutes'
RATE_HELP = 'a rate: "12 GB/s", "256 MiB/s"'

# how scene files write them (scene/schema.py): decoded as written, parsed once each (the caches below)
Size = Annotated[int | str, Meta(description=SIZE_HELP)]
Duration = Annotated[int | str, Meta(description=DURATION_HELP)]
Rate = Annotated[str, Meta(description=RATE_HELP)]


# Each distinct value is parsed once (units decoded once): a 500 000-thread scene writes the same few
# ("8 MiB", "4ms") a million times, and goals are evaluated at every frame. typed=True: True == 1,
# but True is no size.
@lru_cache(maxsize=4096, typed=True)
def parse_size(value: int | str) -> int:
    """Bytes."""
    if isinstance(value, bool):
        raise ValueError(f"expected a size ({SIZE_HELP}), got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a size cannot be negative, got {value}")
        return _at_most_max_size(value, value)
    m = _SIZE_RE.match(value)
    if not m or m.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"expected a size ({SIZE_HELP}), got {value!r}")
    num = float(m.group(1))  # digits only, but 400 of them are inf: caught by the comparison
    return _at_most_max_size(int(num * _SIZE_UNITS[m.group(2).lower()]) if num < MAX_SIZE else MAX_SIZE + 1, value)


def _short(value: int | str) -> str:
    r = repr(value)
    return r if len(r) <= 40 else r[:37] + "…"


def _at_most_max_size(n: int, value: int | str) -> int:
    if n > MAX_SIZE:
        raise ValueError(f"a size of at most 128 PiB (x86-64's address space) is expected, got {_short(value)}")
    return n


@lru_cache(maxsize=4096, typed=True)
def parse_pages(value: int | str) -> int:
    """The kernel's pages (PAGE_SIZE), rounded up; one int object per value (a mapping's rss, 700 000 of
    them at 100 000 processes)."""
    return -(-parse_size(value) // PAGE_SIZE)


_DUR_UNITS = {"s": 1.0, "sec": 1.0, "ms": 1e-3, "us": 1e-6, "m": 60.0, "min": 60.0}
_DUR_RE = re.compile(rf"^\s*{_NUM}\s*([a-zA-Z]*)\s*$")


@lru_cache(maxsize=4096, typed=True)
def parse_duration(value: int | float | str, hz: int) -> int:
    """Jiffies at `hz` (rounded up: a timer never fires early)."""
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_HELP}, got {value!r}")
    if isinstance(value, (int, float)):
        if value == 0:
            return 0
        raise ValueError(f"expected {DURATION_HELP} with a unit, got {value!r}")
    m = _DUR_RE.match(value)
    if not m:
        raise ValueError(f"expected {DURATION_HELP}, got {value!r}")
    num, unit = float(m.group(1)), m.group(2).lower()
    if unit in ("j", "jiffy", "jiffies"):
        seconds = num / hz
    elif unit == "" and num == 0:
        return 0
    elif unit not in _DUR_UNITS:
        raise ValueError(f"expected {DURATION_HELP}, got {value!r} (unknown unit {m.group(2)!r})")
    else:
        seconds = num * _DUR_UNITS[unit]
    if seconds > MAX_DURATION_S:
        raise ValueError(f"a time of at most {MAX_DURATION_S // 60} minutes of simulated time is expected, "
                         f"got {_short(value)}")
    if unit in ("j", "jiffy", "jiffies"):
        return int(num)
    return -(-round(seconds * hz * 1e6) // 1_000_000)


def parse_rate(value: str, hz: int) -> int:
    """Pages per jiffy (at least 1)."""
    if not isinstance(value, str) or "/" not in value:
        raise ValueError(f"expected {RATE_HELP}, got {value!r}")
    size, per = value.rsplit("/", 1)
    if per.strip().lower() not in ("s", "sec"):
        raise ValueError(f"expected {RATE_HELP}, got {value!r} (rates are per second: /s)")
    return max(1, parse_size(size) // PAGE_SIZE // hz)


# an archive of one machine's reports says the same few sizes again and again (its RAM, a cgroup's limit): explain
# of 4 000 small reports asks 32 000 times for 35 sizes
@lru_cache(maxsize=4096, typed=True)
def fmt_size(nbytes: int) -> str:
    for unit, div in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(nbytes) >= div:
            v = nbytes / div
            return f"{v:.1f} {unit}" if v < 100 and not v.is_integer() else f"{int(v)} {unit}"
    return f"{nbytes} B"
