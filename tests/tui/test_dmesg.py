"""The dmesg panel (widgets/dmesg.py): whole lines in the wide layout, a sideways-scrolled row with a
cue in the compact one, only the visible rows drawn, following new lines unless scrolled up."""

from __future__ import annotations

import html
import re

from textual.app import App

from oomtui.kernel import events as ev
from oomtui.tui.widgets.dmesg import CUE_LEFT, CUE_RIGHT, DmesgLog, wrap_line

KILLED = "Killed process 100 (db)"


def screen_rows(app) -> list[str]:
    """The screen as rows of text, from the SVG export (each text run placed at its column)."""
    svg = app.export_screenshot()
    w, h = app.size
    rows = [[" "] * w for _ in range(h)]
    for x, length, line, text in re.findall(
            r'<text [^>]*?x="([\d.]+)" y="[\d.]+" textLength="([\d.]+)" clip-path="url\(#[\w-]+-line-(\d+)\)">'
            r"([^<]*)</text>", svg):
        text = html.unescape(text).replace("\xa0", " ")
        if not text:
            continue
        cell = float(length) / len(text)
        col = round(float(x) / cell)
        for i, ch in enumerate(text):
            if 0 <= int(line) < h and col + i < w:
                rows[int(line)][col + i] = ch
    return ["".join(r) for r in rows]


def dmesg_rows(app) -> list[str]:
    """The rows of the dmesg panel's text area, as on the screen (scrollbar column excluded)."""
    d = app.dmesg
    r = d.content_region
    width = r.width - d.scrollbar_size_vertical
    return [row[r.x:r.x + width] for row in screen_rows(app)[r.y:r.y + r.height]]


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


async def run_to(app, pilot, seconds: float) -> None:
    if app.has_class("-briefing") and hasattr(app, "go_on"):
        app.go_on()
    n = int(seconds * app.engine.k.hz) - app.engine.k.jiffies
    if hasattr(app, "advance"):
        app.advance(n)
    else:
        app.advance(n)
    await pilot.pause()
    app.clear_notifications()
    await pilot.pause()


async def test_wide_layout_shows_the_killed_line_whole(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=(120, 36)) as pilot:
        await run_to(app, pilot, 7)
        d = app.dmesg
        assert d.wrap and not app.has_class("-compact")
        killed = next(s for s in app.engine.k.dmesg() if KILLED in s)
        assert re.search(r"oom_score_adj:-?\d+$", killed)
        rows = dmesg_rows(app)
        # whole lines: a row starting with a stamp opens a line, the indented rows continue it
        lines: list[str] = []
        for row in rows:
            if row.startswith("["):
                lines.append(row)
            elif lines and row.startswith(" " * 15):
                lines[-1] += row
        shown = [s for s in lines if KILLED in s]
        assert shown, "\n".join(rows)
        assert squash(shown[0]) == squash(killed)  # every character of it, none cut
        assert not any(CUE_RIGHT in r for r in rows)


async def test_compact_layout_cuts_rows_with_a_cue_and_scrolls_sideways(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await run_to(app, pilot, 7)
        d = app.dmesg
        assert app.has_class("-compact") and not d.wrap
        killed = next(s for s in app.engine.k.dmesg() if KILLED in s)
        row = next(r for r in dmesg_rows(app) if KILLED in r)
        assert row.endswith(CUE_RIGHT) and "oom_score_adj" not in row
        assert killed.startswith(row[:-1])
        d.focus()
        await pilot.pause()
        for _ in range(12):
            await pilot.press("right")
            rows = dmesg_rows(app)
            i = next(i for i, s in enumerate(app.engine.k.dmesg()[-len(rows):]) if KILLED in s)
            if "oom_score_adj" in rows[i]:
                break
        assert d.scroll_x > 0
        row = rows[i]
        assert row.startswith(CUE_LEFT)
        assert row.rstrip().endswith(killed[-20:])  # the end of the line is on the screen
        await pilot.press(*["left"] * 12)
        assert d.scroll_x == 0


class Host(App):
    """A DmesgLog alone (no kernel): lines come from write_lines / sync."""

    CSS = "DmesgLog { height: 1fr; }"

    def compose(self):
        yield DmesgLog(None, id="dmesg")

    def on_mount(self) -> None:
        self.dmesg = self.query_one(DmesgLog)


def dump(n: int, start: int = 0) -> list[ev.Dmesg]:
    return [ev.Dmesg(t=250 + i // 1000, line=f"[{1000 + i:7d}]     0 {1000 + i:5d}   240656   238612   230420     "
                     f"8192         0  1912832        0             0 svc{i}") for i in range(start, start + n)]


async def test_a_5000_row_dump_draws_only_the_visible_rows():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        d = app.dmesg
        d.sync(dump(100))
        await pilot.pause()
        assert d.wrap and d.virtual_size.height > 100  # each dump row wraps once at this width
        d.rendered = 0
        formatted, wrapped = len(d._lines), len(d._pieces)
        d.sync(dump(5000, 100))
        await pilot.pause()
        height = d.size.height
        assert d.line_count == 5100 and d.following
        assert 0 < d.rendered <= 2 * height, d.rendered  # one frame: the visible rows, not 5 000
        assert len(d._lines) - formatted <= height  # stamped and highlighted: only lines shown
        assert len(d._pieces) - wrapped <= height  # wrapped: the same
        last = dmesg_rows(app)[-1]
        assert "svc5099" in last  # followed to the newest line


async def test_scrolled_up_stays_put_and_end_follows_again():
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        d = app.dmesg
        d.sync(dump(200))
        await pilot.pause()
        d.focus()
        await pilot.pause()
        bottom = dmesg_rows(app)
        await pilot.press("up")  # from the bottom drawn bottom-up (row counts estimated) to top-down
        assert not d.following
        assert dmesg_rows(app)[1:] == bottom[:-1]  # exactly one row up, the same rows
        await pilot.press("up", "pageup")
        top = dmesg_rows(app)[0]
        y = d.scroll_y
        d.sync(dump(50, 200))
        await pilot.pause()
        assert d.scroll_y == y and dmesg_rows(app)[0] == top
        await pilot.press("end")
        assert d.following
        assert "svc249" in dmesg_rows(app)[-1]


async def test_old_lines_are_dropped_and_the_view_keeps_its_place():
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        d = app.dmesg
        d.max_lines = 800
        d.sync(dump(800))
        await pilot.pause()
        d.scroll_to(y=600, animate=False, force=True)  # about line 300: kept after the drop
        await pilot.pause()
        top = dmesg_rows(app)[0]
        d.sync(dump(200, 800))  # past max_lines + 1/8: the oldest 200 go
        await pilot.pause()
        assert d.line_count == 800 and "svc999" in d.line_text(-1) and "svc200" in d.line_text(0)
        assert not d.following and dmesg_rows(app)[0] == top


async def test_highlights_take_the_theme_colours():
    app = Host()
    async with app.run_test(size=(120, 10)) as pilot:
        d = app.dmesg
        d.write_lines([
            "[    5.940000] loader invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE), order=0",
            "[    5.940000] Out of memory: Killed process 100 (db) total-vm:962624kB, oom_score_adj:0",
        ])
        await pilot.pause()

        def style_of(word: str):
            for y in range(d.size.height):
                for seg in d.render_line(y):
                    if word in seg.text:
                        return seg.style
            raise AssertionError(word)

        assert style_of("Killed process") == d.get_component_rich_style("dmesg--killed")
        assert style_of("invoked oom-killer") == d.get_component_rich_style("dmesg--invoked")
        stamp = style_of("[    5.940000]")
        assert stamp == d.get_component_rich_style("dmesg--stamp")
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        assert style_of("[    5.940000]") == d.get_component_rich_style("dmesg--stamp") != stamp
        assert style_of("Killed process") == d.get_component_rich_style("dmesg--killed")


def test_wrap_line_keeps_every_character_and_the_stamp_whole():
    text = ("[ 1234.567890] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,"
            "global_oom,task_memcg=/,task=db,pid=100,uid=0 Out of memory: Killed process 100 (db) "
            "total-vm:962624kB, anon-rss:921680kB, averyveryveryveryveryveryverylongwordwithoutspaces_x")
    for width in (20, 33, 50, 65, 80, 200):
        cuts = wrap_line(text, width, width - 4, lead=15)
        rows = [text[a:b] for a, b in cuts]
        assert rows[0].startswith("[ 1234.567890]")
        assert all(len(rows[0]) <= width for _ in rows) and all(len(r) <= width - 4 for r in rows[1:])
        assert squash("".join(rows)) == squash(text)
        assert cuts == sorted(cuts) and all(a < b for a, b in cuts)
    assert wrap_line("short", 10, 6) == [(0, 5)]
    wide = "進程 " * 30  # double-width characters: cut by cells, not characters
    for a, b in wrap_line(wide, 21, 17):
        assert sum(2 if ord(c) > 0x2000 else 1 for c in wide[a:b]) <= 21


async def test_a_resize_rewraps_and_keeps_the_top_line_or_the_bottom():
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        d = app.dmesg
        d.sync(dump(300))
        await pilot.pause()
        await pilot.resize_terminal(70, 20)  # following: still the newest line at the bottom
        await pilot.pause()
        assert d.following and "svc299" in dmesg_rows(app)[-1]
        d.scroll_to(y=150, animate=False, force=True)
        await pilot.pause()
        while not dmesg_rows(app)[0].startswith("["):  # a line's first row at the top
            d.scroll_to(y=d.scroll_y - 1, animate=False, force=True)
            await pilot.pause()
        top = dmesg_rows(app)[0]
        await pilot.resize_terminal(120, 20)
        await pilot.pause()
        assert not d.following
        assert dmesg_rows(app)[0].split()[:3] == top.split()[:3]  # the same line, wrapped wider


class AutoHost(Host):
    CSS = "DmesgLog { height: auto; max-height: 12; }"


async def test_height_auto_keeps_no_empty_rows():
    """With `height: auto; max-height: N` (what the App can use, e.g. --big) the panel is as tall as
    its rows, up to N: no empty rows under a few lines."""
    app = AutoHost()
    async with app.run_test(size=(100, 30)) as pilot:
        d = app.dmesg
        d.write_lines(["[    1.000000] one", "[    1.000000] two"])
        await pilot.pause()
        assert d.outer_size.height == 2 + 2  # two rows and the border
        d.write_lines([f"[    2.000000] line {i}" for i in range(3)])
        await pilot.pause()
        assert d.outer_size.height == 5 + 2
        d.sync(dump(300))
        await pilot.pause()
        assert d.outer_size.height == 12 and "svc299" in dmesg_rows(app)[-1]
