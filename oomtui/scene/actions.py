"""What a player, a script or an autoplay step does to the kernel: one struct per action.

The TUI's commands, scene [[actions]] and autoplay steps all build these and call apply();
nothing else mutates kernel state.
"""

from __future__ import annotations

import msgspec

from ..kernel.core import Kernel, KernelError
from ..kernel.policy import get_policy


class Action(msgspec.Struct, tag_field="do", kw_only=True):
    caption: str | None = None

    def validate(self, k: Kernel) -> None:
        """Raise ValueError if the target does not exist (checked when a scene is built)."""

    def apply(self, k: Kernel) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _need_pid(k: Kernel, pid: int | None, what: str) -> None:
    if pid is None:
        raise ValueError(f"{what} needs pid = ...")
    if pid not in k.pids:
        raise ValueError(f"{what}: no process with pid {pid}")


def _need_cgroup(k: Kernel, path: str | None, what: str, freezer: bool = False) -> None:
    if path is None:
        raise ValueError(f"{what} needs cgroup = ...")
    c = k.cgroups.get(path)
    if c is None:
        raise ValueError(f"{what}: no cgroup {path!r}")
    if freezer and c.freezer is None:
        raise ValueError(f'{what}: cgroup {path!r} has no freezer (set freezer = "v1" or "v2")')


class Oom(Action, tag="oom"):
    """sysrq-f: run the OOM killer now (a memcg OOM when a cgroup is given)."""

    cgroup: str | None = None

    def validate(self, k: Kernel) -> None:
        if self.cgroup is not None:
            _need_cgroup(k, self.cgroup, "oom")

    def apply(self, k: Kernel) -> None:
        k.sysrq_oom(self.cgroup)

    def describe(self) -> str:
        return f"memcg OOM in {self.cgroup}" if self.cgroup and self.cgroup != "/" else "sysrq-f: global OOM"


class Kill(Action, tag="kill"):
    pid: int

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "kill")

    def apply(self, k: Kernel) -> None:
        k.kill(self.pid, "SIGKILL")

    def describe(self) -> str:
        return f"kill -KILL {self.pid}"


class Sigterm(Action, tag="sigterm"):
    pid: int

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "sigterm")

    def apply(self, k: Kernel) -> None:
        k.kill(self.pid, "SIGTERM")

    def describe(self) -> str:
        return f"kill -TERM {self.pid}"


class Freeze(Action, tag="freeze"):
    cgroup: str

    def validate(self, k: Kernel) -> None:
        _need_cgroup(k, self.cgroup, "freeze", freezer=True)

    def apply(self, k: Kernel) -> None:
        k.freeze(self.cgroup)

    def describe(self) -> str:
        return f"freeze {self.cgroup}"


class Thaw(Action, tag="thaw"):
    cgroup: str

    def validate(self, k: Kernel) -> None:
        _need_cgroup(k, self.cgroup, "thaw", freezer=True)

    def apply(self, k: Kernel) -> None:
        k.thaw(self.cgroup)

    def describe(self) -> str:
        return f"thaw {self.cgroup}"


class Mrelease(Action, tag="mrelease"):
    pid: int
    flags: int = 0

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "mrelease")

    def apply(self, k: Kernel) -> None:
        k.process_mrelease(self.pid, self.flags)

    def describe(self) -> str:
        return f"process_mrelease(pidfd({self.pid}), {self.flags})"


class SetAdj(Action, tag="set_adj"):
    pid: int
    value: int

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "set_adj")
        if not -1000 <= self.value <= 1000:
            raise ValueError(f"set_adj: value {self.value} is outside -1000..1000")

    def apply(self, k: Kernel) -> None:
        k.set_oom_score_adj(self.pid, self.value)

    def describe(self) -> str:
        return f"echo {self.value} > /proc/{self.pid}/oom_score_adj"


class SetPolicy(Action, tag="policy"):
    policy: str

    def validate(self, k: Kernel) -> None:
        get_policy(self.policy)

    def apply(self, k: Kernel) -> None:
        k.set_policy(get_policy(self.policy))

    def describe(self) -> str:
        return f"switch kernel policy to {self.policy}"


class Unlock(Action, tag="unlock"):
    futex: str

    def validate(self, k: Kernel) -> None:
        if self.futex not in k.futexes:
            raise ValueError(f"unlock: no futex {self.futex!r}")

    def apply(self, k: Kernel) -> None:
        from ..kernel.exit import futex_unlock

        f = k.futexes[self.futex]
        if f.owner_task is None:
            # pthread_mutex_unlock() is the owner's call: an unowned lock has nobody to make it
            raise KernelError(f"{self.futex} is not locked: nothing to unlock")
        futex_unlock(k, f, f.owner_task)

    def describe(self) -> str:
        return f"unlock {self.futex}"


class Step(msgspec.Struct):
    """An autoplay step: at a jiffy, show a caption, optionally do an action, optionally hold for a key."""

    at: int
    caption: str
    action: Action | None = None
    hold: bool = False


AnyAction = Oom | Kill | Sigterm | Freeze | Thaw | Mrelease | SetAdj | SetPolicy | Unlock


def action_from_spec(spec) -> Action:
    """An [[actions]] table (ActionSpec) to its Action."""
    d = {"caption": spec.caption}
    do = spec.do
    if do == "oom":
        return Oom(cgroup=spec.cgroup, **d)
    if do in ("kill", "sigterm", "mrelease", "set_adj"):
        if spec.pid is None:
            raise ValueError(f"{do} needs pid = ...")
        if do == "kill":
            return Kill(pid=spec.pid, **d)
        if do == "sigterm":
            return Sigterm(pid=spec.pid, **d)
        if do == "mrelease":
            return Mrelease(pid=spec.pid, flags=spec.flags, **d)
        if spec.value is None:
            raise ValueError("set_adj needs value = -1000..1000")
        return SetAdj(pid=spec.pid, value=spec.value, **d)
    if do in ("freeze", "thaw"):
        if spec.cgroup is None:
            raise ValueError(f"{do} needs cgroup = ...")
        return Freeze(cgroup=spec.cgroup, **d) if do == "freeze" else Thaw(cgroup=spec.cgroup, **d)
    if do == "policy":
        if spec.policy is None:
            raise ValueError("policy needs policy = ...")
        return SetPolicy(policy=spec.policy, **d)
    if spec.futex is None:
        raise ValueError("unlock needs futex = ...")
    return Unlock(futex=spec.futex, **d)
