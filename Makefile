# One command per job; each sets up what it needs in a local virtual environment.
#   make book    build the website into _build/html (executes the lessons that changed)
#   make test    unit tests + every lesson notebook under nbval + the built site + the hub (as root)
#   make lab     open the lessons in JupyterLab
#   make bench   time each lesson in a fresh kernel and the book build
#   make student the student edition (no solutions, no outputs) into _build/student
#   make slides  one reveal.js deck per lesson, working offline, into _build/slides
#   make test-latest  the lessons under nbval with the newest release of every package but torch
#   make test-seeds   the lessons under nbval with every seed moved (two offsets), margins compared
#   make test-vectorfree  the lessons under nbval on PyTorch's vector-free CPU kernels, margins compared
#   make data    the data sets (npm packages, pinned in package-lock.json)
#   make normalize        the lessons' Lab/nbgrader metadata, after editing a lesson
#   make nbgrader-course  an nbgrader course from the lessons, into _build/nbgrader
#   make hub     a JupyterHub for a class on this machine, as root (hub/README.md); make hub-stop
#   make hub-add-student NAME=alice   an account (make hub-add-teacher NAME=bob for a teacher)
#   make bench-hub  how many students this machine holds: simulated students on a throwaway hub
#   make test-hub   the hub's tests (root): nbgrader across accounts, isolation, faults, load
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: hub-env hub hub-stop hub-restart hub-status hub-add-student hub-add-teacher bench-hub test-hub lesson08-bench lesson08-long book test test-latest test-seeds test-vectorfree lab lab-source bench student slides data normalize nbgrader-course clean

# A wrong published solution fails the build and the tests: helper.check raises
# instead of printing its verdict when this is set (never in the student edition).
export RNN_COURSE_STRICT := 1

# A virtual environment with the pinned packages; the repository root goes on
# its path (a .pth file) so `from helper import summary` works in every lesson
# wherever Jupyter was started.
$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > $(VENV)/.purelib
	echo "$(CURDIR)" > "$$(cat $(VENV)/.purelib)/rnn_course_root.pth"
	# nbgrader's menus are for teachers (make nbgrader-course), not for learners in Lab
	$(BIN)/jupyter labextension disable --level=sys_prefix @jupyter/nbgrader >/dev/null
	touch $(STAMP)

# The browser assets the site and the slides serve themselves (MathJax, the widget
# manager, require.js, reveal.js, ...) and the data sets of lessons 6 and 7 (Moby-Dick,
# the CMU Pronouncing Dictionary), pinned in package-lock.json; never committed.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

# MathJax, require.js and the widget manager come from npm (package-lock.json) and are
# copied into the build, so the website needs no CDN (see scripts/vendor_assets.py).
data: $(NODE_STAMP)

book: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/vendor_assets.py _build/vendor
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	$(BIN)/python scripts/claims.py collect _build/html
	rm -rf _build/html/_kits
	$(BIN)/python scripts/kits.py --out _build/html/_kits

# Each run of the lessons writes every claim they check (helper.claim) to its own folder,
# so that the runs below can compare each claim's margin with the native run's.
CLAIMS := $(CURDIR)/_build/claims
LESSONS_UNDER_NBVAL := -m pytest -p no:cacheprovider -o addopts="" --nbval-lax -n 2 --dist loadfile lessons
COMPARE := $(BIN)/python scripts/claims.py compare $(CLAIMS)/native

test: book
	rm -rf $(CLAIMS)/native
	RNN_COURSE_CLAIMS_DIR=$(CLAIMS)/native $(BIN)/python -m pytest
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory test-hub; \
	else echo "make test: the hub's tests did not run: they create Unix users, so they need root (sudo make test-hub). CI runs them."; fi

# The native run's claims, for a test-seeds or test-vectorfree run without `make test` first
$(CLAIMS)/native:
	RNN_COURSE_CLAIMS_DIR=$(CLAIMS)/native $(BIN)/python $(LESSONS_UNDER_NBVAL)

# Every seed a lesson uses comes from helper, moved by RNN_COURSE_SEED_OFFSET: the lessons
# must pass with other seeds, and no claim may keep less than half its native margin.
SEED_OFFSETS := 1000 2000
test-seeds: $(STAMP) $(NODE_STAMP) $(CLAIMS)/native
	for offset in $(SEED_OFFSETS); do rm -rf $(CLAIMS)/seed-$$offset; \
	  RNN_COURSE_SEED_OFFSET=$$offset RNN_COURSE_CLAIMS_DIR=$(CLAIMS)/seed-$$offset \
	  $(BIN)/python $(LESSONS_UNDER_NBVAL) || exit 1; done
	$(COMPARE) $(addprefix $(CLAIMS)/seed-,$(SEED_OFFSETS))

# Another processor: PyTorch's own kernels without vector instructions, and MKL's and
# oneDNN's matrix products held to AVX2 (as on a processor without AVX-512), so a claim
# true only with this processor's kernels fails here.
test-vectorfree: $(STAMP) $(NODE_STAMP) $(CLAIMS)/native
	rm -rf $(CLAIMS)/vectorfree
	ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \
	  RNN_COURSE_CLAIMS_DIR=$(CLAIMS)/vectorfree \
	  $(BIN)/python $(LESSONS_UNDER_NBVAL)
	$(COMPARE) $(CLAIMS)/vectorfree

# A second environment with the newest release of every package the lessons use
# (requirements-latest.txt, unpinned; torch stays pinned), upgraded on every run.
LATEST := .venv-latest
test-latest: $(NODE_STAMP)
	test -x $(LATEST)/bin/python || $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST)/bin/python -m pip install --quiet --upgrade -r requirements-latest.txt
	echo "$(CURDIR)" > "$$($(LATEST)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/rnn_course_root.pth"
	$(LATEST)/bin/python -m pip list --format=freeze | grep -iE '^(numpy|matplotlib|ipywidgets|ipykernel|nbval|torch|pytest)=='
	rm -rf $(CLAIMS)/latest
	RNN_COURSE_CLAIMS_DIR=$(CLAIMS)/latest $(LATEST)/bin/python $(LESSONS_UNDER_NBVAL)
	test ! -d $(CLAIMS)/native || $(COMPARE) $(CLAIMS)/latest

# A learner's JupyterLab: the student edition (answer cells open, the book's numbers in
# the text) with the worked solutions in solutions/, in lab/. It is made once: make lab
# never overwrites a notebook there (your work is kept; delete one to get it fresh).
# Learners get check's friendly verdicts, not strict mode.
LEARN := lab
lab: book
	$(BIN)/python scripts/student.py --solutions --keep --out $(LEARN)
	RNN_COURSE_STRICT= $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR)/$(LEARN)

# The lessons' sources in JupyterLab, for an author or a teacher demonstrating: Lab serves
# the repository (so a lesson's link to ../book/notation.md opens) and starts in lessons/;
# the solutions are folded.
lab-source: $(STAMP) $(NODE_STAMP)
	RNN_COURSE_STRICT= $(BIN)/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/lessons

# After editing a lesson: the metadata JupyterLab and nbgrader read (solutions folded,
# kernelspec, exercise numbering); `make test` checks it.
normalize: $(STAMP)
	$(BIN)/python scripts/normalize_notebooks.py

# An nbgrader course (source/ release/ with graded check cells) for a teacher.
nbgrader-course: $(STAMP)
	rm -rf _build/nbgrader
	$(BIN)/python scripts/student.py --nbgrader _build/nbgrader

# Lesson 8's long run (not part of the book): the issue's comparison on the CPU, and a
# larger model for minutes (on a GPU when there is one). Each writes results/lesson08_*.json.
lesson08-bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/lesson08_long_run.py --bench

lesson08-long: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/lesson08_long_run.py --long

# A class on one hub (hub/README.md): JupyterHub with this machine's accounts (PAM), each
# server running as its student in a private home, nbgrader across accounts. Run as root.
# Every account runs the servers' Python, so hub/hubenv.py picks what they can reach: the
# course's Python if every account can run it (not pyenv's under /root), else the system's
# /usr/bin/python3; and .venv-hub in this checkout if every account can reach it, else
# /opt/rnn-course-hub/venv. Set HUB_PYTHON or HUB_VENV to choose. TORCH_INDEX: where
# PyTorch's CPU build comes from ("" for pip's own configuration, which finds it here).
HUB_PYTHON  ?= $(shell $(PYTHON) hub/hubenv.py python $(PYTHON))
HUB_VENV    ?= $(shell $(PYTHON) hub/hubenv.py venv)
TORCH_INDEX ?=
HUB_STAMP   := $(HUB_VENV)/.installed
HUBCTL      := RNN_HUB_ENV=$(abspath $(HUB_VENV)) $(HUB_VENV)/bin/python hub/hubctl.py

$(HUB_STAMP): hub/requirements.txt
	$(HUB_PYTHON) -m venv $(HUB_VENV)
	$(HUB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(HUB_VENV)/bin/python -m pip install --quiet $$(grep '^torch==' hub/requirements.txt) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(HUB_VENV)/bin/python -m pip install --quiet -r hub/requirements.txt
	touch $(HUB_STAMP)

# the hub's environment and configurable-http-proxy (package.json)
hub-env: $(HUB_STAMP) $(NODE_STAMP)

# starts the hub and its proxy in the background; students log in at http://<machine>:8000
hub: hub-env student
	$(HUBCTL) start

hub-stop:
	$(HUBCTL) stop

# the hub only: servers, kernels and the proxy keep running (an upgrade, a config change)
hub-restart: hub-env
	$(HUBCTL) restart

hub-status:
	$(HUBCTL) status

# make hub-add-student NAME=alice [PASSWORD=...]: prints a random password when none is given
hub-add-student: hub-env
	$(HUBCTL) add-student $(NAME) $(if $(PASSWORD),--password='$(PASSWORD)')

# a teacher is a hub admin with an nbgrader course of every lesson in ~NAME/rnn-grading
hub-add-teacher: hub-env $(STAMP)
	$(HUBCTL) add-teacher $(NAME) $(if $(PASSWORD),--password='$(PASSWORD)')

# simulated students on a throwaway hub (127.0.0.1, its own users); writes hub/sizing.json
bench-hub: hub-env $(STAMP)
	RNN_HUB_ENV=$(abspath $(HUB_VENV)) $(BIN)/python hub/bench_hub.py --out hub/sizing.json

# The hub's tests (tests/test_hub*.py), as root: throwaway hubs with their own Unix users,
# ports and folders, all removed afterwards. `make test` runs them after the other tests
# when it runs as root (as CI does), and says so when it cannot.
HUB_TESTS := $(wildcard tests/test_hub*.py)
test-hub: hub-env $(STAMP)
	RNN_HUB_ENV=$(abspath $(HUB_VENV)) $(BIN)/python -m pytest -p no:cacheprovider -o addopts="" -n 2 --dist loadfile --durations=5 $(HUB_TESTS)

bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/bench.py

# The student edition shows the book's numbers in its prose: it needs the built book.
student: book
	rm -rf _build/student
	$(BIN)/python scripts/student.py --out _build/student

slides: $(STAMP) $(NODE_STAMP)
	rm -rf _build/slides
	$(BIN)/python scripts/slides.py --out _build/slides

clean:
	rm -rf _build
