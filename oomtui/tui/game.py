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
from ..scene.goals import FAILED, MET
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
        met, detail = g.evaluate(o, hz)
        state = (MET if met else FAILED) if end else g.state(met, o, hz, now_ms)
        out.append(GoalState(g.describe(hz), state, detail))
    return out


# ---------------------------------------------------------------------- autoplay
def step_commands(action: A.Action) -> list[tuple[str, dict]]:
    """The command calls (id, params) a player would make for this action: select the target first,
    so a watcher sees the cursor move to it, then the command the key runs."""
    run = (action.command, action.command_params())
    if action.selects:
        return [("select", {action.selects: getattr(action, action.selects)}), run]
    return [run]


# ---------------------------------------------------------------------- best scores
# The scores file is the player's, and it may be anything: hand-edited, truncated, from another version.
# Reading it never raises. A file that cannot be read or parsed as a JSON object is moved aside to
# scores.json.bad-<time> (never deleted, never overwritten) and the player is told once (take_warning);
# inside a good file, an entry of the wrong shape is ignored on reading and kept as it is on writing.
MAX_POINTS = 10**6  # scores and maxima are clamped to 0..MAX_POINTS
MAX_FILE = 1 << 20  # a scores file is a few kB; anything over 1 MiB is not one
_pending: list[str] = []  # warnings the player has not been shown yet
_told: set[str] = set()  # bad files that could not be moved aside, already warned about
# `oomtui serve`: each browser session is a process of its own, playing as the server's user. Its best
# scores live here, for the session, and never in that user's file (which sessions would race to write).
_session: dict[str, dict] | None = None


def keep_scores_in_memory() -> None:
    global _session
    _session = {}


def state_dir() -> Path | None:
    """oomtui's state directory (platformdirs: $XDG_STATE_HOME/oomtui, by default ~/.local/state/oomtui,
    on Linux); None when there is no home to put it in (oomtui.config.user_dir): the game then goes on
    without saving."""
    from ..config import user_dir

    return user_dir("state")


def scores_path() -> Path | None:
    d = state_dir()
    return d / "scores.json" if d is not None else None


def _old_scores_path() -> Path | None:
    """Where versions before platformdirs kept the scores: $XDG_STATE_HOME/oomtui or ~/.local/state/oomtui
    on every system (macOS's platformdirs place differs). Read while the new file does not exist yet."""
    base = os.environ.get("XDG_STATE_HOME") or ""
    if base and Path(base).is_absolute():
        return Path(base) / "oomtui" / "scores.json"
    home = os.environ.get("HOME") or ""
    return Path(home) / ".local" / "state" / "oomtui" / "scores.json" if Path(home).is_absolute() else None


def take_warning() -> str | None:
    """What went wrong with the scores file since the last call, for the player (once), or None."""
    if not _pending:
        return None
    msg = "\n".join(_pending)
    _pending.clear()
    return msg


def warn_player(notify) -> None:
    """Show a pending scores warning through `notify` (App.notify); nothing if there is none."""
    msg = take_warning()
    if msg:
        notify(msg, title="Best scores", severity="warning", timeout=12, markup=False)


def _warn(path: Path, why: str, moved: Path | None) -> None:
    from ..text import visible

    where = visible(str(path))
    if moved is not None:
        _pending.append(f"Best scores: {where} could not be read ({why}). It was moved to {visible(moved.name)}; "
                        "best scores start afresh.")
    elif str(path) not in _told:  # it stays there: say so once, not at every read
        _told.add(str(path))
        _pending.append(f"Best scores: {where} could not be read ({why}) nor moved aside; "
                        "scores will not be saved.")


def _read(path: Path) -> tuple[dict | None, str | None]:
    """(the file's JSON object, None), ({}, None) when there is no file, or (None, why it is bad)."""
    import stat

    try:
        # O_NONBLOCK: a FIFO in place of the file must not hang the game
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return {}, None
    except OSError as e:
        return None, e.strerror or type(e).__name__
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, "not a regular file"
        if st.st_size > MAX_FILE:
            return None, f"{st.st_size} bytes, too large"
        chunks, size = [], 0
        while size <= MAX_FILE:
            b = os.read(fd, MAX_FILE + 1 - size)
            if not b:
                break
            chunks.append(b)
            size += len(b)
        raw = b"".join(chunks)
        if size > MAX_FILE:  # it grew while we read it
            return None, "too large"
    except OSError as e:
        return None, e.strerror or type(e).__name__
    finally:
        os.close(fd)
    try:
        # huge or non-finite numbers become None (an entry then ignored) rather than a failed parse
        data = json.loads(raw.decode("utf-8"), parse_int=_parse_int, parse_constant=lambda _: None)
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as e:
        return None, f"not JSON: {e}"
    if not isinstance(data, dict):
        return None, f"a JSON {type(data).__name__}, expected an object"
    return data, None


def _parse_int(s: str) -> int | None:
    return int(s) if len(s) <= 30 else None


def _move_aside(path: Path) -> Path | None:
    """Rename the bad file to scores.json.bad-<YYYYmmddTHHMMSS>[-N]; None if it cannot be moved."""
    import time

    stamp = time.strftime("%Y%m%dT%H%M%S")
    for n in range(100):
        dest = path.with_name(f"{path.name}.bad-{stamp}" + (f"-{n}" if n else ""))
        if os.path.lexists(dest):
            continue  # never overwrite an earlier bad file
        try:
            os.rename(path, dest)
        except OSError:
            return None
        return dest
    return None


def _load(path: Path) -> tuple[dict, bool]:
    """The raw JSON object and whether it may be written back. A bad file is moved aside (and the
    player warned); one that cannot be moved is left alone and never written over."""
    data, why = _read(path)
    old = _old_scores_path()
    if old is not None and old != path and not os.path.lexists(path):
        carried, _ = _read(old)  # the old file stays where it is; the first new best carries it over
        data = carried if carried is not None else data
    if data is not None:
        return data, True
    moved = _move_aside(path)
    _warn(path, why or "unreadable", moved)
    return {}, moved is not None


def _points(v: object) -> int | None:
    if isinstance(v, bool):  # JSON true is not 1 point
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if not isinstance(v, int):
        return None
    return max(0, min(MAX_POINTS, v))


def _entry(v: object) -> dict | None:
    """A well-formed {"score", "max", "won"} from what the file holds for a scene, or None."""
    if not isinstance(v, dict):
        return None
    score, max_score = _points(v.get("score")), _points(v.get("max"))
    if score is None or max_score is None:
        return None
    return {"score": score, "max": max_score, "won": v.get("won") is True}  # "false" is no win


def load_scores() -> dict[str, dict]:
    """scene ref -> {"score": int, "max": int, "won": bool}; no file, a bad file, or no home is no scores."""
    if _session is not None:
        return dict(_session)
    path = scores_path()
    if path is None:
        return {}
    data, _ = _load(path)
    out = {}
    for ref, v in data.items():
        e = _entry(v)
        if e is not None:
            out[ref] = e
    return out


def record_score(ref: str, score: int, max_score: int, won: bool) -> bool:
    """Keep the best (a win beats a loss, then the higher score). True if this is a new best.
    A state directory that cannot be written is not an error: the game goes on. Other scenes'
    entries are written back as they were, even ones this version cannot read."""
    score, max_score, won = _points(int(score)) or 0, _points(int(max_score)) or 0, bool(won)
    if _session is not None:
        return _keep_best(_session, ref, score, max_score, won) is True
    path = scores_path()
    if path is None:
        return False
    data, writable = _load(path)
    if not writable:
        return False
    best = _keep_best(data, ref, score, max_score, won)
    if best is None:
        return False
    try:
        text = json.dumps(data, indent=1, sort_keys=True) + "\n"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except (OSError, ValueError, RecursionError):
        return False
    return best


def _keep_best(data: dict, ref: str, score: int, max_score: int, won: bool) -> bool | None:
    """Put the result in data if it beats the entry there: True for a new best, False for a first loss
    (kept, but not worth a "new best"), None if data is unchanged."""
    old = _entry(data.get(ref))
    if old is not None and (old["won"], old["score"]) >= (won, score):
        return None
    data[ref] = {"score": score, "max": max_score, "won": won}
    return old is not None or won


# ---------------------------------------------------------------------- catalogue
@dataclass
class Entry:
    ref: str  # built-in id or a path
    title: str
    difficulty: str | None
    order: int | None
    goals: int
    best: dict | None
    file: bool = False  # a scene file of `--scenes DIR`, not a built-in


def catalogue(scores: dict | None = None, files: tuple[str, ...] = ()) -> list[Entry]:
    """Built-in scenes: the story path first (by order), then the scenarios by id; then the scene
    files of `--scenes DIR`, as given (their game.order is no place on the built-in story path)."""
    from ..scene.load import builtin_ids, load_scene

    scores = load_scores() if scores is None else scores

    def entry(ref: str, file: bool) -> Entry:
        try:
            sc = load_scene(ref).scene
        except Exception as e:  # a broken scene still shows, with its error
            return Entry(ref, f"(cannot load: {e})", None, None, 0, None, file)
        g = sc.game
        return Entry(ref, sc.title, g.difficulty if g else None, g.order if g and not file else None,
                     len(sc.goals), scores.get(ref), file)

    out = sorted((entry(sid, False) for sid in builtin_ids()), key=lambda e: (e.order is None, e.order or 0, e.ref))
    return out + [entry(f, True) for f in files]


def story_ids() -> list[str]:
    return [e.ref for e in catalogue({}) if e.order is not None]


def next_story(ref: str) -> str | None:
    ids = story_ids()
    return ids[ids.index(ref) + 1] if ref in ids and ids.index(ref) + 1 < len(ids) else None
