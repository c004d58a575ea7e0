"""Every non-integer number netopt writes is the exact or the correctly rounded value.

No binary noise such as ``1003.0999999999999`` for the annual report's
1 003.1 MSEK: money is written to the krona (at most six decimals in MSEK),
visits to a tenth, distances in whole metres (three decimals in km), and means
and shares of inhabitants as one division of exact integers (the correctly
rounded ratio). The property check walks every float of the files and asks
each for the precision its name declares; a float column without a declared
precision fails the test, so a new figure has to say what it is.
"""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

import netopt
from conftest import SCENARIOS, run_netopt

#: (pattern on the field name, rule). First match wins. Rules: ("decimals", n): the
#: written text has at most n decimals; ("ratio", denominator): the value is k / d for
#: an integer k (d from the file: "population" inhabitants, ×1000 for km means);
#: ("as used", why): the exact value the computation used (a parameter, a draw, a
#: coordinate), written in full on purpose.
RULES = [
    (r"^(lat|lon)$", ("decimals", 5)),
    (r"(^|\.)(model_parameters|parameters_resolved|distances|scenario_settings|solver)\.", ("as used", "parameters in force")),
    (r"^(gap|optimum_gap)$|(^|\.)gap$", ("as used", "the solver's relative gap")),
    (r"(^|\.)fullest\.", ("decimals", 1)),  # robustness.json: office_id → visits per open day
    (r"(^|_)growth$", ("as used", "a ratio of the unrounded visit estimates")),
    (r"_seconds$", ("decimals", 3)),
    (r"^(cost_per_fte_msek|site_fixed_msek|decay_km|detour_factor|flexible_site_share|flexible_travel_cost_per_day_sek"
     r"|flexible_visits_per_day|floor|fte_per_employee|min_fte_per_office)$", ("as used", "a sampled value, as drawn")),
    (r"interval_95|^holds_(low|high)$", ("as used", "a Wilson interval (square roots)")),
    (r"^fragile_below$", ("as used", "the threshold asked for")),
    (r"^share_(keep|flexible|close)$|^holds$|misses_cut_share$", ("ratio", "samples")),
    (r"msek", ("decimals", 6)),
    (r"cost_per_visit_sek$", ("decimals", 1)),
    (r"visits", ("decimals", 1)),
    (r"gap_to_optimum$", ("ratio", "objective")),
    (r"(mean_km|mean_distance_km|mean_equivalent_distance_km)(_before|_after|_if_kept|_kept_alone)?$|^delta_mean_km$", ("ratio", "inhabitant-km")),
    (r"share_within", ("ratio", "inhabitants")),
    (r"distance_km", ("decimals", 3)),
]


def rule_of(name: str):
    for pattern, rule in RULES:
        if re.search(pattern, name):
            return rule
    return None


def decimals(text: str) -> int:
    d = Decimal(text)
    return max(0, -d.as_tuple().exponent)


def is_ratio(value: float, denominator: int) -> bool:
    """``value`` is the double nearest k / denominator for some integer k."""
    k = round(value * denominator)
    return k / denominator == value


def check_value(name: str, text: str, value: float, denominators: dict) -> str | None:
    rule = rule_of(name)
    if rule is None:
        return f"{name} = {text}: no precision declared for this figure"
    kind, arg = rule
    if kind == "decimals" and decimals(text) > arg:
        return f"{name} = {text}: more than {arg} decimals"
    if kind == "ratio":
        if arg not in denominators:
            return f"{name} = {text}: no denominator ({arg}) known for this file"
        d = denominators[arg]
        if arg == "objective":
            d = int(d)
        if not is_ratio(value, d):
            return f"{name} = {text}: not one division of an integer by {d}"
    return None


def check_json(path: Path, denominators: dict) -> list[str]:
    problems = []

    def walk(o, key):
        if isinstance(o, dict):
            for k, v in o.items():
                walk(v, f"{key}.{k}" if key else k)
        elif isinstance(o, list):
            for v in o:
                walk(v, key)
        elif isinstance(o, float) and o == o and not o.is_integer():
            leaf = key.rsplit(".", 1)[-1]
            # a rule on the path (parameters, a table keyed by office_id) before the leaf's name
            name = key if any("\\." in pattern and re.search(pattern, key) for pattern, _ in RULES) else leaf
            p = check_value(name, repr(o), o, denominators)
            if p:
                problems.append(f"{path.name}: {p}")

    walk(json.loads(path.read_text(encoding="utf-8")), "")
    return problems


def check_csv(path: Path, denominators: dict, *, row_denominators=None) -> list[str]:
    problems = []
    with open(path, encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            dens = {**denominators, **(row_denominators(row) if row_denominators else {})}
            for name, text in row.items():
                if not re.fullmatch(r"-?\d+\.\d+|-?\d+(\.\d+)?e-?\d+", text or ""):
                    continue
                value = float(text)
                if value.is_integer():
                    continue
                p = check_value(name, text, value, dens)
                if p:
                    problems.append(f"{path.name} row {n}: {p}")
    return problems


def _summary(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text(encoding="utf-8"))


def national(summary: dict) -> dict:
    return {"inhabitants": summary["population"], "inhabitant-km": summary["population"] * 1000, "objective": summary["objective"]}


# --------------------------------------------------------------------------- the annual report's figures


def test_the_annual_reports_figures_are_written_as_it_gives_them(shipped_solution):
    """1 003.1 MSEK and 2 758 758 visits, as the annual report gives them (they were
    1003.0999999999999 and 2758758.0000000005: sums of floats in MSEK and visits)."""
    text = (shipped_solution / "summary.json").read_text(encoding="utf-8")
    assert '"baseline_cost_msek": 1003.1,' in text
    assert '"visits_before": 2758758.0,' in text
    s = json.loads(text)
    # the three money figures add up to the krona, and so do the visits
    assert Decimal(repr(s["baseline_cost_msek"])) - Decimal(repr(s["cost_msek"])) == Decimal(repr(s["savings_msek"]))
    assert Decimal(repr(s["visits_before"])) - Decimal(repr(s["visits_after"])) == Decimal(repr(s["visits_lost"]))
    # to the krona: the saving is the cost difference in whole SEK
    assert round(s["savings_msek"] * 1e6) == round(s["baseline_cost_msek"] * 1e6) - round(s["cost_msek"] * 1e6)


def test_money_to_the_krona_and_visits_to_a_tenth():
    from netopt.metrics import mean_km_difference, msek, ratio, tenths

    assert msek(1_003_099_999.9999999) == 1003.1 and repr(msek(862_097_395.5508128)) == "862.097396"
    assert msek(0.4) == 0.0 and msek(-2.5) == -0.000002  # halves to even, as Python rounds
    assert tenths(2_758_758.0000000005) == 27_587_580 and tenths(0.25) == 2
    assert ratio(1, 3) == 1 / 3 and ratio(10 ** 17 + 1, 10 ** 17) == 1.0
    # two means over the same inhabitants: the difference of their exact numerators
    a, b = ratio(171_234_567_891, 10_500_000_000), ratio(171_225_854_143, 10_500_000_000)
    assert mean_km_difference(a, b, 10_500_000) == ratio(171_234_567_891 - 171_225_854_143, 10_500_000_000)
    assert a - b != mean_km_difference(a, b, 10_500_000)  # the noise this avoids


# --------------------------------------------------------------------------- every written float


def test_the_property_check_catches_noise():
    dens = {"inhabitants": 7, "inhabitant-km": 7000, "objective": 10.0}
    assert check_value("baseline_cost_msek", "1003.0999999999999", 1003.0999999999999, dens)
    assert check_value("visits_before", "2758758.0000000005", 2758758.0000000005, dens)
    assert check_value("population_share_within_30km", "0.4285714285714285", 0.4285714285714285, dens)  # 3/7 is ...286
    assert check_value("population_share_within_30km", repr(3 / 7), 3 / 7, dens) is None
    assert check_value("a_new_figure", "0.1", 0.1, dens)  # nothing declared: it has to say what it is


def test_solve_writes_no_float_beyond_its_precision(shipped_solution):
    s = _summary(shipped_solution)
    dens = national(s)
    problems = check_json(shipped_solution / "summary.json", dens)
    problems += check_csv(shipped_solution / "plan.csv", dens)
    problems += check_csv(shipped_solution / "municipalities.csv", dens,
                          row_denominators=lambda r: {"inhabitants": int(r["population"]), "inhabitant-km": int(r["population"]) * 1000})
    assert not problems, "\n".join(problems[:20])


def test_spreadsheet_and_geopackage_carry_the_same_clean_figures(shipped_solution):
    import openpyxl
    import pyogrio

    s = _summary(shipped_solution)
    book = openpyxl.load_workbook(shipped_solution / "plan.xlsx", read_only=True)
    summary_sheet = {row[0]: row[1] for row in book.worksheets[0].iter_rows(values_only=True) if row and len(row) > 1}
    assert s["baseline_cost_msek"] in summary_sheet.values() and s["visits_before"] in summary_sheet.values()
    problems = []
    for layer in pyogrio.list_layers(shipped_solution / "plan.gpkg")[:, 0]:
        frame = pyogrio.read_dataframe(shipped_solution / "plan.gpkg", layer=layer, read_geometry=False)
        for col in frame.columns:
            if frame[col].dtype.kind != "f":
                continue
            for k, v in frame[col].items():
                if v != v or float(v).is_integer():
                    continue
                row = {"inhabitants": int(frame.at[k, "population"]), "inhabitant-km": int(frame.at[k, "population"]) * 1000} if "population" in frame else {}
                name = "mean_distance_km" if col == "mean_distance_km_change" else col  # a difference of two means: the same ratio
                p = check_value(name, repr(float(v)), float(v), {**national(s), **row})
                if p:
                    problems.append(f"plan.gpkg {layer}: {p}")
    assert not problems, "\n".join(problems[:20])


def test_decision_support_tables_write_no_float_beyond_its_precision(tmp_path, shipped_scenario):
    out = tmp_path / "explain"
    res = run_netopt("solve", shipped_scenario, "--out", out, "--no-map", "--explain", "--alternatives", "1", "--within", "1")
    assert res.code == 0, res.text
    dens = national(_summary(out))
    problems = check_csv(out / "keep_costs.csv", dens) + check_csv(out / "alternatives.csv", dens)
    assert (out / "keep_costs.csv").exists() and (out / "alternatives.csv").exists()
    assert not problems, "\n".join(problems[:20])


def test_sweep_writes_no_float_beyond_its_precision(tmp_path, shipped_scenario):
    out = tmp_path / "sweep"
    res = run_netopt("sweep", shipped_scenario, "--cuts", "0:100:50", "--out", out)
    assert res.code == 0, res.text
    dens = national(_summary(out / "cut-50"))
    assert not check_csv(out / "frontier.csv", dens)
    text = (out / "frontier.csv").read_text(encoding="utf-8")
    assert "\n0.0,OPTIMAL,0.0,0.0,1003.1," in text  # the 0 MSEK cut: nothing saved of 1 003.1


def test_robustness_writes_no_float_beyond_its_precision(tmp_path, fast_demand):
    from netopt.cluster import ClusterSettings
    from netopt.robustness import robustness, write_robustness

    network = netopt.load_network(demand=fast_demand)
    result = robustness(network, netopt.load_scenario(SCENARIOS / "cut-2027.toml"), samples=4, seed=3,
                        cluster=ClusterSettings(workers=1, processes=False))
    out = tmp_path / "robust"
    write_robustness(result, out, with_map=False)
    dens = {**national(result.base.summary()), "samples": 4}
    problems = check_csv(out / "samples.csv", dens) + check_json(out / "robustness.json", dens) + check_csv(out / "robustness.csv", dens, row_denominators=lambda r: {"samples": int(r["samples"])})
    assert not problems, "\n".join(problems[:20])
