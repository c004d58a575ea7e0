"""A plan for a scenario: :func:`solve` finds the best one, :func:`evaluate` measures one written by hand.

:func:`solve` reads as the pipeline::

    prepare (FA division, parameters, visits, costs → Instance)
    → check what makes the scenario impossible → optimise (the solver layer)
    → evaluate every stage independently → Plan

A :class:`Plan` is immutable and records the status, the objective measured
by the independent evaluator, the solver's best bound and gap, and every
parameter used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .data import Network, office_hint
from .errors import InfeasibleError, Problem, ScenarioError
from .instance import Prepared, prepare
from .metrics import CLOSED, FLEXIBLE, KEPT, StageResult, evaluate_stage
from .params import Parameters
from .scenario import Scenario
from .solver import SolveStatus, diagnose, optimise

__all__ = ["Plan", "solve", "solve_prepared", "plan_from_optimum", "evaluate", "build_first_model", "EVALUATED"]

MODE_NAMES = {CLOSED: "close", FLEXIBLE: "flexible", KEPT: "keep"}
#: Status of a plan written by hand (no optimisation).
EVALUATED = "EVALUATED"


@dataclass(frozen=True, eq=False)
class Plan:
    """The result of a scenario: decisions per stage and what they do.

    ``status`` is a :class:`~netopt.solver.SolveStatus` value (``OPTIMAL``,
    ``WITHIN_GAP``, ``TIME_LIMIT``) or ``EVALUATED`` for a hand-written plan;
    ``objective`` is the independently evaluated objective summed over stages,
    ``best_bound`` the solver's proven lower bound and ``gap`` their relative
    difference (0 only when proven optimal).
    """

    prepared: Prepared
    status: str
    objective: float
    solver_objective: float | None
    best_bound: float | None
    gap: float | None
    solve_seconds: float
    build_seconds: float
    rounds: int
    model_size: dict
    stages: tuple  # StageResult per stage
    phase: str = "optimise"
    notes: tuple = field(default_factory=tuple)
    backend: str = ""
    named: tuple | None = None  # a hand-written plan: the office_ids it names (the others are kept; None: optimised)

    @property
    def scenario(self) -> Scenario:
        return self.prepared.scenario

    @property
    def final(self) -> StageResult:
        return self.stages[-1]

    def summary(self, stage: int = -1) -> dict:
        """The summary fields of one stage (default the last) plus solver facts."""
        st = self.stages[stage]
        sc = self.scenario
        stage_def = sc.stages[stage]
        out = {
            "scenario": sc.name,
            "stage_year": stage_def.year,
            "cut_msek": stage_def.cut_msek,
            "flexible_allowance_msek": stage_def.flexible_allowance_msek,
            "objective_name": sc.objective,
            "status": str(self.status),
            "objective": self.objective,
            "solver_objective": self.solver_objective,
            "best_bound": self.best_bound,
            "gap": self.gap,
            "solve_seconds": round(self.solve_seconds, 3),
            "build_seconds": round(self.build_seconds, 3),
            "model_rounds": self.rounds,
            "model_size": self.model_size,
            "fa_division": self.prepared.network.division_name,
        }
        out.update(st.metrics)
        return out

    def office_table(self, stage: int = -1) -> pd.DataFrame:
        """One row per office: decision, visits before/after, receiving office, distance."""
        prep = self.prepared
        off = prep.network.offices
        st = self.stages[stage]
        ids = off["office_id"].to_numpy()
        names = off["office_name"].to_numpy()
        rec = st.receiver
        cost_before = np.where(prep.instance.existing_mask, prep.costs.fixed_full_sek + prep.costs.staff_per_visit_sek * prep.visits.baseline_visits, 0.0)
        t = pd.DataFrame(
            {
                "office_id": ids,
                "office_name": names,
                "municipality_code": off["municipality_code"].to_numpy(),
                "municipality": off["municipality"].to_numpy(),
                "fa_code": off["fa_code"].to_numpy(),
                "fa_name": off["fa_name"].to_numpy(),
                "ssc_region": off["ssc_region"].to_numpy(),
                "lat": off["lat"].to_numpy(),
                "lon": off["lon"].to_numpy(),
                "decision": [MODE_NAMES[int(m)] if e or m > 0 else "not opened" for m, e in zip(st.modes, prep.instance.existing_mask)],
                "existing": prep.instance.existing_mask,
                "visits_before": np.round(prep.visits.baseline_visits, 1),
                "visits_after": np.round(st.visits_after, 1),
                "cost_msek_before": np.round(cost_before / 1e6, 4),
                "cost_msek_after": np.round(st.cost_after_sek / 1e6, 4),
                "cost_per_visit_sek": np.round(np.divide(st.cost_after_sek, st.visits_after, out=np.full(len(ids), np.nan), where=st.visits_after > 0), 1),
                "receiver_id": [ids[r] if r >= 0 else "" for r in rec],
                "receiver_name": [names[r] if r >= 0 else "" for r in rec],
                "receiver_distance_km": np.where(rec >= 0, np.round(st.receiver_dist_m / 1000.0, 1), np.nan),
                "visits_estimated": prep.visits.visits_estimated,
                "cost_estimated": prep.costs.cost_estimated,
            }
        )
        t["estimated"] = t["visits_estimated"] | t["cost_estimated"]
        return t


def solve(network: Network, scenario: Scenario, *, params: Parameters | None = None) -> Plan:
    """Find the best office network for a scenario.

    Reads: prepare → check → optimise → evaluate → Plan. Every solve, the
    explanation of an infeasible scenario included, shares the scenario's
    ``solver.time_limit_s``.

    Raises:
      InfeasibleError: no plan meets every constraint (with an explanation
        naming the constraints in force), or the solver stopped without a plan
        that meets them all (``explanation["status"]`` is then ``"NO_PLAN"``,
        with what was reached).
      ScenarioError, DataError: the scenario does not fit the data.
    """
    t_start = time.perf_counter()
    prep = prepare(network, scenario, params)
    return solve_prepared(prep, deadline=t_start + scenario.solver.time_limit_s)


def solve_prepared(prep: Prepared, *, start=None, cutoff: float | None = None, extra=(), deadline: float | None = None) -> Plan:
    """:func:`solve` from a prepared instance: the entry point of re-solves.

    ``prep.instance`` may be changed (``prep.instance.with_(...)`` for locks or
    budgets, put back with ``dataclasses.replace(prep, instance=...)``);
    ``start`` (modes per stage), ``cutoff`` and ``extra`` (constraint families)
    go to :func:`netopt.solver.optimise`.
    """
    scenario = prep.scenario
    deadline = deadline if deadline is not None else time.perf_counter() + scenario.solver.time_limit_s
    diagnose.precheck(prep)
    opt = optimise(prep.instance, scenario.solver, deadline=deadline, start=start, cutoff=cutoff, extra=extra)
    if opt.status == SolveStatus.INFEASIBLE:
        raise diagnose.explain_infeasible(prep, deadline=max(deadline, time.perf_counter() + 5.0))
    if opt.status == SolveStatus.NO_PLAN:
        raise _no_plan(prep, opt)
    return plan_from_optimum(prep, opt)


def plan_from_optimum(prep: Prepared, opt) -> Plan:
    """The :class:`Plan` of an optimum with a plan (:class:`netopt.solver.Optimum`,
    status OPTIMAL, WITHIN_GAP or TIME_LIMIT): every stage evaluated
    independently on ``prep.instance``, the notes on what is proven."""
    scenario = prep.scenario
    inst = prep.instance
    stages = tuple(evaluate_stage(inst, m, s) for s, m in enumerate(opt.modes))
    objective = float(sum(st.objective for st in stages))
    notes = []
    if scenario.solver.threads > 1:
        notes.append(f"solved with {scenario.solver.threads} threads: among equally good plans, which one is returned may depend on the number of threads (threads = 1 is reproducible)")
    if opt.status == SolveStatus.WITHIN_GAP:
        notes.append(f"stopped within the requested gap ({100 * scenario.solver.relative_gap:g} %): the plan is within {100 * opt.gap:.3f} % of the best possible, not proven optimal")
    if opt.status == SolveStatus.TIME_LIMIT and opt.bound is None and opt.backend == "cp-sat":
        notes.append("the cp-sat backend proves no bound for this model (it scales the real coefficients of the budget and visits): the plan meets every constraint but is not proven optimal")
    elif opt.status == SolveStatus.TIME_LIMIT:
        notes.append(f"the time limit ({scenario.solver.time_limit_s:g} s) stopped the solver: the plan meets every constraint but is not proven optimal"
                     + (f" (gap {100 * opt.gap:.3f} %)" if opt.gap is not None else " (no bound)"))
    return Plan(
        prepared=prep,
        status=opt.status,
        objective=objective,
        solver_objective=opt.solver_objective,
        best_bound=opt.bound,
        gap=opt.gap,
        solve_seconds=opt.solve_seconds,
        build_seconds=opt.build_seconds,
        rounds=opt.rounds,
        model_size=opt.model_size,
        stages=stages,
        phase=opt.phase,
        notes=tuple(notes),
        backend=opt.backend,
    )


def _no_plan(prep: Prepared, opt) -> InfeasibleError:
    """The solver stopped without a plan that meets every constraint: say what was reached."""
    sc = prep.scenario
    info: dict = {"status": "NO_PLAN", "time_limit_s": sc.solver.time_limit_s}
    if opt.modes is not None:
        reached = [evaluate_stage(prep.instance, m, s).metrics for s, m in enumerate(opt.modes)]
        info["best_plan_breaks"] = list(opt.violations)
        info["reached"] = [
            {"year": st.year, "cut_msek": st.cut_msek, "savings_msek": r["savings_msek"], "flexible_allowance_used_msek": r["flexible_allowance_used_msek"],
             "meets_budget": r["meets_budget"], "fa_regions_served": r["fa_regions_served"]}
            for st, r in zip(sc.stages, reached)
        ]
        last, r = sc.stages[-1], reached[-1]
        msg = (f"the solver stopped after {opt.solve_seconds:.1f} s (time_limit_s = {sc.solver.time_limit_s:g}) before it found a plan that meets every constraint: "
               f"the best plan found saves {r['savings_msek']:.1f} + {r['flexible_allowance_used_msek']:.1f} MSEK allowance of the {last.cut_msek:g} MSEK asked, and it breaks: "
               + "; ".join(opt.violations) + f". Fix: raise solver.time_limit_s (now {sc.solver.time_limit_s:g} s) or --time-limit")
    else:
        msg = (f"{opt.message or 'the solver stopped without any plan'}. Fix: raise solver.time_limit_s (now {sc.solver.time_limit_s:g} s) or --time-limit")
    return InfeasibleError(msg, info)


def evaluate(network: Network, decisions: dict, scenario: Scenario, *, params: Parameters | None = None) -> Plan:
    """Measure a hand-written plan with the same yardstick.

    ``decisions`` maps office_id → "close", "flexible" or "keep" ("open" for a
    candidate site); offices not named are kept and candidate sites not named
    stay unopened. The decisions apply to every stage of the scenario.

    Raises:
      ScenarioError: unknown office IDs (every one, with a suggestion) or decisions.
      InfeasibleError: the plan closes every office.
    """
    prep = prepare(network, scenario, params)
    inst = prep.instance
    ids = list(inst.office_ids)
    index = {o: k for k, o in enumerate(ids)}
    modes = np.where(inst.existing_mask, KEPT, CLOSED).astype(np.int64)
    lookup = {v: k for k, v in MODE_NAMES.items()}
    lookup["open"] = KEPT
    problems = []
    for oid in sorted(o for o in decisions if o not in index):
        problems.append(Problem("decisions", None, "office_id", repr(oid), "names an office that is not in the register",
                                office_hint(oid, prep.network.offices) + "use office_id values of the register (netopt validate --list)"))
    for oid, dec in decisions.items():
        if oid in index and dec not in lookup:
            problems.append(Problem("decisions", None, oid, repr(dec), "is not a decision", "use close, flexible or keep (or open, for a candidate site)"))
    if problems:
        raise ScenarioError(problems)
    for oid, dec in decisions.items():
        modes[index[oid]] = lookup[dec]
    if not (modes > 0).any():
        raise InfeasibleError("the plan closes every office: nobody can be served", {"offices_open": 0})
    t0 = time.perf_counter()
    stages = tuple(evaluate_stage(inst, modes, s) for s in range(inst.n_stages))
    return Plan(
        prepared=prep,
        status=EVALUATED,
        objective=float(sum(st.objective for st in stages)),
        solver_objective=None,
        best_bound=None,
        gap=None,
        solve_seconds=time.perf_counter() - t0,
        build_seconds=0.0,
        rounds=0,
        model_size={},
        stages=stages,
        phase="evaluate",
        named=tuple(sorted(decisions)),
    )


def build_first_model(network: Network, scenario: Scenario, *, params: Parameters | None = None):
    """The model the optimisation starts from (first-round candidate lists), built
    and not solved: for inspection and export (``netopt solve --export-model``)."""
    from .model import build_model
    from .solver.loop import candidate_sizes

    prep = prepare(network, scenario, params)
    inst = prep.instance
    return build_model(inst, inst.candidates(candidate_sizes(inst)))
