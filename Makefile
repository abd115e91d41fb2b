.PHONY: run dev test bench lint setup

setup:
	@bin/setup

run: setup
	@bin/run

dev: setup
	@bin/dev

test: setup
	.venv/bin/ruff check .
	.venv/bin/python manage.py check
	.venv/bin/python manage.py makemigrations --check --dry-run
	.venv/bin/pytest

bench: setup
	.venv/bin/python -m bench

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
