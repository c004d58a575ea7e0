"""The solver layer: one adapter per solver backend, one optimisation loop, the diagnosis.

* :mod:`~netopt.solver.result`: :class:`SolveStatus`, :class:`SolveResult`, :class:`SolveOptions`;
* :mod:`~netopt.solver.backends`: the only module that talks to a solver (highspy, OR-Tools HiGHS, CP-SAT);
* :mod:`~netopt.solver.loop`: :func:`optimise`, the widening / warm-start / tie-break loop;
* :mod:`~netopt.solver.verify`: hard constraints checked from the decisions alone;
* :mod:`~netopt.solver.diagnose`: why a scenario has no plan;
* :mod:`~netopt.solver.coexistence`: living beside PuLP, highspy and OR-Tools in one process.
"""

from ..scenario import SolverSettings
from .backends import BACKENDS, BackendError, get_backend
from .loop import Optimum, candidate_sizes, optimise
from .result import SolveOptions, SolveResult, SolveStatus

__all__ = [
    "SolverSettings", "SolveStatus", "SolveResult", "SolveOptions", "Optimum", "optimise", "candidate_sizes",
    "get_backend", "BACKENDS", "BackendError",
]
