"""oomtui: a faithful, playable model of the Linux OOM killer, the OOM reaper and robust futexes."""

__version__ = "0.1.0"
