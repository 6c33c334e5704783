"""Write one reveal.js slide deck per lesson, for a lecture hall, working offline.

    python scripts/slides.py                       # every lesson -> _build/slides/
    python scripts/slides.py --out DIR lessons/01_feedforward_recap.ipynb
    python scripts/slides.py --no-eval             # quicker: {eval} numbers not computed

Open `_build/slides/01_feedforward_recap.slides.html` in a browser (no server, no
network needed); `s` opens the speaker view with the notes, `Esc` the overview, `f` full
screen.

A deck is a lecture made from the saved (executed) notebook, on a 1280x720 slide:

- One idea a slide. A cell's `slideshow` metadata starts a slide (`slide`, `subslide`),
  makes it appear step by step (`fragment`), sends it to the notes (`notes`) or leaves it
  out (`skip`); and every heading starts a slide. On top of that, a slide holds only what
  fits: the markdown is cut at its paragraphs, lists and equations (an estimate of each
  block's height decides; the section's title repeats on the next slide), a paragraph
  too long for one slide is cut at a sentence, and list items appear one by one.
- Figures large, each on its own slide, with its caption (the cell's
  `mystnb.figure.caption`) and alt text (`mystnb.image.alt`): as large as the slide
  allows, but never past 1/1.5 of its pixels (the lessons' figures are 2x PNGs, so they
  stay sharp on a 1920x1080 projector); a tall figure has its title and caption beside it. A widget shows the figure
  it was saved with (from the notebook's widget state), with a note that it moves in
  JupyterLab; no widget code runs in the deck.
- Code only where the code is the point: a code cell tagged `slide-code` is shown
  (highlighted, 22 px); any other code goes to the speaker notes, as do long outputs,
  MyST notes/tips ("The controls below need a running Python kernel...") and `notes`
  cells. A short text output (the numbers a cell prints) stays on the slide.
- No solution: cells tagged `solution` and the exercise answer cells (`### BEGIN
  SOLUTION`) are left out, notes included; code the website hides (`hide-input`,
  `remove-*`) is left out too. Exercise prompts are shown, numbered like the website's
  ("Exercise 1.2").
- Numbers the prose computes (MyST's `{eval}` role) are the website's: `make book` keeps
  each value it showed in `_build/evals/` (scripts/eval_record.py), so a deck runs no code.
  A lesson changed since the last build is run in a kernel here instead, as the website
  does (`--no-eval` shows the expression instead).

Everything a deck loads (reveal.js with its white theme and its local Source Sans Pro
font, the notes plugin, MathJax 3 with its fonts inside) is copied from node_modules
(`npm ci`, pinned in package.json) next to the decks and referenced by a relative path:
no CDN, no web font, no widget manager. Decks for new lessons appear by themselves
(lessons/*.ipynb).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import re
import shutil
import sys
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.amsmath import amsmath_plugin
from mdit_py_plugins.colon_fence import colon_fence_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
NODE = ROOT / "node_modules"

# What a deck loads: (file or folder in node_modules, where it goes under the output folder).
ASSETS = [
    ("reveal.js/dist/reset.css", "reveal.js/dist/reset.css"),
    ("reveal.js/dist/reveal.css", "reveal.js/dist/reveal.css"),
    ("reveal.js/dist/reveal.js", "reveal.js/dist/reveal.js"),
    ("reveal.js/dist/theme/white.css", "reveal.js/dist/theme/white.css"),  # no web fonts
    ("reveal.js/dist/theme/fonts/source-sans-pro", "reveal.js/dist/theme/fonts/source-sans-pro"),
    ("reveal.js/plugin/notes/notes.js", "reveal.js/plugin/notes/notes.js"),
    ("mathjax/es5/tex-svg-full.js", "mathjax/tex-svg-full.js"),  # one file: SVG fonts inside
]

SLIDE_W, SLIDE_H = 1280, 720
# The height estimate, in lines of body text (30 px font, 1.3 line height, about 80
# characters a line): what fits under a slide title with a margin for the estimate's error.
BUDGET = 12.0
CHARS_PER_LINE = 78
SHOWN_OUTPUT_LINES = 10  # a longer text output goes to the notes
SHOWN_OUTPUT_WIDTH = 90
SLIDE_CODE_TAG = "slide-code"
NOTE_DIRECTIVES = {"note", "tip", "hint", "important", "warning", "caution", "attention",
                   "danger", "error", "seealso", "admonition", "margin"}

ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<text>[^`]*)`")


# -- markdown ---------------------------------------------------------------------------

def _markdown():
    md = (MarkdownIt("commonmark", {"html": True}).enable("table")
          .use(colon_fence_plugin).use(amsmath_plugin).use(dollarmath_plugin, double_inline=True))
    esc = html.escape
    md.add_render_rule("math_inline", lambda self, t, i, o, e: f"\\({esc(t[i].content)}\\)")
    md.add_render_rule("math_inline_double", lambda self, t, i, o, e: f"\\[{esc(t[i].content)}\\]")
    md.add_render_rule("math_block", lambda self, t, i, o, e:
                       f'<div class="math">\\[{esc(t[i].content)}\\]</div>\n')
    md.add_render_rule("math_block_label", lambda self, t, i, o, e:
                       f'<div class="math">\\[{esc(t[i].content)}\\]</div>\n')
    md.add_render_rule("amsmath", lambda self, t, i, o, e: f'<div class="math">{esc(t[i].content)}</div>\n')
    return md


MD = _markdown()


def _link(match):
    """A link in a deck: a lesson's notebook becomes its deck; a page the deck folder does not
    hold (the notation page, ...) becomes plain text; web links stay."""
    href, text = match.group(1), match.group(2)
    if re.match(r"[a-z][a-z0-9+.-]*:|#", href):
        return match.group(0)
    lesson = re.fullmatch(r"(?:\./)?(\d\d_[\w-]+)\.ipynb(#.*)?", href)
    if lesson:
        return f'<a href="{lesson.group(1)}.slides.html">{text}</a>'
    return text


def render(markdown):
    return re.sub(r'<a href="([^"]*)"[^>]*>(.*?)</a>', _link, MD.render(markdown).strip(), flags=re.S)


def _role(match, values):
    name, text = match["name"], match["text"]
    if name == "eval":
        value = values.get(text)
        return html.escape(value) if value is not None else f"`{text}`"
    if name == "math":
        return f"${text}$"
    shown = re.match(r"(?s)(.*?)\s*<[^<>]*>$", text)  # {ref}`the text <label>`
    if shown:
        return shown[1]
    return f"({text})" if name == "eq" else text


def replace_roles(markdown, values=None):
    """MyST roles as plain markdown: {eval} by its value, {ref}`text <x>` by its text."""
    return ROLE.sub(lambda m: _role(m, values or {}), markdown)


def plain_length(markdown):
    """About how many characters a rendered block shows (markup and TeX commands cut)."""
    text = re.sub(r"\\[a-zA-Z]+|[{}_^$*`|]", "", markdown)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return len(" ".join(text.split()))


def blocks(markdown):
    """The top-level blocks of a markdown text: [(kind, source, info)]."""
    lines = markdown.split("\n")
    out = []
    for token in MD.parse(markdown):
        if token.level != 0 or token.nesting < 0 or not token.map:
            continue
        start, end = token.map
        source = "\n".join(lines[start:end]).strip("\n")
        kind = token.type.replace("_open", "")
        out.append((kind, source, token.info.strip() if token.info else ""))
    return out


def directive(info, source):
    """(name, argument, body) of a MyST directive in a ``` or ::: fence, else None."""
    match = re.match(r"\{([\w-]+)\}\s*(.*)", info)
    if not match:
        return None
    body = re.sub(r"^(`{3,}|:{3,})[^\n]*\n", "", source, count=1)
    body = re.sub(r"\n?(`{3,}|:{3,})\s*$", "", body)
    body = re.sub(r"^(?:[ \t]*:[\w-]+:[^\n]*\n)+", "", body)  # :label: ..., :class: ...
    return match.group(1), match.group(2).strip(), body.strip("\n")


def estimate(kind, source):
    """Lines of body text a block takes on a slide (an estimate: the browser test measures)."""
    if kind == "heading":
        return 0.0
    if kind in ("bullet_list", "ordered_list"):
        items = re.split(r"\n(?=\s{0,3}(?:[-*+]|\d+[.)])\s)", source)
        return sum(math.ceil(max(plain_length(i), 1) / (CHARS_PER_LINE - 4)) for i in items) + 0.3 * len(items) + 0.4
    if kind in ("math_block", "math_block_label", "amsmath"):
        rows = source.count("\\\\") + 1
        tall = len(re.findall(r"\\(?:frac|sum|prod|int|begin\{pmatrix|Big|big)", source))
        return 1.0 + rows * (1.6 if tall else 1.2) + 0.3
    if kind == "table":
        return 1.2 * len([l for l in source.splitlines() if l.strip().startswith("|")]) + 0.4
    if kind in ("fence", "code_block"):
        return 0.8 * (source.count("\n") + 1) + 0.6
    return math.ceil(max(plain_length(source), 1) / CHARS_PER_LINE) * 1.0 + 0.5


def split_sentences(paragraph, budget):
    """A paragraph too long for a slide, cut at sentence ends into pieces that fit."""
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z(])", paragraph)
    pieces, current = [], ""
    for sentence in sentences:
        candidate = f"{current} {sentence}".strip()
        if current and estimate("paragraph", candidate) > budget:
            pieces.append(current)
            current = sentence
        else:
            current = candidate
    return pieces + ([current] if current else [])


# -- the deck -----------------------------------------------------------------------------

class Slide:
    def __init__(self, title=None, kind="content", heading=False):
        self.title, self.kind, self.heading = title, kind, heading
        self.items = []  # (html, cost, fragment)
        self.notes = []  # html
        self.cost = 0.0

    def add(self, html_text, cost, fragment=False):
        self.items.append((html_text, cost, fragment))
        self.cost += cost

    def html(self):
        parts = []
        if self.title:
            tag = "h1" if self.kind == "title" else "h2"
            parts.append(f"<{tag}>{self.title}</{tag}>")
        for text, _, fragment in self.items:
            parts.append(f'<div class="fragment">{text}</div>' if fragment else text)
        body = "\n".join(parts)
        if self.kind == "figure":  # a column as high as the slide: the image takes what is left
            body = f'<div class="fill">{body}</div>'
        if self.notes:
            body += '\n<aside class="notes">' + "\n".join(self.notes) + "</aside>"
        return f'<section class="{self.kind}">\n{body}\n</section>'


_ENDS_WITH_COLON = re.compile(r":(\s*</(?:p|li|ul|ol|div)>)*\s*$")
OBJECT_REPR = re.compile(r"<[\w.]+( object)? at 0x[0-9a-fA-F]+>")


def _no_dangling_colon(slides):
    """A slide whose last text ends with a colon introduces something that is not on it
    (a table or output sent to the notes, a figure on the next slide): say where it is."""
    for index, slide in enumerate(slides):
        if not slide.items:
            continue
        text, cost, fragment = slide.items[-1]
        if not _ENDS_WITH_COLON.search(text):
            continue
        following = slides[index + 1] if index + 1 < len(slides) else None
        where = (" (next slide)." if following is not None and following.kind == "figure"
                 else " (in the speaker notes)." if slide.notes else ".")
        slide.items[-1] = (_ENDS_WITH_COLON.sub(lambda m: where + (m.group(0)[1:]), text), cost, fragment)


def lesson_title(nb):
    """The text of the lesson's first `# ` heading ('Feedforward networks, a recap')."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def lesson_number(path):
    match = re.match(r"(\d+)_", Path(path).name)
    return int(match.group(1)) if match else None


def is_solution(cell):
    return "solution" in cell.metadata.get("tags", []) or "BEGIN SOLUTION" in cell.source


def _pre(text, cls="output"):
    return f'<pre class="{cls}">{html.escape(text)}</pre>'


def _code_html(source):
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass="code"))


def _widget_images(nb, model_id):
    """The saved images (base64 PNG) a widget view shows, from the notebook's widget state."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    images, seen, todo = [], set(), [model_id]
    while todo:
        mid = todo.pop(0)
        if mid in seen or mid not in state:
            continue
        seen.add(mid)
        model = state[mid]
        for out in model.get("state", {}).get("outputs", []) or []:
            png = out.get("data", {}).get("image/png")
            if png:
                images.append(png if isinstance(png, str) else "".join(png))
        todo += re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(model.get("state", {})))
    return images


# A figure slide: the image as large as the slide allows, but never more than its pixels
# allow, so that it stays sharp when the deck fills a 1920x1080 projector (a 2x figure
# from the book is drawn at most 1.33 times its size on the page). A wide figure has the
# section title above it and the caption below; a tall one has both in a column beside it
# (whichever draws the image larger).
FIGURE_DENSITY = 1.5
FILL_H = 690  # px: the slide's height within reveal.js's margin
TITLE_H, CAPTION_LINE_H, CAPTION_CHARS = 44, 27.5, 110
SIDE_W = 300  # px: the column beside a tall figure


def image_size(data):
    """(width, height) of a base64 PNG or JPEG, from its header; None if unknown."""
    import base64
    import struct

    head = base64.b64decode(data.strip()[:64] + "=" * (-len(data.strip()[:64]) % 4))
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    return None


def figure_layout(width, height, caption):
    """'side' or 'below': where a figure's title and caption go on its slide."""
    lines = max(1, math.ceil(plain_length(caption) / CAPTION_CHARS))
    below_h = FILL_H - TITLE_H - 6 - lines * CAPTION_LINE_H
    below = min(SLIDE_W / width, below_h / height, 1 / FIGURE_DENSITY)
    side = min((SLIDE_W - SIDE_W - 24) / width, FILL_H / height, 1 / FIGURE_DENSITY)
    return "side" if side > 1.05 * below else "below"


class DeckBuilder:
    def __init__(self, nb, path, values=None, course_title=None):
        self.nb, self.path, self.values = nb, Path(path), values or {}
        self.number = lesson_number(path)
        self.course_title = course_title
        self.slides = []
        self.section = None  # the current section title (HTML)
        self.exercise = 0

    # slides
    def new_slide(self, title=None, kind="content", heading=False):
        """A new slide; an empty content slide is reused (no empty slide is left behind)."""
        title = title if title is not None else self.section
        if self.slides and not self.current.items and self.current.kind == "content":
            slide = self.current
            slide.title, slide.kind, slide.heading = title, kind, heading
            return slide
        slide = Slide(title, kind, heading)
        self.slides.append(slide)
        return slide

    @property
    def current(self):
        return self.slides[-1] if self.slides else self.new_slide()

    def room(self, cost):
        slide = self.current
        return slide.kind == "content" and (slide.cost + cost <= BUDGET or not slide.items)

    def place(self, text, cost, fragment=False):
        if not self.room(cost):
            self.new_slide()
        self.current.add(text, cost, fragment)

    def note(self, text):
        self.current.notes.append(text)

    # cells
    def markdown_cell(self, cell, fragment, to_notes):
        source = replace_roles(cell.source, self.values.get(id(cell)))
        parts = blocks(source)
        for index, (kind, block, info) in enumerate(parts):
            following = parts[index + 1] if index + 1 < len(parts) else None
            if kind == "paragraph" and block.rstrip().endswith(":") and following \
                    and not to_notes and following[0] in ("bullet_list", "ordered_list", "math_block", "amsmath"):
                # an introduction stays with the start of what it introduces
                first = re.split(r"\n(?=\s{0,3}(?:[-*+]|\d+[.)])\s)", following[1])[0]
                if not self.room(estimate(kind, block) + estimate(following[0], first)):
                    self.new_slide()
            if to_notes:
                self.note(render(block))
                continue
            if kind == "heading":
                level = len(re.match(r"#+", block).group(0))
                text = render(block.lstrip("#").strip()).removeprefix("<p>").removesuffix("</p>")
                if level == 1:
                    slide = self.new_slide(text, kind="title")
                    self.current.add(f'<p class="subtitle">{"Lesson " + str(self.number) if self.number else ""}'
                                     f'{" · " + html.escape(self.course_title) if self.course_title else ""}</p>', 0)
                    self.section = text
                    slide.cost = BUDGET  # nothing else on the title slide
                else:
                    self.section = text
                    self.new_slide(heading=True)
                continue
            name = directive(info, block) if kind in ("fence", "colon_fence") else None
            if name:
                self.directive(*name, fragment)
                continue
            if kind in ("bullet_list", "ordered_list"):
                self.list_block(kind, block)
                continue
            cost = estimate(kind, block)
            if kind == "paragraph" and cost > BUDGET:
                for piece in split_sentences(block, BUDGET - 1):
                    self.place(render(piece), estimate("paragraph", piece), fragment)
                continue
            self.place(render(block), cost, fragment)

    def list_block(self, kind, block):
        """A list, its items appearing one by one, cut where a slide is full."""
        rendered = MD.render(block)
        tag = "ol" if kind == "ordered_list" else "ul"
        items = re.findall(r"<li>(.*?)</li>\n(?=<li>|</[ou]l>)", rendered, re.S)
        sources = re.split(r"\n(?=\s{0,3}(?:[-*+]|\d+[.)])\s)", block)
        if len(items) != len(sources):  # nested lists: one block
            self.place(rendered, estimate(kind, block), fragment=False)
            return
        costs = [estimate(kind, src) - 0.4 for src in sources]
        if not self.room(0.4 + costs[0]):
            self.new_slide()
        start, group, cost = 1, [], 0.4
        for item, item_cost in zip(items, costs):
            if group and not self.room(cost + item_cost):
                self.current.add(self._list_html(tag, group, start), cost)
                start, group, cost = start + len(group), [], 0.4
                self.new_slide()
            group.append(item)
            cost += item_cost
        if group:
            self.current.add(self._list_html(tag, group, start), cost)

    @staticmethod
    def _list_html(tag, group, start):
        lis = "".join(f'<li class="fragment">{item}</li>' for item in group)
        attr = f' start="{start}"' if tag == "ol" and start != 1 else ""
        return f"<{tag}{attr}>{lis}</{tag}>"

    def directive(self, name, arg, body, fragment):
        if name == "exercise":
            self.exercise += 1
            label = f"{self.number}.{self.exercise}" if self.number else str(self.exercise)
            title = f"Exercise {label}" + (f": {render(arg).removeprefix('<p>').removesuffix('</p>')}" if arg else "")
            slide = self.new_slide(title)
            slide.kind = "content"
            for kind, block, info in blocks(body):
                self.place(render(block), estimate(kind, block))
            return
        if name in NOTE_DIRECTIVES:
            self.note(f"<p><strong>{html.escape(name.capitalize())}</strong></p>" + render(body))
            return
        if name == "math":
            self.place(f'<div class="math">\\[{html.escape(body)}\\]</div>', estimate("math_block", body), fragment)
            return
        for kind, block, _ in blocks(body):  # figure, ...: what a reader sees
            self.place(render(block), estimate(kind, block), fragment)

    def code_cell(self, cell, fragment, to_notes):
        tags = set(cell.metadata.get("tags", []))
        show_input = not tags & {"hide-input", "remove-input"}
        if show_input and cell.source.strip():
            if SLIDE_CODE_TAG in tags and not to_notes:
                lines = cell.source.count("\n") + 1
                self.place(_code_html(cell.source), 0.8 * lines + 0.6, fragment)
            else:
                self.note(_pre(cell.source, "code"))
        if "remove-output" in tags:
            return
        figure = cell.metadata.get("mystnb", {})
        caption = figure.get("figure", {}).get("caption")
        alt = figure.get("image", {}).get("alt", "") or (caption or "figure")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if out.output_type == "stream":
                if out.get("name") == "stdout":
                    self.text_output(out.text, to_notes)
            elif out.output_type in ("execute_result", "display_data"):
                if "image/png" in data or "image/jpeg" in data:
                    mime = "image/png" if "image/png" in data else "image/jpeg"
                    self.figure(data[mime], mime, caption, alt, to_notes)
                elif "application/vnd.jupyter.widget-view+json" in data:
                    model = data["application/vnd.jupyter.widget-view+json"].get("model_id")
                    images = _widget_images(self.nb, model)
                    for png in images:
                        self.figure(png, "image/png", caption, alt, to_notes,
                                    remark="Interactive in JupyterLab (make lab): this is the state it was saved in.")
                    if not images:
                        self.place('<p class="remark">Interactive in JupyterLab (make lab).</p>', 1.0)
                elif "static-explorer-figure" in "".join(data.get("text/html", "")):
                    # A static explorer (helper.static_explorer): its first figure, not its repr.
                    page = "".join(data["text/html"])
                    first = re.search(r'class="static-explorer-figure" src="data:(image/\w+);base64,([^"]+)"', page)
                    if first:
                        self.figure(first.group(2), first.group(1), caption, alt, to_notes,
                                    remark="Its sliders switch between saved settings on the website; in JupyterLab (make lab) it is live.")
                elif "text/markdown" in data:
                    self.place(render(data["text/markdown"]), 1.2, fragment) if not to_notes \
                        else self.note(render(data["text/markdown"]))
                elif "text/plain" in data and not OBJECT_REPR.fullmatch("".join(data["text/plain"]).strip()):
                    self.text_output(data["text/plain"], to_notes)

    def text_output(self, text, to_notes):
        text = text.rstrip("\n")
        lines = text.split("\n")
        if not text.strip():
            return
        if to_notes or len(lines) > SHOWN_OUTPUT_LINES or max(map(len, lines)) > SHOWN_OUTPUT_WIDTH:
            self.note(_pre(text))
        else:
            self.place(_pre(text), 0.8 * len(lines) + 0.6)

    def figure(self, data, mime, caption, alt, to_notes, remark=None):
        data = data if isinstance(data, str) else "".join(data)
        if to_notes:
            return
        size = image_size(data)
        side = size is not None and figure_layout(*size, caption or "") == "side"
        style = ""
        if size:  # never drawn larger than its pixels allow (see FIGURE_DENSITY)
            style = (f' style="max-width: {math.floor(size[0] / FIGURE_DENSITY)}px; '
                     f'max-height: {math.floor(size[1] / FIGURE_DENSITY)}px"')
        img = f'<img src="data:{mime};base64,{data.strip()}" alt="{html.escape(alt, quote=True)}"{style}>'
        slide = self.new_slide(kind="figure")
        text = ""
        if caption:
            text = render(replace_roles(caption)).removeprefix("<p>").removesuffix("</p>")
        if remark:
            text += f' <span class="remark">{html.escape(remark)}</span>'
        if side:  # a tall figure: the title and caption beside it, the image as high as the slide
            title, slide.title = slide.title, None
            heading = f"<h2>{title}</h2>" if title else ""
            slide.add(f'<figure class="side">{img}<div class="side-text">{heading}'
                      f'<figcaption>{text}</figcaption></div></figure>', BUDGET)
        else:
            slide.add(f'<figure>{img}<figcaption>{text}</figcaption></figure>', BUDGET)

    def build(self):
        for cell in self.nb.cells:
            slide_type = cell.metadata.get("slideshow", {}).get("slide_type", "-")
            tags = set(cell.metadata.get("tags", []))
            if slide_type == "skip" or is_solution(cell) or tags & {"remove-cell"}:
                continue
            if slide_type in ("slide", "subslide") and self.slides and self.current.items:
                self.new_slide()
            fragment, to_notes = slide_type == "fragment", slide_type == "notes"
            if cell.cell_type == "markdown":
                self.markdown_cell(cell, fragment, to_notes)
            elif cell.cell_type == "code":
                self.code_cell(cell, fragment, to_notes)
        slides = [s for s in self.slides if s.items or s.kind == "title" or s.heading]
        _no_dangling_colon(slides)
        return slides


# -- {eval}: run the lesson as the website does ---------------------------------------------

def evaluate_roles(nb, path, timeout=300):
    """{id(markdown cell): {expression: text}} for every {eval} role, computed by running the
    lesson's code cells in order in a fresh kernel, each markdown cell's expressions when the
    cells above it have run (MyST-NB's inline mode). An expression that fails shows as code."""
    wanted = {id(c): re.findall(r"\{eval\}`([^`]*)`", c.source) for c in nb.cells if c.cell_type == "markdown"}
    if not any(wanted.values()):
        return {}
    from nbclient import NotebookClient

    run = nbformat.from_dict(nb)
    run.cells.append(nbformat.v4.new_code_cell(""))
    scratch = len(run.cells) - 1
    client = NotebookClient(run, timeout=timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    values = {}
    with client.setup_kernel():
        for index, (original, cell) in enumerate(zip(nb.cells, run.cells[:scratch])):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
                continue
            for expression in wanted.get(id(original), []):
                probe = nbformat.v4.new_code_cell(expression)
                client.execute_cell(probe, scratch, store_history=False)
                shown = [o.get("data", {}) for o in probe.outputs if o.output_type == "execute_result"]
                if shown:
                    text = shown[0].get("text/plain", "")
                    values.setdefault(id(original), {})[expression] = text.strip("'\"") \
                        if re.fullmatch(r"'[^']*'|\"[^\"]*\"", text) else text
    return values


def _eval_record():
    import importlib.util

    spec = importlib.util.spec_from_file_location("eval_record", Path(__file__).resolve().parent / "eval_record.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


recorded_values = _eval_record().recorded_values  # the book build's {eval} values


# -- HTML -----------------------------------------------------------------------------------

CSS = """
.reveal { font-size: 30px; }
.reveal .slides section { text-align: left; height: 100%; }
.reveal .slides section.title { text-align: center; }
.reveal h1 { font-size: 64px; margin-top: 180px; }
.reveal h2 { font-size: 42px; margin: 0 0 18px; }
.reveal .subtitle { color: #555; font-size: 28px; }
.reveal p, .reveal li { line-height: 1.3; }
.reveal ul, .reveal ol { margin-left: 1.2em; display: block; }
.reveal table { font-size: 26px; margin: 0.3em 0; }
.reveal .math { font-size: 30px; margin: 0.3em 0; }
.reveal mjx-container[display="true"] { margin: 0.2em 0 !important; }
.reveal pre { width: 100%; box-shadow: none; margin: 0.3em 0; font-size: 22px; line-height: 1.25; }
.reveal pre.output { background: #f6f6f6; padding: 6px 10px; }
.reveal .code pre { background: #f6f8fa; padding: 8px 12px; }
.reveal code { font-size: 0.9em; }
.reveal h1, .reveal h2 { text-transform: none; }
.reveal pre, .reveal .math { box-sizing: border-box; }
.reveal .fill { display: flex; flex-direction: column; height: 690px; }
.reveal section.figure h2 { font-size: 30px; margin-bottom: 8px; color: #555; }
.reveal figure { flex: 1 1 auto; min-height: 0; display: flex; flex-direction: column; margin: 0; }
.reveal figure img { flex: 1 1 auto; min-height: 0; max-width: 100%; object-fit: contain; margin: 0; }
.reveal figcaption { font-size: 22px; line-height: 1.25; color: #333; margin-top: 6px; }
.reveal figure:not(.side) img { align-self: center; }
.reveal figure.side { flex-direction: row; gap: 24px; height: 100%; }
.reveal figure.side img { min-width: 0; max-height: 100%; }
.reveal figure.side .side-text { flex: 0 0 300px; align-self: center; }
.reveal figure.side h2 { font-size: 30px; margin-bottom: 12px; color: #555; }
.reveal .remark { color: #777; font-style: italic; font-size: 22px; }
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title} slides</title>
<link rel="stylesheet" href="reveal.js/dist/reset.css">
<link rel="stylesheet" href="reveal.js/dist/reveal.css">
<link rel="stylesheet" href="reveal.js/dist/theme/white.css">
<style>{css}
{pygments}</style>
<script>
window.MathJax = {{
  tex: {{inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']], processEnvironments: true, tags: 'ams'}},
  svg: {{fontCache: 'global'}},
  options: {{enableMenu: false}}
}};
</script>
<script src="mathjax/tex-svg-full.js"></script>
</head>
<body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="reveal.js/dist/reveal.js"></script>
<script src="reveal.js/plugin/notes/notes.js"></script>
<script>
// A display equation wider than the slide is set smaller until it fits (down to 55 %).
function fitMath(slide) {{
  (slide || document).querySelectorAll('.math').forEach(function (el) {{
    el.style.fontSize = '';
    if (el.clientWidth && el.scrollWidth > el.clientWidth) {{
      el.style.fontSize = Math.max(0.55, 0.98 * el.clientWidth / el.scrollWidth) * 30 + 'px';
    }}
  }});
}}
Reveal.on('ready', function (e) {{ MathJax.startup.promise.then(function () {{ fitMath(e.currentSlide); }}); }});
Reveal.on('slidechanged', function (e) {{ MathJax.startup.promise.then(function () {{ fitMath(e.currentSlide); }}); }});
Reveal.initialize({{
  width: {width}, height: {height}, margin: 0.04, center: false, hash: true,
  controls: true, progress: true, slideNumber: 'c/t', transition: 'none',
  plugins: [RevealNotes]
}});
</script>
</body>
</html>
"""


def deck_html(nb, path, values=None, course_title=None):
    """The deck of one lesson notebook (a NotebookNode), as HTML text."""
    slides = DeckBuilder(nb, path, values, course_title).build()
    title = html.escape(lesson_title(nb) or Path(path).stem)
    return TEMPLATE.format(title=title, css=CSS, pygments=HtmlFormatter(cssclass="code").get_style_defs(".code"),
                           slides="\n".join(s.html() for s in slides), width=SLIDE_W, height=SLIDE_H)


def copy_assets(out_dir):
    """Copy what the decks load from node_modules into out_dir."""
    if not (NODE / "reveal.js" / "dist" / "reveal.js").exists():
        raise SystemExit("node_modules/ is missing or incomplete: run `npm ci` (`make slides` does)")
    for src, dst in ASSETS:
        src, dst = NODE / src, out_dir / dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(src, dst)


EVALS = ROOT / "_build" / "evals"  # the book build's {eval} values (scripts/eval_record.py)


def build(notebooks, out_dir, evaluate=True, evals_dir=EVALS):
    """Write one deck per notebook (paths) into out_dir, with its assets; return the decks.
    The {eval} numbers come from the last `make book` when it built this very notebook;
    otherwise the lesson runs in a kernel here (slower), or shows its expressions when
    `evaluate` is False."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = (ROOT / "_config.yml").read_text() if (ROOT / "_config.yml").exists() else ""
    course = re.search(r'^title:\s*"?(.*?)"?\s*$', config, re.M)
    decks = []
    for path in map(Path, notebooks):
        nb = nbformat.read(path, as_version=4)
        values = recorded_values(nb, path, evals_dir) if evaluate else {}
        if values is None:
            print(f"{path.name}: not built by `make book` as it is now; running it for its numbers")
            values = evaluate_roles(nb, path)
        deck = out_dir / f"{path.stem}.slides.html"
        deck.write_text(deck_html(nb, path, values, course.group(1) if course else None), encoding="utf-8")
        decks.append(deck)
    copy_assets(out_dir)
    return decks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "slides")
    parser.add_argument("--no-eval", dest="evaluate", action="store_false",
                        help="do not run the lessons: show {eval} expressions, not their values")
    args = parser.parse_args(argv)
    for deck in build(args.notebooks or sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")), args.out, args.evaluate):
        print(f"wrote {deck}")


if __name__ == "__main__":
    sys.exit(main())
