"""Strategies by id: the built-in ones under bots.strategies and any in extra packages."""

from __future__ import annotations

import importlib
import pkgutil

from bots.strategies.base import Strategy

BUILTIN_PACKAGE = "bots.strategies"


def discover(packages: list[str] | tuple[str, ...] = ()) -> dict[str, type[Strategy]]:
    """Import every module of the built-in package and of `packages`; return id -> class."""
    found: dict[str, type[Strategy]] = {}
    for package_name in (BUILTIN_PACKAGE, *packages):
        package = importlib.import_module(package_name)
        modules = [package]
        if hasattr(package, "__path__"):
            for info in pkgutil.iter_modules(package.__path__, package_name + "."):
                modules.append(importlib.import_module(info.name))
        for module in modules:
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Strategy)
                    and value is not Strategy
                    and getattr(value, "id", None)
                ):
                    found[value.id] = value
    return found


_cache: dict[tuple[str, ...], dict[str, type[Strategy]]] = {}


def get_strategies(packages: list[str] | tuple[str, ...] = ()) -> dict[str, type[Strategy]]:
    key = tuple(packages)
    if key not in _cache:
        _cache[key] = discover(key)
    return _cache[key]


def get_strategy(strategy_id: str, packages: list[str] | tuple[str, ...] = ()) -> type[Strategy]:
    """The class registered under `strategy_id`; KeyError when there is none."""
    return get_strategies(packages)[strategy_id]
