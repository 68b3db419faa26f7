"""oomtui.kernel is a pure library: no Textual, no Rich, no TUI (design.md)."""

import ast
import subprocess
import sys
from pathlib import Path

KERNEL = Path(__file__).resolve().parents[1] / "oomtui" / "kernel"


def test_kernel_sources_import_neither_textual_nor_rich():
    for f in KERNEL.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            for n in names:
                assert not n.split(".")[0] in ("textual", "rich"), f"{f.name} imports {n}"
                assert "tui" not in n.split("."), f"{f.name} imports {n}"


def test_importing_the_model_and_running_a_scene_loads_no_ui_library():
    code = (
        "import sys\n"
        "from oomtui.scene.load import load_scene\n"
        "from oomtui.scene.sim import Simulation\n"
        "Simulation(load_scene('robust-waiter')).run()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_does_not_import_textual_or_rich():
    code = (
        "import sys\n"
        "from oomtui.cli import build_parser\n"
        "build_parser().format_help()\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
