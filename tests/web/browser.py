"""`oomtui serve` and a real browser, for the browser test and benchmarks/serve.py.

The browser is the system's Chromium (Debian's `chromium` package), driven by playwright; playwright's own
browser download is never used. What the page shows is read from xterm.js itself: textual.js keeps its
Terminal in a closure, so an init script catches the object that owns it when it sets its `webglAddon`
field, and the screen is the Terminal's buffer, line by line, as xterm.js holds it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "webglAddon", {configurable: true, set(v) {
  window.__oomtui = this;
  Object.defineProperty(this, "webglAddon", {value: v, writable: true, configurable: true, enumerable: true});
}});
"""

SCREEN = """() => {
  const t = window.__oomtui && window.__oomtui.terminal;
  if (!t) return null;
  const b = t.buffer.active, rows = [];
  for (let y = 0; y < t.rows; y++) rows.push(b.getLine(b.viewportY + y).translateToString(true));
  return rows.join("\\n");
}"""

NO_CHROMIUM = ("no Chromium for the browser test: install it (Debian: apt-get install chromium) or point "
               "OOMTUI_CHROMIUM at a Chrome or Chromium binary; `pytest -m 'not browser'` leaves the test out")


def chromium_path() -> str | None:
    """OOMTUI_CHROMIUM, else the first Chromium or Chrome on PATH."""
    given = os.environ.get("OOMTUI_CHROMIUM")
    if given:
        return given
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@dataclass
class Served:
    url: str
    printed: list[str]  # its stdout and stderr, line by line, as they come
    pid: int
    returncode: int | None = None  # once stopped


@contextmanager
def serving(*args: str, cwd: str | Path | None = None, timeout: float = 60.0) -> Iterator[Served]:
    """`python -m oomtui serve ARGS --port P` until the block ends."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oomtui", "serve", *args, "--port", str(port)], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:  # a thread: readline would block the timeout
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "Ctrl+C" in line:
                ready.set()
        ready.set()  # it ended

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # serve prints its lines just before textual-serve binds the port: wait for both
        end = time.monotonic() + timeout
        while not (ready.is_set() and _accepts(port)):
            if time.monotonic() > end or proc.poll() is not None:
                raise AssertionError("oomtui serve did not start; it printed:\n" + "\n".join(lines))
            time.sleep(0.05)
        served = Served(f"http://127.0.0.1:{port}/", lines, proc.pid)
        yield served
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl+C: textual-serve ends its sessions and exits
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(5)  # what it printed while stopping (a session's stderr) is in lines too
    served.returncode = proc.returncode


@contextmanager
def chromium(executable: str) -> Iterator[object]:
    """A headless Chromium with a fresh profile (playwright's Browser)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="oomtui-chromium-") as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=executable, args=CHROMIUM_ARGS,
                                                   headless=True)
        try:
            yield ctx
        finally:
            ctx.close()


def open_view(ctx, url: str, width: int = 1280, height: int = 800):
    """A new tab of the size given, on the served page; returns it once the page is loaded."""
    page = ctx.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.add_init_script(CATCH_TERMINAL)
    page.goto(url, wait_until="domcontentloaded")
    return page


def screen(page) -> str:
    """What xterm.js shows, one line per row ("" before the terminal exists)."""
    return page.evaluate(SCREEN) or ""


def wait_for(page, pattern: str, timeout: float = 60.0) -> re.Match:
    """Wait until the screen matches the regular expression; AssertionError with the screen if it never does."""
    end = time.monotonic() + timeout
    text = ""
    while time.monotonic() < end:
        text = screen(page)
        m = re.search(pattern, text)
        if m:
            return m
        page.wait_for_timeout(50)
    raise AssertionError(f"{pattern!r} never appeared in the browser; its screen:\n{text}")


def press(page, key: str) -> None:
    """A key into the terminal, as a person types it (xterm.js's textarea has the keyboard focus)."""
    page.focus(".xterm-helper-textarea")
    page.keyboard.press(key)
