"""The ``netopt`` command line: parse, call one library function, report.

Exit codes: 0 success, 1 infeasible scenario (or no plan found in the time limit),
2 bad input or output problem, 3 internal error (a bug: rerun with --verbose).
Errors are one message without traceback unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path

from . import __version__
from .errors import DataError, InfeasibleError, NetoptError

from .i18n import LANGUAGES
from .io import SCENARIOS_DIR
from .scenario import BACKENDS as BACKEND_NAMES

DEFAULT_SCENARIO = str(SCENARIOS_DIR / "cut-2027.toml")

log = logging.getLogger("netopt.cli")

#: What the writers import on first use: report.html's figures (matplotlib), map.html
#: (:mod:`netopt.maps`: folium, branca), plan.xlsx (openpyxl), plan.gpkg (pyogrio).
WRITER_MODULES = ("matplotlib.figure", "matplotlib.backends.backend_svg", "matplotlib.backends.backend_agg", "matplotlib.ticker",
                  "matplotlib.lines", "matplotlib.patches", "openpyxl", "pyogrio")
MAP_MODULES = ("netopt.maps",)


def _import_meanwhile(modules) -> threading.Thread:
    """Import ``modules`` in a background thread, so that importing the writers'
    libraries (about half a second) overlaps the solve, during which HiGHS
    releases the GIL. The caller joins the thread before writing, so no import
    runs in two threads at once while the files are written. A module that
    fails to import here is left alone: the writer that needs it imports it
    again and reports the error itself."""
    import importlib

    def work():
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the writer raises it, with its context
                pass

    thread = threading.Thread(target=work, name="netopt-import-writers", daemon=True)
    thread.start()
    return thread


def _data_options(p: argparse.ArgumentParser, *, compare: bool = False) -> None:
    if compare:
        g = p.add_argument_group("where a plan's input files now lie, if they moved (each plan is shown with the files it was made with, checked by SHA-256)")
    else:
        g = p.add_argument_group("data (default: the shipped Swedish network)")
    g.add_argument("--offices", metavar="PATH", help="office register CSV (office_id, office_name, municipality_code, lat, lon; optional visits, cost_msek)")
    g.add_argument("--division", metavar="PATH", help="FA division CSV (municipality_code, fa_code, fa_name), e.g. FA25; overrides the scenario's fa_division")
    g.add_argument("--population", metavar="PATH", help="population per municipality CSV (municipality_code, population)")
    g.add_argument("--demand", metavar="PATH", help="demand points CSV (point_id, municipality_code, lat, lon, population)")
    if not compare:  # a plan records its resolved parameters
        g.add_argument("--parameters", metavar="PATH", help="visit and cost parameters TOML (default: data/model/parameters.toml)")
    g.add_argument("--candidates", metavar="PATH", help="extra candidate sites CSV (same columns as the register), closed today; a plan may open them")
    g.add_argument("--distances", metavar="PATH", help="own travel distances CSV (point_id, office_id, distance_km; every pair) instead of straight line × detour")
    g.add_argument("--calibrate-to", choices=("reference", "register"), default=None, help="calibrate the 2024 baseline to the national reference (annual report; default) or to the register's own visits and costs (regional studies)")


def _areas_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--areas", metavar="PATH", help="areas with high social exclusion CSV (area_name, municipality_code, lat, lon, area_m2; default: the Police's list of 2025)")


def _areas(args, net):
    """The area list for the report, validated before any slow work (None: the shipped list)."""
    from .areas import load_areas

    return load_areas(args.areas, net.municipalities) if getattr(args, "areas", None) else None


def _out_options(p: argparse.ArgumentParser, *, lang: bool = True) -> None:
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (refused if it exists, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    if lang:
        p.add_argument("--lang", choices=LANGUAGES, default=None, help="language of the reports and the map: en (English, the default) or sv (Swedish); overrides the scenario's lang")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netopt", description="Plan networks of public service offices: meet a budget cut, keep every FA-region served, lose as little access as possible.")
    parser.add_argument("--version", action="version", version=f"netopt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and model sizes; show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # --verbose is also accepted after the command (netopt solve ... --verbose);
    # SUPPRESS keeps a --verbose given before the command
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log progress and model sizes; show tracebacks")

    def command(name, **kw) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[verbose], **kw)

    p = command("solve", help="solve a scenario; write plan.csv, summary.json, report.md, report.html, map.html, plan.xlsx, plan.gpkg", description="Solve a scenario and write DIR/plan.csv, DIR/summary.json, DIR/report.md, DIR/report.html, DIR/map.html, DIR/plan.xlsx and DIR/plan.gpkg.")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file (see docs/scenarios.md), or the name of a shipped one: cut-2025, cut-2026, cut-2027, stages-2025-2027")
    _out_options(p)
    _data_options(p)
    p.add_argument("--time-limit", type=float, metavar="S", help="solver time limit in seconds (overrides the scenario)")
    p.add_argument("--backend", choices=BACKEND_NAMES, help="solver backend (overrides the scenario's [solver] backend; default highspy)")
    p.add_argument("--export-model", metavar="FILE.mps|FILE.lp", help="also write the model the optimisation starts from (MPS or LP, readable names), for inspection")
    p.add_argument("--no-map", action="store_true", help="skip map.html")
    g = p.add_argument_group("decision support for consultations (each figure a real re-solve; they share the scenario's time limit)")
    g.add_argument("--explain", action="store_true", help="also write keep_costs.csv: for every office the plan closes or turns flexible, the best plan at the same cut that keeps it, and the money that would keep it with nothing else changed")
    g.add_argument("--alternatives", type=int, default=0, metavar="N", help="also find up to N plans that differ from the optimum (and each other) in which offices are kept, within --within %% of the optimum, best first: alternatives.csv and DIR/alternatives/alt-K/")
    g.add_argument("--within", type=float, default=1.0, metavar="PCT", help="how far above the optimum's objective an alternative may be, in %% (default 1)")
    _areas_option(p)

    p = command("evaluate", help="measure a hand-written plan with the same yardstick", description="Evaluate a plan written by hand: the offices to close and to turn flexible (--close, --flexible, or a --plan file); all others are kept.")
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO.toml", help=f"scenario for the cut and parameters (default: {DEFAULT_SCENARIO})")
    p.add_argument("--close", default="", metavar="ID[,ID...]", help="office IDs to close, comma separated")
    p.add_argument("--flexible", default="", metavar="ID[,ID...]", help="office IDs to turn into flexible offices")
    p.add_argument("--plan", metavar="FILE", help="CSV with office_id, decision (keep, flexible, close; open or not opened for a candidate site): an edited plan.csv, or the CSV a map's what-if panel downloads")
    p.add_argument("--strict", action="store_true", help="exit 1 when the plan breaks a constraint of the scenario (an FA-region left without an office, the cut not met, ...); the outputs are written either way")
    _out_options(p)
    _data_options(p)
    p.add_argument("--no-map", action="store_true", help="skip map.html")
    _areas_option(p)

    p = command("sweep", help="frontier of saving against access over a range of cuts", description="Solve the scenario's last stage for each cut; write DIR/frontier.csv, DIR/frontier.html (the chart links to each plan) and each feasible cut's plan in DIR/cut-<MSEK>/ with the usual outputs.")
    p.add_argument("scenario", metavar="SCENARIO.toml")
    p.add_argument("--cuts", default="0:200:10", metavar="START:STOP:STEP", help="cuts in MSEK per year, STOP inclusive, or a comma list (default 0:200:10)")
    _out_options(p)
    p.add_argument("--no-map", action="store_true", help="skip map.html in the plan folders")
    p.add_argument("--no-plans", action="store_true", help="write only frontier.csv and frontier.html, no folder per cut")
    _data_options(p)

    p = command("robustness", help="how sure is the plan: solve samples of the uncertain estimates on a Dask cluster",
                description="Solve the scenario (the base plan), then draw samples of the uncertain visit and cost estimates "
                            "(data/model/uncertainty.toml or --uncertainty), solve each sample (started from the base plan) and measure "
                            "the base plan under it, on a Dask cluster: a LocalCluster on this machine by default, or --cluster. "
                            "Write DIR/robustness.csv (per office: how often each decision holds, fragile decisions), DIR/samples.csv, "
                            "DIR/sample_visits.csv, DIR/robustness.json, DIR/report.md, DIR/map.html and DIR/uncertainty.toml. See docs/robustness.md.")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file, or the name of a shipped one (cut-2027, stages-2025-2027, ...)")
    p.add_argument("--samples", type=int, default=100, metavar="N", help="number of samples (default 100)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the samples: the same seed gives the same samples and files (default 0)")
    p.add_argument("--uncertainty", metavar="PATH", help="what to sample, TOML (default: data/model/uncertainty.toml)")
    p.add_argument("--fragile-below", type=float, default=0.8, metavar="SHARE", help="a base decision that holds in fewer than this share of the samples is fragile (default 0.8)")
    _out_options(p)
    p.add_argument("--no-map", action="store_true", help="skip map.html")
    p.add_argument("--time-limit", type=float, metavar="S", help="solver time limit per solve in seconds (overrides the scenario)")
    g = p.add_argument_group("where the samples run (Dask distributed; default: a LocalCluster on this machine)")
    g.add_argument("--cluster", metavar="ADDRESS", help="an existing Dask scheduler: tcp://HOST:PORT, or tls://HOST:PORT with the TLS options or Dask's TLS configuration; its workers need the same netopt")
    g.add_argument("--workers", type=int, metavar="N", help="worker processes of the LocalCluster, one solver thread each (default: one per core)")
    g.add_argument("--tls-ca-file", metavar="PEM", help="CA certificate that signed the scheduler's and workers' certificates (tls://)")
    g.add_argument("--tls-cert", metavar="PEM", help="this client's certificate (tls://)")
    g.add_argument("--tls-key", metavar="PEM", help="this client's private key (tls://)")
    g.add_argument("--cluster-timeout", type=float, default=10.0, metavar="S", help="seconds to try to reach the scheduler and to wait for a worker (default 10)")
    _data_options(p)

    p = command("compare", help="what differs between two plans (table and map)", description="Compare two output folders of solve/evaluate; write DIR/compare.csv, DIR/compare.md and DIR/map.html.")
    p.add_argument("dir_a", metavar="DIR_A")
    p.add_argument("dir_b", metavar="DIR_B")
    _out_options(p)
    _data_options(p, compare=True)

    p = command("validate", help="check the data and print what it holds", description="Load and validate the network; report every problem at once.")
    _data_options(p)
    p.add_argument("--json", action="store_true", help="print counts as JSON")
    p.add_argument("--list", action="store_true", help="list the offices (office_id, name, municipality, FA-region)")
    _areas_option(p)

    p = command("calibrate", help="how the visit and cost models reproduce the annual report", description="Print the calibration: what the baseline is calibrated to, visits per SSC region against table 25, total cost against 1 003.1 MSEK, cost per visit by office size, and every public per-office figure against the model.")
    _data_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _network(args, scenario=None):
    """The network of the data options; with a scenario, in the scenario's FA division
    (``--division`` overrides it: see :func:`_scenario_for`)."""
    from .data import load_network

    division = args.division
    if division is None and scenario is not None and scenario.fa_division not in (None, "fa2015"):
        division = scenario.fa_division
    net = load_network(args.offices, division=division, population=args.population, demand=args.demand, candidates=args.candidates, distances=args.distances)
    if getattr(args, "command", None) != "validate":  # validate lists them with its findings
        for w in net.warnings:
            print(f"netopt: warning: {w}", file=sys.stderr)
    return net


def _scenario_for(args, sc):
    """The scenario with the command line's overrides (--division, --time-limit, --backend)."""
    changes = {}
    if getattr(args, "division", None):
        changes["fa_division"] = str(Path(args.division).resolve())
    if getattr(args, "time_limit", None) is not None:
        changes["time_limit_s"] = args.time_limit
    if getattr(args, "backend", None):
        changes["backend"] = args.backend
    return sc.with_(**changes) if changes else sc


def _params(args):
    from .params import load_parameters

    params = load_parameters(args.parameters) if args.parameters else None
    if getattr(args, "calibrate_to", None):
        params = (params or load_parameters()).with_overrides(calibrate_to_reference=args.calibrate_to == "reference")
    return params


def _scenario(path):
    """Load a scenario file or a shipped scenario's name (the library's rule:
    :func:`netopt.scenario.load_scenario`)."""
    from .scenario import load_scenario

    return load_scenario(path)


def _check_out(args) -> None:
    """Refuse a bad --out before any slow work (not after a long solve);
    the rule itself is the library's (:func:`netopt.io.check_output_dir`)."""
    from . import io

    io.check_output_dir(args.out, overwrite=args.overwrite)


def _ids(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def cmd_solve(args) -> int:
    from . import io
    from .consult import consult
    from .errors import ScenarioError
    from .outputs import write_outputs
    from .plan import build_first_model, solve

    _check_out(args)
    fmt = None
    if args.export_model:
        fmt = Path(args.export_model).suffix.lower().lstrip(".")
        if fmt not in ("mps", "lp"):
            from .errors import OutputError

            raise OutputError(f"--export-model {args.export_model}: the file name must end in .mps or .lp. Fix: e.g. --export-model model.mps")
    if args.alternatives < 0:
        raise ScenarioError(f"--alternatives {args.alternatives}: a number of plans must be 0 or more. Fix: e.g. --alternatives 5")
    if not (0 <= args.within <= 100):
        raise ScenarioError(f"--within {args.within:g}: a percentage above the optimum from 0 to 100. Fix: e.g. --within 1 for 1 %")
    t0 = time.perf_counter()
    sc = _scenario_for(args, _scenario(args.scenario))
    net = _network(args, sc)
    areas = _areas(args, net)
    params = _params(args)
    log.info("scenario and network loaded in %.2f s", time.perf_counter() - t0)
    if fmt:
        io.write_text(Path(args.export_model), build_first_model(net, sc, params=params).export_text(fmt))
    t0 = time.perf_counter()
    importing = _import_meanwhile(WRITER_MODULES + (() if args.no_map else MAP_MODULES))
    plan = solve(net, sc, params=params)
    log.info("solved in %.2f s", time.perf_counter() - t0)
    consultation = consult(plan, explain=args.explain, n_alternatives=args.alternatives, within=args.within / 100.0)
    t0 = time.perf_counter()
    importing.join()
    write_outputs(plan, args.out, overwrite=args.overwrite, with_map=not args.no_map, areas=areas, lang=args.lang, consultation=consultation)
    log.info("wrote %s in %.2f s", args.out, time.perf_counter() - t0)
    _print_plan(plan, args.out)
    _print_consultation(consultation)
    return 0


def _print_consultation(c) -> None:
    """One line per part of the consultation that was computed (stdout)."""
    if c.lock_price is not None:
        lp = c.lock_price
        if lp.objective_without is None:
            print(f"Locks: the re-solve without them found no plan ({lp.status})")
        else:
            print(f"Locks: without them the mean distance would be {lp.mean_km_without:.3f} km instead of {lp.mean_km_with:.3f} km "
                  f"({len(lp.offices_changed)} {_n(len(lp.offices_changed), 'office', 'offices')} decided otherwise; re-solve {lp.status}, {lp.seconds:.1f} s)")
    if c.keep_costs is not None:
        t = c.keep_costs.table
        proven = int((t["status"] == "OPTIMAL").sum())
        print(f"keep_costs.csv: {len(t)} {_n(len(t), 'office', 'offices')}, {proven} proven optimal, {int((t['status'] == 'INFEASIBLE').sum())} cannot be kept at this cut; {c.keep_costs.seconds:.1f} s")
    if c.alternatives is not None:
        a = c.alternatives
        k, complete = a.count_within()
        print(f"alternatives.csv: {len(a.table)} {_n(len(a.table), 'alternative', 'alternatives')} within {100 * a.within:g} % ({a.stopped}); "
              f"{'' if complete else 'at least '}{k} within 1 %; {a.seconds:.1f} s")


def _n(count, one: str, other: str) -> str:
    """The words for a count: ``one`` when it is 1, else ``other``."""
    return one if int(count) == 1 else other


def _print_plan(plan, out) -> None:
    from .report import fmt

    s = plan.summary()
    gap = "–" if s["gap"] is None else f"{100 * s['gap']:.4f} %"
    print(
        f"{plan.scenario.name}: {s['status']} (gap {gap}); saving {fmt(s['savings_msek'], '.1f')} MSEK"
        + (f" + {fmt(s['flexible_allowance_used_msek'], '.1f')} allowance" if s["flexible_allowance_used_msek"] else "")
        + f" (cut {s['cut_msek']:g}); kept {s['offices_kept']}, flexible {s['offices_flexible']}, closed {s['offices_closed']}; "
        f"FA-regions served {s['fa_regions_served']}/{s['fa_regions_total']}; mean distance {s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km"
        + (f" ({s['population_mean_equivalent_distance_km']:.2f} km counting flexible offices {s['flexible_extra_distance_km']:g} km farther)"
           if "population_mean_equivalent_distance_km" in s else "")
        + f". Wrote {out}/"
    )
    _print_basis(plan.prepared)


def _print_basis(prep) -> None:
    """What the baseline was calibrated to, and any flag (stderr keeps stdout one line per plan)."""
    from .calibration import calibration_basis

    basis = calibration_basis(prep.network, prep.visits, prep.costs, prep.params)
    print(basis["statement"], file=sys.stderr)
    for flag in basis["flags"]:
        print(f"netopt: warning: {flag}", file=sys.stderr)


def cmd_evaluate(args) -> int:
    from .outputs import write_outputs
    from .plan import evaluate
    from .scenario import default_scenario

    _check_out(args)
    if args.scenario:
        sc = _scenario(args.scenario)
    elif Path(DEFAULT_SCENARIO).exists():
        sc = _scenario(DEFAULT_SCENARIO)
    else:
        sc = default_scenario()
    sc = _scenario_for(args, sc)
    from .errors import ScenarioError

    if args.plan and (_ids(args.close) or _ids(args.flexible)):
        raise ScenarioError(f"--plan {args.plan} cannot be combined with --close or --flexible. Fix: write every decision in {args.plan}")
    net = _network(args, sc)
    if args.plan:
        from .decisions import read_decisions

        decisions = read_decisions(args.plan, net)
    else:
        decisions = {i: "close" for i in _ids(args.close)}
    for i in _ids(args.flexible):
        if i in decisions:
            raise ScenarioError(f"office {i} is both in --close and --flexible. Fix: name it once")
        decisions[i] = "flexible"
    areas = _areas(args, net)
    plan = evaluate(net, decisions, sc, params=_params(args))
    write_outputs(plan, args.out, overwrite=args.overwrite, with_map=not args.no_map, areas=areas, lang=args.lang)
    _print_plan(plan, args.out)
    from .tables import unnamed_offices

    u = unnamed_offices(plan)
    if u:
        sites = f", and {u['not_opened']} candidate {'site' if u['not_opened'] == 1 else 'sites'} it does not name {'stays' if u['not_opened'] == 1 else 'stay'} unopened" if u["not_opened"] else ""
        what = "offices and candidate sites" if u["candidates"] else "offices"
        print(f"netopt: the plan names {u['named']} of the {u['offices']} {what}; the other {u['kept']} "
              f"{'office is' if u['kept'] == 1 else 'offices are'} kept as {'it is' if u['kept'] == 1 else 'they are'} today{sites}", file=sys.stderr)
    from .consult import plan_breaks

    breaks = plan_breaks(plan)
    for b in breaks:
        print(f"netopt: the plan breaks: {b.year}: {b.text}", file=sys.stderr)
    if breaks and args.strict:
        print(f"netopt: --strict: the plan breaks {len(breaks)} {'constraint' if len(breaks) == 1 else 'constraints'} of the scenario (outputs written to {args.out})", file=sys.stderr)
        return 1
    return 0


def _progress_bar(k: int, n: int, what: str) -> None:
    """A progress bar on stderr: ``[#####.....] k/n what``, ended by a newline at n."""
    width = 30
    done = int(width * k / n)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {k}/{n} {what}")
    if k == n:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_sweep(args) -> int:
    from .sweep import cut_folder, parse_cuts, write_sweep

    _check_out(args)
    sc = _scenario_for(args, _scenario(args.scenario))
    cuts = parse_cuts(args.cuts)
    net = _network(args, sc)

    def progress(k, n, cut):
        _progress_bar(k, n, f"cuts (last {cut:g} MSEK)")

    frame = write_sweep(net, sc, cuts, args.out, overwrite=args.overwrite, params=_params(args), lang=args.lang, with_map=not args.no_map, with_plans=not args.no_plans, progress=progress)
    plans = "" if args.no_plans else f" and a folder per feasible cut ({cut_folder(frame['cut_msek'].iloc[0])}/ …)"
    no_plan = int((frame["status"] == "NO_PLAN").sum())
    stopped = f", {no_plan} without a plan in the time limit" if no_plan else ""
    print(f"{len(frame)} {_n(len(frame), 'cut', 'cuts')}, {int((frame['status'] == 'INFEASIBLE').sum())} infeasible{stopped}. Wrote {args.out}/frontier.csv, frontier.html{plans}")
    return 0


def _quiet_dask(verbose: bool) -> None:
    """Dask's own logging configuration (made when ``distributed`` is imported)
    logs the scheduler and workers at INFO: only warnings unless --verbose."""
    import distributed  # noqa: F401 - sets up the "distributed" logger

    logging.getLogger("distributed").setLevel(logging.INFO if verbose else logging.WARNING)


def cmd_robustness(args) -> int:
    from .cluster import ClusterError, ClusterSettings
    from .i18n import fmt
    from .robustness import robustness, write_robustness
    from .uncertainty import load_uncertainty

    _check_out(args)
    if args.cluster and args.workers is not None:
        raise ClusterError(f"--workers sets the size of a LocalCluster; the scheduler at {args.cluster} has its own workers. Fix: leave out --workers, or --cluster")
    if args.workers is not None and not 1 <= args.workers <= 1024:
        raise ClusterError(f"--workers {args.workers}: give a number of worker processes from 1 to 1024")
    if not args.cluster_timeout > 0:
        raise ClusterError(f"--cluster-timeout {args.cluster_timeout:g}: give a positive number of seconds")
    uncertainty = load_uncertainty(args.uncertainty)  # checked before any slow work
    _quiet_dask(args.verbose)
    sc = _scenario_for(args, _scenario(args.scenario))
    net = _network(args, sc)
    settings = ClusterSettings(address=args.cluster, workers=args.workers, tls_ca_file=args.tls_ca_file, tls_cert=args.tls_cert,
                               tls_key=args.tls_key, timeout_s=args.cluster_timeout)

    def on_start(where, workers):
        print(f"netopt: {args.samples} {_n(args.samples, 'sample', 'samples')} on {where}", file=sys.stderr)

    result = robustness(net, sc, samples=args.samples, seed=args.seed, params=_params(args), uncertainty=uncertainty, cluster=settings,
                        fragile_below=args.fragile_below, progress=lambda k, n: _progress_bar(k, n, "samples"), on_start=on_start)
    write_robustness(result, args.out, overwrite=args.overwrite, lang=args.lang, with_map=not args.no_map)
    from .robustness import headline

    h = headline(result)
    lo, hi = h["base_misses_cut_interval_95"]
    print(f"{sc.name}: the base plan misses the cut in {h['base_misses_cut']} of {h['samples']} {_n(h['samples'], 'sample', 'samples')} ({fmt(100 * h['base_misses_cut_share'], '.0f')} %, "
          f"95 % interval {fmt(100 * lo, '.0f')}–{fmt(100 * hi, '.0f')} %); {h['decisions_fragile']} fragile {_n(h['decisions_fragile'], 'decision', 'decisions')} "
          f"(hold in fewer than {fmt(100 * result.fragile_below, '.0f')} % of the samples); {h['samples_without_plan']} {_n(h['samples_without_plan'], 'sample', 'samples')} without a plan. "
          f"Wrote {args.out}/robustness.csv, samples.csv, report.md" + ("" if args.no_map else ", map.html"))
    return 0


def cmd_compare(args) -> int:
    from .compare import INPUT_OPTIONS, compare_dirs

    _check_out(args)
    files = {role: getattr(args, role) for role in INPUT_OPTIONS if getattr(args, role)}
    compare_dirs(args.dir_a, args.dir_b, args.out, overwrite=args.overwrite, files=files, lang=args.lang)
    print(f"Wrote {args.out}/compare.csv, compare.md and map.html")
    return 0


def cmd_validate(args) -> int:
    from .areas import load_areas, relate_areas

    from .params import load_parameters
    from .visits import fit_visits

    net = _network(args)
    # the visit model's checks of the register's own figures (an office with
    # visits but no catchment of its own, ...) are data problems too: report
    # them here rather than first at `solve`
    fit_visits(net, _params(args) or load_parameters())
    s = net.summary()
    rel = relate_areas(load_areas(args.areas, net.municipalities), net.demand)
    s["warnings"] = [w.as_dict() for w in net.warnings]
    s["areas"] = {"source": str(args.areas or "shipped: Polisen 2025"), "areas": len(rel.areas), "population_estimate": int(round(rel.population_estimate.sum()))}
    if args.json:
        print(json.dumps(s, indent=2, ensure_ascii=False))
    else:
        population = f"{s['population']:,}".replace(",", " ")
        print(
            f"OK: {s['offices']} offices in {s['municipalities_with_office']} municipalities; {s['municipalities']} municipalities; "
            f"{s['fa_regions']} FA-regions ({s['fa_division']}), {s['fa_regions_with_office']} with an office; population {population}; {s['demand_points']} demand points."
        )
        if s["fa_regions_without_office"]:
            print("FA-regions without an office: " + ", ".join(s["fa_regions_without_office"]))
        for w in net.warnings:
            print(f"Warning: {w}")
    if args.list:
        for _, r in net.offices.iterrows():
            print(f"{r['office_id']}\t{r['office_name']}\t{r['municipality']}\t{r['fa_code']} {r['fa_name']}")
    return 0


def cmd_calibrate(args) -> int:
    from .calibration import calibration_report, comparison_year
    from .params import load_parameters

    net = _network(args)
    rep = calibration_report(net, _params(args) or load_parameters())
    names = dict(zip(net.offices["office_id"], net.offices["office_name"]))  # offices by name, as the reports say them
    if args.json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
        return 0
    from .report import fmt

    print(f"Visits: {rep['visits_total']:,.0f} predicted vs {rep['visits_total_annual_report']:,} in the annual report ({fmt(rep['visits_total_error_pct'], '+.3f')} %)".replace(",", " "))
    for r, d in rep["visits_by_region_detail"].items():
        print(f"  {r:<18} {d['predicted']:>10,.0f} vs {d['annual_report']:>9,} ({fmt(d['error_pct'], '+.3f')} %)".replace(",", " "))
    print(f"Cost: {rep['cost_total_msek']:.1f} MSEK vs {rep['cost_total_annual_report_msek']} ({fmt(rep['cost_total_error_pct'], '+.3f')} %); {rep['cost_per_visit_sek']:.0f} SEK per visit")
    print("Cost per visit by office size (visits per year):")
    for k, d in rep["cost_per_visit_by_office_size"].items():
        print(f"  {k:<8} {d['offices']:>3} offices  {d['cost_per_visit_sek'] if d['cost_per_visit_sek'] is not None else '–':>8} SEK")
    t = rep["public_figure_targets"]
    print(f"Public per-office figures, each against the model for its year ({t['within_tolerance']} of {t['total']} calibration targets within ±25 %):")
    for c in rep["public_figures"]:
        if c["model"] is None:
            continue
        verdict = "within ±25 %" if c["within_tolerance"] else "NOT within ±25 %"
        if c["measure"] == "rank":
            value, verdict = f"rank {c['model']:.0f}", ("met" if c["within_tolerance"] else "NOT met")
            now = f"rank {c['model_2024']:.0f}"
        else:
            value = f"{c['model']:.1f} visits/day" + (" (all offices of the municipality)" if c["scope"] == "municipality" else "")
            now = f"{c['model_2024']:.1f}"
        when = comparison_year(c)
        then = "" if when is None else f" in {when}" + (f" ({len(c['offices_opened_since'])} registered offices not yet open)" if c["offices_opened_since"] else "")
        today = "" if when is None else f"; on today's network {now}"
        if c.get("model_with_opened_in_year") is not None:
            also = c["model_with_opened_in_year"]
            also = f"rank {also:.0f}" if c["measure"] == "rank" else f"{also:.1f} visits/day"
            then += f" (counting {', '.join(names.get(o, o) for o in c['opened_in_year'])}, opened in {when} itself, as open: {also})"
        if c.get("visitors_moved_share"):
            today += f" ({c['visitors_moved_share']:.0f} % of its visitors then now at {', '.join(names.get(o, o) for o in c['visitors_moved_to'])})"
        print(f"  {c['office_name']}: {c['figure']} ({c['year']}, {c['use']}): model {value}{then}; {verdict}{today}")
    basis = rep["calibration_basis"]
    print(basis["statement"])
    for flag in basis["flags"]:
        print(f"netopt: warning: {flag}", file=sys.stderr)
    return 0


COMMANDS = {"solve": cmd_solve, "evaluate": cmd_evaluate, "sweep": cmd_sweep, "robustness": cmd_robustness, "compare": cmd_compare,
            "validate": cmd_validate, "calibrate": cmd_calibrate}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        return COMMANDS[args.command](args)
    except InfeasibleError as exc:
        if args.verbose:
            raise
        # the solver stopped (time limit) without a plan that meets every constraint: not proven infeasible
        stopped = exc.explanation.get("status") not in (None, "INFEASIBLE")
        print(f"netopt: {'no plan found' if stopped else 'infeasible'}: {exc}", file=sys.stderr)
        if exc.explanation:
            print(json.dumps(exc.explanation, ensure_ascii=False, sort_keys=True), file=sys.stderr)
        return 1
    except DataError as exc:
        if args.verbose:
            raise
        print(f"netopt: {exc}", file=sys.stderr)
        return 2
    except NetoptError as exc:
        if args.verbose:
            raise
        print(f"netopt: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("netopt: interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader stopped reading (netopt validate --list | head -1): not an
        # error; send the rest of the output nowhere so the exit flush is quiet
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except Exception as exc:  # a bug in netopt, not in the input
        if args.verbose:
            raise
        print(f"netopt: internal error ({type(exc).__name__}: {exc}); nothing was written. Run again with --verbose and report the traceback", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
