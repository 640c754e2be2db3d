"""Example budgets for the Hypothesis tests of the reliability suite.

``HYPOTHESIS_PROFILE`` picks one: ``ci`` (default; the whole reliability suite stays within CI's
time on 2 cores), ``dev`` (5x), ``soak`` (40x, for a long local run). The budgets are applied per
test with :func:`budget` rather than by loading a global profile, so other test files keep
Hypothesis' own defaults.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

MULTIPLIER = {"ci": 1, "dev": 5, "soak": 40}
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in MULTIPLIER:
    raise RuntimeError(f"HYPOTHESIS_PROFILE must be one of {sorted(MULTIPLIER)}, not {PROFILE!r}")


def budget(examples: int, **kwargs) -> settings:
    """Settings with ``examples`` examples in CI, scaled by the profile; no deadline (the JVM's
    JIT and GC make single examples slow now and then, which is not a failure)."""
    kwargs.setdefault("suppress_health_check", [HealthCheck.too_slow, HealthCheck.data_too_large])
    return settings(max_examples=examples * MULTIPLIER[PROFILE], deadline=None,
                    print_blob=True, **kwargs)
