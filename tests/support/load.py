"""Load from wrk (Debian's), on loopback: a list of paths asked for in turn."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Each wrk thread walks the paths from its own place in the list.
SCRIPT = """
paths = {%s}
n = 0
setup = function(thread) thread:set("n", math.random(1, #paths)) end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    rate: float  # requests per second
    p50_ms: float
    p99_ms: float
    bad_status: int  # answers other than 2xx and 3xx
    socket_errors: int  # connect, read, write errors and timeouts
    output: str


def wrk(
    base: str,
    paths: list[str],
    seconds: int,
    work: Path,
    connections: int = 64,
    threads: int = 2,
) -> Load:
    """``wrk`` against ``base`` for ``seconds``, asking for ``paths`` in turn."""
    script = work / "paths.lua"
    script.write_text(SCRIPT % ", ".join(f'"{path}"' for path in paths))
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
         "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout  # fmt: skip
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    assert total is not None, out
    elapsed = float(total.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total.group(3)]
    percentiles = {
        pct: float(value) * UNITS[unit]
        for pct, value, unit in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\n", out)
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Load(
        requests=int(total.group(1)),
        seconds=elapsed,
        rate=int(total.group(1)) / elapsed,
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        bad_status=int(bad.group(1)) if bad else 0,
        socket_errors=sum(map(int, errors.groups())) if errors else 0,
        output=out,
    )
