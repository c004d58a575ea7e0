"""Open a netopt HTML map in headless Chromium, offline, and report what it shows.

How things are counted (see ``netopt/maps/layers.py``): Leaflet draws every vector
as an SVG ``<path>`` and copies the layer's ``className`` option onto it, so

* office markers   = ``path.netopt-office`` (one L.circleMarker per office),
* FA-region shapes = ``path.netopt-fa`` (one path per region, also for
  MultiPolygons), hatched unserved overlays = ``path.netopt-fa-unserved``,
* municipality borders = ``path.netopt-municipality``,
* closure lines    = ``path.netopt-closure-line``.

Only layers switched on at start are in the DOM (in a comparison map: plan A).

Networking is off: every request that is not ``file:`` or ``data:`` is aborted
and recorded, and host names resolve to nothing. :func:`offline_page` (and
:func:`offline_browser` for several pages) opens a page that way for tests
that drive it themselves.  Needs the Python package
``playwright`` and a Chromium binary (Debian's ``/usr/bin/chromium``; override
with the environment variable ``NETOPT_CHROMIUM``).
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

_COUNT_JS = """() => {
  const n = (sel) => document.querySelectorAll(sel).length;
  return {
    markers: n('path.netopt-office'),
    polygons: n('path.netopt-fa'),
    unserved_polygons: n('path.netopt-fa-unserved'),
    municipality_paths: n('path.netopt-municipality'),
    closure_lines: n('path.netopt-closure-line'),
  };
}"""

# Finds an office marker whose centre is not covered by a panel, so that a
# real mouse click at that point reaches it; returns its centre or null.
_CLICKABLE_MARKER_JS = """(selector) => {
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    if (document.elementFromPoint(x, y) === el) return {x: x, y: y};
  }
  return null;
}"""


# Where the panels sit on the page, what the summary panel says, which office
# labels are visible (and whether any two overlap), and how much of the
# FA-regions' outlines (sampled every ~4 px along each path.netopt-fa) lies
# under a panel or control, or outside the window.
_LAYOUT_JS = """() => {
  const boxes = [...document.querySelectorAll('#netopt-summary, #netopt-legend, .leaflet-control')]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
  let total = 0, hidden = 0, outside = 0; const examples = [];
  for (const path of document.querySelectorAll('path.netopt-fa')) {
    const len = path.getTotalLength(), n = Math.max(20, Math.ceil(len / 4)), m = path.getScreenCTM();
    for (let i = 0; i < n; i++) {
      const p = path.getPointAtLength(len * i / n);
      const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
      total++;
      if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) { outside++; continue; }
      if (boxes.some(r => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom)) {
        hidden++; if (examples.length < 5) examples.push([Math.round(x), Math.round(y)]);
      }
    }
  }
  const labels = [...document.querySelectorAll('.netopt-label')]
    .filter(e => !e.classList.contains('netopt-hidden') && getComputedStyle(e).visibility !== 'hidden')
    .map(e => ({text: e.innerText, r: e.getBoundingClientRect()}));
  let overlaps = 0;
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
    const a = labels[i].r, b = labels[j].r;
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
  }
  const panel = document.getElementById('netopt-summary');
  return {
    panel_text: panel ? panel.innerText : null,
    panel_collapsed: panel ? panel.classList.contains('netopt-collapsed') : null,
    labels: labels.map(l => l.text), label_overlaps: overlaps,
    outline: {total: total, hidden: hidden, outside: outside, examples: examples},
    lang: document.documentElement.lang,
  };
}"""


def chromium_path() -> str | None:
    """The Chromium binary to use, or None if there is none."""
    env = os.environ.get("NETOPT_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def browser_unavailable_reason() -> str | None:
    """Why the browser check cannot run here, or None if it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package 'playwright' is not installed (pip install playwright)"
    if chromium_path() is None:
        return "no Chromium binary (apt-get install -y chromium, or set NETOPT_CHROMIUM)"
    return None


@dataclass
class PageLog:
    """What a page did that a test must see: errors, dialogs and network attempts."""

    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    blocked_requests: list = field(default_factory=list)

    def problems(self) -> list[str]:
        return [f"{k}: {v}" for k, v in vars(self).items() if v]


class OfflineBrowser:
    """A headless Chromium with networking off, opening pages one at a time (see :func:`offline_browser`)."""

    def __init__(self, browser):
        self._browser = browser

    @contextmanager
    def page(self, html_path, *, viewport: tuple[int, int] = (1400, 900), timeout_ms: int = 20_000,
             downloads: bool = False):
        """Open ``html_path`` in a fresh browser context; yields ``(page, log)``.

        Every request that is not ``file:``, ``data:``, ``blob:`` or ``about:``
        is aborted and recorded in ``log.blocked_requests``; dialogs are
        dismissed and recorded; console errors and uncaught page errors are
        recorded.
        """
        log = PageLog()

        def route(route):
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                log.blocked_requests.append(url)
                route.abort()

        def on_dialog(dialog):
            log.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        context = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            service_workers="block",
            accept_downloads=downloads,
        )
        try:
            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            page.on("console", lambda m: log.console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: log.page_errors.append(str(e)))
            page.on("dialog", on_dialog)
            page.goto(Path(html_path).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
            yield page, log
        finally:
            context.close()


@contextmanager
def offline_browser():
    """Start headless Chromium (Debian's, through Playwright); yields an :class:`OfflineBrowser`.

    One per test module is enough: Playwright's synchronous API allows one at a time.
    """
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError(browser_unavailable_reason() or "no Chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield OfflineBrowser(browser)
        finally:
            browser.close()


@contextmanager
def offline_page(html_path, **options):
    """One page in its own browser: ``with offline_page(path) as (page, log)`` (options as :meth:`OfflineBrowser.page`)."""
    with offline_browser() as browser, browser.page(html_path, **options) as opened:
        yield opened


def check_map_in_browser(
    html_path,
    *,
    expected_markers: int,
    expected_polygons: int,
    screenshot_path,
    click_selector: str = "path.netopt-office",
    strict: bool = True,
    viewport: tuple[int, int] = (1400, 900),
    timeout_ms: int = 20_000,
) -> dict:
    """Load ``html_path`` offline in headless Chromium and inspect the map.

    Counts markers and FA-region polygons (see module docstring), clicks one
    visible marker matching ``click_selector`` and reads its popup, picks the
    first office in the search box and reads that popup, and saves a PNG
    screenshot (of the initial view) to ``screenshot_path``.

    Returns a dict: the counts (``markers``, ``polygons``,
    ``unserved_polygons``, ``municipality_paths``, ``closure_lines``),
    ``layout`` (in the initial view: ``panel_text``, ``panel_collapsed``,
    ``labels`` (visible office labels), ``label_overlaps``, ``outline``
    (``total``, ``hidden`` under a panel or control, ``outside`` the window,
    of the points sampled along the FA-regions' outlines), ``lang``),
    ``popup_text``, ``search_popup_text``, ``console_errors``, ``page_errors``,
    ``dialogs`` (alert/confirm/prompt messages), ``blocked_requests`` (URLs that
    tried the network), ``title`` and ``screenshot_path``; plus ``problems``, a
    list of what went wrong.  With ``strict`` (default) any problem raises
    AssertionError listing them all.
    """
    screenshot_path = Path(screenshot_path)
    with offline_page(html_path, viewport=viewport, timeout_ms=timeout_ms) as (page, log):
        if expected_markers > 0:
            page.wait_for_function(
                "n => document.querySelectorAll('path.netopt-office').length >= n",
                arg=expected_markers, timeout=timeout_ms,
            )
        page.wait_for_timeout(300)  # let Leaflet finish fitBounds/animations
        result: dict = dict(page.evaluate(_COUNT_JS))
        result["title"] = page.title()
        result["layout"] = page.evaluate(_LAYOUT_JS)
        screenshot_path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot_path))

        popup_text = None
        point = page.evaluate(_CLICKABLE_MARKER_JS, click_selector)
        if point is not None:
            page.mouse.click(point["x"], point["y"])
            try:
                page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
                popup_text = page.inner_text(".leaflet-popup-content")
            except Exception:  # noqa: BLE001 - reported as a problem below
                popup_text = None
            page.evaluate("() => document.querySelectorAll('.leaflet-popup-close-button')"
                          ".forEach(b => b.click())")
            page.wait_for_selector(".leaflet-popup-content", state="detached", timeout=5_000)
        result["popup_text"] = popup_text

        search_popup_text = None
        if page.locator("#netopt-search option").count() > 1:
            page.select_option("#netopt-search", index=1)
            try:
                page.wait_for_selector(".leaflet-popup-content", timeout=5_000)
                search_popup_text = page.inner_text(".leaflet-popup-content")
            except Exception:  # noqa: BLE001
                search_popup_text = None
        result["search_popup_text"] = search_popup_text
        page.wait_for_timeout(200)

    result.update(
        console_errors=log.console_errors,
        page_errors=log.page_errors,
        dialogs=log.dialogs,
        blocked_requests=log.blocked_requests,
        screenshot_path=str(screenshot_path),
    )
    problems = []
    if result["markers"] != expected_markers:
        problems.append(f"{result['markers']} office markers, expected {expected_markers}")
    if result["polygons"] != expected_polygons:
        problems.append(f"{result['polygons']} FA-region polygons, expected {expected_polygons}")
    if expected_markers > 0 and not result["popup_text"]:
        problems.append("clicking an office marker opened no popup")
    for key in ("console_errors", "page_errors", "dialogs", "blocked_requests"):
        if result[key]:
            problems.append(f"{key}: {result[key]}")
    result["problems"] = problems
    if strict and problems:
        raise AssertionError("map check failed:\n  " + "\n  ".join(problems))
    return result
