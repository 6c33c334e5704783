"""The built website (_build/html), opened page by page in a real headless browser.

Run by `make test` after `make book`. Every page of the table of contents is served
from 127.0.0.1 with every other request blocked (see conftest.py), and must be
complete on its own: equations typeset by the site's own MathJax, images loaded and
described, widgets drawn from the state the build saved, solutions hidden until
clicked, no serious accessibility problems, readable figures in dark mode.

Set SITE_SCREENSHOTS=some/folder to save a full-page screenshot of every page in
light and dark mode there.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_docnames() -> list[str]:
    """Every page of _toc.yml, in reading order (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", [{"chapters": toc.get("chapters")}]):
        walk(part.get("chapters"))
    return names


def source_of(docname: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        if (ROOT / (docname + suffix)).exists():
            return ROOT / (docname + suffix)
    return None


def uses_widgets(docname: str) -> bool:
    """A notebook that imports ipywidgets must show its widgets on the page."""
    source = source_of(docname)
    if source is None or source.suffix != ".ipynb":
        return False
    nb = json.loads(source.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return bool(re.search(r"^\s*(import ipywidgets|from ipywidgets\b)", code, re.M))


PAGES = toc_docnames()
LESSONS = [d for d in PAGES if d.startswith("lessons/")]
# A long lesson has more pages (`..._part2`, `..._part3`, sections of its chapter in
# _toc.yml); goals open the first page, and the exercises close the lesson, on its last page.
FIRST_PAGES = [d for d in LESSONS if not re.search(r"_part\d+$", d)]


def lesson_pages(first: str) -> list[str]:
    return [d for d in LESSONS if d == first or re.fullmatch(re.escape(first) + r"_part\d+", d)]


def explorer_pages() -> list[str]:
    """Lessons whose code builds a static explorer (helper.static_explorer)."""
    return [d for d in LESSONS
            if source_of(d) and "static_explorer(" in source_of(d).read_text("utf-8")]


EXPLORER_PAGES = explorer_pages()

# The kernel note CONTRIBUTING.md asks for before each widget.
KERNEL_NOTE = "need a running Python kernel"

# Page is ready: MathJax has typeset (where the page loads it) and the widget manager
# has drawn every widget view (where the page has any).
READY_JS = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise;
    }
    const views = document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]').length;
    const deadline = Date.now() + 15000;
    while (views && document.querySelectorAll('.widget-subarea .jupyter-widgets').length < views
           && Date.now() < deadline) {
        await new Promise(r => setTimeout(r, 100));
    }
    await document.fonts.ready;
    return true;
}"""


def html_path(docname: str) -> str:
    return docname + ".html"


@pytest.fixture(scope="module")
def visit(open_page):
    """visit(docname) -> the page loaded in light mode, opened once per module."""
    cache = {}

    def _visit(docname: str):
        if docname not in cache:
            v = open_page("light")
            response = v.goto(html_path(docname))
            assert response is not None and response.ok, f"{docname}: {response and response.status}"
            v.page.evaluate(READY_JS)
            v.page.wait_for_load_state("networkidle")
            cache[docname] = v
        return cache[docname]

    return _visit


# --------------------------------------------------------------------------- offline

@pytest.mark.parametrize("docname", PAGES)
def test_nothing_leaves_the_site(visit, docname):
    v = visit(docname)
    assert v.external_requests == [], f"{docname} asked the network for {v.external_requests}"
    assert v.failed_requests == [], f"{docname}: requests failed: {v.failed_requests}"
    assert v.console_errors == [], f"{docname}: console errors: {v.console_errors}"


# ------------------------------------------------------------------------------ math

RAW_TEX_JS = r"""() => {
    const article = document.querySelector('main') || document.body;
    const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .output';
    const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.parentElement.closest(skip)) texts.push(n.textContent);
    }
    return texts.join(' ');
}"""

RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")


@pytest.mark.parametrize("docname", PAGES)
def test_math_is_typeset(visit, docname):
    page = visit(docname).page
    text = page.evaluate(RAW_TEX_JS)
    raw = RAW_TEX.search(text)
    assert raw is None, f"{docname}: raw TeX left on the page: ...{text[max(0, raw.start()-60):raw.end()+60]}..."
    math = page.locator("main .math").count()
    typeset = page.locator("main .math mjx-container, main mjx-container").count()
    untypeset = page.evaluate(
        "() => [...document.querySelectorAll('main .math')]"
        ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))")
    assert untypeset == [], f"{docname}: formulas MathJax did not typeset: {untypeset}"
    if math:
        assert typeset >= math, f"{docname}: {math} formulas, {typeset} typeset"
    errors = page.evaluate("() => [...document.querySelectorAll('mjx-merror')]"
                           ".map(e => e.getAttribute('data-mjx-error') || e.textContent)")
    assert errors == [], f"{docname}: TeX errors: {errors}"


# ------------------------------------------------------------------------- images

IMAGES_JS = """() => [...document.querySelectorAll('img')].map(img => ({
    src: img.getAttribute('src'),
    loaded: img.complete && img.naturalWidth > 0,
    alt: (img.getAttribute('alt') || '').trim(),
    caption: ((img.closest('figure') || {}).querySelector
              ? (img.closest('figure').querySelector('figcaption') || {}).textContent || ''
              : '').trim(),
    decorative: img.getAttribute('role') === 'presentation' || img.getAttribute('alt') === ''
                && !img.closest('main'),
}))"""


@pytest.mark.parametrize("docname", PAGES)
def test_images_load_and_are_described(visit, docname):
    page = visit(docname).page
    page.evaluate("() => Promise.all([...document.images].map(i => i.decode().catch(() => null)))")
    images = page.evaluate(IMAGES_JS)
    broken = [i["src"] for i in images if not i["loaded"]]
    assert broken == [], f"{docname}: images that did not load: {broken}"
    undescribed = [i["src"] for i in images
                   if not (i["alt"] or i["caption"] or i["decorative"])]
    assert undescribed == [], (
        f"{docname}: images with neither alt text nor a caption: {undescribed} "
        "(set mystnb.image.alt or mystnb.figure.caption in the cell's metadata)")


# ------------------------------------------------------------------------ widgets

WIDGETS_JS = """() => {
    const views = [...document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]')];
    return {
        views: views.length,
        state: document.querySelectorAll(
            'script[type="application/vnd.jupyter.widget-state+json"]').length,
        drawn: views.filter(s => {
            const area = s.previousElementSibling;
            return area && area.matches('.widget-subarea')
                   && area.querySelector('.jupyter-widgets[class*="widget-"], .jupyter-widgets .widget-inline-hbox, .jupyter-widgets');
        }).length,
        controls: document.querySelectorAll('.jupyter-widgets [class*="widget-"]').length,
    };
}"""


@pytest.mark.parametrize("docname", PAGES)
def test_widgets_show_their_saved_state(visit, docname):
    v = visit(docname)
    w = v.page.evaluate(WIDGETS_JS)
    if docname in EXPLORER_PAGES:
        # The live controls' output is left off the website (it cannot redraw without a
        # kernel); the static explorer stands in, and the note says so.
        assert v.page.locator(".static-explorer").count() >= 1
        if uses_widgets(docname):
            assert KERNEL_NOTE in v.page.inner_text("main"), f"{docname}: no kernel note"
    elif uses_widgets(docname):
        assert w["views"] > 0, (
            f"{docname} imports ipywidgets but its page has no widget views: "
            "does the notebook display a widget?")
        assert w["state"] == 1, (
            f"{docname}: the page has widget views but no saved widget state: "
            "the build lost the notebook's widget metadata")
        html = v.page.inner_text("main")
        assert KERNEL_NOTE in html, (
            f"{docname}: widgets without the note that moving them needs a kernel "
            "(see CONTRIBUTING.md, Interactive widgets)")
    assert w["drawn"] == w["views"], f"{docname}: {w['views']} widget views, {w['drawn']} drawn"
    if w["views"]:
        assert w["controls"] > 0, f"{docname}: widget areas drawn but empty"


@pytest.mark.parametrize("docname", PAGES)
def test_the_widget_manager_loads_only_where_a_widget_is(docname):
    """A page without a widget view (every explorer page: the live controls' output is left
    off the website) loads no widget manager and carries no saved widget state."""
    page = (ROOT / "_build" / "html" / f"{docname}.html").read_text(encoding="utf-8")
    if "application/vnd.jupyter.widget-view+json" not in page:
        for script in ("html-manager/embed-amd.js", "offline/require.js", "widgets_offline.js",
                       "application/vnd.jupyter.widget-state+json"):
            assert script not in page, f"{docname} loads {script} but shows no widget"


# ----------------------------------------------------------- page structure, lessons

@pytest.mark.parametrize("docname", PAGES)
def test_page_has_a_title(visit, docname):
    page = visit(docname).page
    assert page.title().strip(), f"{docname}: no <title>"
    assert page.locator("article h1").count() == 1, f"{docname}: expected exactly one h1"


@pytest.mark.parametrize("docname", FIRST_PAGES)
def test_lesson_has_goals_exercises_and_download(visit, docname):
    pages = lesson_pages(docname)
    exercises = 0
    for page_name in pages:
        v = visit(page_name)
        text = v.page.inner_text("main")
        if page_name == docname:
            assert "After this lesson you can" in text, f"{docname}: no learning goals"
        else:
            assert "After this lesson you can" not in text, f"{page_name}: goals again"
        exercises += v.page.locator("main .exercise").count()
        link = v.page.locator('a[href$=".ipynb"]').first
        assert link.count() == 1, f"{page_name}: no download button for the notebook"
        url = v.page.evaluate("a => a.href", link.element_handle())
        with urllib.request.urlopen(url) as response:
            nb = json.loads(response.read())
        assert nb["nbformat"] == 4, f"{page_name}: the download is not a notebook"
    assert exercises >= 3, f"{docname}: {exercises} exercises, CONTRIBUTING.md asks for 3+"
    last = visit(pages[-1]).page
    assert last.locator("main .exercise").count() == exercises, (
        f"{docname}: the exercises belong at the end of the lesson, on its last page")


@pytest.mark.parametrize("docname", LESSONS)
def test_no_solution_markers_on_the_page(visit, docname):
    # `### BEGIN SOLUTION` marks an answer for the student edition and nbgrader; the
    # website's solutions show the code without it (scripts/site_fixes.py).
    text = visit(docname).page.evaluate("document.querySelector('main').textContent")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, docname


@pytest.mark.parametrize("docname", FIRST_PAGES)
def test_solutions_hidden_until_clicked(visit, docname):
    page = visit(lesson_pages(docname)[-1]).page  # the lesson's exercises close its last page
    solutions = page.locator("main .solution")
    assert solutions.count() >= 1, f"{docname}: no solutions"
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        title = solution.locator(".admonition-title").inner_text().strip()
        body = solution.locator("> :not(.admonition-title)").first
        assert body.is_hidden(), f"{docname}: solution {title!r} is visible before a click"
        solution.locator(".toggle-button").first.click()
        body.wait_for(state="visible", timeout=3000)
        assert body.is_visible(), f"{docname}: solution {title!r} did not open on click"


# --------------------------------------------------------------------- navigation

@pytest.mark.parametrize("docname", PAGES)
def test_navigation_follows_the_chapters(visit, docname):
    page = visit(docname).page
    i = PAGES.index(docname)
    href = page.evaluate("() => (document.querySelector('link[rel=next]') || {}).href || null")
    if i + 1 < len(PAGES):
        assert href and href.endswith(html_path(PAGES[i + 1])), (
            f"{docname}: 'next' goes to {href}, the table of contents says {PAGES[i + 1]}")
    sidebar = page.evaluate(
        "() => [...document.querySelectorAll('.bd-sidebar-primary nav a.reference.internal')]"
        ".map(a => a.href)")
    order = [next((j for j, d in enumerate(PAGES) if h.split("#")[0].endswith(html_path(d))), None)
             for h in sidebar]
    order = [j for j in order if j is not None]
    # Every chapter is listed; a lesson's later pages where the theme unfolds it.
    chapters = {j for j, d in enumerate(PAGES) if j and not re.search(r"_part\d+$", d)}
    assert order == sorted(order) and set(order) >= chapters, (
        f"{docname}: sidebar order {order} does not follow the table of contents")


SIDEBAR_JS = """() => {
    const r = document.querySelector('.bd-sidebar-primary').getBoundingClientRect();
    return getComputedStyle(document.querySelector('.bd-sidebar-primary')).visibility
        === 'visible' && r.right > 0 && r.width > 0;
}"""


@pytest.mark.parametrize("width", [390, 1366])
def test_the_menu_button_opens_and_closes_the_table_of_contents(open_page, width):
    # The theme's header and the article's header each have a menu button; the themes
    # bind only the first (hidden) one, and course.js passes the visible one's clicks on.
    v = open_page("light", viewport=(width, 844))
    v.goto(html_path(LESSONS[0]))
    v.page.evaluate(READY_JS)
    shown = v.page.evaluate(SIDEBAR_JS)
    assert shown == (width > 960), f"{width} px: table of contents shown at first: {shown}"
    v.page.locator(".primary-toggle:visible").first.click()
    v.page.wait_for_timeout(600)
    assert v.page.evaluate(SIDEBAR_JS) != shown, (
        f"{width} px: the menu button did not {'hide' if shown else 'open'} the table of contents")
    assert v.console_errors == [], v.console_errors


def test_search_finds_pages(open_page):
    v = open_page()
    v.goto("search.html?q=notation")
    results = v.page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15000)
    assert results.count() >= 1
    assert v.external_requests == [] and v.console_errors == []


# -------------------------------------------------------------- accessibility (axe)

# Rule ids and CSS selectors (substring of axe's target) excluded, each with why.
# Only third-party theme elements we cannot fix belong here; never the whole of axe.
AXE_EXCEPTIONS: list[tuple[str, str, str]] = [
    # (rule id, selector substring, reason)
]


@pytest.mark.parametrize("docname", PAGES)
def test_accessibility(visit, docname):
    from axe_playwright_python.sync_playwright import Axe

    page = visit(docname).page
    # The widget manager loads require.js, and axe's UMD wrapper would then register
    # itself as an AMD module instead of `window.axe`: hide `define` while injecting.
    page.evaluate("() => { window.__amdDefine = window.define; window.define = undefined; }")
    try:
        results = Axe().run(page)
    finally:
        page.evaluate("() => { window.define = window.__amdDefine; }")
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        for node in violation["nodes"]:
            target = " ".join(map(str, node["target"]))
            if any(rule == violation["id"] and sel in target for rule, sel, _ in AXE_EXCEPTIONS):
                continue
            problems.append(f"{violation['id']} ({violation['impact']}): {target}: "
                            f"{node.get('failureSummary', '').splitlines()[-1:]}")
    assert problems == [], f"{docname}: accessibility violations:\n" + "\n".join(problems)


# ---------------------------------------------------------------------- dark mode

@pytest.mark.parametrize("docname", PAGES)
def test_dark_mode_figures_readable(open_page, docname):
    v = open_page("dark")
    v.goto(html_path(docname))
    v.page.evaluate(READY_JS)
    folder = os.environ.get("SITE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        stem = docname.replace("/", "_")
        v.page.screenshot(path=f"{folder}/{stem}_dark.png", full_page=True)
        light = open_page("light")
        light.goto(html_path(docname))
        light.page.evaluate(READY_JS)
        light.page.screenshot(path=f"{folder}/{stem}_light.png", full_page=True)
    assert v.page.evaluate("document.documentElement.dataset.theme") == "dark", (
        f"{docname}: the page ignores the reader's dark mode")
    # Figures are drawn dark-on-light: on the dark page each must sit on an opaque
    # light background (the theme's, or the figure's own), never on the dark page.
    backgrounds = v.page.evaluate("""() => [...document.querySelectorAll('main img')]
        .map(img => [img.getAttribute('src'), getComputedStyle(img).backgroundColor])""")
    dark = []
    for src, color in backgrounds:
        rgba = [float(x) for x in re.findall(r"[\d.]+", color)]
        alpha = rgba[3] if len(rgba) == 4 else 1.0
        luminance = sum(rgba[:3]) / 3 / 255
        if alpha < 1 or luminance < 0.75:
            dark.append(f"{src}: {color}")
    assert dark == [], f"{docname}: figures without a light background in dark mode: {dark}"


# ------------------------------------------------ controls that work without a kernel

@pytest.mark.parametrize("docname", EXPLORER_PAGES)
def test_static_controls_move_the_figure(visit, docname):
    """Each static control, moved by keyboard, changes its figure and its text readout."""
    v = visit(docname)
    page = v.page
    errors_before = len(v.console_errors)  # the page is shared with other tests
    explorers = page.locator(".static-explorer")
    assert explorers.count() >= 1, f"{docname}: no static explorer on the page"
    for i in range(explorers.count()):
        explorer = explorers.nth(i)
        sliders = explorer.locator("input[type=range]")
        readouts = {explorer.locator("output").inner_text()}
        for j in range(sliders.count()):
            slider = sliders.nth(j)
            for key in ("Home", "End"):  # keyboard: the first, then the last value
                before = explorer.locator("img").get_attribute("src")
                announced = slider.get_attribute("aria-valuetext")
                slider.focus()
                page.keyboard.press(key)
                if slider.get_attribute("aria-valuetext") == announced:
                    continue  # already at that end
                assert explorer.locator("img").get_attribute("src") != before, \
                    f"{docname}: explorer {i}, slider {j} ({key}): figure unchanged"
                readouts.add(explorer.locator("output").inner_text())
        # Some settings share a message (before an impulse, say), but the text readout
        # follows the controls: it changes for some move, and is never empty.
        assert len(readouts) > 1 and all(r.strip() for r in readouts), \
            f"{docname}: explorer {i}: the readout never changes"
    assert v.console_errors[errors_before:] == [], f"{docname}: {v.console_errors}"


# ------------------------------------------------------------- pages that read well

MAX_PAGE_HEIGHT = 20000  # px at 1366 px wide: a page that reads like a book chapter


@pytest.mark.parametrize("docname", LESSONS)
def test_lesson_page_is_not_too_tall(open_page, docname):
    v = open_page("light", viewport=(1366, 900))
    v.goto(html_path(docname))
    v.page.evaluate(READY_JS)
    height = v.page.evaluate("document.documentElement.scrollHeight")
    assert height <= MAX_PAGE_HEIGHT, (
        f"{docname}: {height} px tall at 1366 px wide (limit {MAX_PAGE_HEIGHT}): fold "
        "figure-drawing code, or give the lesson a second page")


# The smallest figure text, in CSS px, where a reader meets it: on a 1366 px wide page, and
# on a phone 390 px wide (the figure drawn as wide as the text column, about 342 px).
SCREENS = {"desktop": (1366, 900), "phone": (390, 844)}
MIN_FIGURE_TEXT_PX = {"desktop": 10, "phone": 8}
# Sharp: the image has at least as many pixels as the screen draws it with (a high-DPI
# laptop shows 2 device pixels per CSS px, this phone 3).
SCREEN_DENSITY = {"desktop": 2, "phone": 3}

# Each figure's <img>: where its bytes are, how wide the page draws it, and its own width
# in CSS px (a 2x image says so with its width attribute). A figure in a folded solution
# is not laid out (width 0): the page would draw it at its CSS width or the article's,
# whichever is smaller.
FIGURES_JS = """async () => {
    const article = document.querySelector('main article, main').getBoundingClientRect().width;
    const imgs = [...document.querySelectorAll('main img')];
    await Promise.all(imgs.map(i => i.decode().catch(() => null)));
    return imgs.map(img => {
        const shown = img.getBoundingClientRect().width;
        const css = parseFloat(img.getAttribute('width') || img.style.width) || img.naturalWidth;
        return {src: img.currentSrc || img.src, natural: img.naturalWidth,
                width: shown || Math.min(css, article)};
    });
}"""


def figure_text_px(png: bytes, drawn_width: float):
    """(smallest text in CSS px as drawn, its size in points) of a figure helper tagged.

    helper.py makes matplotlib write the smallest text's size in points and the dpi into
    every PNG a lesson draws; at that dpi a point is dpi/72 image pixels, and the page
    scales the image from its own width to the width it draws it at.
    """
    import io

    from PIL import Image

    from helper import DPI_TAG, FONT_TAG

    image = Image.open(io.BytesIO(png))
    if FONT_TAG not in image.info or DPI_TAG not in image.info:
        return None, None
    points = float(image.info[FONT_TAG])
    return points * float(image.info[DPI_TAG]) / 72 * drawn_width / image.width, points


def figure_problems(png: bytes, drawn_width: float, min_px: float, density: float):
    """What makes a figure hard to read where it is drawn `drawn_width` CSS px wide:
    text under `min_px`, or fewer than `density` image pixels per CSS px (blurred).
    Raises LookupError for a PNG without helper's font-size tag."""
    import io

    from PIL import Image

    px, points = figure_text_px(png, drawn_width)
    if px is None:
        raise LookupError("no font-size tag")
    problems = []
    if px < min_px:
        problems.append(f"{points:g} pt text drawn {px:.1f} px high (at least {min_px})")
    pixels = Image.open(io.BytesIO(png)).width / drawn_width
    if pixels < density - 1e-6:
        problems.append(f"{pixels:.2f} image pixels per CSS px (blurred on a {density}x screen)")
    return problems


def _planted_png(points=11, size=(8, 3), dpi=100):
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import helper  # noqa: F401  (tags the PNGs)

    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    ax.set_title("planted", fontsize=points)
    ax.tick_params(labelsize=points)
    ax.plot([0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_figure_text_measure_on_a_planted_figure():
    png = _planted_png(7)
    px, points = figure_text_px(png, 400)  # 800 px wide, drawn at half its width
    assert points == 7 and abs(px - 7 * 100 / 72 / 2) < 1e-9
    assert figure_text_px(png, 800)[0] == pytest.approx(7 * 100 / 72)


def test_a_planted_wide_1x_figure_fails_on_the_phone_and_a_2x_one_passes():
    wide = _planted_png(11, size=(8, 3), dpi=100)  # today's figure: 800 px for 800 CSS px
    assert figure_problems(wide, 800, 10, 1) == []  # a 1366 px page, a 1x screen
    problems = figure_problems(wide, 342, 8, 3)  # a phone's column
    assert len(problems) == 2 and "text drawn 6.5 px" in problems[0] and "blurred" in problems[1]
    sharp = _planted_png(13, size=(6.4, 3), dpi=200)  # 1280 px for 640 CSS px
    assert figure_problems(sharp, 342, 8, 3) == []
    assert figure_problems(sharp, 640, 10, 2) == []


def page_figures(v):
    """[(name, png bytes, drawn width)] of every figure on a page, data: URIs included."""
    import base64

    out = []
    for figure in v.page.evaluate(FIGURES_JS):
        src = figure["src"]
        if src.startswith("data:"):
            png = base64.b64decode(src.split(",", 1)[1])
        else:
            with urllib.request.urlopen(src) as response:
                png = response.read()
        name = src.rsplit("/", 1)[-1] if not src.startswith("data:") else "an explorer's frame"
        out.append((name, png, figure["width"]))
    return out


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("docname", LESSONS)
def test_figure_text_is_readable(open_page, docname, screen):
    v = open_page("light", viewport=SCREENS[screen])
    v.goto(html_path(docname))
    v.page.evaluate(READY_JS)
    bad, untagged = [], []
    for name, png, width in page_figures(v):
        try:
            problems = figure_problems(png, width, MIN_FIGURE_TEXT_PX[screen],
                                       SCREEN_DENSITY[screen])
        except LookupError:
            untagged.append(name)
            continue
        bad += [f"{name} (drawn {width:.0f} px wide): {p}" for p in problems]
    assert untagged == [], (
        f"{docname}: figures without helper's font-size tag (drawn without importing "
        f"helper?): {untagged}")
    assert bad == [], (
        f"{docname} on a {screen} ({SCREENS[screen][0]} px wide): figures too small or "
        "blurred. Draw 2x PNGs (the setup cell's `%config InlineBackend.figure_formats = "
        "[\"retina\"]`), at most 7 in wide, with text of at least 12.5 pt (helper.style() "
        "gives 13 pt):\n"
        + "\n".join(bad))


def test_one_search_box_and_a_favicon(visit):
    page = visit(PAGES[0]).page
    boxes = page.locator(".search-button__button:visible, input[type=search]:visible")
    assert boxes.count() == 1, f"{boxes.count()} search boxes or buttons on the home page"
    icon = page.locator("link[rel~=icon]")
    assert icon.count() >= 1, "no favicon"


def search(open_page, query, excerpts=True):
    """The search page for `query`, its results shown (and, with `excerpts`, filled in)."""
    v = open_page()
    v.goto("search.html?q=" + query.replace(" ", "+"))
    v.page.locator("#search-results ul.search li").first.wait_for(timeout=15000)
    if excerpts:
        v.page.wait_for_timeout(1500)  # excerpts are filled in after the titles
    return v


def test_search_excerpts_show_no_raw_tex(open_page):
    v = search(open_page, "recurrent weights")
    text = v.page.locator("#search-results").inner_text()
    assert not re.search(r"\\\(|\\\)|\\\[|\\\]|\\[a-zA-Z]+\{", text), \
        f"raw TeX in search excerpts: {text[:500]}"


@pytest.mark.parametrize("query, page", [("forget gate", "05_gated_cells_part2"),
                                         ("packing", "07_variable_length_sequences"),
                                         ("truncated BPTT", "03_backprop_through_time_part2")])
def test_search_ranks_the_lesson_that_teaches_a_term_first(open_page, query, page):
    """book/terms.yml: the section that teaches a term comes before pages that mention it."""
    v = search(open_page, query, excerpts=False)
    first = v.page.locator("#search-results ul.search li a").first.get_attribute("href")
    assert page in first, f"searching {query!r}: the first result is {first}, not {page}"


def test_search_excerpts_are_prose(open_page):
    """An excerpt is a sentence of the lesson: not the page's buttons (".pdf"), its
    contents list, a code cell or an output."""
    v = search(open_page, "forget gate")
    excerpts = v.page.locator("#search-results ul.search li p.context").all_inner_texts()
    assert excerpts, "no excerpts"
    for text in excerpts:
        assert ".pdf" not in text and ".ipynb" not in text, f"page buttons in an excerpt: {text[:200]}"
        assert not re.search(r"\bContents\b", text), f"the contents list in an excerpt: {text[:200]}"
        assert not re.search(r"\bfmt\(|\bimport |\bdef |f'\{", text), f"code in an excerpt: {text[:200]}"
