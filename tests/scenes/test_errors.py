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
