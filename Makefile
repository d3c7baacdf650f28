# Quick start: `make run` serves on http://localhost:8000, `make test` runs the test suite.
.PHONY: setup run test bench lint spa

setup:
	@bash scripts/setup.sh

run: setup
	.venv/bin/iscc-web

# The web app's unit tests (Vitest) first, then every Python, HTTP and browser test.
test: setup
	@if [ -d spa/node_modules ]; then cd spa && npm test --silent; \
	else echo "make test: npm not found, skipping the web app's unit tests"; fi
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench

# Style and types, as CI gates them (versions pinned in pyproject's dev extra).
lint: setup
	.venv/bin/ruff check kernel plugins tests bench
	.venv/bin/mypy kernel plugins

# Rebuild plugins/ui/dist from spa/ (needs Node.js >= 20.19).
spa: setup
	bash scripts/build-spa.sh
