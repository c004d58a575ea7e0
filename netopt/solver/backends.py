"""The only place that talks to a solver: one adapter per backend.

Every adapter takes a :class:`~netopt.model.BuiltModel` (arrays) and
:class:`~netopt.solver.result.SolveOptions` and returns a
:class:`~netopt.solver.result.SolveResult`; every status the solver can end
with is mapped. The solver's log goes to the logger ``netopt.solver`` (at INFO,
so ``--verbose`` shows it).

Backends (the scenario's ``[solver] backend``):

``highspy`` (default)
    HiGHS 1.16 through its own Python API: the arrays are passed directly,
    warm starts with ``setSolution``, the dual bound and the gap from its info,
    an objective cutoff (``objective_bound``), its log through a callback.
``ortools-highs``
    The same model as an OR-Tools model solved by the HiGHS 1.12 bundled with
    OR-Tools. OR-Tools 9.15 returns neither a plan nor a bound when HiGHS stops
    at its time limit, and has no usable log callback in Python, so HiGHS
    writes its final solution to a file and its log (captured from file
    descriptor 1) gives the dual bound. No warm start (``add_hint`` crashes
    this OR-Tools build with HiGHS) and no cutoff.
``cp-sat``
    OR-Tools CP-SAT on the OR-Tools model. CP-SAT needs integer variables and
    scales real coefficients to integers; the prefix-set variables are declared
    integer (they are 0/1 at every integral plan). Warm starts as hints. On a
    model with real coefficients (the budget in SEK, visits) CP-SAT solves its
    scaled copy: on the shipped 2027 stage it reports "optimal" at an objective
    1.9 % above the true optimum. Its bound is therefore used only for models
    whose data are all whole numbers (a plain p-median); otherwise its plans
    come without a proven bound (status TIME_LIMIT at best), never as optimal,
    and its "infeasible" is "no plan found" (on the 540 MSEK cut it says
    infeasible where plans exist).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import NetoptError
from .result import SolveOptions, SolveResult, SolveStatus

__all__ = ["Backend", "get_backend", "BACKENDS", "HighspyBackend", "OrtoolsHighsBackend", "CpSatBackend", "BackendError"]

log = logging.getLogger("netopt.solver")


class BackendError(NetoptError, RuntimeError):
    """A solver backend cannot run here (not installed, or unsafe in this process)."""

    exit_code = 2


class Backend(Protocol):
    """What the optimisation loop needs of a solver."""

    name: str
    supports_start: bool
    supports_cutoff: bool

    def solve(self, model, options: SolveOptions) -> SolveResult: ...


def _finish(status: SolveStatus, values, objective, bound, seconds, name, message="") -> SolveResult:
    if values is None and status.has_plan:
        status = SolveStatus.NO_PLAN
    return SolveResult(status=status, values=values, objective=objective, bound=bound, seconds=seconds, backend=name, message=message)


def _plan_status(proven_within_tolerances: bool, objective, bound, options: SolveOptions) -> SolveStatus:
    """OPTIMAL only when the objective meets the bound (within the absolute tolerance);
    WITHIN_GAP when a positive relative gap stopped the solver."""
    if objective is not None and bound is not None and objective - bound <= options.absolute_gap:
        return SolveStatus.OPTIMAL
    if proven_within_tolerances:
        return SolveStatus.WITHIN_GAP
    return SolveStatus.TIME_LIMIT


# --------------------------------------------------------------------------- highspy


_highs_lock = threading.Lock()
_highs_ready = False
_highs_threads: int | None = None


def _new_highs():
    """A quiet Highs object. HiGHS prints its banner to standard output when the
    first Highs object of a process is made, before any option can be set; that
    one construction runs with file descriptor 1 pointed at /dev/null."""
    global _highs_ready
    import highspy

    with _highs_lock:
        if not _highs_ready:
            with _fd1_to(os.devnull):
                h = highspy.Highs()
            _highs_ready = True
        else:
            h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


@contextmanager
def _fd1_to(path: str):
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no file descriptor 1 (embedded use)
        yield
        return
    target = os.open(path, os.O_WRONLY)
    try:
        os.dup2(target, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(target)


class HighspyBackend:
    """HiGHS through highspy (see the module docstring)."""

    name = "highspy"
    supports_start = True
    supports_cutoff = True

    def solve(self, model, options: SolveOptions) -> SolveResult:
        global _highs_threads
        try:
            import highspy
        except ImportError:  # pragma: no cover - a declared dependency
            raise BackendError("backend 'highspy' needs the highspy package. Fix: python3 -m pip install 'highspy>=1.16' or choose [solver] backend = \"ortools-highs\"") from None
        h = _highs_with(model)
        if options.threads != _highs_threads:
            # HiGHS keeps one thread pool per process: a new thread count needs a new pool
            if _highs_threads is not None:
                highspy.Highs.resetGlobalScheduler(True)
            _highs_threads = options.threads
        pending: list[str] = []

        def to_log(event):
            # HiGHS hands over pieces of lines: pass on each complete line as it comes
            pending.append(event.message)
            text = "".join(pending)
            *done, rest = text.split("\n")
            pending[:] = [rest]
            for line in done:
                log.info("highs: %s", line)

        if log.isEnabledFor(logging.INFO):
            h.setOptionValue("output_flag", True)
            h.setOptionValue("log_to_console", False)
            h.cbLogging.subscribe(to_log)
        scale = objective_scale(model)
        for key, value in (
            ("threads", int(options.threads)), ("random_seed", int(options.seed)),
            ("mip_rel_gap", float(options.relative_gap)), ("mip_abs_gap", float(options.absolute_gap) * 2.0**scale),
            ("time_limit", float(max(options.time_limit_s, 0.01))), ("user_objective_scale", scale),
        ):
            h.setOptionValue(key, value)
        if options.cutoff is not None:
            h.setOptionValue("objective_bound", float(options.cutoff) * 2.0**scale)  # in the scaled objective
        if options.node_limit is not None:
            h.setOptionValue("mip_max_nodes", int(options.node_limit))
        if not options.heuristics:
            h.setOptionValue("mip_heuristic_effort", 0.0)
            h.setOptionValue("mip_heuristic_run_feasibility_jump", False)
        if options.start is not None:
            cols, vals = options.start
            h.setSolution(len(cols), np.asarray(cols, np.int32), np.asarray(vals, float))
        t0 = time.perf_counter()
        h.run()
        secs = time.perf_counter() - t0
        if "".join(pending).strip():
            log.info("highs: %s", "".join(pending))
        ms = h.getModelStatus()
        info = h.getInfo()
        S = highspy.HighsModelStatus
        has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
        values = np.asarray(h.getSolution().col_value, float) if has_plan else None
        objective = float(info.objective_function_value) if has_plan else None
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        if ms == S.kOptimal and bound is None and has_plan and options.relative_gap == 0:
            bound = objective  # solved in presolve: optimal, no search and no dual bound reported
        if ms == S.kOptimal:
            status = _plan_status(True, objective, bound, options)
        elif ms == S.kInfeasible and options.cutoff is not None and not options.cutoff_in_rows:
            # with a cutoff HiGHS cannot tell "no plan at all" from "no plan below the cutoff"
            status, values, objective = SolveStatus.NO_PLAN, None, None
        elif ms == S.kInfeasible:
            status, values, objective = SolveStatus.INFEASIBLE, None, None
        elif ms in (S.kTimeLimit, S.kIterationLimit, S.kSolutionLimit, S.kInterrupt, S.kHighsInterrupt, S.kObjectiveBound, S.kObjectiveTarget, S.kMemoryLimit):
            status = _plan_status(False, objective, bound, options)
        elif ms == S.kUnboundedOrInfeasible and not has_plan:
            status = SolveStatus.INFEASIBLE
        else:
            status = SolveStatus.NO_PLAN
        return _finish(status, values, objective, bound, secs, self.name, h.modelStatusToString(ms))


def objective_scale(model) -> int:
    """The power of two HiGHS scales the objective by (``user_objective_scale``): the
    largest cost coefficient becomes about 2^16. Person-metres reach 10^10 per
    coefficient; unscaled, HiGHS's tolerances misjudge such costs (a widening round
    of the 540 MSEK cut hung in its node queue, or stopped at a 70 % gap after 30 s;
    scaled, it is proven optimal in 0.2 s). A power of two scales exactly; the
    absolute gap is scaled with it, so an integer objective is still proven to 1."""
    c = np.abs(model.obj[np.isfinite(model.obj)])
    top = float(c.max()) if c.size else 0.0
    if top <= 2.0**20:
        return 0
    return int(max(-40, 16 - int(np.ceil(np.log2(top)))))


def _highs_with(model):
    """A quiet Highs object holding the model (arrays passed directly)."""
    h = _new_highs()
    A = model.A.tocsr()
    h.passModel(
        int(model.n_vars), int(A.shape[0]), int(A.nnz), 2, 1, float(model.objective_offset),
        model.obj, model.lb, model.ub, model.row_lo, model.row_hi,
        A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32), A.data.astype(float),
        model.integer.astype(np.int32),
    )
    return h


def write_mps(model) -> str:
    """The model as MPS text with readable variable names and exact coefficients (HiGHS's writer)."""
    h = _highs_with(model)
    for k, name in enumerate(model.var_names()):
        h.passColName(k, name)
    with tempfile.TemporaryDirectory(prefix="netopt-") as tmp:
        path = Path(tmp) / "model.mps"
        h.writeModel(str(path))
        return path.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- OR-Tools HiGHS


_DUAL_BOUND = re.compile(r"Dual bound\s+(\S+)")
_MODEL_STATUS = {
    "Optimal": "optimal",
    "Infeasible": "infeasible",
    "Primal infeasible or unbounded": "infeasible",
    "Time limit reached": "stopped",
    "Iteration limit reached": "stopped",
    "Interrupted by user": "stopped",
}


@contextmanager
def _fd1_captured():
    """What native code prints on file descriptor 1 while the block runs (the OR-Tools
    HiGHS log has no other way out in this OR-Tools build); yields a list that receives the text."""
    out: list[str] = []
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
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


def _printed_bound(found: list[str]) -> float | None:
    """The last dual bound HiGHS printed, made a valid lower bound: the log rounds it to
    its last printed digit (188215.541381), so half a unit of that digit is taken off."""
    if not found:
        return None
    text = found[-1]
    try:
        value = float(text)
    except ValueError:
        return None
    if not np.isfinite(value):
        return None
    # HiGHS prints 12 significant digits: the last one printed is the rounding unit
    unit = 10.0 ** (np.floor(np.log10(abs(value))) - 11) if value != 0 else 1e-12
    return value - 0.5 * unit


def _read_solution_file(path: Path, n_vars: int):
    """Model status word, values and objective from a HiGHS solution file (raw style)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "none", None, None
    try:
        word = _MODEL_STATUS.get(lines[lines.index("Model status") + 1].strip(), "none")
        k = lines.index("# Primal solution values")
        if lines[k + 1].strip() != "Feasible":
            return word, None, None
        obj = float(lines[k + 2].split()[1])
        n = int(lines[k + 3].split()[2])
        if n != n_vars:
            return word, None, None
        values = np.array([float(line.rsplit(None, 1)[1]) for line in lines[k + 4 : k + 4 + n]])
    except (ValueError, IndexError):
        return "none", None, None
    return word, values, obj


class OrtoolsHighsBackend:
    """HiGHS 1.12 through OR-Tools' model builder (see the module docstring)."""

    name = "ortools-highs"
    supports_start = False
    supports_cutoff = False

    def solve(self, model, options: SolveOptions) -> SolveResult:
        from . import coexistence

        problem = coexistence.ortools_highs_problem()
        if problem:
            raise BackendError(problem)
        from ortools.linear_solver.python import model_builder_helper as mbh

        # Scale the objective by a power of two ourselves (exact): HiGHS 1.12's own
        # user_objective_scale leaves the offset unscaled in what it reports.
        scale = objective_scale(model)
        factor = 2.0**scale
        if scale:
            helper = mbh.ModelBuilderHelper()
            helper.fill_model_from_sparse_data(model.lb, model.ub, model.obj * factor, model.row_lo, model.row_hi, model.A)
            helper.set_objective_offset(model.objective_offset * factor)
            for k in np.flatnonzero(model.integer):
                helper.set_var_integrality(int(k), True)
        else:
            helper = model.to_ortools()
        solver = mbh.ModelSolverHelper("highs")
        solver.set_time_limit_in_seconds(max(options.time_limit_s, 0.01))
        solver.enable_output(True)
        with tempfile.TemporaryDirectory(prefix="netopt-") as tmpdir:
            sol = Path(tmpdir) / "solution.txt"
            solver.set_solver_specific_parameters(
                f"threads={options.threads}\nrandom_seed={options.seed}\nmip_rel_gap={float(options.relative_gap)!r}\n"
                f"mip_abs_gap={float(options.absolute_gap) * factor!r}\n"
                + (f"mip_max_nodes={int(options.node_limit)}\n" if options.node_limit is not None else "")
                + f"write_solution_to_file=true\nsolution_file={sol}\nwrite_solution_style=0\n"
            )
            t0 = time.perf_counter()
            with _fd1_captured() as captured:
                solver.solve(helper)
            secs = time.perf_counter() - t0
            word, values, objective = _read_solution_file(sol, model.n_vars)
        text = "".join(captured)
        for line in text.splitlines():
            log.info("highs: %s", line)
        bound = _printed_bound(_DUAL_BOUND.findall(text))
        if bound is not None:
            bound /= factor
        if objective is not None:
            objective /= factor
        if word == "optimal":
            status = _plan_status(True, objective, bound if bound is not None else objective, options)
            if bound is None:
                bound = objective if status == SolveStatus.OPTIMAL else None
        elif word == "infeasible":
            status, values, objective = SolveStatus.INFEASIBLE, None, None
        elif word == "stopped":
            status = _plan_status(False, objective, bound, options)
        else:
            status = SolveStatus.NO_PLAN
        return _finish(status, values, objective, bound, secs, self.name, word)


# --------------------------------------------------------------------------- CP-SAT


class CpSatBackend:
    """OR-Tools CP-SAT (see the module docstring)."""

    name = "cp-sat"
    supports_start = True
    supports_cutoff = False

    def solve(self, model, options: SolveOptions) -> SolveResult:
        from ortools.linear_solver.python import model_builder_helper as mbh

        from . import coexistence

        coexistence.guard_ortools()
        helper = mbh.ModelBuilderHelper()
        helper.overwrite_model(model.to_ortools())
        # every prefix-set variable is 0/1 at an integral plan: CP-SAT needs them integer
        for k in np.asarray(model.node_vars).ravel():
            helper.set_var_integrality(int(k), True)
        if options.start is not None:
            cols, vals = options.start
            for c, v in zip(np.asarray(cols), np.asarray(vals)):
                helper.add_hint(int(c), float(v))
        solver = mbh.ModelSolverHelper("sat")
        solver.set_time_limit_in_seconds(max(options.time_limit_s, 0.01))
        solver.set_solver_specific_parameters(
            f"num_workers:{max(1, options.threads)} random_seed:{options.seed} relative_gap_limit:{float(options.relative_gap)!r} "
            f"absolute_gap_limit:{float(options.absolute_gap)!r} log_search_progress:{'true' if log.isEnabledFor(logging.INFO) else 'false'}"
        )
        t0 = time.perf_counter()
        solver.solve(helper)
        secs = time.perf_counter() - t0
        st = solver.status()
        S = mbh.SolveStatus
        has = solver.has_solution()
        values = np.asarray(solver.variable_values(), float) if has else None
        objective = float(solver.objective_value()) if has else None
        bound = float(solver.best_objective_bound()) if has or st == S.OPTIMAL else None
        if bound is not None and not np.isfinite(bound):
            bound = None
        if not _all_integral(model):
            # CP-SAT solved a scaled copy: its bound, "optimal" and "infeasible" are not proofs for this
            # model (on the 540 MSEK cut it answers "infeasible" where plans exist)
            bound = None
            if st in (S.OPTIMAL, S.FEASIBLE):
                st = S.FEASIBLE
            elif st == S.INFEASIBLE:
                return _finish(SolveStatus.NO_PLAN, None, None, None, secs, self.name,
                               "CP-SAT found its scaled copy of the model infeasible, which proves nothing for the model itself")
        if st == S.OPTIMAL:
            status = _plan_status(options.relative_gap > 0 or options.absolute_gap > 0, objective, bound, options)
        elif st == S.INFEASIBLE:
            status, values, objective = SolveStatus.INFEASIBLE, None, None
        elif st == S.FEASIBLE:
            status = _plan_status(False, objective, bound, options)
        else:
            status = SolveStatus.NO_PLAN
        return _finish(status, values, objective, bound, secs, self.name, str(st))


def _all_integral(model) -> bool:
    """True when every coefficient, bound and objective term of the model is a whole number."""
    def whole(a):
        a = np.asarray(a, float)
        a = a[np.isfinite(a)]
        return bool(np.all(a == np.round(a)))

    return whole(model.A.data) and whole(model.row_lo) and whole(model.row_hi) and whole(model.lb) and whole(model.ub) and whole(model.obj)


BACKENDS: dict[str, type] = {"highspy": HighspyBackend, "ortools-highs": OrtoolsHighsBackend, "cp-sat": CpSatBackend}


def get_backend(name: str) -> Backend:
    """The adapter of a backend by its name (see :data:`BACKENDS`)."""
    try:
        return BACKENDS[name]()
    except KeyError:
        raise BackendError(f"unknown solver backend {name!r}. Fix: use one of {', '.join(BACKENDS)}") from None
