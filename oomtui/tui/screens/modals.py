"""Small modal dialogs: oom_score_adj input, a picker (policy, scene)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import Integer
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


class AdjScreen(ModalScreen[int | None]):
    """echo VALUE > /proc/PID/oom_score_adj"""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]
    DEFAULT_CSS = """
    AdjScreen { align: center middle; }
    AdjScreen > Vertical { width: 52; height: auto; border: thick $accent; background: $panel; padding: 0 1; }
    AdjScreen Label { width: 100%; }
    AdjScreen .hint { color: $text-muted; }
    AdjScreen .hint.-error { color: $text-error; text-style: bold; }
    """

    HINT = "-1000 never kill · 0 default · 1000 kill first · enter sets, esc cancels"

    def __init__(self, pid: int, comm: str, current: int) -> None:
        super().__init__()
        self.pid, self.comm, self.current = pid, comm, current

    def compose(self) -> ComposeResult:
        with Vertical():
            # markup=False: a comm is the scene's text ("[/x]" raised MarkupError)
            yield Label(f"oom_score_adj of {self.comm} {self.pid} (now {self.current})", markup=False)
            yield Input(str(self.current), type="integer", validators=[Integer(-1000, 1000)], id="adj")
            yield Label(self.HINT, classes="hint", id="adj-hint")

    def on_mount(self) -> None:
        inp = self.query_one(Input)
        inp.focus()
        inp.action_select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        try:
            v = int(event.value)
        except ValueError:
            self._error("a whole number from -1000 to 1000")
            return
        if not -1000 <= v <= 1000:
            self._error(f"{v} is outside -1000..1000")
            return
        self.dismiss(v)

    def _error(self, text: str) -> None:
        """In the dialog itself: a notification would cover the dialog."""
        hint = self.query_one("#adj-hint", Label)
        hint.update(f"{text} · esc cancels")
        hint.add_class("-error")

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickerScreen(ModalScreen[str | None]):
    """Pick one id from a list."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > Vertical { width: 90%; max-width: 110; height: auto; max-height: 80%;
                              border: thick $accent; background: $panel; padding: 0 1; }
    PickerScreen OptionList { height: auto; max-height: 20; min-width: 12; }
    /* min-width: an OptionList narrower than its border, padding and scrollbar crashed Textual */
    PickerScreen .hint { color: $text-muted; }
    """

    def __init__(self, title: str, items: list[tuple[str, str]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.items = items
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text, style="bold"))
            # Text prompts: an item is shown as it is, never parsed as markup
            yield OptionList(*[Option(Text(("● " if i == self.current else "  ") + text), id=i)
                               for i, text in self.items])
            yield Label("↑↓ choose · enter select · esc cancel", classes="hint")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        ids = [i for i, _ in self.items]
        if self.current in ids:
            ol.highlighted = ids.index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
