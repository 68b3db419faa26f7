"""Kernel versions and the rules that changed with them.

The model never branches on a policy's name; policy records carry a representative
kernel version, and the version-dependent rules (victim selection, dmesg formats,
syscalls that exist) are looked up here.
"""

from __future__ import annotations

import msgspec


class KernelVersion(msgspec.Struct, frozen=True, order=True):
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> "KernelVersion":
        """Parse "6.18", "5.15.158-2-pve", "3.10.0-514.el7" or "v4.19"."""
        t = text.strip().lstrip("vV")
        parts = t.replace("-", ".").split(".")
        try:
            return cls(int(parts[0]), int(parts[1]))
        except (ValueError, IndexError):
            raise ValueError(f"not a kernel version: {text!r} (expected MAJOR.MINOR, e.g. 6.18)") from None

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def at_least(self, major: int, minor: int) -> bool:
        return (self.major, self.minor) >= (major, minor)

    # --- victim selection (mm/oom_kill.c) ---------------------------------
    @property
    def signed_badness(self) -> bool:
        """5.9 "mm, oom: make the calculation of oom badness more accurate": signed long,
        LONG_MIN for ineligible, no clamp. Before: unsigned, ineligible 0, eligible >= 1."""
        return self.at_least(5, 9)

    @property
    def leader_tie_break(self) -> bool:
        """<=5.x oom_evaluate_task: "prefer thread group leaders for display purposes" kept
        the first-scanned process on equal points. Removal release is UNCONFIRMED. kernel-model.md
        disagrees with itself: 1.2 says it is gone by 5.8 (S9: "at least 5.8+: Y"), while S9 also says
        <=5.8 picks the first scanned when every score clamps to 1, which needs the tie-break. We keep
        it until 5.9, where both the clamp and the tie-break are certainly gone."""
        return not self.at_least(5, 9)

    @property
    def sacrifice_child(self) -> bool:
        """Pre-5.1 oom_kill_process killed the victim's largest child instead ("or sacrifice child")."""
        return not self.at_least(5, 1)

    # --- the reaper and the exit path -------------------------------------
    @property
    def oom_adj_follows_shared_mm(self) -> bool:
        """__set_oom_adj() updates every process sharing the mm: unconditionally when it is shared since
        ~4.8 (UNCONFIRMED), via MMF_MULTIPROCESS since 5.10 - the same processes in this model."""
        return self.at_least(4, 8)

    @property
    def reaps_mlocked(self) -> bool:
        """5.18 a213e5cf71cb "mm/munlock: delete munlock_vma_pages_all(), allow oomreap"."""
        return self.at_least(5, 18)

    @property
    def has_process_mrelease(self) -> bool:
        """process_mrelease(2), syscall 448, since 5.15."""
        return self.at_least(5, 15)

    @property
    def has_oom_reaper(self) -> bool:
        """4.6 "mm, oom: introduce oom reaper"."""
        return self.at_least(4, 6)

    # --- cgroups ------------------------------------------------------------
    @property
    def moves_charge_at_immigrate(self) -> bool:
        """cgroup v1's memory.move_charge_at_immigrate: mem_cgroup_can_attach() moves a migrating mm
        owner's charges to the destination memcg when that memcg's flag is set (2.6.34 "memcg: add
        interface to move charge at task migration"; a plain "2.6" cannot say it is 2.6.34 or later, so
        from 3.0 here). "mm: memcontrol: deprecate charge moving" (da34a8484d16, 6.3, backported to the
        stable kernels) warns once on a write; 6.13's "memcg-v1: fully deprecate move_charge_at_immigrate"
        (aa6b4fdf5940) and "memcg-v1: remove charge move code" (6b611388b626) keep the file, but it reads
        0 and mem_cgroup_move_charge_write() takes only 0: EINVAL otherwise (measured on this project's
        6.18, docs/cgroups.md)."""
        return self.at_least(3, 0) and not self.at_least(6, 13)

    @property
    def move_charge_skips_pages_mapped_elsewhere(self) -> bool:
        """get_mctgt_type(): a file or shmem page in the moving task's range that is not present in its
        page table, but mapped by another task, stays charged where it is; before, it moved too. 6.3
        "mm: memcontrol: skip moving non-present pages that are mapped elsewhere" (4e0cf05f6059)."""
        return self.at_least(6, 3)

    @property
    def swapaccount_optional(self) -> bool:
        """Swap accounting could be off until 6.2: booted with swapaccount=0, or built without
        CONFIG_MEMCG_SWAP (or, before 5.8, without CONFIG_MEMCG_SWAP_ENABLED and no swapaccount=1). 6.2's
        "mm: memcontrol: deprecate swapaccounting=0 mode" (b25806dcd3d5) leaves do_memsw_account() as
        !cgroup_subsys_on_dfl() alone: swapaccount=0 only warns, and CONFIG_MEMCG_SWAP is gone (e55b9f96860f)."""
        return not self.at_least(6, 2)

    @property
    def has_memcg_swap_max(self) -> bool:
        """cgroup v2's memory.swap.max, and mem_cgroup_get_limit() capping a memcg OOM's swap headroom with it:
        4.5's "mm: memcontrol: charge swap to cgroup2" (Vladimir Davydov). Before, cgroup v2 (a development-only
        mount option) had no swap counter, and its memsw limit file is cgroup v1's alone."""
        return self.at_least(4, 5)

    @property
    def tracks_swap_owner_unaccounted(self) -> bool:
        """The swap_cgroup record of who owns a swap entry is kept with swap accounting off too, so
        mc_handle_swap_pte() offers the entry to a charge move: 5.8's "mm: memcontrol: make swap tracking
        an integral part of memory control" (2d1c498072de). Before, `if (do_memsw_account()) entry->val =
        ent.val`: without accounting no swap entry was counted or moved."""
        return self.at_least(5, 8)

    # --- dmesg formats (kernel-model.md 2.5) -----------------------------
    @property
    def kill_line_prefix(self) -> bool:
        """5.1 added the "%s: " message prefix to "Killed process"."""
        return self.at_least(5, 1)

    @property
    def kill_line_uid_pgtables(self) -> bool:
        """5.4 added "UID:%u pgtables:%lukB oom_score_adj:%hd"."""
        return self.at_least(5, 4)

    @property
    def memcg_oom_info_per_hierarchy(self) -> bool:
        """A memcg OOM of cgroup v2 prints "swap:" instead of v1's "memory+swap:" and "kmem:" lines: 5.3's "mm:
        memcontrol: dump memory.stat during cgroup OOM" (c8713d0b2312; mem_cgroup_print_oom_meminfo() printed the
        v1 lines on both hierarchies before)."""
        return self.at_least(5, 3)

    @property
    def has_oom_kill_summary(self) -> bool:
        """5.0 "mm, oom: reorganize the oom report in dump_header" added the oom-kill: line."""
        return self.at_least(5, 0)

    @property
    def cpu_line_has_uid(self) -> bool:
        """dump_stack_print_info() prints "UID: %u" after the CPU from 6.12 on (the 6.11.0-10669 build of
        the 6.12 merge window in shared/fixtures has it; 6.11 itself UNCONFIRMED)."""
        return self.at_least(6, 12)

    @property
    def cpu_line_has_preempt_model(self) -> bool:
        """6.15 "lib/dump_stack: Use preempt_model_str()" appends the preemption model and a space."""
        return self.at_least(6, 15)

    @property
    def header_has_nodemask(self) -> bool:
        """4.x "invoked oom-killer" line carried nodemask=...; 5.0 moved it to the oom-kill: line."""
        return not self.at_least(5, 0)

    @property
    def dump_tasks_format(self) -> str:
        """Which task-dump table dump_tasks() prints: "2.6.36", "3.6", "4.0", "4.15", "4.19" or "6.8".
        3.6 "mm, oom: replace some information in tasklist dump" swapped `cpu oom_adj` for `nr_ptes swapents`
        (kernel-model.md 1.7); 4.0 "mm: account pmd page tables to the process" (dc6c9a35b66b) added nr_pmds (a
        4.0.0-rc1 report prints it); 4.15 "mm: consolidate page table accounting" (af5b0f6a09e4) made them
        pgtables_bytes. No release printed nr_puds: "mm: account pud page tables" was posted after the 4.14 merge
        window and merged with the consolidation (explain still reads the linux-next table)."""
        if self.at_least(6, 8):
            return "6.8"
        if self.at_least(4, 19):
            return "4.19"
        if self.at_least(4, 15):
            return "4.15"
        if self.at_least(4, 0):
            return "4.0"
        return "3.6" if self.at_least(3, 6) else "2.6.36"

    # --- /proc/PID/oom_score ---------------------------------------------
    @property
    def oom_score_scaled_2000(self) -> bool:
        """5.9+: (1000 + badness*1000/totalpages) * 2 / 3; before: badness*1000/totalpages."""
        return self.at_least(5, 9)
