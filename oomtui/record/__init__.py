"""Deterministic recordings of the TUI: asciicast v2 (`oomtui record`) and SVG (`oomtui screenshot`)."""
