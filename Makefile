.PHONY: install test lint bench golden build

install:
	pip install -e '.[test]'

test:
	python -m pytest

lint:
	ruff check kbctl tests bench
	actionlint .github/workflows/*.yml

bench:
	python bench/run.py

golden:
	KBCTL_UPDATE_GOLDEN=1 python -m pytest tests/test_site.py tests/test_faq.py tests/test_ivr.py

build:
	kbctl build
