"""Key bindings as the config file sets them (oomtui/config.py): every binding id with its keys in force,
and what a config must pass before `play` starts: a theme Textual has, binding ids that exist, and no
key that does two things at once.

Two bindings clash when they share a key where both can act: the App's bindings (the commands, Textual's
ctrl+q, ctrl+c and ctrl+p, the screen's tab) with the focused pane's (the process tree's, or dmesg's).
Enter and escape on the App are left out: they act only while the briefing, a teach card or a hold
waits (OomApp.check_action), and otherwise fall through to the tree (enter toggles threads).
"""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from ..config import Config, did_you_mean

CONTEXTUAL = frozenset({"oomtui.go_on", "oomtui.escape"})
COPIES = frozenset({"screen.copy_text", "copy"})  # Textual's copy of a selection (SkipAction without one)


def _pairs(node_class) -> list[tuple[str, Binding]]:
    """(key, binding) of a widget class's BINDINGS and its bases', one per key."""
    return list(node_class._merge_bindings())


def _groups() -> dict[str, list[tuple[str, Binding]]]:
    """Where keys act together: the App with each focusable pane of the main screen."""
    from textual.screen import Screen

    from .app import OomApp
    from .widgets.dmesg import DmesgLog
    from .widgets.proctable import ProcessTable

    palette = Binding(App.COMMAND_PALETTE_BINDING, "command_palette")  # App.__init__ adds it
    app = _pairs(OomApp) + _pairs(Screen) + [(palette.key, palette)]
    return {"the process tree": app + _pairs(ProcessTable), "dmesg": app + _pairs(DmesgLog)}


def _dialog_pairs() -> list[tuple[str, Binding]]:
    """Bindings of the dialogs (remappable too, but they act alone on their screen)."""
    from .screens.game import ResultScreen, ScenePicker
    from .screens.help import HelpScreen
    from .screens.modals import AdjScreen, PickerScreen

    return [p for cls in (HelpScreen, ResultScreen, ScenePicker, AdjScreen, PickerScreen) for p in _pairs(cls)]


def _in_force(pairs: list[tuple[str, Binding]], keymap: dict[str, str]) -> list[tuple[str, Binding]]:
    """The pairs with the keymap applied, as Textual applies it: a mapped id has the keymap's keys only."""
    out, done = [], set()
    for k, b in pairs:
        if b.id not in keymap:
            out.append((k, b))
        elif b.id not in done:
            done.add(b.id)
            out += [(mapped, b) for mapped in keymap[b.id].split(",")]
    return out


def normalized(keymap: dict[str, str]) -> dict[str, str]:
    """Key names as Textual uses them ("?" is "question_mark"): what App.set_keymap stores."""
    return App._normalize_keymap(keymap)


def clashes(keymap: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(key, binding id, other binding id or action, where) for every key two bindings share."""
    keymap = normalized(keymap)
    out = []
    for where, pairs in _groups().items():
        first: dict[str, Binding] = {}
        for key, b in _in_force(pairs, keymap):
            if b.id in CONTEXTUAL:
                continue
            other = first.setdefault(key, b)
            # Textual's own share ctrl+c (copy, help_quit): only ours are this file's business; a copy
            # acts only on a selection and passes the key on otherwise (ctrl+c interrupts then)
            copy = {b.action, other.action} & COPIES
            if other is not b and (b.id or other.id) and not (b.id and b.id == other.id) and not copy:
                out.append((key, b.id or b.action, other.id or other.action, where))
    return out


def effective_bindings(keymap: dict[str, str]) -> dict[str, str]:
    """Binding id -> its keys in force, for every binding with an id (the App's, the panes', the dialogs')."""
    keymap = normalized(keymap)
    out: dict[str, list[str]] = {}
    pairs = [p for ps in _groups().values() for p in ps] + _dialog_pairs()
    for key, b in _in_force(pairs, keymap):
        if b.id is not None and key not in out.setdefault(b.id, []):
            out[b.id].append(key)
    return {bid: ",".join(keys) for bid, keys in out.items()}


def check(cfg: Config) -> None:
    """Raise the config's error for an unknown theme, an unknown binding id or two bindings on one key."""
    from textual.theme import BUILTIN_THEMES

    if cfg.theme is not None and cfg.theme not in BUILTIN_THEMES:
        raise cfg.error("theme", f"unknown theme {cfg.theme!r}{did_you_mean(cfg.theme, sorted(BUILTIN_THEMES))}")
    if not cfg.keymap:
        return  # the presets are checked by the tests: nothing to import for most players
    ids = {b.id for pairs in _groups().values() for _, b in pairs}
    if not set(cfg.keymap) <= ids:  # the dialogs' modules only then: they are imported when first opened
        ids |= {b.id for _, b in _dialog_pairs()}
    ids.discard(None)
    for bid in cfg.keymap:
        if bid not in ids:
            raise cfg.error(f"keymap.{bid}", f"unknown binding id {bid!r}"
                            + did_you_mean(bid, sorted(ids), "; `oomtui config --show` lists them"))
    for key, a, b, where in clashes(cfg.keys()):
        mine, other = (b, a) if b in cfg.keymap else (a, b)
        raise cfg.error(f"keymap.{mine}", f"{key!r} is also {other}'s key (in {where}); give one of the two "
                                          "another key")
