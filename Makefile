# culturebook: every target is one culturebook command; the first run sets everything up.
# `make booklet` and `make test` work on a fresh clone: they create .venv, install the Python packages
# and the Debian packages they need (apt-get when run as root, otherwise they print the exact command).
# `make test-fast` runs the quick tests only (under a minute): none that builds a whole project.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CB     := $(VENV)/bin/culturebook
ARGS   ?=

# Pango/HarfBuzz/fontconfig for WeasyPrint; libharfbuzz-subset0 makes Chinese font subsetting 10-20x faster.
RUN_PACKAGES  := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig
# The tests draw every PDF with three independent renderers and check the spliced personalised
# booklets with qpdf; the live preview's browser test runs Debian's Chromium (Playwright's own
# browser download is not used); a test rebuilds the shipped CMYK profile (ArgyllCMS, FOGRA39 data).
PROFILE_PACKAGES := argyll icc-profiles-free
TEST_PACKAGES := poppler-utils ghostscript mupdf-tools qpdf chromium chromium-driver $(PROFILE_PACKAGES)

.PHONY: booklet posters bundle print archive all personalised share check verify preview test properties fuzz \
	test-fast interruptions bench lint docs pictures profile proof clean lock setup setup-test dist \
	release-check

booklet: setup
	$(CB) build booklet $(ARGS)

posters: setup
	$(CB) build posters $(ARGS)

bundle: setup
	$(CB) build bundle $(ARGS)

print: setup
	$(CB) build print $(ARGS)

# The booklet as PDF/A-3a for the records, with its content YAML embedded.
archive: setup
	$(CB) build archive $(ARGS)

all: setup
	$(CB) build all $(ARGS)

# One booklet per row of a recipients CSV, e.g. make personalised RECIPIENTS=content/people.example.csv
personalised: setup
	$(CB) build personalised $(if $(RECIPIENTS),--recipients $(RECIPIENTS)) $(ARGS)

# The screen editions ready to email, with drafts (build/<lang>/share/). To send them:
# make share ARGS="--recipients people.csv --send" (the login from CULTUREBOOK_SMTP_USER/_PASSWORD)
share: setup
	$(CB) share $(ARGS)

# Soft proof: the print editions as they will look on paper, PNGs in build/<lang>/proof/
# (ARGS="--gamut" hatches the screen colours the press cannot print). Needs Ghostscript.
proof: setup
	@sh .ci/system-packages ghostscript
	$(CB) proof $(ARGS)

check: setup
	$(CB) check $(ARGS)

# build/ against build/manifest.json: every file it lists, with its bytes, and nothing else.
verify: setup
	$(CB) verify $(ARGS)

# The live preview on http://127.0.0.1:8000/ (another port: ARGS="--port 8001"); Ctrl-C stops it.
preview: setup
	$(CB) preview $(ARGS)

# The 15 slowest tests are listed after the results, so a test that grows slow is seen.
test: setup-test
	$(PY) -m pytest --durations=15 $(ARGS)

# The tests that take well under a second each, in under a minute: not those that build a project or
# render PDFs (slow), drive Chromium (browser) or start a Dask cluster (cluster); see tests/conftest.py.
test-fast: setup-test
	$(PY) -m pytest -m "not slow and not browser and not cluster" --durations=5 $(ARGS)

# The property tests with many more generated examples than `make test` runs (e.g. before a release).
properties: setup-test
	HYPOTHESIS_PROFILE=more $(PY) -m pytest tests/test_copyfit.py tests/test_shapes.py -k "property or any_shape" $(ARGS)

# The fuzz tests with over 10,000 generated inputs (content, theme, recipients CSV; a few rendered)
# instead of the few `make test` runs: every one must pass the check or be refused with our lines.
fuzz: setup-test
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/test_fuzz.py -p no:cacheprovider --hypothesis-show-statistics $(ARGS)

# The tests that interrupt a build, a preview or a send, 20 times in a row (RUNS=n for another count):
# each holds the other process at a point it waits for, so a faster or slower machine gives the same.
RUNS ?= 20
interruptions: setup-test
	@for run in $$(seq $(RUNS)); do echo "run $$run of $(RUNS)"; \
		$(PY) -m pytest -q -p no:cacheprovider -m interruption $(ARGS) || exit 1; done

bench: setup-test
	$(PY) tests/bench.py $(ARGS)

# ruff over the code and tests; mypy over the packages pyproject.toml's [tool.mypy] lists; the
# layering (tests/test_layers.py: no cycles, no upward imports, imports at the top).
lint: setup-test
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/mypy
	$(PY) -m pytest -q -p no:cacheprovider tests/test_layers.py

# The documentation site (docs/, mkdocs.yml) in site/: the code map (docs/architecture.md and the
# README's) written again from the code, then a strict build, in which a broken link or anchor fails.
docs: setup-test
	$(PY) tests/codemap.py
	$(VENV)/bin/mkdocs build --strict

# Pictures of the default project for the README and the docs (docs/*.png).
pictures: setup-test
	$(PY) tests/pictures.py

# The default CMYK output profile, built again from the FOGRA39 data (profiles/README.md):
# ARGS=--check fails unless the bytes are the committed ones. Needs ArgyllCMS and icc-profiles-free.
profile:
	@sh .ci/system-packages $(PROFILE_PACKAGES)
	$(PYTHON) profiles/make-profile $(ARGS)

# The sdists and wheels of culturebook, culturebook-fonts-cjk and the editorial theme in dist/ (needs PyPI
# for setuptools).
dist: setup-test
	rm -rf dist
	$(PY) -P -m build --outdir dist .
	$(PY) -P -m build --outdir dist packages/fonts-cjk
	$(PY) -P -m build --outdir dist themes/editorial

# The release artefacts checked: twine check, the wheels installed in a fresh virtualenv outside the
# repository (dependencies from requirements/run.lock), culturebook new + build all + verify there,
# and every PDF byte for byte the same as this repository's culturebook makes (tests/release.py).
release-check: dist
	$(PY) tests/release.py dist

# Everything under build/ but the send log: after a clean, share --send must still know who has had
# their copy.
clean:
	@if [ -d build ]; then find build -mindepth 1 -maxdepth 1 ! -name share-sent.jsonl -exec rm -rf {} +; fi

setup: $(VENV)/.installed system-packages

setup-test: setup $(VENV)/.installed-test test-packages

# Every machine installs the same versions, checked by their hashes: requirements/*.lock, written
# from pyproject.toml by `make lock`. culturebook itself is installed editable on top, without deps,
# with its CJK fonts package (packages/fonts-cjk) and the editorial theme's package (themes/editorial).
$(VENV)/.installed: requirements/run.lock pyproject.toml packages/fonts-cjk/pyproject.toml \
		themes/editorial/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/run.lock
	$(PY) -m pip install --quiet --no-deps -e . -e packages/fonts-cjk -e themes/editorial
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/test.lock
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/test.lock
	touch $@

# The lock files again, after a change to the dependencies in pyproject.toml (needs PyPI). The run
# lock takes the test lock's versions, so both install the same ones.
UV_COMPILE := $(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
	--no-header --quiet
lock: $(VENV)/.installed
	$(PY) -m pip install --quiet uv
	UV_PYTHON_DOWNLOADS=never $(UV_COMPILE) --group test --extra cluster -o requirements/test.lock
	UV_PYTHON_DOWNLOADS=never $(UV_COMPILE) -c requirements/test.lock -o requirements/run.lock

system-packages:
	@sh .ci/system-packages $(RUN_PACKAGES)

test-packages:
	@sh .ci/system-packages $(TEST_PACKAGES)

.PHONY: system-packages test-packages
