"""Issue 9 §6: the model's own dmesg explains back to the model's choice, and mangled real reports never crash."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oomtui.errors import UserError
from oomtui.importers.explain import ExplainOutput, explain_text
from oomtui.importers.to_scene import import_report
from oomtui.kernel.policy import POLICIES
from oomtui.scene.load import builtin_ids, load_scene
from oomtui.scene.sim import Simulation

from .test_pasted import COMPLETE, _read


@pytest.mark.parametrize("scene", builtin_ids())
def test_every_policy_dmesg_of_every_builtin_scene_explains_back(scene: str) -> None:
    """Each report the simulator prints, under every policy, is explained with the simulator's own choice. A
    second report in one file must skip the first victim once the reaper set MMF_OOM_SKIP on it."""
    for policy in POLICIES:
        dmesg = "\n".join(Simulation(load_scene(scene), policy).run().dmesg)
        for e in explain_text(dmesg):
            assert e.compared and e.agree, (policy, e.index, e.problems)


def test_an_earlier_victim_the_reaper_went_through_is_skipped() -> None:
    dmesg = "\n".join(Simulation(load_scene("d-state-mmap-lock"), "linux-6.18").run().dmesg)
    first, second = explain_text(dmesg)
    assert first.kernel_victim.pid == 100 and second.kernel_victim.pid == 200 and second.agree
    assert any("(MMF_OOM_SKIP)" in w and w.startswith("app (101)") for w in second.why)
    # without its reaper line the first victim would still be a candidate, and the biggest
    (alone,) = explain_text(dmesg[dmesg.index("oom_reaper") :].split("\n", 1)[1])
    assert alone.model_victim.comm == "app" and not alone.agree


TEXTS = [_read(p) for p in COMPLETE]


@st.composite
def mangled(draw) -> str:
    lines = draw(st.sampled_from(TEXTS)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "drop", "duplicate", "interleave", "bytes", "cut"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "truncate":
            lines = lines[:i]
        elif op == "drop":
            del lines[i : i + draw(st.integers(1, 20))]
        elif op == "duplicate":
            lines[i:i] = lines[i : i + draw(st.integers(1, 20))]
        elif op == "interleave":
            other = draw(st.sampled_from(TEXTS)).splitlines()
            j = draw(st.integers(0, len(other)))
            lines = lines[:i] + other[j : j + draw(st.integers(1, 60))] + lines[i:]
        elif op == "bytes" and lines:
            junk = draw(st.binary(min_size=1, max_size=12)).decode("utf-8", "replace")
            k = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:k] + junk + lines[i][k:]
        elif op == "cut" and lines:  # a mail client's wrap at a random column
            k = draw(st.integers(0, len(lines[i])))
            lines[i : i + 1] = [lines[i][:k], lines[i][k:]]
    return "\n".join(lines)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=mangled())
def test_mangled_real_reports_never_crash(text: str) -> None:
    explanations = explain_text(text)
    msgspec.json.encode(ExplainOutput("f", explanations))
    for e in explanations:
        assert e.lines[0] <= e.lines[1]
        if e.agree:
            assert e.compared and e.model_victim is not None
    for i in range(1, len(explanations) + 1):
        try:
            import_report(text, "f", i)
        except UserError:
            pass  # a report too broken to replay says why
