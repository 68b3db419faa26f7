"""One class per user command: its key, its footer title, its help text (the docstring) and
`execute(app, **params)`.

Key bindings, the footer, the command palette, the help screen and autoplay scripts all come
from COMMANDS, so they cannot drift apart. Autoplay calls `app.run_command("kill", pid=100)`:
every parameter a key press would take from the selection can be given explicitly.
Commands never touch kernel state: they build a scene Action and hand it to `app.apply_action`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol

from textual.binding import Binding

from ..kernel.policy import POLICIES
from ..scene import actions as A
from .sequencer import BRIEFING, HOLDS_CLOCK

if TYPE_CHECKING:
    from .engine import Engine
    from .sequencer import Sequencer


class Host(Protocol):
    """What a command may use (the App implements it): the model, the selection in the process
    tree, and a few verbs. Commands import no screen, palette or help module: dialogs are the
    host's (ask_adj, pick, pick_scene, show_help)."""

    engine: "Engine"
    seq: "Sequencer"
    table: Any  # the process tree's selection: selected, selected_process(), selected_cgroup(), select_*()
    goals: Any  # the objective panel: toggle_hint()
    brief_new_scenes: bool

    def apply_action(self, action: A.Action) -> list: ...
    def run_command(self, command_id: str, raise_errors: bool = False, **params) -> bool: ...
    def advance(self, n: int) -> list: ...
    def next_event(self) -> list: ...
    def go_on(self) -> str | None: ...
    def after_events(self, events: list, moved: bool = True) -> None: ...
    def reset_view(self, briefing: bool = False) -> None: ...
    def run_to_end(self) -> None: ...
    def finish(self) -> None: ...
    def cycle_panel(self, panel: str | None = None) -> None: ...
    def set_filter(self, text: str) -> None: ...
    def open_filter(self) -> None: ...
    def notify(self, message: str, **kw) -> None: ...
    def exit(self, result: Any = None, return_code: int = 0) -> None: ...
    def copy_to_clipboard(self, text: str) -> None: ...
    def action_command_palette(self) -> None: ...
    def ask_adj(self, pid: int, comm: str, current: int, done: Callable[[int | None], None]) -> None: ...
    def pick(self, title: str, items: list[tuple[str, str]], current: str | None,
             done: Callable[[str | None], None]) -> None: ...
    def pick_scene(self, current: str | None, done: Callable[[str | None], None]) -> None: ...
    def may_open(self, ref: str) -> bool: ...
    def show_help(self) -> None: ...
    screen: Any  # the screen in front: get_selected_text()


class CommandError(Exception):
    """A command cannot run now (no selection, nothing to do): shown as a notification."""


class Command:
    id: ClassVar[str]
    key: ClassVar[str | None]  # Textual key name(s), comma separated; None: palette/autoplay only
    key_display: ClassVar[str | None] = None
    title: ClassVar[str]
    show: ClassVar[bool] = True  # in the footer
    footer: ClassVar[str | None] = None  # the footer's short word (default: the title)
    bind: ClassVar[bool] = True  # False: the key is bound elsewhere (Textual's ctrl+p)

    @classmethod
    def help(cls) -> str:
        return " ".join((cls.__doc__ or "").split())

    @classmethod
    def keys_label(cls, keymap: dict[str, str] | None = None) -> str:
        """Its key(s) for people: its own, or the keymap's (App._keymap) if that moves it."""
        if cls.key_display and not (keymap and cls.binding_id() in keymap):
            return cls.key_display
        return keys_text(cls.keys(keymap))

    @classmethod
    def keys(cls, keymap: dict[str, str] | None = None) -> list[str]:
        """Its Textual key names in force: the keymap's for its binding id, else its own."""
        keys = (keymap or {}).get(cls.binding_id(), cls.key)
        return [k.strip() for k in keys.split(",")] if keys else []

    @classmethod
    def binding_id(cls) -> str:
        return f"oomtui.{cls.id}"

    def available(self, app: Host) -> bool:
        """Whether the palette offers it now."""
        return True

    def label(self, app: Host) -> str:
        """The palette's wording for the current selection."""
        return self.title

    def footer_word(self, app: Host) -> str:
        """The footer's word for it now (KeyBar asks; App._sync_footer redraws the footer when it changes)."""
        return self.footer or self.title

    def execute(self, app: Host, **params) -> None:
        raise NotImplementedError


KEY_NAMES = {"space": "space", "full_stop": ".", "greater_than_sign": ">", "plus": "+", "minus": "-",
             "equals_sign": "=", "slash": "/", "question_mark": "?", "f1": "F1", "f10": "F10",
             "ctrl+p": "^p", "ctrl+c": "^c", "colon": ":"}


def keys_text(keys: list[str]) -> str:
    """Textual key names for people: "space, ?" for ["space", "question_mark"]."""
    return ", ".join(KEY_NAMES.get(k, k) for k in keys)


def _pid(app: Host, pid: int | None, what: str) -> int:
    if pid is not None:
        return int(pid)
    p = app.table.selected_process()
    if p is None:
        raise CommandError(f"{what}: select a process first (↑↓ in the process tree)")
    return p.pid


def _proc_label(app: Host) -> str:
    p = app.table.selected_process()
    return f"{p.comm} {p.pid}" if p else "the selected process"


def _live_selected(app: Host) -> bool:
    p = app.table.selected_process()
    return p is not None and p.exited_at is None


# ---------------------------------------------------------------------- time
class Pause(Command):
    """Pause or resume simulated time."""

    id, key, title = "pause", "space", "Pause"
    footer = "pause"

    def label(self, app):
        return "Resume" if app.engine.paused else "Pause"

    def footer_word(self, app):
        # "space pause" on a briefing that says space starts, or while paused, misled newcomers
        if app.seq.waiting in HOLDS_CLOCK:
            if app.seq.waiting == BRIEFING:  # as the briefing's border has it (play --paused: it only closes)
                return "close" if app.start_paused else "start"
            return "go on"
        return "run" if app.engine.paused else "pause"

    def execute(self, app, paused: bool | None = None) -> None:
        if paused is None and app.seq.waiting in HOLDS_CLOCK:
            app.go_on()  # space starts the scene, closes a teach card, ends a hold
            return
        app.engine.paused = (not app.engine.paused) if paused is None else bool(paused)
        app.engine.carry = 0.0
        app.after_events([], moved=False)


class Step(Command):
    """Pause and advance one jiffy (1/HZ of simulated time)."""

    id, key, title = "step", "full_stop", "Step"
    show = False  # > (next event) is the footer's stepping key; ? lists this one

    def execute(self, app, n: int = 1) -> None:
        app.engine.paused = True
        if app.seq.waiting is not None:
            app.go_on()  # stepping is the player's way on: past the briefing, a card or a caption
        app.advance(int(n))


class NextEvent(Command):
    """Pause and run until the kernel next reports something (a kill, a timer, a scripted action, an exit step)."""

    id, key, title = "next", "greater_than_sign", "Next event"
    footer = "next"

    def execute(self, app) -> None:
        app.engine.paused = True
        if app.seq.waiting is not None:
            app.go_on()
        app.next_event()


class Faster(Command):
    """Run simulated time faster (up to 100x real time); `speed=` sets it directly."""

    id, key, title = "faster", "plus,equals_sign", "Faster"
    key_display = "+"
    show = False

    def execute(self, app, speed: float | None = None) -> None:
        if speed is not None:
            app.engine.set_speed(speed)
        else:
            app.engine.faster()
        app.after_events([], moved=False)


class Slower(Command):
    """Run simulated time slower (down to 0.05x real time)."""

    id, key, title = "slower", "minus", "Slower"
    show = False

    def execute(self, app) -> None:
        app.engine.slower()
        app.after_events([], moved=False)


# ---------------------------------------------------------------------- kernel actions
class Oom(Command):
    """Run the OOM killer now (sysrq-f). With a cgroup row selected, a memcg OOM in that cgroup."""

    id, key, title = "oom", "o", "OOM now"
    footer = "OOM"

    def label(self, app):
        cg = app.table.selected_cgroup(strict=True)
        return f"memcg OOM in {cg.path}" if cg is not None and cg.path != "/" else "out_of_memory now (sysrq-f)"

    def execute(self, app, cgroup: str | None = None) -> None:
        if cgroup is None:
            cg = app.table.selected_cgroup(strict=True)
            cgroup = cg.path if cg is not None and cg.path != "/" else None
        app.apply_action(A.Oom(cgroup=cgroup))


def _freezer_of_selection(app: Host):
    """The selected cgroup row, or the cgroup whose freezer applies to the selected process."""
    cg = app.table.selected_cgroup(strict=True)
    if cg is not None:
        return cg
    p = app.table.selected_process()
    return p.freezer_cgroup if p is not None else None


class Freeze(Command):
    """Freeze or thaw the selected cgroup (or the freezer cgroup of the selected process):
    freezer.state for cgroup v1, cgroup.freeze for v2."""

    id, key, title = "freeze", "z", "Freeze/thaw"
    footer = "freeze"

    def _cg(self, app, cgroup: str | None):
        if cgroup is not None:
            return app.engine.k.cgroup(cgroup)
        cg = _freezer_of_selection(app)
        if cg is None:
            raise CommandError("freeze: select a cgroup or a process in one")
        if cg.freezer is None:
            with_fz = [c.path for c in app.engine.k.cgroups.values() if c.freezer]
            hint = f"; cgroups with one: {', '.join(with_fz)}" if with_fz else "; this scene has none"
            raise CommandError(f"cgroup {cg.path} has no freezer{hint}")
        return cg

    def available(self, app):
        cg = _freezer_of_selection(app)
        return cg is not None and cg.freezer is not None

    def label(self, app):
        cg = _freezer_of_selection(app)
        if cg is None:
            return self.title
        return f"{'Thaw' if cg.freeze_self else 'Freeze'} {cg.path} ({cg.freezer})"

    def execute(self, app, cgroup: str | None = None, freeze: bool | None = None) -> None:
        cg = self._cg(app, cgroup)
        if freeze is None:
            freeze = not cg.freeze_self
        app.apply_action(A.Freeze(cgroup=cg.path) if freeze else A.Thaw(cgroup=cg.path))


class Kill(Command):
    """Send SIGKILL to the selected process (kill -9)."""

    id, key, title = "kill", "k", "SIGKILL"

    def available(self, app):
        return _live_selected(app)

    def label(self, app):
        return f"SIGKILL {_proc_label(app)}"

    def execute(self, app, pid: int | None = None) -> None:
        app.apply_action(A.Kill(pid=_pid(app, pid, "kill")))


class Term(Command):
    """Send SIGTERM to the selected process (fatal only without a handler)."""

    id, key, title = "term", "t", "SIGTERM"
    show = False

    def available(self, app):
        return _live_selected(app)

    def label(self, app):
        return f"SIGTERM {_proc_label(app)}"

    def execute(self, app, pid: int | None = None) -> None:
        app.apply_action(A.Sigterm(pid=_pid(app, pid, "sigterm")))


class Mrelease(Command):
    """process_mrelease(pidfd, 0) on the selected process, as lmkd does after SIGKILL: reaps its
    private memory in the caller's context. The return value and errno are shown."""

    id, key, title = "mrelease", "m", "mrelease"
    footer = "mrelease"

    def available(self, app):
        return app.table.selected_process() is not None

    def label(self, app):
        return f"process_mrelease on {_proc_label(app)}"

    def execute(self, app, pid: int | None = None, flags: int = 0) -> None:
        app.apply_action(A.Mrelease(pid=_pid(app, pid, "process_mrelease"), flags=int(flags)))


class Adj(Command):
    """Set oom_score_adj (-1000..1000) of the selected process."""

    id, key, title = "adj", "a", "oom_score_adj"
    footer = "adj"

    def available(self, app):
        return _live_selected(app)

    def label(self, app):
        return f"Set oom_score_adj of {_proc_label(app)}"

    def execute(self, app, pid: int | None = None, value: int | None = None) -> None:
        target = _pid(app, pid, "oom_score_adj")
        if value is not None:
            app.apply_action(A.SetAdj(pid=target, value=int(value)))
            return
        p = app.engine.k.process(target)

        def done(v: int | None) -> None:
            if v is not None:
                app.run_command("adj", pid=target, value=v)

        app.ask_adj(p.pid, p.comm, p.oom_score_adj, done)


class Move(Command):
    """Move the selected process into another cgroup (echo PID > cgroup.procs): a memory cgroup, or
    one of the freezer's own hierarchy. What it has charged stays with the memcg it leaves."""

    id, key, title = "move", "c", "Move to cgroup"
    show = False

    def available(self, app):
        return _live_selected(app)

    def label(self, app):
        return f"Move {_proc_label(app)} to a cgroup"

    def execute(self, app, pid: int | None = None, cgroup: str | None = None, hierarchy: str | None = None) -> None:
        target = _pid(app, pid, "move")
        if cgroup is not None:
            app.apply_action(A.Move(pid=target, cgroup=cgroup, hierarchy=hierarchy))
            return
        k = app.engine.k
        p = k.process(target)
        here = {p.cgroup, p.freezer_cgroup}
        # the freezer's own root is "/" too (listed before its first cgroup): an item's key names the
        # hierarchy ("freezer:/")
        cgroups = list(k.cgroups.values())
        if k.freezer_root is not None:
            cgroups.insert(next(i for i, c in enumerate(cgroups) if not c.memory), k.freezer_root)
        items = [(f"{'memory' if c.memory else 'freezer'}:{c.path}",
                  f"{c.path:<24} {'memory' if c.memory else 'freezer'} hierarchy"
                  + (f", {c.freezer} freezer" if c.freezer else ""))
                 for c in cgroups if c not in here]
        if not items:
            raise CommandError("move: this scene has no other cgroup")

        def done(v: str | None) -> None:
            if v is not None:
                where, path = v.split(":", 1)
                app.run_command("move", pid=target, cgroup=path, hierarchy=None if path != "/" else where)

        app.pick(f"Move {p.comm} ({p.pid}) to", items, None, done)


class Unlock(Command):
    """Unlock a futex held by the selected thread or process (pthread_mutex_unlock)."""

    id, key, title = "unlock", "u", "Unlock futex"
    show = False

    def _held(self, app):
        k = app.engine.k
        r = app.table.selected
        if r is None:
            return []
        if r.kind == "t":
            tasks = [r.obj]
        elif r.kind == "p":
            tasks = list(r.obj.threads)
        else:
            return []
        return [f.name for f in k.futexes.values() if f.owner_task in tasks]

    def available(self, app):
        return bool(self._held(app))

    def label(self, app):
        held = self._held(app)
        return f"Unlock {held[0]}" if held else self.title

    def execute(self, app, futex: str | None = None) -> None:
        if futex is None:
            held = self._held(app)
            if not held:
                raise CommandError("unlock: the selection holds no futex")
            futex = held[0]
        if futex not in app.engine.k.futexes:
            raise CommandError(f"unlock: no futex {futex!r}")
        app.apply_action(A.Unlock(futex=futex))


class Policy(Command):
    """Choose the kernel policy (era) for decisions from now on; `r` restarts under it."""

    id, key, title = "policy", "p", "Policy"
    footer = "policy"

    def execute(self, app, policy: str | None = None) -> None:
        if policy is not None:
            app.apply_action(A.SetPolicy(policy=policy))
            return
        cur = app.engine.k.policy.id
        # what each one does on a line of its own: on one line it wrapped to column 0 below 120 columns
        items = [(p.id, f"{p.id:<18} {p.kernels}\n    {p.title}") for p in POLICIES.values()]

        def done(v: str | None) -> None:
            if v is not None and v != cur:
                app.run_command("policy", policy=v)

        app.pick("Kernel policy", items, cur, done)


class Restart(Command):
    """Start the scene again from time 0, under the policy in force now."""

    id, key, title = "restart", "r", "Restart"
    show = False

    def execute(self, app, policy: str | None = None) -> None:
        app.engine.restart(policy)
        app.reset_view(briefing=False)
        # paused at 0 after a result: said in words too (the footer's "space run" is easy to miss)
        run = f", paused at 0: {app._key_of('pause')} runs" if app.engine.paused else ""
        app.notify(f"Restarted under {app.engine.k.policy.id}{run}", title=app.engine.sim.scene.title, timeout=2)


class Scene(Command):
    """Pick a scene: the story path in order, then the scenarios and those of `--scenes DIR`, or a scene
    file of your own (not in a browser session of `oomtui serve`); with difficulty and your best score."""

    id, key, title = "scene", "s", "Scenes"
    footer = "scenes"

    def execute(self, app, scene: str | None = None) -> None:
        from ..scene.load import load_scene

        if scene is not None:
            if not app.may_open(scene):
                raise CommandError(f"{scene}: this session opens only the scenes its picker lists")
            app.engine.load(load_scene(scene))
            app.reset_view(briefing=app.brief_new_scenes)
            return
        def done(v: str | None) -> None:
            if v is not None:
                app.run_command("scene", scene=v)

        app.pick_scene(app.engine.sim.id, done)


class Hint(Command):
    """Show or hide the scene's hint in the objective panel."""

    id, key, title = "hint", "h", "Hint"
    show = False  # the objective panel says "h hint" (its key in force)

    def available(self, app):
        g = app.engine.sim.scene.game
        return g is not None and bool(g.hint)

    def execute(self, app) -> None:
        g = app.engine.sim.scene.game
        if g is None or not g.hint:
            raise CommandError("this scene has no hint")
        if app.compact:  # the one-line objective panel has no row for it: h seemed to do nothing at 80x24
            app.notify(g.hint, title="Hint", timeout=10)
            return
        app.goals.toggle_hint()


class End(Command):
    """End the scene now: run the rest of it at once and see the result (score, what happened,
    which kernel would have saved you)."""

    id, key, title = "end", "e", "End & score"
    show = False  # the objective panel says "e end" (its key in force)

    def execute(self, app) -> None:
        if app.engine.finished and app.engine.end_noted:
            if app.engine.sim.scene.goals:
                app.finish()
            return
        app.run_to_end()


class Teach(Command):
    """Teach mode on or off: the clock stops at each kernel decision (a victim chosen, the reaper's
    timer armed or fired, a futex owner dying, a waiter's fate, process_mrelease returning) with a card
    saying what the kernel did and what you can do now; space goes on."""

    id, key, title = "teach", "T", "Teach mode"
    show = False

    def label(self, app):
        return "Teach mode off" if app.seq.teach else "Teach mode on"

    def execute(self, app, on: bool | None = None) -> None:
        on = (not app.seq.teach) if on is None else bool(on)
        app.seq.set_teach(on)
        app.after_events([], moved=False)
        app.notify("the clock stops at each kernel decision" if on else "the clock runs through",
                   title=f"Teach mode {'on' if on else 'off'}", timeout=3)


class Filter(Command):
    """Filter the process tree by comm, pid, tid or cgroup (escape clears)."""

    id, key, title = "filter", "slash", "Filter"
    show = False

    def execute(self, app, text: str | None = None) -> None:
        if text is not None:
            app.set_filter(text)
        else:
            app.open_filter()


class Panel(Command):
    """In the compact layout: show the next side panel (reaper, futexes, memory, OOM decision)."""

    id, key, title = "panel", "v", "Panel"
    show = False

    def execute(self, app, panel: str | None = None) -> None:
        app.cycle_panel(panel)


class Select(Command):
    """Select a process, thread or cgroup in the tree (for scripts; the arrow keys do it by hand)."""

    id, key, title = "select", None, "Select"
    show = False

    def available(self, app):
        return False

    def execute(self, app, pid: int | None = None, tid: int | None = None, cgroup: str | None = None) -> None:
        ok = (app.table.select_pid(int(pid)) if pid is not None else
              app.table.select_tid(int(tid)) if tid is not None else
              app.table.select_cgroup(cgroup) if cgroup is not None else False)
        if not ok:
            raise CommandError(f"select: nothing matches pid={pid} tid={tid} cgroup={cgroup}")


class Help(Command):
    """Show every command, its key and what it does."""

    id, key, title = "help", "question_mark,f1", "Help"
    key_display = "?"
    footer = "help"

    def execute(self, app) -> None:
        app.show_help()


class Palette(Command):
    """Open the command palette: every command that makes sense now, by name."""

    # ctrl+p is Textual's own binding (App.COMMAND_PALETTE_BINDING); ":" is vim's and htop's way in
    id, key, title = "palette", "colon", "Palette"
    key_display = "^p, :"
    show = False

    def available(self, app):
        return False

    def execute(self, app) -> None:
        app.action_command_palette()


class Quit(Command):
    """Quit oomtui."""

    id, key, title = "quit", "q,f10", "Quit"  # F10: htop's quit key
    footer = "quit"

    def execute(self, app) -> None:
        app.exit()


class Interrupt(Command):
    """Quit at once with exit status 130, as Ctrl-C stops any command in a shell (with text selected, Ctrl-C
    copies it instead)."""

    id, key, title = "interrupt", "ctrl+c", "Interrupt"
    show = False

    def available(self, app):
        return False  # the palette has Quit

    def execute(self, app) -> None:
        # a priority binding (dialogs pass no other App key on), so Textual's copy of a mouse selection is here
        selected = app.screen.get_selected_text()
        if selected:
            app.copy_to_clipboard(selected)
            return
        app.exit(return_code=130)


COMMANDS: list[Command] = [
    Pause(), Step(), NextEvent(), Faster(), Slower(), Oom(), Freeze(), Kill(), Term(), Mrelease(), Adj(),
    Move(), Unlock(), Policy(), Restart(), Scene(), Hint(), End(), Teach(), Filter(), Panel(), Select(), Help(), Palette(),
    Quit(), Interrupt(),
]
# keys that are not commands, for the help screen and the README's table (docs/keys.py): (keys, what, help)
OTHER_KEYS = [
    ("↑ ↓ ← →", "Tree", "move in the process tree; ← → collapse/expand, enter toggles threads"),
    ("PgUp PgDn", "Tree", "a page up or down; Home and End: the first and the last row"),
    ("enter, esc", "Go on / look", "on the briefing, a teach card or a held caption: enter goes on, as space does "
                                   "(esc too, on a card); esc on the briefing closes it and stays paused at 0; esc "
                                   "also clears a filter"),
]
# the footer's order: keys that do not fit are left out from the right, and help and quit must stay
FOOTER_FIRST = ("help", "quit")
BY_ID: dict[str, Command] = {c.id: c for c in COMMANDS}


def bindings() -> list[Binding]:
    """One Binding per command; its id ("oomtui.kill") lets a keymap move it to another key."""
    out = []
    first = [BY_ID[i] for i in FOOTER_FIRST]
    for c in first + [c for c in COMMANDS if c not in first]:
        if c.key is None or not c.bind:
            continue
        # q and ctrl+c quit from every screen (a dialog, the result screen) unless a text input has the key:
        # a priority binding is still filtered out where an Input consumes the key (not "/": Textual has no
        # character for its name; App.check_action refuses it in the filter). / is one too: handled as the App
        # reads it, it focuses the filter before the keys typed after it are handed on
        out.append(Binding(c.key, f"command('{c.id}')", c.footer or c.title, show=c.show, key_display=c.key_display,
                           tooltip=c.help(), id=c.binding_id(), priority=c.id in ("quit", "interrupt", "filter")))
    return out
