"""The slide decks (`make slides`, scripts/slides.py): one per lesson, with its title and its
figures, no solutions, and nothing loaded from the network. Built here into a temporary
folder (needs node_modules: `npm ci`)."""

import importlib.util
import re
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "lessons").glob("*.ipynb"))
NAMES = [p.stem for p in LESSONS]

spec = importlib.util.spec_from_file_location("slides", ROOT / "scripts" / "slides.py")
slides = importlib.util.module_from_spec(spec)
spec.loader.exec_module(slides)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    slides.build(LESSONS, out)
    return out


def deck(out_dir, name):
    return (out_dir / f"{name}.slides.html").read_text(encoding="utf-8")


def on_slides(cell):
    """Whether a lesson cell is shown in the deck (CONTRIBUTING.md, "Slides")."""
    tags = cell.metadata.get("tags", [])
    return (cell.metadata.get("slideshow", {}).get("slide_type") not in ("skip", "notes")
            and not {"solution", "remove-cell", "remove-output"} & set(tags)
            and "BEGIN SOLUTION" not in cell.source)


def test_one_deck_per_lesson(out_dir):
    assert sorted(p.name for p in out_dir.glob("*.slides.html")) == [f"{n}.slides.html" for n in NAMES]


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_deck_shows_the_lesson_title(out_dir, path):
    title = slides.lesson_title(nbformat.read(path, 4))
    assert title, f"{path.name} has no '# N. Title' heading"
    html = deck(out_dir, path.stem)
    assert f"<title>{title} slides</title>" in html.replace("&#39;", "'")
    assert re.search(r"<h1[^>]*>\s*" + re.escape(title), html.replace("&#39;", "'"))


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_deck_contains_every_figure_of_its_slides(out_dir, path):
    nb = nbformat.read(path, 4)
    figures = sum(1 for cell in nb.cells if cell.cell_type == "code" and on_slides(cell)
                  for out in cell.get("outputs", [])
                  if {"image/png", "image/jpeg"} & set(out.get("data", {})))
    images = re.findall(r"<img[^>]*\bsrc=\"data:image/(?:png|jpeg)", deck(out_dir, path.stem))
    assert len(images) == figures


@pytest.mark.parametrize("name", NAMES)
def test_deck_loads_nothing_from_the_network(out_dir, name):
    html = re.sub(r"<a\s[^>]*>", "<a>", deck(out_dir, name))  # a link the reader may follow is fine
    external = r"(?:https?:)?//[\w.-]+\.\w+"
    loads = (re.findall(rf"\b(?:src|href)\s*=\s*[\"']?({external}[^\"'\s>]*)", html)
             + re.findall(rf"url\(\s*[\"']?({external}[^)\"']*)", html)
             + re.findall(rf"@import\s+[\"']({external}[^\"']*)", html)
             + re.findall(rf"[\"']({external}[^\"']*\.(?:m?js|css)(?:\?[^\"']*)?)[\"']", html))
    assert not loads, f"{name} loads from the network: {sorted(set(loads))}"


@pytest.mark.parametrize("name", NAMES)
def test_every_file_a_deck_loads_is_next_to_it(out_dir, name):
    html = deck(out_dir, name)
    local = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"#:]+)\"", html)
    local += [f"{prefix}/dist/reveal.js" for prefix in re.findall(r"\"([^\"]+)/dist/reveal\.js\"", html)]
    local += re.findall(r"widgetRendererSrc = '([^':]+)'", html)
    assert any(path.endswith("reveal.css") for path in local)
    missing = [path for path in local if not (out_dir / unquote(path)).is_file()]
    assert not missing, f"{name} loads files that are not in the build: {missing}"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_deck_hides_the_solutions(out_dir, path):
    html = deck(out_dir, path.stem)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "solution-start", "solution-end"):
        assert marker not in html
    nb = nbformat.read(path, 4)
    shown = {line.strip() for cell in nb.cells if on_slides(cell) for line in cell.source.splitlines()}
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []) or "BEGIN SOLUTION" in cell.source:
            for line in cell.source.splitlines():
                line = line.strip()
                # A distinctive code line of a solution (HTML escaping aside) must not show.
                if len(line) > 25 and line not in shown and re.fullmatch(r"[\w ,.=()\[\]*+/-]+", line):
                    assert line not in html, f"{path.name}: solution line on a slide: {line}"


@pytest.mark.parametrize("path", LESSONS, ids=NAMES)
def test_the_title_and_every_section_start_a_slide(path):
    for cell in nbformat.read(path, 4).cells:
        heading = cell.source.lstrip().split("\n", 1)[0]
        if cell.cell_type == "markdown" and re.match(r"##? ", heading):
            slide_type = cell.metadata.get("slideshow", {}).get("slide_type")
            assert slide_type == "slide", f"{path.name}: {heading!r} is {slide_type!r}, not a slide"


def test_myst_directives_become_markdown_a_slide_can_show():
    md = slides.MystToMarkdown()
    cell = nbformat.v4.new_markdown_cell(
        "```{exercise} Count\n:label: ex-01-count\n\nHow many?\n```\n\n"
        ":::{note}\nRun `make lab`.\n:::\n\nSee {ref}`the figure <fig-01>` and {math}`x_t`.")
    md.preprocess_cell(cell, {}, 0)
    assert cell.source == ("**Exercise: Count**\n\nHow many?\n\n> **Note**\n>\n> Run `make lab`.\n\n"
                           "See the figure and $x_t$.")
