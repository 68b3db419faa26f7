"""`oomtui snapshot`: a scene of this machine, and --check-scores (the model's oom_score against
this machine's /proc)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from oomtui.errors import UserError
from oomtui.importers import snapshot
from oomtui.importers.snapshot import Counters, ProcInfo, Totals, check_scores, model_score
from oomtui.kernel.version import KernelVersion
from oomtui.scene.load import loads

ROOT = Path(__file__).resolve().parents[2]
V618 = KernelVersion(6, 18)
TOTALS = Totals(mem_total_kb=4_000_000 * 4, swap_total_kb=0, page_size=4096)  # 4 000 000 pages


def _proc(pid: int = 100, adj: int = 0, rss_kb: int = 0, after_kb: int | None = None, score: int = 666, **kw) -> ProcInfo:
    def counters(kb: int) -> Counters:
        return Counters(rss_anon_kb=kb, rss_file_kb=0, rss_shmem_kb=0, swap_kb=0, pgtables_kb=0)

    fields = dict(
        pid=pid, comm="x", ppid=1, threads=1, kthread=False, oom_score_adj=adj, cgroups=[], oom_score=score,
        counters=counters(rss_kb), counters_after=counters(rss_kb if after_kb is None else after_kb),
    )
    fields.update(kw)
    return ProcInfo(**fields)


def _args(**kw) -> argparse.Namespace:
    return argparse.Namespace(**{"output": None, "check_scores": False, "json": False, **kw})


# --- the model side, on made-up processes -------------------------------------------------------
def test_model_score_of_known_cases() -> None:
    assert model_score(_proc(rss_kb=8), _proc().counters, TOTALS, V618) == 666  # idle, adj 0
    p = _proc(adj=-1000, rss_kb=1 << 20)
    assert model_score(p, p.counters, TOTALS, V618) == 0  # OOM_SCORE_ADJ_MIN: LONG_MIN prints 0
    p = _proc(adj=1000)
    assert model_score(p, p.counters, TOTALS, V618) == 1333
    # half of all pages, adj 0: (1000 + 500) * 2 / 3
    p = _proc(rss_kb=2_000_000 * 4)
    assert model_score(p, p.counters, TOTALS, V618) == 1000
    for p in (_proc(kthread=True, counters=None, counters_after=None), _proc(pid=1), _proc(counters=None)):
        assert model_score(p, p.counters, TOTALS, V618) == 0  # unkillable or no mm


def test_totalpages_counts_memory_and_swap_in_pages() -> None:
    assert Totals(mem_total_kb=24684096, swap_total_kb=1024, page_size=4096).totalpages == 6171024 + 256


def test_exact_drifted_and_mismatch() -> None:
    point_kb = 4_000_000 * 4 * 3 // 2 // 1000 + 8  # just over one oom_score point of RSS
    procs = [
        _proc(pid=10, score=666),  # exact
        _proc(pid=11, rss_kb=0, after_kb=point_kb, score=667),  # changed between reads, inside the bracket
        _proc(pid=12, score=667),  # 1 point off with stable counters: within tolerance
        _proc(pid=13, score=0),  # kernel says ineligible
        _proc(pid=14, score=700),
    ]
    r = check_scores(procs, TOTALS, V618)
    assert (r.compared, r.exact) == (5, 1)
    assert [m.pid for m in r.drifted] == [11, 12]
    assert "memory changed" in r.drifted[0].why
    assert [(m.pid, m.model, m.kernel) for m in r.mismatches] == [(13, 666, 0), (14, 666, 700)]
    assert "ineligible" in r.mismatches[0].why


def test_vanished_process_is_skipped() -> None:
    assert snapshot.read_process(2**22 + 1) is None  # above pid_max's ceiling: never exists


def test_json_without_check_scores_is_a_user_error() -> None:
    with pytest.raises(UserError, match="--json goes with --check-scores"):
        snapshot.main(_args(json=True))


# --- the scene writer, on made-up input ---------------------------------------------------------
@pytest.mark.parametrize("comm", ['plain', 'a "quoted" name', "back\\slash", "tab\there", "del\x7f", "new\nline",
                                  "ünï", "bad\ufffdbyte", "emoji \U0001F600"])
def test_toml_str_round_trips(comm: str) -> None:
    assert tomllib.loads(f"x = {snapshot.toml_str(comm)}")["x"] == comm


def test_parents_come_first_otherwise_pid_order() -> None:
    procs = [_proc(pid=5, ppid=1), _proc(pid=3, ppid=9), _proc(pid=1, ppid=0), _proc(pid=9, ppid=5),
             _proc(pid=7, ppid=42)]
    assert [p.pid for p in snapshot.parents_first(procs)] == [1, 5, 9, 3, 7]


def test_vanished_kernel_thread_and_mmless_processes_are_left_out() -> None:
    me = snapshot.read_process(os.getpid())
    assert me is not None
    gone = _proc(pid=2**22 + 1)  # read, then gone before its threads were listed
    kthread = _proc(pid=2, kthread=True, counters=None, counters_after=None)
    zombie = _proc(pid=os.getppid(), counters=None, counters_after=None)
    snap = snapshot.take_snapshot([kthread, me, gone, zombie])
    assert [sp.info.pid for sp in snap.processes] == [os.getpid()]
    assert "parent =" not in snap.text  # the parent is not in the scene


def test_memcg_path_from_proc_cgroup() -> None:
    lines = ["9:name=systemd:/", "6:freezer:/frozen", "4:memory:/app/web", "0::/user.slice"]
    assert snapshot.memcg_of(lines) == "/app/web"
    assert snapshot.memcg_of(["3:cpu,memory:/x/"]) == "/x"
    assert snapshot.memcg_of(["0::/user.slice"]) == "/"  # no v1 memory hierarchy: the root
    assert snapshot.memcg_of(lines, v2=True) == "/user.slice"  # v2: the "0::" line
    assert snapshot.memcg_of(["4:memory:/app"], v2=True) == "/"


def _put(root: Path, path: str, text: str) -> None:
    f = root / path.lstrip("/")
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)


UNLIMITED_V1 = "9223372036854771712\n"  # PAGE_COUNTER_MAX pages in bytes, as v1 prints "no limit"


def test_memcg_limit_unlimited_and_set(tmp_path: Path) -> None:
    v1 = snapshot.MemoryHierarchy(tmp_path, v2=False)
    _put(tmp_path, "a/memory.limit_in_bytes", UNLIMITED_V1)
    _put(tmp_path, "a/b/memory.limit_in_bytes", "67108864\n")
    assert snapshot.memcg_limit(v1, "/a") is None
    assert snapshot.memcg_limit(v1, "/a/b") == 64 << 20
    assert snapshot.memcg_limit(v1, "/gone") is None
    assert snapshot.memcg_limit(None, "/a/b") is None


def test_memcg_memsw_limit_set_unlimited_and_absent(tmp_path: Path) -> None:
    v1 = snapshot.MemoryHierarchy(tmp_path, v2=False)
    _put(tmp_path, "a/memory.memsw.limit_in_bytes", "134217728\n")
    assert snapshot.memcg_swap_limit(v1, "/a") == 128 << 20
    _put(tmp_path, "a/memory.memsw.limit_in_bytes", UNLIMITED_V1)
    assert snapshot.memcg_swap_limit(v1, "/a") >= snapshot.UNLIMITED
    (tmp_path / "b").mkdir()  # swapaccount=0: no memsw files
    assert snapshot.memcg_swap_limit(v1, "/b") is None
    assert snapshot.memcg_swap_limit(None, "/a") is None


def test_v2_memory_max_and_swap_max(tmp_path: Path) -> None:
    v2 = snapshot.MemoryHierarchy(tmp_path, v2=True)
    _put(tmp_path, "a/memory.max", "max\n")
    _put(tmp_path, "a/memory.swap.max", "max\n")
    _put(tmp_path, "a/b/memory.max", "67108864\n")
    _put(tmp_path, "a/b/memory.swap.max", "0\n")
    _put(tmp_path, "a/b/memory.limit_in_bytes", "4096\n")  # not v2's: never read there
    assert snapshot.memcg_limit(v2, "/a") is None
    assert snapshot.memcg_swap_limit(v2, "/a") == snapshot.UNLIMITED
    assert (snapshot.memcg_limit(v2, "/a/b"), snapshot.memcg_swap_limit(v2, "/a/b")) == (64 << 20, 0)
    (tmp_path / "c").mkdir()  # swap not accounted: no memory.swap.max
    assert snapshot.memcg_swap_limit(v2, "/c") is None
    # v1 prints no "max": there it is as garbled as any other word
    _put(tmp_path, "a/memory.limit_in_bytes", "max\n")
    with pytest.raises(UserError, match='memory.limit_in_bytes: expected a number of bytes, got'):
        snapshot.memcg_limit(snapshot.MemoryHierarchy(tmp_path, v2=False), "/a")


@pytest.mark.parametrize("text", ["", "64M\n", "max max\n", "1_000\n", "-1\n", "\xff\n"])
def test_garbled_memory_max_is_a_clear_error(tmp_path: Path, text: str) -> None:
    _put(tmp_path, "app/memory.max", text)
    with pytest.raises(UserError) as e:
        snapshot.memcg_limit(snapshot.MemoryHierarchy(tmp_path, v2=True), "/app")
    assert str(e.value).startswith(f"{tmp_path}/app/memory.max: expected a number of bytes or \"max\", got ")


def test_cgroup_files_are_read_without_following_symlinks(tmp_path: Path) -> None:
    v2 = snapshot.MemoryHierarchy(tmp_path / "cg", v2=True)
    _put(tmp_path, "elsewhere/memory.max", "4096\n")
    _put(tmp_path, "cg/app/limit", "4096\n")
    (tmp_path / "cg" / "app" / "memory.max").symlink_to(tmp_path / "cg" / "app" / "limit")
    (tmp_path / "cg" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UserError, match=r"cg/app/memory.max: cannot read: a symbolic link"):
        snapshot.memcg_limit(v2, "/app")
    with pytest.raises(UserError, match=r"cg/link: cannot read: a symbolic link"):
        snapshot.memcg_limit(v2, "/link")
    # a cgroup outside this cgroup namespace ("/../x") is none of this mount's
    assert snapshot.memcg_limit(v2, "/../elsewhere") is None
    (tmp_path / "cg" / "dir" / "memory.max").mkdir(parents=True)  # unreadable as a number file
    with pytest.raises(UserError, match=r"cg/dir/memory.max: cannot read: Is a directory"):
        snapshot.memcg_limit(v2, "/dir")


def _mountinfo(*rows: tuple[str, str, str]) -> str:
    """/proc/self/mountinfo lines as this machine prints them: (mount point, fs type, options)."""
    return "".join(f"{32 + i} 31 0:{29 + i} / {where} rw,relatime - {fs} {fs} {opts}\n"
                   for i, (where, fs, opts) in enumerate(rows))


def test_memory_hierarchy_v1_hybrid_and_v2(tmp_path: Path) -> None:
    _put(tmp_path, "unified/cgroup.controllers", "hugetlb\n")  # as on this project's 6.18 (hybrid)
    hybrid = _mountinfo((f"{tmp_path}/memory", "cgroup", "rw,memory"), (f"{tmp_path}/freezer", "cgroup", "rw,freezer"),
                        (f"{tmp_path}/unified", "cgroup2", "rw"))
    assert snapshot.memory_hierarchy(hybrid) == snapshot.MemoryHierarchy(tmp_path / "memory", v2=False)
    # the same hybrid machine without v1's memory mounted: the unified hierarchy does not have it either
    assert snapshot.memory_hierarchy(_mountinfo((f"{tmp_path}/unified", "cgroup2", "rw"))) is None
    _put(tmp_path, "cg2/cgroup.controllers", "cpuset cpu io memory pids\n")
    assert snapshot.memory_hierarchy(_mountinfo((f"{tmp_path}/cg2", "cgroup2", "rw"))) == \
        snapshot.MemoryHierarchy(tmp_path / "cg2", v2=True)
    assert snapshot.memory_hierarchy("") is None


# --- against this machine's kernel --------------------------------------------------------------
def _has_cap_sys_resource() -> bool:
    """Lowering oom_score_adj below its minimum needs CAP_SYS_RESOURCE (fs/proc/base.c __set_oom_adj)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapEff:"):
            return bool(int(line.split()[1], 16) & (1 << 24))
    return False


@pytest.fixture
def sample_processes():
    """Processes with known RSS and oom_score_adj, so the check covers more than idle 666s."""
    script = (
        "import sys, time; b = b'x' * (int(sys.argv[1]) << 20)\n"
        "with open('/proc/self/oom_score_adj', 'w') as f: f.write(sys.argv[2])\n"
        "print('ok', flush=True); time.sleep(60)"
    )
    cases = [(64, "0"), (128, "500"), (16, "1000")]
    if _has_cap_sys_resource():
        cases += [(32, "-500"), (1, "-1000")]
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(mib), adj], stdout=subprocess.PIPE, text=True)
        for mib, adj in cases
    ]
    try:
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ok"
        yield {p.pid: int(adj) for p, (_, adj) in zip(procs, cases)}
    finally:
        for p in procs:
            p.kill()
            p.wait(5)
            p.stdout.close()


def test_model_matches_this_kernel(sample_processes: dict[int, int]) -> None:
    procs = snapshot.read_processes()
    mine = {p.pid: p for p in procs if p.pid in sample_processes}
    assert {pid: p.oom_score_adj for pid, p in mine.items()} == sample_processes
    assert all(mine[pid].oom_score == 0 for pid, adj in sample_processes.items() if adj == -1000)
    totals = snapshot.read_totals()
    version = KernelVersion.parse(os.uname().release)
    r = check_scores(procs, totals, version)
    assert r.mismatches == []
    # our sample processes are idle after their allocation: their counters are stable, so exact
    drifted = {m.pid for m in r.drifted}
    assert not drifted & set(sample_processes)
    assert mine[next(pid for pid, adj in sample_processes.items() if adj == 1000)].oom_score >= 1333


def test_cli_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "oomtui.cli", "snapshot", "--check-scores", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    doc = json.loads(proc.stdout)
    assert proc.returncode == (1 if doc["mismatches"] else 0)
    assert doc["compared"] > 0 and doc["kernel"] == str(KernelVersion.parse(os.uname().release))
    assert doc["compared"] == doc["exact"] + len(doc["drifted"]) + len(doc["mismatches"])


def test_cli_human_output() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "oomtui.cli", "snapshot", "--check-scores"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.stdout.startswith("Compared ")
    assert "totalpages = (MemTotal " in proc.stdout
    assert "mismatches." in proc.stdout


# --- a scene of this machine --------------------------------------------------------------------
def test_snapshot_scene_runs_and_kills_a_top_scorer(tmp_path: Path, sample_processes: dict[int, int]) -> None:
    """The model's sysrq-f victim is a process the kernel scores highest at snapshot time, allowing
    1 point for ties and for processes whose memory moved while /proc was read (other work runs on
    this machine too: a process allocating between the reads is judged on both reads)."""
    from oomtui.scene.load import load_scene
    from oomtui.scene.sim import Simulation

    snap = snapshot.take_snapshot()
    path = tmp_path / "snap.toml"
    path.write_text(snap.text)
    outcome = Simulation(load_scene(str(path))).run()
    victim = next(k for k in outcome.kills if k.reason == "oom")
    totals, version = snapshot.read_totals(), KernelVersion.parse(os.uname().release)

    def scores(p: ProcInfo) -> list[int]:
        return [p.oom_score, *(model_score(p, c, totals, version) for c in (p.counters, p.counters_after))]

    procs = {sp.info.pid: sp.info for sp in snap.processes}
    assert victim.pid in procs
    best_low = max(min(scores(p)) for p in procs.values())
    top = sorted(procs.values(), key=lambda p: -p.oom_score)[:3]
    assert max(scores(procs[victim.pid])) >= best_low - snapshot.TOLERANCE_POINTS, (
        victim, [(p.pid, p.comm, scores(p)) for p in top])
    # our oom_score_adj 1000 sample outscores everything else, unless someone else runs one too
    ours = next(pid for pid, adj in sample_processes.items() if adj == 1000)
    if [p.pid for p in procs.values() if p.oom_score_adj == 1000] == [ours]:
        assert victim.pid == ours


def test_snapshot_scene_content(sample_processes: dict[int, int]) -> None:
    snap = snapshot.take_snapshot()
    doc = tomllib.loads(snap.text)
    procs = {p["pid"]: p for p in doc["processes"]}
    assert doc["actions"] == [{"at": "1s", "do": "oom", "caption": f"sysrq-f on a snapshot of {os.uname().nodename}"}]
    assert doc["duration"] == "3s" and doc["policy"].startswith("linux-")
    assert os.uname().nodename in doc["title"] and os.uname().nodename in doc["story"]
    # no kernel threads; pid 1 is init; parents before children
    assert all(snapshot.read_process(pid) is None or not snapshot.read_process(pid).kthread for pid in procs)
    if 1 in procs:
        assert procs[1]["init"] is True
    order = [p["pid"] for p in doc["processes"]]
    for p in doc["processes"]:
        if "parent" in p:
            assert order.index(p["parent"]) < order.index(p["pid"])
    # ourselves: threads, adj, and the cgroup v1 memory path declared parents-first
    me = procs[os.getpid()]
    assert me["parent"] == os.getppid() or os.getppid() not in procs
    tids = sorted(int(t) for t in os.listdir("/proc/self/task"))
    if len(tids) > 1:
        assert me["threads"][0] == {"tid": os.getpid()}
    for pid, adj in sample_processes.items():
        assert procs[pid].get("oom_score_adj", 0) == adj
    declared = [c["path"] for c in doc.get("cgroups", [])]
    for c in declared:
        parent = c.rsplit("/", 1)[0]
        assert parent == "" or declared.index(parent) < declared.index(c)
    for p in doc["processes"]:
        assert p.get("cgroup", "/") == "/" or p["cgroup"] in declared


def test_cli_snapshot_to_file_then_check(tmp_path: Path) -> None:
    out = tmp_path / "machine.toml"
    proc = subprocess.run([sys.executable, "-m", "oomtui.cli", "snapshot", "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and f"wrote {out}" in proc.stderr
    assert out.read_text().startswith("#:schema ./oomtui-scene.schema.json\n")  # taplo's header directive
    assert json.loads((tmp_path / "oomtui-scene.schema.json").read_text())["$ref"] == "#/$defs/Scene"
    check = subprocess.run([sys.executable, "-m", "oomtui.cli", "check", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith(f"ok {out}")


def test_cli_snapshot_to_stdout() -> None:
    proc = subprocess.run([sys.executable, "-m", "oomtui.cli", "snapshot"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = tomllib.loads(proc.stdout)
    assert os.getpid() in {p["pid"] for p in doc["processes"]}


def test_cli_snapshot_unwritable_output() -> None:
    proc = subprocess.run([sys.executable, "-m", "oomtui.cli", "snapshot", "-o", "/nonexistent/dir/x.toml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def _v1_memcg_writable() -> bool:
    h = snapshot.memory_hierarchy()
    return h is not None and not h.v2 and os.access(h.mount, os.W_OK)


@pytest.mark.skipif(not _v1_memcg_writable(), reason="needs a writable cgroup v1 memory hierarchy (root)")
def test_snapshot_declares_a_limited_memcg_and_its_parents() -> None:
    h = snapshot.memory_hierarchy()
    assert h is not None
    mount = h.mount
    outer = mount / f"oomtui-snaptest-{os.getpid()}"
    inner = outer / "inner"
    inner.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (inner / "memory.limit_in_bytes").write_text(str(64 << 20))
        memsw = inner / "memory.memsw.limit_in_bytes"  # absent with swapaccount=0
        if memsw.exists():
            memsw.write_text(str(96 << 20))
        (inner / "cgroup.procs").write_text(str(child.pid))
        snap = snapshot.take_snapshot()
        doc = tomllib.loads(snap.text)
        rel_outer, rel_inner = f"/{outer.name}", f"/{outer.name}/inner"
        cgroups = [c for c in doc["cgroups"] if c["path"].startswith(rel_outer)]
        limits = {"memory_max": "64 MiB"} | ({"memsw_max": "96 MiB"} if memsw.exists() else {})
        assert doc["memcg"] == "v1" and cgroups == [{"path": rel_outer}, {"path": rel_inner, **limits}]
        assert loads(snap.text).scene.cgroups  # the scene it writes loads (memsw_max is a v1 key)
        (p,) = [p for p in doc["processes"] if p["pid"] == child.pid]
        assert p["cgroup"] == rel_inner and p["parent"] == os.getpid()
    finally:
        child.kill()
        child.wait(5)
        for g in (inner, outer):
            for _ in range(50):
                try:
                    g.rmdir()
                    break
                except OSError:  # the killed child leaves the group a moment later
                    time.sleep(0.02)


@pytest.mark.parametrize(
    "counters",
    [Counters(rss_anon_kb=50_000, rss_file_kb=8_000, rss_shmem_kb=400, swap_kb=0, pgtables_kb=200),
     Counters(rss_anon_kb=40, rss_file_kb=8, rss_shmem_kb=0, swap_kb=0, pgtables_kb=4)],  # less than 4 stacks + TLS
    ids=["big", "tiny"],
)  # fmt: skip
def test_snapshot_anon_equals_rss_anon_of_a_threaded_process(counters: Counters) -> None:
    """The builder's stacks (64 KiB per thread) and TLS (16 KiB) are part of RssAnon, not added on top."""
    import threading

    import msgspec

    from oomtui.scene.load import loads
    from oomtui.scene.sim import Simulation

    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        me = snapshot.read_process(os.getpid())
        assert me is not None
        me = msgspec.structs.replace(me, counters=counters, counters_after=counters)
        snap = snapshot.take_snapshot([me])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(snap.processes[0].tids) >= 4
    mm = Simulation(loads(snap.text, "snapshot")).k.pids[os.getpid()].mm
    assert abs(mm.anon * 4 - counters.rss_anon_kb) < 4
    assert (mm.file * 4, mm.shmem * 4) == (counters.rss_file_kb, counters.rss_shmem_kb)
    assert mm.pgtables_bytes == counters.pgtables_kb * 1024


# --- a scene of a fake machine's cgroups (mountinfo and cgroupfs in tmp_path, these processes) ---------------
MEMINFO = {"MemTotal": 8 << 20, "MemAvailable": 4 << 20, "SwapTotal": 1 << 20}  # kB: 8 GiB RAM, 1 GiB swap
SWAP_PAGES = (1 << 30) // 4096


@pytest.fixture
def sleeper():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait(5)


def _snap(monkeypatch, mountinfo: str, cgroups: dict[int, list[str]]) -> tuple[snapshot.Snapshot, dict]:
    """A snapshot of these real processes (their threads are listed from /proc) with made-up /proc/PID/cgroup
    lines, on the hierarchies `mountinfo` names; the scene as TOML."""
    monkeypatch.setattr(snapshot, "read_meminfo", lambda: MEMINFO)
    procs = [_proc(pid=pid, rss_kb=4096, cgroups=lines) for pid, lines in cgroups.items()]
    snap = snapshot.take_snapshot(procs, mountinfo)
    return snap, tomllib.loads(snap.text)


def _v2_machine(root: Path) -> str:
    """A unified hierarchy with the memory controller: /app (no limits) holds /app/web (64 MiB, 32 MiB of
    swap), /app/batch (16 MiB, swap.max "max") and /app/db (8 MiB, swap.max 0)."""
    _put(root, "cg2/cgroup.controllers", "cpuset cpu io memory pids\n")
    _put(root, "cg2/app/cgroup.controllers", "cpu memory pids\n")
    for name, mem, swap in (("app", "max", "max"), ("app/web", str(64 << 20), str(32 << 20)),
                            ("app/batch", str(16 << 20), "max"), ("app/db", str(8 << 20), "0")):
        _put(root, f"cg2/{name}/cgroup.controllers", "memory pids\n")
        _put(root, f"cg2/{name}/memory.max", mem + "\n")
        _put(root, f"cg2/{name}/memory.swap.max", swap + "\n")
    # /app/web/worker: its parent enables no controller for it (no +memory in web's cgroup.subtree_control)
    _put(root, "cg2/app/web/worker/cgroup.controllers", "\n")
    return _mountinfo((f"{root}/cg2", "cgroup2", "rw,nsdelegate"))


def test_v2_snapshot_declares_memory_max_and_swap_max(tmp_path: Path, monkeypatch, sleeper: int) -> None:
    from oomtui.kernel.oom_kill import mem_cgroup_get_max
    from oomtui.scene.sim import Simulation

    me = os.getpid()
    snap, doc = _snap(monkeypatch, _v2_machine(tmp_path), {me: ["0::/app/web/worker"], sleeper: ["0::/app/batch"]})
    assert doc["memcg"] == "v2" and "memsw_max" not in snap.text
    assert doc["cgroups"] == [
        {"path": "/app"},
        {"path": "/app/batch", "memory_max": "16 MiB", "swap_max": "max"},
        {"path": "/app/web", "memory_max": "64 MiB", "swap_max": "32 MiB"},
    ]
    # worker has no memory css of its own: the process is charged to /app/web, as the kernel does
    assert {p["pid"]: p["cgroup"] for p in doc["processes"]} == {me: "/app/web", sleeper: "/app/batch"}
    # the scene loads, runs, and the model's memcg OOM would weigh these limits (mem_cgroup_get_max())
    sim = Simulation(loads(snap.text, "snapshot"))
    k = sim.k
    web, batch = k.cgroups["/app/web"], k.cgroups["/app/batch"]
    assert (web.limit, batch.limit, k.cgroups["/app"].limit) == (16384, 4096, None)
    assert mem_cgroup_get_max(k, web) == 16384 + 8192
    assert mem_cgroup_get_max(k, batch) == 4096 + SWAP_PAGES  # swap.max "max": all of swap
    assert any(kill.reason == "oom" for kill in sim.run().kills)


def test_v2_memcg_is_the_nearest_cgroup_with_the_memory_controller(tmp_path: Path) -> None:
    _v2_machine(tmp_path)
    v2, v1 = (snapshot.MemoryHierarchy(tmp_path / "cg2", v2=v2) for v2 in (True, False))
    assert snapshot.effective_memcg(v2, "/app/web/worker") == "/app/web"
    assert snapshot.effective_memcg(v2, "/app/web") == "/app/web"
    assert snapshot.effective_memcg(v2, "/app/gone") == "/app/gone"  # no cgroup.controllers to tell: as /proc said
    assert snapshot.effective_memcg(v1, "/app/web/worker") == "/app/web/worker"  # v1: every cgroup is a memcg


def test_v2_swap_max_0_is_the_scenes_default(tmp_path: Path, monkeypatch) -> None:
    from oomtui.kernel.oom_kill import mem_cgroup_get_max
    from oomtui.scene.sim import Simulation

    snap, doc = _snap(monkeypatch, _v2_machine(tmp_path), {os.getpid(): ["0::/app/db"]})
    assert doc["cgroups"] == [{"path": "/app"}, {"path": "/app/db", "memory_max": "8 MiB"}]
    k = Simulation(loads(snap.text, "snapshot")).k
    assert mem_cgroup_get_max(k, k.cgroups["/app/db"]) == 2048  # no swap headroom


def test_hybrid_snapshot_reads_v1_memory_limits(tmp_path: Path, monkeypatch, sleeper: int) -> None:
    """v1 memory (and freezer) mounted beside a unified hierarchy without the memory controller, as on this
    project's 6.18: the memcgs are v1's, whatever the unified hierarchy holds."""
    from oomtui.kernel.oom_kill import mem_cgroup_get_max
    from oomtui.scene.sim import Simulation

    mountinfo = _mountinfo((f"{tmp_path}/memory", "cgroup", "rw,memory"),
                           (f"{tmp_path}/freezer", "cgroup", "rw,freezer"), (f"{tmp_path}/unified", "cgroup2", "rw"))
    _put(tmp_path, "unified/cgroup.controllers", "hugetlb\n")
    _put(tmp_path, "unified/svc/memory.max", "4096\n")  # not the memory controller's: never read
    _put(tmp_path, "memory/api/memory.limit_in_bytes", UNLIMITED_V1)
    _put(tmp_path, "memory/api/memory.memsw.limit_in_bytes", UNLIMITED_V1)
    _put(tmp_path, "memory/api/job/memory.limit_in_bytes", f"{64 << 20}\n")
    _put(tmp_path, "memory/api/job/memory.memsw.limit_in_bytes", f"{96 << 20}\n")
    lines = ["9:name=systemd:/", "6:freezer:/", "4:memory:/api/job", "0::/svc"]
    snap, doc = _snap(monkeypatch, mountinfo, {os.getpid(): ["4:memory:/api", "0::/svc"], sleeper: lines})
    assert doc["memcg"] == "v1" and "swap_max" not in snap.text
    assert doc["cgroups"] == [{"path": "/api"}, {"path": "/api/job", "memory_max": "64 MiB", "memsw_max": "96 MiB"}]
    assert {p["pid"]: p["cgroup"] for p in doc["processes"]} == {os.getpid(): "/api", sleeper: "/api/job"}
    k = Simulation(loads(snap.text, "snapshot")).k
    assert mem_cgroup_get_max(k, k.cgroups["/api/job"]) == 16384 + 8192


def test_snapshot_with_a_garbled_memory_max_is_a_user_error(tmp_path: Path, monkeypatch) -> None:
    mountinfo = _v2_machine(tmp_path)
    _put(tmp_path, "cg2/app/web/memory.max", "sixty-four megs\n")
    with pytest.raises(UserError, match=r"cg2/app/web/memory.max: expected a number of bytes or \"max\", "
                                        r"got 'sixty-four megs\\n'"):
        _snap(monkeypatch, mountinfo, {os.getpid(): ["0::/app/web"]})
