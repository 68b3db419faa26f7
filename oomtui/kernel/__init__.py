"""The kernel model: a pure, deterministic library that reads like mm/oom_kill.c.

It never imports Textual, Rich or the terminal front end (tests/test_purity.py enforces it).
"""
