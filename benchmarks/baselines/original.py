"""The original C++/pybind11 extensions, for side-by-side rows only when a hand-built copy is
pointed at: ``STREAMRANK_ORIGINAL_PATH`` = the folder holding its ``cpp_event_processor*.so`` and
``cpp_leaderboard*.so``. Nothing of the original lives in this repository; without the variable
the rows that need it are skipped.

Both modules share their names with ours, so they are loaded from their files under those names
and taken out of ``sys.modules`` again (CPython files a single-phase extension module there as
it initialises it): ``import cpp_leaderboard`` keeps giving ours."""
from __future__ import annotations

import glob
import importlib.util
import os
import sys

ENV = "STREAMRANK_ORIGINAL_PATH"
_cache = {}


def available() -> bool:
    return bool(os.environ.get(ENV))


def load():
    """(cpp_event_processor, cpp_leaderboard) of the original; RuntimeError when unavailable."""
    if "mods" in _cache:
        return _cache["mods"]
    folder = os.environ.get(ENV)
    if not folder:
        raise RuntimeError(f"{ENV} is not set")
    mods = []
    for name in ("cpp_event_processor", "cpp_leaderboard"):
        found = glob.glob(os.path.join(folder, name + "*.so"))
        if not found:
            raise RuntimeError(f"no {name}*.so in {folder} ({ENV})")
        ours = sys.modules.get(name)
        try:
            spec = importlib.util.spec_from_file_location(name, found[0])
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            if ours is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = ours
        mods.append(module)
    _cache["mods"] = tuple(mods)
    return _cache["mods"]
