"""A fake machine for `oomtui watch`'s reader: /proc and cgroup file systems written into a directory.

Each process is given as the numbers its files show; the files are laid out as Linux lays them out
(status fields, oom_score_adj, oom_score, cgroup lines), so the reader cannot tell them from the real ones.
"""

from __future__ import annotations

from pathlib import Path

MEMINFO = "MemTotal:{mem} kB\nMemFree:         1000000 kB\nMemAvailable:    2000000 kB\nSwapTotal:{swap} kB\n"
PSI = "some avg10={some:.2f} avg60=1.50 avg300=0.20 total=123456\nfull avg10={full:.2f} avg60=0.50 avg300=0.10 total=6543\n"


def put(root: Path, path: str, text: str) -> None:
    f = root / path.lstrip("/")
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)


def proc(root: Path, pid: int, comm: str, *, ppid: int = 1, anon: int = 0, file: int = 0, shmem: int = 0,
         swap: int = 0, pte: int = 0, adj: int = 0, score: int = 666, cgroup: str = "0::/\n",
         threads: int = 1, uid: int = 0, mm: bool = True) -> None:
    """A process; sizes in kB as /proc/PID/status prints them. mm=False: a kernel thread (no Rss lines)."""
    status = f"Name:\t{comm}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\n" \
             f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
    if mm:
        status += (f"VmRSS:\t{anon + file + shmem} kB\nRssAnon:\t{anon} kB\nRssFile:\t{file} kB\n"
                   f"RssShmem:\t{shmem} kB\nVmPTE:\t{pte} kB\nVmSwap:\t{swap} kB\n")
    status += f"Threads:\t{threads}\n"
    put(root, f"/proc/{pid}/status", status)
    # statm (pages): size resident shared text lib data 0; a kernel thread's is all zeros
    pages = (anon + file + shmem) // 4
    put(root, f"/proc/{pid}/statm", f"{pages * 2 + pte} {pages} {(file + shmem) // 4} 1 0 {anon // 4} 0\n" if mm else "0 0 0 0 0 0 0\n")
    put(root, f"/proc/{pid}/oom_score_adj", f"{adj}\n")
    put(root, f"/proc/{pid}/oom_score", f"{score}\n")
    put(root, f"/proc/{pid}/cgroup", cgroup)


def machine(root: Path, *, mem_kb: int, swap_kb: int, mountinfo: list[tuple[str, str, str]],
            psi: tuple[float, float] = (2.5, 0.75), swappiness: int = 60) -> None:
    """The machine-wide files; mountinfo as (mount point, fs type, options) rows."""
    put(root, "/proc/meminfo", MEMINFO.format(mem=f"{mem_kb:>16}", swap=f"{swap_kb:>16}"))
    put(root, "/proc/pressure/memory", PSI.format(some=psi[0], full=psi[1]))
    put(root, "/proc/sys/vm/swappiness", f"{swappiness}\n")
    rows = [f"{30 + i} 25 0:{30 + i} / {where} rw,nosuid,nodev,noexec,relatime shared:{i} - {fs} {fs} {opts}"
            for i, (where, fs, opts) in enumerate(mountinfo)]
    put(root, "/proc/self/mountinfo", "\n".join(rows) + "\n")


MiB = 1024  # kB
V1_CG = "9:freezer:{f}\n4:memory:{m}\n0::/\n"
UNLIMITED = "9223372036854771712\n"


def _memcg(root, path: str, limit: str, usage: int, memsw: str = UNLIMITED, failcnt: int = 0, oom_kill: int = 0):
    d = f"/sys/fs/cgroup/memory{path}/"
    put(root, d + "memory.limit_in_bytes", limit)
    put(root, d + "memory.usage_in_bytes", f"{usage}\n")
    put(root, d + "memory.failcnt", f"{failcnt}\n")
    put(root, d + "memory.memsw.limit_in_bytes", memsw)
    put(root, d + "memory.swappiness", "60\n")
    put(root, d + "memory.oom_control", f"oom_kill_disable 0\nunder_oom 0\noom_kill {oom_kill}\n")


def v1_machine(tmp_path: Path) -> Path:
    """The v1 machine of tests/watch/test_reader.py's docstring."""
    machine(tmp_path, mem_kb=8 * 1024 * MiB, swap_kb=1024 * MiB, mountinfo=[
        ("/sys/fs/cgroup/memory", "cgroup", "rw,memory"), ("/sys/fs/cgroup/freezer", "cgroup", "rw,freezer"),
        ("/sys/fs/cgroup/unified", "cgroup2", "rw")])
    _memcg(tmp_path, "", UNLIMITED, 3 << 30)
    _memcg(tmp_path, "/db", f"{512 << 20}\n", 500 << 20, memsw=f"{640 << 20}\n", failcnt=7, oom_kill=1)
    _memcg(tmp_path, "/db/batch", f"{128 << 20}\n", 110 << 20)
    _memcg(tmp_path, "/user", UNLIMITED, 1 << 30)
    for path, pids in (("", "1\n201\n"), ("/db", "100\n101\n"), ("/db/batch", "300\n"), ("/user", "200\n")):
        put(tmp_path, f"/sys/fs/cgroup/memory{path}/cgroup.procs", pids)
    put(tmp_path, "/sys/fs/cgroup/freezer/db/batch/freezer.state", "FROZEN\n")
    put(tmp_path, "/sys/fs/cgroup/freezer/freezer.state", "THAWED\n")
    cg = lambda m, f="/": V1_CG.format(m=m, f=f)  # noqa: E731
    proc(tmp_path, 1, "systemd", ppid=0, anon=10 * MiB, pte=200, score=0, cgroup=cg("/"))
    proc(tmp_path, 2, "kthreadd", ppid=0, mm=False, score=0, cgroup=cg("/"))
    proc(tmp_path, 100, "postgres", anon=300 * MiB, file=20 * MiB, shmem=100 * MiB, pte=1024, adj=-500,
         score=364, cgroup=cg("/db"))
    proc(tmp_path, 101, "pg-worker", ppid=100, anon=150 * MiB, pte=256, score=678, cgroup=cg("/db"))  # kernel: +1
    proc(tmp_path, 200, "chrome", anon=1024 * MiB, pte=2048, adj=300, score=940, cgroup=cg("/user"), threads=30)
    proc(tmp_path, 201, "sshd", anon=2 * MiB, adj=-1000, score=0, cgroup=cg("/"))
    proc(tmp_path, 300, "hog", anon=100 * MiB, swap=10 * MiB, pte=256, score=674, cgroup=cg("/db/batch", "/db/batch"))
    (tmp_path / "proc/301").symlink_to(tmp_path / "gone")  # exited between readdir and open
    (tmp_path / "proc/302").mkdir()  # still there, its files unreadable (hidepid=, an LSM)
    return tmp_path
