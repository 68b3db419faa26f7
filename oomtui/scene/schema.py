"""The scene file format (TOML), as msgspec structs. Unknown keys are rejected.

`oomtui schema` prints the JSON Schema generated from these structs (oomtui/output.py).
"""


from typing import Annotated, Literal

from msgspec import Meta

from .actions import ACTIONS, AnyAction, AnyStep, do_name
from .goals import AnyGoal
from .struct import SceneStruct as _S
from .units import Duration, Rate, Size


class CgroupSpec(_S):
    path: Annotated[str, Meta(description='cgroup path, e.g. "/app" (parents first)')]
    memory_max: Size | None = None
    memsw_max: Annotated[Size | None, Meta(description=(
        'with memcg = "v1": memory.memsw.limit_in_bytes, the memory+swap limit, at least memory_max, or "max"; '
        "what it allows above memory_max is the swap a memcg OOM's totalpages adds (mem_cgroup_get_max(), at most "
        "the scene's swap). Default: memory_max, no swap"))] = None
    swap_max: Annotated[Size | None, Meta(description=(
        'with memcg = "v2": memory.swap.max (4.5 on), the swap the memcg may use, or "max"; a memcg OOM\'s '
        "totalpages adds it (mem_cgroup_get_max(), at most the scene's swap). Default: 0"))] = None
    oom_group: Annotated[bool, Meta(description="memory.oom.group (cgroup v2)")] = False
    freezer: Annotated[Literal["v1", "v2"] | None, Meta(description="which freezer controls this cgroup")] = None
    frozen: Annotated[bool, Meta(description="frozen at the start")] = False
    hierarchy: Annotated[Literal["memory", "freezer"], Meta(description=(
        'memory: the memory controller\'s hierarchy (cgroup v2\'s only one; on v1 the freezer may be co-mounted '
        'there); freezer: with memcg = "v1", a hierarchy of the freezer\'s own (freezer = "v1": mounted alone; '
        '"v2": the unified hierarchy beside v1 controllers), for processes\' freezer_cgroup'))] = "memory"
    move_charge_at_immigrate: Annotated[bool | Annotated[int, Meta(ge=0, le=3)], Meta(description=(
        'with memcg = "v1": memory.move_charge_at_immigrate, what a process moved in brings of its charges: '
        "bit 0 (1) its anonymous pages and their swap entries, bit 1 (2) the shmem pages in the ranges it "
        "maps; 3 both, true means 1; kernels 3.0 - 6.12 (6.13 removed charge moving)"))] = False


Id = Annotated[int, Meta(ge=1, le=4194304, description="a pid or tid (1..PID_MAX_LIMIT)")]


class ThreadSpec(_S):
    tid: Id
    state: Annotated[Literal["R", "S", "D"], Meta(description="R running, S sleeping, D uninterruptible")] = "S"
    robust_list: Annotated[bool, Meta(description="set_robust_list() registered (glibc: every thread)")] = True
    exit_latency: Annotated[Duration, Meta(description="from a SIGKILL wake-up to futex_cleanup()")] = "4ms"
    d_for: Annotated[Duration | None, Meta(description='with state = "D": how long; "forever" never wakes')] = None
    mmap_lock: Annotated[bool, Meta(description="holds mmap_lock for write while in D")] = False
    killable: Annotated[bool, Meta(description=(
        'with state = "D": TASK_KILLABLE, a fatal signal wakes it (vfork()\'s wait_for_vfork_done, '
        "mutex_lock_killable ...)"))] = False
    stack: Size = "8 MiB"
    stack_rss: Size = "64 KiB"
    cpu: Annotated[Annotated[int, Meta(ge=0)] | None, Meta(description=(
        "race trials: the CPU it is pinned to (sched_setaffinity), below the scene's `cpus`; "
        "default: the scheduler places it"))] = None


class VmaSpec(_S):
    kind: Literal["anon", "stack", "file", "shared_file", "shmem", "hugetlb", "pfnmap"]
    size: Size
    rss: Size | None = None
    swap: Size = 0
    name: str | None = None
    locked: Annotated[bool, Meta(description="mlock()ed (VM_LOCKED)")] = False
    shm: Annotated[str | None, Meta(description="name of a [[shm]] object this maps (kind shmem)")] = None


class AllocSpec(_S):
    rate: Rate
    target: Size
    thread: int | None = None
    start: Duration = 0


class ProcessSpec(_S):
    pid: Id
    comm: str
    cgroup: Annotated[str, Meta(description="its memory cgroup (a [[cgroups]] path, or \"/\")")] = "/"
    freezer_cgroup: Annotated[str | None, Meta(description=(
        'its cgroup on the freezer\'s own hierarchy (a [[cgroups]] path with hierarchy = "freezer"); '
        "default: the freezer of its memory cgroup, if any"))] = None
    parent: int | None = None
    oom_score_adj: Annotated[int, Meta(ge=-1000, le=1000)] = 0
    uid: int = 0
    cap_sys_admin: Annotated[bool, Meta(description=(
        "holds CAP_SYS_ADMIN: before 4.17 oom_badness() gives it a root bonus (2.6.36-3.7 30 of 1000, "
        "3.8-3.13 adj - 30, 3.14-4.16 3 % of its points); no effect from 4.17"))] = False
    rss: Annotated[Size, Meta(description="private anonymous heap ([heap]), resident")] = 0
    file_rss: Annotated[Size, Meta(description="private file mappings (binary, libraries), resident")] = 0
    swap: Annotated[Size, Meta(description="swapped-out heap pages (swapents)")] = 0
    pgtables: Annotated[Size | None, Meta(description="page tables; default about 1/512 of the mapped size")] = None
    shares_mm_with: Annotated[int | None, Meta(description="CLONE_VM without CLONE_THREAD: use this pid's mm")] = None
    init: Annotated[bool, Meta(description="global init (pid 1): never killed")] = False
    in_vfork: Annotated[bool, Meta(description=(
        "a vfork() child that has not exec'd or exited (with shares_mm_with its parent): "
        "oom_badness() skips it"))] = False
    kthread: bool = False
    handles_sigterm: Annotated[bool, Meta(description="has a SIGTERM handler (SIGTERM is then not fatal)")] = True
    threads: list[ThreadSpec] = []
    vmas: list[VmaSpec] = []
    alloc: AllocSpec | None = None


class ShmSpec(_S):
    name: str
    size: Size
    cgroup: str = "/"


class WaiterSpec(_S):
    tid: int
    timeout: Duration | None = None


class FutexSpec(_S):
    name: str
    shm: Annotated[str | None, Meta(description="in this [[shm]] object (MAP_SHARED: survives reaping)")] = None
    private_to: Annotated[int | None, Meta(description="else: in this pid's private heap")] = None
    robust: bool = True
    owner: Annotated[int | None, Meta(description="tid holding it")] = None
    waiters: list[WaiterSpec] = []
    release_at: Annotated[Duration | None, Meta(description="the owner unlocks at this time")] = None


ActionName = Literal[tuple(do_name(a) for a in ACTIONS)]  # type: ignore[valid-type]


class GameSpec(_S):
    difficulty: Literal["intro", "easy", "medium", "hard"] = "easy"
    par: Annotated[int, Meta(description="player actions an expert needs; each one more costs 10 points")] = 0
    order: Annotated[int | None, Meta(description="position on the story path (built-in scenes)")] = None
    hint: str | None = None
    briefing: Annotated[str | None, Meta(description=(
        "the story in two or three sentences, shown when the scene opens (default: the story's first sentences)"))] = None


SidestepBound = Annotated[int | str, Meta(description=(
    'a time ("2s") or "oom": the moment the OOM killer marks its first victim (mark_oom_victim) in this run. '
    "Judged on the model's deterministic order of events: a move in the jiffy of that kill comes after it"))]


class SidestepSpec(_S, kw_only=True):
    """A player move that wins without the scene's lesson, in the [[walkthrough]] vocabulary. A key left
    out matches any value (no `pid`: any process); `value_min`/`value_max` bound a set_adj value."""

    do: ActionName
    pid: int | None = None
    cgroup: str | None = None
    value: Annotated[int | None, Meta(description="set_adj: the new oom_score_adj")] = None
    policy: str | None = None
    futex: str | None = None
    reason: Annotated[str, Meta(description="why the move skips the lesson (shown to the player)")]
    verdict: Annotated[Literal["refused", "forfeit"], Meta(description=(
        "refused: the move is not applied and is no move; forfeit: it is applied and the win is forfeited"))] = "refused"
    flags: Annotated[int | None, Meta(description="mrelease: the flags argument (default: any)")] = None
    value_min: Annotated[int | None, Meta(description="set_adj: matches a new value >= this")] = None
    value_max: Annotated[int | None, Meta(description="set_adj: matches a new value <= this")] = None
    before: Annotated[SidestepBound | None, Meta(description="matches a move made before this")] = None
    after: Annotated[SidestepBound | None, Meta(description="matches a move made at or after this")] = None


class RacesSpec(_S):
    """Race trials: the same scene many times, the events inside each jiffy ordered by a seeded random
    source and by CPU placement (oomtui/kernel/sched.py). A scene with this table opts in: `oomtui run`
    and the result screen show the outcome over `trials` runs, next to the deterministic one."""

    trials: Annotated[int, Meta(ge=1, le=100000, description="how many runs")] = 200
    seed: Annotated[int, Meta(ge=0, description="the random source's seed: the same seed, the same counts")] = 0
    killer: Annotated[int | None, Meta(description=(
        "tid of the thread that makes the scene's and the player's system calls (kill, process_mrelease), "
        "e.g. lmkd's; default: a task of its own on CPU 0"))] = None
    idle: Annotated[float, Meta(ge=0.0, le=1.0, description=(
        "the share of SIGKILL wake-ups that find another CPU idle: the scheduler moves an unpinned "
        "victim thread there instead of queueing it beside the killer (0: the other CPUs are busy)"))] = 0.0


class Scene(_S):
    title: str
    story: str
    ram: Size
    source: str = ""
    hz: Annotated[Literal[100, 250, 300, 1000], Meta(description="CONFIG_HZ")] = 250
    swap: Size = 0
    swapaccount: Annotated[bool, Meta(description=(
        "the swapaccount= boot option: false, the memcgs' swap is not accounted (no memory.memsw.* / swap.* "
        "files): a memcg OOM's memory+swap: (v1) or swap: (v2) line reads usage 0 and no limit, the memcg's "
        "totalpages adds all of swap, and before 5.8 a charge move leaves swap entries behind; kernels before "
        "6.2 (from 6.2 the kernel ignores swapaccount=0). With accounting on, a memcg's memory+swap limit is its "
        "memsw_max (v2: swap_max), by default its memory limit (v2: 0); the model never swaps a memcg's pages "
        "out"))] = True
    reserved: Annotated[Size, Meta(description="RAM used by everything not modelled")] = 0
    policy: str = "linux-6.18"
    kernel: Annotated[str | None, Meta(description='override the policy\'s kernel version, e.g. "5.15"')] = None
    duration: Annotated[Duration, Meta(description="how long `oomtui run` simulates")] = "5s"
    reap_rate: Rate | None = None
    exit_rate: Rate | None = None
    cpus: Annotated[int, Meta(ge=1, le=4096, description=(
        "CPUs of the machine; only race trials place threads on them"))] = 2
    races: Annotated[RacesSpec | None, Meta(description="opt in to race trials ([races])")] = None
    memcg: Annotated[Literal["v1", "v2"], Meta(description=(
        "the cgroup version of the memory controller: a v1 memcg OOM prints memory+swap: and kmem: lines, "
        "v2 a swap: line (from 5.3; before, v2 printed v1's lines too)"))] = "v2"
    cgroups: list[CgroupSpec] = []
    shm: list[ShmSpec] = []
    processes: list[ProcessSpec] = []
    futexes: list[FutexSpec] = []
    actions: list[AnyAction] = []
    game: GameSpec | None = None
    goals: list[AnyGoal] = []
    walkthrough: Annotated[list[AnyStep], Meta(description=(
        "autoplay: oomtui play SCENE --autoplay; a step without `do` only shows its caption"))] = []
    sidesteps: Annotated[list[SidestepSpec], Meta(description=(
        "player moves that would win without the lesson: refused, or applied with the win forfeited"))] = []
