"""The ``netopt`` command line: parse, call one library function, report.

Exit codes: 0 success, 1 infeasible scenario (or no plan found in the time limit),
2 bad input or output problem, 3 internal error (a bug: rerun with --verbose).
Errors are one message without traceback unless ``--verbose``.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

from . import __version__
from .errors import DataError, InfeasibleError, NetoptError

from .io import DATA_DIR
from .scenario import BACKENDS as BACKEND_NAMES

DEFAULT_SCENARIO = str(DATA_DIR.parent / "scenarios" / "cut-2027.toml")


def _data_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data (default: the shipped Swedish network)")
    g.add_argument("--offices", metavar="PATH", help="office register CSV (office_id, office_name, municipality_code, lat, lon; optional visits, cost_msek)")
    g.add_argument("--division", metavar="PATH", help="FA division CSV (municipality_code, fa_code, fa_name), e.g. FA25; overrides the scenario's fa_division")
    g.add_argument("--population", metavar="PATH", help="population per municipality CSV (municipality_code, population)")
    g.add_argument("--demand", metavar="PATH", help="demand points CSV (point_id, municipality_code, lat, lon, population)")
    g.add_argument("--parameters", metavar="PATH", help="visit and cost parameters TOML (default: data/model/parameters.toml)")
    g.add_argument("--candidates", metavar="PATH", help="extra candidate sites CSV (same columns as the register), closed today; a plan may open them")
    g.add_argument("--distances", metavar="PATH", help="own travel distances CSV (point_id, office_id, distance_km; every pair) instead of straight line × detour")


def _out_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (refused if it exists, unless --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="netopt", description="Plan networks of public service offices: meet a budget cut, keep every FA-region served, lose as little access as possible.")
    parser.add_argument("--version", action="version", version=f"netopt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and model sizes; show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("solve", help="solve a scenario; write plan.csv, summary.json, report.md, map.html", description="Solve a scenario and write DIR/plan.csv, DIR/summary.json, DIR/report.md and DIR/map.html.")
    p.add_argument("scenario", metavar="SCENARIO.toml", help="scenario file (see docs/scenarios.md)")
    _out_options(p)
    _data_options(p)
    p.add_argument("--time-limit", type=float, metavar="S", help="solver time limit in seconds (overrides the scenario)")
    p.add_argument("--backend", choices=BACKEND_NAMES, help="solver backend (overrides the scenario's [solver] backend; default highspy)")
    p.add_argument("--export-model", metavar="FILE.mps|FILE.lp", help="also write the model the optimisation starts from (MPS or LP, readable names), for inspection")
    p.add_argument("--no-map", action="store_true", help="skip map.html")

    p = sub.add_parser("evaluate", help="measure a hand-written plan with the same yardstick", description="Evaluate a plan written by hand: the offices to close and to turn flexible; all others are kept.")
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO.toml", help=f"scenario for the cut and parameters (default: {DEFAULT_SCENARIO})")
    p.add_argument("--close", default="", metavar="ID[,ID...]", help="office IDs to close, comma separated")
    p.add_argument("--flexible", default="", metavar="ID[,ID...]", help="office IDs to turn into flexible offices")
    _out_options(p)
    _data_options(p)
    p.add_argument("--no-map", action="store_true", help="skip map.html")

    p = sub.add_parser("sweep", help="frontier of saving against access over a range of cuts", description="Solve the scenario's last stage for each cut; write DIR/frontier.csv and DIR/frontier.html.")
    p.add_argument("scenario", metavar="SCENARIO.toml")
    p.add_argument("--cuts", default="0:200:10", metavar="START:STOP:STEP", help="cuts in MSEK per year, STOP inclusive, or a comma list (default 0:200:10)")
    _out_options(p)
    _data_options(p)

    p = sub.add_parser("compare", help="what differs between two plans (table and map)", description="Compare two output folders of solve/evaluate; write DIR/compare.csv, DIR/compare.md and DIR/map.html.")
    p.add_argument("dir_a", metavar="DIR_A")
    p.add_argument("dir_b", metavar="DIR_B")
    _out_options(p)
    _data_options(p)

    p = sub.add_parser("validate", help="check the data and print what it holds", description="Load and validate the network; report every problem at once.")
    _data_options(p)
    p.add_argument("--json", action="store_true", help="print counts as JSON")
    p.add_argument("--list", action="store_true", help="list the offices (office_id, name, municipality, FA-region)")

    p = sub.add_parser("calibrate", help="how the visit and cost models reproduce the annual report", description="Print the calibration: visits per SSC region against table 25, total cost against 1 003.1 MSEK, cost per visit by office size, sanity checks.")
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
    return load_network(args.offices, division=division, population=args.population, demand=args.demand, candidates=args.candidates, distances=args.distances)


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

    return load_parameters(args.parameters) if args.parameters else None


def _scenario(path):
    from .scenario import load_scenario

    return load_scenario(path)


#: Files netopt writes into an output folder; --overwrite replaces only such folders.
_OUTPUT_FILES = re.compile(r"^(plan(-\d{4})?\.csv|summary\.json|report\.md|map\.html|frontier\.(csv|html)|compare\.(csv|md))$")


def _check_out(args) -> None:
    """Refuse a bad --out before any slow work (not after a long solve).

    With --overwrite, only a folder holding netopt's own outputs is replaced,
    so that a mistyped --out (the home folder, the project) is never deleted.
    """
    from . import io
    from .errors import OutputError

    io.check_output_dir(args.out, overwrite=args.overwrite)
    out = Path(args.out)
    if args.overwrite and out.is_dir():
        if out.resolve() in (Path.cwd().resolve(), *Path.cwd().resolve().parents):
            raise OutputError(f"{out}: is the current folder or one of its parents. Fix: choose another --out")
        other = sorted(p.name for p in out.iterdir() if not (p.is_file() and _OUTPUT_FILES.match(p.name)))
        if other:
            shown = ", ".join(other[:5]) + (", …" if len(other) > 5 else "")
            raise OutputError(f"{out}: holds files netopt did not write ({shown}); --overwrite replaces the whole folder. Fix: choose another --out")


def _ids(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def cmd_solve(args) -> int:
    from . import io
    from .plan import build_first_model, solve
    from .report import write_outputs

    _check_out(args)
    fmt = None
    if args.export_model:
        fmt = Path(args.export_model).suffix.lower().lstrip(".")
        if fmt not in ("mps", "lp"):
            from .errors import OutputError

            raise OutputError(f"--export-model {args.export_model}: the file name must end in .mps or .lp. Fix: e.g. --export-model model.mps")
    sc = _scenario_for(args, _scenario(args.scenario))
    net = _network(args, sc)
    params = _params(args)
    if fmt:
        io.write_text(Path(args.export_model), build_first_model(net, sc, params=params).export_text(fmt))
    plan = solve(net, sc, params=params)
    write_outputs(plan, args.out, overwrite=args.overwrite, with_map=not args.no_map)
    _print_plan(plan, args.out)
    return 0


def _print_plan(plan, out) -> None:
    s = plan.summary()
    gap = "–" if s["gap"] is None else f"{100 * s['gap']:.4f} %"
    print(
        f"{plan.scenario.name}: {s['status']} (gap {gap}); saving {s['savings_msek']:.1f} MSEK"
        + (f" + {s['flexible_allowance_used_msek']:.1f} allowance" if s["flexible_allowance_used_msek"] else "")
        + f" (cut {s['cut_msek']:g}); kept {s['offices_open']}, flexible {s['offices_flexible']}, closed {s['offices_closed']}; "
        f"FA-regions served {s['fa_regions_served']}/{s['fa_regions_total']}; mean distance {s['population_mean_distance_km_before']:.2f} → {s['population_mean_distance_km']:.2f} km. "
        f"Wrote {out}/"
    )


def cmd_evaluate(args) -> int:
    from .plan import evaluate
    from .report import write_outputs
    from .scenario import default_scenario

    _check_out(args)
    if args.scenario:
        sc = _scenario(args.scenario)
    elif Path(DEFAULT_SCENARIO).exists():
        sc = _scenario(DEFAULT_SCENARIO)
    else:
        sc = default_scenario()
    sc = _scenario_for(args, sc)
    net = _network(args, sc)
    decisions = {i: "close" for i in _ids(args.close)}
    for i in _ids(args.flexible):
        if i in decisions:
            from .errors import ScenarioError

            raise ScenarioError(f"office {i} is both in --close and --flexible. Fix: name it once")
        decisions[i] = "flexible"
    plan = evaluate(net, decisions, sc, params=_params(args))
    write_outputs(plan, args.out, overwrite=args.overwrite, with_map=not args.no_map)
    _print_plan(plan, args.out)
    return 0


def cmd_sweep(args) -> int:
    from . import io
    from .sweep import frontier_svg, parse_cuts, sweep

    _check_out(args)
    sc = _scenario_for(args, _scenario(args.scenario))
    cuts = parse_cuts(args.cuts)
    net = _network(args, sc)

    def progress(k, n, cut):
        width = 30
        done = int(width * k / n)
        sys.stderr.write(f"\r[{'#' * done}{'.' * (width - done)}] {k}/{n} cuts (last {cut:g} MSEK)")
        if k == n:
            sys.stderr.write("\n")
        sys.stderr.flush()

    frame = sweep(net, sc, cuts, progress=progress, params=_params(args))
    with io.atomic_output_dir(args.out, overwrite=args.overwrite) as tmp:
        io.write_csv(tmp / "frontier.csv", frame, float_format="%.10g")
        io.write_text(tmp / "frontier.html", frontier_svg(frame, f"{sc.name}: saving against access"))
    print(f"{len(frame)} cuts, {int((frame['status'] == 'INFEASIBLE').sum())} infeasible. Wrote {args.out}/frontier.csv and frontier.html")
    return 0


def cmd_compare(args) -> int:
    from .compare import compare_dirs

    _check_out(args)
    net = _network(args)
    compare_dirs(net, args.dir_a, args.dir_b, args.out, overwrite=args.overwrite, params=_params(args))
    print(f"Wrote {args.out}/compare.csv, compare.md and map.html")
    return 0


def cmd_validate(args) -> int:
    net = _network(args)
    s = net.summary()
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
    if args.list:
        for _, r in net.offices.iterrows():
            print(f"{r['office_id']}\t{r['office_name']}\t{r['municipality']}\t{r['fa_code']} {r['fa_name']}")
    return 0


def cmd_calibrate(args) -> int:
    from .calibration import calibration_report
    from .params import load_parameters

    net = _network(args)
    rep = calibration_report(net, _params(args) or load_parameters())
    if args.json:
        print(json.dumps(rep, indent=2, ensure_ascii=False))
        return 0
    print(f"Visits: {rep['visits_total']:,.0f} predicted vs {rep['visits_total_annual_report']:,} in the annual report ({rep['visits_total_error_pct']:+.3f} %)".replace(",", " "))
    for r, d in rep["visits_by_region_detail"].items():
        print(f"  {r:<18} {d['predicted']:>10,.0f} vs {d['annual_report']:>9,} ({d['error_pct']:+.3f} %)".replace(",", " "))
    print(f"Cost: {rep['cost_total_msek']:.1f} MSEK vs {rep['cost_total_annual_report_msek']} ({rep['cost_total_error_pct']:+.3f} %); {rep['cost_per_visit_sek']:.0f} SEK per visit")
    print("Cost per visit by office size (visits per year):")
    for k, d in rep["cost_per_visit_by_office_size"].items():
        print(f"  {k:<8} {d['offices']:>3} offices  {d['cost_per_visit_sek'] if d['cost_per_visit_sek'] is not None else '–':>8} SEK")
    print("Sanity checks (reported, not forced):")
    for c in rep["sanity_checks"]:
        print(f"  {c['check']}: model {c['visits_per_day']:.0f} visits/day, rank {c['rank']}")
    return 0


COMMANDS = {"solve": cmd_solve, "evaluate": cmd_evaluate, "sweep": cmd_sweep, "compare": cmd_compare, "validate": cmd_validate, "calibrate": cmd_calibrate}


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
    except Exception as exc:  # a bug in netopt, not in the input
        if args.verbose:
            raise
        print(f"netopt: internal error ({type(exc).__name__}: {exc}); nothing was written. Run again with --verbose and report the traceback", file=sys.stderr)
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
