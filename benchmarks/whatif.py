"""What-if in map.html: what it costs in size, and how fast a toggle updates the page.

    python benchmarks/whatif.py              # shipped 2027 plan, 200 toggles, CPU at 1x and 4x slower
    python benchmarks/whatif.py --toggles 50

Measures, on the shipped network (4,081 demand points × 121 offices):

* bytes of map.html with and without the what-if, of its data and of its script;
* in headless Chromium (Debian's, through Playwright; networking off): the time
  the page takes to set the what-if up (distances, baseline) and, for seeded
  random toggles, the time from ``netopt.setDecision`` to the next painted
  frame (recompute + redraw of markers, lines, FA-regions and panel), also with
  Chromium's CPU throttled 4× (DevTools ``Emulation.setCPUThrottlingRate``) as
  a stand-in for an ordinary laptop.

Writes benchmarks/whatif_results.json (the shipped file it exists to
regenerate: replaced atomically, no other path) and prints a summary. Not part of the
unit tests; timings on a shared machine are noisy (compare within one run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import docs  # noqa: E402
import netopt  # noqa: E402
from netopt import maps, whatif  # noqa: E402
from netopt.i18n import texts  # noqa: E402
from netopt.maps.layers import js  # noqa: E402
from netopt.maps.page import _static_text  # noqa: E402
from netopt.outputs import map_extensions  # noqa: E402
from netopt.tables import plan_tables  # noqa: E402

_TOGGLE_TO_PAINT = """async ([id, word]) => {
  const t0 = performance.now();
  netopt.setDecision(id, word);
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - t0, netopt.summary().update_ms];
}"""


def map_html(plan) -> str:
    """map.html as netopt solve writes it (the what-if included)."""
    tables = plan_tables(plan)
    return maps.map_html(tables, texts("en"), extensions=map_extensions(tables, texts("en")))


def sizes(plan) -> dict:
    tables = plan_tables(plan)
    plain = maps.map_html(tables, texts("en"))
    (extension,) = map_extensions(tables, texts("en"))
    with_whatif = maps.map_html(tables, texts("en"), extensions=[extension])
    return {
        "map_html_bytes_without_whatif": len(plain.encode()),
        "map_html_bytes_with_whatif": len(with_whatif.encode()),
        "payload_json_bytes": len(js(extension.data).encode()),
        "script_bytes": len(_static_text("netopt-whatif.js").encode()) + len(_static_text("netopt-whatif.css").encode()),
    }


def browser_timings(html_path: Path, ids: list[str], toggles: int, throttle: float, seed: int) -> dict:
    from browser import offline_browser

    rng = np.random.default_rng(seed)
    words = ("keep", "flexible", "close")
    with offline_browser() as chromium, chromium.page(html_path, timeout_ms=120_000) as (page, log):
        if throttle != 1:
            page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": throttle})
            page.reload(wait_until="load")
        t0 = time.perf_counter()
        page.wait_for_function("() => window.netopt && window.netopt.available", timeout=120_000)
        ready_s = time.perf_counter() - t0
        init_ms = page.evaluate("() => netopt.init_ms")
        to_paint, compute = [], []
        for k in range(toggles):
            if k % 10 == 0:
                page.evaluate("() => netopt.reset()")
            a, b = page.evaluate(_TOGGLE_TO_PAINT, [ids[int(rng.integers(len(ids)))], words[int(rng.integers(3))]])
            to_paint.append(a)
            compute.append(b)
        assert not log.problems(), log.problems()
    q = lambda xs, p: float(np.percentile(xs, p))  # noqa: E731
    return {
        "cpu_throttle": throttle,
        "whatif_init_ms": round(init_ms, 1),
        "page_ready_after_load_s": round(ready_s, 3),
        "toggles": toggles,
        "toggle_to_paint_ms": {"median": round(statistics.median(to_paint), 1), "p95": round(q(to_paint, 95), 1), "max": round(max(to_paint), 1)},
        "recompute_and_redraw_ms": {"median": round(statistics.median(compute), 1), "p95": round(q(compute, 95), 1), "max": round(max(compute), 1)},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog="Writes benchmarks/whatif_results.json, the shipped file this benchmark exists to regenerate:"
                                        " replaced atomically without --overwrite (it writes no other file).")
    ap.add_argument("--toggles", type=int, default=200)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args()
    root = HERE.parent
    scenario = netopt.load_scenario(root / "scenarios" / "cut-2027.toml")
    network = netopt.load_network()
    plan = netopt.solve(network, scenario)
    t0 = time.perf_counter()
    whatif.whatif_payload(plan)
    build_s = time.perf_counter() - t0
    inst = plan.prepared.instance
    result = {"instance": f"shipped 2027 plan, {inst.m:,} demand points × {inst.n:,} offices", **sizes(plan), "payload_build_s": round(build_s, 3)}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "map.html"
        path.write_text(map_html(plan), encoding="utf-8")
        ids = list(plan.prepared.instance.office_ids)
        result["chromium"] = [browser_timings(path, ids, args.toggles, rate, args.seed) for rate in (1, 4)]
    docs.write_results(HERE / "whatif_results.json", json.dumps(result, indent=2) + "\n", shipped=HERE / "whatif_results.json")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
