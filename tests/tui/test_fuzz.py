"""Random keys and terminal sizes against the live app: whatever a player presses, at whatever size,
nothing raises.

Every key bound to a command (from COMMANDS, so a new command is fuzzed too), the tree's navigation
keys, the dialogs' letters and a few input characters; resizes down to 1x1; several scenes, paused
and running at 100x, autoplay and the presenter layout. Seeds are fixed, so a failure replays; the
message gives the seed and the last actions. Toasts are rendered (notifications=True), so a
notification that cannot be drawn fails too. `q` quits: the run then goes on in a new app.
"""

from __future__ import annotations

import random
import time

import pytest

from oomtui.tui.commands import COMMANDS

COMMAND_KEYS = sorted({k.strip() for c in COMMANDS if c.key for k in c.key.split(",")})
NAV_KEYS = ["up", "down", "left", "right", "enter", "escape", "tab", "pageup", "pagedown", "home", "end"]
DIALOG_KEYS = ["r", "n", "s", "y", "1", "0", "minus", "backspace", "shift+tab"]
KEYS = COMMAND_KEYS + NAV_KEYS * 2 + DIALOG_KEYS  # navigation twice: it moves through dialogs and the tree
SIZES = [(1, 1), (2, 2), (9, 5), (12, 3), (40, 10), (80, 24), (120, 36), (200, 50)]

# (scene, app options, seed, actions): about 30 s in all on a shared 2-core machine (Pilot waits for
# the app to go idle after every key: 60-100 ms each)
RUNS = [
    ("first-oom", {"paused": True}, 1, 55),
    ("frozen-robust-holder", {"paused": True}, 2, 55),
    ("lmkd-player", {"paused": False, "speed": 100}, 3, 55),
    ("d-state-holder", {"paused": False, "speed": 100}, 4, 50),
    ("what-merged", {"paused": False, "speed": 25, "autoplay": True}, 5, 50),
    ("first-oom", {"paused": False, "speed": 100, "big": True}, 6, 50),
]
BUDGET_S = 50  # a loaded machine stops early rather than run the suite long; normally all actions run


def _actions(seed: int, n: int) -> list[tuple]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.15:
            out.append(("resize", rng.choice(SIZES)))
        elif rng.random() < 0.02:
            out.append(("key", "q"))
        else:
            out.append(("key", rng.choice(KEYS)))
    return out


@pytest.mark.parametrize("scene,opts,seed,n", RUNS, ids=[f"{r[0]}-{r[2]}" for r in RUNS])
async def test_fuzz_keys_and_sizes(make_app, scene, opts, seed, n, request, state_home):
    deadline = request.config.stash.setdefault(_DEADLINE, time.monotonic() + BUDGET_S)
    if seed % 2:  # half the runs start with a broken best-scores file: the picker and `e` must cope
        (state_home / "oomtui").mkdir(parents=True)
        (state_home / "oomtui" / "scores.json").write_text('{"first-oom": {"score": "x"}, "lmkd-player": [')
    actions = _actions(seed, n)
    done: list[tuple] = []
    size = random.Random(seed).choice(SIZES)
    while actions and time.monotonic() < deadline:
        app = make_app(scene, fps=10, **opts)
        try:
            async with app.run_test(size=size, notifications=True) as pilot:
                while actions and time.monotonic() < deadline:
                    kind, arg = action = actions.pop(0)
                    done.append(action)
                    if kind == "resize":
                        size = arg
                        await pilot.resize_terminal(*arg)
                    else:
                        await pilot.press(arg)
                    if app._exception is not None:  # raised by run_test below; the trail ends here
                        break
                    if app._exit:  # q: start again in a new app
                        break
                await pilot.pause()
        except Exception as e:  # the app's own exception, re-raised by run_test
            raise AssertionError(f"{scene} seed {seed}: {type(e).__name__} at {size} after {done[-12:]}") from e
        assert app._exception is None
        if app._exit:  # q or F10 quit with 0, ctrl+c with 130 (as a shell's Ctrl-C)
            want = 130 if done[-1] == ("key", "ctrl+c") else 0
            assert app.return_code == want, f"{scene} seed {seed}: exit code {app.return_code} after {done[-12:]}"


_DEADLINE = pytest.StashKey[float]()
