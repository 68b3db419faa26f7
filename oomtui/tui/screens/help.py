"""The help screen (? and F1): generated from the same command list as the footer and palette."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ..commands import COMMANDS, OTHER_KEYS
from ..styles import R


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,question_mark,f1", "dismiss(None)", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96%; max-width: 112; height: 92%; border: thick $accent;
                                  background: $panel; padding: 0 1; border-subtitle-color: $text; }
    """

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.refresh(recompose=True))

    def compose(self) -> ComposeResult:
        app = self.app
        eng = app.engine  # type: ignore[attr-defined]
        sc = eng.sim.scene
        story = Text()
        story.append(sc.title + "\n", R.accent)
        story.append(" ".join(sc.story.split()) + "\n", R.text)
        pol = eng.k.policy
        story.append(f"\nPolicy {pol.id} ({pol.kernels}): ", R.strong)
        story.append(pol.summary + "\n", R.text)
        table = Table(box=None, pad_edge=False, expand=True, show_header=True, header_style=R.head)
        table.add_column("key", style=R.accent, no_wrap=True, width=10)
        table.add_column("command", style="bold", no_wrap=True, width=16)
        table.add_column("what it does")
        for c in COMMANDS:
            keys = c.keys_label(app._keymap) if c.key else "(scripts)"
            table.add_row(keys, c.title, c.help())
        for row in OTHER_KEYS:
            table.add_row(*row)
        more = [k for bid in ("tree.up", "tree.down", "tree.collapse", "tree.expand")  # a keymap's own (vim's)
                for k in app._keymap.get(bid, "").split(",") if k and k not in ("up", "down", "left", "right")]
        if more:
            table.add_row(" ".join(more), "Tree", "the same, as your keymap has them")
        legend = Text()
        legend.append("\nMarks: ", R.strong)
        for label, style, text in (
            (" VICTIM ", R.mark_victim, "chosen by the OOM killer (signal->oom_mm set)  "),
            (" dying ", R.mark_dying, "SIGKILL sent  "),
            (" reaped ", R.mark_reaped, "its private memory was unmapped (MMF_UNSTABLE)  "),
            (" pinned ", R.mark_pinned, "dying, but a frozen/D thread or an mm sharer keeps the memory  "),
        ):
            legend.append(label, style)
            legend.append(" " + text)
        # the newcomer's questions in scene 1: what SCORE and POINTS are, and why each thread says robust_list
        legend.append("\nColumns: ADJ oom_score_adj (-1000: never chosen … 1000: first) · ANON FILE SHM resident "
                      "memory, SWAP swapped out · SCORE /proc/PID/oom_score as this era prints it · POINTS "
                      "oom_badness(), what the OOM killer compares (4.17+: pages + ADJ × totalpages / 1000) · MARKS "
                      "what happened to it.")
        legend.append("\nrobust_list (a thread row): the thread called set_robust_list(2); its robust futexes are "
                      "released as it exits (exit_robust_list), and a waiter hangs if the memory is reaped first. "
                      "MMF_OOM_SKIP: set on a victim's mm by the reaper or at exit; the OOM killer passes over it "
                      "and may choose another victim.")
        legend.append("\nThreads: R running · S sleeping · D uninterruptible · FROZEN v1/v2 · EXITING · ZOMBIE."
                      "\nFutex waiters: blocked · EOWNERDEAD (woken: owner died) · HUNG (the owner is gone and "
                      "nothing will ever wake it).")
        with VerticalScroll() as box:
            # in the border, where a newcomer sees it at 80x24 (the list runs three screens)
            box.border_subtitle = "↑↓ PgUp PgDn scroll · esc closes · q quits"
            yield Static(table)
            yield Static(legend)
            yield Static(Text("\n") + story)
            yield Static(Text("esc closes · q quits", style=R.italic + R.dim))
