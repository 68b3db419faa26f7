"""The game around a scene, as the TUI sees it: live goal states, the scene catalogue, best scores,
and autoplay steps turned into command calls.

No Textual here: the App and the recorder both use it, and the tests call it directly.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..scene import actions as A
from ..scene.goals import FAILED, MET, evaluate_goal, goal_state, goal_text
from ..scene.sim import Outcome, Simulation


# ---------------------------------------------------------------------- live goals
@dataclass
class GoalState:
    text: str
    state: str  # MET | FAILED | PENDING
    detail: str


def live_goals(sim: Simulation, o: Outcome | None = None) -> list[GoalState]:
    """Each goal as ✓/✗ where it is already decided, else pending with how it stands now.

    A goal is decided when nothing still to come can change it: a SIGKILL cannot be taken back, a
    HUNG waiter is hung forever, memory freed inside the window stays freed, a window that has
    passed is closed. At the end of the scene every goal is decided (what `evaluate` says)."""
    goals = sim.scene.goals
    if not goals:
        return []
    o = o or sim.outcome()
    hz = sim.k.hz
    now_ms = o.t_ms
    end = sim.k.jiffies >= sim.duration
    out = []
    for g in goals:
        met, detail = evaluate_goal(g, o, hz)
        state = (MET if met else FAILED) if end else goal_state(g, met, o, hz, now_ms)
        out.append(GoalState(goal_text(g, hz), state, detail))
    return out


# ---------------------------------------------------------------------- autoplay
def step_commands(action: A.Action) -> list[tuple[str, dict]]:
    """The command calls (id, params) a player would make for this action: select the target first,
    so a watcher sees the cursor move to it, then the command the key runs."""
    if isinstance(action, A.Oom):
        return [("oom", {"cgroup": action.cgroup})]
    if isinstance(action, A.Kill):
        return [("select", {"pid": action.pid}), ("kill", {"pid": action.pid})]
    if isinstance(action, A.Sigterm):
        return [("select", {"pid": action.pid}), ("term", {"pid": action.pid})]
    if isinstance(action, A.Mrelease):
        return [("select", {"pid": action.pid}), ("mrelease", {"pid": action.pid, "flags": action.flags})]
    if isinstance(action, A.SetAdj):
        return [("select", {"pid": action.pid}), ("adj", {"pid": action.pid, "value": action.value})]
    if isinstance(action, (A.Freeze, A.Thaw)):
        return [("select", {"cgroup": action.cgroup}),
                ("freeze", {"cgroup": action.cgroup, "freeze": isinstance(action, A.Freeze)})]
    if isinstance(action, A.SetPolicy):
        return [("policy", {"policy": action.policy})]
    if isinstance(action, A.Unlock):
        return [("unlock", {"futex": action.futex})]
    raise TypeError(f"no command for {type(action).__name__}")


# ---------------------------------------------------------------------- best scores
def state_dir() -> Path:
    """$XDG_STATE_HOME/oomtui, default ~/.local/state/oomtui."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "oomtui"


def scores_path() -> Path:
    return state_dir() / "scores.json"


def load_scores() -> dict[str, dict]:
    """scene ref -> {"score", "max", "won"}; a missing or unreadable file is no scores."""
    try:
        data = json.loads(scores_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_score(ref: str, score: int, max_score: int, won: bool) -> bool:
    """Keep the best (a win beats a loss, then the higher score). True if this is a new best.
    A state directory that cannot be written is not an error: the game goes on."""
    scores = load_scores()
    old = scores.get(ref)
    new = {"score": int(score), "max": int(max_score), "won": bool(won)}
    if old is not None and (bool(old.get("won")), int(old.get("score", 0))) >= (won, score):
        return False
    first_loss = old is None and not won  # kept, but not worth a "new best"
    scores[ref] = new
    path = scores_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(scores, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError:
        return False
    return not first_loss


# ---------------------------------------------------------------------- catalogue
@dataclass
class Entry:
    ref: str  # built-in id or a path
    title: str
    difficulty: str | None
    order: int | None
    goals: int
    best: dict | None


def catalogue(scores: dict | None = None) -> list[Entry]:
    """Built-in scenes: the story path first (by order), then the scenarios by id."""
    from ..scene.load import builtin_ids, load_scene

    scores = load_scores() if scores is None else scores
    out = []
    for sid in builtin_ids():
        try:
            sc = load_scene(sid).scene
        except Exception as e:  # a broken built-in still shows, with its error
            out.append(Entry(sid, f"(cannot load: {e})", None, None, 0, None))
            continue
        g = sc.game
        out.append(Entry(sid, sc.title, g.difficulty if g else None, g.order if g else None, len(sc.goals),
                         scores.get(sid)))
    out.sort(key=lambda e: (e.order is None, e.order or 0, e.ref))
    return out


def story_ids() -> list[str]:
    return [e.ref for e in catalogue({}) if e.order is not None]


def next_story(ref: str) -> str | None:
    ids = story_ids()
    return ids[ids.index(ref) + 1] if ref in ids and ids.index(ref) + 1 < len(ids) else None
