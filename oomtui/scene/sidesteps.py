"""Sidesteps: player moves that would win a scene without its lesson (a scene's [[sidesteps]]).

A sidestep is a pattern over the same actions the [[walkthrough]] uses (`do` plus its targets; a target
left out matches any), optionally limited to a window of time. It is either *refused* (the move is not
applied and is no move) or a *forfeit* (the move is applied, the win is forfeited and the result says
why). Only the player's moves are checked: scene [[actions]] never are, and a walkthrough step that
could match its own scene's sidestep is a load error.

The window's "oom" bound is the moment the OOM killer first marks a victim (mark_oom_victim) in this
run. Wins and windows are judged on the model's default deterministic order of events: within one
jiffy the kernel's own work (timers, the allocators' OOM) runs before the player's move, so a move in
the jiffy of the first kill is after it.
"""

from __future__ import annotations

import msgspec

from ..errors import UserError
from .actions import BY_DO, Action, do_name

OOM = "oom"
REFUSED, FORFEIT = "refused", "forfeit"

TARGETS = ("pid", "cgroup", "futex", "policy", "value", "flags")


def _keys(a: type[Action]) -> tuple[str, ...]:
    """The target keys of an action (its own fields a sidestep can name); a pattern over a `value`
    may bound it too."""
    own = tuple(f for f in a.__struct_fields__ if f not in Action.__struct_fields__ and f in TARGETS)
    return own + ("value_min", "value_max") if "value" in own else own


# which target keys each `do` takes (the rest of the sidestep keys do not apply to it)
KEYS: dict[str, tuple[str, ...]] = {do: _keys(a) for do, a in BY_DO.items()}


class Sidestep(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # position in the scene's [[sidesteps]]
    do: str
    reason: str
    verdict: str = REFUSED  # REFUSED | FORFEIT
    pid: int | None = None
    cgroup: str | None = None
    futex: str | None = None
    policy: str | None = None
    value: int | None = None
    flags: int | None = None
    value_min: int | None = None
    value_max: int | None = None
    before: int | str | None = None  # jiffy, or OOM
    after: int | str | None = None

    @property
    def refused(self) -> bool:
        return self.verdict == REFUSED

    def matches_action(self, action: Action) -> bool:
        """Same `do`, and every target the sidestep names is the action's (time not considered)."""
        if do_name(action) != self.do:
            return False
        for key in TARGETS:
            want = getattr(self, key)
            if want is not None and action.sidestep_target(key) != want:
                return False
        if "value_min" in KEYS[self.do]:
            v = getattr(action, "value", None)
            if self.value_min is not None and (v is None or v < self.value_min):
                return False
            if self.value_max is not None and (v is None or v > self.value_max):
                return False
        return True

    def in_window(self, now: int, oom_at: int | None) -> bool:
        """Is a move at jiffy `now` inside the window? `oom_at`: when the first OOM victim was marked,
        None if none yet."""
        if self.before is not None:
            if self.before == OOM:
                if oom_at is not None:
                    return False
            elif now >= self.before:  # type: ignore[operator]
                return False
        if self.after is not None:
            if self.after == OOM:
                if oom_at is None:
                    return False
            elif now < self.after:  # type: ignore[operator]
                return False
        return True

    def could_be_in_window(self, at: int) -> bool:
        """At load time, for a walkthrough step at jiffy `at`: an "oom" bound is not known yet, so it
        counts as possibly inside."""
        if isinstance(self.before, int) and at >= self.before:
            return False
        if isinstance(self.after, int) and at < self.after:
            return False
        return True

    def window_text(self, hz: int) -> str:
        def t(b) -> str:
            return "the first OOM kill" if b == OOM else f"{b * 1000 // hz} ms"

        parts = []
        if self.after is not None:
            parts.append(f"from {t(self.after)}")
        if self.before is not None:
            parts.append(f"before {t(self.before)}")
        return " ".join(parts) or "at any time"


class SidestepRefused(UserError):
    """A player's move that the scene refuses because it skips the lesson. Nothing was applied and it
    is not counted as a move. str(e) is the message for the player."""

    def __init__(self, sidestep: Sidestep, action: Action):
        self.sidestep, self.action = sidestep, action
        super().__init__(f"refused: {action.describe()}: {sidestep.reason}")


class ForfeitRec(msgspec.Struct):
    """A move that forfeited the win (in `oomtui run --json`'s game result)."""

    t_ms: int
    move: str
    reason: str
