"""What the emulators' command lines share: common options, and serving until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .emulator import EmulatorBase


def parser(name: str, module: str, port: int) -> argparse.ArgumentParser:
    """An argument parser with the options every emulator takes."""
    out = argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=f"Run the offline {name} emulator until interrupted.",
    )
    out.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    out.add_argument("--port", type=int, default=port, help="port (0 picks a free one)")
    out.add_argument("--public-url", default=None, help="base URL used in hosted page links")
    out.add_argument(
        "--webhook-retry-backoff", type=float, default=0.5, help="first retry delay in seconds"
    )
    out.add_argument("--webhook-max-attempts", type=int, default=5)
    out.add_argument("--seed", type=int, default=None, help="make ids reproducible")
    out.add_argument("--verbose", action="store_true", help="log every request")
    return out


def serve(emulator: EmulatorBase, banner: str) -> None:
    """Start `emulator`, print `banner`, and serve until SIGTERM or Ctrl-C."""
    emulator.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    print(banner.format(url=emulator.url), flush=True)
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
