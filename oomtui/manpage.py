"""`oomtui man`: the manual page (roff, man(7) macros), read from the one argument parser like the
completion scripts (completion.walk), so it lists every subcommand and option there is.
Read it with `oomtui man | man -l -`."""

from __future__ import annotations

import argparse

from . import __version__
from .completion import Arg, walk


def manpage(parser: argparse.ArgumentParser) -> str:
    top, cmds = walk(parser)
    prog = top.name
    out = [
        f'.TH {prog.upper()} 1 "" "{prog} {__version__}" "User Commands"',
        ".ad l",  # left-aligned, unhyphenated: no stretched spaces, option names stay whole
        ".nh",
        ".SH NAME",
        f"{prog} \\- {_text(top.help.rstrip('.'))}",
        ".SH SYNOPSIS",
        f".B {prog}",
        "[\\fIOPTION\\fR]... [\\fICOMMAND\\fR [\\fIARG\\fR]...]",
        ".SH DESCRIPTION",
        _text(top.help),
        ".PP",
        _text(parser.epilog or ""),
        ".SH OPTIONS",
        *_entries(top.args),
        ".SH COMMANDS",
    ]
    for c in cmds:
        out += [f".SS {c.name}", f".B {prog} {_text(c.name)}", _synopsis(c.args), ".PP", _text(c.help) + "."]
        out += _entries(c.args)
    out += [
        ".SH EXIT STATUS",
        "0 on success; 2 for bad input or usage, with one line on standard error;",
        "1 when the TUI crashed, or when",
        f"\\fB{prog} lab\\fR or \\fB{prog} snapshot \\-\\-check\\-scores\\fR found the model and the kernel disagreeing;",
        "74 when the system refused a read or write (a full disk);",
        "70 for a bug in oomtui, with one line naming the error (OOMTUI_DEBUG=1 prints its traceback);",
        "130 when interrupted.",
    ]
    return "\n".join(out) + "\n"


def _synopsis(args: list[Arg]) -> str:
    parts = []
    for a in args:
        if a.flags == ["-h", "--help"]:
            continue
        if a.flags:
            long = next((f for f in a.flags if f.startswith("--")), a.flags[0])
            word = f"\\fB{_text(long)}\\fR" + (f" \\fI{_text(a.metavar)}\\fR" if a.metavar else "")
        else:
            word = f"\\fI{_text(a.metavar)}\\fR" + ("..." if a.repeats else "")
        parts.append(word if a.required else f"[{word}]")
    return " ".join(parts)


def _entries(args: list[Arg]) -> list[str]:
    out = []
    for a in args:
        if a.flags:
            head = ", ".join(f"\\fB{_text(f)}\\fR" for f in a.flags) + (f" \\fI{_text(a.metavar)}\\fR" if a.metavar else "")
        else:
            head = f"\\fI{_text(a.metavar)}\\fR"
        body = _text(a.help)
        if a.choices:
            body += f" (one of: {_text(', '.join(a.choices))})"
        out += [".TP", head, body]
    return out


def _text(s: str | None) -> str:
    """Plain text as roff: backslashes and hyphens escaped (\\- stays an ASCII minus to copy), and no line
    that starts with a control character."""
    s = (s or "").replace("\\", "\\e").replace("-", "\\-")
    return "\n".join("\\&" + line if line[:1] in (".", "'") else line for line in s.splitlines())
