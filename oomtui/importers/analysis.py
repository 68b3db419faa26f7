"""Why memory ran out, from a report's Mem-Info, zones, memcg lines and allocation header.

What OOMAnalyser reads from a report (memory summary, GFP flags, the watermark check, fragmentation, memcg usage,
platform) plus a diagnosis (`cause`) and what to do about it on that machine (`advice`). The victim selection is
oomtui.importers.explain; this module only reads what the kernel printed about memory.
"""

from __future__ import annotations

import re
from functools import lru_cache
from operator import attrgetter

import msgspec

from ..kernel.version import KernelVersion
from ..scene.units import fmt_size
from .facts import kills_allocating_task, unlimited
from .report import OomReport, TaskRow, Zone, node_list

# --- GFP flags -------------------------------------------------------------------------------------------------

# Bits that kept their value in every era since 2.6: the zone modifiers and __GFP_HIGH (include/linux/gfp.h).
GFP_DMA, GFP_HIGHMEM, GFP_DMA32, GFP_MOVABLE, GFP_HIGH = 0x01, 0x02, 0x04, 0x08, 0x20
# __GFP_RECLAIMABLE moved in 4.4 (0x80000 before, where 0x10 was __GFP_WAIT)
GFP_RECLAIMABLE, GFP_RECLAIMABLE_3_10 = 0x10, 0x80000

# The flag bits of 3.10 (include/linux/gfp.h at v3.10), for reports printed before 4.5, whose header shows the
# mask as a number only (%pGg names came with 4.5). The bits were renumbered in 4.4 (__GFP_WAIT split into
# __GFP_DIRECT_RECLAIM|__GFP_KSWAPD_RECLAIM), so this table is used for 3.x-4.3 only.
GFP_BITS_3_10 = {
    0x01: "__GFP_DMA", 0x02: "__GFP_HIGHMEM", 0x04: "__GFP_DMA32", 0x08: "__GFP_MOVABLE", 0x10: "__GFP_WAIT",
    0x20: "__GFP_HIGH", 0x40: "__GFP_IO", 0x80: "__GFP_FS", 0x100: "__GFP_COLD", 0x200: "__GFP_NOWARN",
    0x400: "__GFP_REPEAT", 0x800: "__GFP_NOFAIL", 0x1000: "__GFP_NORETRY", 0x2000: "__GFP_MEMALLOC",
    0x4000: "__GFP_COMP", 0x8000: "__GFP_ZERO", 0x10000: "__GFP_NOMEMALLOC", 0x20000: "__GFP_HARDWALL",
    0x40000: "__GFP_THISNODE", 0x80000: "__GFP_RECLAIMABLE", 0x100000: "__GFP_KMEMCG", 0x200000: "__GFP_NOTRACK",
    0x400000: "__GFP_NO_KSWAPD", 0x800000: "__GFP_OTHER_NODE", 0x1000000: "__GFP_WRITE",
}  # fmt: skip
GFP_COMPOSITES_3_10 = [  # the largest first, as %pGg names them
    ("GFP_HIGHUSER_MOVABLE", 0x200DA), ("GFP_HIGHUSER", 0x200D2), ("GFP_USER", 0x200D0),
    ("GFP_TEMPORARY", 0x800D0), ("GFP_KERNEL", 0xD0), ("GFP_NOFS", 0x50), ("GFP_NOIO", 0x10), ("GFP_ATOMIC", 0x20),
]  # fmt: skip


# The flag bits of 4.4 (include/linux/gfp.h at v4.4: __GFP_WAIT split into __GFP_DIRECT_RECLAIM and
# __GFP_KSWAPD_RECLAIM, __GFP_ATOMIC and __GFP_NOACCOUNT new), for 4.4 kernels, which still print the mask as a
# number; 4.4-rc-next's %pGg names agree ("0x24000c0(GFP_KERNEL)", "0x24280ca(GFP_HIGHUSER_MOVABLE|GFP_ZERO)").
GFP_BITS_4_4 = {
    0x01: "__GFP_DMA", 0x02: "__GFP_HIGHMEM", 0x04: "__GFP_DMA32", 0x08: "__GFP_MOVABLE", 0x10: "__GFP_RECLAIMABLE",
    0x20: "__GFP_HIGH", 0x40: "__GFP_IO", 0x80: "__GFP_FS", 0x100: "__GFP_COLD", 0x200: "__GFP_NOWARN",
    0x400: "__GFP_REPEAT", 0x800: "__GFP_NOFAIL", 0x1000: "__GFP_NORETRY", 0x2000: "__GFP_MEMALLOC",
    0x4000: "__GFP_COMP", 0x8000: "__GFP_ZERO", 0x10000: "__GFP_NOMEMALLOC", 0x20000: "__GFP_HARDWALL",
    0x40000: "__GFP_THISNODE", 0x80000: "__GFP_ATOMIC", 0x100000: "__GFP_NOACCOUNT", 0x200000: "__GFP_NOTRACK",
    0x400000: "__GFP_DIRECT_RECLAIM", 0x800000: "__GFP_OTHER_NODE", 0x1000000: "__GFP_WRITE",
    0x2000000: "__GFP_KSWAPD_RECLAIM",
}  # fmt: skip
GFP_COMPOSITES_4_4 = [
    ("GFP_HIGHUSER_MOVABLE", 0x24200CA), ("GFP_HIGHUSER", 0x24200C2), ("GFP_USER", 0x24200C0),
    ("GFP_TEMPORARY", 0x24000D0), ("GFP_KERNEL", 0x24000C0), ("GFP_NOFS", 0x2400040), ("GFP_NOIO", 0x2400000),
    ("GFP_ATOMIC", 0x2080020),
]  # fmt: skip


def gfp_flags(gfp_mask: str, version: KernelVersion | None) -> tuple[list[str] | None, str]:
    """The flag names of a printed gfp_mask ("0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)" or "0x201da"), and
    where they come from."""
    names, source = _gfp_names(gfp_mask, version)
    return (None if names is None else list(names)), source


@lru_cache(maxsize=1024)
def gfp_value(gfp_mask: str) -> int:
    """The number of a printed gfp_mask ("0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)" or "0x201da")."""
    return int(gfp_mask.split("(")[0], 16)


# an archive's reports print the same few masks: each decoded once (a list of its own for each report)
@lru_cache(maxsize=1024)
def _gfp_names(gfp_mask: str, version: KernelVersion | None) -> tuple[tuple[str, ...] | None, str]:
    if "(" in gfp_mask:
        names = gfp_mask[gfp_mask.index("(") + 1 : gfp_mask.rindex(")")] if ")" in gfp_mask else ""
        return tuple(n.strip() for n in names.split("|") if n.strip()), "as printed (%pGg)"
    if version is not None and version.at_least(4, 5):
        return None, "the mask is printed as a number and this era's flag table is not known to oomtui"
    table, composites, source = GFP_BITS_3_10, GFP_COMPOSITES_3_10, "the 3.10 flag table (3.x to 4.3)"
    if version is not None and version.at_least(4, 4):
        table, composites, source = GFP_BITS_4_4, GFP_COMPOSITES_4_4, "the 4.4 flag table"
    mask = int(gfp_mask, 16)
    out = []
    for name, bits in composites:
        if mask & bits == bits:
            out.append(name)
            mask &= ~bits
            break
    for bit, name in table.items():
        if mask & bit:
            out.append(name)
            mask &= ~bit
    if mask:
        out.append(hex(mask))
    return tuple(out), f"decoded with {source}: kernels before 4.5 print the mask as a number"


# --- zones and the watermark check ------------------------------------------------------------------------------

ZONE_ORDER = ["DMA", "DMA32", "Normal", "HighMem", "Movable", "Device"]


class ZoneCheck(msgspec.Struct, kw_only=True):
    node: int
    zone: str
    free_kb: int
    min_kb: int | None
    low_kb: int | None
    high_kb: int | None
    reserve_kb: int  # lowmem_reserve[highest_zoneidx]: what this zone keeps back from a request for a higher zone
    below: str | None  # the lowest watermark the request fails here: "min", "low", "high"; None: passes all
    free_block: bool | None  # a free block of the request's order (None: no buddy line)
    free_blocks: list[int] | None = None  # the buddy line: free blocks of order 0, 1, ...
    highatomic_kb: int = 0  # the highatomic reserve the check counted as unusable (see _highatomic_kb)
    highatomic_decides: bool = False  # without it the zone would pass the watermark the verdict names
    free_cma_kb: int = 0  # free pages of CMA pageblocks the check did not count (a request that is not movable)
    cma_blocks_only: bool = False  # the blocks of the request's order are all CMA ("C"), which it may not use


class Allocation(msgspec.Struct, kw_only=True):
    gfp_mask: str | None
    gfp_flags: list[str] | None
    gfp_flags_source: str
    order: int | None
    size_kb: int | None  # PAGE_SIZE << order
    zone: str | None  # the highest zone the request may use (gfp_zone())
    verdict: str | None  # against the low watermark, as OOMAnalyser checks it; None: a manual OOM
    last_attempt: str | None  # what the kernel's last try before the OOM checked: the high watermark
    fragmentation: str  # "not fragmented", "fragmented", "unknown"
    zones: list[ZoneCheck] = []


def _zone_target(gfp: int, r: OomReport) -> str:
    """gfp_zone(): the highest zone a request may use. __GFP_HIGHMEM|__GFP_MOVABLE -> ZONE_MOVABLE (then every
    lower zone), __GFP_HIGHMEM -> HighMem on a 32-bit highmem kernel, Normal on 64-bit."""
    if gfp & GFP_DMA:
        return "DMA"
    if gfp & GFP_DMA32:
        return "DMA32"
    if gfp & GFP_HIGHMEM and gfp & GFP_MOVABLE:
        return "Movable"
    if gfp & GFP_HIGHMEM and r.highmem:
        return "HighMem"
    return "Normal"


def _configured_zones(r: OomReport) -> tuple[str, ...]:
    """The zone indexes of the kernel (lowmem_reserve[] has one entry per configured zone): DMA32 on 64-bit, HighMem
    on 32-bit highmem kernels, Movable always; Device fills the array where it is longer."""
    return _ZONE_INDEXES[bool(r.highmem), not r.highmem or any(z.name == "DMA32" for z in r.zones)]


_ZONE_INDEXES = {(highmem, dma32): ("DMA",) + (("DMA32",) if dma32 else ()) + ("Normal",)
                 + (("HighMem",) if highmem else ()) + ("Movable", "Device")
                 for highmem in (False, True) for dma32 in (False, True)}  # fmt: skip


def _highatomic_kb(z: Zone) -> int:
    """The highatomic reserve __zone_watermark_ok() takes from free pages (4.4, 0aaa29a56e4f: "if the caller does not
    have rights to ALLOC_HARDER then subtract the high-atomic reserves"; __zone_watermark_unusable_free() since 5.9).
    Since "mm/page_alloc: keep track of free highatomic" (c928807f6f6b, 6.13: release not checked against a tree
    here) it takes only the reserve's free pages (nr_free_highatomic), which "mm: add nr_free_highatomic in
    show_free_areas" (posted April 2025, so 6.16 at the earliest, not 6.19) prints as free_highatomic: then that;
    else reserved_highatomic (exact before c928807f6f6b, at most that after)."""
    return z.free_highatomic_kb if z.free_highatomic_kb is not None else z.reserved_highatomic_kb or 0


def _has_block(z: Zone, order: int, movable: bool, reserves: bool) -> bool | None:
    """__zone_watermark_ok()'s free-list test of an order > 0 request: a free block of that order or more, of an
    ordinary migrate type (unmovable U, movable M, reclaimable E), of CMA (C) only with ALLOC_CMA (a movable
    request), of the highatomic reserve (H) only with reserves. Without the buddy line's type letters (before 3.x,
    or cut), any block counts. None: no buddy line."""
    if z.free_blocks is None:
        return None
    if order <= 0:
        return True
    if z.block_types is None or len(z.block_types) != len(z.free_blocks):
        return any(z.free_blocks[order:])
    usable = "UME" + ("C" if movable else "") + ("H" if reserves else "")
    return any(n and (not t or any(c in usable for c in t))
               for n, t in zip(z.free_blocks[order:], z.block_types[order:]))  # fmt: skip


def _check_zone(z: Zone, order: int, page_kb: int, idx: int, harder: bool, reserves: bool,
                movable: bool = False) -> ZoneCheck:  # fmt: skip
    """__zone_watermark_ok(): free minus (1 << order) - 1 pages must stay above mark + lowmem_reserve; an order > 0
    request also needs a free block of that order. __GFP_HIGH (ALLOC_HIGH) halves the mark. Free pages count without
    the highatomic reserve unless the request may use reserves (`reserves`: __GFP_HIGH is ALLOC_MIN_RESERVE, part of
    ALLOC_RESERVES since 6.3; a request that can wait, as every one that reaches the OOM killer, is never
    ALLOC_HARDER before that)."""
    reserve = (z.lowmem_reserve or [])
    reserve_kb = reserve[min(idx, len(reserve) - 1)] * page_kb if reserve else 0
    free = z.free_kb - ((1 << max(order, 0)) - 1) * page_kb
    highatomic = _highatomic_kb(z)
    # CMA pageblocks serve only movable requests (ALLOC_CMA): __zone_watermark_ok() takes their free pages from the
    # others' free count ("cma: fix watermark checking", d95ea5d18e69, 3.7: a v3.7 tree's __zone_watermark_ok() has
    # it; __zone_watermark_unusable_free() since 5.9)
    cma = 0 if movable else z.free_cma_kb or 0
    free -= cma
    below, decides = None, False
    for name, mark in (("min", z.min_kb), ("low", z.low_kb), ("high", z.high_kb)):
        if mark is None:
            continue
        if harder and name != "high":  # the last attempt (high) runs without ALLOC_HIGH
            mark -= mark // 2
        unusable = 0 if reserves and name != "high" else highatomic
        if free - unusable <= mark + reserve_kb:
            below, decides = name, free > mark + reserve_kb
            break
    block = _has_block(z, order, movable, reserves)
    cma_only = block is False and z.block_types is not None and any(
        n and "C" in t for n, t in zip(z.free_blocks[order:], z.block_types[order:]))  # fmt: skip
    return ZoneCheck(node=z.node, zone=z.name, free_kb=z.free_kb, min_kb=z.min_kb, low_kb=z.low_kb, high_kb=z.high_kb,
                     reserve_kb=reserve_kb, below=below, free_block=block, free_blocks=z.free_blocks,
                     highatomic_kb=highatomic, highatomic_decides=decides, free_cma_kb=cma,
                     cma_blocks_only=cma_only)  # fmt: skip


_RANK = {"min": 0, "low": 1, "high": 2, None: 3}


def _buddy_fragmentation(r: OomReport, usable: list[str], order: int) -> str:
    """From the buddy lines alone (the zone lines were cut): "fragmented" when no zone the request may use has a
    free block of its order although they hold free pages. Without lowmem_reserve[] DMA counts only when it is the
    only zone: its reserve keeps it for DMA requests on any machine with a larger zone."""
    if order <= 0:
        return "unknown"
    zones = [z for z in r.zones if z.name in usable and z.free_blocks is not None]
    if any(z.name != "DMA" for z in zones):
        zones = [z for z in zones if z.name != "DMA"]
    if not zones:
        return "unknown"
    if any(any(z.free_blocks[order:]) for z in zones):
        return "not fragmented"
    return "fragmented" if any(z.free_kb for z in zones) else "unknown"


# constrained_alloc(): the allocation could only use some nodes (cpuset, mempolicy); show_mem_node_skip() then
# prints only those nodes' zones
_NODE_CONSTRAINTS = ("CONSTRAINT_CPUSET", "CONSTRAINT_MEMORY_POLICY")
_PAGEFAULT = "not an allocation: the page-fault path (gfp_mask=0, pagefault_out_of_memory)"


def allocation(r: OomReport, version: KernelVersion | None, page_bytes: int, constraint: str) -> Allocation | None:
    if r.gfp_mask is None and r.order is None:
        return None
    page_kb = page_bytes // 1024
    flags, source = gfp_flags(r.gfp_mask, version) if r.gfp_mask else (None, "no header line")
    gfp = gfp_value(r.gfp_mask) if r.gfp_mask else 0
    order = r.order
    manual = order == -1
    target = _zone_target(gfp, r)
    configured = _configured_zones(r)
    # (a garbled gfp_mask can name a zone this machine has not: the request then may use them all)
    idx = configured.index(target) if target in configured else len(configured) - 1
    usable = [z for z in r.zones if z.name in configured and configured.index(z.name) <= idx and z.min_kb is not None]
    checks = []
    if usable:  # the watermark check of each zone the request may use (none printed: a memcg OOM, a cut report)
        reserves = bool(gfp & GFP_HIGH) and version is not None and version.at_least(6, 3)
        reclaimable = GFP_RECLAIMABLE_3_10 if version is not None and not version.at_least(4, 4) else GFP_RECLAIMABLE
        movable = gfp & (GFP_MOVABLE | reclaimable) == GFP_MOVABLE  # gfp_migratetype() == MIGRATE_MOVABLE
        if len(r.zones) == 1 and usable[0].free_cma_kb is None and "free_cma" in r.meminfo:
            # its line cut before free_cma (a console's width): the Mem-Info summary's free_cma is the one zone's own
            usable = [msgspec.structs.replace(usable[0], free_cma_kb=r.meminfo["free_cma"] * page_kb)]
        checks = [_check_zone(z, order or 0, page_kb, idx, bool(gfp & GFP_HIGH), reserves, movable) for z in usable]
    size_kb = page_kb << order if order is not None and order >= 0 else None
    if manual or not checks:
        # a memcg OOM is a failed charge (try_charge() against the cgroup's page_counter), not a zone allocation:
        # mem_cgroup_print_oom_meminfo() prints no zones, and none were short
        printed = [f"node {z.node} {z.name}" for z in r.zones if z.min_kb is not None]
        verdict = None if manual else "not a zone shortage: the memory cgroup's charge failed" \
            if constraint == "CONSTRAINT_MEMCG" else _PAGEFAULT if gfp == 0 and order == 0 \
            else "unknown: the report has no zone watermark lines" if not printed \
            else f"no zone it may use: every zone printed ({', '.join(printed)}) is above {target}" \
            if constraint in _NODE_CONSTRAINTS \
            else f"unknown: no zone it may use was printed (only {', '.join(printed)}): the report was cut"
        frag = "unknown" if manual else _buddy_fragmentation(r, configured[: idx + 1], order or 0)
        return Allocation(gfp_mask=r.gfp_mask, gfp_flags=flags, gfp_flags_source=source, order=order,
                          size_kb=size_kb, zone=None if manual else target, verdict=verdict,
                          last_attempt=None, fragmentation=frag, zones=checks)  # fmt: skip
    worst_low = max(_RANK[c.below] for c in checks)  # the zone that comes closest to passing
    if gfp == 0 and order == 0:
        verdict = _PAGEFAULT
    elif worst_low <= _RANK["min"]:
        verdict = "below the low watermark (and below min) in every zone"
    elif worst_low <= _RANK["low"]:
        verdict = "below the low watermark"
    else:
        verdict = "above the low watermark in " + ", ".join(f"node {c.node} {c.zone}" for c in checks
                                                            if _RANK[c.below] > _RANK["low"])  # fmt: skip
    if any(c.highatomic_decides and _RANK[c.below] <= _RANK["low"] for c in checks):
        verdict += (" once the highatomic reserve is taken from free pages (__zone_watermark_ok(), 4.4+: "
                    + ", ".join(f"{c.zone} {c.highatomic_kb} kB" for c in checks if c.highatomic_decides) + ")")
    passing = [c for c in checks if c.below is None]
    last = "below the high watermark in every zone" if not passing else "above the high watermark in " + ", ".join(
        f"node {c.node} {c.zone}" for c in passing)  # fmt: skip
    # fragmentation: a zone with enough free pages (above its low mark) but no free block of the order
    if (order or 0) <= 0:
        frag = "not fragmented"
    elif any(c.free_block is None for c in checks):
        frag = "unknown"
    else:
        roomy = [c for c in checks if _RANK[c.below] > _RANK["low"]]
        frag = "fragmented" if roomy and not any(c.free_block for c in roomy) else "not fragmented"
    return Allocation(gfp_mask=r.gfp_mask, gfp_flags=flags, gfp_flags_source=source, order=order, size_kb=size_kb,
                      zone=target, verdict=verdict, last_attempt=last, fragmentation=frag, zones=checks)  # fmt: skip


# --- memory ---------------------------------------------------------------------------------------------------


class Use(msgspec.Struct):
    what: str
    kb: int
    percent: float | None  # of RAM


class Memory(msgspec.Struct, kw_only=True):
    """What Mem-Info says, in kB (null when the report does not print it)."""

    ram_kb: int | None  # "pages RAM" x page size, as the kernel printed it
    reserved_kb: int | None
    free_kb: int | None
    swap_total_kb: int | None
    swap_free_kb: int | None
    swap_cache_kb: int | None
    swap_used_kb: int | None  # total - free - swap cache, as OOMAnalyser counts it
    tasks_rss_kb: int | None  # the rss of every row of the task dump
    slab_reclaimable_kb: int | None
    slab_unreclaimable_kb: int | None
    pagecache_kb: int | None
    shmem_kb: int | None
    pagetables_kb: int | None
    hugetlb_kb: int | None = None  # the hugetlb pools (hugepages_total x hugepages_size, every node and size)
    hugetlb_free_kb: int | None = None  # their pages no mapping holds (hugepages_free)
    zspages_kb: int | None = None  # zsmalloc's pages of compressed data (6.18+ zone lines): zram, zswap
    where: list[Use] = []  # where the memory went, largest first


def _kb(pages: int | None, kb: int) -> int | None:
    return None if pages is None else pages * kb


def memory(r: OomReport, page_bytes: int) -> Memory:
    kb = page_bytes // 1024
    mi = r.meminfo
    # page counts in kB, None where not printed (a memcg OOM prints no Mem-Info: all None)
    ram, reserved, swapcache, pagecache = [_kb(n, kb) for n in (r.ram_pages, r.reserved_pages, r.swapcache_pages,
                                                                  r.pagecache_pages)]  # fmt: skip
    free = slab_r = slab_u = shmem = pagetables = None
    if mi:
        free, slab_r, slab_u, shmem, pagetables = [_kb(mi.get(k), kb) for k in (
            "free", "slab_reclaimable", "slab_unreclaimable", "shmem", "pagetables")]  # fmt: skip
    swap_used = None
    if r.total_swap_kb is not None and r.free_swap_kb is not None:
        swap_used = max(r.total_swap_kb - r.free_swap_kb - (swapcache or 0), 0)
    m = Memory(
        ram_kb=ram, reserved_kb=reserved, free_kb=free,
        swap_total_kb=r.total_swap_kb, swap_free_kb=r.free_swap_kb, swap_cache_kb=swapcache,
        swap_used_kb=swap_used, tasks_rss_kb=sum(r.tasks.column("rss")) * kb if r.tasks else None,
        slab_reclaimable_kb=slab_r, slab_unreclaimable_kb=slab_u,
        pagecache_kb=pagecache, shmem_kb=shmem, pagetables_kb=pagetables,
        hugetlb_kb=r.hugetlb_kb, hugetlb_free_kb=r.hugetlb_free_kb,
        zspages_kb=sum(zs) if r.zones and (zs := [z.zspages_kb for z in r.zones if z.zspages_kb is not None]) else None,
    )  # fmt: skip
    parts = (m.tasks_rss_kb, m.slab_unreclaimable_kb, m.slab_reclaimable_kb, m.pagecache_kb, m.pagetables_kb,
             m.hugetlb_kb or None, m.zspages_kb or None, m.free_kb)  # in _WHERE's order
    # largest first, equals in this order (a stable sort, reversed, keeps it)
    m.where = sorted([Use(what, v, round(100 * v / ram, 1) if ram else None) for what, v in zip(_WHERE, parts)
                      if v is not None], key=attrgetter("kb"), reverse=True)  # fmt: skip
    return m


_WHERE = ("processes (rss of the task dump)", "unreclaimable kernel slab", "reclaimable kernel slab", "page cache",
          "page tables", "huge pages (hugetlb pool)", "compressed data (zsmalloc: zram, zswap)", "free")


# --- memcg ----------------------------------------------------------------------------------------------------

_STAT_KEYS = ("anon", "file", "kernel", "kernel_stack", "slab", "slab_unreclaimable", "shmem", "sock", "pagetables",
              "rss", "cache", "mapped_file", "swap", "rss_huge", "dirty", "writeback", "file_dirty",
              "file_writeback")  # fmt: skip


class Memcg(msgspec.Struct, kw_only=True):
    path: str | None  # the memcg that hit its limit
    task_memcg: str | None
    usage_kb: int | None
    limit_kb: int | None  # null: unlimited
    failcnt: int | None
    swap_usage_kb: int | None  # v2 "swap:" line, or v1 memory+swap minus memory
    swap_limit_kb: int | None  # null: unlimited
    memsw_limit_kb: int | None  # v1 "memory+swap:" limit
    memsw_usage_kb: int | None = None  # v1 "memory+swap:" usage
    memsw_failcnt: int | None = None  # v1: charges that failed against the memory+swap limit
    stats_kb: dict[str, int] = {}  # memory.stat highlights of the OOM memcg (v2 anon/file/kernel..., v1 rss/cache...)


def _limit(kb: int | None) -> int | None:
    return None if kb is None or unlimited(kb) else kb


def memcg(r: OomReport) -> Memcg | None:
    if r.memory is None and r.oom_memcg is None and r.memcg_stats_of is None:
        return None
    swap_usage = swap_limit = memsw_limit = memsw_usage = memsw_failcnt = None
    if r.swap is not None:
        swap_usage, swap_limit = r.swap.usage_kb, _limit(r.swap.limit_kb)
    elif r.memsw is not None and r.memory is not None:
        memsw_limit = _limit(r.memsw.limit_kb)
        memsw_usage, memsw_failcnt = r.memsw.usage_kb, r.memsw.failcnt
        swap_usage = max((r.memsw.usage_kb or 0) - (r.memory.usage_kb or 0), 0)
        swap_limit = None if memsw_limit is None else max(memsw_limit - r.memory.limit_kb, 0)
    return Memcg(
        path=r.oom_memcg or r.memcg_stats_of, task_memcg=r.task_memcg,
        usage_kb=r.memory.usage_kb if r.memory else None, limit_kb=_limit(r.memory.limit_kb) if r.memory else None,
        failcnt=r.memory.failcnt if r.memory else None, swap_usage_kb=swap_usage, swap_limit_kb=swap_limit,
        memsw_limit_kb=memsw_limit, memsw_usage_kb=memsw_usage, memsw_failcnt=memsw_failcnt,
        stats_kb={k: v // 1024 for k, v in r.memcg_stats.items() if k in _STAT_KEYS},
    )  # fmt: skip


def memsw_full(cg: Memcg) -> bool:
    """A v1 memory+swap counter at its limit: try_charge() fails on memsw before memory, so that limit is the one
    hit (the memory limit alone would have pushed pages to swap)."""
    return (cg.memsw_limit_kb is not None and cg.memsw_usage_kb is not None and cg.usage_kb is not None
            and cg.swap_usage_kb is not None and cg.memsw_usage_kb * 100 >= cg.memsw_limit_kb * 99)


def cgroup_v1(cg: Memcg) -> bool:
    """v1 prints a "memory+swap:" line (limited or not), v2 a "swap:" line; v1's memory.stat has rss and cache,
    v2's anon and file."""
    return cg.memsw_usage_kb is not None or "rss" in cg.stats_kb or "cache" in cg.stats_kb


def dirty_kb(cg: Memcg) -> int:
    """Page cache the cgroup is charged for that is dirty or under writeback (v1 dirty/writeback, v2 file_*)."""
    st = cg.stats_kb
    return st.get("dirty", st.get("file_dirty", 0)) + st.get("writeback", st.get("file_writeback", 0))


def mostly_dirty(cg: Memcg | None) -> bool:
    return bool(cg and cg.usage_kb and dirty_kb(cg) * 2 >= cg.usage_kb)


# --- platform -------------------------------------------------------------------------------------------------


class Platform(msgspec.Struct, kw_only=True):
    kernel: str | None
    arch: str | None
    arch_source: str | None = None  # how the arch was inferred: the release, a register dump, a call-trace frame
    distribution: str | None  # a guess from the release string
    hardware: str | None


_DISTROS = [(re.compile(rx), name) for rx, name in [  # compiled once, not looked up per report
    (r"\.el(\d+)uek", "Oracle Linux {0} (UEK)"), (r"\.el(\d+)", "RHEL / CentOS / Rocky / Alma {0}"),
    (r"\.fc(\d+)", "Fedora {0}"), (r"-pve\b", "Proxmox VE"), (r"-arch\d", "Arch Linux"), (r"gentoo", "Gentoo"),
    (r"-(?:generic|lowlatency|aws|azure|gcp|oracle|kvm)\b", "Ubuntu"), (r"-(?:amd64|arm64|686(?:-pae)?|cloud-amd64)\b", "Debian"),
    (r"-default\b", "openSUSE / SLES"), (r"-oomtui\b", "oomtui's simulator"),
]]  # fmt: skip
_IBM_Z = re.compile(r"IBM \d{4}\b")


@lru_cache(maxsize=256)  # an archive's reports come from a few kernels: each release's regexes run once
def _distribution(release: str | None, build: str | None) -> str | None:
    """A guess from the release string and the build line."""
    text = f"{release or ''} {build or ''}"
    if "Ubuntu" in text:
        return "Ubuntu"
    if "Debian" in text:
        return "Debian"
    for rx, name in _DISTROS:
        if m := rx.search(text):
            return name.format(*m.groups())
    return None


def platform(r: OomReport) -> Platform:
    dist = _distribution(r.kernel_release, r.kernel_build)
    arch, source = r.arch, r.arch_source
    if arch is None and r.highmem:
        arch, source = "32-bit", "HighMem zone"
    if arch is None and r.hardware:  # IBM Z machine types ("IBM 8562 T02 Z06 (LPAR)"), POWER ("IBM,9009-41A")
        hw = r.hardware
        arch = "s390x" if _IBM_Z.match(hw) else "ppc64" if hw.startswith("IBM,") else None
        source = "the hardware name" if arch else None
    return Platform(kernel=r.kernel_release, arch=arch, arch_source=source, distribution=dist, hardware=r.hardware)


# --- cause and advice ------------------------------------------------------------------------------------------


class Cause(msgspec.Struct):
    kind: str  # user_memory, kernel_slab, kernel_other, hugetlb, compressed_swap, lowmem, fragmentation, memcg_limit,
    # cpuset, mempolicy, manual, no_shortage, pagefault, no_victim, unknown
    text: str


def _size(kb: int | None) -> str:
    return "?" if kb is None else fmt_size(kb * 1024)


def _pct(part: int | None, whole: int | None) -> str:
    return f"{100 * part / whole:.0f} %" if part is not None and whole else "?"


_UNNAMED = "a process the report does not name"


# show_free_areas()'s Mem-Info summary: the counters of what holds a page (pages); free_cma is part of free
_COUNTED = ("free", "active_anon", "inactive_anon", "active_file", "inactive_file", "unevictable", "slab_reclaimable",
            "slab_unreclaimable", "pagetables")  # fmt: skip
_COUNTED_IF_PRINTED = ("isolated_anon", "isolated_file", "sec_pagetables", "kernel_misc_reclaimable", "bounce")


def uncounted_kb(r: OomReport, mem: Memory, kb: int) -> int | None:
    """The RAM no Mem-Info counter holds: RAM - reserved - hugetlb pools - (free, the LRU lists, slab, page tables).
    Pages the kernel takes from the page allocator directly are there: kernel stacks, vmalloc, per-cpu areas,
    drivers' own pages (network buffers, DMA and GPU memory). None when a counter or the hugepages lines are
    missing (a hugetlb pool would look the same)."""
    mi = r.meminfo
    if r.node_lru_kb and {z.node for z in r.zones} <= r.node_lru_kb.keys():
        # a paste that lost the summary's first lines keeps the LRU lists in every node's line (kB)
        lost = {k for lru in r.node_lru_kb.values() for k in lru} - mi.keys()
        mi = {**mi, **{k: sum(lru.get(k, 0) for lru in r.node_lru_kb.values()) // kb for k in lost}}
    if mem.ram_kb is None or mem.reserved_kb is None or r.hugetlb_kb is None or any(k not in mi for k in _COUNTED):
        return None
    counted = sum(mi[k] for k in _COUNTED) + sum(mi.get(k, 0) for k in _COUNTED_IF_PRINTED)
    return mem.ram_kb - mem.reserved_kb - r.hugetlb_kb - (mem.zspages_kb or 0) - counted * kb


def _compressed_cause(mem: Memory, ending: str) -> Cause:
    """zsmalloc (mm/zsmalloc.c) keeps the compressed copies zram and zswap store in pages of its own (NR_ZSPAGES):
    a page swapped out to zram is not freed but replaced by its compressed copy, in the same RAM."""
    zs = mem.zspages_kb or 0
    held = f"Compressed data held the memory: {_size(zs)} ({_pct(zs, mem.ram_kb)} of RAM) is in zsmalloc's pages " \
        "(zspages), "
    if not mem.swap_total_kb:  # zswap and zram swap need a swap device: a zram disk (/tmp, logs) filled RAM
        return Cause("compressed_swap", held + "and there is no swap: a zram device used as a RAM disk (a /tmp or "
                                               "log directory on zram) filled RAM with what was written to it."
                                               + ending)  # fmt: skip
    return Cause("compressed_swap", held + "the compressed copies that zram or zswap keeps of swapped-out pages, in "
                                           "RAM. Swapping to zram does not free a page: it replaces it with a smaller "
                                           "copy in the same RAM, so each page swapped out frees only what "
                                           "compression saves, and pages that compress badly free almost nothing; "
                                           "once zram holds most of RAM, swapping more cannot make room. Swap was "
                                           f"{_pct(mem.swap_used_kb, mem.swap_total_kb)} used of "
                                           f"{_size(mem.swap_total_kb)}." + ending)  # fmt: skip


def _suspect_modules(r: OomReport) -> str:
    """print_tainted() (kernel/panic.c): 'P' a proprietary module is loaded (TAINT_PROPRIETARY_MODULE), 'O' an
    out-of-tree one (TAINT_OOT_MODULE): drivers built outside the kernel, the usual holders of uncounted pages."""
    what = [w for flag, w in (("P", "a proprietary module"), ("O", "an out-of-tree module")) if flag in (r.taint or "")]
    return f" The kernel is tainted {r.taint}: {' and '.join(what)} is loaded, the first suspect." if what else ""


def _zones_it_could_not_use(r: OomReport, alloc: Allocation | None) -> list[Zone]:
    """The zones printed (with watermarks) when every one is above the highest the request may use: on a node of a
    cpuset or policy, no kill frees memory it can use."""
    printed = [z for z in r.zones if z.min_kb is not None]
    return printed if alloc is not None and alloc.zone and printed and not alloc.zones else []


def _cma_beside_kb(alloc: Allocation | None, mem: Memory) -> int:
    """The free memory in CMA pageblocks, when it is most of the free memory: they serve movable requests only
    (__zone_watermark_ok() leaves them out for others), and a zone's check counts them only for a movable one."""
    cma = sum(c.free_cma_kb for c in alloc.zones) if alloc is not None else 0
    return cma if cma and mem.free_kb and cma * 2 > mem.free_kb else 0


# the causes whose text says _cma_beside_kb (cause() appends it to these), and advice() follows
_CMA_BESIDE_KINDS = ("hugetlb", "kernel_other", "user_memory")


def _slab_breaks_up_free(mem: Memory) -> bool:
    """Reclaimable slab far above the free memory: its pages cannot be moved by compaction."""
    return bool(mem.slab_reclaimable_kb and mem.free_kb and mem.slab_reclaimable_kb > 4 * mem.free_kb)


def _numa_cause(r: OomReport, alloc: Allocation | None, constraint: str, kill: str) -> Cause:
    """constrained_alloc() (mm/oom_kill.c): CONSTRAINT_MEMORY_POLICY when the allocation's nodemask (an MPOL_BIND
    policy) leaves out a node with memory, CONSTRAINT_CPUSET when the task's cpuset does (cpuset_limited): only
    those nodes could serve the request."""
    cpuset = constraint == "CONSTRAINT_CPUSET"
    nodes = r.mems_allowed if cpuset else r.nodemask
    one = len(node_list(nodes) or []) == 1
    where = f"NUMA node{'' if one else 's'} {nodes}" if node_list(nodes) else "some NUMA nodes (not named)"
    by = (f"its cpuset {r.cpuset}" if r.cpuset else "its cpuset (cpuset.mems)") if cpuset else \
        "its memory policy (MPOL_BIND: mbind(), set_mempolicy(), numactl --membind)"
    text = (f"The allocation could only use {where}: {by} confined it there, and {'it was' if one else 'they were'} "
            "out of memory for it; the machine as a whole need not have been.")
    # dump_header()'s show_mem(SHOW_MEM_FILTER_NODES, nodemask) prints the zones of those nodes only
    # (show_mem_node_skip(): the nodemask, else the cpuset's mems_allowed)
    if printed := _zones_it_could_not_use(r, alloc):
        names = ", ".join(f"node {z.node} {z.name}" for z in printed)
        text += (f" {'Its' if one else 'Their'} zones are all above the highest one the request may use ({alloc.zone}: "
                 f"{'|'.join(alloc.gfp_flags or [alloc.gfp_mask or 'its gfp_mask'])} is not movable): {names} had "
                 f"{_size(sum(z.free_kb for z in printed))} free that it could never take, and no kill frees "
                 "memory it can use.")  # fmt: skip
    elif alloc is not None and alloc.zones:
        text += f" The zones it could use there had {_size(sum(c.free_kb for c in alloc.zones))} free."
    # oom_cpuset_eligible() (has_intersects_mems_allowed() in older kernels) only asks whether a task's nodes overlap
    return Cause("cpuset" if cpuset else "mempolicy",
                 text + " The OOM killer does not ask where a task's memory lies: it considers every task whose "
                 "allowed nodes overlap those (oom_cpuset_eligible()) and scores each by its resident memory on all "
                 "nodes (oom_badness()), so a kill frees memory there only as far as the victim held pages on "
                 f"those nodes. It {kill}.")  # fmt: skip


def _hugetlb_cause(mem: Memory, kill: str, unusable: str) -> Cause:
    """hugetlb_show_meminfo_node() (mm/hugetlb.c): a hugetlb pool's pages leave the page allocator when the pool grows
    (vm.nr_hugepages, hugepages= at boot) and serve only huge-page mappings. They are in no task's rss (get_mm_rss()
    sums the anon, file and shmem counters; hugetlb pages are counted apart, HugetlbPages in /proc/PID/status), so
    oom_badness() does not see them, and a victim's huge pages go back to the pool (free_huge_folio()), not to the page
    allocator, unless they are surplus pages (vm.nr_overcommit_hugepages)."""
    pool, free, rss = mem.hugetlb_kb or 0, mem.hugetlb_free_kb, mem.tasks_rss_kb
    # free_huge_pages_node[] counts the pages a mapping has reserved (resv_huge_pages) but not yet touched
    unused = f", {_size(free)} of it mapped by nothing yet (hugepages_free, reserved pages among them)" if free else \
        ", all of it mapped" if free == 0 else ""
    rest = (mem.ram_kb or 0) - (mem.reserved_kb or 0) - pool
    return Cause("hugetlb", f"{_size(pool)} ({_pct(pool, mem.ram_kb)} of RAM) is set aside as huge pages (the hugetlb "
                            f"pool: vm.nr_hugepages, or hugepages= at boot){unused}. Those pages serve only huge-page "
                            "mappings (hugetlbfs, SHM_HUGETLB, MAP_HUGETLB); no other allocation can use them, so "
                            f"everything else had to fit in the remaining {_size(rest)}"
                            + (f", of which processes hold {_size(rss)}" if rss is not None else "")
                            + ". Huge pages are in no process's rss, so the OOM killer does not see them, and killing "
                            "a process that maps them returns them to the pool, not to the rest of memory. "
                            f"It {kill}.{unusable}")  # fmt: skip


def _no_choice(r: OomReport) -> str:
    """Why a report names no victim: the choice's lines were there but could not be read (a wrap or a cut within
    them), or the paste ends first."""
    return (f"the kernel's choice is on a line that could not be read (line {r.unread_choice})" if r.unread_choice
            else "the report ends before the kernel's choice")


def _unusable(alloc: Allocation | None, mem: Memory) -> str:
    """The free memory a request that is not movable cannot use (_cma_beside_kb), in words; "" if not most of it."""
    cma = _cma_beside_kb(alloc, mem)
    return (f" Of the {_size(mem.free_kb)} free, {_size(cma)} is in CMA pageblocks, which this request (not "
            "movable) cannot use." if cma else "")


def cause(r: OomReport, mem: Memory, alloc: Allocation | None, cg: Memcg | None, constraint: str,
          victim: TaskRow | None, page_bytes: int) -> Cause:  # fmt: skip
    kb = page_bytes // 1024
    swapped = f" + {_size(victim.swapents * kb)} swapped" if victim and victim.swapents else ""
    named = r.victim()
    if victim is not None:
        vname = f"{victim.comm} ({victim.pid}, {_size(victim.rss * kb)} resident{swapped})"
    elif r.selected is not None and named is None:  # the verdict cut off: only the choice is named
        vname = f"{r.selected.comm} ({r.selected.pid})"
    elif (k := r.killed) is not None:  # no dump row: the verdict's own sizes
        rss = None if k.anon_rss_kb is None else k.anon_rss_kb + (k.file_rss_kb or 0) + (k.shmem_rss_kb or 0)
        vname = f"{k.comm} ({k.pid}" + ("" if rss is None else f", {_size(rss)} resident") + ")"
    elif (v := named) is not None:  # named only on the oom-kill: or the reaper line
        vname = f"{v[1]} ({v[0]})"
    else:
        vname = _UNNAMED
    # pre-5.1 "Kill process %d (%s) score %u or sacrifice child" names the choice; oom_kill_process() may then kill
    # a child of it, and only "Killed process" (or 5.0+ oom-kill:, or the reaper line) names who died
    kill = f"killed {vname}" if r.selected is None or named is not None else (
        f"chose {vname} to kill; the report ends before the 'Killed process' line that names who died (it, or a "
        "child of it in its place)")
    if r.panic_on_oom:  # check_panic_on_oom() runs before select_bad_process()
        vm = "2 (compulsory: every OOM)" if r.panic_on_oom == "compulsory" else "1 (system-wide OOMs)"
        kill = f"killed no process: vm.panic_on_oom={vm} made it panic instead, and the machine went down"
    elif kills_allocating_task(r):  # out_of_memory() kills current at once: no selection
        kill += (" because it asked for the memory: vm.oom_kill_allocating_task=1 kills the allocating task without "
                 "comparing processes, so the one that filled memory may be another")
    if r.no_killable and constraint == "CONSTRAINT_MEMCG":
        # out_of_memory() panics only when !is_memcg_oom(oc); the failed charge returns -ENOMEM and a page fault
        # that gets VM_FAULT_OOM retries it (pagefault_out_of_memory()), running the memcg OOM killer again
        return Cause("no_victim", "No process of the memory cgroup could be killed ('Out of memory and no killable "
                                  "processes...'): every task in it is unkillable (oom_score_adj -1000, or already "
                                  "an OOM victim). A memcg OOM does not panic: the charge fails, a page fault retries "
                                  "it, and the same report repeats until a task leaves the cgroup or its limit is "
                                  "raised.")
    if r.no_killable:
        return Cause("no_victim", "No process could be killed ('Out of memory and no killable processes...'): only "
                                  "init, kernel threads and tasks with oom_score_adj -1000 were left, so the kernel "
                                  "panics (System is deadlocked on memory) unless this was a memcg OOM, which "
                                  "returns without a kill and repeats. What filled memory was not a process.")
    if r.order == -1 or r.sysrq:
        free = f"; {_size(mem.free_kb)} of {_size(mem.ram_kb)} RAM was free" if mem.free_kb is not None else ""
        return Cause("manual", f"The OOM killer was started by hand (sysrq-f, or echo f > /proc/sysrq-trigger), not "
                               f"by a failed allocation{free}. It {kill}.")  # fmt: skip
    if constraint == "CONSTRAINT_MEMCG":
        who = f"The memory cgroup {cg.path}" if cg and cg.path else "A memory cgroup (the report does not name it)"
        if cg and memsw_full(cg):  # v1 memsw.max: memory and swap charged together, and swap could take no more
            lim = f"memory+swap limit of {_size(cg.memsw_limit_kb)}"
            shown = [f"{_size(cg.usage_kb)} in memory and {_size(cg.swap_usage_kb)} in swap"] + (
                [f"{cg.memsw_failcnt} charges failed"] if cg.memsw_failcnt else [])
        else:
            lim = "limit (the report does not print it)" if cg is None or cg.limit_kb is None else \
                f"limit of {_size(cg.limit_kb)}"
            shown = ([f"{_size(cg.usage_kb)} in use"] if cg and cg.usage_kb is not None else []) + (
                [f"{cg.failcnt} charges failed"] if cg and cg.failcnt else [])
        detail = f" ({', '.join(shown)})" if shown else ""
        top = ""
        if cg and cg.stats_kb:
            held = ("anon", "file", "kernel", "rss", "swap", "cache", "shmem", "slab")
            big = sorted(((k, v) for k, v in cg.stats_kb.items() if v and k in held), key=lambda kv: -kv[1])
            if big:
                top = " It held " + ", ".join(f"{k} {_size(v)}" for k, v in big[:3]) + "."
        held = ""
        rss = mem.tasks_rss_kb if r.tasks else None
        charged = cg.usage_kb if cg else None
        if rss is not None and (rss * 2 < charged if charged else rss == 0):
            # the charge counts page cache, swap cache and kernel memory (slab, stacks, page tables) too
            held = (f" Its processes hold only {_size(rss)} resident of the {_size(charged)} charged: the rest is "
                    "page cache, swap cache or kernel memory charged to the cgroup." if charged else
                    " Its processes hold nothing resident: what the cgroup is charged for is page cache, swap cache "
                    "or kernel memory.")  # fmt: skip
        if mostly_dirty(cg):
            held += (f" {_size(dirty_kb(cg))} of the charge was dirty page cache not yet written back: "
                     # shrink_page_list() leaves dirty file pages to kswapd and the flushers; balance_dirty_pages()
                     # throttles a writer against its memcg's wb_domain only with cgroup writeback (4.2+, v2 only)
                     + ("cgroup v1 never holds a cgroup's writers to its limit (per-cgroup dirty throttling is "
                        "cgroup v2's writeback) and memcg reclaim does not write dirty pages itself, so the charge "
                        "failed while the pages waited for the disk." if cgroup_v1(cg) else
                        "the cgroup's writers dirtied pages faster than the disk took them."))
        return Cause("memcg_limit", f"{who} reached its {lim}{detail}; the "
                                    f"machine as a whole was not out of memory.{top}{held}"
                                    + (f" Inside that cgroup the kernel {kill}." if vname != _UNNAMED else
                                       f" {_no_choice(r).capitalize()}."))  # fmt: skip
    if constraint in _NODE_CONSTRAINTS:
        return _numa_cause(r, alloc, constraint, kill)
    managed = (mem.ram_kb or 0) - (mem.reserved_kb or 0)
    if mem.hugetlb_kb and mem.hugetlb_kb * 2 > managed and mem.hugetlb_kb > (mem.tasks_rss_kb or 0):
        return _hugetlb_cause(mem, kill, _unusable(alloc, mem))
    if (zs := mem.zspages_kb) and zs * 2 > managed and zs > (mem.tasks_rss_kb or 0):
        return _compressed_cause(mem, f" The kernel {kill}." if vname != _UNNAMED else
                                 f" {_no_choice(r).capitalize()}.")
    slab = mem.slab_unreclaimable_kb
    if slab is not None and mem.ram_kb and slab > (mem.tasks_rss_kb or 0) and slab * 5 > mem.ram_kb:
        return Cause("kernel_slab", f"Unreclaimable kernel slab holds {_size(slab)} ({_pct(slab, mem.ram_kb)} of RAM), "
                                    f"more than all processes together ({_size(mem.tasks_rss_kb)}): kernel memory, "
                                    f"most likely a leak, exhausted the machine. Killing {vname} frees little.")  # fmt: skip
    hidden = uncounted_kb(r, mem, kb)
    if hidden is not None and hidden * 2 > managed and hidden > (mem.tasks_rss_kb or 0):
        return Cause("kernel_other", f"The kernel held the memory outside every counter Mem-Info prints: "
                                     f"{_size(hidden)} ({_pct(hidden, mem.ram_kb)} of RAM) is neither free nor "
                                     "process, page-cache, slab or page-table memory. Pages taken from the page "
                                     "allocator directly are there (kernel stacks, vmalloc, drivers' buffers: "
                                     f"network, DMA, GPU): most likely a driver leaks them.{_suspect_modules(r)}"
                                     + (f" Processes hold only {_size(mem.tasks_rss_kb)};"
                                        if mem.tasks_rss_kb is not None else " The report has no task dump;")
                                     + (f" the kernel {kill}." if vname != _UNNAMED else
                                        f" {_no_choice(r)}.") + _unusable(alloc, mem))
    high = next((z for z in r.zones if z.name == "HighMem"), None)
    low_free = sum(c.free_kb for c in alloc.zones) if alloc is not None else 0
    if alloc is not None and r.highmem and alloc.zone in ("DMA", "DMA32", "Normal") and alloc.zones and (
            all(c.below == "min" for c in alloc.zones)
            # every low zone short of the mark the last try needed, with HighMem far richer: the same shortage
            or all(c.below is not None for c in alloc.zones) and high is not None
            and high.free_kb > 4 * low_free):  # fmt: skip
        spare = f", while HighMem still had {_size(high.free_kb)} free" if high else ""
        mark = "at their min watermark" if all(c.below == "min" for c in alloc.zones) else \
            "below the high watermark the kernel's last try needs"
        return Cause("lowmem", f"A 32-bit kernel ran out of low memory: the request ({'|'.join(alloc.gfp_flags or [])} "
                               f"order {alloc.order}, {_size(alloc.size_kb)}) can only use the zones the kernel maps "
                               f"directly (DMA, Normal), and they are {mark}{spare}. Processes in "
                               f"HighMem are killed for a shortage they did not cause.")  # fmt: skip
    if alloc is not None and alloc.fragmentation == "fragmented":
        where = "although some had free pages above the watermark" if alloc.zones else \
            f"although {_size(mem.free_kb)} was free in smaller blocks" if mem.free_kb else "in the buddy lines shown"
        reclaimable = (f" Reclaimable kernel slab holds {_size(mem.slab_reclaimable_kb)} (filesystem caches): its "
                       "pages cannot be moved by compaction, and they break up the free memory."
                       if _slab_breaks_up_free(mem) else "")  # fmt: skip
        if cma := [c for c in alloc.zones if c.cma_blocks_only]:
            zones = ", ".join(f"{c.zone} free_cma {_size(c.free_cma_kb)}" for c in cma)
            return Cause("fragmentation", f"Memory was free but not for this request: the free blocks of order "
                                          f"{alloc.order} ({_size(alloc.size_kb)} contiguous) or more are all in CMA "
                                          f"pageblocks ({zones}), which only movable allocations may use, and this "
                                          "one is not movable; the rest of the free memory is in smaller blocks."
                                          f"{reclaimable}")  # fmt: skip
        return Cause("fragmentation", f"Memory was free but fragmented: no zone had a free block of order "
                                      f"{alloc.order} ({_size(alloc.size_kb)} contiguous) {where}.{reclaimable}")
    if (r.gfp_mask is not None and gfp_value(r.gfp_mask) == 0 and r.order == 0
            and (r.trigger_comm or "").startswith("kworker/")):  # fmt: skip
        # a kernel thread has no user memory to fault on: out_of_memory() was called directly, with no allocation
        return Cause("unknown", "The OOM killer was called by a kernel worker thread with no allocation "
                                "(gfp_mask=0, order 0): not a page fault, which only a user process takes, and not "
                                "a failed request. Code outside the allocator started it (out-of-tree or proposed "
                                "OOM triggers do this from a workqueue: PSI- or BPF-driven policies); the call "
                                f"trace names it. It {kill}.")  # fmt: skip
    if r.gfp_mask is not None and gfp_value(r.gfp_mask) == 0 and r.order == 0:
        free = (mem.free_kb or 0) + (mem.pagecache_kb or 0)
        held = ("the report prints no Mem-Info to tell how much was free" if mem.free_kb is None and
                mem.pagecache_kb is None else
                f"free memory and page cache held {_size(free)} ({_pct(free, mem.ram_kb)} of RAM)")  # fmt: skip
        return Cause("pagefault", f"The OOM came from the page-fault path (gfp_mask=0: a fault returned VM_FAULT_OOM and "
                                  f"pagefault_out_of_memory() ran the OOM killer), not from a failed page allocation; "
                                  f"{held}. It {kill}.")  # fmt: skip
    if (constraint == "CONSTRAINT_NONE" and alloc is not None and alloc.zones
            and any(c.below is None and c.free_block is not False for c in alloc.zones)):  # fmt: skip
        # out_of_memory() runs only after get_page_from_freelist() failed at the high watermark (ALLOC_WMARK_HIGH,
        # __alloc_pages_may_oom); one usable zone above it would have served the request.
        free = f"{_size(mem.free_kb)} of {_size(mem.ram_kb)} RAM was free ({_pct(mem.free_kb, mem.ram_kb)}), " \
            if mem.free_kb is not None and mem.ram_kb else ""
        return Cause("no_shortage", f"Memory was not short: {free}and a zone the request could use was above its "
                                    "high watermark, so this request could have been met. Either the OOM killer was "
                                    "started by hand (sysrq-f, which older kernels print as an order-0 GFP_KERNEL "
                                    "request, often from a kworker), or the allocation was confined to a cpuset or "
                                    "memory policy the report does not show, or memory was freed between the failed "
                                    f"attempt and the report. It {kill}.")  # fmt: skip
    total = (mem.ram_kb or 0) + (mem.swap_total_kb or 0)
    used = (mem.tasks_rss_kb or 0) + (mem.swap_used_kb or 0)
    if mem.tasks_rss_kb is not None and total and used * 2 >= total:
        swap = "no swap" if not mem.swap_total_kb else f"swap {_pct(mem.swap_used_kb, mem.swap_total_kb)} used"
        return Cause("user_memory", f"Processes used the memory: their resident memory is {_size(mem.tasks_rss_kb)} "
                                    f"({_pct(mem.tasks_rss_kb, mem.ram_kb)} of {_size(mem.ram_kb)} RAM), {swap}."
                                    f"{_unusable(alloc, mem)} The kernel {kill}.")  # fmt: skip
    # an order > 0 request can fail with memory free but no block that large; without buddy lines, say so
    contiguous = (f" The request was for {_size(alloc.size_kb)} of contiguous memory (order {alloc.order}): memory "
                  "free in smaller blocks cannot serve it, so fragmentation may be the cause; the zone and buddy "
                  "lines of Mem-Info would tell." if alloc and alloc.order and alloc.order > 0
                  and alloc.fragmentation == "unknown" else "")  # fmt: skip
    return Cause("unknown", "The report does not show where the memory went"
                            + ("" if mem.ram_kb else " (no Mem-Info totals)")
                            + (f": processes hold {_size(mem.tasks_rss_kb)}" if mem.tasks_rss_kb else "") + "."
                            + contiguous
                            + (f" The kernel {kill}." if vname != _UNNAMED or r.panic_on_oom else ""))


def advice(c: Cause, r: OomReport, mem: Memory, alloc: Allocation | None, cg: Memcg | None, constraint: str,
           victim: TaskRow | None, biggest: TaskRow | None, page_bytes: int) -> list[str]:  # fmt: skip
    """What to do about this cause on this machine, from the facts the cause was found from. Never empty."""
    kb = page_bytes // 1024
    out: list[str] = []
    if c.kind == "no_victim" and constraint == "CONSTRAINT_MEMCG":  # the charge fails and repeats, no panic
        out.append(f"List the tasks of {cg.path if cg and cg.path else 'the cgroup'} (cgroup.procs) and their "
                   "oom_score_adj: a service manager's OOMScoreAdjust=-1000 is inherited by everything it starts.")
        out.append("Raise the cgroup's limit (memory.max, MemoryMax=) above what its unkillable tasks need, or "
                   "stop the task that keeps charging to it.")
    elif c.kind == "no_victim":
        out.append("Early in boot or in a kdump (crash) kernel, give it more memory (crashkernel=, mem=): the kernel "
                   "and its drivers did not fit.")
        out.append("Otherwise find what the kernel holds (slab, page tables, vmalloc in Mem-Info) and which tasks "
                   "are protected with oom_score_adj -1000.")
    elif c.kind == "manual":
        out.append("Nothing ran out: find who pressed sysrq-f (an administrator, a watchdog or monitoring agent, "
                   "a script writing to /proc/sysrq-trigger); if it was meant, nothing to fix.")
    elif c.kind == "no_shortage":
        out.append("Look just before the report for 'SysRq : Manual OOM execution' (or moom_callback in its call "
                   "trace): if someone pressed sysrq-f (an administrator, a watchdog, a script writing to "
                   "/proc/sysrq-trigger) and meant it, nothing to fix.")
        out.append("Otherwise check the trigger's cpuset (cpuset.mems) and memory policy (numactl --show): a task "
                   "bound to one NUMA node can run out while the rest of the machine has memory.")
    elif c.kind == "memcg_limit":
        if cg and memsw_full(cg):
            out.append(f"Raise the memory+swap limit of {cg.path or 'the cgroup'} above {_size(cg.memsw_usage_kb)} "
                       "(memory.memsw.limit_in_bytes; docker --memory-swap), or make the workload smaller: "
                       f"{_size(cg.swap_usage_kb)} of it was already in swap, so raising only the memory limit "
                       "does not help.")
        elif cg and cg.usage_kb is not None and cg.limit_kb is not None:
            out.append(f"Raise the limit of {cg.path or 'the cgroup'} above {_size(cg.usage_kb)} (memory.max on "
                       "cgroup v2, memory.limit_in_bytes on v1; the container's memory setting), or make the workload "
                       "smaller.")
        else:
            out.append(f"Raise the memory limit of {cg.path if cg else 'the cgroup'} or make the workload smaller.")
        v1 = cg is not None and cgroup_v1(cg)
        if mostly_dirty(cg):
            out.append("The cgroup filled with dirty page cache (a copy or a log writer outrunning the disk): "
                       + ("move it to cgroup v2, whose writeback throttles each cgroup's writers, or " if v1 else "")
                       + "lower vm.dirty_bytes and vm.dirty_background_bytes well below the limit, or have the "
                       "writer use O_DIRECT or fsync as it goes (dd oflag=direct).")
        if cg and cg.swap_limit_kb == 0:
            out.append("Swap is disabled for this cgroup (swap limit 0): allowing some ("
                       + ("memory.memsw.limit_in_bytes above memory.limit_in_bytes" if v1 else "memory.swap.max")
                       + ") lets cold pages leave RAM before the limit is hit.")
        out.append("cgroup v1 has no memory.high; on cgroup v2, memory.high a little below memory.max throttles and "
                   "reclaims the cgroup before the OOM killer runs." if v1 else
                   "Set memory.high a little below the limit so the cgroup is throttled and reclaimed before the "
                   "OOM killer runs.")
    elif c.kind in ("cpuset", "mempolicy"):
        if _zones_it_could_not_use(r, alloc):
            out.append("Give the cpuset a node with a Normal zone as well (cpuset.mems; docker --cpuset-mems): a "
                       "node of only Movable memory (hot-pluggable memory, persistent memory used as RAM) serves "
                       "only movable allocations. Kernels from 5.16 fail such a request at once instead of killing "
                       "(cpusets_insane_config() in __alloc_pages_slowpath()).")
        nodes = r.mems_allowed if c.kind == "cpuset" else r.nodemask
        fit = f"fit the workload to {'node' if len(node_list(nodes) or []) == 1 else 'nodes'} {nodes}" \
            if node_list(nodes) else "fit the workload to its nodes"
        cpuset = f"the cpuset {r.cpuset}" if r.cpuset else "the cpuset"
        out.append((f"Give {cpuset} more nodes (cpuset.mems; docker --cpuset-mems, libvirt <numatune>, the "
                    "Kubernetes memory manager), or " if c.kind == "cpuset" else
                    "Bind the task to more nodes, or let it fall back (numactl --preferred, MPOL_PREFERRED: other "
                    "nodes serve it when the preferred one is full; a VM's <numatune mode='preferred'>), or ")
                   + f"{fit}: numactl -H (or /sys/devices/system/node/node*/meminfo) shows each node's free memory.")
        out.append("Check which tasks hold memory on those nodes (numastat -p PID, /proc/PID/numa_maps): the kernel's "
                   "victim may hold its memory elsewhere and free nothing there; protect the tasks that must survive "
                   "with oom_score_adj.")
    elif c.kind == "kernel_slab":
        out.append("Find the growing slab cache while it grows: slabtop -s c, or sort /proc/slabinfo by size "
                   "(as root); the cache name points at the driver or filesystem that leaks.")
        running = f" ({r.kernel_release} is in use)" if r.kernel_release else ""
        out.append(f"Look for a fixed kernel for that subsystem{running}; until then a reboot frees the slab. "
                   "Killing or limiting processes does not help.")
    elif c.kind == "kernel_other":
        out.append("Watch /proc/meminfo while it grows (MemFree falling while AnonPages, Cached, Slab and "
                   "KernelStack stay flat; VmallocUsed; /proc/vmallocinfo by size): what grows points at the "
                   "subsystem. Kernel messages just before the report (a driver's warnings, 'stalled pool shutdown' "
                   "of a network driver's page_pool) often name it.")
        running = f" ({r.kernel_release} is in use)" if r.kernel_release else ""
        out.append(f"With CONFIG_PAGE_OWNER (page_owner=on), /sys/kernel/debug/page_owner shows who allocated "
                   f"the pages; look for a fixed kernel or driver{running}. Until then a reboot (or unloading "
                   "the driver) frees them; limiting processes does not help.")
        if _suspect_modules(r):
            out.insert(0, "Find the modules built outside this kernel (grep -l '[PO]' /sys/module/*/taint): a "
                          "vendor's Wi-Fi, NPU or GPU driver. Try without it, or with a build of it for exactly "
                          f"{r.kernel_release or 'the running kernel'}.")
    elif c.kind == "compressed_swap":
        out.append("Size zram well below RAM (zram-generator's zram-size, /sys/block/zramN/disksize; a quarter to a "
                   "half of RAM) or cap the RAM it may take (/sys/block/zramN/mem_limit), so that it refuses pages "
                   "before it holds what everything else needs; zramctl shows DATA against COMPR, the ratio "
                   "actually achieved.")
        out.append("Give swapped pages somewhere outside RAM: disk-backed swap at a lower priority than zram, or "
                   "zram writeback of idle pages (CONFIG_ZRAM_WRITEBACK, backing_dev); with zswap, a smaller "
                   "max_pool_percent. Otherwise the machine needs more RAM or less to run." if mem.swap_total_kb else
                   "Find what fills the zram disk (zramctl; df on its mount) and move it to disk storage, or "
                   "clean it up periodically: unlike swap, nothing ever pushes it out of RAM.")
    elif c.kind == "hugetlb":
        lead = f"{_size(mem.hugetlb_free_kb)} of the pool was mapped by nothing. Size" if mem.hugetlb_free_kb else \
            "Size"
        out.append(f"{lead} the pool to what is mapped: in /proc/meminfo, HugePages_Total - HugePages_Free + "
                   "HugePages_Rsvd pages are in use or promised; lower vm.nr_hugepages (sysctl, /etc/sysctl.d) or the "
                   "hugepages= boot option to that (per size hugepagesz=, per node "
                   "/sys/devices/system/node/nodeN/hugepages/).")
        out.append("Find who maps them: HugetlbPages in /proc/PID/status, hugetlbfs mounts (mount -t hugetlbfs), "
                   "SysV segments made with SHM_HUGETLB (ipcs -m): a database's shared memory (Oracle SGA, PostgreSQL "
                   "huge_pages), DPDK, QEMU guests backed by huge pages. If the whole pool is in use, the rest of the "
                   "machine needs more RAM, or those programs less.")
    elif c.kind == "lowmem":
        out.append("Run a 64-bit kernel: a 32-bit kernel can use only about 896 MiB for its own allocations, "
                   "whatever the RAM size.")
        out.append("Until then reduce what fills low memory (many processes and page tables, large network "
                   "buffers, inode/dentry caches: echo 2 > /proc/sys/vm/drop_caches helps for a while).")
    elif c.kind == "pagefault":
        short = "although memory was not short" if mem.free_kb is not None else "(whether memory was short, the " \
            "report does not print)"
        out.append(f"A page fault failed with VM_FAULT_OOM {short}: check the faulting task's "
                   "cgroup limits (memory.max), and look for a filesystem or driver returning -ENOMEM in a fault "
                   f"handler; later kernels fixed several such cases ({r.kernel_release or 'this kernel'} is in use).")
    elif c.kind == "fragmentation":
        out.append("Compact memory (echo 1 > /proc/sys/vm/compact_memory) and raise vm.min_free_kbytes so kswapd "
                   "keeps larger blocks free; a driver asking for high-order blocks may need a fix.")
        if _slab_breaks_up_free(mem):
            out.append("Dropping the dentry and inode caches (echo 2 > /proc/sys/vm/drop_caches) frees the slab "
                       "pages that pin the memory apart; vm.vfs_cache_pressure above 100 keeps them smaller.")
    elif c.kind == "user_memory":
        if biggest is not None:
            out.append(f"{biggest.comm} ({biggest.pid}) held the most: {_size((biggest.rss + (biggest.swapents or 0)) * kb)}. "
                       "Check whether that size is expected; cap it (systemd MemoryMax=, a cgroup limit, the "
                       "program's own memory settings) so that it fails alone.")  # fmt: skip
        if not mem.swap_total_kb:
            out.append("The machine has no swap: a swap file lets idle pages leave RAM and gives the OOM killer "
                       "more room before it must kill.")
        elif mem.swap_used_kb is not None and mem.swap_used_kb * 10 >= mem.swap_total_kb * 9:
            out.append(f"Swap is full ({_pct(mem.swap_used_kb, mem.swap_total_kb)}): more swap only delays this; add "
                       "RAM or run less at once.")
        if mem.zspages_kb and mem.swap_total_kb:
            out.append(f"Swap is compressed into RAM here ({_size(mem.zspages_kb)} of zsmalloc pages: zram or zswap): "
                       "a page swapped out frees only what compression saves, so a larger zram only delays the OOM; "
                       "disk-backed swap behind it leaves processes more.")
        out.append("Protect what must survive with oom_score_adj (systemd OOMScoreAdjust=), and consider "
                   "systemd-oomd or earlyoom to act before the kernel has to.")
    else:
        out.append("Keep the whole report: with vm.oom_dump_tasks=1 (the default) and the Mem-Info lines, the next "
                   "one shows which processes and which kernel memory filled the machine.")
        out.append("Watch memory over time (sar -r, free -m, /proc/meminfo, slabtop) to see what grows before the "
                   "next OOM.")
    if c.kind in _CMA_BESIDE_KINDS and _cma_beside_kb(alloc, mem) or c.kind == "fragmentation" and alloc is not None \
            and any(z.cma_blocks_only for z in alloc.zones):  # fmt: skip
        out.insert(0, "Make the CMA area (cma= on the kernel command line, or the device tree's linux,cma "
                      "reserved-memory) no larger than its devices need: its free pages serve only movable "
                      "allocations, so a kernel allocation can fail beside them.")
    if kills_allocating_task(r):  # first where the cause is unknown, else after what the cause asks for
        out.insert(0 if c.kind == "unknown" else len(out), "vm.oom_kill_allocating_task=1 made the kernel kill whichever task asked for memory, not the one "
                      "using the most: unless that is meant (a machine where any task may die, the cheapest OOM), set "
                      "it to 0 (sysctl vm.oom_kill_allocating_task=0) so the kernel ranks processes.")
    if r.panic_on_oom:
        out.insert(0, "vm.panic_on_oom made the kernel panic rather than kill a process: where losing one process is "
                      "better than a reboot, set it to 0 (sysctl vm.panic_on_oom=0); keep it only where a reboot is "
                      "the recovery wanted (a cluster node that fails over, a kdump capture).")
    # the victim's adj: its dump row, else the 5.4+ verdict's "oom_score_adj:%hd"
    comm, adj = (victim.comm, victim.oom_score_adj) if victim is not None else \
        (r.killed.comm, r.killed.oom_score_adj) if r.killed is not None else (None, None)
    if adj is not None and adj > 0:
        if cg is not None and any("kubepods" in (p or "") for p in (cg.path, cg.task_memcg)):
            out.append(f"{comm} had oom_score_adj {adj:+d}: the kubelet sets it from the pod's QoS class (a "
                       "Burstable pod gets more the smaller its memory request): a request closer to the real use "
                       "lowers it.")
        else:
            out.append(f"{comm} had oom_score_adj {adj:+d}, set by the program or its service manager to make it a "
                       "preferred victim: check that this is meant.")
    return out
