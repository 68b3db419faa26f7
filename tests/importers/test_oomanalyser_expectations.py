"""OOMAnalyser's own test expectations (tests/data/fixtures/oomanalyser/INDEX.md, "Upstream expectations" and the
input variants its tests derive), as facts of `oomtui explain --json` on the same reports (issue 9 §6)."""

from __future__ import annotations

import json
import re

import pytest

from oomtui.cli import main as cli_main

from .test_report import fixture_path


def explain_json(text: str, tmp_path, capsys) -> dict:
    f = tmp_path / "r.log"
    f.write_text(text, encoding="utf-8")
    assert cli_main(["explain", "--json", str(f)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format_version"] == 2
    return out


def one(text: str, tmp_path, capsys) -> dict:
    (r,) = explain_json(text, tmp_path, capsys)["reports"]
    return r


def text_of(prefix: str) -> str:
    return fixture_path(prefix).read_text(encoding="utf-8")


def _zone(r: dict, node: int, zone: str) -> dict:
    return next(z for z in r["allocation"]["zones"] if (z["node"], z["zone"]) == (node, zone))


def test_001_archlinux(tmp_path, capsys) -> None:
    r = one(text_of("001"), tmp_path, capsys)
    a, m = r["allocation"], r["memory"]
    assert a["gfp_mask"] == "0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO)"
    assert a["gfp_flags"] == ["GFP_HIGHUSER_MOVABLE", "__GFP_COMP", "__GFP_ZERO"]
    assert r["trigger"] == {"pid": 473206, "comm": "doxygen"}
    assert (m["swap_cache_kb"], m["swap_used_kb"], m["swap_free_kb"], m["swap_total_kb"]) == (99452, 25066284, 84, 25165820)
    assert m["ram_kb"] == 16461600 and m["ram_kb"] + m["swap_total_kb"] == 41627420
    assert (m["tasks_rss_kb"], 100 * m["tasks_rss_kb"] // m["ram_kb"]) == (11513452, 69)
    assert "below the low watermark" in a["verdict"] and a["fragmentation"] == "not fragmented"
    assert not r["manual"] and r["score_check"] is None  # automatic; no score printed since 5.1
    assert {z["zone"] for z in a["zones"]} == {"DMA", "DMA32", "Normal"}
    assert r["page_size"] == 4096


def test_002_proxmox_memcg(tmp_path, capsys) -> None:
    r = one(text_of("002"), tmp_path, capsys)
    assert r["constraint"] == "CONSTRAINT_MEMCG" and r["cause"]["kind"] == "memcg_limit"
    assert r["kernel_victim"] == {"pid": 3902942, "comm": "php-fpm"} and r["kernel_victim_rss_kb"] == 12781340
    assert r["memcg"]["swap_limit_kb"] == 0 and any("Swap is disabled for this cgroup" in a for a in r["advice"])
    assert r["memory"]["ram_kb"] is None  # no system Mem-Info in a memcg report


@pytest.mark.parametrize(
    ("line", "facts"),
    [  # the upstream variants of 002's swap line
        ("memory+swap: usage 33308672kB, limit 35405824kB, failcnt 100",
         {"memsw_limit_kb": 35405824, "swap_usage_kb": 33308672 - 31211520, "swap_limit_kb": 35405824 - 31211520}),
        ("swap: usage 2097152kB, limit 4194304kB", {"swap_usage_kb": 2097152, "swap_limit_kb": 4194304}),
    ],
)  # fmt: skip
def test_002_cgroup_swap_variants(line: str, facts: dict, tmp_path, capsys) -> None:
    text = text_of("002").replace("swap: usage 0kB, limit 0kB, failcnt 0", line)
    cg = one(text, tmp_path, capsys)["memcg"]
    assert {k: cg[k] for k in facts} == facts


def test_002_unlimited_memcg(tmp_path, capsys) -> None:
    text = re.sub(r"memory: usage 31211520kB, limit 31211520kB", "memory: usage 31211520kB, limit 9007199254740988kB",
                  text_of("002"))
    cg = one(text, tmp_path, capsys)["memcg"]
    assert cg["limit_kb"] is None and cg["usage_kb"] == 31211520  # PAGE_COUNTER_MAX: no limit


def test_003_rhel7(tmp_path, capsys) -> None:
    r = one(text_of("003"), tmp_path, capsys)
    a, m = r["allocation"], r["memory"]
    assert a["gfp_flags"] == ["GFP_HIGHUSER_MOVABLE", "__GFP_COLD"] and "3.10 flag table" in a["gfp_flags_source"]
    assert r["trigger"] == {"pid": 29481, "comm": "sed"} and r["score_check"]["printed"] == 651
    assert (m["swap_cache_kb"], m["swap_used_kb"], m["swap_free_kb"], m["swap_total_kb"]) == (45368, 8343236, 0, 8388604)
    assert m["ram_kb"] == 33519336 and m["ram_kb"] + m["swap_total_kb"] == 41907940
    assert (m["tasks_rss_kb"], 100 * m["tasks_rss_kb"] // m["ram_kb"]) == (31705788, 94)
    assert 100 * m["swap_used_kb"] // m["swap_total_kb"] == 99
    assert "below the low watermark" in a["verdict"] and a["fragmentation"] == "not fragmented"
    n0, n1 = _zone(r, 0, "Normal"), _zone(r, 1, "Normal")
    assert (n0["free_kb"], n0["min_kb"], n0["below"]) == (36692, 36784, "min")  # node 0 is below min
    assert (n1["low_kb"], n1["high_kb"]) == (56804, 68164)
    assert _zone(r, 0, "DMA")["high_kb"] == 60 and (_zone(r, 0, "DMA32")["free_kb"], _zone(r, 0, "DMA32")["low_kb"]) == (59728, 9788)
    assert (n0["free_blocks"][0], n1["free_blocks"][0], n0["free_blocks"][0] + n1["free_blocks"][0]) == (1231, 2245, 3476)
    assert n1["free_blocks"][6] == 2 and not any(n0["free_blocks"][6:]) and any(n1["free_blocks"][6:])
    assert _zone(r, 0, "DMA")["free_blocks"][5] == 1 and _zone(r, 0, "DMA32")["free_blocks"][4] == 157
    assert len(n0["free_blocks"]) == 11  # MAX_ORDER 11
    assert r["page_size"] == 4096 and not r["page_size_source"].startswith("assumed")
    assert r["platform"]["kernel"] == "3.10.0-514.6.1.el7.x86_64" and "RHEL" in r["platform"]["distribution"]
    names = {t["pid"]: t["comm"] for t in r["tasks"]}
    assert [names[p] for p in (390, 433, 868, 6576, 10635)] == [
        "systemd-journal", "systemd-udevd", "sshd", "mysqld", "sftp-server"]  # fmt: skip


def test_004_manual(tmp_path, capsys) -> None:
    r = one(text_of("004"), tmp_path, capsys)
    a, m = r["allocation"], r["memory"]
    assert a["gfp_flags"] == ["GFP_KERNEL"] and r["manual"] and r["cause"]["kind"] == "manual"
    assert a["verdict"] is None and a["fragmentation"] == "unknown"  # no allocation to check
    assert (m["tasks_rss_kb"], m["ram_kb"], 100 * m["tasks_rss_kb"] // m["ram_kb"]) == (209520, 2096632, 9)
    assert m["swap_total_kb"] == 0 and r["score_check"] is None
    names = {t["pid"]: t["comm"] for t in r["tasks"]}
    assert [names[p] for p in (323, 542, 608, 857, 651)] == [
        "systemd-journal", "systemd-timesyn", "networkd-dispat", "(sd-pam)", "unattended-upgr"]  # fmt: skip


def test_006_and_007_fragments_say_what_is_missing(tmp_path, capsys) -> None:
    r = one(text_of("006"), tmp_path, capsys)  # upstream: "The inserted OOM is incomplete!"
    assert not r["compared"] and any("has no 'Killed process' line" in p for p in r["problems"])
    r = one(text_of("007"), tmp_path, capsys)  # upstream: "Failed to extract kernel version from OOM text"
    assert r["kernel_victim"]["pid"] == 6576 and "inferred from the formats" in r["era_source"]
    assert any("beginning is missing" in p for p in r["problems"]) and r["advice"]


def test_empty_input_is_a_clear_error(tmp_path, capsys) -> None:
    (tmp_path / "e.log").write_text("", encoding="utf-8")
    assert cli_main(["explain", str(tmp_path / "e.log")]) == 2
    assert "no OOM report found" in capsys.readouterr().err


# --- the derived variants ------------------------------------------------------------------------------------


def test_manual_variant_of_003(tmp_path, capsys) -> None:
    r = one(text_of("003").replace("order=0,", "order=-1,"), tmp_path, capsys)
    assert r["manual"] and r["cause"]["kind"] == "manual" and r["allocation"]["verdict"] is None


@pytest.mark.parametrize("remove", ["Total swap = 8388604kB", "swap"])
def test_no_swap_variants_of_003(remove: str, tmp_path, capsys) -> None:
    text = text_of("003").replace("#012", "\n")
    if remove == "swap":  # all four swap lines
        text = "\n".join(l for l in text.splitlines() if not re.search(r"swap cache|Swap cache|Free swap|Total swap", l))
    else:
        text = text.replace(remove, "Total swap = 0kB")
    r = one(text, tmp_path, capsys)
    assert r["memory"]["swap_total_kb"] in (0, None) and r["kernel_victim"]["pid"] == 6576


def test_no_task_dump_variant_of_003(tmp_path, capsys) -> None:
    text = "\n".join(l for l in text_of("003").splitlines() if not re.match(r"\[\s*(\d+|pid)\s*\]", l))
    r = one(text, tmp_path, capsys)
    assert any("no task dump" in p for p in r["problems"])  # upstream: "Process table not found"
    assert r["memory"]["tasks_rss_kb"] is None and r["tasks"] == []


@pytest.mark.parametrize("prefix", ["001", "003", "004"])
def test_no_dma_zone_variant(prefix: str, tmp_path, capsys) -> None:
    text = "\n".join(l for l in text_of(prefix).replace("#012", "\n").splitlines() if "Node 0 DMA:" not in l
                     and "Node 0 DMA free:" not in l)  # fmt: skip
    r = one(text, tmp_path, capsys)
    assert r["allocation"]["zones"] == [] or "DMA" not in {z["zone"] for z in r["allocation"]["zones"]}
    assert r["agree"]


def test_no_watermarks_variant_of_003_is_unknown_fragmentation(tmp_path, capsys) -> None:
    text = "\n".join(l for l in text_of("003").replace("#012", "\n").splitlines()
                     if not re.search(r"Node \d+ \w+ free:|lowmem_reserve\[\]:", l))  # fmt: skip
    a = one(text, tmp_path, capsys)["allocation"]
    assert a["fragmentation"] == "unknown" and a["verdict"].startswith("unknown")


def test_comm_with_spaces_variant_of_003(tmp_path, capsys) -> None:
    lines = text_of("003").splitlines()
    lines[0] = lines[0].replace("sed invoked", "VM Monitoring Task invoked")
    text = "\n".join(lines).replace("(mysqld)", "(VM Monitoring Task)").replace(" mysqld\n", " VM Monitoring Task\n")
    r = one(text, tmp_path, capsys)
    assert r["trigger"]["comm"] == "VM Monitoring Task" and r["kernel_victim"]["comm"] == "VM Monitoring Task"
    assert r["model_victim"]["comm"] == "VM Monitoring Task" and r["agree"]


# --- causes beyond OOMAnalyser: each made from a real report with the one fact changed ----------------------------


def test_cause_of_each_real_report(tmp_path, capsys) -> None:
    kinds = {p: one(text_of(p), tmp_path, capsys)["cause"]["kind"] for p in ("001", "002", "003", "004")}
    assert kinds == {"001": "user_memory", "002": "memcg_limit", "003": "user_memory", "004": "manual"}
    dmesg = fixture_path("020", "dmesg").read_text(encoding="utf-8")
    r = one(dmesg, tmp_path, capsys)
    assert r["cause"]["kind"] == "lowmem" and "HighMem still had 118 MiB free" in r["cause"]["text"]
    assert any("64-bit kernel" in a for a in r["advice"])


def test_a_slab_leak_is_not_blamed_on_the_victim(tmp_path, capsys) -> None:
    """001 with ~15 GiB of unreclaimable slab and the processes shrunk to a few MiB."""
    text = text_of("001").replace("slab_unreclaimable:89303", "slab_unreclaimable:3900000")
    text = re.sub(r"(\[\s*\d+\]\s+\d+\s+\d+\s+\d+\s+)\d+", r"\g<1>300", text)  # every rss 300 pages
    r = one(text, tmp_path, capsys)
    assert r["cause"]["kind"] == "kernel_slab" and "14.9 GiB" in r["cause"]["text"]
    assert any("slabtop" in a for a in r["advice"]) and not any("MemoryMax" in a for a in r["advice"])


def test_free_pages_without_a_block_of_the_order_is_fragmentation(tmp_path, capsys) -> None:
    """020's order-1 request with Normal well above its watermark but only single free pages."""
    dmesg = fixture_path("020", "dmesg").read_text(encoding="utf-8")
    text = dmesg.replace("Normal free:42396kB", "Normal free:142396kB").replace(
        "DMA free:4084kB", "DMA free:94084kB")
    text = re.sub(r"Normal: 2261\*4kB.*", "Normal: 35599*4kB 0*8kB 0*16kB 0*32kB 0*64kB 0*128kB 0*256kB 0*512kB "
                  "0*1024kB 0*2048kB 0*4096kB = 142396kB", text)
    text = re.sub(r"DMA: 61\*4kB.*", "DMA: 23521*4kB 0*8kB 0*16kB 0*32kB 0*64kB 0*128kB 0*256kB 0*512kB 0*1024kB "
                  "0*2048kB 0*4096kB = 94084kB", text)
    r = one(text, tmp_path, capsys)
    assert r["allocation"]["fragmentation"] == "fragmented" and r["cause"]["kind"] == "fragmentation"
    assert all(z["free_block"] is False for z in r["allocation"]["zones"])
    assert any("compact_memory" in a for a in r["advice"])
    assert one(dmesg, tmp_path, capsys)["allocation"]["fragmentation"] == "not fragmented"


@pytest.mark.parametrize("prefix", ["001", "002", "003", "004", "005", "006", "007"])
def test_advice_is_never_empty(prefix: str, tmp_path, capsys) -> None:
    assert one(text_of(prefix), tmp_path, capsys)["advice"]
