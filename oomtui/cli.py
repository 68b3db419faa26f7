"""Command line: one small function per subcommand; heavy imports happen inside them.

`oomtui --help` must start fast, so nothing here imports Textual or Rich at module level.
"""

from __future__ import annotations

import argparse
import sys

from . import __version__
from .completion import SHELLS
from .output import SCHEMAS


def _cmd_run(args: argparse.Namespace) -> int:
    from .report.cli import run_main

    return run_main(args)


def _cmd_compare(args: argparse.Namespace) -> int:
    from .report.cli import compare_main

    return compare_main(args)


def _cmd_check(args: argparse.Namespace) -> int:
    from .report.cli import check_main

    return check_main(args)


def _cmd_schema(args: argparse.Namespace) -> int:
    from .output import schema_text

    sys.stdout.write(schema_text(args.name))
    return 0


def _cmd_completion(args: argparse.Namespace) -> int:
    from .completion import SHELLS

    sys.stdout.write(SHELLS[args.shell](build_parser()))
    return 0


def _cmd_man(args: argparse.Namespace) -> int:
    from .manpage import manpage

    sys.stdout.write(manpage(build_parser()))
    return 0


def _cmd_scenes(args: argparse.Namespace) -> int:
    from .scene.builtin import scenes_main

    return scenes_main(args)


def _cmd_policies(args: argparse.Namespace) -> int:
    from .report.cli import policies_main

    return policies_main(args)


def _cmd_play(args: argparse.Namespace) -> int:
    check_output(args)
    # Start-up allocates a few hundred thousand long-lived objects (Textual, Rich, the model); the
    # collector's passes over them while they are made are wasted. play_main freezes them and turns it on.
    import gc

    gc.disable()
    try:
        from .tui.app import main as play_main  # it calls need_terminal() once the arguments are checked

        return play_main(args)
    finally:
        gc.enable()  # an error before the app ran (a test calling main() goes on)


def _cmd_serve(args: argparse.Namespace) -> int:
    from .serve import main as serve_main

    return serve_main(args)


def need_terminal() -> None:
    """The interactive view needs a terminal on stdin and stdout; without one (a pipe, a file, cron, CI)
    it refuses at once rather than draw into a file or wait for keys that never come. textual-serve and
    other Textual drivers set TEXTUAL_DRIVER: they bring their own terminal."""
    import os

    from .errors import UserError

    if os.environ.get("TEXTUAL_DRIVER"):
        return
    if not (_isatty(sys.stdin) and _isatty(sys.stdout)):
        raise UserError("the interactive view needs a terminal (stdin and stdout); "
                        "without one, try: oomtui run SCENE")


def _isatty(f) -> bool:
    try:
        return f is not None and f.isatty()
    except (AttributeError, ValueError):  # None, closed
        return False


def _cmd_record(args: argparse.Namespace) -> int:
    check_output(args)
    from .record.cast import main as record_main

    return record_main(args)


def _cmd_screenshot(args: argparse.Namespace) -> int:
    check_output(args)
    from .record.shot import main as shot_main

    return shot_main(args)


def _cmd_explain(args: argparse.Namespace) -> int:
    from .importers.explain import main as explain_main

    return explain_main(args)


def _cmd_import(args: argparse.Namespace) -> int:
    check_output(args)
    from .importers.to_scene import main as import_main

    return import_main(args)


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from .importers.snapshot import main as snapshot_main

    return snapshot_main(args)


def _cmd_watch(args: argparse.Namespace) -> int:
    from .watch.app import main as watch_main

    return watch_main(args)


def _cmd_lab(args: argparse.Namespace) -> int:
    from .lab.runner import main as lab_main

    return lab_main(args)


def _cmd_config(args: argparse.Namespace) -> int:
    from .config import main as config_main

    return config_main(args)


def _is_scene(word: str) -> bool:
    """A built-in scene id or a scene file: what `play` takes."""
    import os

    from .scene.builtin import builtin_ids

    return word in builtin_ids() or word.endswith(".toml") and os.path.isfile(word)


class _Parser(argparse.ArgumentParser):
    """argparse's parser with a usage error on one line, naming the nearest flag, subcommand or choice
    ("oomtui play: unrecognized argument '--pasued'; did you mean '--paused'?"), exit 2: the usage it
    printed first scrolled the message's meaning out of a newcomer's view."""

    def error(self, message: str):  # type: ignore[override]
        from .text import visible

        help_hint = f" (see `{self.prog} --help`)"
        print(f"{self.prog}: {visible(message)}" + ("" if "did you mean" in message else help_hint), file=sys.stderr)
        sys.exit(2)

    def _check_value(self, action, value):
        # a subcommand or a choice misspelled: the nearest one, not the whole list
        if action.choices is not None and value not in action.choices:
            from .config import did_you_mean

            choices = [str(c) for c in action.choices]
            if action.dest == "command" and _is_scene(str(value)):  # `oomtui first-oom`, as `oomtui` plays one
                raise argparse.ArgumentError(action, f"{value!r} is a scene; did you mean 'oomtui play {value}'?")
            raise argparse.ArgumentError(action, f"invalid choice {value!r}{did_you_mean(str(value), choices)}")
        super()._check_value(action, value)

    def check_flags(self, args: list[str]) -> None:
        """A flag this (sub)command does not have, even abbreviated, is the error, before argparse's own
        checks: `import R --ouptut x` said that -o/--output is required."""
        for arg in args:
            if arg == "--":
                return
            name = arg.split("=", 1)[0]
            if name.startswith("--") and not any(f.startswith(name) for f in self._option_string_actions):
                self.unrecognized([arg])

    def unrecognized(self, extra: list[str]):
        """The error for arguments this (sub)command does not take: the nearest flag for a misspelled one."""
        from .config import did_you_mean

        word = extra[0].split("=", 1)[0]
        flags = sorted(f for f in self._option_string_actions if f.startswith("--"))
        hint = did_you_mean(word, flags, "") if word.startswith("-") else ""
        self.error(f"unrecognized argument{'s' if len(extra) > 1 else ''} {' '.join(map(repr, extra))}{hint}")


class _Skipped:
    """A subcommand's parser that build_parser(only=...) does not build: every call is a no-op (that
    returns the stand-in again, so an argument group is skipped too)."""

    def __getattr__(self, name):
        return lambda *a, **kw: self


class _Subcommands:
    """The subparsers action, building only the subcommand `only` when it is given."""

    def __init__(self, subparsers, only: str | None):
        self.subparsers, self.only, self.built = subparsers, only, []

    def add_parser(self, name: str, **kw):
        if self.only is not None and name != self.only:
            return _Skipped()
        self.built.append(name)
        return self.subparsers.add_parser(name, **kw)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with `only`, just that subcommand's parser (each one costs about half a
    millisecond at start-up, mostly argparse looking for translations on disk). `parser.built` lists the
    subcommands built: the caller rebuilds in full when `only` is no subcommand."""
    p = _Parser(
        prog="oomtui",
        description="Watch, play with and check what the Linux kernel does when it runs out of memory.",
        epilog="With no command, or with play's options only (oomtui --paused), oomtui opens the interactive "
               "view on the built-in default scene: the story's first, whose briefing says which keys to press "
               "(? in the view lists every key). Another scene: oomtui play ID (oomtui scenes lists them).",
    )
    p.add_argument("--version", action="version", version=f"oomtui {__version__}")
    sub = _Subcommands(p.add_subparsers(dest="command", metavar="COMMAND"), only)
    p.built = sub.built
    p.commands = sub.subparsers.choices  # name -> its parser

    s = sub.add_parser("play", help="open the interactive view on a scene or a real OOM report (the default command)")
    _play_args(s)
    s.add_argument("--record", metavar="FILE.cast",
                   help="record the session as played, in real time (an asciicast v2 file; a marker at each "
                        "move and kernel decision)")
    _overwrite_arg(s)
    # the command `oomtui serve` runs for each browser session (see oomtui/serve.py): not for people
    s.add_argument("--served", action="store_true", help=argparse.SUPPRESS)
    s.set_defaults(func=_cmd_play)

    s = sub.add_parser("serve", help="serve the interactive view to web browsers (needs: pip install 'oomtui[web]')",
                       description="Serve `oomtui play` over HTTP: each browser tab gets its own session. "
                                   "There is no authentication: anyone who can reach the port can play.")
    _play_args(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    s.set_defaults(func=_cmd_serve)

    s = sub.add_parser("record", help="record the scene's walkthrough as an asciicast (.cast), in simulated time")
    _scene_args(s)
    s.add_argument("-o", "--output", metavar="FILE.cast", help="where to write the cast; - for stdout")
    s.add_argument("--gif", metavar="FILE.gif", help="also (or only) render it as a GIF, with agg: pip install 'oomtui[gif]'")
    _overwrite_arg(s)
    s.add_argument("--size", default="120x36", metavar="WxH", help="terminal size (default 120x36)")
    s.add_argument("--big", action="store_true", help="the presenter layout")
    s.add_argument("--teach", action="store_true",
                   help="show teach-mode cards at each kernel decision, each for its reading time")
    s.set_defaults(func=_cmd_record)

    s = sub.add_parser("screenshot", help="an SVG of the view at a given simulated time (for slides and docs)")
    _scene_args(s)
    s.add_argument("--at", default="0s", metavar="TIME", help='simulated time, e.g. "2.5s" (default 0s)')
    s.add_argument("-o", "--output", metavar="FILE.svg", required=True, help="where to write the SVG; - for stdout")
    _overwrite_arg(s)
    s.add_argument("--size", default="120x36", metavar="WxH", help="terminal size (default 120x36)")
    s.add_argument("--autoplay", action="store_true", help="play the walkthrough up to that time")
    s.add_argument("--big", action="store_true", help="the presenter layout")
    s.set_defaults(func=_cmd_screenshot)

    s = sub.add_parser("run", help="run a scene (or a real OOM report) headless and print its timeline, dmesg and outcome")
    _scene_args(s)
    _report_arg(s)
    s.add_argument("--until", metavar="TIME", help='simulate until this time (default: the scene\'s duration), e.g. "3s"')
    s.add_argument("--autoplay", action="store_true", help="play the scene's walkthrough as the player")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--threads", action="store_true",
                   help="with --json: each thread's state changes with their times (R, S, D, frozen_v1, frozen_v2, "
                        "exiting, zombie)")
    _trials_args(s)
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser("compare", help="run a scene under every policy, side by side")
    s.add_argument("scene", metavar="SCENE", help="a built-in scene id (see `oomtui scenes`) or a scene file")
    s.add_argument("--until", metavar="TIME", help="simulate until this time")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    _trials_args(s)
    s.set_defaults(func=_cmd_compare)

    s = sub.add_parser("check", help="validate scene files")
    s.add_argument("files", nargs="+", metavar="FILE", help="scene files (or built-in ids)")
    s.set_defaults(func=_cmd_check)

    s = sub.add_parser("schema", help="print the JSON Schema of scene files or of a --json output")
    s.add_argument("name", nargs="?", default="scene", choices=list(SCHEMAS), metavar="NAME",
                   help="; ".join(f"{n}: {what}" for n, (_, what) in SCHEMAS.items()))
    s.set_defaults(func=_cmd_schema)

    s = sub.add_parser("scenes", help="list the built-in scenes")
    s.set_defaults(func=_cmd_scenes)

    s = sub.add_parser("policies", help="list the kernel policies (eras)")
    s.set_defaults(func=_cmd_policies)

    s = sub.add_parser("explain", help="explain a real OOM report: who the kernel killed and why")
    s.add_argument("file", metavar="FILE", help="a file with one or more OOM reports (dmesg (also --json), "
                   "journalctl (also -o json, json-pretty), syslog, mail, JSON-lines logs); - for stdin")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--sort", default="points", choices=["points", "pid", "comm", "rss", "swapents", "pgtables", "adj",
                   "oom_score", "order"], help="order of the task table (default: points; order = the kernel's scan order)")
    s.add_argument("--all", action="store_true", help="show every row of the task dump, not the top 10")
    s.set_defaults(func=_cmd_explain)

    s = sub.add_parser("import", help="turn a real OOM report into a scene that replays it")
    s.add_argument("file", metavar="FILE", help="a file with an OOM report")
    s.add_argument("-o", "--output", metavar="SCENE.toml", required=True, help="where to write the scene; - for stdout")
    _overwrite_arg(s)
    s.add_argument("--report", type=int, default=1, metavar="N", help="which report of the file (default 1)")
    s.set_defaults(func=_cmd_import)

    s = sub.add_parser("snapshot", help="build a scene from this machine's /proc")
    s.add_argument("-o", "--output", metavar="SCENE.toml", help="write the scene here (default: stdout)")
    s.add_argument("--check-scores", action="store_true", help="compare the model's oom_score with /proc/PID/oom_score")
    s.add_argument("--json", action="store_true", help="with --check-scores: print one JSON object")
    s.set_defaults(func=_cmd_snapshot)

    s = sub.add_parser("config", help="where the config file is (--path), or the config in force (--show)")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--path", action="store_true", help="print the config file's path (it may not exist yet)")
    g.add_argument("--show", action="store_true",
                   help="print the config in force as TOML, defaults and every binding's keys included (the default)")
    s.set_defaults(func=_cmd_config)

    s = sub.add_parser("watch", help="this machine live, read-only: who the kernel would kill next in each memcg, "
                                     "and every real OOM kill explained as it happens")
    s.add_argument("--interval", default="1s", metavar="SECONDS", help="how often to read /proc (default 1s; 0.5s, 500ms)")
    s.add_argument("--cgroup", metavar="PATH",
                   help="only this memory cgroup and the groups under it (and their OOM kills); "
                        "'PREFIX*': every memcg whose path begins with PREFIX")
    s.add_argument("--since", metavar="TIME",
                   help="also show the OOM kills logged since TIME: boot, 30s, 10m, 2h, HH:MM[:SS] or "
                        "'YYYY-MM-DD HH:MM[:SS]' (default: only those after watch starts)")
    s.set_defaults(func=_cmd_watch)

    s = sub.add_parser("lab", help="run experiments on the real kernel and compare them with the model (root)")
    s.add_argument("experiment", nargs="?", metavar="EXPERIMENT", help="experiment name (see --list)")
    s.add_argument("--list", action="store_true", help="describe the experiments")
    s.add_argument("--all", action="store_true", help="run every experiment")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--model-only", action="store_true", help="only the kernel model's side (no root needed)")
    s.add_argument("--yes", action="store_true", help="run without asking (needed without a terminal)")
    s.add_argument("--trials", type=int, metavar="N",
                   help="lmkd-race: trials per placement on the real kernel (default 200)")
    s.add_argument("--cleanup", action="store_true", help="remove the cgroups and processes of lab runs that are gone")
    s.add_argument("--watch", action="store_true",
                   help="show the run live in `oomtui watch` (its memcgs, the real OOM kills explained); "
                        "its report when you quit")
    s.set_defaults(func=_cmd_lab)

    s = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)")
    s.add_argument("shell", choices=list(SHELLS), metavar="SHELL",
                   help='bash: eval "$(oomtui completion bash)"; zsh: save as _oomtui in your $fpath; '
                        "fish: save as ~/.config/fish/completions/oomtui.fish")
    s.set_defaults(func=_cmd_completion)

    s = sub.add_parser("man", help="print the manual page (roff): oomtui man | man -l -")
    s.set_defaults(func=_cmd_man)
    return p


def _report_arg(s: argparse.ArgumentParser) -> None:
    s.add_argument("--report", type=int, metavar="N",
                   help="SCENE is a file of real OOM reports: replay report N (a file that is a report rather "
                        "than TOML is replayed without it, report 1)")


def _trials_args(s: argparse.ArgumentParser) -> None:
    s.add_argument("--trials", type=int, metavar="N",
                   help="run it N times with the races inside each jiffy let loose (seeded random order, CPU "
                        "placement) and count the outcomes, with 95%% confidence intervals")
    s.add_argument("--seed", type=int, metavar="S", help="with --trials: the random seed (default: the scene's, or 0)")


def _play_args(s: argparse.ArgumentParser) -> None:
    """The options of the interactive view: `play`, and `serve`, which passes them to each session."""
    _scene_args(s, optional=True)
    _report_arg(s)
    s.add_argument("--paused", action="store_true", help="stay paused after the briefing (space runs the clock)")
    s.add_argument("--speed", type=float, metavar="X",
                   help="simulated seconds per real second (0.05 to 100; default 1, or the config's speed)")
    s.add_argument("--autoplay", action="store_true",
                   help="play the scene's walkthrough through the same commands as the keys, with captions")
    s.add_argument("--big", action=argparse.BooleanOptionalAction,
                   help="presenter layout: large digits for time, the reaper countdown and free memory "
                        "(default: the config's layout)")
    s.add_argument("--teach", action=argparse.BooleanOptionalAction, default=None,
                   help="stop at each kernel decision with a card saying what the kernel did (default: on for "
                        "story scenes you have not won yet, off with --autoplay)")
    s.add_argument("--scenes", metavar="DIR", help="also offer the scene files (*.toml) of DIR in the scene picker")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a port number, 1 to 65535")
    return port


def _overwrite_arg(s: argparse.ArgumentParser) -> None:
    s.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")


def check_output(args: argparse.Namespace) -> None:
    """-o FILE: an existing file is refused unless --overwrite (asciinema's convention), before any work
    is done. `-` is stdout; a path that exists but is no regular file (/dev/stdout, a fifo) is written to."""
    import os

    from .errors import UserError

    for out, or_stdout in ((getattr(args, "output", None), ", or -o - for stdout"), (getattr(args, "gif", None), ""),
                           (getattr(args, "record", None), "")):
        if out is not None and out != "-" and not getattr(args, "overwrite", False) and os.path.isfile(out):
            raise UserError(f"{out}: already exists; use --overwrite to replace it{or_stdout}")


def write_output(dest: str, text: str) -> str:
    """Write text (UTF-8, as is) to the file dest, or to stdout when dest is "-". Returns the name to
    use in messages. Errors become a UserError (main shows its control characters escaped)."""
    from .errors import UserError

    if dest == "-":
        sys.stdout.flush()
        buf = getattr(sys.stdout, "buffer", None)
        if buf is not None:
            buf.write(text.encode("utf-8"))
            buf.flush()
        else:
            sys.stdout.write(text)
        return "<stdout>"
    try:
        with open(dest, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    except OSError as e:
        raise UserError(f"{dest}: cannot write: {e.strerror or e}") from None
    return dest


def _scene_args(s: argparse.ArgumentParser, optional: bool = False) -> None:
    s.add_argument("scene", nargs="?" if optional else None, metavar="SCENE",
                   help="a built-in scene id (see `oomtui scenes`) or a scene file (.toml)")
    s.add_argument("--policy", metavar="ID", help="kernel policy (see `oomtui policies`); default: the scene's")
    s.add_argument("--kernel", metavar="X.Y",
                   help="kernel version for victim selection and dmesg formats (default: the policy's)")


def _top_flag(arg: str) -> bool:
    """oomtui's own flags, abbreviated or misspelled ("--vers", "--hlep"): every other flag is play's."""
    import difflib

    flags = ("-h", "--help", "--version")
    abbreviated = len(arg) > 2 and any(f.startswith(arg) for f in flags[1:])
    return arg in flags or abbreviated or bool(difflib.get_close_matches(arg, flags, n=1, cutoff=0.75))


def main(argv: list[str] | None = None) -> int:
    from .errors import UserError

    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-") and not _top_flag(argv[0]):
        argv = ["play", *argv]  # with no command: the interactive view (`oomtui --paused` too)
    parser = build_parser(only=argv[0])
    if not parser.built:  # an option (--help, --version) or no such command: argparse says which
        parser = build_parser()
    if argv[0] in parser.commands:
        parser.commands[argv[0]].check_flags(argv[1:])
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.commands.get(args.command, parser).unrecognized(extra)
    func = args.func
    stdout_at_start = _fd_stat(1)
    try:
        code = func(args)
        sys.stdout.flush()  # here, not at interpreter shutdown: a closed pipe is then caught below
        return code
    except UserError as e:
        from .text import visible

        # a message quotes file names and input: their control characters are shown, never obeyed
        print(f"oomtui: {visible(str(e), multiline=True)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("oomtui: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`oomtui run SCENE | head`): not an error. Python would flush stdout again at
        # shutdown and fail again, so stdout now goes to /dev/null (the Python docs' "Note on SIGPIPE")
        _stdout_to_devnull()
        return 0
    except Exception as e:  # one line, not a traceback (OOMTUI_DEBUG=1 shows it)
        import os

        if os.environ.get("OOMTUI_DEBUG"):
            raise
        if isinstance(e, OSError):  # the system refused (a full disk under stdout, a lost terminal)
            print(f"oomtui: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""), file=sys.stderr)
            return 74  # EX_IOERR
        from .text import visible

        print(f"oomtui: internal error (a bug in oomtui {__version__}): {type(e).__name__}: {visible(str(e))}; "
              "please report it with the command and its input (OOMTUI_DEBUG=1 prints the traceback)",
              file=sys.stderr)
        return 70  # EX_SOFTWARE
    except SystemExit as e:
        # Rich's Console.on_broken_pipe points stdout at /dev/null and raises SystemExit(1): the same case
        if e.code == 1 and stdout_at_start is not None and _fd_stat(1) != stdout_at_start and _stdout_is_devnull():
            return 0
        raise


def _fd_stat(fd: int) -> tuple[int, int] | None:
    import os

    try:
        st = os.fstat(fd)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _stdout_is_devnull() -> bool:
    import os

    try:
        st = os.stat(os.devnull)
    except OSError:
        return False
    return _fd_stat(1) == (st.st_dev, st.st_ino)


def _stdout_to_devnull() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's capture): nothing to flush later
        pass


if __name__ == "__main__":
    sys.exit(main())
