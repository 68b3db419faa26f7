"""A wrong scene file names the file, the key path and the line, and says what was expected."""

from __future__ import annotations

import pytest

from oomtui.cli import main
from oomtui.scene.load import SceneError, load_scene
from oomtui.scene.sim import Simulation

GOOD = """title = "t"
story = "s"
ram = "1 GiB"

[[cgroups]]
path = "/app"
freezer = "v1"

[[processes]]
pid = 100
comm = "a"
cgroup = "/app"
rss = "10 MiB"
  [[processes.threads]]
  tid = 100
  [[processes.threads]]
  tid = 101
"""


def error_for(tmp_path, text: str) -> SceneError:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(SceneError) as e:
        Simulation(load_scene(str(f)))
    return e.value


def test_good_scene_loads(tmp_path):
    f = tmp_path / "good.toml"
    f.write_text(GOOD)
    Simulation(load_scene(str(f)))


def test_typo_in_a_key_suggests_the_nearest(tmp_path):
    e = error_for(tmp_path, GOOD.replace("  tid = 101", "  tdi = 101"))
    assert e.path == "processes[0].threads[1].tdi"
    assert "did you mean 'tid'" in str(e)
    assert e.line == 17
    assert str(e).startswith(f"{tmp_path / 'bad.toml'}:17:")


def test_wrong_type_says_what_was_expected(tmp_path):
    e = error_for(tmp_path, GOOD.replace('pid = 100', 'pid = "hundred"'))
    assert e.path == "processes[0].pid" and "expected int" in str(e) and e.line == 10


def test_bad_size_unit(tmp_path):
    e = error_for(tmp_path, GOOD.replace('rss = "10 MiB"', 'rss = "10 parsecs"'))
    assert e.path == "processes[0].rss" and "512 MiB" in str(e) and e.line == 13


def test_unknown_reference(tmp_path):
    e = error_for(tmp_path, GOOD.replace('cgroup = "/app"', 'cgroup = "/ap"'))
    assert e.path == "processes[0].cgroup" and "no cgroup '/ap'" in str(e)


def test_missing_required_key(tmp_path):
    e = error_for(tmp_path, GOOD.replace('ram = "1 GiB"\n', ""))
    assert "missing required key 'ram'" in str(e)


def test_every_missing_required_key_at_once(tmp_path):
    """A first scene file lacks several keys: all are named in one run, not one per run."""
    e = error_for(tmp_path, 'title = "mine"\n')
    assert e.path == "(top level)" and "missing required keys 'story', 'ram'" in str(e)


def test_toml_syntax_error_has_a_line(tmp_path):
    e = error_for(tmp_path, GOOD.replace('comm = "a"', 'comm = "a'))
    assert "not valid TOML" in str(e) and e.line == 11


def test_bad_action_target(tmp_path):
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "freeze"\ncgroup = "/nope"\n')
    assert e.path == "actions[0]" and "no cgroup '/nope'" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "explode"\n')
    assert e.path == "actions[0].do"


def test_duplicate_tid(tmp_path):
    e = error_for(tmp_path, GOOD.replace("tid = 101", "tid = 100"))
    assert "used twice" in str(e) and e.path == "processes[0].threads[1].tid"


def test_check_reports_every_bad_file_and_exits_2(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(GOOD.replace("ram", "rma"))
    assert main(["check", str(f), "robust-waiter"]) == 2
    err = capsys.readouterr()
    assert "unknown key 'rma'; did you mean 'ram'?" in err.err
    assert "ok robust-waiter" in err.out


def test_bad_duration_names_its_key(tmp_path):
    e = error_for(tmp_path, GOOD.replace('ram = "1 GiB"', 'ram = "1 GiB"\nduration = "5 parsecs"'))
    assert e.path == "duration" and "2s" in str(e) and e.line == 4


def test_goals_need_their_keys_and_valid_values(tmp_path):
    e = error_for(tmp_path, GOOD + '\n[[goals]]\nkind = "survives"\n')
    assert e.path == "goals[0]" and "needs pid" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[goals]]\nkind = "memory_back"\namount = "1 GiB"\nwithin = "zz"\n')
    assert e.path == "goals[0].within"
    e = error_for(tmp_path, GOOD + '\n[[goals]]\nkind = "survives"\npid = 999\n')
    assert e.path == "goals[0].pid" and "no process with pid 999" in str(e)


def test_impossible_machines_and_ids(tmp_path):
    e = error_for(tmp_path, GOOD.replace('ram = "1 GiB"', 'ram = "1 GiB"\nreserved = "2 GiB"'))
    assert e.path == "reserved"
    e = error_for(tmp_path, GOOD.replace("pid = 100", "pid = 0"))
    assert e.path == "processes[0].pid" and ">= 1" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[processes]]\npid = 101\ncomm = "clash"\n')
    assert e.path == "processes[1].pid" and "used twice" in str(e)


def test_a_bad_kernel_version_names_the_kernel_key(tmp_path):
    e = error_for(tmp_path, GOOD.replace('ram = "1 GiB"', 'ram = "1 GiB"\nkernel = "abc"'))
    assert e.path == "kernel" and "MAJOR.MINOR" in str(e)


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_only_a_regular_file_is_read(tmp_path, capsys, kind):
    """A FIFO would block the reader forever and /dev/zero would fill memory: refused at once."""
    import os

    path = {"fifo": tmp_path / "scene.toml", "device": "/dev/zero", "directory": tmp_path}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes to it: a blocking open or read would hang this test
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "expected a scene file" in err
    assert {"fifo": "is a FIFO", "device": "is a character device", "directory": "is a directory"}[kind] in err


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path, capsys, monkeypatch):
    from oomtui.scene import load

    monkeypatch.setattr(load, "MAX_SCENE_BYTES", 1000)
    f = tmp_path / "big.toml"
    f.write_text(GOOD + "#" * 1000)
    assert main(["check", str(f)]) == 2
    assert "larger than" in capsys.readouterr().err
    f.write_text(GOOD)  # under the bound: fine
    assert main(["check", str(f)]) == 0


@pytest.mark.parametrize("nested", ["a = " + "[" * 3000 + "]" * 3000, "a = " + "{b=" * 3000 + "1" + "}" * 3000])
def test_any_nesting_depth_is_one_line_and_exit_2(tmp_path, capsys, nested):
    f = tmp_path / "deep.toml"
    f.write_text(nested + "\n")
    assert main(["check", str(f)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nested too deep" in err and "Traceback" not in err


@pytest.mark.parametrize("key, value, words", [
    ("duration", '"999999999s"', "at most 60 minutes"),
    ("duration", '"900001 jiffies"', "at most 60 minutes"),
    ("ram", '"' + "9" * 400 + ' GiB"', "at most 128 PiB"),
    ("ram", str(2**60), "at most 128 PiB"),
])
def test_sizes_and_times_have_upper_bounds(tmp_path, key, value, words):
    text = GOOD.replace('ram = "1 GiB"', f"{key} = {value}" + ('\nram = "1 GiB"' if key != "ram" else ""))
    e = error_for(tmp_path, text)
    assert words in str(e) and e.path == key


def test_the_bounds_admit_an_hour_and_a_big_machine(tmp_path):
    f = tmp_path / "ok.toml"
    f.write_text(GOOD.replace('ram = "1 GiB"', 'ram = "64 TiB"\nduration = "60m"'))
    Simulation(load_scene(str(f)))


def test_killable_needs_a_d_state(tmp_path):
    e = error_for(tmp_path, GOOD.replace("  tid = 101", "  tid = 101\n  killable = true"))
    assert e.path == "processes[0].threads[1].killable" and 'only a thread in state "D"' in str(e)


def test_in_vfork_needs_the_parents_mm(tmp_path):
    e = error_for(tmp_path, GOOD.replace('rss = "10 MiB"', 'rss = "10 MiB"\nin_vfork = true'))
    assert e.path == "processes[0].in_vfork" and "shares_mm_with" in str(e)


def test_an_action_or_goal_key_of_another_kind_says_what_this_kind_takes(tmp_path):
    # actions and goals decode as tagged unions (on `do`, on `kind`): each kind has its own keys
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "kill"\npid = 100\nflags = 1\n')
    assert e.path == "actions[0].flags" and e.line == 23
    assert "'flags' does not apply to do = 'kill' (it takes: pid, at, caption, hold)" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[goals]]\nkind = "survives"\npid = 100\nwithin = "1s"\n')
    assert e.path == "goals[0].within" and "does not apply to kind = 'survives'" in str(e)


def test_a_typo_in_do_or_kind_or_an_action_key_suggests_the_nearest(tmp_path):
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "thwa"\ncgroup = "/app"\n')
    assert e.path == "actions[0].do" and e.line == 21 and "did you mean 'thaw'?" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[goals]]\nkind = "no_livelok"\n')
    assert e.path == "goals[0].kind" and "did you mean 'no_livelock'?" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[walkthrough]]\nat = "1s"\ncaption = "c"\ndo = "mrelease"\npdi = 100\n')
    assert e.path == "walkthrough[0].pdi" and "did you mean 'pid'?" in str(e)


def test_an_action_without_its_target_or_time(tmp_path):
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "kill"\n')
    assert e.path == "actions[0]" and "do = 'kill' needs pid" in str(e) and e.line == 19
    e = error_for(tmp_path, GOOD + '\n[[actions]]\ndo = "kill"\npid = 100\n')
    assert e.path == "actions[0]" and "missing required key 'at'" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "kill"\npid = 100\nhold = true\n')
    assert e.path == "actions[0].hold" and "[[walkthrough]]" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[walkthrough]]\nat = "1s"\ndo = "kill"\npid = 100\n')
    assert e.path == "walkthrough[0]" and "missing required key 'caption'" in str(e)
    e = error_for(tmp_path, GOOD + '\n[[actions]]\nat = "1s"\ndo = "set_adj"\npid = 100\nvalue = 1001\n')
    assert e.path == "actions[0].value" and "<= 1000" in str(e)


def test_a_walkthrough_step_without_do_only_shows_its_caption(tmp_path):
    f = tmp_path / "walk.toml"
    f.write_text(GOOD + '\n[[walkthrough]]\nat = "1s"\ncaption = "look"\nhold = true\n'
                 '\n[[walkthrough]]\nat = "2s"\ncaption = "now"\ndo = "freeze"\ncgroup = "/app"\n')
    sim = Simulation(load_scene(str(f)))
    (look, now) = sim.walkthrough
    assert (look.caption, look.action, look.hold) == ("look", None, True)
    assert now.action.describe() == "freeze /app" and now.at == sim.k.hz * 2
