"""audience.db on its own: who is mailed when, forged links, what is deleted."""

from __future__ import annotations

from pathlib import Path

from linkgen.audience.store import MAIL_TRIES, MAILS_PER_DAY, PENDING_DAYS, AudienceStore

NOW = 1_800_000_000.0
DAY = 86400.0


def store(tmp_path: Path, key: bytes = b"k" * 32) -> AudienceStore:
    return AudienceStore(tmp_path / "audience.db", key)


def test_one_address_gets_a_few_confirmations_a_day_over_every_profile(tmp_path: Path) -> None:
    audience = store(tmp_path)
    due = audience.add([(f"p{n}", "fan@example.com") for n in range(MAILS_PER_DAY + 2)], NOW)
    assert due == MAILS_PER_DAY  # every sign-up kept, not every one mailed
    assert len(audience.subscribers("p0")) == 1 and len(audience.subscribers("p4")) == 1
    for sent in audience.due(NOW):
        audience.mailed(sent.id, NOW)
    assert audience.add([("p0", "fan@example.com")], NOW + 3600) == 0  # mailed an hour ago
    assert audience.add([("p0", "fan@example.com")], NOW + DAY + 1) == 1  # a day later


def test_a_confirmation_not_sent_is_tried_again_later_then_given_up(tmp_path: Path) -> None:
    audience = store(tmp_path)
    audience.add([("p", "fan@example.com")], NOW)
    retries = []
    at = NOW
    for _ in range(MAIL_TRIES):
        (due,) = audience.due(at)
        audience.failed(due, at)
        retries.append(audience.next_due())
        at = retries[-1] or at
    assert retries[0] == NOW + 60 and retries[1] == NOW + 60 + 120  # 1, 2, 4 … minutes
    assert retries[-1] is None and audience.due(NOW + 10 * DAY) == []


def test_links_open_only_their_own_row_and_only_with_the_key(tmp_path: Path) -> None:
    audience = store(tmp_path)
    audience.add([("p", "a@example.com"), ("p", "b@example.com")], NOW)
    first, second = audience.due(NOW)
    forged = f"{second.id}.{first.confirm.partition('.')[2]}"  # a's signature, b's row
    assert not audience.confirm(forged, NOW)
    assert not audience.confirm(first.unsubscribe, NOW)  # an unsubscribe link confirms nothing
    assert not audience.confirm("1' OR 1=1 --", NOW) and not audience.unsubscribe("x.y")
    assert not store(tmp_path, b"other key").confirm(first.confirm, NOW)
    assert audience.confirm(first.confirm, NOW)
    assert [s.confirmed for s in audience.subscribers("p")] == [True, False]


def test_unconfirmed_addresses_and_deleted_profiles_lists_are_deleted(tmp_path: Path) -> None:
    audience = store(tmp_path)
    audience.add([("p", "old@example.com"), ("gone", "fan@example.com")], NOW)
    audience.add([("p", "new@example.com")], NOW + PENDING_DAYS * DAY)
    (kept,) = (
        due for due in audience.due(NOW + PENDING_DAYS * DAY) if due.email == "new@example.com"
    )
    audience.confirm(kept.confirm, NOW)
    assert audience.prune(NOW + PENDING_DAYS * DAY + 1, profiles={"p"}) == 2
    assert [s.email for s in audience.subscribers("p")] == ["new@example.com"]
    assert audience.subscribers("gone") == []
