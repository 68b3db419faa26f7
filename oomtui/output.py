"""The JSON documents oomtui prints, and their JSON Schemas (`oomtui schema NAME`).

Every document printed with --json carries `format_version` (dumps() puts FORMAT_VERSION first): it goes
up when a field changes meaning or goes away, so a script can refuse what it does not know; a new field does
not raise it. `explain --json` streams its reports and keeps a version of its own (ExplainOutput).
cli.py imports this module to build its parser, so msgspec and the outputs' modules load only when used.
"""

from __future__ import annotations

FORMAT_VERSION = 1

# `oomtui schema NAME`: the type each document decodes as ("module:Struct") and what prints it. Scene files are
# input, not output: theirs is the only schema without format_version.
SCHEMAS = {
    "scene": ("oomtui.scene.schema:Scene", "scene files (the default)"),
    "run": ("oomtui.report.cli:RunReport", "run --json (a scene with [races] adds `races`: a trials document)"),
    "trials": ("oomtui.scene.trials:Distribution", "run --trials N --json"),
    "compare": ("oomtui.report.cli:Comparison", "compare --json"),
    "compare-trials": ("oomtui.report.cli:TrialsComparison", "compare --trials N --json"),
    "explain": ("oomtui.importers.explain:ExplainOutput", "explain --json"),
    "lab": ("oomtui.lab.output:LabOutput", "lab --json"),
    "check-scores": ("oomtui.importers.snapshot:ScoreCheck", "snapshot --check-scores --json"),
}


def dumps(obj: object, indent: int = 0) -> str:
    """obj (a msgspec Struct or a dict of builtins) as one JSON document, format_version first."""
    import msgspec

    text = msgspec.json.encode({"format_version": FORMAT_VERSION, **msgspec.to_builtins(obj)}).decode()
    return msgspec.json.format(text, indent=indent) if indent else text


def document_type(name: str) -> type:
    """The type a printed document decodes as: the output's Struct plus its format_version."""
    import importlib
    from typing import Annotated, Literal

    import msgspec

    module, _, attr = SCHEMAS[name][0].partition(":")
    t = getattr(importlib.import_module(module), attr)
    if name == "scene" or "format_version" in t.__struct_fields__:
        return t  # scene files carry none; explain counts its own versions (importers/explain.py)
    version = Annotated[Literal[FORMAT_VERSION], msgspec.Meta(description="raised when a field changes meaning or goes away")]
    return msgspec.defstruct(t.__name__, [("format_version", version)], bases=(t,), kw_only=True,
                             module=t.__module__, namespace={"__doc__": t.__doc__})


def json_schema(name: str) -> dict:
    import msgspec

    schema = msgspec.json.schema(document_type(name))
    if name == "scene":
        # the scene loader reads a [[walkthrough]] step without `do` as a caption step: `do` is optional
        # there, so the step union has no discriminator a validator could require
        schema["$defs"]["Caption"]["required"].remove("do")
        del schema["$defs"]["Scene"]["properties"]["walkthrough"]["items"]["discriminator"]
    return schema


def schema_text(name: str) -> str:
    """What `oomtui schema NAME` prints: the schema, indented (no --json document: no format_version)."""
    import msgspec

    return msgspec.json.format(msgspec.json.encode(json_schema(name)).decode(), indent=2) + "\n"
