"""Every colour the TUI draws with: semantic roles resolved from the current Textual theme.

Python code asks for a role (`R.alarm`, `R.dim`, `R["mark_" + kind]`), never for a colour. A role is
a style string over theme variables: "bold auto on $error" is bold black or white, whichever
contrasts more, on the theme's error colour. Variables are Textual's ($error, $warning, $success, $primary,
$text-muted, $surface, $panel, *-lighten-N ...) plus the few custom ones below (VARIABLES) for the
hues a theme does not name (a victim, a reaped or frozen process); their defaults are derived from
Textual's variables and a Theme overrides them:

    Theme(name="mine", primary="dodgerblue", ..., variables={"oom-reaped": "rebeccapurple"})

Every custom `oom-X` also gets a `text-oom-X`, a readable text colour derived as Textual derives
$text-error from $error (unless the theme sets it). An App drawn with the roles (OomApp, WatchApp)
is a `StyledApp`: its get_css_variables calls `use_theme` on each theme change; the custom variables
are resolved, the CSS can use them, and every role is rebuilt in place, so `R.victim` always has the
current theme's colours (widgets then redraw).

Alpha ("$text-muted" is "auto 60%") and "auto" (best contrast) are flattened against the role's
own background, else against $surface, the background the tree, dmesg and panels are drawn on.
"""

from __future__ import annotations

import re

from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.style import Style
from textual.color import Color, ColorParseError

# Custom theme variables (App.get_theme_variable_defaults): a value may name another variable.
VARIABLES: dict[str, str] = {
    "oom-victim": "$error",  # the OOM killer's victim: the VICTIM mark, its row in the OOM decision
    "oom-hung": "$error",  # a futex waiter that will never wake
    "oom-dying": "$warning",  # SIGKILL sent
    "oom-reaped": "$secondary",  # the OOM reaper / process_mrelease unmapped it
    "oom-pinned": "$primary",  # dying, but something keeps its memory
    "oom-frozen-v1": "$primary-lighten-2",  # cgroup v1 freezer
    "oom-frozen-v2": "$secondary-lighten-2",  # cgroup v2 freezer
}

# role -> style string: modifiers (bold italic strike blink underline reverse), a foreground,
# "on" a background; a colour is a $variable or auto (contrast), optionally with "N%" (alpha).
ROLES: dict[str, str] = {
    # ---- plain text
    "strong": "bold",
    "italic": "italic",
    "text": "$text",
    "dim": "$text-muted",
    "label": "$text-secondary",
    "head": "bold $text-secondary",
    "ok": "bold $text-success",
    "warn": "bold $text-warning",
    "warn_plain": "$text-warning",
    "bad": "$text-error",
    "bad_bold": "bold $text-error",
    "accent": "bold $text-accent",  # names worth finding: futexes, scores, the scene title
    # ---- badges: contrast text on a coloured cell
    "alarm": "bold auto on $error",
    "badge_ok": "bold auto on $success",
    "badge_ok_plain": "auto on $success",
    "badge_warn": "bold auto on $warning",
    "badge_warn_plain": "auto on $warning",
    "badge_idle": "auto on $panel-lighten-2",
    "badge_muted": "$text-muted on $panel",
    # ---- status bar
    "brand": "bold auto on $accent",
    "policy": "bold auto on $primary",
    "speed": "bold $text-primary",
    # ---- OOM reaper, memory
    "reaping": "bold auto on $oom-reaped",
    "reaping_plain": "auto on $oom-reaped",
    "reaped_text": "$text-oom-reaped",
    "pinned_text": "$text-oom-pinned",
    "timer_high": "$text-warning",  # the reaper timer's bar and seconds: > 50% left
    "timer_mid": "$text-accent",  # > 20 % left
    "timer_low": "$text-error",
    "gauge_ok": "$text-success",  # bars and sparklines: the text- variants stand out on light themes too
    "gauge_warn": "$text-warning",
    "gauge_bad": "$text-error",
    "gauge_empty": "$text-disabled",
    "gauge_nolimit": "$text-primary",  # a cgroup without a memory limit
    # ---- futexes
    "futex_bits": "$text-warning",
    "frozen_text": "$text-oom-frozen-v1",
    "blocked": "bold auto on $warning",
    # ---- OOM decision
    "winner": "bold auto on $oom-victim",
    # ---- process tree
    "cgroup": "bold $text-primary",
    "cgroup_info": "$text-secondary",
    "pid": "$text",
    "comm": "bold $foreground",
    "number": "$text",
    "zero": "$text-disabled",
    "exited": "strike $text-disabled",
    "score": "bold $text-accent",
    "adj_neg": "$text-primary",
    "adj_pos": "$text-warning",
    "cursor": "on $primary-muted",
    "cursor_blur": "on $foreground 15%",  # the tree without focus: a neutral bar
    "hold": "bold $text-accent",
    "wait": "bold $text-error",
    "robust": "$text-success",
    "memdie": "$text-error",
    "mmap_lock": "$text-warning",
    # marks (view.marks kinds)
    "mark_victim": "bold auto on $oom-victim",
    "mark_hung": "bold blink auto on $oom-hung",
    "mark_dying": "bold auto on $oom-dying",
    "mark_reaped": "bold auto on $oom-reaped",
    "mark_pinned": "bold auto on $oom-pinned",
    "mark_skip": "$text-muted on $panel",
    "mark_exited": "italic $text-muted",
    "mark_dim": "$text-disabled",
    # thread states (Task.letter)
    "state_r": "bold $text-success",
    "state_s": "$text-muted",
    "state_d": "bold $text-error",
    "frozen_v1": "bold auto on $oom-frozen-v1",
    "frozen_v2": "bold auto on $oom-frozen-v2",
    "state_exiting": "bold $text-warning",
    "state_zombie": "italic $text-muted",
    "state_dead": "italic $text-disabled",
    # ---- the game
    "goal_pending": "bold auto on $panel-lighten-2",
    "diff_intro": "$text-success",
    "diff_easy": "$text-primary",
    "diff_medium": "$text-warning",
    "diff_hard": "$text-error",
}
# (dmesg is styled in its own DEFAULT_CSS: component classes over the same theme variables)

_MODIFIERS = {"bold", "italic", "strike", "blink", "underline", "reverse"}
_ALPHA = re.compile(r"^(.*?)\s+(\d+(?:\.\d+)?)%$")


class Roles:
    """The current Rich Style of every role, as attributes (R.alarm) or items (R["mark_" + kind])."""

    _built = False

    def __getattr__(self, name: str) -> Style:  # only reached for a name that is not (yet) a role
        if not self._built and name in ROLES:
            use_theme(default_variables())  # used before any App set a theme: the default theme's
            return getattr(self, name)
        raise AttributeError(f"no style role {name!r}")

    def __getitem__(self, name: str) -> Style:
        return getattr(self, name)

    def build(self, variables: dict[str, str]) -> None:
        base = _base(variables)
        for name, spec in ROLES.items():
            setattr(self, name, style(spec, variables, base))
        self._built = True


R = Roles()


def _parse(expr: str, variables: dict[str, str], depth: int = 0) -> Color | None:
    """A colour expression ("$text-muted", "auto 60%", "$foreground 50%", "ansi_red") to a Color that
    may still be automatic or translucent; None for no colour (transparent, initial, none)."""
    expr = expr.strip()
    alpha = 1.0
    m = _ALPHA.match(expr)
    if m:
        expr, alpha = m.group(1).strip(), float(m.group(2)) / 100
    if expr.startswith("$"):
        if depth > 8 or expr[1:] not in variables:
            raise ValueError(f"unknown theme variable {expr}")
        c = _parse(variables[expr[1:]], variables, depth + 1)
    elif expr == "auto":
        c = Color.automatic()
    elif expr in ("transparent", "initial", "none", "inherit", ""):
        return None
    else:
        try:
            c = Color.parse(expr)
        except ColorParseError as err:
            raise ValueError(f"not a colour: {expr!r}") from err
    if c is None or (c.a == 0 and c.ansi is None and not c.auto):
        return None
    return c.multiply_alpha(alpha) if alpha != 1.0 else c


def _flatten(c: Color | None, under: Color) -> Color | None:
    """An opaque colour as drawn over `under` (auto: the best contrast with it)."""
    if c is None or c.ansi is not None:
        return c
    if c.auto:
        if under.ansi is not None:
            return Color(0, 0, 0, ansi=-1)  # the terminal's default foreground
        c = under.get_contrast_text(c.a)
    if c.a < 1.0:
        c = c.with_alpha(1.0) if under.ansi is not None else under + c
    return c


def _base(variables: dict[str, str]) -> Color:
    """What the roles are drawn over: $surface, else $background, else the terminal's default."""
    for name in ("surface", "background"):
        if name in variables:
            c = _parse(f"${name}", variables)
            if c is not None and (c.ansi is not None or c.a == 1.0):
                return c
    return Color(0, 0, 0, ansi=-1)


def style(spec: str, variables: dict[str, str], base: Color | None = None) -> Style:
    """A role's style string to a Rich Style under these theme variables."""
    base = _base(variables) if base is None else base
    mods: dict[str, bool] = {}
    fg_words: list[str] = []
    bg_words: list[str] = []
    words = fg_words
    for word in spec.split():
        if word in _MODIFIERS:
            mods[word] = True
        elif word == "on":
            words = bg_words
        else:
            words.append(word)
    bg = _flatten(_parse(" ".join(bg_words), variables), base) if bg_words else None
    fg = _flatten(_parse(" ".join(fg_words), variables), bg or base) if fg_words else None
    return Style(color=fg.rich_color if fg else None, bgcolor=bg.rich_color if bg else None, **mods)


def _text_variant(color: Color, background: Color) -> Color:
    """A readable text colour of a hue, as Textual derives $text-error from $error."""
    if color.ansi is not None or background.ansi is not None:
        return color
    return background.get_contrast_text(1.0).tint(color.with_alpha(0.66))


def _sixteen(variables: dict[str, str]) -> dict[str, str]:
    """On a 16-colour terminal (TERM=linux or plain xterm: Rich's "standard" colour system) a theme's
    orange $warning and $accent can become the same bright red as its $error, and a paused clock
    then looks like a kernel panic: those hues take the terminal's yellow instead."""
    def ansi(name: str) -> int | None:
        return Color.parse(variables[name]).rich_color.downgrade(ColorSystem.STANDARD).number
    out = dict(variables)
    for hue in ("warning", "accent"):
        if hue not in variables or "error" not in variables or ansi(hue) != ansi("error"):
            continue
        for name in [k for k in variables if k.startswith(hue) or k == f"text-{hue}"]:
            # what becomes the terminal's yellow (3) for the muted and darker shades, bright yellow (11)
            # for the others; as RGB, so that "auto" text on it is still worked out by contrast (black)
            yellow = RichColor.from_ansi(3 if "darken" in name or "muted" in name else 11).get_truecolor()
            out[name] = Color(*yellow).hex
    return out


class StyledApp:
    """Mixin (before App in the bases) of an App drawn with the roles: the custom variables, the roles
    rebuilt from the theme on start-up and on each theme change, and the 16-colour variables once its
    on_mount calls `on_terminal` (before it draws anything with a role)."""

    color_system: str | None = None  # "standard" on a 16-colour terminal (on_terminal)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(VARIABLES)

    def get_css_variables(self) -> dict[str, str]:
        """Textual's variables for the current theme plus ours (resolved); every style role is
        rebuilt from them here, on start-up and on each theme change."""
        self.theme_variables = use_theme(super().get_css_variables(), self.color_system)
        return self.theme_variables


def on_terminal(app) -> None:
    """Once a terminal drives the app (not a test's headless driver, not a recording's fixed truecolor
    console): on 16 colours, take the variables again for them."""
    if not app.is_headless and app.console.color_system == "standard":
        app.color_system = "standard"
        app.refresh_css(animate=False)


def use_theme(variables: dict[str, str], color_system: str | None = None) -> dict[str, str]:
    """Resolve the custom variables (a default may name another variable), add each one's text-
    variant, rebuild every role; returns the variables for the stylesheet. `color_system`: the
    console's (Rich's name), which on 16 colours keeps warnings apart from errors."""
    out = _sixteen(variables) if color_system == "standard" else dict(variables)
    background = _base({k: v for k, v in out.items() if k == "background"})
    for name in VARIABLES:
        c = _parse(f"${name}", out)
        if c is None:
            out[name] = "transparent"
            continue
        c = _flatten(c, background)
        out[name] = c.hex if c is not None else "transparent"
        if c is not None and f"text-{name}" not in variables:
            out[f"text-{name}"] = _text_variant(c, background).hex
    R.build(out)
    return out


def default_variables() -> dict[str, str]:
    """The variables of Textual's default theme (textual-dark), as an App computes them."""
    from textual.theme import BUILTIN_THEMES

    theme = BUILTIN_THEMES["textual-dark"]
    return {**VARIABLES, **theme.to_color_system().generate(), **theme.variables}

