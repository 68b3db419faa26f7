"""The lab's own cgroup v1 groups: one memcg with a small limit and one freezer group.

Only the lab's children ever enter them. Teardown (always: the Session's exit): thaw, SIGKILL every
member, wait for them to go, rmdir. Groups left behind by a lab that was itself SIGKILLed are
recognised by the owner pid in their name and removed the same way on the next run.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

MEMCG_ROOT = Path("/sys/fs/cgroup/memory")
FREEZER_ROOT = Path("/sys/fs/cgroup/freezer")
PREFIX = "oomtui-lab-"
_NAME = re.compile(rf"^{PREFIX}(\d+)-")


def _v1_mounted(controller: str) -> bool:
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(
        f.split()[2] == "cgroup" and controller in f.split()[3].split(",") for f in mounts if len(f.split()) > 3
    )


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
    return missing


class LabGroups:
    """A memcg with `limit_mib` and a freezer group, both named oomtui-lab-<lab pid>-<tag>:
    `create()` them, `teardown()` always."""

    def __init__(self, tag: str, limit_mib: int) -> None:
        name = f"{PREFIX}{os.getpid()}-{tag}"
        self.memcg = MEMCG_ROOT / name
        self.freezer = FREEZER_ROOT / name
        self.limit_mib = limit_mib

    def create(self) -> None:
        try:
            self.memcg.mkdir()
            self.freezer.mkdir()
            limit = str(self.limit_mib << 20)
            (self.memcg / "memory.limit_in_bytes").write_text(limit)
            memsw = self.memcg / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # no escape into swap: the limit is the limit
                memsw.write_text(limit)
        except BaseException:
            self.teardown()
            raise

    def add(self, pid: int, *, frozen_group: bool = False) -> None:
        """Move a process (all its threads) into the memcg, and into the freezer group if asked."""
        (self.memcg / "cgroup.procs").write_text(str(pid))
        if frozen_group:
            (self.freezer / "cgroup.procs").write_text(str(pid))

    def freezer_state(self) -> str:
        return (self.freezer / "freezer.state").read_text().strip()

    def freeze(self, timeout: float = 5.0) -> None:
        """FROZEN is reported lazily, once every member is frozen() (legacy_freezer.c)."""
        (self.freezer / "freezer.state").write_text("FROZEN")
        deadline = time.monotonic() + timeout
        while self.freezer_state() != "FROZEN":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.freezer} did not reach FROZEN within {timeout:g} s")
            time.sleep(0.005)

    def thaw(self) -> None:
        (self.freezer / "freezer.state").write_text("THAWED")

    def oom_kills(self) -> int:
        """memory.oom_control's `oom_kill` counter (MEMCG_OOM_KILL events of this memcg)."""
        for line in (self.memcg / "memory.oom_control").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
        return 0

    def teardown(self) -> None:
        _remove(self.memcg, self.freezer)


def _pids(group: Path) -> list[int]:
    try:
        return [int(p) for p in (group / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def _remove(memcg: Path, freezer: Path, timeout: float = 10.0) -> None:
    # A v1-frozen task ignores SIGKILL until thawed (legacy freezer): thaw first, then kill.
    if (freezer / "freezer.state").exists():
        (freezer / "freezer.state").write_text("THAWED")
    deadline = time.monotonic() + timeout
    for group in (freezer, memcg):
        while group.exists():
            for pid in _pids(group):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                group.rmdir()
            except FileNotFoundError:
                break
            except OSError:  # EBUSY while members are still exiting
                if time.monotonic() > deadline:
                    raise RuntimeError(f"could not remove {group}: members {_pids(group)} did not exit") from None
                time.sleep(0.01)


def remove_stale_groups() -> list[str]:
    """Remove lab groups whose owning lab process no longer exists; returns their names."""
    removed = []
    for root in (MEMCG_ROOT, FREEZER_ROOT):
        for group in root.glob(f"{PREFIX}*"):
            m = _NAME.match(group.name)
            if m and not Path(f"/proc/{m.group(1)}").exists() and group.name not in removed:
                _remove(MEMCG_ROOT / group.name, FREEZER_ROOT / group.name)
                removed.append(group.name)
    return removed
