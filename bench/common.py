"""Shared set-up of the Django benchmarks: a fresh database for the benchmark's settings."""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def setup_django(fresh: bool = True) -> None:
    import django

    if fresh:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        elif url.startswith("mysql://"):
            import MySQLdb

            name = url.rsplit("/", 1)[1]
            conn = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
            conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
            conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            conn.close()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


class Timer:
    def __enter__(self):
        self.began = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.began
