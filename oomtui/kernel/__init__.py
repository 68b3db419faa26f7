"""The kernel model: a pure, deterministic library that reads like mm/oom_kill.c.

Never imports Textual, Rich or anything in oomtui.tui (tests/test_purity.py enforces it).
"""
