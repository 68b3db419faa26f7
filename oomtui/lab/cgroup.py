"""The lab's own cgroups: per experiment, one v1 memcg with a small limit, one v1 freezer group and,
for the experiments that need it, one group in the cgroup2 (unified) hierarchy for cgroup.freeze and
cgroup.kill (no controller needed: those are core files of every non-root cgroup2 group).

Only the lab's children ever enter them. Every group is named oomtui-lab-<lab pid>-<tag>, in any
hierarchy (v1 memory and freezer, cgroup2): the name says which run owns it. Teardown (always:
the Session's exit; the watchdog's if the lab is killed; `lab --cleanup` for dead runs): thaw,
SIGKILL every member, wait for them to go, rmdir.

Control files are written with O_NOFOLLOW and never created (no O_CREAT): a write lands only on
the kernel's own file.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterable
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
MEMCG_ROOT = CGROUP_ROOT / "memory"
FREEZER_ROOT = CGROUP_ROOT / "freezer"
PROC_SWAPS = Path("/proc/swaps")
PREFIX = "oomtui-lab-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-")


def write_control(path: Path, value: str) -> None:
    """Write a cgroup control file: no O_CREAT (a missing file is an error, not a new file), no link followed."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)


def _mounts() -> list[list[str]]:
    try:
        return [f.split() for f in Path("/proc/self/mounts").read_text().splitlines()]
    except OSError:
        return []


def _v1_mounted(controller: str) -> bool:
    return any(f[2] == "cgroup" and controller in f[3].split(",") for f in _mounts() if len(f) > 3)


def unified_root() -> Path | None:
    """Where cgroup2 is mounted (the unified hierarchy beside the v1 ones, /sys/fs/cgroup/unified on a
    hybrid setup), or None. The lab never mounts it."""
    return next((Path(f[1]) for f in _mounts() if len(f) > 3 and f[2] == "cgroup2"), None)


def hierarchies() -> list[Path]:
    """Every mounted cgroup hierarchy the lab may have created groups in: v1 memory and freezer, cgroup2."""
    return [
        Path(f[1])
        for f in _mounts()
        if len(f) > 3
        and (f[2] == "cgroup2" or (f[2] == "cgroup" and {"memory", "freezer"} & set(f[3].split(","))))
    ]


def swap_unaccounted() -> str | None:
    """Why a memcg hog could fill this machine's swap, or None: swap is on but the memcg limit would not
    cover it (cgroup v1 counts swap only with memsw accounting, memory.memsw.* files; without them a
    memcg at its limit swaps out freely)."""
    try:
        swaps = PROC_SWAPS.read_text().splitlines()[1:]  # a header line, then one line per swap area
    except OSError:
        return None
    if not any(line.strip() for line in swaps):
        return None
    if (MEMCG_ROOT / "memory.memsw.limit_in_bytes").exists():
        return None
    return ("swap accounting for its memcg (memory.memsw.*; boot with swapaccount=1, or swapoff -a): this "
            "machine has swap that a memory hog at its memcg limit would fill")


def missing_prerequisites() -> list[str]:
    """What this machine lacks for the lab, as short phrases (empty: all there)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (the lab creates cgroups and reads /dev/kmsg)")
    if not (_v1_mounted("memory") and (MEMCG_ROOT / "memory.limit_in_bytes").exists()):
        missing.append(f"a cgroup v1 memory hierarchy at {MEMCG_ROOT}")
    if not (_v1_mounted("freezer") and (FREEZER_ROOT / "cgroup.procs").exists()):
        missing.append(f"a cgroup v1 freezer hierarchy at {FREEZER_ROOT}")
    if not os.access("/dev/kmsg", os.R_OK):
        missing.append("read access to /dev/kmsg")
    if (swap := swap_unaccounted()) is not None:
        missing.append(swap)
    return missing


def run_prefix(pid: int) -> str:
    """The name prefix of every group of the lab run whose process is `pid`."""
    return f"{PREFIX}{pid}-"


class LabGroups:
    """A memcg with `limit_mib` (memory+swap too, where swap is accounted) and a freezer group, both named
    oomtui-lab-<lab pid>-<tag>: `create()` them, `teardown()` always."""

    def __init__(self, tag: str, limit_mib: int, *, unified: bool = False) -> None:
        name = run_prefix(os.getpid()) + tag
        self.memcg = MEMCG_ROOT / name
        self.freezer = FREEZER_ROOT / name
        root = unified_root() if unified else None
        if unified and root is None:
            raise RuntimeError("no cgroup2 hierarchy is mounted (the lab does not mount one)")
        self.unified = root / name if root is not None else None
        self.limit_mib = limit_mib

    def create(self) -> None:
        if (swap := swap_unaccounted()) is not None:  # check_machine() refused already; never create one anyway
            raise RuntimeError(f"refusing to create a memcg: it needs {swap}")
        try:
            self.memcg.mkdir()
            self.freezer.mkdir()
            if self.unified is not None:
                self.unified.mkdir()
            limit = str(self.limit_mib << 20)
            write_control(self.memcg / "memory.limit_in_bytes", limit)
            memsw = self.memcg / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # no escape into swap: the limit is the limit
                write_control(memsw, limit)
        except BaseException:
            self.teardown()
            raise

    def add(self, pid: int, *, frozen_group: bool = False, unified: bool = False) -> None:
        """Move a process (all its threads) into the memcg, and into the v1 freezer group and the
        cgroup2 group if asked."""
        write_control(self.memcg / "cgroup.procs", str(pid))
        if frozen_group:
            write_control(self.freezer / "cgroup.procs", str(pid))
        if unified:
            assert self.unified is not None
            write_control(self.unified / "cgroup.procs", str(pid))

    def freeze_v2(self, timeout: float = 5.0) -> None:
        """cgroup.freeze = 1; cgroup.events says `frozen 1` once every task has stopped (cgroup_freeze())."""
        assert self.unified is not None
        write_control(self.unified / "cgroup.freeze", "1")
        deadline = time.monotonic() + timeout
        while "frozen 1" not in (self.unified / "cgroup.events").read_text().splitlines():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.unified} did not report frozen within {timeout:g} s")
            time.sleep(0.005)

    def kill_v2(self) -> None:
        """cgroup.kill = 1 (5.14+): SIGKILL to every process of the group (cgroup_kill())."""
        assert self.unified is not None
        write_control(self.unified / "cgroup.kill", "1")

    def freezer_state(self) -> str:
        return (self.freezer / "freezer.state").read_text().strip()

    def freeze(self, timeout: float = 5.0) -> None:
        """FROZEN is reported lazily, once every member is frozen() (legacy_freezer.c)."""
        write_control(self.freezer / "freezer.state", "FROZEN")
        deadline = time.monotonic() + timeout
        while self.freezer_state() != "FROZEN":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.freezer} did not reach FROZEN within {timeout:g} s")
            time.sleep(0.005)

    def thaw(self) -> None:
        write_control(self.freezer / "freezer.state", "THAWED")

    def oom_kills(self) -> int:
        """memory.oom_control's `oom_kill` counter (MEMCG_OOM_KILL events of this memcg)."""
        for line in (self.memcg / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def teardown(self) -> None:
        remove_groups([g for g in (self.unified, self.freezer, self.memcg) if g is not None])


def members(group: Path) -> list[int]:
    """The pids in a group (zombies have left it already)."""
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def _subgroups(group: Path) -> list[Path]:
    """`group` and the groups below it, deepest first (the order rmdir needs)."""
    try:
        subdirs = [d for d in group.iterdir() if d.is_dir() and not d.is_symlink()]
    except FileNotFoundError:
        return []
    return [g for d in subdirs for g in _subgroups(d)] + [group]


def _thaw(group: Path) -> None:
    # A frozen task acts on SIGKILL only once thawed: v1 freezer.state (legacy_freezer.c), v2 cgroup.freeze.
    for control, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
        try:
            write_control(group / control, value)
        except OSError:  # not this kind of group, or already gone
            pass


def remove_groups(groups: Iterable[Path], timeout: float = 10.0) -> None:
    """Thaw every group (all of them first: a task frozen in one hierarchy keeps its memcg busy), SIGKILL
    their members until they are empty, rmdir them. Groups already gone are fine (a watchdog and
    `--cleanup` may race on the same run)."""
    groups = [g for top in groups for g in _subgroups(top)]
    for g in groups:
        _thaw(g)
    deadline = time.monotonic() + timeout
    for g in groups:
        while True:
            for pid in members(g):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                g.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:  # EBUSY while members are still exiting
                if time.monotonic() > deadline:
                    raise RuntimeError(f"could not remove {g}: members {members(g)} did not exit") from None
                time.sleep(0.005)


def run_groups(pid: int) -> list[Path]:
    """Every group of the lab run `pid`, in every hierarchy."""
    return sorted(g for root in hierarchies() for g in root.glob(run_prefix(pid) + "*") if g.is_dir())


def _running(pid: str) -> bool:
    """A process that is not (yet) a zombie: a lab killed under a parent that never reaps it is gone too."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return False


def stale_groups() -> list[Path]:
    """The lab's groups whose owning run is gone: the lab process named in the group's name no longer
    runs. (A reused pid keeps them, erring on the side of leaving a group alone.)"""
    return sorted(
        g
        for root in hierarchies()
        for g in root.glob(f"{PREFIX}*")
        if (m := _NAME.match(g.name)) and g.is_dir() and not _running(m.group(1))
    )
