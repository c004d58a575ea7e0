"""How long each output of a plan takes to write, and how big it is (issue 14).

    python benchmarks/outputs.py [--repeat 5]

Solves the shipped 2027 scenario once, then times, on that plan, the tables
(computed once, netopt.tables, the what-if's payload included) and each
writer: plan.csv, summary.json, report.md, report.html, map.html (with the
what-if, as netopt solve writes it), plan.xlsx, plan.gpkg, in English and
Swedish (median of --repeat runs, after one warm-up run that pays the
imports). Prints JSON; ``python benchmarks/run.py`` runs it as its
``outputs`` section. Not part of the unit tests.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import netopt  # noqa: E402
from netopt import io  # noqa: E402
from netopt.exports import plan_csv, plan_gpkg_layers, plan_xlsx, summary_json  # noqa: E402
from netopt.i18n import texts  # noqa: E402
from netopt.maps import map_html  # noqa: E402
from netopt.outputs import map_extensions  # noqa: E402
from netopt.report import report_markdown  # noqa: E402
from netopt.report_html import report_html  # noqa: E402
from netopt.tables import plan_tables  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, object]:
    out = fn()  # warm-up (imports, caches)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), out


def measure(repeat: int = 5) -> dict:
    """Solve the shipped 2027 scenario once; the time (median of ``repeat`` after a
    warm-up run) and size of its tables and of each writer, in English and Swedish."""
    plan = netopt.solve(netopt.load_network(), netopt.load_scenario(HERE.parent / "scenarios" / "cut-2027.toml"))
    seconds, tables = timed(lambda: plan_tables(plan), repeat)
    result = {"repeat": repeat, "plan_tables_s": round(seconds, 4), "writers": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in ("en", "sv"):
            tx = texts(lang)

            def gpkg():
                path = Path(tmp) / f"plan-{lang}.gpkg"
                path.unlink(missing_ok=True)
                io.write_geopackage(path, plan_gpkg_layers(tables, tx))
                return path.read_bytes()

            writers = {
                "plan.csv": lambda: plan_csv(tables),
                "summary.json": lambda: summary_json(tables),
                "report.md": lambda: report_markdown(tables, tx),
                "report.html": lambda: report_html(tables, tx),
                "map.html": lambda: map_html(tables, tx, extensions=map_extensions(tables, tx)),  # as written: with the what-if
                "plan.xlsx": lambda: plan_xlsx(tables, tx),
                "plan.gpkg": gpkg,
            }
            for name, fn in writers.items():
                s, out = timed(fn, repeat)
                size = len(out.encode("utf-8")) if isinstance(out, str) else len(out)
                result["writers"][f"{lang} {name}"] = {"seconds": round(s, 4), "bytes": size}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps(measure(args.repeat), indent=2))


if __name__ == "__main__":
    main()
