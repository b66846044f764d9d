"""A pytest plugin: a test that ran past its time limit fails, even if it finished.

pytest-timeout interrupts a test with a signal that raises inside it; code
under test that catches everything (a retry loop, Hypothesis shrinking) can
swallow that and let the test go on to pass. This checks the clock afterwards.
The limit is pytest-timeout's: ``timeout`` in pyproject.toml, or a
``@pytest.mark.timeout(seconds)`` on the test.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import pytest


def time_limit(item: pytest.Item) -> float:
    """The test's time limit in seconds (0: none)."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    return float(item.config.getini("timeout") or 0)


STARTED = pytest.StashKey[float]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    """Start the clock where pytest-timeout starts its own: before the setup."""
    item.stash[STARTED] = time.monotonic()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Fail a test that ran out of its time, whatever became of the timeout."""
    outcome = yield
    limit = time_limit(item)
    took = time.monotonic() - item.stash.get(STARTED, time.monotonic())
    if limit and took >= limit:
        pytest.fail(
            f"ran {took:.1f} s, past its {limit:.0f} s limit: a test out of time fails "
            f"even when it goes on to finish",
            pytrace=False,
        )
    return outcome
