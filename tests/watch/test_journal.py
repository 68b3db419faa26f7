"""The kernel log through `journalctl -k -f` where /dev/kmsg cannot be opened (dmesg_restrict for an
unprivileged user), end to end: a stand-in journalctl on PATH (tests/watch/bin/journalctl) prints real
report lines as journalctl does, in writes that cut lines in two, and follows until terminated."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import pytest

from oomtui.watch import events
from oomtui.watch.monitor import Monitor

HERE = Path(__file__).resolve().parent
KMSG = HERE.parent / "data" / "reports" / "kmsg-5.10-two-reports-global-and-memcg.log"


@pytest.fixture
def journal(monkeypatch, tmp_path) -> Path:
    """kmsg refused as under dmesg_restrict; the stand-in journalctl first on PATH. Its arguments' file."""

    def refused(since, everything):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(events, "KmsgSource", refused)
    monkeypatch.setenv("PATH", f"{HERE / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_JOURNALCTL_KMSG", str(KMSG))
    monkeypatch.setenv("FAKE_JOURNALCTL_ARGV", str(tmp_path / "argv"))
    return tmp_path / "argv"


def test_ooms_from_journalctl_are_explained_and_it_is_stopped_at_the_end(v1, journal) -> None:
    m = Monitor(root=str(v1))
    assert m.source_note == "journalctl -k -f (/dev/kmsg: Operation not permitted (kernel.dmesg_restrict))"
    proc = m.source.proc
    deadline = time.monotonic() + 10
    while len(m.events) < 2 and time.monotonic() < deadline:
        m.poll()
        time.sleep(0.02)
    assert [e.summary() for e in m.events] == [
        "OOM in the whole machine: killed stress-ng (900); model agrees",
        "OOM in memcg /jobs/batch: killed cache-warmer (1510); model agrees",
    ]
    # every line whole, at its printk time: the same report as read from /dev/kmsg
    first, second = m.events
    assert (first.usec, len(first.lines), second.usec) == (812_000_000, 14, 913_000_000)
    assert first.lines[1] == "CPU: 0 PID: 900 Comm: stress-ng Not tainted 5.10.0-28-amd64 #1 Debian 5.10.209-2"
    assert journal.read_text().split() == ["-k", "-f", "-o", "short-monotonic", "--no-hostname", "--no-pager", "-q",
                                           "-n", "0"]  # only what is logged from now on
    assert proc.poll() is None  # it follows the journal
    m.close()
    assert proc.returncode == -signal.SIGTERM and m.source is None


def test_since_asks_journalctl_from_then(journal) -> None:
    source, note = events.open_source(since=1_700_000_000.5)
    try:
        assert note.startswith("journalctl -k -f")
        deadline = time.monotonic() + 10
        while not journal.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert journal.read_text().split()[-2:] == ["--since", "@1700000000"]
    finally:
        source.close()
