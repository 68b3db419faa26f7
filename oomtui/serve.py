"""`oomtui serve`: the interactive view in web browsers, through textual-serve (the `web` extra).

textual-serve starts a shell command for each browser tab that connects and relays that process's
Textual web-driver output to xterm.js in the page. Here the command is `python -m oomtui play --served`
with the play options serve was given. --served makes each session a guest of the server's user: its
scene picker opens the built-in scenes and the files of `--scenes DIR` only (never a path the player
types), and its best scores live in the session's process (no file that sessions would race to write).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shlex
import socket
import sys
from typing import NoReturn

from .errors import UserError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def play_argv(args: argparse.Namespace) -> list[str]:
    """The `oomtui play` command line a browser session runs: serve's play options, files made absolute."""
    from .scene.load import is_path

    argv = [sys.executable, "-m", "oomtui", "play", "--served"]
    for opt in ("policy", "kernel"):
        if getattr(args, opt) is not None:
            argv += [f"--{opt}", getattr(args, opt)]
    if args.report is not None:
        argv += ["--report", str(args.report)]
    if args.speed is not None:
        argv += ["--speed", repr(args.speed)]
    argv += [f"--{opt}" for opt in ("paused", "autoplay") if getattr(args, opt)]
    for opt in ("big", "teach"):  # yes, no or (None) the default
        if getattr(args, opt) is not None:
            argv.append(f"--{opt}" if getattr(args, opt) else f"--no-{opt}")
    if args.scenes:
        argv += ["--scenes", os.path.abspath(args.scenes)]
    if args.scene:  # after "--": a file name that starts with "-" is still the scene
        argv += ["--", os.path.abspath(args.scene) if is_path(args.scene) else args.scene]
    return argv


def main(args: argparse.Namespace) -> int:
    try:
        import textual_serve  # noqa: F401
    except ImportError:
        raise UserError("serve needs the web extra: pip install 'oomtui[web]'") from None
    from .tui.app import build

    # the arguments are checked once, here, rather than in each browser as a session that will not start
    build(argparse.Namespace(**{**vars(args), "served": True}))
    _can_listen(args.host, args.port)
    if args.host not in LOCAL_HOSTS:
        print(f"oomtui: warning: serving on {args.host}, not only to this machine: there is no authentication, "
              f"anyone who can reach port {args.port} can start sessions as {_user()}", file=sys.stderr)
    if args.host in ("0.0.0.0", "::"):
        where = f"every address of this machine, e.g. http://{socket.gethostname()}:{args.port}"
    else:
        where = f"http://{f'[{args.host}]' if ':' in args.host else args.host}:{args.port}"
    print(f"oomtui: serving the interactive view on {where}\n"
          f"oomtui: each browser tab gets its own session: oomtui {shlex.join(play_argv(args)[3:])}\n"
          "oomtui: Ctrl+C stops the server", flush=True)
    try:
        make_server(args).serve()
    except OSError as e:  # the port was taken since _can_listen
        _cannot_listen(args.host, args.port, e)
    return 0


def make_server(args: argparse.Namespace):
    """textual-serve's Server for serve's arguments, with the command each browser session runs."""
    from textual_serve.server import Server

    class OomServer(Server):
        def __init__(self, *a, **kw) -> None:
            super().__init__(*a, **kw)
            self.sessions: dict[asyncio.Task, asyncio.Event] = {}  # a tab's websocket handler -> set when it ends

        def initialize_logging(self) -> None:
            super().initialize_logging()
            # aiohttp logs each request (every static file, wrapped): noise on a presenter's screen
            logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

        async def on_startup(self, app) -> None:
            pass  # textual-serve's logo and "Serving" line: main prints ours once the port is known to be free

        async def handle_websocket(self, request):
            task, ended = asyncio.current_task(), asyncio.Event()
            self.sessions[task] = ended
            try:
                return await super().handle_websocket(request)
            finally:
                del self.sessions[task]
                ended.set()

        async def on_shutdown(self, app) -> None:
            # Ctrl+C: aiohttp would wait for each open tab's websocket to time out (about 22 s) and close the
            # event loop under the session processes. Cancelled, textual-serve's handler tells the session's
            # app to quit, waits for its process and closes the websocket (the tab says "Session ended").
            ending = list(self.sessions.items())
            for task, _ in ending:
                task.cancel()
            if ending:
                await asyncio.wait([asyncio.ensure_future(ended.wait()) for _, ended in ending], timeout=10)

        async def handle_index(self, request):
            # textual-serve writes the page's websocket URL from --host: with 0.0.0.0, a browser on another
            # machine would connect to ws://0.0.0.0. The address the browser used is the one that works.
            # (No await before the page is rendered: no other request sees this public_url.)
            self.public_url = f"{request.scheme}://{request.host}"
            return await super().handle_index(request)

    # textual-serve runs the command through the shell
    return OomServer(shlex.join(play_argv(args)), host=args.host, port=args.port, title="oomtui")


def _can_listen(host: str, port: int) -> None:
    """A taken port or an address of another machine is an error before anything says "serving"."""
    try:
        socket.create_server((host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET).close()
    except OSError as e:
        _cannot_listen(host, port, e)


def _cannot_listen(host: str, port: int, e: OSError) -> NoReturn:
    why = str(e.strerror or e).split(" (while attempting", 1)[0]  # socket.create_server adds the address again
    raise UserError(f"cannot serve on {host} port {port}: {why}") from None


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "this user"
