"""Load scene files with errors in the file's own words: file, key path, line, what was expected,
and the nearest valid key for a typo. Built-in scenes: scene/builtin.py."""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
import types
import typing
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec

from ..errors import FileError, UserError
from ..gc_pause import gc_paused
from ..text import SEPARATORS_AND_OVERRIDES, visible
from . import plain_toml
from .builtin import builtin_ids, builtin_text
from .actions import Caption, do_name
from .schema import ProcessSpec, Scene


# What `oomtui` opens with no argument: the first story scene, so a newcomer sees the kernel move at once.
DEFAULT_SCENE = "first-oom"


class SceneError(FileError):
    """An error in a scene file."""


class NotToml(SceneError):
    """The scene file is not TOML at all (load_playable then tries it as an OOM report)."""


def is_path(ref: str) -> bool:
    """Whether a scene reference names a file rather than a built-in scene."""
    p = Path(ref)
    return p.suffix == ".toml" or p.exists() or "/" in ref


def resolve(ref: str) -> tuple[str, str]:
    """(display name, text) of a built-in id or a path."""
    p = Path(ref)
    if is_path(ref):
        shown = visible(str(p))  # a file name is printed in every error: never with raw control characters
        try:
            return shown, _read_scene_file(p, shown)
        except FileNotFoundError:
            raise UserError(f"{shown}: no such file") from None
        except IsADirectoryError:
            raise UserError(f"{shown}: is a directory, expected a scene file (.toml)") from None
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"{shown}: cannot read: {visible(str(e))}") from None
    text = builtin_text(ref)
    if text is None:
        ids = builtin_ids()
        hint = difflib.get_close_matches(ref, ids, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise UserError(f"no built-in scene {ref!r}{did} and no such file; `oomtui scenes` lists the built-in ones")
    return f"{ref} (built-in)", text


MAX_SCENE_BYTES = 64 << 20  # twice the engine benchmark's scene (100 000 processes, 500 000 threads)
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def _read_scene_file(p: Path, shown: str) -> str:
    """A scene file's text. Only a regular file of at most MAX_SCENE_BYTES: a FIFO or /dev/zero would
    hang the reader or fill memory. Opened non-blocking, so that opening a FIFO does not wait."""
    fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
            raise UserError(f"{shown}: is {kind}, expected a scene file (.toml)")
        data = f.read(MAX_SCENE_BYTES + 1)
    if len(data) > MAX_SCENE_BYTES:
        raise UserError(f"{shown}: larger than {MAX_SCENE_BYTES >> 20} MiB, the most a scene file may be")
    return data.decode("utf-8")


# A scene of at least this many processes keeps its process specs packed: blocks of PACK_BLOCK specs, each
# msgpack then zlib (1.7 MiB for 100 000 processes, against 100 MiB of structs), decoded a block at a time
# when a build reaches it and dropped once built. The specs and the model never all exist at once, and a
# restart, a replay or a race trial does not read the text again.
PACK_MIN_PROCESSES = 10_000
PACK_BLOCK = 1024
_encode = msgspec.msgpack.Encoder().encode
_decode_block = msgspec.msgpack.Decoder(list[ProcessSpec]).decode


def _pack(specs: list[ProcessSpec]) -> list[bytes]:
    return [zlib.compress(_encode(specs[i:i + PACK_BLOCK]), 1) for i in range(0, len(specs), PACK_BLOCK)]


def _unpack(packed: list[bytes]) -> Iterator[ProcessSpec]:
    for block in packed:
        yield from _decode_block(zlib.decompress(block))

# A scene text this long is kept compressed (zlib: the 27 MiB of 100 000 processes in 2.3 MiB, in 0.13 s):
# once decoded it is read again only to word an error.
PACK_MIN_CHARS = 1 << 20


class LoadedScene:
    """A decoded scene with what error messages need: its display name and text."""

    __slots__ = ("scene", "name", "_text", "ref", "packed")

    def __init__(self, scene: Scene, name: str, text: str, ref: str, packed: list[bytes] | None = None):
        self.scene, self.name, self.ref = scene, name, ref
        self._text: str | bytes = zlib.compress(text.encode(), 1) if len(text) >= PACK_MIN_CHARS else text
        self.packed = packed  # a big scene's process specs (_pack), scene.processes is then empty

    @property
    def text(self) -> str:
        t = self._text
        return t if type(t) is str else zlib.decompress(t).decode()  # type: ignore[union-attr]

    def process_specs(self) -> Iterator[ProcessSpec]:
        """The process specs in file order, for one build (a big scene's decoded one at a time)."""
        return iter(self.scene.processes) if self.packed is None else _unpack(self.packed)

    def error(self, path: str, message: str) -> SceneError:
        return SceneError(self.name, path, message, locate(self.text, path))


def load_scene(ref: str) -> LoadedScene:
    name, text = resolve(ref)
    # the ref is the scene's id on screen (the status bar, best scores): a path's control characters
    # are shown like the scene's own text
    return _loaded(text, name, visible(ref))


# lines only an OOM report has (any era): a file with one and no valid TOML is a report, not a scene
_REPORT_LINE = re.compile(r"invoked oom-killer|Out of memory|Memory cgroup out of memory|oom-kill:|Kill(?:ed)? process")


def load_playable(ref: str, report: int | None = None) -> LoadedScene:
    """A scene, or a real OOM report replayed as one (`oomtui play REPORT.log [--report N]`): the file
    is read as a report when --report is given, or when it is not TOML but has a report's lines. The
    scene is what `oomtui import` would write, so the model chooses among the report's processes."""
    name, text = resolve(ref)
    if report is None:
        try:
            return _loaded(text, name, visible(ref))
        except NotToml as e:
            if not _REPORT_LINE.search(text):
                if Path(ref).suffix == ".toml":
                    raise
                # a log without an OOM report, or a scene broken at its first lines: say what play takes
                raise NotToml(e.file, None, f"{e.message}; and it has no OOM report's lines ('invoked oom-killer', "
                              "'Killed process'): `oomtui play` takes a scene (TOML) or an OOM report", e.line) from None
    from ..importers.report import unjson_text
    from ..importers.to_scene import import_report

    imported = import_report(unjson_text(text), name, report or 1)  # a journal's JSON lines: their messages
    label = f"{name} report {report or 1}"
    return _loaded(imported.text, label, f"{visible(ref)}#{report or 1}")


def scene_files(directory: str) -> list[str]:
    """The scene files (*.toml) of a directory, sorted, for the scene picker (`--scenes DIR`). Each one
    is loaded here, so a broken file is reported (file:line) before the view opens, not in the picker."""
    d = Path(directory)
    shown = visible(directory)
    if not d.is_dir():
        raise UserError(f"--scenes {shown}: " + ("not a directory" if d.exists() else "no such directory"))
    try:
        files = sorted(str(p) for p in d.iterdir() if p.suffix == ".toml" and p.is_file())
    except OSError as e:
        raise UserError(f"--scenes {shown}: cannot read: {visible(e.strerror or str(e))}") from None
    if not files:
        raise UserError(f"--scenes {shown}: no scene files (*.toml) in it")
    for f in files:
        load_scene(f)
    return files


def loads(text: str, name: str = "<scene>") -> LoadedScene:
    """A scene from TOML text (generated scenes, tests, benchmarks), errors worded like a file's."""
    return _loaded(text, name, name)


def _toml(text: str, name: str, decode=None) -> dict:
    """The TOML document: plain_toml's fast reading where the text is plain enough (a generated
    scene of 100 000 processes), else tomllib's, whose errors are worded here."""
    try:
        return plain_toml.loads(text, decode)
    except plain_toml.NotPlain:
        pass
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        line = int(m.group(1)) if m else None
        raise NotToml(name, None, f"not valid TOML: {re.sub(r' [(]at line.*', '', str(e))}", line) from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise NotToml(name, None, "not valid TOML for a scene: arrays or tables nested too deep") from None


def _loaded(text: str, name: str, ref: str) -> LoadedScene:
    scene, packed = _parse(text, name)
    return LoadedScene(scene, name, text, ref, packed)


def parse_scene(text: str, name: str = "<scene>") -> Scene:
    """The scene, its processes included."""
    scene, packed = _parse(text, name)
    if packed is not None:
        scene.processes = list(_unpack(packed))
    return scene


def _parse(text: str, name: str) -> tuple[Scene, list[bytes] | None]:
    """The scene and, for a big one, its process specs packed (scene.processes is then empty)."""
    escapes = _MAY_NEED_ESCAPES.search(text) is not None
    packed: list[bytes] = []
    block: list[ProcessSpec] = []

    def decode(key: str, table: dict) -> object:
        """plain_toml's decode: each [[processes]] table becomes its ProcessSpec as soon as it is read, so
        that the dicts of a 100 000-process scene never all exist, and is packed with the block it ends
        (None takes its place in the document). With escapes to make visible, the specs stay structs
        for _make_visible, and are packed after (msgspec.convert keeps a ProcessSpec as it is)."""
        if key != "processes":
            return table
        spec = msgspec.convert(table, ProcessSpec)
        if escapes:
            return spec
        block.append(spec)
        if len(block) == PACK_BLOCK:
            packed.extend(_pack(block))
            block.clear()
        return None

    try:
        with gc_paused():
            data = _toml(text, name, decode)
    except msgspec.ValidationError:
        data = _toml(text, name)  # a bad process: decoded below with the rest, for its key path from the root
    procs = data.get("processes") if isinstance(data, dict) else None
    if procs and procs[0] is None:  # packed as read
        packed.extend(_pack(block))
        if len(procs) >= PACK_MIN_PROCESSES:
            del data["processes"]
        else:
            data["processes"] = list(_unpack(packed))
            packed = []
    else:
        packed = []  # what a plain reading packed before it gave the text up to tomllib
    for step in data.get("walkthrough", ()) if isinstance(data, dict) else ():
        if isinstance(step, dict):
            step.setdefault("do", do_name(Caption))  # a step without `do` only shows its caption
    try:
        with gc_paused():
            scene = msgspec.convert(data, Scene)
    except msgspec.ValidationError as e:
        raise _rewrite(e, data, text, name) from None
    except RecursionError:
        raise SceneError(name, None, "values nested too deep for a scene") from None
    if escapes:
        _make_visible(scene)
    if not packed and len(scene.processes) >= PACK_MIN_PROCESSES:  # read by tomllib, or made visible
        packed, scene.processes = _pack(scene.processes), []
    return scene, packed or None


# Where a decoded string can get a character visible() escapes from: one in the text itself (a tab
# may sit in a one-line string; a newline only in a multi-line one) or an escape sequence. Without any,
# every string is shown as it is and the walk over a scene of 100 000 processes is skipped.
_MAY_NEED_ESCAPES = re.compile(f"[\\\\\t\r\x00-\x08\x0b-\x1f\x7f-\x9f{SEPARATORS_AND_OVERRIDES}]|\"\"\"|'''")

# Scene text that may run over several lines; every other string (comm, title, a cgroup path, a goal's
# text) is one line, where a newline or a tab is escaped too.
MULTILINE = frozenset({"story", "briefing", "hint", "caption", "source", "reason"})


def _make_visible(obj, multiline: bool = False) -> None:
    """Every string of a decoded scene with its control characters shown as escapes (oomtui.text), so a
    comm "\\x1b[2J" is printed as those characters, never obeyed by the terminal. Done once here, so the
    TUI, `run`, `check` and `compare` all show the same text; identifiers (cgroup paths, futex names)
    change the same way everywhere they are written, so references between them still match."""
    if isinstance(obj, msgspec.Struct):
        for f in obj.__struct_fields__:
            v = getattr(obj, f)
            if isinstance(v, str):
                shown = visible(v, multiline=f in MULTILINE)
                if shown != v:
                    setattr(obj, f, shown)
            elif isinstance(v, (list, msgspec.Struct)):
                _make_visible(v, f in MULTILINE)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            if isinstance(v, str):
                obj[i] = visible(v, multiline=multiline)
            elif isinstance(v, (list, msgspec.Struct)):
                _make_visible(v)


_AT = re.compile(r"^(.*) - at `\$(.*)`$")


def _rewrite(e: msgspec.ValidationError, data: dict, text: str, name: str) -> SceneError:
    msg = str(e)
    m = _AT.match(msg)
    detail, jpath = (m.group(1), m.group(2)) if m else (msg, "")
    path = jpath.lstrip(".")
    unknown = re.match(r"Object contains unknown field `(.+)`", detail)
    if unknown:
        key = unknown.group(1)
        full = f"{path}.{key}" if path else key
        struct, variants, _ = _struct_at(path, data)
        fields = list(struct.__struct_fields__) if struct else []
        elsewhere = [v for v in variants if key in v.__struct_fields__]
        if struct is not None and elsewhere:
            # a key that another kind of action or goal takes: say what this kind takes
            tag, field = struct.__struct_config__.tag, struct.__struct_config__.tag_field
            return SceneError(name, full, f"{key!r} does not apply to {field} = {tag!r} (it takes: "
                              f"{', '.join(fields)})", locate(text, full))
        hint = difflib.get_close_matches(key, fields, n=1, cutoff=0.5)
        did = f"; did you mean {hint[0]!r}?" if hint else (f"; valid keys: {', '.join(fields)}" if fields else "")
        return SceneError(name, full, f"unknown key {key!r}{did}", locate(text, full))
    missing = re.match(r"Object missing required field `(.+)`", detail)
    if missing:
        key = missing.group(1)
        struct, _, node = _struct_at(path, data)
        if struct is not None and struct.__struct_config__.tag is not None and key != struct.__struct_config__.tag_field:
            cfg = struct.__struct_config__
            message = f"{cfg.tag_field} = {cfg.tag!r} needs {key} = ..."
        else:
            # every required key this table lacks, not one per run (a new scene file lacks several)
            keys = [key]
            if struct is not None and isinstance(node, dict):
                keys = [f.encode_name for f in msgspec.structs.fields(struct)
                        if f.required and f.encode_name not in node] or keys
            message = (f"missing required key {keys[0]!r}" if len(keys) == 1 else
                       "missing required keys " + ", ".join(repr(k) for k in keys))
        return SceneError(name, path or "(top level)", message, locate(text, path))
    if detail.startswith("Invalid value") and "." in path:
        # a `do` or `kind` that names no action or goal: the nearest one
        parent, _, key = path.rpartition(".")
        _, variants, _ = _struct_at(parent, data)
        tags = [v.__struct_config__.tag for v in variants if v.__struct_config__.tag_field == key]
        if tags:
            got = detail.removeprefix("Invalid value ").strip("'\"")
            hint = difflib.get_close_matches(got, tags, n=1, cutoff=0.5)
            did = f"did you mean {hint[0]!r}?" if hint else f"one of: {', '.join(tags)}"
            return SceneError(name, path, f"no {key} {got!r}; {did}", locate(text, path))
    detail = detail.replace("Expected", "expected").replace("`", "")
    return SceneError(name, path, detail, locate(text, path))


def _struct_at(path: str, data) -> tuple[type | None, list[type], object]:
    """The schema struct a key path points into (for "did you mean"), and where that is a tagged union
    (an action or a goal), every variant; the variant is the one the table's tag names in `data`.
    Last, the table itself in `data`."""
    t: object = Scene
    variants: list[type] = []
    node = data
    for tok, idx in re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", path):
        fields = getattr(t, "__annotations__", {})
        hints = typing.get_type_hints(t, include_extras=True) if fields else {}
        if tok not in hints:
            return None, [], None
        node = node.get(tok) if isinstance(node, dict) else None
        if idx and isinstance(node, list) and int(idx) < len(node):
            node = node[int(idx)]
        t, variants = _unwrap(hints[tok], node)
    return (t if hasattr(t, "__struct_fields__") else None), variants, node


def _unwrap(tp, node) -> tuple[object, list[type]]:
    """The struct type `tp` decodes `node` as: through Annotated, list and Optional; in a tagged union,
    the variant `node`'s tag names (None when it names none)."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (list,):
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            structs = [a for a in args if hasattr(a, "__struct_fields__")]
            if len(structs) > 1:  # a tagged union (msgspec allows no other union of structs)
                field = structs[0].__struct_config__.tag_field
                tag = node.get(field) if isinstance(node, dict) else None
                return next((a for a in structs if a.__struct_config__.tag == tag), None), structs
            tp = structs[0] if structs else args[0]
        else:
            return tp, []


def locate(text: str, path: str) -> int | None:
    """Best-effort line of a key path like processes[2].threads[0].tid in TOML text."""
    if not path:
        return None
    lines = text.splitlines()
    start = 0
    prefix: list[str] = []
    found: int | None = None
    for tok in re.findall(r"([A-Za-z_]+)(?:\[(\d+)\])?", path):
        key, idx = tok
        table = ".".join(prefix + [key])
        if idx:
            want = int(idx)
            header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
            hits = [i for i in range(start, len(lines)) if header.match(lines[i])]
            if len(hits) > want:
                start = found = hits[want]
                start += 1
            else:
                inline = re.compile(rf"^\s*{re.escape(key)}\s*=")
                hit = next((i for i in range(start, len(lines)) if inline.match(lines[i])), None)
                return hit + 1 if hit is not None else (found + 1 if found is not None else None)
            prefix.append(key)
        else:
            assign = re.compile(rf"^\s*{re.escape(key)}\s*=")
            sub = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
            end = next((i for i in range(start, len(lines)) if re.match(r"^\s*\[", lines[i])), len(lines))
            hit = next((i for i in range(start, end) if assign.match(lines[i])), None)
            if hit is None:
                hit = next((i for i in range(start, len(lines)) if sub.match(lines[i])), None)
                if hit is not None:
                    start = hit + 1
                    prefix.append(key)
            if hit is None:
                return found + 1 if found is not None else None
            found = hit
    return found + 1 if found is not None else None
