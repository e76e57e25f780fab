.PHONY: install test test-lowest lint typecheck bench golden build docs

PYTHON ?= python3
LOWEST_VENV ?= .venv-lowest

install:
	pip install -e '.[test]'

test:
	python -m pytest

# The suite against the lowest versions pyproject.toml allows (uv's lowest-direct resolution),
# in a virtual environment of its own made anew each time; uv comes from PyPI into it first.
test-lowest:
	rm -rf $(LOWEST_VENV)
	$(PYTHON) -m venv $(LOWEST_VENV)
	$(LOWEST_VENV)/bin/pip install --quiet uv
	VIRTUAL_ENV=$(LOWEST_VENV) $(LOWEST_VENV)/bin/uv pip install --quiet --resolution lowest-direct -e '.[test]'
	$(LOWEST_VENV)/bin/python -m pytest

lint:
	ruff check .
	actionlint .github/workflows/*.yml

typecheck:
	mypy

bench:
	python bench/run.py

golden:
	KBCTL_UPDATE_GOLDEN=1 python -m pytest tests/test_site.py tests/test_faq.py tests/test_ivr.py

build:
	kbctl build

# docs/templates.md is made from the template records (kbctl/channels/site_context.py).
docs:
	python -m kbctl.channels.site_context > docs/templates.md
