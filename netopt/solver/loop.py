"""The one optimisation loop: candidate-list widening, warm starts, tie-break.

:func:`optimise` is used by :func:`netopt.solve` (scenarios), by
:func:`netopt.pmedian.solve_pmedian` and by every re-solve built on them::

    sizes = candidate_sizes(...)                  # 8 nearest offices per demand point (+ radii)
    repeat:                                       # widening rounds
        model = build_model(inst, lists, extra)   # a relaxation while lists are truncated
        result = backend.solve(model, start=previous plan, cutoff)
        stop when no demand point has all its candidates closed, when the
        plan (measured exactly) is within the requested gap of the bound,
        or when the time is up; else double the lists of those points
    tie-break: among the optimal plans, fewest changes, then cheapest (a screen first
        proves, where it can, that every optimal plan has the optimum's offices open,
        which leaves a small problem)

Re-solves (what keeping an office would cost, alternatives, access floors,
sweeps) call :func:`optimise` with a changed instance and these arguments,
never a copy of the loop:

* locks: ``inst.with_(lock_open=mask)`` / ``lock_closed=mask`` (bounds);
* ``extra``: further constraint families (functions of
  :class:`~netopt.model.ModelParts`), e.g. a "no-good" row excluding an
  earlier plan, an access floor over the prefix-set variables, an objective
  term for flexible offices; a family may set ``radius_m`` and
  ``needs_exact_distances`` (see :mod:`netopt.model`);
* ``start``: a plan (modes per stage) to start from, e.g. the plan of the
  neighbouring sweep point or the unconstrained optimum;
* ``cutoff``: an objective value above which no plan is of interest;
* ``deadline``: a shared ``time.perf_counter()`` deadline for a sequence of solves.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..geometry import entry_open
from ..instance import Instance
from ..model import build_model
from ..scenario import SolverSettings
from .backends import get_backend
from .result import SolveOptions, SolveResult, SolveStatus, relative_gap
from .verify import measure

__all__ = ["Optimum", "optimise", "candidate_sizes", "INITIAL_CANDIDATES", "modes_from", "start_from"]

log = logging.getLogger("netopt.solver")

#: Candidate offices per demand point in the first round.
INITIAL_CANDIDATES = 8
#: Branch-and-bound nodes the tie-break among all optimal plans may use before
#: the smaller tie-break (same offices open) is used instead: a work limit, so
#: the choice is the same on every machine.
TIE_BREAK_NODES = 20_000
CLOSED, FLEXIBLE, KEPT = 0, 1, 2


@dataclass(frozen=True, eq=False)
class Optimum:
    """What :func:`optimise` found.

    ``modes`` has one array per stage (0 closed, 1 flexible, 2 kept) when there
    is a plan. ``objective`` is the plan's objective measured by the
    independent evaluator; ``bound`` the best lower bound proven for the full
    problem (the largest over the widening rounds); ``solver_objective`` the
    solver's own objective of the plan (equal to ``objective`` when the lists
    were widened to the end). ``violations`` lists the hard constraints the
    plan breaks when measured exactly (then ``status`` is ``NO_PLAN``).
    """

    status: SolveStatus
    modes: tuple | None
    objective: float | None
    solver_objective: float | None
    bound: float | None
    solve_seconds: float
    build_seconds: float
    rounds: int
    model_size: dict
    phase: str
    backend: str
    widened_to_the_end: bool
    violations: tuple = ()
    message: str = ""
    results: tuple = field(default=(), repr=False)

    @property
    def gap(self) -> float | None:
        if self.objective is None or self.bound is None:
            return None
        if self.status == SolveStatus.OPTIMAL:
            return 0.0
        return relative_gap(self.objective, self.bound)


def candidate_sizes(inst: Instance, initial: int = INITIAL_CANDIDATES, extra: Sequence = ()) -> np.ndarray:
    """Candidate-list length per demand point: ``initial``, and every office within
    the maximum distance, the access floor's distance (or an extra family's
    ``radius_m``) plus one."""
    k = np.full(inst.m, min(initial, inst.n), dtype=np.int64)
    radii = [r for r in [inst.max_distance_m, inst.access_floor_m, *(getattr(e, "radius_m", None) for e in extra)] if r is not None]
    if radii and inst.m:
        cand = inst.candidates(inst.n)
        within = np.add.reduceat((cand.dist_m <= max(radii)).astype(np.int64), cand.ptr[:-1])
        k = np.maximum(k, np.minimum(within + 1, inst.n))
    return k


def modes_from(values: np.ndarray, built, n_stages: int) -> tuple:
    """Office modes per stage from a solution's values (y and f are integral)."""
    out = []
    for s in range(n_stages):
        y = values[built.y[s]] > 0.5
        f = values[built.f[s]] > 0.5
        out.append(np.where(y, KEPT, np.where(f, FLEXIBLE, CLOSED)).astype(np.int64))
    return tuple(out)


def start_from(modes: Sequence, built) -> tuple[np.ndarray, np.ndarray]:
    """A warm start for ``built`` from a plan: the values of its y and f variables."""
    cols, vals = [], []
    for s, m in enumerate(modes[: built.y.shape[0]]):
        m = np.asarray(m)
        cols += [built.y[s], built.f[s]]
        vals += [(m == KEPT).astype(float), (m == FLEXIBLE).astype(float)]
    return np.concatenate(cols), np.concatenate(vals)


def _tail(values: np.ndarray, built, inst: Instance) -> np.ndarray:
    """Demand points whose every candidate is closed in some stage (read from y and f, which are integral)."""
    cand = built.cand
    tail = np.zeros(inst.m, bool)
    for s in range(inst.n_stages):
        hit = entry_open(cand, values[built.y[s]] > 0.5, values[built.f[s]] > 0.5)
        covered = np.add.reduceat(hit.astype(np.int64), cand.ptr[:-1]) > 0
        tail |= ~covered & (cand.next_m >= 0)
    return tail


def _integer_objective(inst: Instance, objective: str) -> bool:
    return objective == "plan" and inst.objective in ("distance", "coverage")


def optimise(
    inst: Instance,
    settings: SolverSettings,
    *,
    extra: Sequence[Callable] = (),
    start: Sequence | None = None,
    cutoff: float | None = None,
    sizes: np.ndarray | None = None,
    deadline: float | None = None,
    objective: str = "plan",
    backend=None,
) -> Optimum:
    """Solve ``inst`` exactly (or to ``settings.relative_gap``), widening candidate lists as needed.

    Args:
      inst: the problem.
      settings: time limit, threads, seed, relative gap, tie-break and backend.
      extra: further constraint families (see the module docstring).
      start: a plan (modes per stage) to start the first round from.
      cutoff: no plan with a larger objective is of interest.
      sizes: initial candidate-list lengths (default :func:`candidate_sizes`).
      deadline: ``time.perf_counter()`` value by which everything must end
        (default: now + ``settings.time_limit_s``).
      objective: ``"plan"`` (the instance's objective), ``"cost"`` (total cost) or
        ``"floor"`` (the highest access floor; the value is minus the share).
      backend: a backend object (default: ``settings.backend``).

    Returns:
      an :class:`Optimum`; its status says whether there is a plan and what is proven.
    """
    t_start = time.perf_counter()
    deadline = deadline if deadline is not None else t_start + settings.time_limit_s
    backend = backend or get_backend(settings.backend)
    integer = _integer_objective(inst, objective)
    abs_gap = 0.999 if integer else (1.0 if objective == "cost" else 1e-6)
    k = candidate_sizes(inst, extra=extra) if sizes is None else np.asarray(sizes, np.int64)
    rounds = 0
    build_s = solve_s = 0.0
    best_bound = None
    results = []
    plan = tuple(np.asarray(m, np.int64) for m in start) if start is not None else None
    exact = False
    final_round_status = None
    solver_objective = None
    built = None
    while True:
        rounds += 1
        t0 = time.perf_counter()
        built = build_model(inst, inst.candidates(k), objective=objective, extra=extra)
        build_s += time.perf_counter() - t0
        log.info("round %d: %s", rounds, built.sizes())
        opts = SolveOptions(
            time_limit_s=max(deadline - time.perf_counter(), 0.01), threads=settings.threads, seed=settings.seed,
            relative_gap=settings.relative_gap, absolute_gap=abs_gap,
            start=start_from(plan, built) if (plan is not None and backend.supports_start) else None,
            cutoff=cutoff if backend.supports_cutoff else None,
        )
        res: SolveResult = backend.solve(built, opts)
        results.append(res)
        solve_s += res.seconds
        final_round_status = res.status
        log.info("round %d: %s in %.2f s (objective %s, bound %s)", rounds, res.status, res.seconds, res.objective, res.bound)
        bound = res.bound
        if bound is not None and integer:
            bound = float(math.ceil(bound - 1e-6))  # the objective is a whole number: so is the best possible
        if bound is not None:
            best_bound = bound if best_bound is None else max(best_bound, bound)
        if res.status == SolveStatus.INFEASIBLE:
            # a truncated model is a relaxation: infeasible here means infeasible
            return _optimum(SolveStatus.INFEASIBLE, None, None, None, None, solve_s, build_s, rounds, built, backend, False, res.message, results)
        if res.values is None:
            if plan is not None and rounds > 1:
                break  # keep the previous round's plan; it is measured below
            return _optimum(SolveStatus.NO_PLAN, None, None, None, best_bound, solve_s, build_s, rounds, built, backend, False,
                            f"the solver stopped ({res.message or res.status}) after {solve_s:.1f} s without a plan", results)
        plan = modes_from(res.values, built, inst.n_stages)
        solver_objective = res.objective
        if integer and solver_objective is not None and abs(solver_objective - round(solver_objective)) < 0.01:
            solver_objective = float(round(solver_objective))  # remove the solver's floating-point noise
        tail = _tail(res.values, built, inst)
        exact = not tail.any()
        if exact or time.perf_counter() >= deadline:
            break
        # a plan that is feasible for the full problem and within the requested gap of the bound ends the search
        if best_bound is not None:
            problems, obj_value, net_cost = measure(inst, plan)
            true = _value(inst, plan, objective, obj_value, net_cost)
            if not problems and (true - best_bound <= abs_gap or (settings.relative_gap > 0 and relative_gap(true, best_bound) <= settings.relative_gap)):
                break
        k = np.where(tail, np.minimum(k * 2, inst.n), k)
        log.info("widening the candidate lists of %d demand points", int(tail.sum()))

    phase = "optimise"
    status, value, problems = _judge(inst, plan, best_bound, objective, settings, abs_gap, exact, final_round_status)
    if (status in (SolveStatus.OPTIMAL, SolveStatus.WITHIN_GAP) and settings.tie_break and objective == "plan"
            and time.perf_counter() < deadline and inst.open_count is None):
        tb_plan, tb_phase, tb_build, tb_results = _tie_break(inst, built, plan, value, integer, settings, backend, extra, deadline)
        build_s += tb_build
        solve_s += sum(r.seconds for r in tb_results)
        results += tb_results
        if tb_plan is not None:
            # the tie-break may also have improved a plan that was only within the gap: judge it again
            plan, phase = tb_plan, tb_phase
            status, value, problems = _judge(inst, plan, best_bound, objective, settings, abs_gap, exact, final_round_status)
    return Optimum(
        status=status, modes=plan, objective=value, solver_objective=solver_objective, bound=best_bound,
        solve_seconds=solve_s, build_seconds=build_s, rounds=rounds, model_size=built.sizes(), phase=phase,
        backend=backend.name, widened_to_the_end=exact, violations=tuple(problems), results=tuple(results),
        message="" if not problems else "the best plan found breaks: " + "; ".join(problems),
    )


def _tie_break(inst, built, plan, value, integer, settings, backend, extra, deadline, *, screen: bool = True):
    """Among the plans whose objective is at most the optimum's (``value``), the one
    that changes the fewest offices (kept rather than flexible, no candidate
    site opened), and among those the cheapest.

    First, when growth limits are in force (``inst.max_growth``; ``screen``, with a
    backend that takes a cutoff), a screen: is there a plan with *other offices
    open* whose objective is at most the optimum's (plus a margin,
    :data:`SCREEN_MARGIN`)? It is the scenario's own model with
    one more row (:func:`~netopt.model.other_open_set`), solved with that cutoff.
    If the solver proves there is none, every optimal plan has the optimum's
    offices open, and the choice among them is made among plans with those
    offices open (a much smaller problem, the same answer). Otherwise (another
    open set comes close, or the screen is not proven within TIE_BREAK_NODES
    nodes) the choice is made over all plans: solved over the final candidate
    lists, started from the optimum; if that solve is not proven within
    TIE_BREAK_NODES nodes (or the time left), the same choice among plans with
    the optimum's offices open is made instead, and the plan's phase says so.
    The screen is a matter of speed only (both ways give the same choice): with
    growth rows the search over all plans is slow (0.47 s on the shipped 2027
    stage, against 0.21 s for the screen and 0.03 s for the choice among plans
    with the same offices open); without them it is fast (0.15 s) and the
    screen would cost more than it saves (docs/benchmarks.md). Every answer is
    measured exactly and kept only if it meets every constraint with an
    objective no larger.

    Returns ``(plan or None, phase, build seconds, solver results)``."""
    from ..model import access_at_most, other_open_set

    build_s = 0.0
    results = []
    limit = value + (0.5 if integer else 1e-9 * abs(value))
    order = (False, True)
    unique_open_set = False
    if screen and inst.max_growth is not None and backend.supports_cutoff and deadline > time.perf_counter():
        wide = limit + SCREEN_MARGIN * max(abs(value), 1.0)
        t0 = time.perf_counter()
        probe = build_model(inst, built.cand, objective="plan", extra=(*extra, access_at_most(wide), other_open_set(plan)), nodes=built.nodes)
        build_s += time.perf_counter() - t0
        res = backend.solve(probe, SolveOptions(time_limit_s=max(deadline - time.perf_counter(), 0.01), threads=settings.threads, seed=settings.seed,
                                                relative_gap=0.0, absolute_gap=0.999 if integer else 1e-6, cutoff=wide, cutoff_in_rows=True,
                                                node_limit=TIE_BREAK_NODES, heuristics=False))
        results.append(res)
        log.info("tie-break screen: %s in %.2f s (another open set within the optimum: %s)", res.status, res.seconds,
                 "none" if res.status == SolveStatus.INFEASIBLE else "not ruled out")
        if res.status == SolveStatus.INFEASIBLE:
            unique_open_set = True
            order = (True,)
    for fixed in order:
        left = deadline - time.perf_counter()
        if left <= 0:
            break
        t0 = time.perf_counter()
        tb = build_model(inst, built.cand, objective="changes", extra=(*extra, access_at_most(limit)),
                         fixed_open=[m > 0 for m in plan] if fixed else None, nodes=built.nodes)
        build_s += time.perf_counter() - t0
        res = backend.solve(tb, SolveOptions(time_limit_s=left, threads=settings.threads, seed=settings.seed, relative_gap=0.0, absolute_gap=1.0,
                                             start=start_from(plan, tb) if backend.supports_start else None,
                                             node_limit=None if fixed else TIE_BREAK_NODES))
        results.append(res)
        if res.values is not None:
            other = modes_from(res.values, tb, inst.n_stages)
            problems, other_value, _ = measure(inst, other)
            if not problems and other_value <= value and (res.status == SolveStatus.OPTIMAL or fixed):
                among_all = not fixed or (unique_open_set and res.status == SolveStatus.OPTIMAL)
                phase = ("optimise, then fewest changes and largest saving among the optimal plans" if among_all
                         else "optimise, then fewest changes and largest saving among plans with the same offices open")
                return other, phase, build_s, results
    return None, "optimise", build_s, results


#: The tie-break's screen asks for plans with other offices open whose objective is at
#: most the optimum's plus this share of it (1e-6 of 1.7·10^11 person-metres is 1.7·10^5,
#: against the one unit to which the first solve's own optimality proof trusts the
#: solver): a plan the solver's tolerances could let through lies far inside this
#: margin, and a genuine plan inside it only sends the choice to the search over all plans.
SCREEN_MARGIN = 1e-6


#: The relative gap up to which a plan the solver ended on with its optimality proof, but
#: whose exact objective lies above the solver's bound, is put down to the solver's
#: numerical tolerances: WITHIN_GAP (never OPTIMAL, never TIME_LIMIT).
SOLVER_TOLERANCE_GAP = 1e-6


def _judge(inst, plan, bound, objective, settings, abs_gap, exact, round_status):
    """Status of the final plan, from its exact measurement and the proven bound."""
    problems, obj_value, net_cost = measure(inst, plan)
    value = _value(inst, plan, objective, obj_value, net_cost)
    if problems:
        return SolveStatus.NO_PLAN, value, problems
    tol = abs_gap if abs_gap >= 0.5 else max(abs_gap, 1e-9 * abs(value))
    if bound is not None and value - bound <= tol:
        return SolveStatus.OPTIMAL, value, problems
    if exact and round_status == SolveStatus.OPTIMAL and bound is None:
        return SolveStatus.OPTIMAL, value, problems
    if bound is not None and settings.relative_gap > 0 and relative_gap(value, bound) <= settings.relative_gap + 1e-12:
        return SolveStatus.WITHIN_GAP, value, problems
    if bound is not None and round_status == SolveStatus.OPTIMAL and relative_gap(value, bound) <= SOLVER_TOLERANCE_GAP:
        # The solver ended with its proof, but the exact plan lies above its bound by what its
        # numerical tolerances allow (a row violated by 1e-7 of a coefficient of 1e6 moves the
        # objective by a unit): within a gap, not proven, and not stopped by the time limit.
        return SolveStatus.WITHIN_GAP, value, problems
    return SolveStatus.TIME_LIMIT, value, problems


def _value(inst, plan, objective, obj_value, net_cost) -> float:
    """The exact value of a plan in the objective optimised: the scenario's objective,
    the net cost, or (``"floor"``) minus the lowest share within the access floor's
    distance over the groups and stages (:func:`netopt.metrics.access_shares`)."""
    if objective == "plan":
        return obj_value
    if objective == "floor":
        from ..metrics import access_shares

        lowest = 1.0
        for m in plan:
            is_open = np.asarray(m) > 0
            if not is_open.any():
                return 0.0
            # a group without inhabitants does not bound the floor (as in the model: no row)
            lowest = min(lowest, float(np.min(np.nan_to_num(access_shares(inst, inst.nearest_open(is_open)[1]), nan=1.0))))
        return -lowest
    return net_cost


def _optimum(status, modes, objective, solver_objective, bound, solve_s, build_s, rounds, built, backend, exact, message, results) -> Optimum:
    return Optimum(status=status, modes=modes, objective=objective, solver_objective=solver_objective, bound=bound,
                   solve_seconds=solve_s, build_seconds=build_s, rounds=rounds, model_size=built.sizes() if built is not None else {},
                   phase="optimise", backend=backend.name, widened_to_the_end=exact, message=message, results=tuple(results))
