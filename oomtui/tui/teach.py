"""What the game says to a newcomer: the briefing a scene opens on, and teach-mode cards.

No Textual here: the App shows these, the recorder turns them into captions and the tests read
them directly. A card stands for one kernel decision (out_of_memory() choosing a victim, the
reaper's timer armed or fired, a robust-futex owner dying, a waiter's fate, process_mrelease
returning) and names the kernel function that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kernel import events as ev
from ..kernel.core import Kernel
from ..scene.schema import Scene
from .view import secs

# Reading time of a caption or card, in wall-clock seconds at 1x (issue 8, §4): 240 words a minute (adults'
# mean silent reading rate for non-fiction is 238, Brysbaert 2019's meta-analysis), and a second to find the caption.
# At 200 words a minute and 2.5 s the 68-word briefing of first-oom held the clock 23 s.
READ_BASE_S = 1.0
READ_PER_WORD_S = 60 / 240
READ_MIN_S = 0.5  # even at 100x a caption is seen


def reading_time(text: str, speed: float = 1.0) -> float:
    """How long a caption stays up: 1 s plus 0.25 s a word at 1x, shorter at higher speeds."""
    words = len(text.split())
    return max(READ_MIN_S, (READ_BASE_S + READ_PER_WORD_S * words) / max(speed, 0.05))


# ---------------------------------------------------------------------- briefing
@dataclass
class Briefing:
    title: str
    text: str  # the story in a few lines
    goals: list[str]  # each goal's text as the scene gives it
    keys: list[tuple[str, str]]  # (key, what it does here)

    def caption(self) -> str:
        """The briefing as one caption (autoplay and `record` open with it)."""
        goals = "; ".join(self.goals)
        return f"{self.title}. {self.text}" + (f" Goal: {goals}." if goals else "")


def briefing(scene: Scene, walkthrough: list, hz: int, key_of=None, starts: bool = True) -> Briefing:
    """The briefing of a scene: its short text (game.briefing, else the story's first sentences),
    the goals verbatim, and the two to four keys that matter (those its walkthrough uses).
    key_of(command_id) -> the key as the player has it bound (default: the command's own). starts
    False (play --paused): the pause key first only closes the briefing, and its line says so."""
    from .commands import BY_ID

    key_of = key_of or (lambda cid: BY_ID[cid].keys_label())
    g = scene.game
    text = (g.briefing if g is not None and g.briefing else "") or _first_sentences(scene.story, 2)
    goals = [x.describe(hz) for x in scene.goals]
    keys: list[tuple[str, str]] = []
    seen: set[str] = set()
    needs_selection = False
    for step in walkthrough:
        a = step.action
        if a is None:
            continue
        cid, what = a.command, a.key_text
        needs_selection |= a.on_selection
        if cid not in seen and len(keys) < 2:
            seen.add(cid)
            keys.append((key_of(cid), what))
    if needs_selection:
        keys.insert(0, ("↑ ↓", "select a process, thread or cgroup"))
    keys.append((key_of("pause"), "start, then pause and resume" if starts else "close this, then start the clock"))
    keys.append((key_of("help"), "every key"))
    return Briefing(scene.title, text, goals, keys[:5])


def _first_sentences(story: str, n: int) -> str:
    words = " ".join(story.split())
    out, rest = [], words
    while rest and len(out) < n:
        cut = rest.find(". ")
        if cut < 0:
            out.append(rest)
            break
        out.append(rest[: cut + 1])
        rest = rest[cut + 2:]
    return " ".join(out)


# ---------------------------------------------------------------------- teach cards
@dataclass
class Card:
    t: int  # jiffy
    at: str  # t as shown
    heading: str  # the decision, naming the kernel function (a cast's chapter uses it too)
    what: str  # what the kernel just did, naming the function
    now: str  # what the player can do now
    subject: str = ""  # whom it is about: "comm (pid)", "thread TID"
    panel: str = ""  # the side panel its text points at (the App's ids): in front while it is read

    @property
    def title(self) -> str:
        return f"{self.at}  {self.heading}"

    def chapter(self) -> str:
        """The card as a cast's marker: its heading and subject, without the time (the marker has it)."""
        return f"{self.heading} — {self.subject}" if self.subject else self.heading

    def text(self) -> str:
        return f"{self.title}. {self.what} {self.now}"


# each kind of card (its key's first part) and the panel that shows what it says
PANEL_OF = {"oom": "decision", "abort": "decision", "armed": "reaper", "timer": "reaper", "sys": "reaper",
            "fault": "futex", "owner": "futex", "waiter": "futex"}


def cards(events: list, k: Kernel, first_abort: bool = True) -> list[Card]:
    """The teach-mode cards for one step's events, in order (at most one per kind and subject)."""
    out: list[Card] = []
    seen: set[tuple] = set()
    hz = k.hz

    def add(key: tuple, e, heading: str, what: str, now: str, subject: str = "") -> None:
        if key not in seen:
            seen.add(key)
            out.append(Card(e.t, secs(e.t, hz), heading, what, now, subject, PANEL_OF[key[0]]))

    for e in events:
        if isinstance(e, ev.OomSelected) and e.victim_pid is not None:
            v = next((c for c in e.candidates if c.pid == e.victim_pid), None)
            name = f"{v.comm} ({v.pid})" if v else str(e.victim_pid)
            add(("oom", e.t), e,
                "out_of_memory() chose a victim",
                f"select_bad_process() scored every process with oom_badness() and picked {name}, the highest; "
                "oom_kill_process() sends it SIGKILL.",
                "The OOM decision panel shows the ranking; watch the OOM reaper panel for what happens to its memory.",
                name)
        elif isinstance(e, ev.OomAborted) and first_abort:
            add(("abort",), e,
                "out_of_memory() found a pending victim",
                f"oom_evaluate_task() met {e.comm} ({e.blocked_by}), an OOM victim not yet gone (no MMF_OOM_SKIP), "
                "and aborted the scan: no new victim until that one exits or is reaped.",
                "Thaw its cgroup (z), reap it with process_mrelease (m), or wait for the oom_reaper.",
                f"{e.comm} ({e.blocked_by})")
        elif isinstance(e, ev.ReaperQueued):
            who = f"{e.comm} ({e.pid})"
            if e.delay > 0:
                add(("armed", e.pid), e,
                    "queue_oom_reaper() armed the timer",
                    f"{e.comm} ({e.pid}) has {e.delay / hz:g} s to exit by itself (and run its robust-futex cleanup) "
                    "before the oom_reaper kthread unmaps its memory (OOM_REAPER_DELAY, 5.18+).",
                    "Watch the countdown in the OOM reaper panel, or press m to reap it now as lmkd would.", who)
            elif e.delay == 0:
                add(("armed", e.pid), e,
                    "queue_oom_reaper(): no delay",
                    f"Under this policy the oom_reaper kthread reaps {e.comm} ({e.pid}) at once: {e.why}.",
                    "Watch the OOM reaper panel unmap its memory.", who)
            else:
                add(("armed", e.pid), e,
                    "the victim is never queued for the reaper",
                    f"{e.comm} ({e.pid}): {e.why}. Only its own exit can give memory back.",
                    "If it cannot exit (frozen, stuck), you must act: thaw (z) or kill what pins it.", who)
        elif isinstance(e, ev.ReaperTimer):
            who = f"{e.comm} ({e.pid})"
            if e.result == "fires":
                add(("timer", e.pid), e,
                    "the reaper's timer fired",
                    f"wake_oom_reaper() queued {e.comm} ({e.pid}): the oom_reaper kthread now unmaps its private "
                    "memory (__oom_reap_task_mm), whether or not it still runs.",
                    "Memory comes back; a thread still holding a robust futex loses the list it would have walked.", who)
            else:
                add(("timer", e.pid), e,
                    "the reaper's timer fired: nothing to do",
                    f"{e.comm} ({e.pid}) already exited and set MMF_OOM_SKIP, so wake_oom_reaper() does nothing.",
                    "Its memory came back through its own exit (exit_mmap).", who)
        elif isinstance(e, ev.RobustListFault):
            # futexes whose word still names the dead thread: nobody will set FUTEX_OWNER_DIED on them
            stale = [f.name for f in k.futexes.values() if f.owner_tid == e.tid]
            comm = k.pids[e.pid].comm if e.pid in k.pids else str(e.pid)
            add(("fault", e.tid), e,
                "exit_robust_list() could not read the list",
                f"Thread {e.tid} ({comm}) is exiting, but the reaper had already unmapped its robust list head, "
                "so the walk stops at the first get_user(). " + (
                    f"{', '.join(stale)} keeps the dead owner's TID." if stale else
                    "It held no robust mutex, so nothing is left locked."),
                "Its waiters will never be woken: this is the hang the 2-second delay and 6.18's thaw are about."
                if stale else "Harmless here; the same fault on a thread holding a mutex hangs its waiters.",
                f"thread {e.tid} ({comm})")
        elif isinstance(e, ev.FutexEvent):
            if e.outcome == "owner_died":
                add(("owner", e.futex, e.tid), e,
                    "a robust futex owner died",
                    f"exit_robust_list() → handle_futex_death(): thread {e.tid} exited holding {e.futex}; the word "
                    "gets FUTEX_OWNER_DIED and one waiter is woken.",
                    "Watch the Futexes panel: the woken waiter gets EOWNERDEAD.", f"thread {e.tid}, {e.futex}")
            elif e.outcome in ("eownerdead", "hung", "acquired", "timedout"):
                what = {
                    "eownerdead": f"futex_wake() woke waiter {e.tid} on {e.futex}: it now owns the mutex and "
                                  "pthread_mutex_lock() returns EOWNERDEAD, so it can repair the shared state.",
                    "hung": f"Waiter {e.tid} on {e.futex} will sleep forever: the owner exited without "
                            "handle_futex_death() ever running for it, so nothing will wake it.",
                    "acquired": f"futex_wake() woke waiter {e.tid}: it acquired {e.futex} normally.",
                    "timedout": f"Waiter {e.tid} gave up on {e.futex}: its futex_wait() timed out (ETIMEDOUT).",
                }[e.outcome]
                add(("waiter", e.futex, e.tid), e,
                    f"a waiter's fate: {e.outcome.upper()}", what,
                    "The objective panel shows whether that was the outcome you needed.", f"thread {e.tid}, {e.futex}")
        elif isinstance(e, ev.Syscall) and e.name == "process_mrelease":
            from ..report.timeline import syscall_text  # only when a card needs it: not at start-up

            add(("sys", e.t, e.pid), e,
                f"process_mrelease() returned {e.ret}" + (f" ({e.errno})" if e.errno else ""),
                syscall_text(e) + ".",
                "The OOM reaper panel shows what was reaped; try it at another moment to see the other results.",
                comm_pid(k, e.pid))
    return out


def first_abort_after(events: list, first_abort: bool) -> bool:
    """Whether the next aborted OOM scan gets a card: only the first after a victim is chosen (a frozen
    victim makes every later out_of_memory() abort the same way)."""
    if any(isinstance(x, ev.OomSelected) for x in events):
        first_abort = True
    if any(isinstance(x, ev.OomAborted) for x in events):
        first_abort = False
    return first_abort


def comm_pid(k: Kernel, pid: int) -> str:
    """"comm (pid)", as the cards name a process (the pid alone once it is gone from the model)."""
    return f"{k.pids[pid].comm} ({pid})" if pid in k.pids else str(pid)
