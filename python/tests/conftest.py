import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, *, env=None, timeout=120, python=sys.executable):
    """Run ``code`` in a fresh interpreter (a JVM per process: some tests need a clean one)."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, timeout=timeout, env=full_env
    )


@pytest.fixture
def python_subprocess():
    return run_python
