"""The slide decks (`make slides`, scripts/slides.py): one per lesson, made for a lecture hall.

Each deck has its lesson's title and figures, no solution, code only where a cell asks for
it (`slide-code`; the rest is in the speaker notes), and loads nothing from the network. In
a real browser (Chromium, every request but the deck's own files blocked and recorded),
no deck logs an error or asks for anything outside, and no slide is taller or wider than
its 1280x720 screen, or holds anything that scrolls. The decks are built here into a
temporary folder without running the lessons (`{eval}` numbers are then shown as their
expressions; one test runs a small notebook to check that they are computed). Needs
node_modules (`npm ci`).
"""

import html
import importlib.util
import json
import re
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
NAMES = [p.stem for p in LESSONS]

spec = importlib.util.spec_from_file_location("slides", ROOT / "scripts" / "slides.py")
slides = importlib.util.module_from_spec(spec)
spec.loader.exec_module(slides)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    slides.build(LESSONS, out, evaluate=False)
    return out


def deck(out_dir, name):
    return (out_dir / f"{name}.slides.html").read_text(encoding="utf-8")


def without_notes(text):
    return re.sub(r'<aside class="notes">.*?</aside>', "", text, flags=re.S)


def on_slides(cell):
    """Whether a lesson cell's outputs are shown on a slide (see scripts/slides.py)."""
    tags = set(cell.metadata.get("tags", []))
    return (cell.metadata.get("slideshow", {}).get("slide_type") not in ("skip", "notes")
            and not {"solution", "remove-cell", "remove-output"} & tags
            and "BEGIN SOLUTION" not in cell.source)


# -- the HTML -------------------------------------------------------------------------------

def test_one_deck_per_lesson(out_dir):
    assert sorted(p.name for p in out_dir.glob("*.slides.html")) == [f"{n}.slides.html" for n in NAMES]


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_deck_shows_the_lesson_title(out_dir, path):
    title = slides.lesson_title(nbformat.read(path, 4))
    assert title, f"{path.name} has no '# Title' heading"
    text = html.unescape(deck(out_dir, path.stem))
    assert f"<title>{title} slides</title>" in text
    assert re.search(r'<section class="title">\s*<h1>' + re.escape(title), text)


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_deck_shows_every_figure_of_its_slides(out_dir, path):
    nb = nbformat.read(path, 4)
    figures = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not on_slides(cell):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if {"image/png", "image/jpeg"} & set(data):
                figures += 1
            elif "application/vnd.jupyter.widget-view+json" in data:
                figures += len(slides._widget_images(nb, data["application/vnd.jupyter.widget-view+json"]["model_id"]))
            elif "static-explorer-figure" in "".join(data.get("text/html", "")):
                figures += 1  # a static explorer: its first figure
    shown = without_notes(deck(out_dir, path.stem))
    images = re.findall(r'<section class="figure">.*?<img[^>]*\bsrc="data:image/(?:png|jpeg)', shown, re.S)
    assert len(images) == figures
    assert not re.search(r'<img(?![^>]*\balt="[^"]+")', shown), "a figure without alt text"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_code_only_where_a_cell_asks_the_rest_in_the_notes(out_dir, path):
    nb = nbformat.read(path, 4)
    asked = sum(1 for c in nb.cells if c.cell_type == "code" and on_slides(c)
                and slides.SLIDE_CODE_TAG in c.metadata.get("tags", []) and c.source.strip())
    text = deck(out_dir, path.stem)
    assert len(re.findall(r'<div class="code">', without_notes(text))) == asked
    first_code = next(c for c in nb.cells if c.cell_type == "code" and on_slides(c)
                      and not {"hide-input", "remove-input"} & set(c.metadata.get("tags", [])))
    notes = "".join(re.findall(r'<aside class="notes">(.*?)</aside>', text, re.S))
    assert html.escape(first_code.source.splitlines()[0]) in notes  # the setup cell: in the notes
    assert "On the website" not in without_notes(text)  # the notes for readers go to the notes


@pytest.mark.parametrize("name", NAMES)
def test_deck_loads_nothing_from_the_network(out_dir, name):
    text = re.sub(r"<a\s[^>]*>", "<a>", deck(out_dir, name))  # a link the reader may follow is fine
    external = r"(?:https?:)?//[\w.-]+\.\w+"
    loads = (re.findall(rf"\b(?:src|href)\s*=\s*[\"']?({external}[^\"'\s>]*)", text)
             + re.findall(rf"url\(\s*[\"']?({external}[^)\"']*)", text)
             + re.findall(rf"@import\s+(?:url\()?[\"']?({external}[^\"')]*)", text)
             + re.findall(rf"[\"']({external}[^\"']*\.(?:m?js|css)(?:\?[^\"']*)?)[\"']", text))
    assert not loads, f"{name} loads from the network: {sorted(set(loads))}"


def css_references(css_file):
    """The files a CSS file loads (@import, url()), as paths; web addresses as they are."""
    text = css_file.read_text(encoding="utf-8", errors="replace")
    refs = re.findall(r"@import\s+(?:url\()?[\"']?([^\"')\s;]+)", text)
    refs += re.findall(r"url\(\s*[\"']?([^\"')]+)", text)
    return [r for r in dict.fromkeys(refs) if not r.startswith("data:")]


@pytest.mark.parametrize("name", NAMES)
def test_every_file_a_deck_loads_is_next_to_it(out_dir, name):
    text = deck(out_dir, name)
    local = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"#:]+)\"", text)
    assert "reveal.js/dist/reveal.js" in local and "mathjax/tex-svg-full.js" in local
    missing, todo = [], [out_dir / unquote(p) for p in local]
    seen = set()
    while todo:  # and every file their CSS loads, for a theme may import fonts
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if not path.is_file():
            missing.append(str(path.relative_to(out_dir)))
        elif path.suffix == ".css":
            for ref in css_references(path):
                assert not re.match(r"(?:https?:)?//", ref), f"{path.name} loads {ref}"
                todo.append((path.parent / unquote(ref.split("?")[0].split("#")[0])).resolve())
    assert not missing, f"{name} loads files that are not in the build: {missing}"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_deck_hides_the_solutions(out_dir, path):
    text = deck(out_dir, path.stem)  # the speaker notes included
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "solution-start", "solution-end"):
        assert marker not in text
    nb = nbformat.read(path, 4)

    def key(line):  # a line without its comment and its indent
        return re.sub(r"\s+#.*$", "", line).strip()

    shown = {key(line) for cell in nb.cells if on_slides(cell) for line in cell.source.splitlines()}
    in_deck = {key(line) for line in html.unescape(re.sub(r"<[^>]+>", "", text)).splitlines()}
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []) or "BEGIN SOLUTION" in cell.source:
            for line in map(key, cell.source.splitlines()):
                # A distinctive line of a solution must not show, on a slide or in the notes.
                if len(line) > 25 and line not in shown and re.fullmatch(r"[\w ,.=()\[\]*+/-]+", line):
                    assert line not in in_deck, f"{path.name}: solution line in the deck: {line}"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_the_title_and_every_section_start_a_slide(path):
    for cell in nbformat.read(path, 4).cells:
        heading = cell.source.lstrip().split("\n", 1)[0]
        if cell.cell_type == "markdown" and re.match(r"##? ", heading):
            slide_type = cell.metadata.get("slideshow", {}).get("slide_type")
            assert slide_type == "slide", f"{path.name}: {heading!r} is {slide_type!r}, not a slide"


# -- the rules, on small inputs ---------------------------------------------------------------

def small_deck(*cells, path="lessons/09_probe.ipynb", values=None):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    return slides.deck_html(nb, path, values)


def test_long_markdown_is_cut_lists_become_fragments_and_notes_go_to_the_notes():
    md = nbformat.v4.new_markdown_cell
    paragraph = "A sentence of prose that takes some room on a slide, about one line. " * 4
    text = small_deck(
        md("# Probe\n\nIntro.", metadata={"slideshow": {"slide_type": "slide"}}),
        md("## Section\n\n" + "\n\n".join([paragraph] * 8) + "\n\n- one\n- two\n- three\n\n"
           ":::{note}\nOn the website the controls do not move.\n:::\n\n"
           "```{exercise} Count\n:label: ex-09-count\n\nHow many?\n```\n\nSee [lesson 2](02_rnn.ipynb) "
           "and [the notation](../book/notation.md) and {ref}`the figure <fig-1>`, "
           "{math}`x_t`, {eval}`n_params`.", metadata={"slideshow": {"slide_type": "slide"}}))
    sections = re.findall(r"<section.*?</section>", text, re.S)
    assert sum("<h2>Section</h2>" in s for s in sections) >= 3  # cut, the title repeated
    assert '<li class="fragment">one</li>' in text
    assert "On the website" in text and "On the website" not in without_notes(text)
    assert "<h2>Exercise 9.1: Count</h2>" in text
    assert '<a href="02_rnn.slides.html">lesson 2</a>' in text and "notation.md" not in text
    assert "See" in text and "the figure" in text and r"\(x_t\)" in text
    assert "<code>n_params</code>" in text  # not computed: the expression
    assert slides.replace_roles("x {eval}`n_params` y", {"n_params": "361"}) == "x 361 y"


def test_code_goes_to_the_notes_unless_tagged_and_solutions_go_nowhere():
    code = nbformat.v4.new_code_cell
    text = small_deck(
        nbformat.v4.new_markdown_cell("# Probe"),
        code("setup = 1", outputs=[nbformat.v4.new_output("stream", name="stdout", text="printed 42\n")]),
        code("shown_on_slide = 2", metadata={"tags": ["slide-code"]}),
        code("### BEGIN SOLUTION\nsecret_answer = 3\n### END SOLUTION\ncheck(secret_answer)"))
    assert "setup = 1" in text and "setup = 1" not in without_notes(text)
    assert "printed 42" in without_notes(text)  # a short output stays on the slide
    assert "shown_on_slide" in without_notes(text)
    assert "secret_answer" not in text


def test_eval_numbers_are_computed_by_running_the_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("n_params = 6 * 7"),
        nbformat.v4.new_markdown_cell("It has {eval}`n_params` parameters, {eval}`f'{0.5:.0%}'`."),
        nbformat.v4.new_code_cell("n_params = 0  # changed later: the prose above keeps 42"),
    ])
    path = tmp_path / "09_probe.ipynb"
    nbformat.write(nb, path)
    values = slides.evaluate_roles(nb, path)
    assert list(values.values()) == [{"n_params": "42", "f'{0.5:.0%}'": "50%"}]


def _visible_slides(text):
    for kind, body in re.findall(r'<section class="(\w+)">(.*?)</section>', text, re.S):
        yield kind, re.sub(r'<aside class="notes">.*?</aside>', "", body, flags=re.S)


@pytest.mark.parametrize("name", NAMES)
def test_no_object_repr_and_no_slide_ending_with_a_colon(out_dir, name):
    text = deck(out_dir, name)
    assert not slides.OBJECT_REPR.search(text), "an object's repr (<... at 0x...>) in the deck"
    for number, (kind, body) in enumerate(_visible_slides(text), 1):
        shown = html.unescape(re.sub(r"<[^>]+>", "", body)).strip()
        assert not shown.endswith(":"), f"slide {number} ends with a colon: ...{shown[-80:]!r}"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_a_static_explorer_shows_its_first_figure(out_dir, path):
    nb = nbformat.read(path, as_version=4)
    explorers = sum("static-explorer-figure" in "".join(o.get("data", {}).get("text/html", ""))
                    for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert deck(out_dir, path.stem).count("sliders switch between saved settings") == explorers


def _record(folder, nb_path, values):
    import hashlib
    folder.mkdir(exist_ok=True)
    (folder / f"{nb_path.stem}.json").write_text(json.dumps({
        "notebook": nb_path.name, "sha256": hashlib.sha256(nb_path.read_bytes()).hexdigest(),
        "values": values}))


def test_eval_numbers_come_from_the_book_build_when_it_built_this_notebook(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("n_params = 6 * 7"),
        nbformat.v4.new_markdown_cell("It has {eval}`n_params` parameters, {eval}`name`."),
        nbformat.v4.new_code_cell("n_params = 0"),
        nbformat.v4.new_markdown_cell("Now {eval}`n_params`."),
    ])
    path = tmp_path / "09_probe.ipynb"
    nbformat.write(nb, path)
    evals = tmp_path / "evals"
    # In the order the build asked: the second n_params is the later cell's.
    _record(evals, path, [["n_params", "42"], ["name", "GRU"], ["n_params", "0"]])
    assert list(slides.recorded_values(nb, path, evals).values()) == \
        [{"n_params": "42", "name": "GRU"}, {"n_params": "0"}]
    _record(evals, path, [["n_params", "42"], ["name", "GRU"]])       # one value missing
    assert slides.recorded_values(nb, path, evals) is None
    _record(evals, path, [["n_params", "42"], ["name", "GRU"], ["n_params", "0"]])
    nb.cells[0].source = "n_params = 7"                                 # edited after the build
    nbformat.write(nb, path)
    assert slides.recorded_values(nb, path, evals) is None
    assert slides.recorded_values(nb, path, tmp_path / "no-build") is None


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_the_book_build_kept_every_number_a_deck_shows(path):
    """`make book` (scripts/eval_record.py) kept the value of every {eval} of every lesson,
    for the notebook as it is now: `make slides` runs no lesson again."""
    assert (ROOT / "_build" / "evals").is_dir(), "run `make book` first"
    nb = nbformat.read(path, as_version=4)
    values = slides.recorded_values(nb, path, slides.EVALS)
    assert values is not None, f"_build/evals/{path.stem}.json is missing, stale or short"
    wanted = sum(len(re.findall(r"\{eval\}`([^`]*)`", c.source)) for c in nb.cells
                 if c.cell_type == "markdown")
    assert sum(len(v) for v in values.values()) <= wanted
    assert wanted == 0 or values


# -- in a browser -----------------------------------------------------------------------------

MEASURE = """async () => {
  await MathJax.startup.promise;
  const out = [], slides = Reveal.getSlides();
  for (let i = 0; i < slides.length; i++) {
    Reveal.slide(i);
    await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    const s = slides[i];
    const scrolls = [...s.querySelectorAll('*')].filter(e => {
      const st = getComputedStyle(e);
      return (/(auto|scroll)/.test(st.overflowX) && e.scrollWidth > e.clientWidth + 1)
          || (/(auto|scroll)/.test(st.overflowY) && e.scrollHeight > e.clientHeight + 1);
    }).map(e => e.tagName.toLowerCase() + '.' + e.className);
    out.push({slide: i + 1, height: s.scrollHeight, width: s.scrollWidth, scrolls: scrolls,
              title: ((s.querySelector('h1, h2') || {}).textContent || '').slice(0, 60)});
  }
  return out;
}"""


@pytest.mark.parametrize("name", NAMES)
def test_every_slide_fits_a_1280x720_screen_offline_without_errors(out_dir, name, browser):
    context = browser.new_context(viewport={"width": slides.SLIDE_W, "height": slides.SLIDE_H})
    outside, errors = [], []

    def route(route):
        if route.request.url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:  # a CDN, a web font a CSS file imports, ...
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", lambda req: req.url.startswith("file:") and errors.append(f"missing: {req.url}"))
    try:
        page.goto((out_dir / f"{name}.slides.html").as_uri(), wait_until="load")
        measured = page.evaluate(MEASURE)
    finally:
        context.close()
    assert not outside, f"{name} asks for files outside the deck: {outside}"
    assert not errors, f"{name}: {errors}"
    too_big = [m for m in measured if m["height"] > slides.SLIDE_H + 1
               or m["width"] > slides.SLIDE_W * 1.02 or m["scrolls"]]
    assert not too_big, f"{name}: slides that do not fit 1280x720: {too_big}"
    assert len(measured) >= 5


# The smallest text of each figure, as a 1280x720 slide shows it (a lecture hall reads 20 px
# from the back rows), and its sharpness: at least 1.5 image pixels per slide pixel, so
# that it stays sharp when the deck fills a 1920x1080 projector.
MIN_SLIDE_FIGURE_TEXT_PX = 20
SLIDE_FIGURE_DENSITY = 1.5

FIGURES = """async () => {
  const out = [], slides = Reveal.getSlides();
  for (let i = 0; i < slides.length; i++) {
    if (!slides[i].classList.contains('figure')) continue;
    Reveal.slide(i);
    await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
    for (const img of slides[i].querySelectorAll('figure img')) {
      await img.decode().catch(() => null);
      const box = img.getBoundingClientRect(), scale = Reveal.getScale();
      // object-fit: contain draws the image as large as its box allows, keeping its shape
      const fit = Math.min(box.width / img.naturalWidth, box.height / img.naturalHeight) / scale;
      out.push({slide: i + 1, src: img.getAttribute('src'), drawn: fit * img.naturalWidth});
    }
  }
  return out;
}"""


def slide_figures(page):
    """[(slide number, png bytes, drawn width in slide px)] of every figure slide of a deck."""
    import base64

    return [(f["slide"], base64.b64decode(f["src"].split(",", 1)[1]), f["drawn"])
            for f in page.evaluate(FIGURES)]


def slide_figure_problems(png, drawn):
    """What makes a figure hard to read on a slide where it is drawn `drawn` px wide."""
    import io

    from PIL import Image

    from helper import DPI_TAG, FONT_TAG

    image = Image.open(io.BytesIO(png))
    if FONT_TAG not in image.info:
        return ["no font-size tag (drawn without importing helper?)"]
    problems = []
    px = float(image.info[FONT_TAG]) * float(image.info[DPI_TAG]) / 72 * drawn / image.width
    if px < MIN_SLIDE_FIGURE_TEXT_PX:
        problems.append(f"{image.info[FONT_TAG]} pt text drawn {px:.1f} px high "
                        f"(at least {MIN_SLIDE_FIGURE_TEXT_PX})")
    if image.width / drawn < SLIDE_FIGURE_DENSITY - 1e-6:
        problems.append(f"{image.width / drawn:.2f} image pixels per slide pixel "
                        f"(at least {SLIDE_FIGURE_DENSITY}: blurred on a projector)")
    return problems


def _figure_deck(tmp_path, png, caption="A caption of one line."):
    import base64

    cell = nbformat.v4.new_code_cell("fig", metadata={"mystnb": {"figure": {"caption": caption}}},
                                     outputs=[nbformat.v4.new_output(
                                         "display_data", data={"image/png": base64.b64encode(png).decode()})])
    path = tmp_path / "09_probe.slides.html"
    path.write_text(small_deck(nbformat.v4.new_markdown_cell("# Probe"), cell), encoding="utf-8")
    slides.copy_assets(tmp_path)
    return path


def _png(size, dpi, points):
    import io

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import helper  # noqa: F401  (tags the PNG)

    fig, ax = plt.subplots(figsize=size, dpi=dpi)
    ax.set_title("planted", fontsize=points)
    ax.tick_params(labelsize=points)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def test_a_planted_tall_1x_figure_fails_on_a_slide_and_a_2x_one_passes(tmp_path, browser):
    tall = _png((6.4, 6.4), 100, 11)  # a 1x figure: a deck shrinks it to stay sharp...
    assert "blurred" in slide_figure_problems(tall, 640)[-1]  # (drawn at its size: blurred)
    page = browser.new_page(viewport={"width": slides.SLIDE_W, "height": slides.SLIDE_H})
    try:
        page.goto(_figure_deck(tmp_path, tall).as_uri())
        (_, png, drawn), = slide_figures(page)
        problems = slide_figure_problems(png, drawn)
        assert len(problems) == 1 and "text drawn" in problems[0]  # ...and its text is small
        page.goto(_figure_deck(tmp_path, _png((7, 3), 200, 13)).as_uri())
        (_, png, drawn), = slide_figures(page)
        assert slide_figure_problems(png, drawn) == []
    finally:
        page.close()


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_is_readable_and_sharp_on_a_slide(out_dir, name, browser):
    page = browser.new_page(viewport={"width": slides.SLIDE_W, "height": slides.SLIDE_H})
    try:
        page.goto((out_dir / f"{name}.slides.html").as_uri(), wait_until="load")
        figures = slide_figures(page)
    finally:
        page.close()
    bad = [f"slide {n} (drawn {drawn:.0f} px wide): {p}"
           for n, png, drawn in figures for p in slide_figure_problems(png, drawn)]
    assert not bad, (f"{name}: figures too small or blurred on a 1280x720 slide (draw 2x PNGs: "
                     "`%config InlineBackend.figure_formats = [\"retina\"]` in the setup cell; "
                     "a figure at most 7 x 5 in at helper.style()'s 13 pt):\n" + "\n".join(bad))
