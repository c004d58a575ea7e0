"""Living beside other solver packages in one Python process.

OR-Tools ships HiGHS 1.12 inside ``libortools.so`` (via its own
``libhighs.so.1``); highspy carries HiGHS 1.16 in its extension module. The two
builds export the same C++ symbols (``Highs::run()`` and ~2,400 more). PuLP 3.3
loads highspy's extension with ``RTLD_GLOBAL`` when it is imported (so that its
own Rust extension finds the C++ runtime), which puts HiGHS 1.16 in the
process's global symbol scope. If OR-Tools is loaded after that, the dynamic
linker binds OR-Tools' references to HiGHS to the 1.16 build, whose classes
have another layout, and the first OR-Tools HiGHS solve crashes
(``HighsSolveProto``, segmentation fault). ``import highspy`` alone is harmless:
Python loads extensions with ``RTLD_LOCAL``.

netopt therefore loads OR-Tools' native modules through :func:`guard_ortools`:
when a HiGHS is already in the global scope, with ``RTLD_DEEPBIND``, so that
OR-Tools binds to the libraries it was built with. When OR-Tools was loaded by
someone else after a global HiGHS appeared, its HiGHS cannot be used safely,
and :func:`ortools_highs_problem` says so (the ``ortools-highs`` backend then
refuses to run instead of crashing the process). The default backend
(highspy) does not use OR-Tools' HiGHS at all.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

__all__ = ["guard_ortools", "foreign_highs_is_global", "ortools_highs_problem"]

_HIGHS_SYMBOL = "_ZN5Highs3runEv"  # Highs::run()
_ORTOOLS_NATIVE = "ortools.linear_solver.python.model_builder_helper"
_lock = threading.Lock()
_loaded_by_guard = False


def foreign_highs_is_global() -> bool:
    """True when some library has put HiGHS's C++ symbols in the global scope (RTLD_GLOBAL)."""
    try:
        getattr(ctypes.CDLL(None), _HIGHS_SYMBOL)
    except (AttributeError, OSError):
        return False
    return True


def _loaded_objects() -> list[str]:
    """Paths of the shared objects of this process, in the order they were loaded (dl_iterate_phdr)."""
    class _Info(ctypes.Structure):
        _fields_ = [("addr", ctypes.c_void_p), ("name", ctypes.c_char_p)]

    names: list[str] = []
    callback_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(_Info), ctypes.c_size_t, ctypes.c_void_p)

    def visit(info, size, data):
        raw = info.contents.name
        if raw:
            names.append(raw.decode(errors="replace"))
        return 0

    try:
        libc = ctypes.CDLL(None)
        libc.dl_iterate_phdr(callback_t(visit), None)
    except (AttributeError, OSError):
        return []
    return names


def guard_ortools() -> None:
    """Import OR-Tools' native model-builder module safely (see the module docstring)."""
    global _loaded_by_guard
    if _ORTOOLS_NATIVE in sys.modules:
        return
    with _lock:
        if _ORTOOLS_NATIVE in sys.modules:
            return
        deep = foreign_highs_is_global() and hasattr(os, "RTLD_DEEPBIND")
        old = sys.getdlopenflags()
        if deep:
            sys.setdlopenflags(os.RTLD_NOW | os.RTLD_DEEPBIND)
        try:
            __import__(_ORTOOLS_NATIVE)
        finally:
            sys.setdlopenflags(old)
        _loaded_by_guard = True


def ortools_highs_problem() -> str | None:
    """Why OR-Tools' HiGHS cannot be used safely in this process, or None when it can."""
    guard_ortools()
    if _loaded_by_guard or not foreign_highs_is_global():
        return None
    objects = _loaded_objects()
    ortools = next((k for k, p in enumerate(objects) if "libortools" in os.path.basename(p)), None)
    highs = next((k for k, p in enumerate(objects) if "highspy" in p and "_core" in os.path.basename(p)), None)
    if ortools is not None and (highs is None or ortools < highs):
        return None  # OR-Tools was bound before the other HiGHS was loaded
    return ("OR-Tools was loaded after another package (PuLP, spopt) made highspy's HiGHS global in this process; "
            "OR-Tools' own HiGHS would crash here. Fix: use [solver] backend = \"highspy\" (the default) or \"cp-sat\", "
            "or import netopt before pulp/spopt/ortools")
