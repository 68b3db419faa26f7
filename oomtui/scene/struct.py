"""The base of every struct a scene file decodes into (scene/schema.py, actions.py, goals.py)."""

import msgspec


class SceneStruct(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    """Unknown keys are rejected. gc=False: a scene is a tree of values, never a cycle, so the garbage
    collector need not track (and walk) the 600 000 structs of a 100 000-process scene."""
