"""A Varnish edge on loopback with linkgen's VCL (Debian's varnish + varnish-modules).

Used by the tests and by the benchmarks (bench/chain.py).
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linkgen import site as sites
from linkgen.publish import edge


def start_varnish(
    origin: str, bucket_path: str, work: Path, domains: Sequence[tuple[str, str]] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """Debian's varnishd with linkgen's VCL, in front of ``origin``, on a free port;
    ``domains``: (username, host) of the profiles with a domain of their own."""
    vcl = work / "linkgen.vcl"
    vcl.write_text(edge.vcl(origin, bucket_path, domains))  # what `linkgen edge vcl` prints
    name = work / "varnish"
    # -j none: no privilege drop, so varnishd can read the test's private files.
    proc = subprocess.Popen(
        [
            "varnishd",
            "-F",
            "-j",
            "none",
            "-n",
            str(name),
            "-a",
            "127.0.0.1:0",
            "-f",
            str(vcl),
            "-s",
            "malloc,32m",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"varnishd exited: {output}")
        answer = subprocess.run(
            ["varnishadm", "-n", str(name), "debug.listen_address"],
            capture_output=True,
            text=True,
        )
        fields = answer.stdout.split()
        if answer.returncode == 0 and len(fields) >= 3:
            return proc, f"http://127.0.0.1:{fields[2]}"
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("varnishd did not start in 30 s")


def configure(site: sites.Site, bucket: str, s3_endpoint: str, varnish: str) -> sites.Site:
    (site.root / "linkgen.toml").write_text(
        f'[publish]\ntarget = "s3://{bucket}/links"\nendpoint_url = "{s3_endpoint}"\n'
        f'region = "us-east-1"\nacl = "public-read"\n'
        f'[cdn]\nprovider = "varnish"\nvarnish_urls = ["{varnish}"]\n'
    )
    return sites.Site.open(site.root)


def answer(url: str, **headers: str) -> tuple[int, Any, bytes]:
    """Status, headers and raw body of a GET through the edge (redirects not followed)."""

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirects)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.headers, refused.read()
