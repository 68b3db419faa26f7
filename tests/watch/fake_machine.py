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
