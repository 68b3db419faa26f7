"""`oomtui serve` in headless Chromium: prints numbers, asserts nothing.

    python benchmarks/serve.py [--runs N] [--shots DIR]

1. time to the first frame: from asking the browser for the page to the briefing of first-oom on screen
   (read from xterm.js), each run in a new tab, so a new session: page, websocket, a new `oomtui play`
   process (Python, Textual, the scene) and its first frame; min, median and max;
2. what a session costs the server: the resident memory of its processes (the shell textual-serve starts
   and `oomtui play`), and of the server itself;
3. Ctrl+C with three tabs open: the time until the server has ended their sessions and exited;
4. with --shots DIR: a PNG of the page at a few viewport sizes (laptop, projector, small window) and the
   terminal size xterm.js chose for each.

It needs the web and test extras and Chromium (see tests/web/browser.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.web.browser, from a source tree

from tests.web.browser import NO_CHROMIUM, chromium, chromium_path, open_view, serving, wait_for  # noqa: E402

SIZES = [(1280, 800), (1920, 1080), (800, 600)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--shots", metavar="DIR", help="save a screenshot per viewport size here")
    a = ap.parse_args()
    exe = chromium_path()
    if exe is None:
        print(NO_CHROMIUM, file=sys.stderr)
        return 2
    with chromium(exe) as ctx:
        with serving("first-oom") as served:
            url = served.url
            times = []
            for _ in range(a.runs):
                t0 = time.perf_counter()
                page = open_view(ctx, url)
                wait_for(page, r"space to start")
                times.append(time.perf_counter() - t0)
                if len(times) == a.runs:  # the last session, still open
                    page.keyboard.press(" ")
                    page.wait_for_timeout(2000)  # the clock runs: the view as it is used
                    sessions = _children(served.pid)
                    mib = sum(map(_rss_mib, sessions))
                    print(f"one session: {len(sessions)} processes, {mib:.0f} MiB resident; the server itself "
                          f"{_rss_mib(served.pid):.0f} MiB")
                page.close()
            print(f"first frame, {a.runs} new sessions: min {min(times):.2f} s, "
                  f"median {statistics.median(times):.2f} s, max {max(times):.2f} s")
            if a.shots:
                out = Path(a.shots)
                out.mkdir(parents=True, exist_ok=True)
                for w, h in SIZES:
                    page = open_view(ctx, url, w, h)
                    wait_for(page, r"space to start")
                    page.wait_for_timeout(500)  # xterm.js fades the terminal in
                    cols, rows = page.evaluate("() => [window.__oomtui.terminal.cols, window.__oomtui.terminal.rows]")
                    path = out / f"serve-{w}x{h}.png"
                    page.screenshot(path=str(path))
                    print(f"{w}x{h} viewport: a {cols}x{rows} terminal -> {path}")
                    page.close()
            for _ in range(3):
                wait_for(open_view(ctx, url), r"space to start")
            t0 = time.perf_counter()  # serving() ends with SIGINT, as Ctrl+C, and waits for the server to exit
        print(f"Ctrl+C with 3 tabs open: the server exited {served.returncode} after {time.perf_counter() - t0:.2f} s")
    return 0


def _children(pid: int) -> list[int]:
    """Every process below pid (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in map(int, (task / "children").read_text().split()):
            out += [child, *_children(child)]
    return out


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    sys.exit(main())
