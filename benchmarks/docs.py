"""The generated tables of docs/benchmarks.md, from benchmarks/results.json.

docs/benchmarks.md holds the text; every figure of a run sits in a block

    <!-- results:NAME -->
    ...generated...
    <!-- /results:NAME -->

that :func:`update` rewrites from the results of ``python benchmarks/run.py``
(``python benchmarks/run.py --docs`` rewrites them from results.json alone).
A block whose section is missing from the results says so instead of keeping
old figures.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

#: Why a benchmark replaces its own results file without --overwrite (said in each one's --help).
SHIPPED_NOTE = ("Its default results file ships with the repository and regenerating it is this benchmark's purpose,"
                " so it is replaced without --overwrite; any other --out that exists is replaced only with --overwrite.")


def write_results(path, text: str, *, shipped: Path, overwrite: bool = False) -> None:
    """Write a benchmark's results atomically (the old file or the whole new one, never a part).

    ``shipped`` is the benchmark's own results file in the repository, which a
    run exists to regenerate: it is replaced without ``overwrite``. Any other
    existing ``path`` raises :class:`netopt.errors.OutputError` unless ``overwrite``.
    Call :func:`check_results` before the measurements to fail early.
    """
    from netopt import io

    path = Path(path)
    with io.atomic_output_file(path, overwrite=overwrite or path.resolve() == Path(shipped).resolve()) as tmp:
        tmp.write_text(text, encoding="utf-8")


def check_results(path, *, shipped: Path, overwrite: bool = False) -> None:
    """The check :func:`write_results` makes, before any measurement (raises :class:`netopt.errors.OutputError`)."""
    from netopt import io

    path = Path(path)
    io.check_output_file(path, overwrite=overwrite or path.resolve() == Path(shipped).resolve())

#: The issue's targets (issue 12): (label, results key(s), target text, "today" in the issue, test).
TODAY = {
    "stage": "~5 s", "inprocess": "~3 s", "stages": "15–19 s", "sweep": "87 s", "cut540": "245 s",
    "scale": "43 % gap at 140 s", "cbc": "137×", "highs": "61× (1,323 × 148: 28.0 s vs 0.46 s)",
}


def _num(x, decimals: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:,.{decimals}f}"


def _runs(xs, decimals: int = 2) -> str:
    return ", ".join(f"{x:.{decimals}f}" for x in xs or [])


def _missing(section: str) -> str:
    return f"*Not in this results file: run `python benchmarks/run.py --only {section}`.*"


def _ratio(x: dict) -> str:
    """spopt's time over netopt's; "at least" when spopt stopped at its time limit without proving its plan."""
    return f"{'≥ ' if x.get('ratio_is_lower_bound') else ''}{x['ratio']:,.0f}×"


def _stopped(x: dict) -> str:
    if not x.get("ratio_is_lower_bound"):
        return ""
    if str(x.get("status", "")).startswith("killed"):
        return f"; spopt {x['status']}, so at least this long"
    gap = f", gap {100 * x['gap']:.2f} %" if x.get("gap") is not None else ""
    return f"; spopt stopped at its {x.get('time_limit_s', 0):g} s limit without proving its plan{gap}"


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def run_block(r: dict) -> str:
    m = r.get("machine", {})
    secs = r.get("sections", {})
    ids = {s.get("run_id") for s in secs.values()}
    one_run = len(ids) == 1
    lines = [
        f"Command: `{r.get('command', 'python benchmarks/run.py')}`; started {r.get('started', '–')}, finished {r.get('finished', '–')} (local time); "
        f"netopt at commit `{m.get('netopt_commit') or '–'}`.",
        "",
        ("No run recorded yet: run `python benchmarks/run.py`." if not secs else "All sections below come from this one run." if one_run else
         "**The sections below come from different runs** (see the table): rerun `python benchmarks/run.py` for figures from one run."),
        "",
        "| section | run | started | finished | load average before → after (1, 5, 15 min) |",
        "|---|---|---|---|---|",
    ]
    for name, s in secs.items():
        lines.append(f"| {name} | {s.get('run_id')} | {s.get('started')} | {s.get('finished')} | {s.get('load_before')} → {s.get('load_after')} |")
    durations = ", ".join(f"{k} {_num(v.get('seconds'), 0)} s" for k, v in secs.items() if v.get("seconds") is not None) or "–"
    lines += [
        "",
        "| machine | |",
        "|---|---|",
        f"| CPU | {m.get('cpu') or '–'}, {m.get('cores')} cores |",
        f"| memory | {m.get('memory_gib')} GiB |",
        f"| system | {m.get('os')} |",
        f"| Python | {m.get('python')} |",
        f"| netopt's solver | HiGHS {m.get('highs') or '–'} through highspy {m.get('highspy') or '–'} (default backend), 1 thread; OR-Tools {m.get('ortools') or '–'} |",
        f"| spopt | {m.get('spopt') or '–'} with PuLP {m.get('pulp') or '–'}: CBC {m.get('cbc') or '–'} (bundled with PuLP) and HiGHS {m.get('highs') or '–'} (`pulp.HiGHS`, highspy in the process) |",
        f"| numpy, pandas, matplotlib, folium | {m.get('numpy')}, {m.get('pandas')}, {m.get('matplotlib')}, {m.get('folium')} |",
        f"| whole run | {_num((r.get('wall_seconds') or 0) / 60, 1)} minutes ({durations}) |",
    ]
    return "\n".join(lines)


def _target_rows(r: dict):
    t = r.get("targets", {})
    h = r.get("head_to_head", {}).get("shipped")
    rows = []

    def secs(key, limit, label, today, short):
        v = r.get(key)
        runs = r.get(key.replace("_seconds", "_all_seconds")) or t.get(key.replace("_seconds", "_all_seconds"))
        rows.append((label, today, f"≤ {limit:g} s", f"{_num(v)} s" if v is not None else "–", _runs(runs), None if v is None else v <= limit, short))

    secs("stage_seconds", 2.0, "one budget stage (2027), command line, end to end (`netopt solve scenarios/cut-2027.toml --out DIR`, all eight outputs)", TODAY["stage"],
         "one stage from the command line")
    secs("stage_inprocess_seconds", 0.5, "one budget stage (2027) in a running process (`netopt.solve`, data loaded)", TODAY["inprocess"], "one stage in a running process")
    secs("stages_seconds", 5.0, "nested three stages (`stages-2025-2027.toml`)", TODAY["stages"], "nested three stages")
    secs("sweep20_seconds", 15.0, "20-point sweep of the 2027 cut (0–190 MSEK, `netopt.sweep`)", TODAY["sweep"], "20-point sweep")
    secs("cut540_seconds", 30.0, "cut near the limit (540 MSEK, allowance 10)", TODAY["cut540"], "540 MSEK cut")
    g, s, mib = r.get("scale_100k_gap"), r.get("scale_100k_seconds"), r.get("scale_100k_peak_mib")
    ok = None if g is None else (g <= 0.01 and s <= 60 and mib is not None and mib <= 4096)
    rows.append(("100,000 × 2,000, p = 400 (median of the seeds)", TODAY["scale"], "proven ≤ 1 % in ≤ 60 s, ≤ 4 GiB",
                 "–" if g is None else f"{100 * g:.2f} % proven in {_num(s, 1)} s, {_num(mib, 0)} MiB",
                 ", ".join(f"seed {x.get('seed')}: {x.get('status')}, {_num(100 * x['gap'], 2) if x.get('gap') is not None else '–'} %, {_num(x.get('wall_s'), 1)} s"
                           for x in r.get("scaling", []) if x.get("demand_points") == 100_000), ok, "100,000 × 2,000"))
    for solver, label, limit, today in (("cbc", "head-to-head vs spopt + CBC, shipped instance", 300, TODAY["cbc"]),
                                         ("highs", "head-to-head vs spopt + HiGHS (PuLP), shipped instance", 100, TODAY["highs"])):
        if h and solver in h:
            x = h[solver]
            rows.append((label, today, f"≥ {limit}×", f"{_ratio(x)} ({_num(x['seconds'], 1)} s vs {_num(h['netopt_seconds'], 3)} s{_stopped(x)})",
                         f"netopt {_runs(h['netopt_all_seconds'], 3)}; spopt {_runs(x['all_seconds'], 1)}", x["ratio"] >= limit and x["objectives_agree"], f"ratio vs spopt + {dict(cbc='CBC', highs='HiGHS')[solver]}"))
        else:
            rows.append((label, today, f"≥ {limit}×", "–", "", None, f"ratio vs spopt + {dict(cbc='CBC', highs='HiGHS')[solver]}"))
    return rows


def targets_block(r: dict) -> str:
    rows = _target_rows(r)
    lines = ["| what | issue's \"today\" | target | measured (median) | runs | |", "|---|---:|---:|---:|---|---|"]
    for label, today, target, value, runs, ok, _short in rows:
        lines.append(f"| {label} | {today} | {target} | {value} | {runs} | {_verdict(ok)} |")
    not_met = [short for *_x, ok, short in rows if ok is False]
    missing = [short for *_x, ok, short in rows if ok is None]
    lines += ["", (f"**Not met in this run: {', '.join(not_met)}.**" if not_met else "Every target with a figure is met in this run.")
              + (f" Not measured in this results file: {', '.join(missing)}." if missing else "")]
    loads = [x for s in r.get("sections", {}).values() for x in (s.get("load_before") or [])[:1] + (s.get("load_after") or [])[:1]]
    cores = r.get("machine", {}).get("cores") or 1
    if loads and max(loads) > 0.5 * cores:
        lines += ["", f"**Taken on a busy machine** (1-minute load average up to {max(loads):.1f} on {cores} cores, see the run table): other work "
                      "competed for the cores, so these times are longer than on a quiet machine; the figures to judge the targets by come "
                      "from a rerun on a quiet machine."]
    t = r.get("targets", {})
    if t:
        lines += ["", f"Statuses: one stage {t.get('stage_status')} ({t.get('stage_phase')}); nested stages {t.get('stages_status')}; "
                      f"sweep {t.get('sweep20_statuses')}; 540 MSEK cut {t.get('cut540_status')} after {t.get('cut540_rounds')} widening rounds."]
    return "\n".join(lines)


def stage_block(r: dict) -> str:
    t = r.get("targets")
    if not t or "stage_breakdown" not in t:
        return _missing("targets")
    b = t["stage_breakdown"]
    lines = [f"One more run of the command with `--verbose` (its log carries these timings; the HiGHS log going through `logging` makes it a little slower): "
             f"{_num(b['wall'])} s in all.", "", "| part | seconds |", "|---|---:|"]
    names = {"load": "reading the scenario, loading and validating the network", "solve": "`netopt.solve` (calibration, model, HiGHS, tie-break, evaluation)",
             "outputs": "writing the eight outputs (tables, plan.csv, municipalities.csv, report.md, report.html with its figures, map.html with the what-if, plan.xlsx, plan.gpkg), "
                        "including any wait for the writers' libraries still being imported after the solve"}
    for key, label in names.items():
        lines.append(f"| {label} | {_num(b.get(key))} |")
    lines.append(f"| interpreter start, importing netopt, exit (the rest) | {_num(b.get('start, imports, exit (the rest)'))} |")
    lines.append(f"\nOutputs of each timed run: {', '.join(t.get('stage_outputs', []))}.")
    return "\n".join(lines)


def h2h_block(r: dict) -> str:
    hh = r.get("head_to_head")
    if not hh:
        return _missing("h2h")
    lines = ["| instance | demand × sites, p | netopt (median) | spopt + CBC | spopt + HiGHS | ratio vs CBC | ratio vs HiGHS | netopt's objective | spopt's (CBC; HiGHS) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]

    def same(x: dict, n_obj) -> str:
        if not x:
            return "–"
        if not x.get("proven_optimal", True):
            return f"not proven: {x['objective']:,}" if x.get("objective") is not None else "no plan"
        return "equal" if x.get("objectives_agree") else f"**DIFFERENT: {x.get('objective')}**"

    for key in ("shipped", "localities"):
        h = hh.get(key)
        if not h:
            continue
        c, g = h.get("cbc", {}), h.get("highs", {})
        lines.append(f"| {h['instance']} | {h['demand_points']:,} × {h['sites']}, p = {h['p']} | **{_num(h['netopt_seconds'], 3)} s** ({_runs(h['netopt_all_seconds'], 3)}) "
                     f"| {_num(c.get('seconds'), 1)} s{_stopped(c)} | {_num(g.get('seconds'), 1)} s{_stopped(g)} | **{_ratio(c) if c else '–'}** | **{_ratio(g) if g else '–'}** "
                     f"| {h['netopt_objective']:,} | {same(c, h['netopt_objective'])}; {same(g, h['netopt_objective'])} |")
    lines += ["", "| instance | netopt: heuristic, Lagrangian bound, model build, HiGHS (s) | netopt model | spopt + CBC: build, solve (s), status | spopt + HiGHS: build, solve (s), status | spopt model |",
              "|---|---|---|---|---|---|"]
    for key in ("shipped", "localities"):
        h = hh.get(key)
        if not h:
            continue
        ph = h["netopt_phases_median_seconds"]
        ms = h.get("netopt_model_size", {})
        c, g = h.get("cbc", {}), h.get("highs", {})
        lines.append(f"| {key} | {_num(ph['heuristic'], 3)}, {_num(ph['lagrangian'], 3)}, {_num(ph['build'], 3)}, {_num(ph['solve'], 3)} "
                     f"| {ms.get('variables', '–')} variables, {ms.get('constraints', '–')} rows |"
                     f" {_num(c.get('build_seconds'), 1)}, {_num(c.get('solve_seconds'), 1)}, {c.get('status')} | {_num(g.get('build_seconds'), 1)}, {_num(g.get('solve_seconds'), 1)}, {g.get('status')} "
                     f"| {c.get('variables') or 0:,} variables, {c.get('constraints') or 0:,} rows |")
    return "\n".join(lines)


def sweep_block(r: dict) -> str:
    rows = r.get("targets", {}).get("sweep20_rows")
    if not rows:
        return _missing("targets")
    half = (len(rows) + 1) // 2
    head = "| cut (MSEK) | status | saving (MSEK) | kept | flexible | closed | mean distance (km) |"
    lines = [head + head[1:], "|---:|---|---:|---:|---:|---:|---:|" + "---:|---|---:|---:|---:|---:|---:|"]

    def cells(x):
        return (f" {x['cut_msek']:g} | {x['status']} | {_num(x.get('savings_msek'), 1)} | {x.get('offices_kept')} | {x.get('offices_flexible')} "
                f"| {x.get('offices_closed')} | {_num(x.get('population_mean_distance_km'))} |")

    for k in range(half):
        right = cells(rows[k + half]) if k + half < len(rows) else " | | | | | | |"
        lines.append("|" + cells(rows[k]) + right)
    return "\n".join(lines)


def backends_block(r: dict) -> str:
    rows = r.get("backends")
    if not rows:
        return _missing("backends")
    scen = list(dict.fromkeys(x["scenario"] for x in rows))
    names = list(dict.fromkeys(x["backend"] for x in rows))
    best = {}
    for x in rows:
        if x.get("status") == "OPTIMAL" and x.get("objective") is not None:
            best[x["scenario"]] = min(best.get(x["scenario"], math.inf), x["objective"])
    lines = ["| scenario | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for s in scen:
        cells = []
        for b in names:
            x = next((y for y in rows if y["scenario"] == s and y["backend"] == b), None)
            if x is None:
                cells.append("–")
                continue
            text = f"{x['status']}, {_num(x.get('wall_s'))} s"
            if x.get("objective") is not None and s in best and x["status"] != "OPTIMAL":
                text += f", objective {100 * (x['objective'] / best[s] - 1):+.2f} %"
            cells.append(text)
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def scaling_block(r: dict) -> str:
    rows = r.get("scaling")
    if not rows:
        return _missing("scaling")
    lines = ["| instance | seed | status | gap proven | wall time | heuristic | bound + guided search | MIP rounds | peak RSS |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        if x.get("gap") is None:
            lines.append(f"| {x['demand_points']:,} × {x['sites']:,}, p = {x['p']} | {x['seed']} | {x.get('status')} | – | – | – | – | – | – |")
            continue
        lines.append(f"| {x['demand_points']:,} × {x['sites']:,}, p = {x['p']} | {x['seed']} | {x['status']} | {100 * x['gap']:.2f} % | {x['wall_s']:.1f} s "
                     f"| {x['heuristic_s']:.1f} s | {x['lagrangian_s']:.1f} s ({x['lagrangian_iterations']} iterations) | {x['rounds']} | {x['peak_rss_mib']:.0f} MiB |")
    for key, label in (("scale_10k", "10,000 × 1,000"), ("scale_100k", "100,000 × 2,000")):
        if r.get(f"{key}_gap") is not None:
            lines.append(f"\nMedians over the seeds, {label}: gap {100 * r[f'{key}_gap']:.2f} %, {r[f'{key}_seconds']:.1f} s, {r[f'{key}_peak_mib']:.0f} MiB peak.")
    return "\n".join(lines)


def outputs_block(r: dict) -> str:
    o = r.get("outputs")
    if not o:
        return _missing("outputs")
    lines = [f"Median of {o.get('repeat')} runs each, after a warm-up run that pays the imports (so these are the writers' own work; "
             f"the command line's cold figures are in the breakdown above). The tables (`plan_tables`, computed once per plan): {_num(o['plan_tables_s'], 3)} s.",
             "", "| output | English: time | size | Swedish: time | size |", "|---|---:|---:|---:|---:|"]
    names = list(dict.fromkeys(k.split(" ", 1)[1] for k in o["writers"]))
    for n in names:
        en, sv = o["writers"].get(f"en {n}", {}), o["writers"].get(f"sv {n}", {})
        lines.append(f"| {n} | {_num(en.get('seconds'), 3)} s | {en.get('bytes', 0) / 1000:,.0f} kB | {_num(sv.get('seconds'), 3)} s | {sv.get('bytes', 0) / 1000:,.0f} kB |")
    return "\n".join(lines)


BLOCKS = {"run": run_block, "targets": targets_block, "stage": stage_block, "h2h": h2h_block, "sweep": sweep_block,
          "backends": backends_block, "scaling": scaling_block, "outputs": outputs_block}


def render_all(results: dict) -> str:
    """Every generated block, as Markdown ready to paste."""
    return "\n\n".join(f"<!-- results:{name} -->\n{fn(results)}\n<!-- /results:{name} -->" for name, fn in BLOCKS.items())


def update(results: dict, path: Path = DOC) -> None:
    """Rewrite the generated blocks of ``path`` from ``results``; raises if a block's markers are missing."""
    text = path.read_text(encoding="utf-8")
    for name, fn in BLOCKS.items():
        pattern = re.compile(rf"^(<!-- results:{name} -->\n)(?:.*?\n)?(<!-- /results:{name} -->)$", re.S | re.M)
        if not pattern.search(text):
            raise ValueError(f"{path}: no <!-- results:{name} --> … <!-- /results:{name} --> block")
        body = fn(results)
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    # rewriting these blocks is what --docs is for: replaced without --overwrite, atomically
    write_results(path, text, shipped=path, overwrite=True)
