"""The fault drill: a replay on the production shape while its processes are killed, then checks.

    .venv/bin/python bench/faults.py [--runs 3] [--rate 1] [--duration 240] [--short]

Builds (bench/stack.py) a PRIVATE PostgreSQL cluster and a PRIVATE redis-server (own ports, own
directories: the machine's shared services are never touched), migrates and loads the Guizhou demo
into a template database once, then per run: a fresh database cloned from it, three uvicorn HTTP
workers, a Celery worker, Celery beat and the SMS stand-in (which takes each message, journals it,
and answers only after --sms-delay, so a worker killed while sending leaves a message the provider
took but nobody recorded). bench/replay.py drives them while, at fixed fractions of the run:

  15 %  kill -9 one HTTP worker (restarted 5 s later on its port)
  30 %  kill -9 the Celery worker — waiting until a message is being sent — restarted 5 s later
  45 %  kill -9 Celery beat (restarted 3 s later)
  60 %  restart PostgreSQL (fast shutdown: every open connection is cut)
  75 %  restart Redis (broker, cache and channel layer)

Then it lets the system recover (outbox drained, every result rendered, or --recover seconds) and
checks (bench/faults_check.py): every case answered 201/200 is there with its full event chain; no
SMS sent twice and none lost; every result rendered; no ticket called twice; every board shows the
hall's current state; `manage.py verify_ledger` passes. Last, the backup drill: pg_dump of the
database and a tar of MEDIA_ROOT, restored into a fresh database and directory, where
verify_ledger and the same checks (plus every file's digest) pass again.

Violations are printed with the object they concern; exit 1 when any run has one. Writes
bench/results/faults.json. --short is the CI version: one run of 60 s at 0.5 cases/s, eight halls.
(Measured with an 80 s replay on a 2-core machine shared by eight agents, load 14-20: 391 s wall,
113 s of it building the template database; an idle runner needs far less.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import PY, ROOT, App, PrivatePostgres, PrivateRedis, prepare

DRILL_ENV = {
    # Recovery at drill speed: a claimed message whose worker died is retried after 20 s, the outbox
    # sweep runs every 10 s, the render sweep every 20 s, the ledger seals every 15 s.
    "SMS_SENDING_TIMEOUT": "20",
    "SMS_DISPATCH_GRACE": "5",
    "SMS_RETRY_BACKOFF_BASE": "2",
    "SMS_RETRY_BACKOFF_MAX": "30",
    "SMS_MAX_ATTEMPTS": "50",
    "RESULT_RENDER_SWEEP_SECONDS": "20",
    "LEDGER_SEAL_SECONDS": "15",
    "SMS_SWEEP_SECONDS": "10",
    # A board re-reads its hall every 5 s: a lost broadcast shows within the replay's 15 s settle.
    "QUEUE_BOARD_REFRESH_SECONDS": "5",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sql(url: str, query: str) -> Any:
    import psycopg

    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute(query).fetchone()[0]


def wait_sending(url: str, timeout: float) -> bool:
    """Wait until some outbox row is being sent right now (a worker is inside the provider call)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sql(url, "SELECT count(*) FROM notifications_outboxmessage WHERE status = 'sending'"):
                return True
        except Exception:
            pass
        time.sleep(0.05)
    return False


def recover(url: str, timeout: float) -> dict[str, Any]:
    """Wait for the outbox to drain and every result to be rendered."""
    started = time.monotonic()
    state: dict[str, Any] = {}
    while time.monotonic() - started < timeout:
        try:
            state = {
                "outbox_open": sql(
                    url,
                    "SELECT count(*) FROM notifications_outboxmessage WHERE status IN ('pending','failed','sending')",
                ),
                "unrendered": sql(
                    url,
                    "SELECT count(*) FROM workflows_result r LEFT JOIN licences_resultdocument d "
                    "ON d.result_id = r.id WHERE d.id IS NULL",
                ),
                "unsealed": sql(url, "SELECT count(*) FROM ledger_entry WHERE batch_id IS NULL"),
            }
        except Exception as exc:
            state = {"error": str(exc)}
        if state.get("outbox_open") == 0 and state.get("unrendered") == 0 and state.get("unsealed") == 0:
            break
        time.sleep(2)
    state["seconds"] = round(time.monotonic() - started, 1)
    return state


def run_checks(app: App, record: Path, *, files: bool = False, env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = [str(PY), str(ROOT / "bench" / "faults_check.py"), "--record", str(record), "--journal", str(app.sms_journal)]
    if files:
        cmd.append("--files")
    out = subprocess.run(cmd, cwd=ROOT, env=env or app.env(), text=True, capture_output=True)
    lines = out.stdout.strip().splitlines()
    for line in lines[:-1]:
        print("   ", line, flush=True)
    if out.returncode not in (0, 1):
        print(out.stderr[-3000:], flush=True)
        return {"violations": 1, "error": out.stderr[-500:]}
    summary: dict[str, Any] = json.loads(lines[-1]) if lines else {"violations": 1}
    summary["violation_lines"] = [line for line in lines[:-1] if line.startswith("VIOLATION")][:50]
    return summary


def verify_ledger(env: dict[str, str]) -> tuple[bool, str]:
    out = subprocess.run([str(PY), "manage.py", "verify_ledger"], cwd=ROOT, env=env, text=True, capture_output=True)
    lines = out.stdout.strip().splitlines() or out.stderr.strip().splitlines() or [""]
    return out.returncode == 0, lines[-1]


def backup_and_restore(pg: PrivatePostgres, app: App, db: str, workdir: Path, record: Path) -> dict[str, Any]:
    """The README's backup and restore, exactly: pg_dump -Fc + tar of MEDIA_ROOT, then pg_restore
    into a fresh database and the archive into a fresh directory; verify_ledger and the checks there."""
    dump = workdir / "tongban.dump"
    media_tar = workdir / "media.tar.gz"
    t0 = time.monotonic()
    subprocess.run([pg.bin("pg_dump"), "-Fc", "--no-owner", "-d", pg.url(db), "-f", str(dump)], check=True)
    with tarfile.open(media_tar, "w:gz") as tar:
        tar.add(app.media_root, arcname=".")
    backup_s = time.monotonic() - t0
    restored_url = pg.create_db(f"{db}_restored")
    restored_media = workdir / "media-restored"
    t0 = time.monotonic()
    subprocess.run([pg.bin("pg_restore"), "--no-owner", "--exit-on-error", "-d", restored_url, str(dump)], check=True)
    restored_media.mkdir()
    with tarfile.open(media_tar) as tar:
        tar.extractall(restored_media, filter="data")
    restore_s = time.monotonic() - t0
    env = {**app.env(), "DATABASE_URL": restored_url, "MEDIA_ROOT": str(restored_media)}
    ok, line = verify_ledger(env)
    checks = run_checks(app, record, files=True, env=env)
    return {
        "dump_bytes": dump.stat().st_size,
        "media_bytes": media_tar.stat().st_size,
        "backup_s": round(backup_s, 1),
        "restore_s": round(restore_s, 1),
        "verify_ledger": ok,
        "verify_ledger_output": line,
        "checks": checks,
    }


def one_run(index: int, args: argparse.Namespace, pg: PrivatePostgres, top: Path, world_file: Path) -> dict[str, Any]:
    work = top / f"run{index}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db = f"tongban_run{index}"
    import psycopg

    with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}" TEMPLATE tongban_base')
    redis = PrivateRedis(work / "redis").start()
    app = App(
        workdir=work / "app",
        database_url=pg.url(db),
        redis_url=redis.url,
        http_workers=3,
        extra_env={**DRILL_ENV, "RESULT_SIGNING_KEYS_DIR": str(top / "keys")},
    )
    app.workdir.mkdir()
    if (top / "base-media").exists():
        shutil.copytree(top / "base-media", app.media_root)
    app.start(sms_delay=args.sms_delay)
    app.supervise()  # systemd's Restart=always, as the README's production section runs them
    record = work / "record.jsonl"
    replay = subprocess.Popen(
        [
            str(PY), str(ROOT / "bench" / "replay.py"), *[arg for b in app.bases for arg in ("--base", b)],
            "--world", str(world_file), "--sms", app.sms_base, "--rate", str(args.rate),
            "--duration", str(args.duration), "--seed", str(args.seed + index), "--record", str(record),
            "--out", str(work / "replay.json"), "--drain", str(args.drain), "--board-settle", "15",
        ],
        cwd=ROOT, stdout=open(work / "replay.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    faults: list[dict[str, Any]] = []
    started = time.monotonic()

    def at(frac: float) -> None:
        time.sleep(max(0.0, started + frac * args.duration - time.monotonic()))

    def note(kind: str, **extra: Any) -> None:
        faults.append({"fault": kind, "t_s": round(time.monotonic() - started, 1), **extra})
        log(f"run {index}: {kind} {extra or ''}")

    try:
        at(0.15)
        app.kill_http(1)
        note("kill -9 HTTP worker 1")
        time.sleep(5)
        # Not waited for: on a loaded machine the imports take a minute, and the schedule goes on.
        app.start_http(1, wait=False)
        note("HTTP worker 1 restarting")

        at(0.30)
        mid_send = wait_sending(pg.url(db), timeout=20)
        app.kill_worker()
        note("kill -9 Celery worker", mid_send=mid_send)
        time.sleep(5)
        app.start_worker()
        note("Celery worker restarted")

        at(0.45)
        app.kill_beat()
        note("kill -9 Celery beat")
        time.sleep(3)
        app.start_beat()
        note("Celery beat restarted")

        at(0.60)
        t0 = time.monotonic()
        pg.restart()
        note("PostgreSQL restarted", seconds=round(time.monotonic() - t0, 1))

        at(0.75)
        t0 = time.monotonic()
        redis.restart()
        note("Redis restarted", seconds=round(time.monotonic() - t0, 1))

        replay.wait()
        note("replay finished", rc=replay.returncode)
        recovery = recover(pg.url(db), args.recover)
        note("recovered", **recovery)
        checks = run_checks(app, record)
        ledger_ok, ledger_line = verify_ledger(app.env())
        log(f"run {index}: verify_ledger {'ok' if ledger_ok else 'FAILED'}: {ledger_line}")
        if not ledger_ok:
            checks["violations"] = checks.get("violations", 0) + 1
            checks.setdefault("violation_lines", []).append(f"VIOLATION verify_ledger: {ledger_line}")
            print("    VIOLATION verify_ledger:", ledger_line, flush=True)
    finally:
        if replay.poll() is None:
            replay.kill()
        app.stop()
        redis.stop()
    restore = backup_and_restore(pg, app, db, work, record)
    log(
        f"run {index}: backup {restore['dump_bytes']} B + media {restore['media_bytes']} B → restored in "
        f"{restore['restore_s']} s; verify_ledger {'ok' if restore['verify_ledger'] else 'FAILED'}; "
        f"{restore['checks'].get('violations')} violations after restore"
    )
    replay_result = json.loads((work / "replay.json").read_text()) if (work / "replay.json").exists() else {}
    violations = checks.get("violations", 1) + restore["checks"].get("violations", 1) + (not restore["verify_ledger"])
    return {
        "run": index,
        "faults": faults,
        "recovery": recovery,
        # Processes that exited by themselves and the supervisor started again (not a violation:
        # production's systemd does the same; reported so a new way of dying is seen).
        "unplanned_restarts": [
            {"process": r["process"], "rc": r["rc"], "t_s": round(r["at"] - started, 1)} for r in app.restarts
        ],
        "checks": checks,
        "verify_ledger": ledger_ok,
        "backup_restore": restore,
        "replay": {
            k: replay_result.get(k) for k in ("timing", "throughput", "counts", "errors", "failovers", "boards")
        },
        "violations": violations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=240.0)
    parser.add_argument("--drain", type=float, default=120.0)
    parser.add_argument("--recover", type=float, default=300.0)
    parser.add_argument("--sms-delay", type=float, default=0.3)
    parser.add_argument("--halls", type=int, default=20)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--short", action="store_true", help="CI: one run, rate 0.5, 60 s, shorter recovery")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faults.json")
    args = parser.parse_args()
    if args.short:
        args.runs, args.rate, args.duration, args.drain, args.recover = 1, 0.5, 60.0, 45.0, 120.0
        args.halls = min(args.halls, 8)

    top = Path(args.workdir or tempfile.mkdtemp(prefix="tongban-faults-"))
    top.mkdir(parents=True, exist_ok=True)
    pg = PrivatePostgres(top / "pg").start()
    log(f"private PostgreSQL on {pg.port}, work in {top}")
    results: list[dict[str, Any]] = []
    try:
        import psycopg

        with psycopg.connect(pg.url("postgres"), autocommit=True) as conn:
            have_base = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'tongban_base'").fetchone()
        world_file = top / "base" / "world.json"
        if have_base and world_file.exists():
            log("template database kept from an earlier drill in this work directory")
        else:
            base_redis = PrivateRedis(top / "base-redis").start()
            base = App(
                workdir=top / "base",
                database_url=pg.create_db("tongban_base"),
                redis_url=base_redis.url,
                extra_env={"RESULT_SIGNING_KEYS_DIR": str(top / "keys")},
            )
            base.workdir.mkdir(exist_ok=True)
            t0 = time.monotonic()
            prepare(base, halls=args.halls, seed=args.seed)
            base_redis.stop()
            if base.media_root.exists():
                shutil.copytree(base.media_root, top / "base-media", dirs_exist_ok=True)
            log(f"template database ready in {time.monotonic() - t0:.0f} s")
        for i in range(1, args.runs + 1):
            result = one_run(i, args, pg, top, world_file)
            results.append(result)
            log(f"run {i}: {'PASS' if result['violations'] == 0 else 'FAIL'} ({result['violations']} violations)")
    finally:
        pg.stop()
        if not args.keep:
            shutil.rmtree(top, ignore_errors=True)
    passed = sum(r["violations"] == 0 for r in results)
    out = {
        "bench": "faults",
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "runs": results,
        "passed": passed,
        "all_passed": passed == len(results) == args.runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    log(f"{passed}/{args.runs} runs passed")
    sys.exit(0 if out["all_passed"] else 1)


if __name__ == "__main__":
    threading.excepthook = lambda a: log(f"thread failed: {a.exc_value!r}")
    main()
