"""The outbox worker: edits get published without anyone running publish."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from linkgen import site as sites
from linkgen.errors import LinkgenError
from linkgen.models import ProfileFields
from linkgen.publish.worker import run, worker_lock
from tests.support.servers import wait_for


def published(site: sites.Site, name: str) -> str:
    path = site.root / "published" / name
    return path.read_text() if path.exists() else ""


def test_once_publishes_what_waits_and_empties_the_outbox(
    site: sites.Site, add_profile: Any
) -> None:
    add_profile("alice", display_name="Alice v1")
    assert site.outbox.entries()
    cycles: list[Any] = []
    assert run(site.root, stop=threading.Event(), once=True, on_cycle=cycles.append)
    assert "Alice v1" in published(site, "alice")
    assert site.outbox.entries() == []
    assert len(cycles) == 1 and cycles[0].report.ok
    # Nothing waiting: nothing done.
    assert run(site.root, stop=threading.Event(), once=True, on_cycle=cycles.append)
    assert len(cycles) == 1


def test_a_running_worker_publishes_each_edit(site: sites.Site, add_profile: Any) -> None:
    add_profile("alice", display_name="Alice v1")
    add_profile("bob", display_name="Bob")
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(site.root,), kwargs={"stop": stop}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "Alice v1" in published(site, "alice"))
        for n in range(2, 6):
            site.content.update_profile("alice", ProfileFields(display_name=f"Alice v{n}"))
            wait_for(lambda n=n: f"Alice v{n}" in published(site, "alice"))
        site.content.delete_profile("bob")
        wait_for(lambda: not (site.root / "published" / "bob").exists())
        wait_for(lambda: site.outbox.entries() == [])
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_one_worker_per_site(site: sites.Site) -> None:
    with worker_lock(site.root), pytest.raises(LinkgenError, match="another worker is running"):
        run(site.root, stop=threading.Event(), once=True)


def test_a_killed_worker_can_be_restarted(site: sites.Site, add_profile: Any) -> None:
    command = [sys.executable, "-m", "linkgen", "--site", str(site.root), "worker"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert first.stdout is not None and "started" in first.stdout.readline()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    add_profile("alice", display_name="After the crash")
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: "After the crash" in published(site, "alice"))
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
    assert site.outbox.entries() == []


def test_worker_once_exits_non_zero_when_publishing_fails(
    site: sites.Site, add_profile: Any, tmp_path: Path
) -> None:
    add_profile("alice")
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the target folder should be")
    (site.root / "linkgen.toml").write_text(f'[publish]\ntarget = "file://{blocked}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "linkgen", "--site", str(site.root), "worker", "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1 and "cannot write to" in result.stderr
    assert "Traceback" not in result.stderr
    assert site.outbox.entries()  # nothing lost: still waiting


def test_the_worker_keeps_time_a_link_starts_and_one_ends_with_no_other_activity(
    site: sites.Site, add_profile: Any
) -> None:
    import datetime as dt
    import time

    from linkgen.models import NewLink, validate

    add_profile("alice", ("Always", "https://example.com/always"))
    boundary = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=3)
    for title, field in (("Flash sale", "starts_at"), ("Early bird", "ends_at")):
        link = {"title": title, "url": "https://example.com/sale", field: boundary}
        site.content.add_link("alice", validate(NewLink, link, strict=False))
    site.close()
    worker = subprocess.Popen(
        [sys.executable, "-m", "linkgen", "--site", str(site.root), "worker"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: "Early bird" in published(site, "alice"))
        wait_for(lambda: sites.Site.open(site.root).outbox.entries() == [])
        page = published(site, "alice")
        assert "Flash sale" not in page and "Early bird" in page  # before the boundary
        assert time.time() < boundary.timestamp(), "the setup took past the boundary"
        while "Flash sale" not in published(site, "alice"):  # nobody edits meanwhile
            assert time.time() < boundary.timestamp() + 10, "the link never appeared"
            time.sleep(0.02)
        late = time.time() - boundary.timestamp()
        page = published(site, "alice")
        assert "Early bird" not in page and "Always" in page
        print(f"published {late:.3f} s after the boundary")
        assert late <= 1.0, f"published {late:.2f} s after the boundary"
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=20)


def test_an_edit_wakes_the_worker_itself_without_its_look_at_the_outbox(
    site: sites.Site, add_profile: Any
) -> None:
    """With the outbox looked at only every 30 s, the edit's own ring must be what
    gets it published; a transaction that rolls back rings nothing."""
    import threading
    import time

    from linkgen.errors import InvalidInput
    from linkgen.models import NewLink, validate
    from linkgen.publish.worker import run
    from linkgen.store.doorbell import Doorbell

    add_profile("alice", ("Shop", "https://example.com/shop"))
    stop = threading.Event()
    first = threading.Thread(target=run, args=(site.root,), kwargs={"stop": stop, "once": True})
    first.start()
    first.join(timeout=30)  # everything so far published
    bell = Doorbell(site.root / "site_data")
    try:
        with pytest.raises(InvalidInput):  # refused inside its transaction: no ring
            site.content.move_link("alice", site.content.get("alice").links[0].id, 9)
        assert not bell.wait(0.2)
        site.content.add_link("alice", validate(NewLink, {"title": "Rung", "url": "e.com/r"}))
        assert bell.wait(1.0)
    finally:
        bell.close()
    worker = threading.Thread(target=run, args=(site.root,), kwargs={"stop": stop, "poll": 30.0})
    worker.start()
    try:
        time.sleep(0.5)  # the worker is listening and waiting: its next look is 30 s away
        site.content.add_link("alice", validate(NewLink, {"title": "Woken", "url": "e.com/w"}))
        wait_for(lambda: "Woken" in published(site, "alice"), timeout=10)
    finally:
        stop.set()
        worker.join(timeout=30)
    assert not worker.is_alive()
