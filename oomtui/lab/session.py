"""One experiment's sandbox: its cgroups, its kernel-log reader and its child processes."""

from __future__ import annotations

import signal

from .cgroup import LabGroups
from .kmsg import Kmsg, OomLines, oom_lines
from .procs import Child

STARTUP_TIMEOUT_S = 15.0  # a Python child must print `ready` within this
_TEARDOWN_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class Session:
    """`with Session("memcg-oom", limit_mib=64) as s: hog = s.spawn("hog", "hog", 0, 1)`.

    Exit (normal, exception or Ctrl-C): thaw, kill and reap every child, remove the groups.
    Signals are held back during the teardown so a second Ctrl-C cannot leave a group behind.
    """

    def __init__(self, tag: str, limit_mib: int, *, unified: bool = False) -> None:
        self.groups = LabGroups(tag, limit_mib, unified=unified)
        self.children: list[Child] = []
        self.grandchildren: dict[int, str] = {}  # pid -> name: processes a child cloned (in its groups)
        self.kmsg: Kmsg | None = None

    def __enter__(self) -> "Session":
        self.kmsg = Kmsg()
        try:
            self.groups.create()
        except BaseException:
            self.kmsg.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _TEARDOWN_SIGNALS)
        try:
            if self.groups.freezer.exists():
                self.groups.thaw()  # v1-frozen tasks cannot act on SIGKILL until thawed
            for c in self.children:
                c.close()
            self.groups.teardown()
            if self.kmsg is not None:
                self.kmsg.close()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)

    def spawn(self, name: str, role: str, *args: object, frozen_group: bool = False, unified: bool = False,
              pass_fds: tuple[int, ...] = ()) -> Child:
        """Start a child, move it into the memcg (and the freezer group, the cgroup2 group), then let it run."""
        c = Child(name, role, *args, pass_fds=pass_fds)
        self.children.append(c)
        c.expect("ready", STARTUP_TIMEOUT_S)
        self.groups.add(c.pid, frozen_group=frozen_group, unified=unified)
        c.go()
        return c

    def log(self) -> Kmsg:
        assert self.kmsg is not None
        return self.kmsg

    def oom_lines(self) -> OomLines:
        """The OOM killer/reaper lines logged so far about this session's children."""
        kmsg = self.log()
        kmsg.poll()
        names = {c.pid: c.name for c in self.children} | self.grandchildren
        return oom_lines(kmsg.lines, set(names), {f"lab-{n}" for n in names.values()})

    def pids(self) -> set[int]:
        return {c.pid for c in self.children} | set(self.grandchildren)

    def adopt(self, pid: int, name: str) -> None:
        """A process one of the children cloned (comm lab-NAME): it counts as the session's own."""
        self.grandchildren[pid] = name

    def role_of(self, pid: int | None) -> str | None:
        """The child name of a pid ("hog", "victim" ...), "outsider" for a pid that is not ours."""
        if pid is None:
            return None
        return next((c.name for c in self.children if c.pid == pid), self.grandchildren.get(pid, "outsider"))
