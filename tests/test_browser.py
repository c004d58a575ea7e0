"""The maps in a real (headless, offline) Chromium: markers, polygons, popups, no errors.

Skipped when Playwright or Chromium is missing, except under CI (env CI set),
where that is a failure because CI installs them.  Set NETOPT_SCREENSHOT_DIR
to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from browser import browser_unavailable_reason, check_map_in_browser
from netopt import maps
from test_maps import EVIL, make_plan


@pytest.fixture(scope="module", autouse=True)
def _need_browser():
    reason = browser_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run under CI: {reason}")
    pytest.skip(f"browser test skipped: {reason}")


def _keep(screenshot: Path) -> None:
    keep_dir = os.environ.get("NETOPT_SCREENSHOT_DIR")
    if keep_dir:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep_dir) / screenshot.name)


def test_plan_map_in_browser(tmp_path):
    offices, fa, kommun, summary = make_plan()
    page = tmp_path / "plan.html"
    page.write_text(maps.plan_map_html(offices, fa, kommun, summary, title="Test plan"), encoding="utf-8")
    shot = tmp_path / "plan.png"
    result = check_map_in_browser(page, expected_markers=len(offices), expected_polygons=len(fa),
                                  screenshot_path=shot)
    _keep(shot)
    assert result["problems"] == []
    assert result["dialogs"] == []  # the <script> office name did not run
    assert result["blocked_requests"] == []  # nothing tried the network
    assert result["unserved_polygons"] == int((fa["offices_after"] == 0).sum())
    assert result["municipality_paths"] == len(kommun)
    assert result["closure_lines"] == int((offices["decision"] == "close").sum())
    assert result["title"] == "Test plan"
    popup = result["popup_text"]
    for label in ("Decision", "Municipality", "FA-region", "Visits per year", "Annual cost", "Cost per visit"):
        assert label in popup
    # the search box lists names alphabetically: the hostile name comes first,
    # and its popup shows it as plain text
    assert result["search_popup_text"].splitlines()[0] == EVIL
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_comparison_map_in_browser(tmp_path):
    offices, fa, kommun, summary = make_plan()
    offices_b = offices.copy()
    offices_b = offices_b[offices_b["decision"] != "flexible"]  # B has fewer offices
    page = tmp_path / "compare.html"
    page.write_text(
        maps.comparison_map_html(offices, offices_b, fa, fa, kommun, summary, dict(summary, scenario="B"),
                                 label_a="Plan " + EVIL, label_b="Plan B", title="Compare"),
        encoding="utf-8",
    )
    shot = tmp_path / "compare.png"
    # only plan A's layers are on at start
    result = check_map_in_browser(page, expected_markers=len(offices), expected_polygons=len(fa),
                                  screenshot_path=shot)
    _keep(shot)
    assert result["problems"] == []


# ---------------------------------------------------------------------------
# The shipped 2027 plan's outputs in the browser (issue 14)
# ---------------------------------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402

from conftest import SCENARIOS, run_netopt  # noqa: E402


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _panel_lines(s: dict, tx_num, msek: str, words: dict) -> list[str]:
    """The cut, the saving, the allowance used and the verdict, as the panel must show them, in order."""
    saving, allowance, cut = s["savings_msek"], s["flexible_allowance_used_msek"], s["cut_msek"]
    return [
        f"{words['cut']} {tx_num(cut)} {msek}",
        f"{words['saving']} {tx_num(saving)} {msek}",
        f"{words['allowance']} {tx_num(allowance)} {msek}",
        f"{words['met']}: {words['yes']}: {tx_num(saving)} + {tx_num(allowance)} = {tx_num(saving + allowance)} \u2265 {tx_num(cut)} {msek}",
    ]


def _assert_in_order(text: str, parts: list[str]) -> None:
    at = -1
    for part in parts:
        k = text.find(part, at + 1)
        assert k > at, f"{part!r} not found after position {at} in {text!r}"
        at = k


@pytest.fixture(scope="module")
def swedish_solution(tmp_path_factory):
    out = tmp_path_factory.mktemp("sv") / "cut-2027-sv"
    res = run_netopt("solve", SCENARIOS / "cut-2027.toml", "--lang", "sv", "--out", out)
    assert res.code == 0, res.text
    return out


@pytest.mark.parametrize("viewport", [(1400, 900), (1024, 768)], ids=["desktop", "projector"])
def test_shipped_map_says_the_cut_is_met_with_the_allowance_and_shows_all_of_sweden(shipped_solution, tmp_path, viewport):
    from netopt.i18n import texts

    s = json.loads((shipped_solution / "summary.json").read_text(encoding="utf-8"))
    assert s["meets_budget"] and s["flexible_allowance_used_msek"] > 0
    name = "map-cut-2027.png" if viewport == (1400, 900) else "map-cut-2027-1024x768.png"
    shot = tmp_path / name
    result = check_map_in_browser(shipped_solution / "map.html", expected_markers=s["offices_open"] + s["offices_closed"],
                                  expected_polygons=60, screenshot_path=shot, viewport=viewport)
    _keep(shot)
    assert result["problems"] == []
    layout = result["layout"]
    en = texts("en")
    words = {"cut": "Budget cut (target)", "saving": "Saving", "allowance": "Allowance for flexible offices used", "met": "Cut met", "yes": "yes"}
    _assert_in_order(_flat(layout["panel_text"]), _panel_lines(s, lambda x: en.num(x, 1), "MSEK", words))
    # on a projector the panel starts collapsed to that headline; on a desktop it shows the details
    assert layout["panel_collapsed"] == (viewport == (1024, 768))
    assert ("Offices kept / flexible / closed" in layout["panel_text"]) == (viewport == (1400, 900))
    # nothing of Sweden is hidden under a panel or control, and all of it is in the window
    outline = layout["outline"]
    assert outline["total"] > 2000 and outline["hidden"] == 0 and outline["outside"] == 0, outline
    # changed offices carry labels, and no two labels overlap
    assert len(layout["labels"]) >= 8 and layout["label_overlaps"] == 0
    assert all(re.search(r": (closed|flexible|\+\d+\s%\svisits)", t) for t in layout["labels"]), layout["labels"]
    assert any(t.endswith(": closed") or t.endswith(": closed \u26a0") for t in layout["labels"])


def test_swedish_map_in_browser(swedish_solution, tmp_path):
    from netopt.i18n import texts

    s = json.loads((swedish_solution / "summary.json").read_text(encoding="utf-8"))
    shot = tmp_path / "map-cut-2027-sv.png"
    result = check_map_in_browser(swedish_solution / "map.html", expected_markers=s["offices_open"] + s["offices_closed"],
                                  expected_polygons=60, screenshot_path=shot, viewport=(1024, 768))
    _keep(shot)
    assert result["problems"] == []
    layout = result["layout"]
    assert layout["lang"] == "sv"
    sv = texts("sv")
    words = {"cut": "Besparingskrav", "saving": "Besparing", "allowance": "Använt tillskott för flexibla kontor", "met": "Kravet uppfyllt", "yes": "ja"}
    _assert_in_order(_flat(layout["panel_text"]), _panel_lines(s, lambda x: sv.num(x, 1), "mnkr", words))
    assert "Beslut" in result["popup_text"] and "Kommun" in result["popup_text"]
    assert any(t.endswith(": stängs") or t.endswith(": stängs \u26a0") for t in layout["labels"]) and layout["label_overlaps"] == 0
    assert layout["outline"]["hidden"] == 0 and layout["outline"]["outside"] == 0


def test_report_html_prints_on_a4(shipped_solution, tmp_path):
    """report.html opens offline without errors, and "print to PDF" gives an A4 document."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM_ARGS, chromium_path

    errors, blocked = [], []
    shot = tmp_path / "report-cut-2027.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 900, "height": 1270})
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:", "about:")) else (blocked.append(route.request.url), route.abort()))
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((shipped_solution / "report.html").resolve().as_uri(), wait_until="load")
            page.screenshot(path=str(shot))
            text = page.inner_text("body")
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    _keep(shot)
    assert errors == [] and blocked == []
    assert "Cut met" in text and "What the plan does" in text and "Offices closed or turned flexible, and why" in text
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 2 <= pages <= 12, pages
    assert b"/MediaBox [0 0 595" in pdf or b"/MediaBox [ 0 0 595" in pdf  # A4: 595 x 842 points
