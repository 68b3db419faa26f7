"""Kernel policies (eras): data the model consults. The model never branches on a policy's id.

kernel-model.md section 9. Each record names the reaper-delay rule, the thaw rule, the VMA walk
order, process_mrelease's robust-futex rule and a representative kernel version, which decides
the version-dependent rules in version.py (victim selection, dmesg formats, syscalls).
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .version import KernelVersion

# When queue_oom_reaper() lets the reaper start for a victim:
#   "immediate"     4.6-5.17 wake_oom_reaper(): pushed on the list at kill time
#   "fixed"         5.18+ timer at jiffies + OOM_REAPER_DELAY (2*HZ)
#   "robust_only"   seed v4: 2*HZ if any thread of the victim or an mm sharer has a robust list, else 0
#   "unless_frozen" Michal's proposal as intended: 0 if the victim is frozen/freezing (v1), else 2*HZ
ReaperDelay = Literal["immediate", "fixed", "robust_only", "unless_frozen"]


class Policy(msgspec.Struct, frozen=True):
    id: str
    title: str
    kernels: str
    summary: str
    version: KernelVersion
    reaper_delay: ReaperDelay
    # mark_oom_victim(): 6.18 thaw_process() + tsk_is_oom_victim() in freezing_slow_path() (whole
    # process); before: __thaw_task() on the one marked thread, exempt by TIF_MEMDIE.
    thaw_whole_process: bool
    # __oom_reap_task_mm(): 6.18 mas_for_each_rev (high addresses first); before: forward.
    reverse_vma_walk: bool
    # seed v4 process_mrelease(): `if (!reap || delay_reap) goto drop_mm;` -> 0 without reaping.
    mrelease_skips_robust: bool = False
    # The rejected idea (Davidlohr Bueso, Aug 2025): never queue the reaper for robust-futex users.
    never_reap_robust: bool = False

    def with_version(self, version: KernelVersion) -> "Policy":
        return msgspec.structs.replace(self, version=version)


POLICIES: dict[str, Policy] = {
    p.id: p
    for p in [
        Policy(
            id="linux-4.6",
            title="reaper queued at once",
            kernels="4.6 - 5.17",
            summary="The OOM reaper is woken at kill time and zaps the victim's private memory at once.",
            version=KernelVersion(4, 19),
            reaper_delay="immediate",
            thaw_whole_process=False,
            reverse_vma_walk=False,
        ),
        Policy(
            id="linux-5.18",
            title="2 s delay for every victim",
            kernels="5.18 - 6.17",
            summary="OOM_REAPER_DELAY (2*HZ) gives every victim time to run futex cleanup before the reaper.",
            version=KernelVersion(6, 6),
            reaper_delay="fixed",
            thaw_whole_process=False,
            reverse_vma_walk=False,
        ),
        Policy(
            id="robust-delay",
            title="seed v4: delay only robust-futex users",
            kernels="proposed Aug 2025, not merged",
            summary="Delay the reaper only if a thread of the victim (or an mm sharer) registered a robust list; "
            "process_mrelease then returns 0 without reaping.",
            version=KernelVersion(6, 17),
            reaper_delay="robust_only",
            thaw_whole_process=False,
            reverse_vma_walk=True,
            mrelease_skips_robust=True,
        ),
        Policy(
            id="reap-frozen",
            title="Michal's proposal: no delay for frozen victims",
            kernels="proposed Aug 2025, not merged",
            summary="No delay when the victim is frozen or freezing (cgroup v1): it cannot clean up anyway.",
            version=KernelVersion(6, 17),
            reaper_delay="unless_frozen",
            thaw_whole_process=False,
            reverse_vma_walk=False,
        ),
        Policy(
            id="linux-6.18",
            title="what merged: thaw the whole victim",
            kernels="6.18+",
            summary="mark_oom_victim() thaws every thread of the victim; 2 s delay; the reaper walks VMAs in reverse.",
            version=KernelVersion(6, 18),
            reaper_delay="fixed",
            thaw_whole_process=True,
            reverse_vma_walk=True,
        ),
        Policy(
            id="never-reap-robust",
            title="rejected: never reap robust-futex users",
            kernels="hypothetical",
            summary="The reaper skips robust-futex users: a frozen victim then blocks every later OOM kill (livelock).",
            version=KernelVersion(6, 17),
            reaper_delay="fixed",
            thaw_whole_process=False,
            reverse_vma_walk=False,
            never_reap_robust=True,
        ),
    ]
}

DEFAULT_POLICY = "linux-6.18"


def policy_for_version(v: KernelVersion) -> str:
    """The policy a real kernel of version v runs: < 5.18 linux-4.6 (also for kernels before 4.6, whose
    missing reaper version.has_oom_reaper handles), 5.18-6.17 linux-5.18, >= 6.18 linux-6.18."""
    if v.at_least(6, 18):
        return "linux-6.18"
    if v.at_least(5, 18):
        return "linux-5.18"
    return "linux-4.6"


def policy_for_release(release: str) -> str:
    """The policy of a kernel release string (`os.uname().release`, "6.8.0-31-generic")."""
    return policy_for_version(KernelVersion.parse(release))


def kernel_of_release(release: str) -> str:
    """The model's `kernel` ("6.8") of a kernel release string."""
    v = KernelVersion.parse(release)
    return f"{v.major}.{v.minor}"


def get_policy(policy_id: str, kernel: str | None = None) -> Policy:
    """Look up a policy; `kernel` ("5.15") overrides its representative version."""
    try:
        policy = POLICIES[policy_id]
    except KeyError:
        from difflib import get_close_matches

        hint = get_close_matches(policy_id, POLICIES, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(f"unknown policy {policy_id!r}{did}; expected one of: {', '.join(POLICIES)}") from None
    if kernel:
        policy = policy.with_version(KernelVersion.parse(kernel))
    return policy
