"""Every command through its key (Pilot), asserting the model changed as it should.

The app starts paused, so nothing moves unless a test moves it.
"""

from __future__ import annotations

from oomtui.kernel import events as ev
from oomtui.kernel.state import MMF_OOM_SKIP
from oomtui.tui.commands import BY_ID, COMMANDS, bindings
from oomtui.tui.engine import MAX_SPEED, MIN_SPEED, SPEEDS
from oomtui.tui.screens.help import HelpScreen
from oomtui.tui.screens.modals import AdjScreen, PickerScreen

SIZE = (120, 36)


def screen_text(app) -> str:
    """What is on the screen now, as plain text (from the SVG export)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r">([^<>]*)</text>", svg))).replace("\xa0", " ")


def screen_lines(app) -> list[str]:
    """The screen's rows as plain text, each cell in its column (from the SVG export)."""
    import html
    import re

    svg = app.export_screenshot()
    rows: dict[int, list[str]] = {}
    cells = r'<text [^>]*x="([\d.]+)"[^>]*clip-path="url\(#terminal-[\w-]*?line-(\d+)\)">([^<]*)</text>'
    for x, line, text in re.findall(cells, svg):
        row = rows.setdefault(int(line), [])
        col = round(float(x) / 12.2)
        row += [" "] * (col - len(row))
        text = html.unescape(text).replace("\xa0", " ")
        row[col:col + len(text)] = text
    return ["".join(rows.get(i, [])).rstrip() for i in range(max(rows, default=-1) + 1)]


def _notes(app) -> list[str]:
    return [n.message for n in app._notifications]


async def test_pause_step_next_speed(make_app):
    # a slow clock: while the app runs at 30 fps, Pilot waits ~1 s per key for the process to go idle
    app = make_app(fps=2)
    async with app.run_test(size=SIZE) as pilot:
        e = app.engine
        assert e.paused
        await pilot.press("space")
        assert not e.paused
        await pilot.press("space")
        assert e.paused
        j = e.k.jiffies
        await pilot.press("full_stop")
        assert e.k.jiffies == j + 1
        await pilot.press("greater_than_sign")  # runs until something happens: the OOM kill
        assert e.obs.last_invoked is not None and e.obs.last_invoked.t == e.k.jiffies
        assert e.paused
        s = e.speed
        await pilot.press("plus")
        assert e.speed > s
        await pilot.press("minus", "minus")
        assert e.speed < s
        await pilot.press(*["minus"] * len(SPEEDS))
        assert e.speed == MIN_SPEED == 0.05
        await pilot.press(*["plus"] * len(SPEEDS))
        assert e.speed == MAX_SPEED == 100


async def test_running_clock_advances_time(make_app):
    app = make_app(paused=False, speed=10)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.3)
        assert app.engine.k.jiffies > 50  # ~0.3 s x 10 x HZ 250, minus start-up


async def test_oom_kills_the_biggest(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("o")
        k = app.engine.k
        assert k.pids[100].oom_mm is not None and k.pids[100].group_exit
        assert app.engine.obs.last_selected.victim_pid == 100
        assert "OOM decision" in app.query_one("#decision").border_title
        assert "app" in screen_text(app) and "why" in screen_text(app)
        # the reaper timer is on screen as a countdown
        assert "app 100" in app.panel_text("reaper")


async def test_memcg_oom_in_selected_cgroup(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", cgroup="/frozen")
        await pilot.press("o")
        inv = app.engine.obs.last_invoked
        assert inv is not None and inv.memcg == "/frozen"


async def test_freeze_thaw_selected_cgroup(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        cg = app.engine.k.cgroups["/frozen"]
        assert cg.freeze_self
        app.run_command("select", cgroup="/frozen")
        await pilot.press("z")
        assert not cg.freeze_self
        assert app.engine.k.tids[101].state != "frozen"
        await pilot.press("z")
        assert cg.freeze_self
        # the cgroup of a selected process works too; a cgroup without a freezer is an error notice
        app.run_command("select", pid=300)
        await pilot.press("z")
        assert any("no freezer" in m for m in _notes(app))


async def test_kill_and_sigterm_selected(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=300)
        await pilot.press("k")
        k = app.engine.k
        assert k.pids[300].group_exit and k.pids[300].kill_reason == "signal"
        app.run_command("select", pid=200)
        await pilot.press("t")
        assert any(isinstance(e, ev.Kill) and e.pid == 200 and e.signal == "SIGTERM" for e in k.events) \
            or k.pids[200].handles_sigterm


async def test_mrelease_result_is_shown(make_app):
    app = make_app("lmkd-mrelease")
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=100)
        await pilot.press("m")  # alive and not killed: EINVAL
        s = app.engine.obs.syscalls[-1]
        assert (s.name, s.pid, s.ret, s.errno) == ("process_mrelease", 100, -1, "EINVAL")
        assert any("= -1" in m and "EINVAL" in m for m in _notes(app))
        assert "EINVAL" in app.panel_text("reaper")
        await pilot.press("k", "m")  # after SIGKILL it reaps in our context
        assert app.engine.k.mrelease_calls == [100] or app.engine.obs.syscalls[-1].ret == 0
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        assert any(x.ret == 0 for x in app.engine.obs.syscalls)
        assert "process_mrelease(pidfd(100), 0) = 0" in app.panel_text("reaper")


async def test_mrelease_flags_are_shown(make_app):
    app = make_app("lmkd-mrelease")
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("mrelease", pid=100, flags=1)
        await pilot.pause()
        s = app.engine.obs.syscalls[-1]
        assert (s.flags, s.errno) == (1, "EINVAL")
        assert any("process_mrelease(pidfd(100), 1) = -1 EINVAL" in m for m in _notes(app))
        assert "process_mrelease(pidfd(100), 1) = -1 EINVAL" in app.panel_text("reaper")


async def test_adj_modal(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=200)
        await pilot.press("a")
        assert isinstance(app.screen, AdjScreen)
        await pilot.press(*"-500", "enter")  # the value is preselected: typing replaces it
        await pilot.pause()
        assert app.engine.k.pids[200].oom_score_adj == -500
        await pilot.press("a", "escape")
        assert not isinstance(app.screen, AdjScreen)
        assert app.engine.k.pids[200].oom_score_adj == -500


async def test_unlock_futex_held_by_selected_thread(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        f = app.engine.k.futexes["M"]
        assert f.owner_tid == 101
        app.run_command("select", tid=101)
        await pilot.press("u")
        assert f.owner_tid != 101
        assert f.history[0].outcome == "acquired"


async def test_policy_picker(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("home", "enter")  # the first policy: linux-4.6
        await pilot.pause()
        assert app.engine.k.policy.id == "linux-4.6"
        assert any(isinstance(e, ev.PolicyChanged) for e in app.engine.k.events)


async def test_move_picker_moves_the_selected_process_and_z_freezes_its_freezer_cgroup(make_app):
    app = make_app("v1-split-freezer")
    async with app.run_test(size=SIZE) as pilot:
        k = app.engine.k
        app.run_command("select", pid=101)
        await pilot.press("c")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("end", "enter")  # the last cgroup listed: /thawed, on the freezer hierarchy
        await pilot.pause()
        assert k.pids[101].freezer_cgroup.path == "/thawed" and k.pids[101].cgroup.path == "/apps/cached"
        assert {t.state for t in k.pids[101].threads} == {"sleeping"}
        await pilot.press("z")  # the process's freezer cgroup, not its memory cgroup (which has none)
        await pilot.pause()
        assert k.cgroups["/thawed"].freeze_self and {t.state for t in k.pids[101].threads} == {"frozen"}


async def test_move_picker_offers_the_freezer_root_which_thaws(make_app):
    app = make_app("v1-split-freezer")
    async with app.run_test(size=SIZE) as pilot:
        k = app.engine.k
        app.run_command("select", pid=100)  # camera, frozen in /frozen
        await pilot.press("c")
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        keys = [key for key, _ in picker.items]
        # "/" twice, told apart by hierarchy; the freezer's root listed before its cgroups
        assert keys[0] == "memory:/" and keys.index("freezer:/") < keys.index("freezer:/thawed")
        await pilot.press("home", *["down"] * keys.index("freezer:/"), "enter")
        await pilot.pause()
        assert k.pids[100].freezer_cgroup is k.freezer_root
        assert "frozen" not in {t.state for t in k.pids[100].threads}


async def test_restart_keeps_the_policy_in_force(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("policy", policy="reap-frozen")
        await pilot.press("greater_than_sign", "greater_than_sign", "o")
        assert app.engine.k.jiffies > 0
        await pilot.press("r")
        assert app.engine.k.jiffies == 0
        assert app.engine.k.policy.id == "reap-frozen"
        assert app.engine.obs.last_selected is None


async def test_scene_picker(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        from oomtui.tui.screens.game import ScenePicker

        assert isinstance(app.screen, ScenePicker)
        await pilot.press("home", "enter")
        await pilot.pause()
        assert app.engine.sim.id == "first-oom"  # the story path comes first
        assert app.engine.k.jiffies == 0 and app.table.rows


async def test_filter(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"client", "enter")
        rows = app.table.rows
        assert [r.key for r in rows if r.kind == "p"] == [200]
        await pilot.press("slash", "escape")
        assert len([r for r in app.table.rows if r.kind == "p"]) == 4


async def test_tree_keys_collapse_and_select(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", pid=100)
        n = len(app.table.rows)
        await pilot.press("left")
        assert len(app.table.rows) == n - 2
        await pilot.press("right")
        assert len(app.table.rows) == n
        await pilot.press("down")
        assert app.table.selected.kind == "t"
        await pilot.press("k")  # a thread row kills its process
        assert app.engine.k.pids[100].group_exit


async def test_help_f1_and_question_mark(make_app):
    app = make_app()
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for c in COMMANDS:
            assert c.title in text, c.title
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")


async def test_palette_offers_what_makes_sense(make_app):
    from oomtui.tui.palette import OomCommands

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", cgroup="/")
        prov = OomCommands(app.screen)
        labels = [t for t, _, _ in prov._entries()]
        assert not any(t.startswith("SIGKILL") for t in labels)  # no process selected
        app.run_command("select", pid=300)
        labels = [t for t, _, _ in prov._entries()]
        assert "SIGKILL loader 300" in labels
        assert any(t.startswith("Policy: linux-4.6") for t in labels)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"SIGKILL loa")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.engine.k.pids[300].group_exit


async def test_errors_are_notifications(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("select", cgroup="/")
        await pilot.press("k", "m", "a")
        assert sum("select a process" in m for m in _notes(app)) == 3
        assert not app.run_command("kill", pid=9999)
        await pilot.pause()
        assert any("9999" in m for m in _notes(app))
        assert not app.run_command("nonsense")
        assert app.is_running


async def test_quit(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


def test_one_binding_per_keyed_command_with_ids():
    keyed = [c for c in COMMANDS if c.key and c.bind]
    bs = bindings()
    assert sorted(b.id for b in bs) == sorted(f"oomtui.{c.id}" for c in keyed)
    # the footer cuts from the right at 80 columns: help and quit come first
    assert [b.id for b in bs if b.show][:2] == ["oomtui.help", "oomtui.quit"]
    # q and ctrl+c quit from every screen; / focuses the filter as it is read (a burst after it is typed there)
    assert sorted(b.id for b in bs if b.priority) == ["oomtui.filter", "oomtui.interrupt", "oomtui.quit"]
    assert all(b.tooltip for b in bs)
    assert set(BY_ID) >= {"pause", "step", "next", "faster", "slower", "oom", "freeze", "kill", "mrelease", "adj",
                          "policy", "restart", "scene", "filter", "help", "quit"}


async def test_keymap_remaps_a_command(make_app):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.set_keymap({"oomtui.kill": "x"})
        app.run_command("select", pid=300)
        await pilot.press("x")
        assert app.engine.k.pids[300].group_exit


async def test_hung_waiter_is_flagged_everywhere(make_app):
    app = make_app("d-state-holder")
    async with app.run_test(size=SIZE) as pilot:
        app.advance(app.engine.sim.duration)
        await pilot.pause()
        assert app.engine.obs.hung
        assert "HUNG" in str(app.query_one("#status").render())
        assert app.query_one("#futex").has_class("-alarm")
        assert "HUNG FOREVER" in app.panel_text("futex")


async def test_end_of_scene_pauses(make_app):
    app = make_app("robust-waiter", paused=False, speed=100)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            await pilot.pause(0.1)
            if app.engine.paused:
                break
        assert app.engine.paused and app.engine.finished
        assert app.engine.obs.timers and app.engine.obs.timers[0].result == "noop"
        assert MMF_OOM_SKIP in app.engine.k.pids[100].oom_mm.flags


def _bad_duration_scene(tmp_path):
    from oomtui.scene.load import load_scene

    lines = [('duration = "soon"' if x.startswith("duration =") else x) for x in load_scene("first-oom").text.splitlines()]
    f = tmp_path / "bad.toml"
    f.write_text("\n".join(lines) + "\n")
    return f, lines.index('duration = "soon"') + 1


def test_play_rejects_bad_speed_policy_kernel_and_duration(tmp_path, capsys, monkeypatch):
    from oomtui.cli import main
    from oomtui.tui.app import OomApp

    monkeypatch.setattr(OomApp, "run", lambda self: (_ for _ in ()).throw(AssertionError("the app ran")))
    for speed in ("0", "-1", "0.01", "101", "nan"):
        assert main(["play", "first-oom", "--speed", speed]) == 2
        assert capsys.readouterr().err.startswith(f"oomtui: --speed {float(speed):g}: expected 0.05 to 100")
    assert main(["play", "first-oom", "--policy", "linux-9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("oomtui: first-oom") and "unknown policy 'linux-9'" in err and "--policy" in err
    assert main(["play", "first-oom", "--kernel", "9.x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("oomtui: first-oom") and "'9.x'" in err and "--kernel" in err
    bad, line = _bad_duration_scene(tmp_path)
    assert main(["play", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"oomtui: {bad}:{line}: ") and "'soon'" in err and "duration" in err
