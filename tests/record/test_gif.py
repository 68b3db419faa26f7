"""`oomtui record --gif`: agg (the `gif` extra, in the test extra too) renders the cast; without it, a message."""

from __future__ import annotations

import json
import struct
import sysconfig

from oomtui.cli import main


def gif_frames(data: bytes) -> tuple[int, int, int]:
    """(width, height, frames) of a GIF, by walking its blocks (GIF89a, section 17 onwards)."""
    assert data[:6] == b"GIF89a"
    w, h, flags = struct.unpack("<HHB", data[6:11])
    i = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)  # the global colour table
    frames = 0

    def sub_blocks(i: int) -> int:
        while data[i]:
            i += data[i] + 1
        return i + 1

    while data[i] != 0x3B:  # the trailer
        if data[i] == 0x21:  # an extension: label, then sub-blocks
            i = sub_blocks(i + 2)
        elif data[i] == 0x2C:  # an image: descriptor, local colour table, LZW minimum code size, sub-blocks
            frames += 1
            lflags = data[i + 9]
            i += 10 + (3 << ((lflags & 7) + 1) if lflags & 0x80 else 0)
            i = sub_blocks(i + 1)
        else:
            raise AssertionError(f"not a GIF block at {i}: {data[i]:#x}")
    return w, h, frames


def test_record_gif_renders_each_frame_of_the_cast(tmp_path, capsys):
    cast, out = tmp_path / "s.cast", tmp_path / "s.gif"
    assert main(["record", "sigterm-einval", "--size", "80x24", "-o", str(cast), "--gif", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    w, h, frames = gif_frames(out.read_bytes())
    # one GIF frame per output event: the cast's frames are 1/20 s apart, above agg's 1/30 s cap
    outputs = sum(1 for x in cast.read_text().splitlines()[1:] if json.loads(x)[1] == "o")
    assert frames == outputs > 50
    assert 0 < w / 80 < h / 24  # 80x24 cells, each higher than wide


def test_without_agg_record_gif_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    # neither beside this Python nor on PATH; and an `agg` that is another program does not count
    (tmp_path / "agg").write_text("#!/bin/sh\necho 'usage: agg CSV...'\n")
    (tmp_path / "agg").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *a, **k: str(tmp_path))
    out = tmp_path / "x.gif"
    assert main(["record", "sigterm-einval", "--gif", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'oomtui[gif]'" in err and "agg" in err
    assert "Traceback" not in err and not out.exists()

