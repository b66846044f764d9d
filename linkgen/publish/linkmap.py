"""The redirectors' link map in the bucket (``[redirector] link_map = true``).

Where the edge does not serve links, several redirectors can: each reads
where every link sends a visitor from the bucket rather than from the
editor's database (``[redirector] links_from``), so any number of them, on
any machine, behind a load balancer or a CDN's failover, serve the same links.

The map is 256 shards by profile id, ``_linkgen/links/<shard>.json``, and an
index, ``_linkgen/links/index.json``, with the SHA-256 of every shard. A
publish writes only the shards of the profiles that changed since the last
one (their content hashes are kept in the ``link_map`` table), and the index
after them, so a redirector that polls the index fetches only what changed
and never a shard the index does not vouch for. It is written before the
pages, so a new page never shows a link the redirectors do not know yet.
Everything is private (linkgen's own bookkeeping, never served by the edge):
disabled and not-yet-started links are in it. The schedule, and a smart
link's rules, lock and A/B test (``{"rules": [...], "lock": {...}, "split":
{...}}``, a sixth element of its row), travel with each link and the
redirector applies them, as it does from the database; a redirector from
before them refuses a shard holding any, and keeps serving the last one it
accepted.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from linkgen.publish.targets import Target
from linkgen.store.database import Database
from linkgen.store.routes import Routes

FOLDER = "_linkgen/links/"
INDEX = f"{FOLDER}index.json"
SHARDS = 256
FORMAT = 1


def shard_of(profile_id: str) -> int:
    return hashlib.blake2b(profile_id.encode(), digest_size=2).digest()[0] % SHARDS


def shard_key(prefix: str, shard: int) -> str:
    return f"{prefix}{FOLDER}{shard:02x}.json"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _document(routes: Routes, usernames: dict[str, str], shard: int, members: list[str]) -> bytes:
    """The shard's profiles with their usernames and every link, as stable bytes."""
    found: dict[str, Any] = {pid: {"username": usernames[pid], "links": []} for pid in members}
    for route in sorted(routes.link_routes(members)):
        row: list[Any] = [route.link_id, route.url, route.enabled, route.starts_at, route.ends_at]
        smart = {"rules": json.loads(route.rules)} if route.rules else {}
        if route.lock:
            smart["lock"] = json.loads(route.lock)
        if route.split:
            smart["split"] = json.loads(route.split)
        if smart:  # a smart link's rules, lock and A/B test, as stored
            row.append(smart)
        found[route.profile_id]["links"].append(row)
    document = {"format": FORMAT, "shard": shard, "profiles": found}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def write_pending(
    database: Database, target: Target, site_url: str, parallel: int
) -> tuple[int, list[str]]:
    """Write the shards whose profiles changed, then the index: (shards written, failures)."""
    conn = database.conn
    rows = conn.execute("SELECT id, username, content_hash FROM profiles").fetchall()
    usernames = {pid: username for pid, username, _ in rows}
    hashes = {pid: value for pid, _, value in rows}
    written_before = dict(
        conn.execute(
            "SELECT profile_id, content_hash FROM link_map WHERE target = ?", (target.name,)
        ).fetchall()
    )
    digests = dict(
        conn.execute(
            "SELECT shard, digest FROM link_map_shards WHERE target = ?", (target.name,)
        ).fetchall()
    )
    changed = {pid for pid, value in hashes.items() if written_before.get(pid) != value}
    gone = set(written_before) - set(hashes)
    pending = {shard_of(pid) for pid in changed | gone}
    if len(digests) < SHARDS:  # a first map (or one cut short): every shard
        pending = set(range(SHARDS))
    if not pending:
        return 0, []
    members: dict[int, list[str]] = {shard: [] for shard in pending}
    for pid in sorted(usernames):
        members.get(shard_of(pid), []).append(pid)
    routes = Routes(database)
    documents = {
        shard: _document(routes, usernames, shard, members[shard]) for shard in sorted(pending)
    }

    def put(shard: int) -> str | None:
        try:
            target.put_private(shard_key(target.prefix, shard), documents[shard])
        except Exception as exc:  # reported; the shard stays pending
            return f"link map shard {shard:02x}: {type(exc).__name__}: {exc}"
        return None

    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        outcomes = list(zip(documents, pool.map(put, documents), strict=True))
    failures = [failure for _, failure in outcomes if failure is not None]
    written = [shard for shard, failure in outcomes if failure is None]
    digests.update({shard: digest(documents[shard]) for shard in written})
    if failures:  # the index only ever vouches for shards that are there
        _record(database, target.name, {}, set(), written, digests)
        return len(written), failures
    index = {
        "format": FORMAT,
        "site_url": site_url,
        "shards": {f"{shard:02x}": digests[shard] for shard in range(SHARDS)},
    }
    try:
        target.put_private(f"{target.prefix}{INDEX}", json.dumps(index, sort_keys=True).encode())
    except Exception as exc:
        _record(database, target.name, {}, set(), written, digests)
        return len(written), [f"link map index: {type(exc).__name__}: {exc}"]
    _record(database, target.name, {pid: hashes[pid] for pid in changed}, gone, written, digests)
    return len(written), []


def _record(
    database: Database,
    target: str,
    hashes: dict[str, str],
    gone: set[str],
    written: list[int],
    digests: dict[int, str],
) -> None:
    """Remember what the bucket holds: a shard's digest once it is there, a
    profile's content hash only once the index vouches for its shard."""
    with database.writing():
        conn = database.conn
        conn.executemany(
            "INSERT OR REPLACE INTO link_map_shards VALUES (?, ?, ?)",
            [(target, shard, digests[shard]) for shard in written],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO link_map VALUES (?, ?, ?)",
            [(target, pid, value) for pid, value in hashes.items()],
        )
        conn.executemany(
            "DELETE FROM link_map WHERE target = ? AND profile_id = ?",
            [(target, pid) for pid in gone],
        )
