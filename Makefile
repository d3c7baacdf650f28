# Quick start: `make run` serves on http://localhost:8000, `make test` runs the test suite.
.PHONY: setup run test bench lint

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/iscc-web

test: setup
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench

lint: setup
	.venv/bin/ruff check kernel plugins tests bench
	.venv/bin/mypy kernel
