"""The rules the test suite keeps about itself."""

from __future__ import annotations

import pytest

SWALLOWS_ITS_TIMEOUT = """
import time
import pytest

@pytest.mark.timeout(1)
def test_swallows_its_timeout():
    try:
        time.sleep(5)
    except BaseException:  # the timeout's exception, caught by the code under test
        pass
"""


def test_a_test_that_swallows_its_timeout_still_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(SWALLOWS_ITS_TIMEOUT)
    result = pytester.runpytest_subprocess("-p", "tests.support.time_limits")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*past its 1 s limit*"])


def test_a_test_within_its_limit_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n@pytest.mark.timeout(30)\ndef test_quick():\n    assert 1 + 1 == 2\n"
    )
    result = pytester.runpytest_subprocess("-p", "tests.support.time_limits")
    result.assert_outcomes(passed=1)
