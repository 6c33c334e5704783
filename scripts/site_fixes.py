"""Sphinx extension with the small fixes the course website needs (see _config.yml).

- Launch buttons only once _config.yml names the repository: _config.yml lists the
  launch services (Binder, Colab, a JupyterHub), but their links need the repository's
  URL; while `repository.url` is empty the book theme would fail the build, so the
  buttons stay off until it is set.
- The theme's light/dark mode defaults to "auto" (follow the reader's system), instead
  of an empty mode the theme's script reports as a console error.
- Every build copies the static files (our CSS, the offline assets): Sphinx copies
  them only when some page is rewritten, so after a change to a CSS file or to
  package-lock.json alone the site kept the old copy; the home page is always
  rewritten now (a fraction of a second).
- Code in dark mode uses GitHub's dark colours (comments grey, not bright yellow).
- Each inline <script> appears once per page: sphinx-thebe 0.3.1 registers its
  configuration script twice under Sphinx 7, and the second copy throws
  "Identifier 'THEBE_JS_URL' has already been declared".
- The page's contents list (right) shows two levels of headings, so a long page (the
  teacher's guide's "Lesson N" sections) can be jumped around in.
- A solution's code on the website omits the `### BEGIN SOLUTION` / `### END SOLUTION`
  lines: they mark the answer for the student edition and nbgrader, and say nothing to a
  reader. The notebooks keep them.
- The executor does not play a live widget's Output area (see `no_output_widgets`): it
  made an execution stall, now and then, for the whole cell timeout.
- Each lesson page's download button offers the lesson's kit first ("Lesson kit"): one
  archive with its notebooks, helper.py, its checks, its data and a README, written into
  the site's `_kits/` by scripts/kits.py after the build (`make book`), so the lesson
  runs on a learner's machine without the repository.
- A page without a widget view loads no widget manager and no saved widget state: the
  live controls' outputs are left off the website, so lessons 2 and 4-7 loaded 3.5 MB
  of scripts and their saved figures for nothing.
"""

import functools
import re

from docutils import nodes

from sphinx.application import Sphinx
from sphinx.config import Config


def _config_inited(app: Sphinx, config: Config) -> None:
    options = config.html_theme_options
    if not options.get("repository_url"):
        options.pop("launch_buttons", None)
    config.html_context.setdefault("default_mode", "auto")
    # Code comments readable in dark mode: the theme's default dark style draws them
    # bright yellow; GitHub's dark style draws them grey (contrast 6:1, axe-clean).
    options.setdefault("pygment_dark_style", "github-dark")
    options.setdefault("show_toc_level", 2)


SOLUTION_MARK = re.compile(r"^[ \t]*### (?:BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def without_solution_marks(code: str) -> str:
    """`code` without its `### BEGIN SOLUTION` / `### END SOLUTION` lines."""
    return SOLUTION_MARK.sub("", code)


def no_output_widgets(client) -> None:
    """Make an nbclient NotebookClient leave ipywidgets' Output areas alone.

    nbclient plays the part of a frontend for `widgets.Output` (an `interactive` control's
    output area): it copies each output into the widget and sends the widget's new state
    back to the kernel on the shell socket, from the task that reads IOPub, while another
    task waits on that socket for the cell's reply. Now and then that wait then missed the
    reply and lasted the whole cell timeout (120 s for the book, 300 s in a test), seen
    after the live-control cells of lessons 4 and 5. Without it the control's output is an
    ordinary output of its cell, which the website leaves out anyway (`remove-output`).
    """
    client.widget_registry = {}


def _executor_without_output_widgets() -> None:
    from myst_nb.core.execute import inline

    init = inline.ModifiedNotebookClient.__init__
    if getattr(init, "no_output_widgets", False):
        return

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        no_output_widgets(self)

    __init__.no_output_widgets = True
    inline.ModifiedNotebookClient.__init__ = __init__


def _strip_solution_marks(app, doctree) -> None:
    for block in doctree.findall(nodes.literal_block):
        text = block.astext()
        if SOLUTION_MARK.search(text):
            clean = without_solution_marks(text)
            block.rawsource = clean
            block.children = [nodes.Text(clean)]


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _is_widget_script(script, app) -> bool:
    """The widget manager's scripts (_config.yml's nb_ipywidgets_js) or the saved state."""
    name = str(getattr(script, "filename", script) or "")
    attributes = getattr(script, "attributes", {}) or {}
    # Sphinx writes a relative script's name under _static/ ("_static/offline/require.js").
    return attributes.get("type") == WIDGET_STATE or any(
        name in (path, f"_static/{path}") for path in app.config.nb_ipywidgets_js)


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    if WIDGET_VIEW not in (context.get("body") or ""):
        # No widget on this page (a live control's output is left off the website):
        # no widget manager (3.5 MB) and no saved widget state either.
        scripts[:] = [s for s in scripts if not _is_widget_script(s, app)]
    seen, unique = set(), []
    for script in scripts:
        # same file and attributes (an inline script's text is its `body`), any priority
        key = (str(getattr(script, "filename", script) or ""),
               tuple(sorted((k, str(v)) for k, v in getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


@functools.cache
def _kits():
    """scripts/kits.py, imported once (the scripts folder is not a package)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("kits", Path(__file__).resolve().parent / "kits.py")
    kits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(kits)
    return kits


def _kit_button(app, pagename, templatename, context, doctree) -> None:
    """The lesson kit, first in a lesson page's download menu (see scripts/kits.py)."""
    kits = _kits()
    name = kits.kit_name(pagename)
    if not name:
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link",
                "url": context["pathto"](f"{kits.KITS}/{name}", 1),
                "text": "Lesson kit (.zip)",
                "tooltip": "This lesson's notebooks, with helper.py, the checks and the data, "
                           "to run on your own machine (see the README inside)",
                "icon": "fas fa-file-zipper",
                "label": "download-kit-button",
            })


def _always_write_root(app, env, added, changed, removed):
    return [app.config.root_doc]


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("env-get-outdated", _always_write_root)
    app.connect("doctree-read", _strip_solution_marks)
    _executor_without_output_widgets()
    # last, after the handlers that add scripts (at the default priority, 500)
    app.connect("html-page-context", _dedupe_scripts, priority=990)
    # after the book theme's header buttons (priority 501)
    app.connect("html-page-context", _kit_button, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
