"""What `oomtui lab --json` prints (runner.py builds it as plain dicts), described for `oomtui schema lab`.

The facts inside `outcome`, `measured` and `details` differ per experiment (experiments.py, model.py), so
they are objects of any keys here; `facts` lists their leaves, flattened (model.compare), the formats of the
dmesg lines (formats.py) and, for lmkd-race, the counts over trials."""

from __future__ import annotations

from typing import Any

import msgspec


class LabReal(msgspec.Struct):
    """The run on this machine's kernel."""

    outcome: dict[str, Any]  # the facts that repeat on every run
    measured: dict[str, Any]  # the experiment's full result: pids, timings, dmesg lines


class LabModel(msgspec.Struct):
    """The same situation run by the kernel model, under the policy of the running kernel."""

    policy: str
    kernel: str
    outcome: dict[str, Any]
    details: dict[str, Any]  # model-side facts outside outcome (kill order, the waiter's raw outcome ...)
    scenes: list[str]  # the scenes it ran (TOML), one per trial: `oomtui run` replays them
    dmesg: list[str]  # its OOM report lines, unstamped, as the real side reads them


class LabFact(msgspec.Struct):
    fact: str  # an outcome key ("errno.live"), "dmesg.KIND" (a kind of line's format), "race.*" (trial counts)
    real: Any
    model: Any
    agree: bool | None  # None when a side is missing


class LabEntry(msgspec.Struct):
    name: str
    real: LabReal | None  # None: the run failed, or --model-only
    model: LabModel | None  # None only if the model failed
    agree: bool | None  # every fact agrees; None when a side is missing
    facts: list[LabFact]
    error: str | None


class LabOutput(msgspec.Struct):
    """`oomtui lab --json`."""

    kernel: str  # the running kernel's release (uname -r)
    experiments: list[LabEntry]
