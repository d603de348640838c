"""`python -m bench`: run every benchmark against a throwaway database and print the figures (nothing is asserted).

Without DATABASE_URL the database is an SQLite file in a fresh temporary folder (WASTELINK_HOME and
WASTELINK_SQLITE_PATH are pointed there before Django starts), removed at the end. With DATABASE_URL the benchmark
runs in a separate test database on that server (`test_<name>`, created and dropped the way the test suite does
it; the role needs CREATEDB), so the developer's data is never touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

BENCHMARKS = ("precheck", "pipeline", "osmand_http", "trip_memory", "alert_latency")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=int(os.environ.get("WASTELINK_BENCH_SEED", 20261128)))
    parser.add_argument("--runs", type=int, default=200, help="timed pre-checks (after the warm-up)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the data set (quick trial runs)"
    )
    parser.add_argument("--show-queries", action="store_true", help="print each SQL query of one pre-check")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary SQLite folder (its path is printed)"
    )
    parser.add_argument("--only", choices=BENCHMARKS, action="append",
                        help="run only this benchmark (repeat for several); default: all, in this order")  # fmt: skip
    args = parser.parse_args(argv)
    selected = [name for name in BENCHMARKS if name in (args.only or BENCHMARKS)]

    home = tempfile.mkdtemp(prefix="wastelink-bench-")
    os.environ["WASTELINK_HOME"] = home  # media files and anything else written relative to the home folder
    os.environ["WASTELINK_MEDIA_ROOT"] = os.path.join(home, "media")
    postgres = bool(os.environ.get("DATABASE_URL"))
    if not postgres:
        os.environ["WASTELINK_SQLITE_PATH"] = os.path.join(home, "bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "wastelink.settings"
    os.environ.setdefault("WASTELINK_LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.db import connection

    old_name = None
    try:
        if postgres:
            old_name = connection.settings_dict["NAME"]
            connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        for name in selected:
            if name == "precheck":
                from . import precheck

                precheck.run(seed=args.seed, runs=args.runs, scale=args.scale, show_queries=args.show_queries)
            elif name == "pipeline":
                from . import pipeline

                pipeline.run(seed=args.seed, scale=args.scale)
            elif name == "osmand_http":
                from . import osmand_http

                osmand_http.run(seed=args.seed, scale=args.scale)
            elif name == "trip_memory":
                from . import trip_memory

                trip_memory.run(seed=args.seed, scale=args.scale)
            elif name == "alert_latency":
                from . import alert_latency

                alert_latency.run(seed=args.seed, scale=args.scale)
            sys.stdout.flush()
    finally:
        if old_name is not None:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        connection.close()
        if args.keep and not postgres:
            print(f"kept the benchmark database: {os.environ['WASTELINK_SQLITE_PATH']}")
        else:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
