"""Create the separate virtual environment that dj-stripe 2.11 runs in, under benchmarks/.work/."""

from __future__ import annotations

import argparse
import subprocess
import sys
import venv
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
VENV_DIR = BENCH_DIR / ".work" / "djstripe-venv"
REQUIREMENTS = [
    "dj-stripe==2.11.*",
    "stripe<16",
    "Django>=5.2,<6",
    "gunicorn",
    "psycopg[binary]",
]


def venv_python(venv_dir: Path = VENV_DIR) -> Path:
    """The interpreter of the dj-stripe environment."""
    return venv_dir / "bin" / "python"


def is_ready(venv_dir: Path = VENV_DIR) -> bool:
    """True when the environment exists and imports dj-stripe, stripe and gunicorn."""
    python = venv_python(venv_dir)
    if not python.exists():
        return False
    probe = subprocess.run(
        [str(python), "-c", "import djstripe, stripe, gunicorn, psycopg, django"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def ensure_venv(venv_dir: Path = VENV_DIR, *, quiet: bool = True) -> Path:
    """Create the environment and install dj-stripe into it unless it is already there."""
    if is_ready(venv_dir):
        return venv_python(venv_dir)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    pip = [str(venv_python(venv_dir)), "-m", "pip", "install", "--disable-pip-version-check"]
    if quiet:
        pip.append("--quiet")
    subprocess.run([*pip, *REQUIREMENTS], check=True)
    if not is_ready(venv_dir):
        raise RuntimeError(f"dj-stripe environment at {venv_dir} does not import djstripe")
    return venv_python(venv_dir)


def installed_versions(venv_dir: Path = VENV_DIR) -> dict[str, str]:
    """The versions of the packages that matter, as installed in the environment."""
    code = (
        "import json, importlib.metadata as m;"
        "print(json.dumps({n: m.version(n) for n in "
        "('dj-stripe', 'stripe', 'Django', 'gunicorn', 'psycopg')}))"
    )
    out = subprocess.run(
        [str(venv_python(venv_dir)), "-c", code], capture_output=True, text=True, check=True
    )
    import json

    return json.loads(out.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--venv", type=Path, default=VENV_DIR)
    args = parser.parse_args()
    python = ensure_venv(args.venv, quiet=False)
    print(python)
    print(installed_versions(args.venv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
