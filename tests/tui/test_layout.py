"""The layout at every terminal size from 80x24 to 250x70: nothing cut with "…" from 120x36 up, no
scrollbar in the side column, the footer keeps help and quit, and a notice below the minimum size."""

from __future__ import annotations

import re

import pytest

from oomtui.tui.app import MIN_H, MIN_W

from .test_commands import screen_text

WIDE = [(120, 36), (160, 45), (200, 50), (250, 70)]
SCENES = [("first-oom", 7.0), ("frozen-robust-holder", 5.0), ("lmkd-player", 1.5), ("frozen-android-app", 2.56),
          ("d-state-holder", 4.0)]


def cut_marks(text: str) -> int:
    """'…' that cut a text; the lone ' … ' of an undecided goal does not count."""
    return text.replace(" … ", " ").count("…")


def fits(app, panel_id: str) -> bool:
    """The panel's text, wrapped at its width, fits its height (nothing clipped at the bottom)."""
    from rich.text import Text

    w = app.query_one(f"#{panel_id}")
    rows = sum(len(Text(line).wrap(app.console, w.content_region.width)) for line in app.panel_text(panel_id).split("\n"))
    return rows <= w.content_region.height


async def _at(app, pilot, seconds: float) -> None:
    app.advance(int(seconds * app.engine.k.hz))
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize("size", WIDE)
@pytest.mark.parametrize("scene,at", SCENES)
async def test_nothing_is_cut_and_the_side_column_never_scrolls(make_app, scene, at, size):
    app = make_app(scene)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.run_command("hint") if app.engine.sim.scene.game and app.engine.sim.scene.game.hint else None
        await _at(app, pilot, at)
        text = screen_text(app)
        assert cut_marks(text) == 0, [w for w in text.split("  ") if "…" in w.replace(" … ", "")]
        side = app.query_one("#side")
        assert side.max_scroll_y == 0, f"the side column scrolls by {side.max_scroll_y} rows at {size}"
        assert fits(app, "decision"), app.panel_text("decision")  # the panel that gives way is not cut
        assert "Killed process" in text or at < 2  # dmesg lines are whole
        if size[0] >= 200:
            assert side.size.width > 60  # the side column grows with the terminal


async def test_the_side_column_grows_and_the_decision_panel_gives_its_rows(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=(120, 36)) as pilot:
        await _at(app, pilot, 7)
        narrow = app.query_one("#side").size.width
        rows = app.panel_text("decision").count("\n")
        await pilot.resize_terminal(200, 50)
        await pilot.pause()
        await pilot.pause()
        assert app.query_one("#side").size.width > narrow
        assert app.panel_text("decision").count("\n") >= rows


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_small_terminals_keep_help_and_quit_in_the_footer(make_app, size):
    app = make_app("first-oom")
    async with app.run_test(size=size) as pilot:
        await _at(app, pilot, 6)
        text = screen_text(app)
        assert "? help" in " ".join(text.split()) or "?  help" in text
        assert "q quit" in " ".join(text.split())


@pytest.mark.parametrize("width", [60, 80, 97, 120])
async def test_footer_shows_whole_keys_and_a_click_presses_one(make_app, width):
    app = make_app("first-oom")
    async with app.run_test(size=(width, 30)) as pilot:
        await _at(app, pilot, 6)
        bar = app.query_one("#footer")
        line = bar.render().plain  # what the footer draws, cell for cell
        assert len(line) <= width and line.rstrip().endswith("▏^p palette ".rstrip())
        seen: set[str] = set()  # a command with two keys (? and f1) shows its first
        shown = [b for _, b, _, _ in app.screen.active_bindings.values()
                 if b.show and not (b.action in seen or seen.add(b.action))]
        words = [f" {app.get_key_display(b)} {app.footer_word(b)} " for b in shown]
        keys = line.split("▏")[0]
        listed = [w for w in words if w in keys]
        assert listed == words[:len(listed)] and len(listed) >= 2  # in order from the first, none skipped
        assert keys.rstrip() == "".join(listed).rstrip()  # nothing else: no key cut in half
        if len(listed) < len(words):  # the next one would not have fitted whole
            assert len("".join(listed)) + len(words[len(listed)]) > len(keys)
        x = line.index(" ? help ")
        await pilot.click(bar, offset=(x + 1, 0))
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_big_keeps_the_tree_and_the_threads_that_matter(make_app, size):
    app = make_app("frozen-robust-holder", big=True)
    async with app.run_test(size=size) as pilot:
        await _at(app, pilot, 3)
        tree = app.query_one("#tree")
        assert tree.size.height >= 6, tree.size
        text = screen_text(app)
        assert "holds M" in text  # the frozen robust-mutex holder's thread row


async def test_big_at_80x24_keeps_the_status_bar_and_uses_the_whole_width(make_app):
    """The presenter at 80x24: the big numbers sit under the status bar (scene, policy, pause state),
    dmesg gives its rows to the tree, the side panel spans the terminal and the reaper's label keeps its unit."""
    app = make_app("two-second-rule", big=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _at(app, pilot, 3.3)
        status, big = app.query_one("#status"), app.query_one("#big")
        assert status.region.height == 1 and not status.region.overlaps(big.region)
        assert "linux-5.18" in screen_text(app) and "PAUSED" in screen_text(app)
        assert not app.dmesg.display and app.query_one("#tree").size.height >= 12
        assert app.query_one("#side").size.width == 80
        assert str(app.query_one("#big-reaper-l").render()).startswith("OOM reaper timer (s): app 100")


@pytest.mark.parametrize("size", [(1, 1), (2, 2), (9, 5), (40, 10), (MIN_W - 1, MIN_H)])
async def test_below_the_minimum_a_notice_and_no_crash(make_app, size):
    app = make_app("first-oom")
    async with app.run_test(size=size) as pilot:
        await _at(app, pilot, 6)
        assert app.has_class("-toosmall")
        if size[0] >= 40:
            assert "terminal too small" in screen_text(app)
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        await pilot.pause()
        assert not app.has_class("-toosmall")


@pytest.mark.parametrize("size", [(120, 36), (200, 50)])
async def test_a_caption_and_a_teach_card_push_no_panel_off_screen(make_app, size):
    app = make_app("first-oom", autoplay=True, teach=True, reading=False)
    async with app.run_test(size=size) as pilot:
        app.run_command("hint")
        for _ in range(20):  # to the OOM kill: a card, under a caption
            app.advance(app.engine.sim.duration)
            if app.seq.card is not None:
                break
            if app.seq.waiting is not None:
                app.go_on()
        await pilot.pause()
        await pilot.pause()
        assert app.seq.card is not None and app.caption.has_class("-card")
        assert app.query_one("#side").max_scroll_y == 0
        text = screen_text(app)
        assert cut_marks(text) == 0
        assert "space continues" in text and "OOM decision" in text and "Objective" in text


@pytest.mark.parametrize("key", ["s", "p", "question_mark", "e"])
async def test_dialogs_cut_nothing_at_120x36(make_app, key):
    app = make_app("lmkd-player")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(key)
        await pilot.pause()
        await pilot.pause()
        assert app.screen is not app.screen_stack[0]
        assert cut_marks(screen_text(app)) == 0


LONG_CG = "/docker-a2ed67c63e828da3849bf9f506ae2b36b4dac5b402a57f2981c9bdc07b23e672.scope"  # 79 characters


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_a_long_cgroup_path_gives_way_to_its_usage_and_count(make_app, tmp_path, size):
    """A container's hashed path is cut in its middle, so the row still says how full the group is."""
    scene = tmp_path / "long.toml"
    scene.write_text(f'''title = "long path"
story = "s"
ram = "1 GiB"
[[cgroups]]
path = "{LONG_CG}"
memory_max = "256 MiB"
[[processes]]
pid = 1
comm = "init"
init = true
[[processes]]
pid = 100
comm = "app"
cgroup = "{LONG_CG}"
rss = "10 MiB"
''')
    app = make_app(str(scene))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        row = next(line for line in screen_text(app).splitlines() if "/docker-" in line)
        assert "/docker-a2ed" in row and "…" in row, row
        assert re.search(r"\.scope\s+mem 10M/256M\s+1 proc", row), row
