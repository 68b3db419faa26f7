"""The game's screens: the result at the end of a scene, and the scene picker."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ...kernel.policy import POLICIES
from ...scene.goals import ACTION_COST
from ...scene.trials import Distribution, distribution_lines, headline
from .. import game
from ..styles import R
from ..widgets.game import diff_style, key_events


def race_section(t: Text, d: Distribution) -> None:
    """A race scene's distribution: the same moves with the races below a jiffy let loose."""
    t.append(f"\nThe same moves, {d.trials} times", R.head)
    t.append("  (which CPU each thread wakes on, who gets there first; the goals above are judged on one run)\n",
             R.dim)
    sentence = headline(d)
    if sentence is not None:
        t.append(" " + sentence + "\n", R.alarm)
    for line in distribution_lines(d):
        t.append(" " + line + "\n", R.strong if not line.startswith(" ") else Style())


class ResultScreen(ModalScreen[str | None]):
    """Win or lose, score, what happened and which kernel policy would have saved you.
    Dismisses with "restart", "next", "scenes" or None (keep watching)."""

    BINDINGS = [
        Binding("escape,enter", "dismiss(None)", "Keep watching", id="result.close"),
        Binding("r", "dismiss('restart')", "Restart", id="result.restart"),
        Binding("n", "dismiss('next')", "Next scene", id="result.next"),
        Binding("s", "dismiss('scenes')", "Scenes", id="result.scenes"),
    ]
    DEFAULT_CSS = """
    ResultScreen { align: center middle; }
    ResultScreen > VerticalScroll { width: 90%; max-width: 100; height: auto; max-height: 92%;
                                    border: thick $accent; background: $panel; padding: 0 1; }
    ResultScreen.-won > VerticalScroll { border: thick $success; }
    ResultScreen.-lost > VerticalScroll { border: thick $error; }
    ResultScreen .hint { color: $text-muted; }
    #result-keys { dock: bottom; width: 100%; }  /* docked: in view while the body scrolls (80x24) */
    """

    def __init__(self, title: str, policy: str, result, outcome, new_best: bool = False,
                 next_scene: str | None = None, races: Distribution | None = None, hint: str | None = None) -> None:
        super().__init__(classes="-won" if result.won else "-lost")
        self.title_text, self.policy, self.result, self.outcome = title, policy, result, outcome
        self.new_best, self.next_scene, self.races, self.hint = new_best, next_scene, races, hint

    def body(self) -> Text:
        r, o = self.result, self.outcome
        t = Text()
        t.append(" YOU WON " if r.won else " NOT THIS TIME ", R.badge_ok if r.won else R.alarm)
        t.append(f"  {self.title_text}\n", R.strong)
        t.append(f"score {r.score} / {r.max_score}", R.accent)
        if self.new_best:  # beside the score: at 80 columns the line's end wrapped "best" away from "★ new"
            t.append("  ★ new best", R.warn)
        extra = max(0, r.actions - r.par)
        t.append(f"   your actions {r.actions}, par {r.par}" + (f" (−{ACTION_COST * extra} points)" if extra else ""), R.dim)
        t.append(f"   under {self.policy}", R.dim)
        t.append("\n\nGoals\n", R.head)
        for g in r.goals:
            t.append(" ✓ " if g.met else " ✗ ", R.badge_ok if g.met else R.alarm)
            t.append(f" {g.text}", R.strong)
            t.append(f"  — {g.detail}  ({g.points if g.met else 0}/{g.points})\n", R.dim)
        if not r.won and self.hint:  # at 80x24 the objective line has no room for the hint: a loss says what to try
            t.append("\nTry: ", R.accent)
            t.append(self.hint, R.italic)
            t.append("  (r restarts)\n", R.dim)
        lines = key_events(o)
        if lines:
            t.append("\nWhat happened\n", R.head)
            for line in lines:
                t.append(" " + line + "\n")
        if self.races is not None:
            race_section(t, self.races)
        t.append("\nWhich kernel would have saved you", R.head)
        t.append("  (the same moves, replayed under each policy)\n", R.dim)
        if not r.saved_by:
            t.append(" none: every kernel loses with these moves; it is the moves that must change\n",
                     R.warn_plain)
        for pid, pol in POLICIES.items():
            ok = pid in r.saved_by
            t.append(" ✓ " if ok else " · ", R.ok if ok else R.dim)
            t.append(f"{pid:<18}", R.strong if ok else Style())
            t.append(f" {pol.kernels}\n", R.dim if not ok else R.text)
        return t

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self.body(), id="result-body")
            keys = "enter keep watching · r restart · s scenes · q quit"
            if self.next_scene:
                keys += f" · n next: {self.next_scene}"
            yield Static(keys, classes="hint", id="result-keys")

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def _restyle(self, _theme=None) -> None:
        self.query_one("#result-body", Static).update(self.body())

    def action_dismiss(self, result: str | None = None) -> None:  # type: ignore[override]
        if result == "next" and not self.next_scene:
            return
        self.dismiss(result)


class ScenePicker(ModalScreen[str | None]):
    """Built-in scenes (the story first, in order, then the scenarios) and the files of `--scenes DIR`,
    with difficulty and best score, and a path input for your own scene files (paths=False: none, as
    served to browsers, whose players must not open the server's files)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]
    MAX_WIDTH = 124  # the CSS's max-width: at 200 columns the longest title has its whole line
    TITLE_MIN = 30  # below this much room for the title, the id column gives way to it
    DEFAULT_CSS = """
    ScenePicker { align: center middle; }
    ScenePicker > Vertical { width: 99%; max-width: 124; height: auto; max-height: 90%;
                             border: thick $accent; background: $panel; padding: 0 0 0 1; }
    ScenePicker OptionList { height: auto; max-height: 24; min-width: 12; padding: 0 0 0 1; }
    /* no right paddings (the scrollbar is there) and 99 %: at 120 columns the longest title is whole */
    /* min-width: an OptionList narrower than its border, padding and scrollbar crashed Textual */
    ScenePicker Input { margin-top: 1; }
    ScenePicker .hint { color: $text-muted; }
    ScenePicker .hint.-error { color: $text-error; text-style: bold; }
    """

    def __init__(self, current: str | None = None, files: tuple[str, ...] = (), paths: bool = True) -> None:
        super().__init__()
        self.current = current
        self.entries = game.catalogue(files=files)
        self._idw = max(len(self._ref_name(x)) for x in self.entries) + 1  # the id column's width
        self.paths = paths
        self._labelled = -1  # the width the options were last laid out for

    def _ref_name(self, e: game.Entry) -> str:
        return Path(e.ref).name if e.file else e.ref

    def _label(self, e: game.Entry, width: int) -> Text:
        """One line of `width` cells: the title is cut with … to what the other columns leave, and when
        that is under TITLE_MIN the id column gives way (at 80 columns a title wrapped to a second line,
        or kept 17 cells). The columns line up whatever is in them."""
        idw = self._idw
        fixed = 2 + 4 + idw + 9 + 10  # mark, order, id, difficulty, best score
        ids = width - fixed >= self.TITLE_MIN
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("● " if e.ref == self.current else "  ")
        t.append(f"{e.order:>2}. " if e.order else "    ", R.label)
        if ids:
            t.append(f"{self._ref_name(e):<{idw}}", R.strong)
        diff = e.difficulty or ("scenario" if not e.goals else "")
        t.append(f"{diff:<9}", diff_style(diff))
        if e.best:
            b = e.best
            t.append(f"{'★' if b.get('won') else ' '} {b.get('score', 0):>3}/{b.get('max', 0):<3} ",
                     R.warn_plain if b.get("won") else R.dim)
        else:
            t.append(f"{'    –' if e.goals else '':<10}", R.dim)
        title = e.title.split(". ", 1)[1] if e.order and ". " in e.title else e.title
        room = width - len(t)
        t.append(title if len(title) <= room else title[:max(0, room - 1)] + "…")
        return t

    def _width(self) -> int:
        """The cells an option has: measured once the list is laid out, else from the terminal's width."""
        ol = self.query_one(OptionList)
        if ol.size.width:
            return ol.scrollable_content_region.width - ol._get_left_gutter_width()
        return min(int(self.app.size.width * 0.99), self.MAX_WIDTH) - 3 - 3 - 2  # borders, paddings, scrollbar

    def compose(self) -> ComposeResult:
        with Vertical():
            files = [e for e in self.entries if e.file]
            more = f", then {Path(files[0].ref).parent.name}/" if files else ""
            yield Label(Content.from_markup(
                "[b]Scenes[/b]  the story path, then the scenarios$more · ★ best score (won)", more=more))
            options = []
            for i, e in enumerate(self.entries):
                if i and (e.order is None and self.entries[i - 1].order is not None
                          or e.file and not self.entries[i - 1].file):
                    options.append(None)  # separator
                options.append(Option(e.ref, id=e.ref))  # the prompt is set once the width is known
            yield OptionList(*options, id="scenes")
            if self.paths:
                yield Input(placeholder="or a scene file: path/to/scene.toml — enter opens it", id="scene-path")
            path = "tab to the path · " if self.paths else ""
            yield Label(f"↑↓ choose · enter open · {path}esc cancel", classes="hint", id="picker-hint")

    def on_resize(self) -> None:
        """The list gives way on a short terminal (it scrolls): the title, the path input and the keys stay
        in the dialog's 90 % of the height (at 80x24 they were cut off below it)."""
        rest = 2 + 1 + (4 if self.paths else 0) + 1  # border, title, path input and its margin, keys
        self.query_one(OptionList).styles.max_height = max(3, min(24, int(self.size.height * 0.9) - rest))
        self._relabel()
        self.call_after_refresh(self._relabel)  # measured after the layout the new size gives

    def _relabel(self, _theme=None) -> None:
        """Every option's line for the width the list has now (and the theme's colours)."""
        width = self._width()
        if width == self._labelled and _theme is None:
            return
        self._labelled = width
        ol = self.query_one(OptionList)
        for e in self.entries:
            ol.replace_option_prompt(e.ref, self._label(e, width))

    def on_mount(self) -> None:
        self._relabel()
        ol = self.query_one(OptionList)
        ol.focus()
        refs = [e.ref for e in self.entries]
        if self.current in refs:
            ol.highlighted = ol.get_option_index(self.current)
        self.app.theme_changed_signal.subscribe(self, self._relabel)
        game.warn_player(self.app.notify)  # a bad scores file, found by catalogue(): say so once

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if not path:
            return
        from ...errors import UserError
        from ...scene.load import load_scene

        try:
            load_scene(path)
        except UserError as err:
            # in the dialog itself (a notification would cover it); the message quotes a path the
            # player typed ("[x].toml"): never markup
            hint = self.query_one("#picker-hint", Label)
            hint.update(Content(str(err)))
            hint.add_class("-error")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
