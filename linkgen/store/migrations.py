"""The content database's numbered schema migrations. Append only: never edit a
released step (``schema`` applies them).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from linkgen.store.schema import Schema, run_script

if TYPE_CHECKING:
    import sqlite_utils

CONTENT = Schema("the database")
migration = CONTENT.migration


# Schema version 1, as it was created (a migration never changes once released).
INITIAL_SCHEMA = """
        CREATE TABLE profiles (
            id TEXT PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL DEFAULT '',
            bio TEXT NOT NULL DEFAULT '',
            avatar TEXT,
            theme TEXT NOT NULL,
            style TEXT NOT NULL DEFAULT '{}',
            seo_title TEXT,
            seo_description TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL,
            content_hash TEXT NOT NULL
        );
        -- Clustered by profile and position: a page's links are one range.
        CREATE TABLE links (
            profile_id TEXT NOT NULL REFERENCES profiles(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            url TEXT NOT NULL,
            enabled INTEGER NOT NULL DEFAULT 1,
            thumbnail TEXT,
            starts_at TEXT,
            ends_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (profile_id, position)
        ) WITHOUT ROWID;
        CREATE INDEX profiles_by_theme ON profiles(theme);
        -- Every id ever handed out, so none is ever reused.
        CREATE TABLE issued_ids (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            profile_id TEXT NOT NULL,
            username TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            summary TEXT NOT NULL,
            before TEXT,
            version_after INTEGER,
            undone INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX history_by_profile ON history(profile_id, seq);
        CREATE INDEX history_by_username ON history(username, seq);
        -- One row per profile whose latest edit is not yet published.
        CREATE TABLE outbox (
            profile_id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            version INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            queued_at TEXT NOT NULL
        );
        -- What each page was last built from: its content hash and the
        -- fingerprint of its theme (tokens + templates + settings + version).
        CREATE TABLE build_state (
            profile_id TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            theme_fingerprint TEXT NOT NULL,
            next_change TEXT,
            built_at TEXT NOT NULL,
            sitemap_part INTEGER NOT NULL
        );
        CREATE INDEX build_state_by_next_change ON build_state(next_change)
            WHERE next_change IS NOT NULL;
        CREATE INDEX build_state_by_part ON build_state(sitemap_part);
        -- Profiles edited since the last build; written with the edit.
        CREATE TABLE build_queue (
            profile_id TEXT PRIMARY KEY,
            token INTEGER NOT NULL
        );
        CREATE TABLE build_meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """


@migration(1, "profiles, links, ids, history, outbox, build state")
def _initial(db: sqlite_utils.Database) -> None:
    run_script(db, INITIAL_SCHEMA)


@migration(2, "publish manifest")
def _publish_manifest(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- What each target holds, as far as we know: per key, the hash of the
        -- bytes and of the headers we uploaded, and the file stat we hashed.
        CREATE TABLE publish_manifest (
            target TEXT NOT NULL,
            key TEXT NOT NULL,
            body_hash TEXT NOT NULL,
            header_hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            surrogate_keys TEXT NOT NULL,
            shard INTEGER NOT NULL,
            PRIMARY KEY (target, key)
        ) WITHOUT ROWID;
        CREATE INDEX publish_manifest_by_shard ON publish_manifest(target, shard);
        -- Shards of the bucket's copy of the manifest that are behind.
        CREATE TABLE publish_mirror_pending (
            target TEXT NOT NULL,
            shard INTEGER NOT NULL,
            PRIMARY KEY (target, shard)
        ) WITHOUT ROWID;
        """,
    )


@migration(3, "purge queue")
def _purge_queue(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- Surrogate keys whose purge failed; retried by every later publish.
        CREATE TABLE purge_queue (
            key TEXT PRIMARY KEY,
            first_failed_at TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT NOT NULL
        );
        """,
    )


@migration(4, "purge queue by unit")
def _purge_queue_units(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- What a failed purge must still drop, in the unit the CDN purges by:
        -- 'key' (a surrogate key or cache tag) or 'path' (a public URL path).
        CREATE TABLE purge_queue_v4 (
            unit TEXT NOT NULL CHECK (unit IN ('key', 'path')),
            subject TEXT NOT NULL,
            first_failed_at TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            last_error TEXT NOT NULL,
            PRIMARY KEY (unit, subject)
        ) WITHOUT ROWID;
        INSERT INTO purge_queue_v4
            SELECT 'key', key, first_failed_at, attempts, last_error FROM purge_queue;
        DROP TABLE purge_queue;
        ALTER TABLE purge_queue_v4 RENAME TO purge_queue;
        """,
    )


@migration(5, "link icons, the social row, content warnings, social images")
def _icons_and_warnings(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- icon: NULL = detected from the URL, 'none' = no icon, else a brand slug.
        ALTER TABLE links ADD COLUMN icon TEXT;
        -- 1: shown as an icon in the row under the bio instead of as a button.
        ALTER TABLE links ADD COLUMN social INTEGER NOT NULL DEFAULT 0;
        -- '18+', '21+', '25+' or 'sensitive': a warning first, one tap to go on.
        ALTER TABLE links ADD COLUMN sensitive TEXT;
        ALTER TABLE profiles ADD COLUMN sensitive TEXT;
        -- The creator's own og:image (a /_m/ media path); NULL: linkgen draws a card.
        ALTER TABLE profiles ADD COLUMN social_image TEXT;
        """,
    )


@migration(6, "editor accounts, sessions, sign-in links, failed sign-ins")
def _accounts(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,         -- lower-cased
            password_hash TEXT,                 -- argon2id; NULL until set
            is_admin INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            password_changed_at TEXT
        ) WITHOUT ROWID;
        -- Which profiles a creator may edit (an admin may edit all).
        CREATE TABLE user_profiles (
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            profile_id TEXT NOT NULL,
            PRIMARY KEY (user_id, profile_id)
        ) WITHOUT ROWID;
        -- One-time links to set a password; only their hash is kept.
        CREATE TABLE sign_in_links (
            token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            expires_at TEXT NOT NULL,
            used_at TEXT
        ) WITHOUT ROWID;
        -- Server-side sessions, revocable; only the token's hash is kept.
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked_at TEXT
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_user ON sessions(user_id);
        -- Failed sign-ins per account and per address, for growing delays.
        CREATE TABLE sign_in_failures (
            key TEXT PRIMARY KEY,               -- 'email:<email>' or 'addr:<address>'
            failures INTEGER NOT NULL,
            last_at REAL NOT NULL
        ) WITHOUT ROWID;
        """,
    )


@migration(7, "a profile's language")
def _language(db: sqlite_utils.Database) -> None:
    # A BCP 47 tag ('ja', 'pt-BR'); NULL: the site's language.
    db.execute("ALTER TABLE profiles ADD COLUMN language TEXT")


@migration(8, "an account's time zone")
def _time_zone(db: sqlite_utils.Database) -> None:
    # An IANA name (Europe/Berlin): the editor shows and reads schedules in it.
    db.execute("ALTER TABLE users ADD COLUMN time_zone TEXT")


@migration(9, "the redirectors' link map in the bucket")
def _link_map(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- What each target's link map (_linkgen/links/) holds: the content hash
        -- of every profile as last written, and the digest of every shard.
        CREATE TABLE link_map (
            target TEXT NOT NULL,
            profile_id TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            PRIMARY KEY (target, profile_id)
        ) WITHOUT ROWID;
        CREATE TABLE link_map_shards (
            target TEXT NOT NULL,
            shard INTEGER NOT NULL,
            digest TEXT NOT NULL,
            PRIMARY KEY (target, shard)
        ) WITHOUT ROWID;
        """,
    )


@migration(10, "API tokens, idempotent requests, webhooks and their deliveries")
def _api(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- Bearer tokens of the HTTP API; only the secret's SHA-256 is kept.
        CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            secret_hash TEXT NOT NULL,
            name TEXT NOT NULL,
            scopes TEXT NOT NULL,               -- space-separated
            is_admin INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            last_used_at TEXT
        ) WITHOUT ROWID;
        CREATE TABLE api_token_profiles (
            token_id TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
            profile_id TEXT NOT NULL,
            PRIMARY KEY (token_id, profile_id)
        ) WITHOUT ROWID;
        -- The stored answer to each write sent with an Idempotency-Key (24 hours).
        CREATE TABLE api_idempotency (
            token_id TEXT NOT NULL,
            key TEXT NOT NULL,
            request_hash TEXT NOT NULL,         -- method, path and body
            status INTEGER NOT NULL,
            headers TEXT NOT NULL,              -- JSON
            body BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (token_id, key)
        ) WITHOUT ROWID;
        CREATE INDEX api_idempotency_by_age ON api_idempotency(created_at);
        -- Where events are sent (profile_id NULL: every profile's).
        CREATE TABLE webhooks (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            events TEXT NOT NULL,               -- space-separated
            profile_id TEXT,
            secret TEXT NOT NULL,               -- whsec_…, shown once
            created_at TEXT NOT NULL
        ) WITHOUT ROWID;
        -- One row per event and hook, until it is delivered or given up on.
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,                -- the event id receivers de-duplicate on
            webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
            event TEXT NOT NULL,
            payload TEXT NOT NULL,              -- JSON
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL,              -- unix time of the next try
            last_error TEXT,
            state TEXT NOT NULL DEFAULT 'pending'   -- pending, delivered, failed
        ) WITHOUT ROWID;
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_at);
        -- Up to when an event made from time (link.clicked.hourly) has been made.
        CREATE TABLE webhook_marks (
            event TEXT PRIMARY KEY,
            done_until TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    )


@migration(11, "blocks among the links, embeds and their thumbnails")
def _blocks(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- link, featured, header, text, divider, group or contact; a block's url is ''.
        ALTER TABLE links ADD COLUMN kind TEXT NOT NULL DEFAULT 'link';
        ALTER TABLE links ADD COLUMN body TEXT;            -- a text block's paragraph
        ALTER TABLE links ADD COLUMN contact TEXT;         -- a contact block's card (JSON)
        ALTER TABLE links ADD COLUMN embed INTEGER NOT NULL DEFAULT 0;
        -- The thumbnail of each embedded URL, fetched once by a build (media: a
        -- /_m/ path, NULL when it could not be had; tried again after a day).
        CREATE TABLE embed_art (
            url TEXT PRIMARY KEY,
            media TEXT,
            fetched_at TEXT NOT NULL,
            error TEXT
        ) WITHOUT ROWID;
        """,
    )


@migration(12, "a profile's own domain")
def _domain(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- A host name (links.alice.example) whose root is the profile's page; NULL: none.
        ALTER TABLE profiles ADD COLUMN domain TEXT;
        CREATE UNIQUE INDEX profiles_by_domain ON profiles(domain) WHERE domain IS NOT NULL;
        """,
    )


@migration(13, "smart links: a link's rules, UTM tags, locks")
def _smart_links(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- A link's rules as JSON ([{"url", "country", "device", "language",
        -- "starts_at", "ends_at"}, ...]), tried in order; NULL: none.
        ALTER TABLE links ADD COLUMN rules TEXT;
        -- UTM tags as JSON ({"source", "medium", "campaign"}); NULL: none. A
        -- link's own win over its profile's.
        ALTER TABLE links ADD COLUMN utm TEXT;
        ALTER TABLE profiles ADD COLUMN utm TEXT;
        -- A locked link ({"kind": "password", "password_hash"} or {"kind": "age",
        -- "age"}): the redirector asks first. NULL: open.
        ALTER TABLE links ADD COLUMN lock TEXT;
        """,
    )


@migration(14, "A/B tests of a link's URL")
def _splits(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- An A/B test of a link's URL ({"weight", "variants": [{"url", "weight"}],
        -- "since"}): the redirector shares its visitors by the day's visitor hash.
        -- NULL: none.
        ALTER TABLE links ADD COLUMN split TEXT;
        """,
    )


@migration(15, "the names each build wrote or removed, for the next publish")
def _build_journal(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- Each name of build/ a build wrote or removed ("*": it may have changed
        -- anything); a publish checks the names after its target's last position
        -- (build meta "journal <target>") instead of every file.
        -- AUTOINCREMENT: a seq is never used again, even once every row is gone.
        CREATE TABLE build_journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL);
        CREATE INDEX build_state_by_username ON build_state(username);
        """,
    )


@migration(16, "how many objects each target holds, kept with the manifest")
def _held_counts(db: sqlite_utils.Database) -> None:
    run_script(
        db,
        """
        -- The number of publish_manifest rows per target, kept by the triggers
        -- below, so a publish's report does not count 100,000 rows to say so.
        -- The manifest is written by UPSERT: an upsert's update fires neither.
        CREATE TABLE publish_held (
            target TEXT PRIMARY KEY,
            objects INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO publish_held (target, objects)
            SELECT target, count(*) FROM publish_manifest GROUP BY target;
        CREATE TRIGGER publish_held_added AFTER INSERT ON publish_manifest BEGIN
            INSERT OR IGNORE INTO publish_held (target, objects) VALUES (NEW.target, 0);
            UPDATE publish_held SET objects = objects + 1 WHERE target = NEW.target;
        END;
        CREATE TRIGGER publish_held_removed AFTER DELETE ON publish_manifest BEGIN
            UPDATE publish_held SET objects = objects - 1 WHERE target = OLD.target;
        END;
        """,
    )


def pending_migrations(conn: sqlite3.Connection) -> bool:
    return CONTENT.pending(conn)


def migrate(db: sqlite_utils.Database) -> list[int]:
    return CONTENT.migrate(db)
