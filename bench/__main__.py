"""Run every benchmark in bench/: `DJANGO_SETTINGS_MODULE=tests.settings python -m bench`."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    runs = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "run"):
            runs.append(module.run)
    bench.run_alone(*runs)


if __name__ == "__main__":
    main()
