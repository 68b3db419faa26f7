"""`oomtui serve` in a real browser (Chromium, driven by playwright): the page shows the first frame, and
keys typed into it reach the session and act.

It needs Chromium: without it the test fails and says how to install it (see tests/web/browser.py);
`pytest -m "not browser"` leaves it out on purpose.
"""

from __future__ import annotations

import re

import pytest

from oomtui.scene.load import resolve

from .browser import NO_CHROMIUM, chromium, chromium_path, open_view, press, serving, wait_for

pytestmark = pytest.mark.browser


def test_a_browser_plays_the_served_view(tmp_path):
    exe = chromium_path()
    if exe is None:
        pytest.fail(NO_CHROMIUM)
    # the workshop's scenes in a directory whose name the shell would expand, split and run: the served
    # command quotes it, or the session never starts (and the file PWNED appears)
    scenes = tmp_path / "it's $(touch PWNED) a workshop"
    scenes.mkdir()
    (scenes / "first oom.toml").write_text(resolve("first-oom")[1], encoding="utf-8")
    with chromium(exe) as ctx:
        with serving(str(scenes / "first oom.toml"), "--scenes", str(scenes), cwd=tmp_path) as served:
            assert served.printed[0] == f"oomtui: serving the interactive view on {served.url.rstrip('/')}"
            page = open_view(ctx, served.url)
            # the first frame: first-oom's briefing, the clock at 0
            wait_for(page, r"space to start")
            first = wait_for(page, r"t=\s*([\d.]+)s .*BRIEFING")
            assert float(first[1]) == 0
            wait_for(page, r"Protect it first: select db")
            # space closes the briefing and starts the clock
            press(page, " ")
            moved = wait_for(page, r"t=\s*([1-9][\d.]*|0\.\d*[1-9]\d*)s")
            assert "BRIEFING" not in moved.string and "space to start" not in moved.string
            # the session runs served: its scene picker lists the built-ins and --scenes DIR, and no path input
            press(page, "s")
            picker = wait_for(page, r"↑↓ choose · enter open · esc cancel")
            assert "first-oom" in picker.string and "or a scene file" not in picker.string
            press(page, "End")  # the last entry: the first (and only) file of --scenes DIR
            wait_for(page, r"first oom\.toml +intro")
        # Ctrl+C with the tab open: the session ends (textual.js says so) and the server exits cleanly
        page.wait_for_selector("body.-closed")
    assert served.returncode == 0
    assert not re.search(r"Traceback|Error", "\n".join(served.printed)), served.printed
    assert not any(tmp_path.rglob("PWNED"))
