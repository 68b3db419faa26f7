"""A newcomer's first minute in the app (Pilot): the briefing, keys that always work, teach mode,
honest messages."""

from __future__ import annotations

import pytest

from oomtui.tui.screens.game import ResultScreen
from oomtui.tui.screens.help import HelpScreen
from oomtui.tui.sequencer import BRIEFING, CARD

from .test_commands import _notes, screen_lines, screen_text

SIZE = (120, 36)


async def test_the_briefing_holds_the_clock_and_space_starts(make_app):
    app = make_app("first-oom", paused=False, briefing=True, fps=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert app.seq.waiting == BRIEFING and app.engine.k.jiffies == 0
        text = screen_text(app)
        assert "db (pid 100) survives" in text and "space to start" in text
        assert "Processes" in text and "OOM reaper" in text  # the briefing leaves them visible
        await pilot.press("space")
        await pilot.pause(0.3)
        assert app.seq.waiting is None and app.engine.k.jiffies > 0 and not app.engine.paused


async def test_the_footer_says_what_space_does_now(make_app):
    """The footer said "space pause" on a briefing that starts the clock with space, and while paused."""
    import re

    def footer() -> str:
        return app.query_one("#footer").render().plain

    app = make_app("first-oom", paused=False, briefing=True, teach=True, fps=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        assert re.search(r" space start ", footer()), footer()
        await pilot.press("space")
        await pilot.pause(0.2)
        assert not app.engine.paused and re.search(r" space pause ", footer()), footer()
        await pilot.press("space")
        await pilot.pause(0.2)
        assert app.engine.paused and re.search(r" space run ", footer()), footer()
        app.advance(app.engine.sim.duration)
        await pilot.pause(0.2)
        assert app.seq.waiting == CARD and re.search(r" space go on ", footer()), footer()


async def test_enter_starts_too_and_esc_looks_around_paused_at_zero(make_app):
    app = make_app("first-oom", paused=False, briefing=True, fps=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.seq.waiting is None and app.engine.paused and app.engine.k.jiffies == 0
        assert "space to start" not in screen_text(app)
    app = make_app("first-oom", paused=False, briefing=True, fps=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        assert app.seq.waiting is None and not app.engine.paused


async def test_keys_work_during_the_briefing_without_moving_the_clock(make_app):
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=100)
        await pilot.press("a", *"-500", "enter")  # the dialog opens with its value selected: typing replaces it
        await pilot.pause()
        assert app.engine.k.pids[100].oom_score_adj == -500
        assert app.seq.waiting == BRIEFING and app.engine.k.jiffies == 0


async def test_q_quits_from_the_result_screen_and_from_help(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_f10_quits_as_in_htop_and_help_lists_it(make_app):
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=(160, 70)) as pilot:  # tall enough for the whole help
        await pilot.press("question_mark")
        text = screen_text(app)
        assert "q, F10" in text and "PgUp PgDn" in text and "enter, esc" in text
        await pilot.press("escape", "f10")
        await pilot.pause()
        assert not app.is_running


async def test_q_is_typed_into_a_text_input_and_esc_clears_an_applied_filter(make_app):
    app = make_app("frozen-robust-holder")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", "q")
        assert app.is_running and app.table.filter == "q"
        await pilot.press("backspace", *"client", "enter")
        assert app.table.filter == "client" and app.focused is app.table
        await pilot.press("escape")
        assert app.table.filter == ""


async def test_e_ends_and_scores_from_the_briefing_and_from_a_teach_card(make_app):
    app = make_app("first-oom", briefing=True, teach=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen) and app.engine.finished
    app = make_app("first-oom", teach=True)
    async with app.run_test(size=SIZE) as pilot:
        app.advance(app.engine.sim.duration)
        await pilot.pause()
        assert app.seq.waiting == CARD and "out_of_memory()" in screen_text(app)
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)


async def test_teach_key_toggles_the_cards(make_app):
    app = make_app("first-oom", teach=True)
    async with app.run_test(size=SIZE) as pilot:
        app.advance(app.engine.sim.duration)
        assert app.seq.waiting == CARD
        await pilot.press("T")
        assert not app.seq.teach and app.seq.waiting is None
        app.advance(app.engine.sim.duration)
        assert app.seq.waiting is None


async def test_sigterm_to_a_process_with_a_handler_says_it_keeps_running(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=300)
        await pilot.press("t")
        await pilot.pause()
        assert not app.engine.k.pids[300].group_exit
        note = _notes(app)[-1]
        assert "keeps running" in note and "killed" not in note


async def test_notifications_never_cover_a_dialog_and_dialogs_show_their_own_errors(make_app):
    from textual.widgets import Label
    from textual.widgets._toast import ToastRack

    app = make_app("first-oom")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.notify("something happened", timeout=30)
        app.run_command("select", pid=100)
        await pilot.press("a")
        await pilot.pause()
        rack = app.screen.get_child_by_type(ToastRack)
        assert not rack.display  # the toast waits under the dialog
        await pilot.press(*"5000", "enter")
        hint = app.screen.query_one("#adj-hint", Label)
        assert "5000 is outside -1000..1000" in str(hint.render()) and app.screen is not app.screen_stack[0]
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen.get_child_by_type(ToastRack).display


async def test_enter_cuts_a_captions_reading_time_short(make_app):
    from oomtui.tui.sequencer import READING

    app = make_app("first-oom", paused=False, autoplay=True, fps=10)
    async with app.run_test(size=SIZE) as pilot:
        assert app.seq.waiting == READING and app.engine.k.jiffies == 0  # the briefing caption
        await pilot.press("enter")
        # the t=0 step ran at once and its caption is the one being read now
        assert app.seq.step_i == 1 and app.seq.caption[0] == app.engine.sim.walkthrough[0].caption


async def test_the_briefings_own_keys_protect_db(make_app):
    """Followed word for word from the start ("press ↓ twice … press a, type -500 and press enter"):
    the cursor starts on init and each process has its thread row under it, so one ↓ is not enough."""
    app = make_app("first-oom", paused=False, briefing=True, fps=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert "press ↓ twice" in screen_text(app)
        await pilot.press("down", "down", "a", *"-500", "enter")
        await pilot.pause()
        assert app.engine.k.pids[100].oom_score_adj == -500
        assert app.engine.k.pids[1].oom_score_adj == 0


async def test_a_filter_selects_its_first_match_so_the_next_key_acts_on_it(make_app):
    """htop's way to a process far down the tree (k8s-qos: "select payments, press a, type -997, enter"):
    / payments enter puts the cursor on payments, not on the cgroup row above it, and a then sets its adj."""
    app = make_app("k8s-qos", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "/ payments enter selects it" in app.engine.sim.scene.game.hint
        # from the briefing: enter applies the filter (it does not start the clock), esc in it clears it
        await pilot.press("slash", "x", "escape")
        assert app.seq.waiting == BRIEFING and app.table.filter == ""
        await pilot.press("slash", *"payments", "enter", "a", *"-997", "enter")
        await pilot.pause()
        assert app.engine.k.pids[300].oom_score_adj == -997
        assert app.seq.waiting == BRIEFING and app.engine.k.jiffies == 0
        await pilot.press("escape")  # now the briefing's: look around
        await pilot.press("escape")  # the filter clears and the cursor stays on payments
        assert app.seq.waiting is None and app.table.filter == "" and app.table.selected_process().pid == 300


@pytest.mark.parametrize("first, briefing", [(True, False), (False, False), (True, True)])
async def test_keys_typed_in_a_burst_after_slash_go_into_the_filter(make_app, first, briefing):
    """A fast typist (or tmux send-keys, or a paste) sends "/kill" at once: the keys after / came before the
    filter's input had focus and ran as commands (k: SIGKILL the selected process), the first time the filter
    opened and every time after too; on the briefing, the enter that applies it started the clock."""
    from textual import events

    app = make_app("first-oom", briefing=briefing, paused=True)
    async with app.run_test(size=(80, 24)) as pilot:
        if not first:
            await pilot.press("slash", "escape")
        app.table.focus()
        await pilot.pause()
        applied = []
        app.apply_action = applied.append  # what a command key would have done
        for key, char in [("slash", "/"), *((c, c) for c in "kil"), ("backspace", None), ("l", "l"), ("enter", "\r")]:
            ev = events.Key(key, char)
            ev.set_sender(app)
            app._driver.send_message(ev)  # all queued before the first is handled, as a burst comes in
        await pilot.pause(0.3)
        assert app.table.filter == "kil" and applied == []
        assert app.focused is app.table and app.engine.paused  # enter applied it; no key reached a command
        assert app.engine.k.jiffies == 0 and app.seq.waiting == (BRIEFING if briefing else None)


@pytest.mark.parametrize("keymap", [None, "f"])
async def test_the_filters_own_key_is_typed_into_it(make_app, keymap):
    """/ is a priority key, which Textual does not hold back from an Input for "/" (nor for a keymap's key): a
    cgroup path could not be typed, each / opened the filter again and was lost."""
    app = make_app("first-oom", briefing=False, paused=True)
    if keymap:
        app._keymap = {**app._keymap, "oomtui.filter": keymap}
        app.set_keymap(app._keymap)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(keymap or "slash", "a", "slash", "f", "b", "enter")
        assert app.table.filter == "a/fb"


async def test_slash_on_a_dialog_is_not_the_main_screens_filter(make_app):
    """/ is a priority key (see above): on the help screen it must not reach into the main screen's filter."""
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark", "slash")
        assert isinstance(app.screen, HelpScreen) and not app.query("#filter")
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen) and app.focused is app.table


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_a_toast_from_the_players_move_leaves_the_next_teach_card_readable(make_app, size):
    """lmkd-player as briefed: k on app, and 20 ms later a card stops the clock. The toast of the kill
    ("SIGKILL to app 100") must move above the card, which is read while it stays up."""
    from textual.widgets._toast import Toast

    app = make_app("lmkd-player", teach=True)
    async with app.run_test(size=size, notifications=True) as pilot:
        app.run_command("select", pid=100)
        await pilot.press("k")
        await pilot.pause()
        while app.seq.card is None and not app.engine.finished:
            app.advance(1)
        await pilot.pause()
        await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        assert app.seq.card is not None and toasts
        assert not any(t.overlaps(app.caption.region) for t in toasts), (toasts, app.caption.region)


@pytest.mark.parametrize("size", [(120, 36), (200, 50)])
async def test_a_moves_toast_leaves_dmesg_and_the_side_panels_in_view(make_app, size):
    """k on db: its answer is in dmesg and the panels beside the tree; the toast that says it too sits over the
    tree's bottom rows (over dmesg it hid the kernel's lines, at the bottom right the OOM decision panel)."""
    from textual.widgets._toast import Toast

    app = make_app("first-oom", briefing=False)
    async with app.run_test(size=size, notifications=True) as pilot:
        app.run_command("select", pid=100)
        await pilot.press("k")
        for _ in range(3):
            await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        assert toasts and app.dmesg.display
        covered = (app.dmesg.region, app.query_one("#side").region, app.caption.region)
        assert not any(t.overlaps(r) for t in toasts for r in covered), (toasts, covered)
        assert all(t.overlaps(app.table.region) for t in toasts)


@pytest.mark.parametrize("size", [(120, 36), (200, 50)])
async def test_after_the_result_screen_a_moves_toast_still_sits_over_the_tree(make_app, size):
    """e ends the scene, esc keeps watching, k on db: the toast sat at the bottom right, over the OOM decision
    panel and dmesg (review: the rack kept the place computed before dmesg showed, or none at all)."""
    from textual.widgets._toast import Toast

    from oomtui.tui.screens.game import ResultScreen

    app = make_app("first-oom", briefing=False)
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        await pilot.press("escape")
        await pilot.pause()
        app.run_command("select", pid=100)
        await pilot.press("k")
        for _ in range(3):
            await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        covered = (app.dmesg.region, app.query_one("#side").region)
        assert toasts and app.dmesg.display
        assert not any(t.overlaps(r) for t in toasts for r in covered), (toasts, covered)


async def test_the_policy_picker_reads_whole_at_80x24_and_p_down_enter_switches(make_app):
    """futex-race-2022's briefing: "switch the kernel policy (p) to one with the 2-second delay"."""
    from oomtui.kernel.policy import POLICIES

    app = make_app("futex-race-2022", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        text = screen_text(app)
        assert all(p.title in text for p in POLICIES.values()), [p.title for p in POLICIES.values() if p.title not in text]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.engine.k.policy.id == "linux-5.18"


async def test_the_scene_picker_keeps_its_keys_and_path_input_in_view_at_80x24(make_app):
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("s")
        await pilot.pause()
        text = " ".join(screen_text(app).split())
        assert "↑↓ choose · enter open" in text and "or a scene file" in text
        await pilot.press("end", "enter")  # the list scrolls to its last scene, which opens
        await pilot.pause()
        assert app.engine.sim.id == "v2-frozen-victim"


async def test_at_80x24_v_brings_back_the_reaper_countdown_the_briefing_asks_to_watch(make_app):
    """two-second-rule at 80x24: the futex wake-up takes the one side panel during the countdown; the
    briefing says v cycles the panels, and within a cycle it shows the countdown again."""
    app = make_app("two-second-rule", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        assert "v cycles the panels" in app.engine.sim.scene.game.briefing
        await pilot.press("space")
        app.engine.paused = True
        app.advance(int(3.0 * app.engine.k.hz) - app.engine.k.jiffies)
        await pilot.pause()
        assert "⏱" not in screen_text(app)  # the Futexes panel is in front
        for _ in range(4):
            if "⏱" in screen_text(app):
                break
            await pilot.press("v")
            await pilot.pause()
        assert "⏱ 1.3" in screen_text(app)  # fires at 4.392 s: 1.39 s left


async def test_a_paused_start_says_what_space_does(make_app):
    """play --paused: the briefing's border does not promise that space starts the clock; it says the
    first space closes it and the second starts, which is what happens."""
    app = make_app("first-oom", paused=True, briefing=True, fps=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "space to start" not in text and "space again starts the clock" in text
        await pilot.press("space")
        await pilot.pause(0.3)
        assert app.seq.waiting is None and app.engine.paused and app.engine.k.jiffies == 0
        await pilot.press("space")
        await pilot.pause(0.3)
        assert not app.engine.paused and app.engine.k.jiffies > 0


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)])
async def test_a_paused_starts_keys_and_border_say_the_same_of_space_at_every_size(make_app, size):
    """play --paused: the border says space closes the briefing and space again starts the clock; the keys
    line said "space start" at 80x24 (and "start, then pause" wider). It says what the border says, and a
    key is never left at a line's end without its word."""
    import re

    app = make_app("first-oom", paused=True, briefing=True, fps=10)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        text = "\n".join(lines)
        assert "space to close · space again starts the clock" in text
        assert not re.search(r"space\s+start", text), text
        assert any(re.search(r"space\s+close this", line) for line in lines), text
        assert not any(re.search(r"(space|\?|↑ ↓)\s*│?$", line) for line in lines), text
        await pilot.press("space")
        assert app.seq.waiting is None and app.engine.paused and app.engine.k.jiffies == 0


def _picker_rows(app) -> list[str]:
    """The scene picker's list rows as shown (between the list's side borders)."""
    import re

    rows = [m.group(1) for line in screen_lines(app) if (m := re.search(r"▊(.*)▎", line))]
    return [r.rstrip() for r in rows if r.strip() and not set(r.strip()) <= {"▔", "▁"} and "scene file" not in r]


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 50)])
async def test_every_scene_in_the_picker_is_one_line_and_wide_terminals_show_whole_titles(make_app, size):
    """At 80x24 titles wrapped onto a second line (the row "kill" under "1. first-oom … The first OOM"):
    every row starts with its order (or the blank a scenario has there) or is the separator, from the
    top of the list to its end; at 200x50 no title is cut."""
    import re

    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=size) as pilot:
        await pilot.press("s")
        await pilot.pause()
        seen = []
        for key in ("home", "end"):
            await pilot.press(key)
            await pilot.pause()
            rows = _picker_rows(app)
            row = r" [● ] ([\s\d]\d\.|\s{3}) "  # the mark, then the order or a scenario's blank
            assert rows and all(re.match(row, r) or set(r.strip()) == {"─"} for r in rows), rows
            seen += rows
        if size[0] >= 200:
            assert not any("…" in r for r in seen), seen
        else:
            assert "The first OOM kill" in "\n".join(seen)  # the title stays, the id column may give way


async def test_at_80x24_a_toast_is_a_line_over_the_trees_top_and_leaves_the_side_panel_in_view(make_app):
    """At 80x24 the toast of a move sat over the right half of the one side panel (the objective and the
    reaper's state, where the move's effect shows) for 4 s. It is now one line, title first, at the top of
    the process tree, and covers no process row; an error's longer text takes two lines at most."""
    from textual.widgets._toast import Toast

    app = make_app("first-oom")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        tree, side = app.query_one("#tree").region, app.query_one("#side").region
        await pilot.press("down", "down", "k")  # db, as the briefing says
        await pilot.pause()
        await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        assert toasts and "SIGKILL to db 100" in screen_text(app)
        for t in toasts:
            assert t.y == tree.y and t.height == 1 and not t.overlaps(side), (t, tree, side)
        await pilot.press("home", "m")  # the cgroup row: process_mrelease names what to select
        await pilot.pause()
        await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        assert len(toasts) == 2 and "select a process first" in screen_text(app)
        assert all(t.height <= 2 and not t.overlaps(side) and t.bottom <= tree.y + 3 for t in toasts), toasts


async def test_autoplays_first_caption_counts_down_its_reading_time_and_shows_whole_at_80x24(make_app):
    """The briefing caption held the clock 23 s with the status bar saying RUNNING and t=0: a newcomer
    thought it hung, and at 80x24 its goal line was cut off. Now the whole caption shows, the status bar
    says READING, and the caption's top border counts down the seconds left (240 words a minute) and
    names enter; space pauses the countdown as it pauses time."""
    import math
    import re

    app = make_app("first-oom", paused=False, autoplay=True, fps=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text, words = screen_text(app), len(app.seq.caption[0].split())
        assert "READING" in text and "RUNNING" not in text and "Goal: db (pid 100) survives" in text
        shown = int(re.search(r"(\d+) s to read · enter goes on", text).group(1))
        assert shown == math.ceil(app.seq.read_left) and shown <= 1 + words / 4
        await pilot.press("space")
        left = app.seq.read_left
        assert "PAUSED" in screen_text(app)
        await pilot.pause(0.3)
        assert app.seq.read_left == left and app.engine.k.jiffies == 0
        await pilot.press("space", "enter")  # resume, then cut it short: the t=0 step's caption is read next
        await pilot.pause()
        step = app.engine.sim.walkthrough[0].caption
        assert app.seq.step_i == 1 and app.seq.caption[0] == step
        assert f"{math.ceil(app.seq.read_left)} s to read" in screen_text(app)


@pytest.mark.parametrize("keys", [(), ("slash",), ("question_mark",), ("s",)])
async def test_ctrl_c_quits_with_130_from_the_view_the_filter_and_dialogs(make_app, keys):
    """Ctrl-C showed Textual's toast "Do you want to quit? Press [b]ctrl+q[/b] to quit the app" (its markup
    shown raw, as oomtui's notifications are plain text) and went on running; the README says Ctrl-C exits
    130. It does now, wherever the focus is (an empty filter input has nothing to copy)."""
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running and app.return_code == 130
        assert not any("ctrl+q" in n.message for n in app._notifications)


async def test_colon_opens_the_palette_and_help_says_how_to_leave_it_at_80x24(make_app):
    """A newcomer's `:` (vim's, htop's way to a command line) did nothing; `?` at 80x24 showed a third of
    the key list with nothing saying it scrolls or how to close it."""
    from oomtui.tui.palette import SafeCommandPalette

    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon")
        await pilot.pause()
        assert SafeCommandPalette.is_open(app)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "scroll · esc closes · q quits" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.screen_stack[0] and app.seq.waiting == BRIEFING


async def test_at_80x24_each_teach_card_brings_forward_the_panel_it_says_to_watch(make_app):
    """two-second-rule at 80x24: the card "queue_oom_reaper() armed the timer ... Watch the countdown in the
    OOM reaper panel" was read with the OOM decision panel in front (the kill's events chose it). Each card
    now shows its own panel: the ranking, then the countdown, then the futex."""
    app = make_app("two-second-rule", briefing=True, teach=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("space")
        app.engine.paused = True
        seen = {}
        while not app.engine.finished and len(seen) < 4:
            if app.seq.card is None:
                app.advance(1)
                continue
            await pilot.pause()
            card, text = app.seq.card, screen_text(app)
            seen[card.heading] = (app.query_one("#side").border_title, text)
            await pilot.press("space")
            app.engine.paused = True
        side, text = seen["queue_oom_reaper() armed the timer"]
        assert side.startswith("OOM reaper") and "⏱" in text
        assert seen["out_of_memory() chose a victim"][0].startswith("OOM decision")
        assert seen["a robust futex owner died"][0].startswith("Futexes")


async def test_a_loss_says_what_to_try_on_screen_at_80x24_and_a_win_does_not(make_app, state_home):
    """The objective line at 80 columns has no room for `h hint`: the loss screen names the scene's hint."""
    app = make_app("first-oom", briefing=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("escape", "e")  # do nothing: db dies
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen) and not app.last_result[0].won
        text = " ".join(screen_text(app).split())
        assert "Try: select db and press a" in text  # above the fold, with no scrolling
        assert "oom_reaper: nothing to do for db 100" in text  # not "skipped"
        await pilot.press("r", "down", "down", "a", *"-500", "enter", "e")
        await pilot.pause()
        assert app.last_result[0].won and "Try:" not in screen_text(app)


async def test_restart_after_the_result_says_space_runs_and_mid_run_it_does_not(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e", "r")  # the result screen, then restart: paused at 0
        await pilot.pause()
        assert app.engine.paused and app.engine.k.jiffies == 0
        assert any("space runs" in n for n in _notes(app))
        app.clear_notifications()
        await pilot.press("space", "r")  # running: it goes on running, nothing to say
        await pilot.pause()
        assert not app.engine.paused and not any("space runs" in n for n in _notes(app))


async def test_a_filter_that_matches_nothing_says_so_and_how_to_clear_it(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("slash", *"xyz", "enter")
        assert not app.table.rows and "no match, esc clears" in screen_text(app)
        await pilot.press("slash", "backspace", "backspace", "backspace", *"db", "enter")
        assert app.table.rows and "no match" not in screen_text(app)
        await pilot.press("escape")
        assert app.table.filter == "" and "filter" not in app.table.border_title
        app.set_filter("xyz")
        assert app.table.select_pid(100)  # a script's select clears the filter: its title goes with it
        assert app.table.filter == "" and app.table.border_title == "Processes"


@pytest.mark.parametrize("sid", ["frozen-android-app", "frozen-forever", "lmkd-player"])
async def test_the_keys_of_a_long_objective_line_are_not_the_part_cut_at_80x24(make_app, sid):
    # these scenes' goals alone are wider than 80 columns: the one line is cut at its end
    app = make_app(sid)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.compact and "h hint · e end" in screen_text(app)


async def test_h_shows_the_hint_as_a_note_at_80x24_where_the_objective_is_one_line(make_app):
    app = make_app("first-oom")
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        assert app.compact
        assert "h hint · e end" in screen_text(app)  # the one line's keys come before what it cuts
        await pilot.press("h")
        await pilot.pause()
        assert any("select db and press a" in n for n in _notes(app))
        assert "select db and press a" in " ".join(screen_text(app).split())  # a toast wraps
    app = make_app("first-oom")
    async with app.run_test(size=SIZE) as pilot:  # wide: in the objective panel, no note
        await pilot.press("h")
        await pilot.pause()
        assert not _notes(app) and "select db and press a" in app.goals.plain()
