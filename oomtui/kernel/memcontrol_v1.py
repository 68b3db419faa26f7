"""Charge moving at task migration, cgroup v1's memory.move_charge_at_immigrate: mm/memcontrol-v1.c in
6.11-6.12, mm/memcontrol.c before (mem_cgroup_can_attach(), mem_cgroup_move_charge()). Gone from 6.13
("memcg-v1: remove charge move code", 6b611388b626): there a move leaves every charge behind (core.py
Kernel.move, version.py moves_charge_at_immigrate).

The knob's bits: MOVE_ANON (1) the task's anonymous pages and their swap entries, MOVE_FILE (2) the file and
tmpfs/shmem pages in the ranges it maps. Only pages charged to the memcg it leaves move (folio_memcg() ==
mc.from). The model's memcgs hold anonymous pages and [[shm]] objects; it keeps no page cache, so MOVE_FILE
moves shm pages only. Swap entries are charged to no memcg in the model (it has no memsw counter), but
they count in the precharge: mem_cgroup_do_precharge() charges the destination's memory counter for every
page and swap entry that will move, and only __mem_cgroup_clear_mc() takes the swap ones off it again.
With swap accounting off (Kernel.do_swap_account: swapaccount=0 before 6.2) no swap entry counts or moves
before 5.8; from 5.8 the swap_cgroup record is kept all the same and they move as with it on
(KernelVersion.tracks_swap_owner_unaccounted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .state import Cgroup, MmStruct, ShmObject

if TYPE_CHECKING:
    from .core import Kernel

MOVE_ANON = 0x1
MOVE_FILE = 0x2


class MoveCharge:
    """struct move_charge_struct `mc` for one migration: what will move, and the precharge it needs."""

    __slots__ = ("frm", "to", "anon", "shm", "swap", "precharge")

    def __init__(self, frm: Cgroup, to: Cgroup):
        self.frm = frm
        self.to = to
        self.anon = 0  # anonymous pages charged to frm
        self.shm: dict[ShmObject, list[tuple[int, int]]] = {}  # page ranges of each object that move
        self.swap = 0  # swap entries recorded to frm
        self.precharge = 0  # pages mem_cgroup_count_precharge() counts


def mem_cgroup_count_precharge(k: "Kernel", mm: MmStruct, to: Cgroup, flags: int) -> MoveCharge:
    """The page-table walk of mem_cgroup_count_precharge_pte_range(): every pte whose page (or swap entry)
    get_mctgt_type() finds charged to mc.from, counted per mapping; and, for mem_cgroup_move_charge(), the
    pages that will move."""
    mc = MoveCharge(mm.memcg, to)
    if flags & MOVE_ANON:
        # mc_handle_present_pte(): PageAnon pages; those charged before an earlier move stay where they are
        mc.anon = sum(v.rss - k.precharged_pages(v) for v in mm.vmas if v.is_anonymous)
        # mc_handle_swap_pte(): an entry whose swap_cgroup record is mc.from, once there is such a record
        recorded = k.do_swap_account or k.policy.version.tracks_swap_owner_unaccounted
        mc.swap = mm.swapents if recorded and k.swap_owner.get(mm, mm.memcg) is mm.memcg else 0
    mc.precharge = mc.anon + mc.swap
    if flags & MOVE_FILE:
        reach: dict[ShmObject, tuple[int, int]] = {}  # per object: (pages mapped, pages resident) here
        for v in mm.vmas:
            obj = v.shm
            if obj is None:
                continue  # a file mapping: its page cache is charged to no memcg in the model
            mapped = min(v.pages, obj.pages)  # the model maps an object from offset 0
            # mc_handle_present_pte() / mc_handle_file_pte(): the whole mapped range counts, faulted in
            # here or not, once for each mapping of it
            mc.precharge += charged_in(obj.charges, mc.frm, 0, mapped)
            was = reach.get(obj, (0, 0))
            reach[obj] = (max(was[0], mapped), max(was[1], min(v.rss, mapped)))
        for obj, (mapped, resident) in reach.items():
            ranges = [(0, mapped)]
            if k.policy.version.move_charge_skips_pages_mapped_elsewhere:
                # get_mctgt_type(): a page not present in this pte but mapped by another task is
                # skipped. The model's mappings fault an object from its start, so another's resident
                # pages are its first ones
                elsewhere = max((w.rss for other in k.mms if other is not mm for w in other.vmas
                                 if w.shm is obj), default=0)
                if elsewhere > resident:
                    ranges = [(0, resident), (min(elsewhere, mapped), mapped)]
            mc.shm[obj] = [r for r in ranges if r[0] < r[1]]
    return mc


def mem_cgroup_move_charge(k: "Kernel", mm: MmStruct, mc: MoveCharge) -> tuple[int, int]:
    """mem_cgroup_move_charge_pte_range() -> mem_cgroup_move_account(): each page found charged to
    mc.from is charged to mc.to; mem_cgroup_move_swap_account() rewrites the swap entries' owner.
    Returns (pages moved, swap entries moved)."""
    moved = mc.anon
    for obj, ranges in mc.shm.items():
        for lo, hi in ranges:
            moved += recharge(obj.charges, mc.frm, mc.to, lo, hi)
    if moved:
        k.charge_pages(mc.frm, -moved, global_pages=0)
        k.charge_pages(mc.to, moved, global_pages=0)
    if mc.swap:
        k.swap_owner.pop(mm, None)  # they belong to the mm's memcg (mc.to) again
    return moved, mc.swap


def leave_swap_behind(k: "Kernel", mm: MmStruct, to: Cgroup) -> None:
    """A move that does not take the swap charges: the entries stay recorded to the memcg they were
    charged in (swap_cgroup), until they are freed."""
    if not mm.swapents:
        return
    owner = k.swap_owner.get(mm, mm.memcg)
    if owner is to:
        k.swap_owner.pop(mm, None)
    else:
        k.swap_owner[mm] = owner


def charged_in(segs: list[list], memcg: Cgroup, lo: int, hi: int) -> int:
    """Pages at offsets lo..hi of an object charged to `memcg` (segs: [memcg, pages] in offset order)."""
    n, pos = 0, 0
    for cg, pages in segs:
        if cg is memcg:
            n += max(0, min(pos + pages, hi) - max(pos, lo))
        pos += pages
    return n


def recharge(segs: list[list], frm: Cgroup, to: Cgroup, lo: int, hi: int) -> int:
    """The pages at offsets lo..hi charged to `frm` now charged to `to`; returns how many. cgroup v1
    move_charge_at_immigrate (mem_cgroup_can_attach() -> mem_cgroup_move_charge()): per pte,
    get_mctgt_type() picks a page only if folio_memcg() == mc.from, and mem_cgroup_move_account() moves
    it; the pages of the range charged elsewhere stay where they are."""
    out: list[list] = []
    moved = pos = 0
    for cg, pages in segs:
        a, b = pos, pos + pages
        pos = b
        x, y = max(a, lo), min(b, hi)
        parts = [[cg, pages]]
        if cg is frm and x < y:  # this segment's pages in lo..hi are mc.from's: they move
            parts = [[cg, x - a], [to, y - x], [cg, b - y]]
            moved += y - x
        for part in parts:
            if not part[1]:
                continue
            if out and out[-1][0] is part[0]:
                out[-1][1] += part[1]
            else:
                out.append(part)
    segs[:] = out
    return moved
