"""Social cards: the 1200x630 image a shared profile link shows (og:image).

Drawn with Pillow from what the card shows — the name, the username, the
page's address, the avatar and the theme's colours — and named by a digest
of exactly those inputs, so a card is drawn once and drawn again only when
one of them changes (a new link does not; a new avatar, name or theme does).
Cards are JPEG: every platform that reads og:image takes it, and a flat card
encodes ten times faster than PNG. A creator's own social image replaces it.
"""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from linkgen.fsutil import write_file
from linkgen.records import PageProfile

if TYPE_CHECKING:
    from PIL import ImageFont

WIDTH, HEIGHT = 1200, 630
VERSION = "1"  # bump when the drawing changes: every card is drawn again
# Fonts tried in order (Debian: fonts-dejavu-core, fonts-noto-core, fonts-noto-cjk);
# Pillow's own scalable font when none is installed.
BOLD_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
)
REGULAR_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)
# Chinese, Japanese and Korean need their own font (fonts-noto-cjk).
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"


CARDS_LIST = ".cards"  # in the media folder: the names of the cards drawn there


def card_name(
    name: str, username: str, address: str, avatar: bytes | None, colours: tuple[str, ...]
) -> str:
    """The card's file name: a digest of everything drawn on it."""
    digest = hashlib.blake2b(digest_size=12)
    for part in (VERSION, name, username, address, *colours):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(hashlib.sha256(avatar).digest() if avatar else b"-")
    return f"{digest.hexdigest()}.jpg"


def profile_card(
    media_dir: Path, site_url: str, profile: PageProfile, name: str, variables: Mapping[str, str]
) -> str:
    """The name of the profile's card in ``media_dir``, drawn first if missing, in its
    page's colours (``variables``: the page's CSS variables) with its avatar."""
    avatar = None
    if profile.avatar and profile.avatar.startswith("/_m/"):
        try:
            avatar = (media_dir / profile.avatar[4:]).read_bytes()
        except OSError:
            avatar = None
    address = site_url.split("://", 1)[-1]
    return ensure_card(
        media_dir,
        name=name,
        username=profile.username,
        address=f"{address}/{profile.username}",
        avatar=avatar,
        colours=(variables["--bg"], variables["--fg"], variables["--muted"], variables["--btn"]),
    )


def ensure_card(
    media_dir: Path,
    *,
    name: str,
    username: str,
    address: str,
    avatar: bytes | None,
    colours: tuple[str, str, str, str],  # background, text, muted, accent
) -> str:
    """The card's file name in ``media_dir``, drawing it first if it is not there."""
    file_name = card_name(name, username, address, avatar, colours)
    target = media_dir / file_name
    if not target.exists():
        # Listed before it is drawn: a build stopped half-way leaves no card it
        # would not know for one (a build with cards off copies none of them).
        media_dir.mkdir(parents=True, exist_ok=True)
        with open(media_dir / CARDS_LIST, "a", encoding="ascii") as listed:
            listed.write(file_name + "\n")
        write_file(target, draw(name, username, address, avatar, colours))
    return file_name


def drawn_cards(media_dir: Path) -> set[str]:
    """The names of every card drawn into ``media_dir``."""
    try:
        return set((media_dir / CARDS_LIST).read_text(encoding="ascii").split())
    except FileNotFoundError:
        return set()


def draw(
    name: str,
    username: str,
    address: str,
    avatar: bytes | None,
    colours: tuple[str, str, str, str],
) -> bytes:
    from PIL import Image, ImageDraw, ImageOps

    background, text, muted, accent = colours
    card = Image.new("RGB", (WIDTH, HEIGHT), background)
    pen = ImageDraw.Draw(card)
    pen.rectangle((0, HEIGHT - 18, WIDTH, HEIGHT), fill=accent)
    left = 90
    if avatar:
        try:
            picture = ImageOps.fit(Image.open(io.BytesIO(avatar)).convert("RGB"), (260, 260))
            mask = Image.new("L", (260, 260), 0)
            ImageDraw.Draw(mask).ellipse((0, 0, 259, 259), fill=255)
            card.paste(picture, (90, (HEIGHT - 260) // 2 - 9), mask)
            left = 410
        except OSError:
            left = 90  # an unreadable avatar: a card without it
    room = WIDTH - left - 80
    cjk = any("\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in name)
    heading = _font(True, 84, CJK_FONT if cjk and Path(CJK_FONT).is_file() else None)
    title = _fitted(name or username, heading, room)
    pen.text((left, 215), title[0], font=title[1], fill=text)
    handle = _font(False, 44)
    pen.text((left, 335), f"@{username}", font=handle, fill=muted)
    pen.text(
        (left, 405),
        _fitted(address, _font(False, 32), room)[0],
        font=_font(False, 32),
        fill=muted,
    )
    out = io.BytesIO()
    card.save(out, format="JPEG", quality=88, optimize=False, progressive=False)
    return out.getvalue()


def _fitted(
    value: str, font: ImageFont.FreeTypeFont, room: int
) -> tuple[str, ImageFont.FreeTypeFont]:
    """The text at a size that fits ``room`` pixels, shortened with … if still too long."""
    size = int(font.size)
    while size > 40 and font.getlength(value) > room:
        size -= 6
        font = font.font_variant(size=size)
    if font.getlength(value) <= room:
        return value, font
    while value and font.getlength(value + "…") > room:
        value = value[:-1]
    return value + "…", font


@functools.lru_cache(maxsize=8)
def _font(bold: bool, size: int, path: str | None = None) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    if path is not None:
        return ImageFont.truetype(path, size)
    for path in BOLD_FONTS if bold else REGULAR_FONTS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)  # type: ignore[return-value]
