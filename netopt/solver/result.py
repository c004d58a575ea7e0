"""Typed solver results: what a solver was asked and what it answered.

:class:`SolveStatus` names why a solve ended; :class:`SolveResult` is one
backend call's answer (frozen); :class:`SolveOptions` what it was given.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

__all__ = ["SolveStatus", "SolveResult", "SolveOptions", "relative_gap"]


class SolveStatus(enum.StrEnum):
    """Why a solve ended (the value is what summary.json and the report show)."""

    #: the plan is proven optimal: its objective equals the best bound
    OPTIMAL = "OPTIMAL"
    #: stopped because the plan is proven within the requested relative gap (> 0), or the solver
    #: ended with its proof but the exact plan lies above its bound by no more than its
    #: numerical tolerance (relative gap <= 1e-6): not proven optimal
    WITHIN_GAP = "WITHIN_GAP"
    #: stopped by the time limit with a plan that meets every constraint, not proven within the requested gap
    TIME_LIMIT = "TIME_LIMIT"
    #: stopped (time limit, interruption, solver failure) without a plan that meets every constraint
    NO_PLAN = "NO_PLAN"
    #: proven that no plan meets every constraint
    INFEASIBLE = "INFEASIBLE"

    @property
    def has_plan(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.WITHIN_GAP, SolveStatus.TIME_LIMIT)

    @property
    def proven(self) -> bool:
        """True when the answer is proven: optimal, or infeasible."""
        return self in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    """What one backend call is given.

    ``start`` is a partial plan to start from: ``(variable indices, values)``
    (the solver completes it; an infeasible start is ignored). ``cutoff`` is an
    objective value no plan of interest exceeds (nodes whose bound is above it
    are pruned; a solve with no plan below it ends with ``NO_PLAN``).
    ``absolute_gap`` proves optimality for an integer objective when the gap
    is below 1. ``node_limit`` stops the search after that many nodes: unlike
    a time limit, the same on every machine. ``cutoff_in_rows`` says that the
    model's rows already bound the objective by ``cutoff`` (then "no plan below
    the cutoff" is a proof of infeasibility). ``heuristics=False`` turns the
    solver's primal heuristics off (a search expected to end in a proof that
    no plan exists); it changes the work done, never what is proven.
    """

    time_limit_s: float
    threads: int = 1
    seed: int = 0
    relative_gap: float = 0.0
    absolute_gap: float = 1e-6
    start: tuple | None = None
    cutoff: float | None = None
    node_limit: int | None = None  # branch-and-bound nodes (a deterministic work limit)
    #: the model's own rows already exclude every plan above ``cutoff``: "no plan below the
    #: cutoff" then proves the model infeasible (status INFEASIBLE, not NO_PLAN)
    cutoff_in_rows: bool = False
    #: False for a solve meant to prove that no plan exists (the tie-break's screen): the
    #: solver skips its primal heuristics, which only look for plans
    heuristics: bool = True


@dataclass(frozen=True, eq=False)
class SolveResult:
    """One solver call's answer.

    ``values`` holds one value per model variable when there is a plan;
    ``objective`` is the solver's objective of it (offset included) and
    ``bound`` the best proven lower bound (minimisation), ``gap`` their
    relative difference. ``seconds`` is the wall time of the call.
    """

    status: SolveStatus
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    seconds: float
    backend: str
    message: str = ""

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        return relative_gap(self.objective, self.bound)


def relative_gap(objective: float, bound: float) -> float:
    """(objective − bound) / |objective|, never negative (0 for a zero objective at its bound)."""
    diff = max(0.0, float(objective) - float(bound))
    if diff == 0.0:
        return 0.0
    return diff / max(abs(float(objective)), 1e-9)
