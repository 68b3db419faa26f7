"""The headless CLI as a user runs it: output, JSON, exit codes, clear errors, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oomtui.cli import main


def oomtui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oomtui.cli", *args], capture_output=True, text=True)


def test_run_json_has_the_documented_fields(capsys):
    assert main(["run", "lmkd-mrelease", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    for key in ("scene", "policy", "hz", "kills", "reaps", "waiters", "syscalls", "oom_blocked_ms", "livelock", "dmesg"):
        assert key in d
    assert d["policy"] == "linux-6.18" and d["hz"] == 250
    assert d["kills"][0] == {"t_ms": 1000, "pid": 100, "comm": "app", "reason": "signal", "signal": "SIGKILL"}
    assert {"t_ms", "name", "pid", "ret", "errno"} <= set(d["syscalls"][0])
    assert d["syscalls"][0]["errno"] == "EINVAL"
    assert d["waiters"][0]["outcome"] == "hung"


def test_run_is_byte_identical_across_runs():
    a = oomtui("run", "frozen-robust-holder", "--policy", "linux-5.18", "--json")
    b = oomtui("run", "frozen-robust-holder", "--policy", "linux-5.18", "--json")
    assert a.returncode == 0 and a.stdout == b.stdout
    human = [oomtui("run", "d-state-holder").stdout for _ in range(2)]
    assert human[0] == human[1]


def test_run_human_output_shows_timeline_dmesg_and_outcome():
    r = oomtui("run", "frozen-robust-holder", "--policy", "linux-5.18")
    assert r.returncode == 0
    assert "Timeline" in r.stdout and "dmesg" in r.stdout and "Outcome" in r.stdout
    assert "oom_reaper: reaped process 100 (app)" in r.stdout
    assert "HUNG" in r.stdout


def test_until_cuts_the_run_short(capsys):
    assert main(["run", "frozen-robust-holder", "--until", "1s", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["kills"] == [] and d["t_ms"] == 1000


def test_compare_lists_every_policy(capsys):
    assert main(["compare", "frozen-robust-holder", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    rows = {r["policy"]: r for r in d["policies"]}
    assert len(rows) == 6
    assert rows["linux-6.18"]["waiters"] == {"M/200": "eownerdead"}
    assert rows["linux-5.18"]["waiters"] == {"M/200": "hung"}
    assert rows["never-reap-robust"]["livelock_ms"] is not None


def test_policy_and_kernel_overrides(capsys):
    assert main(["run", "score-ties", "--policy", "linux-6.18", "--kernel", "5.4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [k["pid"] for k in d["kills"] if k["reason"] == "oom"] == [100, 200, 300]  # pre-5.9 selection
    assert d["kernel"] == "5.4"


@pytest.mark.parametrize("args,needle", [
    (["run", "no-such-scene"], "no built-in scene 'no-such-scene'"),
    (["run", "robust-waitr"], "did you mean 'robust-waiter'"),
    (["run", "robust-waiter", "--policy", "linux-6.19"], "did you mean 'linux-6.18'"),
    (["run", "robust-waiter", "--until", "soon"], "--until"),
    (["run", "/nonexistent/x.toml"], "no such file"),
    (["check", "/nonexistent/x.toml"], "no such file"),
])
def test_bad_input_exits_2_with_a_message_and_no_traceback(args, needle):
    r = oomtui(*args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_usage_errors_exit_2():
    r = oomtui("run")
    assert r.returncode == 2 and "SCENE" in r.stderr


def _misspelled(flag: str) -> str:
    """The flag with two letters after the dashes swapped (--paused -> --pasued)."""
    i = len(flag) // 2
    return flag[:i] + flag[i + 1] + flag[i] + flag[i + 2:] if flag[i] != flag[i + 1] else flag + "x"


def _command_cases() -> list[tuple[str, list[str], str]]:
    """Every subcommand with its required positionals filled in and each of its long flags."""
    from oomtui.cli import build_parser

    out = []
    for name, sub in build_parser().commands.items():
        need = ["x" for a in sub._actions if not a.option_strings and a.nargs not in ("?", "*", "...")]
        flags = sorted({f for a in sub._actions for f in a.option_strings if f.startswith("--") and f != "--help"})
        out += [(name, need, f) for f in flags]
    return out


@pytest.mark.parametrize("command,need,flag", _command_cases())
def test_a_misspelled_flag_of_every_command_is_one_line_naming_the_flag(capsys, command, need, flag):
    """`oomtui play --pasued` printed argparse's usage and "unrecognized arguments", and no flag to try."""
    typo = _misspelled(flag)
    with pytest.raises(SystemExit) as exit_:
        main([command, *need, typo])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and "usage:" not in err and "Traceback" not in err
    assert err.startswith(f"oomtui {command}: unrecognized argument {typo!r}")
    assert "did you mean" in err and flag in err, err


SCENE_FILE = Path(__file__).resolve().parents[1] / "scenes" / "first-oom.toml"


@pytest.mark.parametrize("argv,want", [
    (["ply"], "invalid choice 'ply'; did you mean 'play'?"),
    (["--pasued"], "oomtui play: unrecognized argument '--pasued'; did you mean '--paused'?"),  # play's, as `oomtui`
    (["--verison"], "oomtui: unrecognized argument '--verison'; did you mean '--version'?"),
    (["completion", "bsh"], "invalid choice 'bsh'; did you mean 'bash'?"),
    (["two-second-rule"], "'two-second-rule' is a scene; did you mean 'oomtui play two-second-rule'?"),
    ([str(SCENE_FILE)], f"'{SCENE_FILE}' is a scene; did you mean 'oomtui play {SCENE_FILE}'?"),
    (["nosuch.toml"], "invalid choice 'nosuch.toml'; valid: play,"),  # no such file: not called a scene
    (["run"], "oomtui run: the following arguments are required: SCENE (see `oomtui run --help`)"),
    (["play", "--speed", "fast"], "oomtui play: argument --speed: invalid float value: 'fast'"),
])
def test_usage_errors_are_one_line_with_the_nearest_command_or_choice(capsys, argv, want):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and want in err, err


def test_ctrl_c_during_a_run_is_one_line_and_exit_130(capsys, monkeypatch):
    from oomtui.scene.sim import Simulation

    def interrupted(self, *a, **kw):
        raise KeyboardInterrupt  # what Ctrl-C raises in the middle of a long run

    monkeypatch.setattr(Simulation, "run", interrupted)
    assert main(["run", "first-oom"]) == 130
    assert capsys.readouterr().err == "oomtui: interrupted\n"


def test_a_bug_is_one_line_exit_70_and_OOMTUI_DEBUG_shows_the_traceback(capsys, monkeypatch):
    from oomtui.scene.sim import Simulation

    def broken(self, *a, **kw):
        raise TypeError("unsupported operand")  # what a bug of ours raises

    monkeypatch.setattr(Simulation, "run", broken)
    monkeypatch.delenv("OOMTUI_DEBUG", raising=False)
    assert main(["run", "first-oom"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("oomtui: internal error (a bug in oomtui ") and err.count("\n") == 1
    assert "TypeError: unsupported operand; please report it" in err and "Traceback" not in err
    monkeypatch.setenv("OOMTUI_DEBUG", "1")
    with pytest.raises(TypeError):
        main(["run", "first-oom"])


def test_a_full_disk_under_stdout_is_one_line_and_exit_74():
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "oomtui", "run", "first-oom"], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    assert (p.returncode, p.stderr) == (74, "oomtui: No space left on device\n")


def test_scenes_lists_the_story_first_in_the_games_order(capsys):
    """A newcomer starts at the top of `oomtui scenes`: the story path, as the game and its picker order it
    ([game].order, read in full here), then the scenarios."""
    from oomtui.scene.load import builtin_ids, load_scene

    orders = {s: load_scene(s).scene.game.order if load_scene(s).scene.game else None for s in builtin_ids()}
    story = sorted((o, s) for s, o in orders.items() if o)
    assert main(["scenes"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert listed[:len(story)] == [s for _, s in story] and listed[0] == "first-oom"
    assert listed[len(story):] == sorted(s for s, o in orders.items() if not o)


def test_scenes_policies_schema(capsys):
    assert main(["scenes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("frozen-robust-holder ") for line in lines)
    assert main(["policies"]) == 0
    out = capsys.readouterr().out
    assert "linux-6.18" in out and "(default)" in out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "Scene" in json.dumps(schema)


def test_check_accepts_every_builtin_scene(capsys):
    from oomtui.scene.load import builtin_ids

    assert main(["check", *builtin_ids()]) == 0
    assert capsys.readouterr().out.count("ok ") == len(builtin_ids())


def test_run_reports_the_game_result_for_scenes_with_goals(capsys):
    assert main(["run", "frozen-android-app", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["game"]["won"] is False and d["game"]["saved_by"] == ["linux-6.18"]
    assert main(["run", "frozen-android-app", "--policy", "linux-6.18", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["game"]["won"] is True
    assert main(["run", "robust-waiter", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["game"] is None


def test_run_autoplay_plays_the_walkthrough(capsys):
    assert main(["run", "futex-race-2022", "--autoplay", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["game"]["won"] is True and d["game"]["actions"] == 1
    assert d["waiters"][0]["outcome"] == "eownerdead"
    assert main(["run", "futex-race-2022", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["waiters"][0]["outcome"] == "hung"


def test_user_text_is_never_read_as_markup(tmp_path):
    scene = tmp_path / "m.toml"
    scene.write_text('title = "[/x] [red]title"\nstory = "[b]s"\nram = "1 GiB"\n[[processes]]\npid = 100\n'
                     'comm = "[/b]x"\nrss = "100 MiB"\n[[actions]]\nat = "1s"\ndo = "oom"\n')
    r = oomtui("run", str(scene))
    assert r.returncode == 0 and "Traceback" not in r.stderr
    assert "[/x] [red]title" in r.stdout and "[/b]x (100)" in r.stdout
    r = oomtui("compare", str(scene))
    assert r.returncode == 0 and "[/b]x (100)" in r.stdout


def test_bad_kernel_flag_names_the_flag():
    r = oomtui("run", "first-oom", "--kernel", "9")
    assert r.returncode == 2 and "--kernel" in r.stderr
