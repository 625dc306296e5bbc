"""Starting and stopping the processes a benchmark talks to: gunicorn and the Stripe emulator."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WORK = REPO / "benchmarks" / ".work"
PROJECT_PYTHON = Path(sys.executable)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Block until something accepts connections on ``port``; fail if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout} s")


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of a child process: the repository on PYTHONPATH, plus ``extra``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), str(REPO / "src"), env.get("PYTHONPATH", "")) if p
    )
    env.update(extra)
    return env


class Managed:
    """A child process in its own process group, stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        log.parent.mkdir(parents=True, exist_ok=True)
        self.log_path = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            args,
            env=env,
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def terminate(self) -> None:
        """Send SIGTERM without waiting (stop several at once, then :meth:`stop` each)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()

    def __enter__(self) -> Managed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Gunicorn(Managed):
    """gunicorn with ``workers`` sync workers (its defaults otherwise) on 127.0.0.1."""

    def __init__(
        self,
        python: Path,
        wsgi: str,
        env: dict[str, str],
        *,
        name: str,
        workers: int = 2,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        args = [
            str(python),
            "-m",
            "gunicorn",
            wsgi,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--chdir",
            str(REPO),
            "--timeout",
            "120",
        ]
        slug = re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-")
        super().__init__(args, env, WORK / "logs" / f"gunicorn-{slug}.log")
        wait_for_port(self.port, self.process)


class Emulator(Managed):
    """The Stripe emulator in its own process, with a side port that reports request counts."""

    def __init__(self, *, seed: int = 9, name: str = "emulator") -> None:
        self.port = free_port()
        # Two free ports in a row can be the same one (the first was closed, not yet taken).
        self.stats_port = free_port()
        while self.stats_port == self.port:
            self.stats_port = free_port()
        args = [
            str(PROJECT_PYTHON),
            "-m",
            "benchmarks.harness.emulator_server",
            "--port",
            str(self.port),
            "--stats-port",
            str(self.stats_port),
            "--seed",
            str(seed),
        ]
        super().__init__(args, bench_env(), WORK / "logs" / f"{name}.log")
        wait_for_port(self.port, self.process)
        wait_for_port(self.stats_port, self.process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any]:
        """Requests the emulator answered under ``/v1/`` so far: total and by route."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.stats_port}/stats", timeout=10) as r:
            return json.loads(r.read())


def logged_errors(log: Path, limit: int = 10) -> dict[str, int]:
    """The exceptions a server logged, by message with ids masked, most frequent first."""
    counts: Counter[str] = Counter()
    pattern = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception)): (.*)$")
    for line in log.read_text(errors="replace").splitlines():
        found = pattern.match(line)
        if found:
            message = re.sub(r"\b[a-z]{2,5}_[A-Za-z0-9]{8,}\b", "<id>", found.group(2))
            counts[f"{found.group(1)}: {message[:300]}"] += 1
    return dict(counts.most_common(limit))


def run(args: list[str], env: dict[str, str], *, timeout: float = 600.0) -> str:
    """Run a helper process to completion; its stdout, or an error with its output."""
    done = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout[-3000:]}\n"
            f"{done.stderr[-6000:]}"
        )
    return done.stdout


def last_json(output: str) -> Any:
    """The JSON document on the last non-empty line of a helper's output."""
    lines = [line for line in output.splitlines() if line.strip()]
    return json.loads(lines[-1])
