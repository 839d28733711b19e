"""The production shape on one machine, for bench/replay.py and bench/faults.py.

Every piece is a separate OS process this module starts and can kill: a PRIVATE PostgreSQL cluster
(initdb into a temporary directory, its own port — the machine's shared PostgreSQL is never
touched), a PRIVATE redis-server on its own port, the SMS stand-in (bench/sms_standin.py, a
Twilio-shaped HTTP server that journals every accepted message), N single-process uvicorn HTTP
workers on N ports (config.asgi, production settings), one Celery worker and one Celery beat.

As the README's production section runs them under systemd with `Restart=always`, `App.supervise()`
restarts an HTTP worker, the Celery worker or beat that exits by itself (not one the fault drill
killed on purpose: that one the drill restarts itself, later), and records each restart. The first
one it caught: the Celery worker exiting with kombu's "Unrecoverable error: AttributeError
('NoneType' object has no attribute 'hostname')" when Redis restarted under an ack in flight.

The replay client spreads its requests over the N workers itself and moves to the next worker when
one refuses the connection — what nginx's `proxy_next_upstream error` does in front of them.
Never imported by the app.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from procs import free_port, wait_port
from prodenv import production_env

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".venv" / "bin" / "python"
PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]) if glob.glob("/usr/lib/postgresql/*/bin") else None
STAFF_PASSWORD = "Replay-bench-2026!"
# Each HTTP worker's psycopg pool: sized for the replay's concurrency on a loaded machine, where a
# request can hold its connection for seconds (8 connections and a 10 s wait gave hundreds of 500s).
HTTP_POOL = {"DB_POOL_MAX_SIZE": "30", "DB_POOL_TIMEOUT": "30"}


def _as_postgres() -> list[str]:
    # initdb and postgres refuse to run as root: run them as the postgres system user when we are root.
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivatePostgres:
    """A throw-away PostgreSQL cluster: initdb into `directory`, served on `port` (trust auth)."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def url_base(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def url(self, db: str) -> str:
        return f"{self.url_base}/{db}"

    def _ctl(self, *args: str) -> None:
        assert PG_BIN is not None
        subprocess.run(
            [*_as_postgres(), str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-w", "-t", "60", *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> PrivatePostgres:
        if PG_BIN is None:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin")
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            # mkdtemp makes 0700 directories: the postgres user must be able to pass through them.
            for parent in self.directory.parents:
                if parent == Path("/tmp") or parent == parent.parent:
                    break
                parent.chmod(parent.stat().st_mode | 0o711)
        data = self.directory / "data"
        if not data.exists():
            subprocess.run(
                [
                    *_as_postgres(),
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        opts = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c max_connections=300 "
            "-c shared_buffers=128MB -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._ctl("-o", opts, "-l", str(self.directory / "postgres.log"), "start")
        return self

    def restart(self) -> None:
        """A clean restart (`-m fast`: open connections are cut, as with pg_ctlcluster restart)."""
        self._ctl("-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("-m", "immediate", "stop")

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def bin(self, name: str) -> str:
        assert PG_BIN is not None
        return str(PG_BIN / name)


@dataclass
class PrivateRedis:
    """redis-server on its own port, appending every write to its AOF (fsync every second), as the
    README's production section asks: a restart keeps the broker's queued tasks."""

    directory: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> PrivateRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--loglevel", "warning",
            ],
            stdout=open(self.directory / "redis.log", "ab"),  # noqa: SIM115 - lives as long as the process
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_port(self.port, proc=self.proc)
        return self

    def restart(self) -> None:
        self.stop(graceful=True)
        self.start()

    def stop(self, graceful: bool = True) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@dataclass
class App:
    """The Django processes: HTTP workers, a Celery worker, Celery beat, and the SMS stand-in."""

    workdir: Path
    database_url: str
    redis_url: str
    http_workers: int = 3
    celery_concurrency: int = 2
    extra_env: dict[str, str] = field(default_factory=dict)
    http: list[subprocess.Popen[bytes] | None] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    worker: subprocess.Popen[bytes] | None = None
    beat: subprocess.Popen[bytes] | None = None
    sms: subprocess.Popen[bytes] | None = None
    sms_port: int = 0
    # What the supervisor restarted: {"process", "rc", "at"} (time.monotonic()), for the drill's report.
    restarts: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _supervising: threading.Event = field(default_factory=threading.Event)

    @property
    def sms_journal(self) -> Path:
        return self.workdir / "sms-journal.jsonl"

    @property
    def media_root(self) -> Path:
        return self.workdir / "media"

    @property
    def bases(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @property
    def sms_base(self) -> str:
        return f"http://127.0.0.1:{self.sms_port}"

    def env(self) -> dict[str, str]:
        return production_env(
            secret_key="replay-bench-not-a-secret-" + "x" * 30,
            database_url=self.database_url,
            redis_url=f"{self.redis_url}/0",
            broker_url=f"{self.redis_url}/1",
            signing_keys_dir=self.workdir / "keys",
            media_root=self.media_root,
            log_level="WARNING",
            drop=("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"),
            extra={
                "PUBLIC_BASE_URL": "http://127.0.0.1",
                "LOG_FORMAT": "json",
                "SMS_BACKEND": "twilio",
                "TWILIO_ACCOUNT_SID": "ACreplaybench00000000000000000000",
                "TWILIO_AUTH_TOKEN": "replay-bench-token",
                "TWILIO_FROM_NUMBER": "+15005550006",
                "TWILIO_API_BASE_URL": self.sms_base,
                "TWILIO_HTTP_TIMEOUT": "10",
                "SMS_RATE_PER_SECOND": "0",
                # The replay plays the proxy: it sends each simulated resident's address in X-Forwarded-For.
                "TRUSTED_PROXIES": "127.0.0.1/32",
                "OTP_PER_IP_PER_HOUR": "100000",
                "OTP_PER_PHONE_PER_HOUR": "100",
                "TONGBAN_DEMO_PASSWORD": STAFF_PASSWORD,
                # prepare() runs `manage.py load_demo` under these production settings: install the demo app.
                "TONGBAN_DEMO": "1",
                **self.extra_env,
            },
        )

    def manage(self, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(PY), "manage.py", *args], cwd=ROOT, env=self.env(), check=False, text=True, capture_output=True, **kw
        )
        if done.returncode != 0:
            # Say why: a bare CalledProcessError hides the command's own message (e.g. a settings refusal).
            sys.stderr.write(f"manage.py {' '.join(args)} failed:\n{done.stderr[-4000:]}\n")
            done.check_returncode()
        return done

    def _log(self, name: str) -> Any:
        return open(self.workdir / f"{name}.log", "ab")

    # --- the SMS stand-in --------------------------------------------------------------------------
    def start_sms(self, delay: float = 0.0) -> None:
        if not self.sms_port:
            self.sms_port = free_port()
        self.sms = subprocess.Popen(
            [
                str(PY), str(ROOT / "bench" / "sms_standin.py"), "--port", str(self.sms_port),
                "--journal", str(self.sms_journal), "--delay", str(delay),
                "--account-sid", self.env()["TWILIO_ACCOUNT_SID"], "--auth-token", self.env()["TWILIO_AUTH_TOKEN"],
            ],
            cwd=ROOT, stdout=self._log("sms"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_port(self.sms_port, proc=self.sms)

    # --- HTTP ------------------------------------------------------------------------------------
    def start_http(self, index: int | None = None, wait: bool = True) -> None:
        """Start every HTTP worker, or (index) restart that one on its port; wait: until it listens."""
        indices = range(self.http_workers) if index is None else [index]
        if not self.ports:
            self.ports = [free_port() for _ in range(self.http_workers)]
            self.http = [None] * self.http_workers
        for i in indices:
            self.http[i] = subprocess.Popen(
                [
                    str(PY), "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
                    "--port", str(self.ports[i]), "--log-level", "warning", "--no-access-log",
                ],
                cwd=ROOT, env={**self.env(), **HTTP_POOL}, stdout=self._log(f"http{i}"),
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        for i in indices if wait else []:
            proc = self.http[i]
            assert proc is not None
            # Importing every app takes seconds on an idle machine, a minute or more on a loaded one.
            wait_port(self.ports[i], timeout=240, proc=proc)

    def kill_http(self, index: int) -> None:
        with self._lock:
            proc = self.http[index]
            if proc is not None:
                proc.kill()
                proc.wait()
            self.http[index] = None

    # --- Celery ----------------------------------------------------------------------------------
    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [
                str(PY), "-m", "celery", "-A", "config", "worker", "-l", "warning",
                "--concurrency", str(self.celery_concurrency), "-n", f"replay-{os.getpid()}@%h", "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT, env=self.env(), stdout=self._log("worker"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill_worker(self) -> None:
        """kill -9 the worker's main process and its pool children (the whole session)."""
        with self._lock:
            if self.worker is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.worker.pid, signal.SIGKILL)
                self.worker.wait()
            self.worker = None

    def start_beat(self) -> None:
        self.beat = subprocess.Popen(
            [
                str(PY), "-m", "celery", "-A", "config", "beat", "-l", "warning",
                "-s", str(self.workdir / "celerybeat-schedule"),
            ],
            cwd=ROOT, env=self.env(), stdout=self._log("beat"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill_beat(self) -> None:
        with self._lock:
            if self.beat is not None:
                self.beat.kill()
                self.beat.wait()
            self.beat = None

    # --- supervision (systemd's Restart=always) --------------------------------------------------
    def supervise(self, interval: float = 1.0) -> None:
        """Start the watchdog thread: a process that exited by itself is started again."""
        if self._supervising.is_set():
            return
        self._supervising.set()
        threading.Thread(target=self._watch, args=(interval,), name="stack-supervisor", daemon=True).start()

    def _watch(self, interval: float) -> None:
        while self._supervising.is_set():
            time.sleep(interval)
            with self._lock:
                if not self._supervising.is_set():
                    return
                for i, proc in enumerate(self.http):
                    if proc is not None and proc.poll() is not None:
                        self._restarted(f"HTTP worker {i}", proc.returncode)
                        with contextlib.suppress(Exception):
                            self.start_http(i, wait=False)
                if self.worker is not None and self.worker.poll() is not None:
                    self._restarted("Celery worker", self.worker.returncode)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(self.worker.pid, signal.SIGKILL)  # its pool children too
                    self.start_worker()
                if self.beat is not None and self.beat.poll() is not None:
                    self._restarted("Celery beat", self.beat.returncode)
                    self.start_beat()

    def _restarted(self, name: str, rc: int | None) -> None:
        self.restarts.append({"process": name, "rc": rc, "at": time.monotonic()})
        print(f"[{time.strftime('%H:%M:%S')}] supervisor: {name} exited by itself (rc {rc}), restarting", flush=True)

    def start(self, sms_delay: float = 0.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.start_sms(sms_delay)
        self.start_http()
        self.start_worker()
        self.start_beat()

    def stop(self) -> None:
        self._supervising.clear()
        with self._lock:  # the watchdog must not start anything again meanwhile
            for i in range(len(self.http)):
                proc = self.http[i]
                if proc is not None and proc.poll() is None:
                    proc.terminate()
            for i in range(len(self.http)):
                proc = self.http[i]
                if proc is not None:
                    try:
                        proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
            self.kill_worker()
            self.kill_beat()
            if self.sms is not None:
                self.sms.terminate()
                self.sms.wait()


def prepare(app: App, *, halls: int, seed: int) -> dict[str, Any]:
    """migrate, load the Guizhou demo (idempotent), then the replay's staff: clerks with tokens at
    `halls` comprehensive halls (one per 通办 intake window and one at an issuing window), approvers
    at every department, a province supervisor. Returns the world file's content (written beside)."""
    # The key goes where the stack's processes will look (an extra_env may share one across runs).
    keys = Path(app.env()["RESULT_SIGNING_KEYS_DIR"])
    if not any(keys.glob("*.key")):
        app.manage("create_signing_key", "--skip-checks", "--dir", str(keys))
    app.manage("migrate", "--noinput", "-v0")
    app.manage("load_demo")
    out = subprocess.run(
        [str(PY), str(ROOT / "bench" / "replay_setup.py"), "--halls", str(halls), "--seed", str(seed)],
        cwd=ROOT,
        env=app.env(),
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    world: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    (app.workdir / "world.json").write_text(json.dumps(world, ensure_ascii=False, indent=1))
    return world


if __name__ == "__main__":  # a quick manual check: python bench/stack.py
    print(PG_BIN, sys.version)
