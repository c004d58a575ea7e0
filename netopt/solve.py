"""Solve a scenario: validate → visits and costs → build → solve → evaluate → Plan.

:func:`solve` is the one entry point; :func:`evaluate` measures a plan a
planner wrote by hand with the same yardstick. A :class:`Plan` is immutable and
records the solver status, objective, best bound, gap and every parameter used.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .costs import CostModel, fit_costs
from .data import Network, describe_unknown_office_ids
from .errors import InfeasibleError, ScenarioError
from .metrics import CLOSED, FLEXIBLE, KEPT, StageResult, evaluate_stage
from .model import Instance, build_model
from .params import Parameters, load_parameters
from .scenario import Scenario
from .visits import VisitModel, existing_offices, fit_visits

__all__ = ["Plan", "solve", "evaluate", "prepare", "Prepared", "optimise", "SolverSettings", "Optimum"]

log = logging.getLogger("netopt")

MODE_NAMES = {CLOSED: "close", FLEXIBLE: "flexible", KEPT: "keep"}
INITIAL_CANDIDATES = 8


@dataclass(frozen=True, eq=False)
class Prepared:
    """A network with its calibrated visit and cost models for one scenario."""

    network: Network
    scenario: Scenario
    params: Parameters
    visits: VisitModel
    costs: CostModel
    instance: Instance


@dataclass(frozen=True, eq=False)
class Plan:
    """The result of a scenario: decisions per stage and what they do.

    ``status`` is the solver's (``OPTIMAL``, ``FEASIBLE`` when a time limit
    stopped it, or ``EVALUATED`` for a hand-written plan); ``objective`` is the
    independently evaluated objective summed over stages, ``best_bound`` the
    solver's proven bound and ``gap`` their relative difference.
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
            "status": self.status,
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


# --------------------------------------------------------------------------- preparation


def prepare(network: Network, scenario: Scenario, params: Parameters | None = None) -> Prepared:
    """Calibrate visits and costs and build the numeric instance for a scenario."""
    scenario.check()
    params = params or load_parameters()
    if scenario.parameters:
        params = params.with_overrides(**scenario.parameters)
    off = network.offices
    ids = off["office_id"].tolist()
    known = set(ids)
    for key in ("lock_open", "lock_closed"):
        unknown = [x for x in getattr(scenario, key) if x not in known]
        if unknown:
            raise ScenarioError(f"{scenario.source or 'scenario'}: '{key}' names unknown office IDs: {describe_unknown_office_ids(unknown, off)}. Fix: use office_id values of the register (netopt validate --list lists them)")
    vm = fit_visits(network, params)
    cm = fit_costs(network, vm, params)
    fa_codes = sorted(network.fa_regions["fa_code"])
    fa_index = {c: k for k, c in enumerate(fa_codes)}
    munis = sorted(off["municipality_code"].unique())
    mi = {c: k for k, c in enumerate(munis)}
    base = cm.baseline_cost_sek
    inst = Instance(
        office_ids=tuple(ids),
        ox=off["x_m"].to_numpy(float),
        oy=off["y_m"].to_numpy(float),
        dx=network.demand["x_m"].to_numpy(float),
        dy=network.demand["y_m"].to_numpy(float),
        population=network.demand["population"].to_numpy(np.int64),
        propensity=vm.propensity,
        detour=params.detour_factor,
        floor=params.floor,
        decay_km=params.decay_km,
        fixed_full_sek=cm.fixed_full_sek,
        fixed_flex_sek=cm.fixed_flex_sek,
        staff_per_visit_sek=cm.staff_per_visit_sek,
        flex_capacity_visits=cm.flexible_capacity_visits,
        baseline_visits=vm.baseline_visits,
        baseline_dist_m=vm.baseline_dist_m,
        fa_of_office=np.array([fa_index.get(c, -1) for c in off["fa_code"]]),
        n_fa=len(fa_codes),
        muni_of_office=np.array([mi[c] for c in off["municipality_code"]]),
        budgets_sek=tuple(base - st.cut_msek * 1e6 for st in scenario.stages),
        allowances_sek=tuple(st.flexible_allowance_msek * 1e6 for st in scenario.stages),
        objective=scenario.objective,
        coverage_m=int(round(scenario.coverage_km * 1000)),
        lock_open=np.isin(ids, scenario.lock_open),
        lock_closed=np.isin(ids, scenario.lock_closed),
        flex_allowed=np.full(len(ids), bool(scenario.flexible)),
        max_growth=scenario.max_growth,
        max_distance_m=None if scenario.max_distance_km is None else int(round(scenario.max_distance_km * 1000)),
        keep_municipalities=scenario.keep_municipalities,
        max_closures=scenario.max_closures,
        cover_fa=True,
        existing=existing_offices(network),
        dist_matrix_m=network.distance_matrix_m,
    )
    return Prepared(network=network, scenario=scenario, params=params, visits=vm, costs=cm, instance=inst)


# --------------------------------------------------------------------------- solving


def _highs_options(settings, inst: Instance) -> str:
    integer_objective = inst.objective in ("distance", "coverage")
    opts = {
        "output_flag": "false",
        "threads": str(settings.threads),
        "random_seed": str(settings.seed),
        "mip_rel_gap": repr(float(settings.relative_gap)),
        # integer objectives (person-metres, inhabitants): a gap below 1 proves optimality
        "mip_abs_gap": "0.999" if integer_objective else "1e-6",
    }
    return "\n".join(f"{k}={v}" for k, v in opts.items()) + "\n"


_DUAL_BOUND = re.compile(r"Dual bound\s+(\S+)")


@contextmanager
def _native_stdout_captured():
    """Capture what the native solver prints on file descriptor 1 (its log, and
    diagnostics HiGHS prints even when quiet); yields a list that receives the text.
    With --verbose the log is echoed to stderr."""
    out: list[str] = []
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (embedded use)
        yield out
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 1)
        try:
            yield out
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", errors="replace"))
    if log.isEnabledFor(logging.DEBUG):
        sys.stderr.write(out[-1])


_MODEL_STATUS = {
    "Optimal": "OPTIMAL",
    "Infeasible": "INFEASIBLE",
    "Primal infeasible or unbounded": "INFEASIBLE",
    "Unbounded": "UNBOUNDED",
    "Time limit reached": "TIME_LIMIT",
    "Iteration limit reached": "TIME_LIMIT",
    "Interrupted by user": "TIME_LIMIT",
}


def _read_solution_file(path: Path, n_vars: int) -> tuple[str, np.ndarray | None, float | None]:
    """Model status, values and objective from a HiGHS solution file (raw style)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "NOT_SOLVED", None, None
    try:
        status = _MODEL_STATUS.get(lines[lines.index("Model status") + 1].strip(), "NOT_SOLVED")
        k = lines.index("# Primal solution values")
        if lines[k + 1].strip() != "Feasible":
            return status, None, None
        obj = float(lines[k + 2].split()[1])
        n = int(lines[k + 3].split()[2])
        if n != n_vars:
            return status, None, None
        values = np.array([float(line.rsplit(None, 1)[1]) for line in lines[k + 4 : k + 4 + n]])
    except (ValueError, IndexError):
        return "NOT_SOLVED", None, None
    return status, values, obj


def _run(built, settings, inst, time_left):
    """Solve a built model with HiGHS through OR-Tools.

    Returns (status, values, objective, best bound, seconds) with status one of
    OPTIMAL, FEASIBLE (stopped by the time limit with a plan), INFEASIBLE or
    NOT_SOLVED. OR-Tools' wrapper reports neither solution nor bound when HiGHS
    stops at its time limit, so HiGHS writes its final solution and status to a
    file and its log gives the dual bound; a time-limited run then returns its
    best plan, labelled FEASIBLE with its gap.
    """
    from ortools.linear_solver.python import model_builder_helper as mbh

    solver = mbh.ModelSolverHelper("highs")
    solver.set_time_limit_in_seconds(max(time_left, 0.1))
    solver.enable_output(True)
    with tempfile.TemporaryDirectory(prefix="netopt-") as tmpdir:
        sol = Path(tmpdir) / "solution.txt"
        solver.set_solver_specific_parameters(
            _highs_options(settings, inst).replace("output_flag=false\n", "")
            + f"write_solution_to_file=true\nsolution_file={sol}\nwrite_solution_style=0\n"
        )
        t0 = time.perf_counter()
        with _native_stdout_captured() as captured:
            solver.solve(built.helper)
        secs = time.perf_counter() - t0
        status, values, obj = _read_solution_file(sol, built.n_vars)
    if status == "TIME_LIMIT":
        status = "FEASIBLE" if values is not None else "NOT_SOLVED"
    elif status == "OPTIMAL" and values is None:
        status = "NOT_SOLVED"
    bound = None
    if values is not None:
        found = _DUAL_BOUND.findall("".join(captured))
        try:
            bound = float(found[-1]) if found else None
        except ValueError:
            bound = None
        if bound is not None and not np.isfinite(bound):
            bound = None
    if obj is not None and inst.objective in ("distance", "coverage"):
        # the objective is an integer (inhabitants × whole metres, or inhabitants):
        # remove the solver's floating-point noise (its integrality tolerance)
        if abs(obj - round(obj)) < 0.01:
            obj = float(round(obj))
    return status, values, obj, bound, secs


def _modes_from(values: np.ndarray, built, n_stages: int) -> list[np.ndarray]:
    out = []
    for s in range(n_stages):
        y = values[built.y[s]] > 0.5
        f = values[built.f[s]] > 0.5
        out.append(np.where(y, KEPT, np.where(f, FLEXIBLE, CLOSED)).astype(np.int64))
    return out


def _candidate_sizes(inst: Instance) -> np.ndarray:
    k = np.full(inst.m, min(INITIAL_CANDIDATES, inst.n), dtype=np.int64)
    if inst.max_distance_m is not None:
        # every office within the maximum distance must be a candidate
        cand = inst.candidates(inst.n)
        within = np.add.reduceat((cand.dist_m <= inst.max_distance_m).astype(np.int64), cand.ptr[:-1]) if inst.m else np.zeros(0, np.int64)
        k = np.maximum(k, np.minimum(within + 1, inst.n))
    return k


@dataclass(frozen=True)
class SolverSettings:
    """Explicit solver settings (recorded in every plan)."""

    time_limit_s: float = 600.0
    threads: int = 1
    seed: int = 0
    relative_gap: float = 0.0
    tie_break: bool = True


@dataclass(frozen=True, eq=False)
class Optimum:
    """What :func:`optimise` found: modes per stage and the solver's facts."""

    modes: list
    status: str
    solver_objective: float | None
    best_bound: float | None
    solve_seconds: float
    build_seconds: float
    rounds: int
    model_size: dict
    phase: str
    widened_to_the_end: bool


def optimise(inst: Instance, settings: SolverSettings) -> Optimum:
    """Solve the model for ``inst``, widening candidate lists until exact.

    Raises :class:`InfeasibleError` (without explanation) when the model is
    infeasible, and when the solver stops without any plan.
    """
    t_start = time.perf_counter()
    deadline = t_start + settings.time_limit_s
    k = _candidate_sizes(inst)
    rounds = 0
    build_s = solve_s = 0.0
    while True:
        rounds += 1
        t0 = time.perf_counter()
        cand = inst.candidates(k)
        built = build_model(inst, cand)
        build_s += time.perf_counter() - t0
        log.info("round %d: %s", rounds, built.sizes())
        status, values, sobj, bound, secs = _run(built, settings, inst, deadline - time.perf_counter())
        solve_s += secs
        if status == "INFEASIBLE":
            raise InfeasibleError("the model is infeasible", {"status": status})
        if values is None:
            raise InfeasibleError(
                f"the solver stopped ({status}) after {solve_s:.0f} s without finding any plan. Fix: raise solver.time_limit_s (now {settings.time_limit_s:g} s)",
                {"status": status},
            )
        # widen where the optimum left a demand point with all its candidates
        # closed (read from the office decisions, which are integral)
        tail = np.zeros(inst.m, bool)
        for s in range(inst.n_stages):
            open_now = (values[built.y[s]] + values[built.f[s]]) > 0.5
            covered = np.add.reduceat(open_now[cand.office].astype(np.int64), cand.ptr[:-1]) > 0
            tail |= ~covered & (cand.next_m >= 0)
        if not tail.any() or time.perf_counter() >= deadline:
            break
        k = np.where(tail, np.minimum(k * 2, inst.n), k)
        log.info("widening candidate lists of %d demand points", int(tail.sum()))

    modes = _modes_from(values, built, inst.n_stages)
    phase = "optimise"
    if settings.tie_break and status == "OPTIMAL" and not tail.any() and time.perf_counter() < deadline:
        # Among plans with the same offices open (so the same access and the
        # optimal objective), take the one that changes the fewest offices
        # (kept rather than flexible), and among those the cheapest.
        t0 = time.perf_counter()
        b2 = build_model(inst, cand, cost_objective=True, change_objective=True, fixed_open=[m > 0 for m in modes])
        build_s += time.perf_counter() - t0
        st2, v2, _, _, secs = _run(b2, settings, inst, deadline - time.perf_counter())
        solve_s += secs
        if v2 is not None:
            m2 = _modes_from(v2, b2, inst.n_stages)
            if sum(objective_of(inst, m, s) for s, m in enumerate(m2)) <= sum(objective_of(inst, m, s) for s, m in enumerate(modes)):
                modes = m2
                phase = "optimise, then fewest changes and largest saving among plans with the same offices open"
    exact = not tail.any()
    return Optimum(
        modes=modes,
        status=("OPTIMAL" if status == "OPTIMAL" and exact else "FEASIBLE"),
        solver_objective=sobj,
        best_bound=bound,
        solve_seconds=solve_s,
        build_seconds=build_s,
        rounds=rounds,
        model_size=built.sizes(),
        phase=phase,
        widened_to_the_end=exact,
    )


def objective_of(inst: Instance, modes: np.ndarray, stage: int) -> float:
    """Objective of one stage's modes, from the independent evaluator."""
    from .metrics import objective_value

    _, dist = inst.nearest_open(np.asarray(modes) > 0)
    return objective_value(inst, dist)


def settings_of(scenario: Scenario) -> SolverSettings:
    return SolverSettings(time_limit_s=scenario.time_limit_s, threads=scenario.threads, seed=scenario.seed, relative_gap=scenario.relative_gap, tie_break=scenario.tie_break)


def solve(network: Network, scenario: Scenario, *, params: Parameters | None = None) -> Plan:
    """Find the best office network for a scenario.

    Reads: validate → visits and costs → build → solve → evaluate → Plan.
    Raises :class:`~netopt.errors.InfeasibleError` with an explanation when
    no plan meets every constraint.
    """
    prep = prepare(network, scenario, params)
    inst = prep.instance
    _precheck(prep)
    try:
        opt = optimise(inst, settings_of(scenario))
    except InfeasibleError as exc:
        if exc.explanation.get("status") == "INFEASIBLE":
            raise _explain_infeasible(prep) from None
        raise
    stages = tuple(evaluate_stage(inst, m, s) for s, m in enumerate(opt.modes))
    objective = float(sum(st.objective for st in stages))
    bound = opt.best_bound
    gap = None
    if bound is not None:
        gap = max(0.0, (objective - bound) / max(abs(objective), 1e-9))
        if opt.status == "OPTIMAL" and inst.objective in ("distance", "coverage") and objective - bound < 1.0:
            gap = 0.0
    notes = []
    if scenario.threads > 1:
        notes.append(f"solved with {scenario.threads} threads: among equally good plans, which one is returned may depend on the number of threads (threads = 1 is reproducible)")
    if not opt.widened_to_the_end:
        notes.append("the time limit stopped the widening of candidate lists: the plan is feasible but not proven optimal")
    return Plan(
        prepared=prep,
        status=opt.status,
        objective=objective,
        solver_objective=opt.solver_objective,
        best_bound=bound,
        gap=gap,
        solve_seconds=opt.solve_seconds,
        build_seconds=opt.build_seconds,
        rounds=opt.rounds,
        model_size=opt.model_size,
        stages=stages,
        phase=opt.phase,
        notes=tuple(notes),
    )


def evaluate(network: Network, decisions: dict, scenario: Scenario, *, params: Parameters | None = None) -> Plan:
    """Measure a hand-written plan: ``decisions`` maps office_id → "close"/"flexible"/"keep"
    (offices not named are kept), applied to every stage of the scenario."""
    prep = prepare(network, scenario, params)
    inst = prep.instance
    ids = list(inst.office_ids)
    # offices not named are kept; extra candidate sites not named are not opened
    modes = np.where(inst.existing_mask, KEPT, CLOSED).astype(np.int64)
    lookup = {v: k for k, v in MODE_NAMES.items()}
    lookup["open"] = KEPT
    unknown = [o for o in decisions if o not in ids]
    if unknown:
        raise ScenarioError(f"unknown office IDs: {describe_unknown_office_ids(unknown, network.offices)}. Fix: use office_id values of the register (netopt validate --list)")
    for oid, dec in decisions.items():
        if dec not in lookup:
            raise ScenarioError(f"office {oid}: decision {dec!r} is not one of close, flexible, keep (or open, for a candidate site)")
        modes[ids.index(oid)] = lookup[dec]
    if not (modes > 0).any():
        raise InfeasibleError("the plan closes every office: nobody can be served", {"offices_open": 0})
    t0 = time.perf_counter()
    stages = tuple(evaluate_stage(inst, modes, s) for s in range(inst.n_stages))
    return Plan(
        prepared=prep,
        status="EVALUATED",
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
    )


# --------------------------------------------------------------------------- infeasibility


def _precheck(prep: Prepared) -> None:
    """Fail before solving when the scenario cannot work, naming what makes it impossible."""
    net, sc = prep.network, prep.scenario
    names = dict(zip(net.fa_regions["fa_code"], net.fa_regions["fa_name"]))
    off = net.offices
    problems = {}
    if sc.require_all_fa_regions:
        missing = net.fa_regions_without_office()
        if missing:
            problems["fa_regions_without_any_office"] = [f"{c} {names[c]}" for c in missing]
    blocked = []
    for fa, grp in off.groupby("fa_code"):
        if grp["office_id"].isin(sc.lock_closed).all():
            blocked.append(f"{fa} {names.get(fa, '')}")
    if blocked:
        problems["fa_regions_with_every_office_locked_closed"] = blocked
    if sc.max_closures is not None and sc.lock_closed and len(sc.lock_closed) > sc.max_closures:
        problems["locked_closed_exceeds_max_closures"] = {"locked_closed": len(sc.lock_closed), "max_closures": sc.max_closures}
    if problems:
        parts = []
        if "fa_regions_without_any_office" in problems:
            parts.append("FA-regions with no office in the register: " + ", ".join(problems["fa_regions_without_any_office"]))
        if blocked:
            parts.append("FA-regions whose every office is locked closed: " + ", ".join(blocked))
        if "locked_closed_exceeds_max_closures" in problems:
            parts.append(f"{len(sc.lock_closed)} offices are locked closed but max_closures is {sc.max_closures}")
        raise InfeasibleError("the scenario cannot be met: " + "; ".join(parts), problems)


def max_saving_msek(prep: Prepared, *, cover_fa: bool = True) -> float | None:
    """An upper bound on the saving (MSEK per year, allowance included) of the last
    stage while the constraints other than the budget hold (and, with
    ``cover_fa=False``, without the FA-region requirement).

    Solved on each demand point's nearest candidates only, with the visits of a
    point whose candidates are all closed valued at the floor rate: a relaxation,
    so the bound is valid, and fast.
    """
    inst = prep.instance
    last = inst.n_stages - 1
    relaxed = Instance(**{
        **inst.__dict__,
        "budgets_sek": (1e18,),
        "allowances_sek": (inst.allowances_sek[last],),
        "cover_fa": cover_fa and inst.cover_fa,
    })
    cand = inst.candidates(_candidate_sizes(inst))
    built = build_model(relaxed, cand, cost_objective=True)
    limit = min(prep.scenario.time_limit_s, 60.0)
    status, values, obj, bound, _ = _run(built, settings_of(prep.scenario), relaxed, limit)
    low = bound if bound is not None else (obj if status == "OPTIMAL" else None)
    if low is None:
        return None
    baseline = prep.costs.baseline_cost_sek
    return float((baseline - low + inst.allowances_sek[last]) / 1e6)


def _explain_infeasible(prep: Prepared) -> InfeasibleError:
    sc = prep.scenario
    best = max_saving_msek(prep)
    target = sc.stages[-1].cut_msek
    info = {"target_cut_msek": target, "max_saving_msek": None if best is None else round(best, 1)}
    if best is None:
        msg = "no plan meets the scenario's constraints even without the budget cut (check locks, max_distance_km, keep_municipalities, max_closures)"
    elif best + 1e-6 < max(st.cut_msek for st in sc.stages):
        off = prep.network.offices[prep.instance.existing_mask]
        counts = off.groupby("fa_code").size()
        names = dict(zip(prep.network.fa_regions["fa_code"], prep.network.fa_regions["fa_name"]))
        single = [f"{c} {names.get(c, '')}" for c in counts.index[counts == 1]]
        without = max_saving_msek(prep, cover_fa=False)
        info["fa_regions_with_a_single_office"] = single
        info["max_saving_without_fa_requirement_msek"] = None if without is None else round(without, 1)
        msg = (
            f"the cut cannot be met: at most {best:.1f} MSEK per year can be saved (allowance included) while every FA-region keeps an office "
            f"and the other constraints hold, but the scenario asks for {max(st.cut_msek for st in sc.stages):.1f} MSEK"
            + (f" (without the FA-region requirement: up to {without:.1f} MSEK; {len(single)} FA-regions have a single office, which can at most become flexible)" if without is not None else "")
            + ". Fix: lower cut_msek, allow flexible offices, or relax locks and constraints"
        )
    else:
        msg = "the constraints conflict with each other (capacity, growth or stage nesting): " + f"the largest saving ignoring the budget is {best:.1f} MSEK"
    return InfeasibleError(msg, info)
