"""The example's tests again, on PostgreSQL, in a fresh interpreter (one settings module per
process). The server comes from scripts/ensure_postgres.sh (./build.sh test runs it)."""
import os
import subprocess
import sys

import pytest
from example_support import EXAMPLE

ON_POSTGRES = os.environ.get("DISCORD_DJANGO_DB") == "postgres"


@pytest.mark.skipif(ON_POSTGRES, reason="this is the PostgreSQL run itself")
def test_example_suite_on_postgresql(tmp_path):
    if not os.environ.get("STREAMRANK_PG_HOST"):
        pytest.skip("PostgreSQL tests skipped: no server. Run them with "
                    "`eval \"$(scripts/ensure_postgres.sh)\"` first (./build.sh test does), or set "
                    "STREAMRANK_PG_HOST/PORT/USER/PASSWORD/DB to a server where the user may create databases.")
    (tmp_path / "data").mkdir()
    env = dict(os.environ, DISCORD_DJANGO_DB="postgres", DISCORD_DJANGO_HOME=str(tmp_path))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not demo",
         "--rootdir", str(EXAMPLE), str(EXAMPLE / "tests")],
        capture_output=True, text=True, timeout=600, env=env, cwd=EXAMPLE,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    print(f"PostgreSQL run: {summary}")
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in summary and "failed" not in summary and "error" not in summary


def test_database_is_the_one_selected():
    from django.db import connection

    assert connection.vendor == ("postgresql" if ON_POSTGRES else "sqlite")
