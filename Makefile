# One command per job; each sets up what it needs in a local virtual environment.
#   make book    build the website into _build/html (executes every lesson, cached)
#   make test    unit tests + every lesson notebook under nbval + the built site
#   make lab     open the lessons in JupyterLab
#   make bench   time each lesson in a fresh kernel and the book build
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test lab bench clean

# A virtual environment with the pinned packages; the repository root goes on
# its path (a .pth file) so `from helper import summary` works in every lesson
# wherever Jupyter was started.
$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > $(VENV)/.purelib
	echo "$(CURDIR)" > "$$(cat $(VENV)/.purelib)/rnn_course_root.pth"
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --keep-going

test: book
	$(BIN)/python -m pytest

lab: $(STAMP)
	$(BIN)/jupyter lab lessons/

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

clean:
	rm -rf _build
