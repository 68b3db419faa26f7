"""Colours through the theme: every colour the TUI draws comes from a style role (oomtui/tui/styles.py)
resolved from the current Textual theme's variables; none is written in Python."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from textual.color import Color
from textual.theme import BUILTIN_THEMES, Theme

from oomtui.tui import styles
from oomtui.tui.styles import R

TUI = Path(styles.__file__).parent
HEX = re.compile(r"#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?\b|[\"']#[0-9a-fA-F]{3}[\"' ]")
FAINT = {"zero", "exited", "gauge_empty", "mark_dim", "state_dead"}  # meant to recede
SIZE = (120, 36)


@pytest.fixture(autouse=True)
def _default_roles():
    """The roles are module state: leave them as every other test expects (the default theme)."""
    yield
    styles.use_theme(styles.default_variables())


def _variables(name: str) -> dict[str, str]:
    theme = BUILTIN_THEMES[name]
    return {**styles.VARIABLES, **theme.to_color_system().generate(), **theme.variables}


def _contrast(a: RichColor, b: RichColor) -> float:
    def lum(c: RichColor) -> float:
        def ch(v: int) -> float:
            v = v / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = c.get_truecolor()
        return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_no_colour_literal_in_tui_python():
    """Colours live in theme variables (and the stylesheet), never in the TUI's Python."""
    found = [f"{p.relative_to(TUI)}:{i}: {line.strip()}"
             for p in sorted(TUI.rglob("*.py"))
             for i, line in enumerate(p.read_text().splitlines(), 1) if HEX.search(line)]
    assert not found, "colour literals in Python (use a role in styles.py):\n" + "\n".join(found)


@pytest.mark.parametrize("name", list(BUILTIN_THEMES))
def test_every_role_resolves_and_reads_under_every_builtin_theme(name):
    variables = styles.use_theme(_variables(name))
    for role in styles.ROLES:
        assert isinstance(R[role], styles.Style)
    if Color.parse(variables["background"]).ansi is not None:
        return  # the terminal's own palette (ansi-dark and ansi-light; Textual < 8.2: textual-ansi): nothing to measure
    grounds = [Color.parse(variables[v]).rich_color for v in ("surface", "background")]
    floor = 3.0 if name in ("textual-dark", "textual-light") else 2.5
    for role in styles.ROLES:
        st = R[role]
        if st.color is None:
            continue
        c = _contrast(st.color, st.bgcolor) if st.bgcolor else min(_contrast(st.color, g) for g in grounds)
        assert c >= (2.0 if role in FAINT else floor), f"{role} under {name}: contrast {c:.2f}"


def test_light_and_dark_differ():
    styles.use_theme(_variables("textual-dark"))
    dark = {r: R[r] for r in styles.ROLES}
    styles.use_theme(_variables("textual-light"))
    assert R.comm.color != dark["comm"].color and R.cursor.bgcolor != dark["cursor"].bgcolor


def test_a_theme_overrides_a_custom_variable():
    v = {**_variables("textual-dark"), "oom-reaped": "rebeccapurple"}
    out = styles.use_theme(v)
    purple = Color.parse("rebeccapurple")
    assert R.mark_reaped.bgcolor == purple.rich_color and out["oom-reaped"] == purple.hex
    assert out["text-oom-reaped"] not in (purple.hex, _variables("textual-dark")["secondary"])
    assert R.reaped_text.color == Color.parse(out["text-oom-reaped"]).rich_color
    # a default names another variable: it follows that variable
    out = styles.use_theme({**_variables("textual-dark"), "error": "#00ff00"})
    assert out["oom-victim"] == "#00FF00" and R.mark_victim.bgcolor == Color.parse("#00ff00").rich_color


async def test_registered_theme_and_runtime_switch_redraw(make_app):
    app = make_app("frozen-robust-holder")
    app.register_theme(Theme(name="oom-test", primary="#0178D4", dark=True,
                             variables={"oom-victim": "#123456"}))
    async with app.run_test(size=SIZE) as pilot:
        app.advance(700)
        await pilot.pause()
        decision = app.query_one("#decision")
        before_table = [seg.style for seg in app.table.render_line(1)]
        before_panel = decision._last
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        assert app.theme_variables["oom-victim"] == app.theme_variables["error"]
        assert [seg.style for seg in app.table.render_line(1)] != before_table
        assert decision._last != before_panel  # redrawn with the new roles
        assert list(app.table.render_line(1))[0].style.bgcolor == Color.parse(
            app.theme_variables["surface"]).rich_color  # the tree is drawn on the theme's surface
        app.theme = "oom-test"
        await pilot.pause()
        await pilot.pause()
        assert R.winner.bgcolor == Color.parse("#123456").rich_color
        assert any(st.bgcolor == R.winner.bgcolor for _, _, st in _spans(decision))


def _spans(panel):
    return [(s.start, s.end, s.style) for plain, spans in panel._last for s in spans]


def test_on_16_colours_a_warning_is_not_drawn_as_an_error():
    """TERM=linux or plain xterm: textual-dark's orange $warning and $accent downgrade to the bright red
    of $error (a BRIEFING badge looked like KERNEL PANIC); they take yellow there, and only there."""
    from rich.color import ColorSystem

    def ansi(v: dict[str, str], name: str) -> int | None:
        return Color.parse(v[name]).rich_color.downgrade(ColorSystem.STANDARD).number

    theme = styles.default_variables()
    assert ansi(theme, "warning") == ansi(theme, "error")  # the collision this guards against
    try:
        v = styles.use_theme(theme, "standard")
        for hue in ("warning", "accent", "text-warning", "warning-muted"):
            assert ansi(v, hue) != ansi(v, "error"), hue
        assert v["error"] == theme["error"]
        badge = R["badge_warn"]  # "bold auto on $warning": text by contrast, black on the yellow
        assert badge.bgcolor.downgrade(ColorSystem.STANDARD).number == 11
        assert sum(badge.color.get_truecolor()) < 3 * 128
        truecolor = styles.use_theme(theme, "truecolor")
        assert (truecolor["warning"], truecolor["accent"]) == (theme["warning"], theme["accent"])
    finally:
        styles.use_theme(styles.default_variables())


@pytest.mark.parametrize(("headless", "system", "refreshed"),
                         [(False, "standard", True), (True, "standard", False), (False, "truecolor", False)])
def test_the_16_colour_variables_only_for_a_16_colour_terminal(headless, system, refreshed):
    """A test's headless app or a recording keeps the theme's own colours whatever $TERM the tests
    run under (snapshots and casts must not depend on it); a real 16-colour terminal gets the yellows."""
    from types import SimpleNamespace

    calls = []
    app = SimpleNamespace(is_headless=headless, console=SimpleNamespace(color_system=system), color_system=None,
                          refresh_css=lambda animate: calls.append(animate))
    styles.on_terminal(app)
    assert (app.color_system == "standard", bool(calls)) == (refreshed, refreshed)


async def test_under_no_color_the_selected_row_is_reverse_video(make_app, monkeypatch):
    """NO_COLOR's Monochrome filter keeps luminance only: the cursor's blue tint came out as the background's grey.
    Focused and blurred looked the same there: blurred is underlined."""
    for no_color in (False, True):
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        app = make_app("first-oom")
        async with app.run_test(size=SIZE) as pilot:
            app.run_command("select", pid=100)
            y = 1 + app.table.cursor - int(app.table.scroll_y)
            cursor = [seg.style for seg in app.table.render_line(y) if seg.text.strip()]
            other = [seg.style for seg in app.table.render_line(y + 1) if seg.text.strip()]
            assert all(s.reverse for s in cursor) is no_color
            assert not any(s.reverse for s in other)
            if no_color:  # with the keys in the filter, the row is still marked, and not as the focused one
                app.open_filter()
                await pilot.pause()
                cursor = [seg.style for seg in app.table.render_line(y) if seg.text.strip()]
                assert all(s.underline and not s.reverse for s in cursor)
