"""The demo as the browser tests run it: the Stripe emulator, the VIES stand-in and the site."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_PROJECT = ROOT / "example_project"


class StackError(RuntimeError):
    """A part of the demo did not start; the message carries the end of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30.0) -> bool:
    """Whether ``url`` answers (any HTTP status) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class DemoStack:
    """Starts the offline demo the way ``scripts/demo`` does, on free ports, in ``workdir``."""

    workdir: Path
    python: str = sys.executable
    processes: list[tuple[str, subprocess.Popen[bytes], Path]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    site_url: str = ""
    stripe_url: str = ""
    vies_url: str = ""
    _logs: list[IO[bytes]] = field(default_factory=list)

    def start(self) -> DemoStack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        stripe_port, vies_port, site_port = free_port(), free_port(), free_port()
        self.stripe_url = f"http://127.0.0.1:{stripe_port}"
        self.vies_url = f"http://127.0.0.1:{vies_port}/"
        self.site_url = f"http://127.0.0.1:{site_port}"
        self.env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "demo_site.settings",
            "DATABASE_PATH": str(self.workdir / "demo.sqlite3"),
            "STRIPE_API_KEY": "sk_test_example_project_browser_tests",
            "STRIPE_API_BASE": self.stripe_url,
            "VIES_ADDRESS": self.vies_url,
            "VIES_REQUESTER_VAT_NUMBER": "DE812345673",
            "DEBUG": "1",
        }
        self.env.pop("STRIPE_WEBHOOK_SECRET", None)
        self.spawn(
            "stripe-emulator",
            [
                self.python,
                "-m",
                "django_payments_sync.testing.stripe_emulator",
                "--port",
                str(stripe_port),
            ],
            f"{self.stripe_url}/_emulator/state",
        )
        self.spawn(
            "vies",
            [
                self.python,
                "-m",
                "django_payments_sync.testing.vies_responder",
                "--port",
                str(vies_port),
            ],
            self.vies_url,
        )
        # No signing secret before the endpoint is registered: no checks (they would warn).
        self.manage("migrate", "--no-input", "--skip-checks", "-v", "0")
        self.manage("seed_demo", "--skip-checks")
        registered = self.manage(
            "payments_sync", "--skip-checks", "webhook-endpoint", self.site_url
        )
        secret = re.search(r"whsec_[A-Za-z0-9_]+", registered)
        if not secret:
            raise StackError(f"payments_sync webhook-endpoint printed no secret:\n{registered}")
        self.env["STRIPE_WEBHOOK_SECRET"] = secret.group(0)
        self.manage("payments_sync", "push")
        self.spawn(
            "site",
            [self.python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{site_port}"],
            f"{self.site_url}/login/",
        )
        return self

    def spawn(self, name: str, command: list[str], ready_url: str) -> None:
        log_path = self.workdir / f"{name}.log"
        log = log_path.open("wb")
        self._logs.append(log)
        process = subprocess.Popen(
            command, cwd=EXAMPLE_PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append((name, process, log_path))
        if not wait_for_http(ready_url) or process.poll() is not None:
            raise StackError(f"{name} did not start:\n{self.tail(log_path)}")

    def manage(self, *args: str) -> str:
        completed = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=EXAMPLE_PROJECT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if completed.returncode != 0:
            raise StackError(
                f"manage.py {' '.join(args)} failed ({completed.returncode}):\n"
                f"{completed.stdout[-2000:]}\n{completed.stderr[-4000:]}"
            )
        return completed.stdout

    def site_log(self) -> str:
        return next((self.tail(path) for name, _, path in self.processes if name == "site"), "")

    @staticmethod
    def tail(path: Path, lines: int = 40) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        for _, process, _ in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for _, process, _ in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for log in self._logs:
            log.close()
        self.processes.clear()
