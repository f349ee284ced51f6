"""Benchmark the object import: 100,000 rows from .csv and .xlsx, on SQLite and PostgreSQL.

For each (database, format) the import runs in its own process and reports rows/s (timed inside
the process, around the import call: validated, stored, versioned, committed) and peak memory
(``ru_maxrss`` of that process, read as RUSAGE_CHILDREN by a one-shot wrapper). The baseline is a
plain ``csv.reader`` pass over the same CSV, and for .xlsx also a bare pass of our streaming .xlsx reader,
so the ratios show what validation and storage cost on top of reading. A second, smaller file
shows whether peak memory grows with file size.

    python bench/import.py                                   # SQLite only, 100,000 rows
    python bench/import.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench
    CHAYICI_BENCH_PG_URL=... python bench/import.py --rows 20000

Goal (issue 3): >= 5,000 rows/s validated and stored; peak memory flat in file size.
The PostgreSQL database given is wiped (schema ``public`` dropped and recreated).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
UNITS = ["直属执法大队", "莲都执法大队", "青田县综合行政执法局", "龙泉市综合行政执法局"]
REGIONS = ["331100", "331102", "331121", "331181"]


# -- data -------------------------------------------------------------------------------------
def object_rows(count: int, seed: int = 7) -> list[list[str]]:
    from handlers.directory.uscc import CHARSET, make_uscc

    rng = random.Random(seed)
    rows = []
    seen: set[str] = set()
    for index in range(count):
        region_index = index % len(REGIONS)
        while True:
            code = make_uscc(
                "91" + REGIONS[region_index] + "MA" + "".join(rng.choice(CHARSET) for _ in range(7))
            )
            if code not in seen:
                seen.add(code)
                break
        flag = f"2026-0{1 + index % 9}-01至" if index % 20 == 0 else ""
        rows.append(
            [
                code,
                f"丽水市测试{index}号商贸有限公司",
                "企业",
                "张三",
                f"丽水市莲都区人民街{index % 400 + 1}号",
                "李四",
                "138" + f"{rng.randrange(10**8):08d}",
                "零售",
                REGIONS[region_index],
                UNITS[region_index],
                "存续",
                "ABCD"[index % 4],
                flag,
                "",
                "",
                "",
                "启用",
            ]
        )
    return rows


def write_files(folder: Path, count: int) -> dict[str, Path]:
    from handlers.directory.objects_sheet import SPEC
    from handlers.directory.writers import write_table

    rows = object_rows(count)
    csv_path = folder / f"objects-{count}.csv"
    xlsx_path = folder / f"objects-{count}.xlsx"
    write_table(csv_path, SPEC.title, SPEC.headers, rows)
    write_table(xlsx_path, SPEC.title, SPEC.headers, rows)
    units = folder / "units.csv"
    with units.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["单位名称", "简称", "类型"])
        for name in UNITS:
            writer.writerow([name, name[:4], "执法队"])
    return {"csv": csv_path, "xlsx": xlsx_path, "units": units}


# -- child processes ----------------------------------------------------------------------------
def child_import(url: str, path: Path) -> dict[str, Any]:
    from handlers.directory.importing import import_file
    from handlers.directory.objects_sheet import ObjectImporter
    from storage.audit import AuditLog
    from storage.db import Database

    db = Database(url)
    started = time.perf_counter()
    report = import_file(db, AuditLog(b"bench"), ObjectImporter(), path, now=NOW, corp_id="bench", keep=0)
    seconds = time.perf_counter() - started
    db.dispose()
    if not report.committed:
        raise SystemExit(report.text(5))
    return {"rows": report.rows, "seconds": seconds}


def child_csv_baseline(path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    rows = 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for _ in csv.reader(handle):
            rows += 1
    return {"rows": rows - 1, "seconds": time.perf_counter() - started}


def child_xlsx_baseline(path: Path) -> dict[str, Any]:
    from handlers.directory.tables import open_table

    started = time.perf_counter()
    rows = 0
    with open_table(path) as table:
        for _ in table.rows:
            rows += 1
    return {"rows": rows - 1, "seconds": time.perf_counter() - started}


def measure(args: list[str]) -> dict[str, Any]:
    """Run one child through a wrapper process, so RUSAGE_CHILDREN is that child's alone."""
    wrapper = [sys.executable, __file__, "--measure", "--", sys.executable, __file__, *args]
    output = subprocess.run(wrapper, check=True, capture_output=True, text=True, env=os.environ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_wrapper(command: list[str]) -> None:
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(done.returncode)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    # Linux reports ru_maxrss in KiB.
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


# -- databases ----------------------------------------------------------------------------------
def fresh_database(url: str) -> None:
    from sqlalchemy import text

    from storage.db import Database
    from storage.migrate import upgrade

    database = Database(url)
    if database.is_postgres:
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(database.engine)
    database.dispose()


def load_units(url: str, path: Path) -> None:
    from handlers.directory.importing import import_file
    from handlers.directory.units_sheet import UnitImporter
    from storage.audit import AuditLog
    from storage.db import Database

    db = Database(url)
    report = import_file(db, AuditLog(b"bench"), UnitImporter(), path, now=NOW, corp_id="bench")
    db.dispose()
    if not report.committed:
        raise SystemExit(report.text(5))


# -- main ---------------------------------------------------------------------------------------
def main() -> int:
    if "--measure" in sys.argv:
        run_wrapper(sys.argv[sys.argv.index("--") + 1 :])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=20_000, help="second file size, for the memory check")
    parser.add_argument("--pg", default=os.environ.get("CHAYICI_BENCH_PG_URL", ""))
    parser.add_argument("--child", choices=["import", "csv", "xlsx"])
    parser.add_argument("--db")
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.child == "import":
        print(json.dumps(child_import(args.db, args.file)))
        return 0
    if args.child == "csv":
        print(json.dumps(child_csv_baseline(args.file)))
        return 0
    if args.child == "xlsx":
        print(json.dumps(child_xlsx_baseline(args.file)))
        return 0

    logging_off()
    with tempfile.TemporaryDirectory(prefix="chayici-bench-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        big = write_files(folder, args.rows)
        small = write_files(folder, args.small) if args.small else None
        print(
            f"generated {args.rows:,} (+{args.small:,}) rows as .csv and .xlsx in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"  {big['csv'].name}: {big['csv'].stat().st_size / 2**20:.1f} MiB, "
            f"{big['xlsx'].name}: {big['xlsx'].stat().st_size / 2**20:.1f} MiB"
        )
        base_csv = measure(["--child", "csv", "--file", str(big["csv"])])
        base_xlsx = measure(["--child", "xlsx", "--file", str(big["xlsx"])])
        print()
        print(f"{'baseline':<34}{'rows/s':>12}{'peak MiB':>10}")
        for label, result in (
            ("csv.reader pass (.csv)", base_csv),
            ("xlsx streaming pass (.xlsx)", base_xlsx),
        ):
            print(f"{label:<34}{result['rows'] / result['seconds']:>12,.0f}{result['peak_mib']:>10.0f}")
        databases = [("SQLite", f"sqlite:///{folder / 'bench.db'}")]
        if args.pg:
            databases.append(("PostgreSQL", args.pg))
        print()
        print(
            f"{'import (validate+store+version)':<34}{'rows':>9}{'seconds':>9}{'rows/s':>10}{'peak MiB':>10}"
            f"{'vs csv.reader':>15}"
        )
        for name, url in databases:
            for fmt in ("csv", "xlsx"):
                for files in (big, small):
                    if files is None:
                        continue
                    if url.startswith("sqlite"):
                        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
                    fresh_database(url)
                    load_units(url, files["units"])
                    result = measure(["--child", "import", "--db", url, "--file", str(files[fmt])])
                    rate = result["rows"] / result["seconds"]
                    ratio = (result["seconds"] / result["rows"]) / (base_csv["seconds"] / base_csv["rows"])
                    label = f"{name} .{fmt}"
                    print(
                        f"{label:<34}{result['rows']:>9,}{result['seconds']:>9.1f}{rate:>10,.0f}"
                        f"{result['peak_mib']:>10.0f}{ratio:>14.0f}x"
                    )
    print("\nratio = time per row of the import / time per row of the csv.reader pass")
    return 0


def logging_off() -> None:
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
