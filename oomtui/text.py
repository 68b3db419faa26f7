"""Text from outside (scene files, file names, reports) made safe to put on a terminal.

A scene's `comm` or `title` may hold "\\x1b[2J", a bell or a lone "\\r": printed as is, it would clear
the screen, beep or overwrite the line, and inside the TUI it would break the layout. `visible()`
replaces every such character with a visible escape, so the text is shown, never obeyed:

- C0 controls (U+0000-U+001F), DEL (U+007F) and C1 controls (U+0080-U+009F, e.g. U+009B, the
  one-byte CSI) become ``\\xNN``;
- the Unicode line and paragraph separators and the bidirectional overrides/isolates (U+2028,
  U+2029, U+202A-U+202E, U+2066-U+2069), which reorder or break lines, become ``\\uNNNN``;
- `multiline=True` (a story, a hint, a caption) keeps "\\n" and "\\t", and turns "\\r\\n" into "\\n";
  single-line text (a comm, a title, a path) escapes them too ("\\n", "\\t").

Everything else, including a backslash, is left alone: this is for display, not a reversible encoding.
Pure: no Rich, no Textual.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
# the line/paragraph separators and bidi overrides/isolates (see above)
SEPARATORS_AND_OVERRIDES = "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ALL = re.compile(f"[\x00-\x1f\x7f-\x9f{SEPARATORS_AND_OVERRIDES}]")
_MULTI = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{SEPARATORS_AND_OVERRIDES}]")


def _escape(m: re.Match) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    o = ord(ch)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def visible(text: str, multiline: bool = False) -> str:
    """`text` with control characters shown as escapes (see the module docstring)."""
    if multiline:
        text = text.replace("\r\n", "\n")
        return _MULTI.sub(_escape, text) if _MULTI.search(text) else text
    return _ALL.sub(_escape, text) if _ALL.search(text) else text
