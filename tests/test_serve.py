"""`oomtui serve` without a browser: the extra it needs, the command each session runs, where it listens.
(tests/web drives it in a browser; tests/tui/test_served.py is a served session's scene picker and scores.)"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys

import pytest

from oomtui.cli import build_parser, main
from oomtui.scene.load import resolve


def test_without_the_web_extra_serve_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # import fails as if not installed
    assert main(["serve"]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == "oomtui: serve needs the web extra: pip install 'oomtui[web]'\n"


def _served_argv(*serve_args: str) -> list[str]:
    """The argv a browser session gets, after the shell textual-serve runs it with."""
    from oomtui.serve import make_server

    cmd = make_server(build_parser().parse_args(["serve", *serve_args])).command
    shown = subprocess.run(["sh", "-c", cmd.replace(shlex.quote(sys.executable), shlex.quote(sys.executable) + " -c "
                            + shlex.quote("import json, sys; print(json.dumps(sys.argv[1:]))"), 1)],
                           capture_output=True, text=True, check=True).stdout
    return json.loads(shown)


def test_each_session_gets_serves_play_options_through_the_shell(tmp_path):
    d = tmp_path / "it's $(touch PWNED) `x` a \"dir\""
    d.mkdir()
    scene = d / "-first oom.toml"  # a leading "-" is still the scene, not an option
    scene.write_text(resolve("first-oom")[1], encoding="utf-8")
    given = ["--policy", "linux-5.18", "--kernel", "6.1", "--report", "2", "--paused", "--speed", "2.5", "--autoplay", "--big",
             "--no-teach", "--scenes", str(d), str(scene)]
    argv = _served_argv(*given)
    assert argv[:3] == ["-m", "oomtui", "play"]
    served = build_parser().parse_args(argv[2:])
    asked = build_parser().parse_args(["play", *given])
    assert served.served and not asked.served
    served.served = False
    assert vars(served) == vars(asked)
    # and that is every option of `play` but its own: a new one fails here until it is given above (and serve
    # passes it on). A live recording writes a file on the server: no option of serve, nor of its sessions.
    default = vars(build_parser().parse_args(["play"]))
    play_only = {"record", "overwrite"}
    given_keys = {k for k, v in vars(asked).items() if v != default[k]}
    assert given_keys == set(default) - {"command", "func", "served"} - play_only
    assert not play_only & set(vars(build_parser().parse_args(["serve"])))
    assert not list(tmp_path.rglob("PWNED"))


def test_relative_files_reach_the_session_as_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.toml").write_text(resolve("first-oom")[1], encoding="utf-8")
    argv = _served_argv("--scenes", "mine", "mine/a.toml")
    assert argv[-4:] == ["--scenes", str(tmp_path / "mine"), "--", str(tmp_path / "mine" / "a.toml")]
    assert _served_argv("first-oom")[-2:] == ["--", "first-oom"]  # a built-in id stays an id


@pytest.fixture
def no_serving(monkeypatch):
    """serve's start-up up to the point where textual-serve would run: recorded, not run."""
    from textual_serve.server import Server

    ran = []
    monkeypatch.setattr(Server, "serve", lambda self: ran.append((self.host, self.port, self.command)))
    return ran


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_listens_on_this_machine_by_default(no_serving, capsys):
    port = _port()
    assert main(["serve", "--port", str(port)]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    assert out.out.splitlines()[0] == f"oomtui: serving the interactive view on http://127.0.0.1:{port}"
    assert [r[:2] for r in no_serving] == [("127.0.0.1", port)]


def test_another_host_is_served_with_a_warning(no_serving, capsys):
    port = _port()
    assert main(["serve", "--host", "0.0.0.0", "--port", str(port)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("oomtui: warning: serving on 0.0.0.0") and "no authentication" in err
    assert err.count("\n") == 1


def test_a_taken_port_is_one_line_and_nothing_served(no_serving, capsys):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    out = capsys.readouterr()
    assert out.out == "" and no_serving == []
    assert out.err.startswith(f"oomtui: cannot serve on 127.0.0.1 port {port}: ") and out.err.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--speed", "0"], "oomtui: --speed 0: expected 0.05 to 100"),
    (["no-such-scene"], "oomtui: no built-in scene 'no-such-scene'"),
    (["--policy", "linux-0.1"], "oomtui: first-oom (built-in): unknown policy 'linux-0.1'"),
])
def test_bad_play_options_are_refused_before_serving(no_serving, capsys, args, message):
    assert main(["serve", *args, "--port", str(_port())]) == 2
    out = capsys.readouterr()
    assert out.out == "" and no_serving == []
    assert out.err.startswith(message) and out.err.count("\n") == 1


async def test_the_page_connects_to_the_address_the_browser_used():
    """With --host 0.0.0.0, textual-serve's page would send a browser elsewhere to ws://0.0.0.0."""
    from aiohttp.test_utils import TestClient, TestServer

    from oomtui.serve import make_server

    server = make_server(build_parser().parse_args(["serve", "--host", "0.0.0.0"]))
    async with TestClient(TestServer(await server._make_app())) as client:
        page = await (await client.get("/", headers={"Host": "workshop.example:8000"})).text()
    assert 'data-session-websocket-url="ws://workshop.example:8000/ws"' in page
    assert "0.0.0.0" not in page
