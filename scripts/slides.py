"""Write one reveal.js slide deck per lesson, working offline like the website.

    python scripts/slides.py                       # every lesson -> _build/slides/
    python scripts/slides.py --out DIR lessons/01_feedforward_recap.ipynb

Open `_build/slides/01_feedforward_recap.slides.html` in a browser (no server, no
network needed); `s` opens the speaker view, `Esc` the overview.

The decks are made by nbconvert's SlidesExporter from the saved (executed) notebooks:
a cell's slide type comes from its `slideshow` metadata (CONTRIBUTING.md, "Slides").
Before export, the exercise solutions go: the cells tagged `solution`
(TagRemovePreprocessor) and the answer cells holding `### BEGIN SOLUTION`
(RegexRemovePreprocessor); code the website hides (`hide-input`, `remove-*` tags) is
hidden too. MyST directives (`{exercise}`, `{note}`, ...), which only the
website renders, become plain markdown a slide can show.

Everything a deck loads (reveal.js, MathJax 3, require.js, jQuery, Font Awesome and,
for decks with saved widgets, the widget manager) is copied from node_modules (`npm ci`,
pinned in package.json) next to the decks and referenced by a relative path; the
template in scripts/templates/reveal_offline drops nbconvert's CDN-only pieces.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter
from nbconvert.preprocessors import Preprocessor, RegexRemovePreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
NODE = ROOT / "node_modules"
TEMPLATES = Path(__file__).resolve().parent / "templates"

# What a deck loads: (file or folder in node_modules, where it goes under the output
# folder). The exporter's URLs below point at these relative paths.
ASSETS = [
    ("reveal.js/dist", "reveal.js/dist"),
    ("reveal.js/plugin/notes", "reveal.js/plugin/notes"),
    ("font-awesome/css", "font-awesome/css"),
    ("font-awesome/fonts", "font-awesome/fonts"),
    ("mathjax/es5/tex-svg-full.js", "mathjax/tex-svg-full.js"),  # one file: SVG fonts inside
    ("requirejs/require.js", "require.js"),
    ("jquery/dist/jquery.min.js", "jquery.min.js"),
]
WIDGET_ASSETS = [("@jupyter-widgets/html-manager/dist", "html-manager")]
EXPORTER_URLS = dict(
    reveal_url_prefix="reveal.js",
    font_awesome_url="font-awesome/css/font-awesome.min.css",
    mathjax_url="mathjax/tex-svg-full.js",
    require_js_url="require.js",
    jquery_url="jquery.min.js",
    widget_renderer_url="html-manager/embed-amd.js",
    jupyter_widgets_base_url="html-manager/",  # unused once widget_renderer_url is set
)

ADMONITIONS = {"note", "tip", "hint", "important", "warning", "caution", "attention",
               "danger", "error", "seealso", "admonition"}
# A MyST directive in a ``` or ::: fence: ```{name} argument / :option: value / body ```
DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>[^\n]*)\n"
    r"(?P<opts>(?:[ \t]*:[\w-]+:[^\n]*\n)*)"
    r"(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<text>[^`]*)`")


def _directive_to_markdown(match):
    name, arg, body = match["name"], match["arg"].strip(), match["body"].strip("\n")
    if name == "exercise":
        return f"**Exercise{': ' + arg if arg else ''}**\n\n{body}"
    if name == "math":
        return f"$$\n{body}\n$$"
    if name in ADMONITIONS:
        title = arg if name == "admonition" else name.capitalize() + (f": {arg}" if arg else "")
        quoted = "\n".join(f"> {line}" if line else ">" for line in body.split("\n"))
        return f"> **{title}**\n>\n{quoted}"
    return body  # figure, margin, ...: keep what a reader sees


def _role_to_markdown(match):
    name, text = match["name"], match["text"]
    if name == "math":
        return f"${text}$"
    shown = re.match(r"(?s)(.*?)\s*<[^<>]*>$", text)  # {ref}`the text <label>`
    if shown:
        return shown[1]
    return f"({text})" if name == "eq" else text


class MystToMarkdown(Preprocessor):
    """Turn MyST directives and roles, which only the website renders, into markdown."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = ROLE.sub(_role_to_markdown, DIRECTIVE.sub(_directive_to_markdown, cell.source))
        return cell, resources


def lesson_title(nb):
    """The text of the lesson's first `# ` heading ('1. Feedforward networks, a recap')."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None


def deck_notebook(nb):
    """The notebook a deck is made from: no solutions, MyST made plain."""
    nb = nbformat.from_dict(nb)  # a copy
    resources = {}
    for pre in (
        TagRemovePreprocessor(
            remove_cell_tags={"solution", "remove-cell"},
            remove_input_tags={"remove-input", "hide-input"},  # as on the website
            remove_all_outputs_tags={"remove-output"},
        ),
        RegexRemovePreprocessor(patterns=[r"(?s:.*)BEGIN SOLUTION"]),
        MystToMarkdown(),
    ):
        pre.enabled = True
        nb, resources = pre.preprocess(nb, resources)
    title = lesson_title(nb)
    if title:
        nb.metadata["title"] = title  # the deck's <title>
    return nb


def copy_assets(out_dir, widgets=False):
    """Copy what the decks load from node_modules into out_dir."""
    if not (NODE / "reveal.js" / "dist" / "reveal.js").exists():
        raise SystemExit("node_modules/ is missing or incomplete: run `npm ci` (`make slides` does)")
    for src, dst in ASSETS + (WIDGET_ASSETS if widgets else []):
        src, dst = NODE / src, out_dir / dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.map"))
        else:
            shutil.copy2(src, dst)


def build(notebooks, out_dir):
    """Write one deck per notebook (paths) into out_dir, with its assets; return the decks."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="reveal_offline",
        embed_images=True,  # markdown images travel inside the deck
        reveal_scroll=True,  # a slide taller than the screen scrolls
        reveal_number="c/t",
        exclude_input_prompt=True,  # "In [12]:" is noise on a slide
        exclude_output_prompt=True,
        **EXPORTER_URLS,
    )
    decks, widgets = [], False
    for path in map(Path, notebooks):
        nb = deck_notebook(nbformat.read(path, as_version=4))
        widgets |= "widgets" in nb.metadata
        html, _ = exporter.from_notebook_node(
            nb, resources={"metadata": {"name": path.stem, "path": str(path.parent)}}
        )
        deck = out_dir / f"{path.stem}.slides.html"
        deck.write_text(html, encoding="utf-8")
        decks.append(deck)
    copy_assets(out_dir, widgets)
    return decks


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: lessons/*.ipynb")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "slides")
    args = parser.parse_args(argv)
    for deck in build(args.notebooks or sorted(LESSONS.glob("*.ipynb")), args.out):
        print(f"wrote {deck}")


if __name__ == "__main__":
    sys.exit(main())
