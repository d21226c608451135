"""Run every benchmark in bench/: `DJANGO_SETTINGS_MODULE=tests.settings python -m bench`."""

from __future__ import annotations

import importlib
import os
import pkgutil


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()

    from django.utils import translation

    import bench

    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    print(bench.machine(), end="\n\n")
    with bench.test_database(), translation.override("en"):
        for name in names:
            module = importlib.import_module(f"bench.{name}")
            if hasattr(module, "run"):
                module.run()
                print()


if __name__ == "__main__":
    main()
