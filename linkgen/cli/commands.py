"""Where each top-level command lives, and the line ``linkgen --help`` lists it with.

The root command imports a command's module only when that command runs: a
command loads its own module, not all twenty of them, and ``linkgen --help``
lists the commands from this table without importing any. A test holds the
table and the commands' own help equal.
"""

from __future__ import annotations

import importlib

# name: (the modules of linkgen.cli that define it, the start of its help's first
# sentence: more than the list ever shows, up to the word that passes 72 characters)
COMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "audience": (
        ("audience",),
        "The e-mail addresses given to a profile's sign-up form (`block add … signup`).",
    ),
    "backup": (
        ("operations",),
        "Copy the site while it runs into DESTINATION (a folder or s3://BUCKET/PREFIX):",
    ),
    "block": (("blocks",), "Add and change blocks: what a page shows besides its buttons."),
    "build": (
        ("publishing",),
        "Render the profiles that changed since the last build into build/.",
    ),
    "clicks": (("clicks",), "Raw click and view events beyond this machine."),
    "edge": (
        ("publishing",),
        "The CDN edge's configuration for this site: Varnish, CloudFront, Fastly or",
    ),
    "editor": (("serving",), "Serve the creators' web editor (sign in, edit, preview)."),
    "export": (
        ("content",),
        "Write a profile with its links as JSON to stdout (with --bundle, a zip file",
    ),
    "history": (("content",), "Show what changed on a profile, newest first."),
    "import": (
        ("content",),
        "Create a profile from a 'linkgen export' file or bundle ('-' reads stdin),",
    ),
    "import-linktree": (
        ("content",),
        "Create a profile from a Linktree page (saved as a file, or its URL).",
    ),
    "import-littlelink": (
        ("content",),
        "Create a profile from a LittleLink index.html (its images next to it are used).",
    ),
    "init": (
        ("profiles",),
        "Create a site (linkgen.toml, site_data/, templates/, themes/) in DIRECTORY,",
    ),
    "link": (
        (
            "links",
            "rules",
            "splits",
        ),
        "Add, edit, reorder, enable, disable, remove and list links.",
    ),
    "media": (("content",), "Images stored with the site (avatars, thumbnails, cards)."),
    "profile": (("profiles",), "Add, show, change, rename, remove and list profiles."),
    "publish": (
        ("publishing",),
        "Build what changed, upload only changed objects, delete removed ones.",
    ),
    "qr": (("content",), "A QR code of a profile's page, for print or a screen."),
    "redirector": (
        ("serving",),
        "Serve /r/<link id> (302 to the link) and /v/<profile id> (the view beacon).",
    ),
    "restore": (
        ("operations",),
        "Check a backup (every checksum, both databases' integrity) and restore it",
    ),
    "serve": (
        ("serving",),
        "Preview build/ in a browser (pages served as the bucket will serve them).",
    ),
    "stats": (("clicks",), "Views, unique views, clicks, unique clickers and CTR of a profile."),
    "theme": (("themes",), "The themes a profile can use."),
    "themes": (("themes",), "List the themes, or write a gallery of them all."),
    "token": (
        ("tokens",),
        "Tokens for the HTTP API (/api/v1/ of the editor): what a tool may reach and",
    ),
    "undo": (("content",), "Undo the latest change to a profile (repeat to go further back)."),
    "up": (
        ("service",),
        "Run the site's services together: the editor, the worker that publishes every",
    ),
    "user": (("users",), "Accounts of the web editor: who may edit which profile."),
    "watch": (("serving",), "Rebuild on every change and serve a preview that reloads itself."),
    "webhook": (
        ("webhooks",),
        "Events sent to a URL of yours, signed (Standard Webhooks), retried for 24",
    ),
    "worker": (
        ("publishing",),
        "Publish edits as they are saved: build, upload, purge (one worker per site).",
    ),
}


def load(name: str) -> None:
    """Import the modules that define the command ``name`` (nothing for an unknown one)."""
    for module in COMMANDS.get(name, ((), ""))[0]:
        importlib.import_module(f"linkgen.cli.{module}")


def load_all() -> None:
    """Every command registered on the root, as a reference or a test needs them."""
    for name in COMMANDS:
        load(name)
