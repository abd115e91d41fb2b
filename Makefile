.PHONY: run dev test bench lint setup setup-dev setup-bench

setup:
	@bin/setup

setup-dev:
	@bin/setup dev

setup-bench:
	@bin/setup bench

run: setup
	@bin/run

dev: setup-dev
	@bin/dev

test: setup-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python manage.py check
	.venv/bin/python manage.py makemigrations --check --dry-run
	.venv/bin/pytest

bench: setup-bench
	.venv/bin/python -m bench

lint: setup-dev
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
