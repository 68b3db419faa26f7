"""What a player, a script or an autoplay step does to the kernel: one struct per action.

The vocabulary is written once, here: a scene's [[actions]] and [[walkthrough]] tables decode
straight into these structs (a tagged union on `do`), the TUI's commands build them, autoplay runs
them through the command each names, and [[sidesteps]] match them by their fields. apply() is the
only place kernel state changes.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import Meta

from ..kernel.core import Kernel, KernelError
from ..kernel.exit import futex_unlock
from ..kernel.policy import get_policy
from . import feedback as fb
from .struct import SceneStruct
from .units import Duration


class Action(SceneStruct, tag_field="do", kw_only=True):
    """The keys every action table has; what it applies to are its own keys, by `do`."""

    at: Annotated[Duration | None, Meta(description="when (required in [[actions]] and [[walkthrough]])")] = None
    caption: str | None = None
    hold: Annotated[bool, Meta(description="[[walkthrough]]: pause here until the presenter presses a key")] = False

    # the TUI command a player runs for it (tui/commands.py) and how a briefing words that key
    command: ClassVar[str] = ""
    key_text: ClassVar[str] = ""
    # where autoplay moves the cursor first, so a watcher sees the target: "pid", "cgroup" or ""
    selects: ClassVar[str] = ""
    # its key acts on what is selected in the process tree (a briefing says how to select)
    on_selection: ClassVar[bool] = True
    # its `cgroup` must have a freezer (freezer.state / cgroup.freeze is written there)
    needs_freezer: ClassVar[bool] = False

    def validate(self, k: Kernel) -> None:
        """Raise ValueError if the target does not exist (checked when a scene is built)."""

    def apply(self, k: Kernel) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def effect(self, events: list, k: Kernel) -> str:
        """What it actually did, in one line (scene/feedback.py): from `events` (what Simulation.apply
        returned for it) and the kernel state right after it."""
        return self.describe()

    def targets(self) -> dict:
        """What it applies to: its own keys (pid, cgroup, value, ...), not when or how it is shown."""
        return {f: getattr(self, f) for f in self.__struct_fields__ if f not in Action.__struct_fields__}

    def command_params(self) -> dict:
        """The keyword arguments of its TUI command (tui/commands.py) that do the same."""
        return self.targets()

    def sidestep_target(self, key: str):
        """Its value for a [[sidesteps]] key (scene/sidesteps.py); None: it has no such key."""
        return getattr(self, key, None)


def do_name(action: type[Action] | Action) -> str:
    """The action's `do` name (its msgspec tag): "kill", "thaw", ..."""
    return action.__struct_config__.tag  # type: ignore[return-value]


def _need_pid(k: Kernel, pid: int, what: str) -> None:
    if pid not in k.pids:
        raise ValueError(f"{what}: no process with pid {pid}")


def _need_cgroup(k: Kernel, path: str, what: str, freezer: bool = False) -> None:
    c = k.cgroups.get(path)
    if c is None:
        raise ValueError(f"{what}: no cgroup {path!r}")
    if freezer and c.freezer is None:
        raise ValueError(f'{what}: cgroup {path!r} has no freezer (set freezer = "v1" or "v2")')


class Oom(Action, tag="oom"):
    """sysrq-f: run the OOM killer now (a memcg OOM when a cgroup is given)."""

    cgroup: Annotated[str | None, Meta(description="a memcg OOM in this cgroup; default: global")] = None
    command: ClassVar[str] = "oom"
    key_text: ClassVar[str] = "run the OOM killer now"
    on_selection: ClassVar[bool] = False

    def validate(self, k: Kernel) -> None:
        if self.cgroup is not None:
            _need_cgroup(k, self.cgroup, "oom")
            if not k.cgroups[self.cgroup].memory:
                raise ValueError(f"oom: cgroup {self.cgroup!r} is on the freezer's hierarchy: no memcg to OOM")

    def apply(self, k: Kernel) -> None:
        k.sysrq_oom(self.cgroup)

    def describe(self) -> str:
        return f"memcg OOM in {self.cgroup}" if self.cgroup and self.cgroup != "/" else "sysrq-f: global OOM"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.oom(self.cgroup, events, k)

    def sidestep_target(self, key: str):
        # sysrq-f with no cgroup is the global OOM, the root's
        return "/" if key == "cgroup" and self.cgroup is None else super().sidestep_target(key)


class Kill(Action, tag="kill"):
    pid: int
    command: ClassVar[str] = "kill"
    key_text: ClassVar[str] = "SIGKILL the selected process"
    selects: ClassVar[str] = "pid"

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "kill")

    def apply(self, k: Kernel) -> None:
        k.kill(self.pid, "SIGKILL")

    def describe(self) -> str:
        return f"kill -KILL {self.pid}"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.sent_signal(self.pid, events, k, "SIGKILL")


class Sigterm(Action, tag="sigterm"):
    pid: int
    command: ClassVar[str] = "term"
    key_text: ClassVar[str] = "SIGTERM the selected process"
    selects: ClassVar[str] = "pid"

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "sigterm")

    def apply(self, k: Kernel) -> None:
        k.kill(self.pid, "SIGTERM")

    def describe(self) -> str:
        return f"kill -TERM {self.pid}"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.sent_signal(self.pid, events, k, "SIGTERM")


class _Freezer(Action):
    cgroup: str
    command: ClassVar[str] = "freeze"
    key_text: ClassVar[str] = "freeze or thaw the selected cgroup"
    selects: ClassVar[str] = "cgroup"
    needs_freezer: ClassVar[bool] = True

    def validate(self, k: Kernel) -> None:
        _need_cgroup(k, self.cgroup, do_name(self), freezer=self.needs_freezer)

    def describe(self) -> str:
        return f"{do_name(self)} {self.cgroup}"

    def command_params(self) -> dict:
        return {"cgroup": self.cgroup, "freeze": isinstance(self, Freeze)}


class Freeze(_Freezer, tag="freeze"):
    def apply(self, k: Kernel) -> None:
        k.freeze(self.cgroup)

    def effect(self, events: list, k: Kernel) -> str:
        return fb.froze(self.cgroup, events, k)


class Thaw(_Freezer, tag="thaw"):
    def apply(self, k: Kernel) -> None:
        k.thaw(self.cgroup)

    def effect(self, events: list, k: Kernel) -> str:
        return fb.thawed(self.cgroup, events, k)


class Mrelease(Action, tag="mrelease"):
    pid: int
    flags: Annotated[int, Meta(description="the flags argument")] = 0
    command: ClassVar[str] = "mrelease"
    key_text: ClassVar[str] = "process_mrelease() the selected process"
    selects: ClassVar[str] = "pid"

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "mrelease")

    def apply(self, k: Kernel) -> None:
        k.process_mrelease(self.pid, self.flags)

    def describe(self) -> str:
        return f"process_mrelease(pidfd({self.pid}), {self.flags})"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.mrelease(self.pid, events, k)

    def command_params(self) -> dict:
        return {"pid": self.pid, "flags": self.flags}


class SetAdj(Action, tag="set_adj"):
    pid: int
    value: Annotated[int, Meta(ge=-1000, le=1000, description="the new oom_score_adj")]
    command: ClassVar[str] = "adj"
    key_text: ClassVar[str] = "set the selected process's oom_score_adj"
    selects: ClassVar[str] = "pid"

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "set_adj")

    def apply(self, k: Kernel) -> None:
        k.set_oom_score_adj(self.pid, self.value)

    def describe(self) -> str:
        return f"echo {self.value} > /proc/{self.pid}/oom_score_adj"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.adj(self.pid, events, k)


class SetPolicy(Action, tag="policy"):
    policy: str
    command: ClassVar[str] = "policy"
    key_text: ClassVar[str] = "switch the kernel policy (era)"
    on_selection: ClassVar[bool] = False

    def validate(self, k: Kernel) -> None:
        get_policy(self.policy)

    def apply(self, k: Kernel) -> None:
        k.set_policy(get_policy(self.policy))

    def describe(self) -> str:
        return f"switch kernel policy to {self.policy}"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.policy(k)


class Unlock(Action, tag="unlock"):
    futex: str
    command: ClassVar[str] = "unlock"
    key_text: ClassVar[str] = "unlock the selected thread's futex"

    def validate(self, k: Kernel) -> None:
        if self.futex not in k.futexes:
            raise ValueError(f"unlock: no futex {self.futex!r}")

    def apply(self, k: Kernel) -> None:
        f = k.futexes[self.futex]
        if f.owner_task is None:
            # pthread_mutex_unlock() is the owner's call: an unowned lock has nobody to make it
            raise KernelError(f"{self.futex} is not locked: nothing to unlock")
        futex_unlock(k, f, f.owner_task)

    def describe(self) -> str:
        return f"unlock {self.futex}"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.unlock(self.futex, events, k)


class Move(Action, tag="move"):
    """echo PID > cgroup.procs: the process, every thread, into another cgroup of that cgroup's
    hierarchy. What it has charged stays with the memcg it leaves, unless v1's
    memory.move_charge_at_immigrate moves it along (kernel/core.py move())."""

    pid: int
    cgroup: str
    hierarchy: Annotated[Literal["memory", "freezer"] | None, Meta(description=(
        'which hierarchy `cgroup` is on; only "/" needs it: the freezer\'s own root is cgroup = "/", '
        'hierarchy = "freezer" (default: the memory hierarchy\'s)'))] = None
    command: ClassVar[str] = "move"
    key_text: ClassVar[str] = "move the selected process to another cgroup"
    selects: ClassVar[str] = "pid"

    def validate(self, k: Kernel) -> None:
        _need_pid(k, self.pid, "move")
        if self.cgroup != "/":
            _need_cgroup(k, self.cgroup, "move")
        try:
            k.move_target(self.cgroup, self.hierarchy)
        except KernelError as e:
            raise ValueError(f"move: {e}") from None

    def apply(self, k: Kernel) -> None:
        k.move(self.pid, self.cgroup, self.hierarchy)

    def describe(self) -> str:
        where = "" if self.hierarchy is None else f" ({self.hierarchy} hierarchy)"
        return f"echo {self.pid} > {self.cgroup.rstrip('/')}/cgroup.procs{where}"

    def effect(self, events: list, k: Kernel) -> str:
        return fb.move(self.describe(), events, k)


class Caption(Action, tag="caption"):
    """A [[walkthrough]] step that only shows its caption: a step without `do` is one (scene/load.py)."""

    on_selection: ClassVar[bool] = False


class Step(msgspec.Struct):
    """An autoplay step: at a jiffy, show a caption, optionally do an action, optionally hold for a key."""

    at: int
    caption: str
    action: Action | None = None
    hold: bool = False


AnyAction = Oom | Kill | Sigterm | Freeze | Thaw | Mrelease | SetAdj | SetPolicy | Unlock | Move
ACTIONS: tuple[type[Action], ...] = AnyAction.__args__  # type: ignore[attr-defined]
BY_DO: dict[str, type[Action]] = {do_name(a): a for a in ACTIONS}
AnyStep = AnyAction | Caption
