"""Benchmark the robot callback path under gunicorn on loopback.

(a) a bare Flask endpoint in the same app, (b) ``POST /dingtalk/robot`` with signed, distinct
``帮助`` messages (verify + parse + dedupe + route + outbox insert). Prints throughput, p50/p99 and
the ratio b/a, then p50/p99 of (b) at a fixed 100 req/s.

    python bench/webhook.py                       # SQLite in a temp dir
    python bench/webhook.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/bench

Load comes from wrk (Debian package) when present, else from a Python client; both run on the
same two cores as the server, so absolute figures understate a dedicated machine. Goals (issue 2):
b/a >= 0.25 and p99(b) <= 20 ms at 100 req/s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-app-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_bodies(count: int, ts: str) -> tuple[list[bytes], dict[str, str]]:
    from bot.signature import robot_sign

    bodies = []
    for n in range(count):
        body = {
            "msgtype": "text",
            "text": {"content": " 帮助"},
            "msgId": f"msgBENCH{n:09d}==",
            "createAt": int(ts),
            "conversationType": "2",
            "conversationId": "cidBENCHgroup==",
            "conversationTitle": "压测群",
            "senderStaffId": f"bench{n % 50}",
            "senderNick": "压测",
            "isInAtList": True,
            "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=0",
            "sessionWebhookExpiredTime": int(ts) + 5_400_000,
        }
        bodies.append(json.dumps(body, ensure_ascii=False).encode())
    headers = {"timestamp": ts, "sign": robot_sign(ts, SECRET), "Content-Type": "application/json"}
    return bodies, headers


def start_server(
    database_url: str, port: int, workers: int, data_dir: str, threads: int = 1
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "CHAYICI_DATABASE_URL": database_url,
            "CHAYICI_APP_SECRET": SECRET,
            "CHAYICI_DATA_DIR": data_dir,
            "PYTHONPATH": str(ROOT),
        }
    )
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-w",
        str(workers),
        "-k",
        "gthread" if threads > 1 else "sync",
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "bench.webhook_app:app",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/bench/bare")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def wrk_run(
    url: str, method: str, bodies: list[bytes], headers: dict[str, str], seconds: int, connections: int
) -> dict[str, float]:
    script_dir = tempfile.mkdtemp(prefix="wrk-")
    lua = Path(script_dir) / "bench.lua"
    if method == "GET":
        lua.write_text("wrk.method = 'GET'\n")
    else:
        data_file = Path(script_dir) / "bodies.txt"
        data_file.write_bytes(b"\n".join(bodies))
        header_lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
        lua.write_text(
            f"""
wrk.method = "POST"
{header_lines}
local bodies = {{}}
for line in io.lines("{data_file}") do bodies[#bodies + 1] = line end
local counter = 0
local thread_count = 0
setup = function(thread) thread_count = thread_count + 1 end
request = function()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format(nil, nil, nil, body)
end
"""
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shutil.rmtree(script_dir, ignore_errors=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {
        "rps": rps,
        "p50": _wrk_latency(out, "50%"),
        "p99": _wrk_latency(out, "99%"),
        "non2xx": _non2xx(out),
    }


def _wrk_latency(out: str, label: str) -> float:
    match = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _non2xx(out: str) -> float:
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return float(match.group(1)) if match else 0.0


def python_run(
    port: int,
    path: str,
    bodies: list[bytes] | None,
    headers: dict[str, str],
    seconds: float,
    threads: int,
    rate: float | None,
) -> dict[str, float]:
    """Closed-loop (rate=None) or paced (rate req/s in total) load from Python threads."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(10**9))
    end = time.perf_counter() + seconds
    start = time.perf_counter()

    def run(thread_index: int) -> None:
        nonlocal errors
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local: list[float] = []
        sent = 0
        while True:
            now = time.perf_counter()
            if now >= end:
                break
            if rate:
                due = start + (sent * threads + thread_index) / rate
                if due > now:
                    time.sleep(due - now)
            n = next(counter)
            t0 = time.perf_counter()
            if bodies is None:
                conn.request("GET", path)
            else:
                conn.request("POST", path, body=bodies[n % len(bodies)], headers=headers)
            response = conn.getresponse()
            response.read()
            local.append((time.perf_counter() - t0) * 1000)
            sent += 1
            if response.status != 200:
                with lock:
                    errors += 1
        with lock:
            latencies.extend(local)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "non2xx": float(errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg", help="PostgreSQL URL (schema is reset)")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread when > 1)")
    args = parser.parse_args()

    from bot.settings import Settings
    from storage.db import Database
    from storage.migrate import upgrade

    tmp = tempfile.mkdtemp(prefix="bench-webhook-")
    if args.pg:
        from sqlalchemy import text

        url = args.pg
        database = Database(url)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    else:
        url = f"sqlite:///{tmp}/bench.db"
        database = Database(url)
    upgrade(database.engine)
    database.dispose()

    port = free_port()
    server = start_server(url, port, args.workers, tmp, args.threads)
    ts = str(int(time.time() * 1000))
    bodies, headers = make_bodies(200_000, ts)
    base = f"http://127.0.0.1:{port}"
    use_wrk = shutil.which("wrk") is not None
    try:  # SQLite: the worker's checkpoint thread runs here beside the server (storage/checkpoint.py)
        with database.checkpointing(Settings().sqlite_checkpoint_seconds):
            if use_wrk:
                bare = wrk_run(f"{base}/bench/bare", "GET", [], {}, args.seconds, args.connections)
                robot = wrk_run(
                    f"{base}/dingtalk/robot", "POST", bodies, headers, args.seconds, args.connections
                )
            else:
                bare = python_run(port, "/bench/bare", None, {}, args.seconds, args.connections, None)
                robot = python_run(
                    port, "/dingtalk/robot", bodies, headers, args.seconds, args.connections, None
                )
            paced_bodies, _ = make_bodies(20_000, ts)
            paced_bodies = [b.replace(b"msgBENCH", b"msgPACED") for b in paced_bodies]
            paced = python_run(port, "/dingtalk/robot", paced_bodies, headers, args.seconds, 4, 100.0)
    finally:
        server.terminate()
        server.wait(timeout=10)

    backend = "PostgreSQL" if args.pg else "SQLite"
    kind = f"gthread ({args.threads} threads)" if args.threads > 1 else "sync"
    tool = "wrk" if use_wrk else "python client"
    print(
        f"webhook benchmark on {backend}, gunicorn {kind} x{args.workers}, load by {tool}, {args.connections} connections, {args.seconds}s"
    )
    print(
        f"(a) bare endpoint        {bare['rps']:8.0f} req/s  p50 {bare['p50']:6.2f} ms  p99 {bare['p99']:6.2f} ms"
    )
    print(
        f"(b) POST /dingtalk/robot {robot['rps']:8.0f} req/s  p50 {robot['p50']:6.2f} ms  p99 {robot['p99']:6.2f} ms  non-2xx {robot['non2xx']:.0f}"
    )
    print(f"ratio b/a = {robot['rps'] / bare['rps']:.2f}  (goal >= 0.25)")
    print(
        f"(b) paced at 100 req/s:  {paced['rps']:6.1f} req/s achieved  p50 {paced['p50']:6.2f} ms  p99 {paced['p99']:6.2f} ms  non-2xx {paced['non2xx']:.0f}  (goal p99 <= 20 ms)"
    )
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
