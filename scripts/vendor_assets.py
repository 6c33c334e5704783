"""Copy the browser assets the website serves itself into the build (run by `make book`).

The built book must work offline, so nothing a page loads may come from a CDN.
MathJax, the Jupyter widget manager (@jupyter-widgets/html-manager) and require.js
come from npm, pinned by package-lock.json: `npm ci` installs them into node_modules/
(never committed; the Makefile runs it), and this script copies the files a page needs into

    _build/vendor/_static/offline/{mathjax,html-manager,require.js}

together with scripts/widgets_offline.js (our glue that points the widget manager
at its fonts there and names slider handles for screen readers).

Sphinx's `html_extra_path` (see _config.yml) copies that folder into the site, so
they are served as `_static/offline/...`. They are deliberately NOT in a source
`_static/` folder: Jupyter Book 1 adds a <script> tag for every .js file it finds
there, which would load all of MathJax's components into every page.

Usage: python scripts/vendor_assets.py [DEST]   (DEST defaults to _build/vendor)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"

# (source inside node_modules, destination inside _static/offline, files to leave out)
ASSETS = [
    # All of MathJax's browser components: the page loads tex-chtml.js, which loads
    # its fonts and, on demand, TeX extensions and the accessibility/menu components.
    ("mathjax/es5", "mathjax", ["node-main.js"]),
    # The widget manager for ipywidgets 8 (AMD build) and the fonts its CSS points at.
    ("@jupyter-widgets/html-manager/dist", "html-manager",
     ["*.map", "embed.js", "embed.js.LICENSE.txt", "libembed-amd.js"]),
    ("requirejs/require.js", "require.js", []),
]
# Our own glue, loaded between require.js and the widget manager (see _config.yml).
OWN_FILES = [(ROOT / "scripts" / "widgets_offline.js", "widgets_offline.js")]

# html-manager major version -> the ipywidgets major version it renders.
HTML_MANAGER_FOR_IPYWIDGETS = {"1": "8", "0": "7"}


def require_node_modules() -> None:
    """The assets are installed by `make` (`npm ci`, one place for both book and slides)."""
    if not (NODE_MODULES / "mathjax").is_dir():
        sys.exit("vendor_assets: node_modules/ is missing; run `make book` "
                 "(or `npm ci`; Node.js and npm: apt-get install npm)")


def check_versions() -> None:
    """The widget manager must match the ipywidgets the lessons run with."""
    pkg = json.loads((NODE_MODULES / "@jupyter-widgets/html-manager/package.json").read_text())
    try:
        import ipywidgets
    except ImportError:  # building without widgets installed: nothing to match
        return
    want = HTML_MANAGER_FOR_IPYWIDGETS.get(pkg["version"].split(".")[0])
    have = ipywidgets.__version__.split(".")[0]
    if want != have:
        sys.exit(f"vendor_assets: @jupyter-widgets/html-manager {pkg['version']} renders "
                 f"ipywidgets {want}.x, but ipywidgets {ipywidgets.__version__} is installed; "
                 "change package.json and run `npm install` to update the lock file")


def copy_assets(dest: Path) -> None:
    target = dest / "_static" / "offline"
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for src, name, skip in ASSETS:
        src_path = NODE_MODULES / src
        out = tmp / "_static" / "offline" / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if src_path.is_dir():
            shutil.copytree(src_path, out, ignore=shutil.ignore_patterns(*skip))
        else:
            shutil.copy2(src_path, out)
    for src_path, name in OWN_FILES:
        shutil.copy2(src_path, tmp / "_static" / "offline" / name)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    n = sum(1 for p in target.rglob("*") if p.is_file())
    print(f"vendor_assets: {n} files in {target.relative_to(ROOT)}")


def main() -> None:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("_build/vendor")
    dest = dest if dest.is_absolute() else ROOT / dest
    require_node_modules()
    check_versions()
    copy_assets(dest)


if __name__ == "__main__":
    main()
