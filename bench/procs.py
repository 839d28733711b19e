"""Processes the benches start and watch: free ports, the HTTP servers and a Celery worker as the
README's production section runs them, and where the machine's CPU goes while they serve.

Shared by bench/bench_api.py, bench/stack.py and bench/bench_nearest.py (whose ``serve`` bench_map.py
and bench_ws.py reuse); never imported by the app.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
BIN = ROOT / ".venv" / "bin"


# --- ports ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60.0, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


# --- the HTTP server and the Celery worker (bench_api) ---------------------------------------------


def server_cmd(kind: str, app: str, port: int, workers: int, threads: int) -> list[str]:
    if kind == "gunicorn":
        return [
            str(BIN / "gunicorn"),
            f"{app}.wsgi:application",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
        ]
    return [
        str(PY),
        "-m",
        "uvicorn",
        f"{app}.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@contextlib.contextmanager
def serve(
    kind: str,
    app: str,
    env: dict[str, str],
    workers: int,
    threads: int,
    probe: str,
    *,
    up: Callable[[int], bool] = lambda status: status < 500,
) -> Iterator[str]:
    """Start the server (``app`` is ``config`` or the floor's ``floor``), yield its base URL once
    GET ``probe`` answers with a status ``up`` accepts (by default any below 500)."""
    import requests

    port = free_port()
    cwd = ROOT if app == "config" else ROOT / "bench"
    if kind == "uvicorn":
        # Django's persistent connections are per thread, and under ASGI the threads that run sync
        # code come and go: connections pile up (Django's docs: disable them under ASGI).
        env = {**env, "DB_CONN_MAX_AGE": "0", "FLOOR_CONN_MAX_AGE": "0"}
    proc = subprocess.Popen(server_cmd(kind, app, port, workers, threads), cwd=cwd, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if up(requests.get(base + probe, timeout=10).status_code):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{kind} ({app}) did not start")
            time.sleep(0.3)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def celery_worker(env: dict[str, str], *, beat_schedule: Path | None = None) -> Iterator[None]:
    """One Celery worker (threads, concurrency 2); with ``beat_schedule`` (a file path) also the one
    Celery beat of the production shape, whose sweeps re-queue what the worker left due (the SMS
    outbox above the provider's rate, renders a lost hand-off missed)."""
    cmd = [str(BIN / "celery"), "-A", "config", "worker", "-l", "warning", "--concurrency", "2", "-P", "threads"]
    cmd += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)]
    if beat_schedule is not None:
        beat = [str(BIN / "celery"), "-A", "config", "beat", "-l", "warning", "-s", str(beat_schedule)]
        procs.append(subprocess.Popen(beat, cwd=ROOT, env=env, start_new_session=True))
    try:
        time.sleep(3)
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("the Celery worker or beat did not start")
        yield
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# --- where the machine's CPU goes during a phase (a diagnosis beside the figures) -------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_KINDS = (("gunicorn", "http"), ("uvicorn", "http"), ("celery", "celery"), ("postgres", "postgres"))


def cpu_snapshot() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process that serves the bench, by kind: the HTTP
    server's workers, the Celery worker, PostgreSQL's backends, Redis, and this process (the
    clients). Read from /proc; empty where there is none (the figures then omit it)."""
    out: dict[int, tuple[str, float]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return out
    seen: dict[int, tuple[str, int, float]] = {}  # pid → (cmdline, parent pid, CPU seconds)
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[int(entry.name)] = (cmdline, int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)

    def kind_of(cmdline: str) -> str:
        if "redis-server" in cmdline:
            return "redis"
        return next((k for needle, k in _KINDS if needle in cmdline), "")

    for pid, (cmdline, ppid, seconds) in seen.items():
        kind = "clients" if pid == os.getpid() else kind_of(cmdline)
        if not kind and "multiprocessing" in cmdline and ppid in seen:
            # uvicorn --workers N spawns its workers through multiprocessing: their command line
            # names no server, their parent does.
            kind = kind_of(seen[ppid][0])
        if kind:
            out[pid] = (kind, seconds)
    return out


def cpu_ms_per_call(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], calls: int
) -> dict[str, float]:
    spent: dict[str, float] = defaultdict(float)
    for pid, (kind, seconds) in after.items():
        spent[kind] += seconds - (before[pid][1] if pid in before else 0.0)
    total = sum(spent.values())
    figures = {kind: round(1000 * sec / max(calls, 1), 2) for kind, sec in sorted(spent.items())}
    figures["total"] = round(1000 * total / max(calls, 1), 2)
    return figures
