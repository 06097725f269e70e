"""Notification rules in microseconds: contact channels, signatures, the README's receiver
snippet, backoff, and the notification settings."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hotline.shared.configuration.file import load_config
from hotline.shared.domain.config import Contact, ContactRole, NotificationPolicy, Recipient, Unit
from hotline.shared.ledger.notifications import route, unreachable
from hotline.shared.messaging.delivery import RetryPolicy, SmtpSettings, sign, verify
from hotline.shared.runtime.settings import NotifySettings, SettingsError

README = Path(__file__).parents[2] / "README.md"


def test_contacts_name_their_channel_and_route_by_it() -> None:
    assert route(Contact(channel="sms", address="+86-1")) == ("amqp", "notify.sms")
    assert route(Contact(channel="wechat", address="desk")) == ("amqp", "notify.wechat")
    hook = Contact(channel="webhook", address="https://oa.example/hook")
    assert route(hook) == ("webhook", "https://oa.example/hook")
    assert route(Contact(channel="email", address="a@b.example")) == ("smtp", "a@b.example")


@pytest.mark.parametrize(
    ("channel", "address", "reason"),
    [
        ("webhook", "oa.example/hook", "http(s):// URL"),
        ("email", "not-an-address", "name@domain"),
        ("SMS!", "+86-1", "channel"),
        ("sms", "", "address"),
    ],
)
def test_a_contact_that_cannot_be_reached_is_refused(
    channel: str, address: str, reason: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(reason)):
        Contact(channel=channel, address=address)


def test_a_contact_reaches_the_desk_or_the_leader_and_a_role_finds_its_own() -> None:
    desk = Contact(channel="phone", address="+86-1")
    leader = Contact(channel="sms", address="+86-2", role=ContactRole.LEADER)
    assert desk.role is ContactRole.DESK  # the default
    both = Unit(id="street", name="Street", contacts=(desk, leader))
    assert both.contacts_for(Recipient.UNIT) == (desk,)
    assert both.contacts_for(Recipient.UNIT_LEADER) == (leader,)
    for whole in (
        Recipient.SUPERVISOR_UNIT,
        Recipient.SUPERVISION_GROUP,
        Recipient.DISTRICT_LEADERSHIP,
    ):
        assert both.contacts_for(whole) == (desk, leader)
    # a unit that names no contact of the kind asked for is reached at all it has
    assert Unit(id="a", name="A", contacts=(desk,)).contacts_for(Recipient.UNIT_LEADER) == (desk,)
    assert Unit(id="b", name="B", contacts=(leader,)).contacts_for(Recipient.UNIT) == (leader,)
    assert Unit(id="c", name="C").contacts_for(Recipient.UNIT) == ()
    with pytest.raises(ValidationError, match="'desk' or 'leader'"):
        Contact.model_validate({"channel": "sms", "address": "+86-3", "role": "mayor"})


def test_the_citizen_is_told_through_a_gateway() -> None:
    with pytest.raises(ValidationError, match="gateway"):
        NotificationPolicy(citizen_channel="email")
    config = load_config(None)
    assert config.notifications == NotificationPolicy(citizen_channel="sms")
    assert config.gateway_channels == ("sms", "phone")


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"ticket_id": "t1", "level": 2}'
    signature = sign("s3cret", body)
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", signature)
    assert verify("s3cret", body, signature)
    assert not verify("other", body, signature)
    assert not verify("s3cret", body + b" ", signature)


def test_the_readme_receiver_snippet_verifies_our_signature() -> None:
    snippet = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert snippet is not None
    scope: dict[str, Any] = {}
    exec(snippet.group(1), scope)
    body = b'{"ticket_id": "t1", "district": "lunan"}'
    assert scope["verify"]("s3cret", body, sign("s3cret", body))
    assert not scope["verify"]("s3cret", body, sign("wrong", body))


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(
        max_tries=8, first_backoff=timedelta(seconds=5), max_backoff=timedelta(minutes=1)
    )
    waits = [policy.backoff(t).total_seconds() for t in range(1, 7)]
    assert waits == [5, 10, 20, 40, 60, 60]


def test_notify_settings_from_the_environment() -> None:
    env = {
        "HOTLINE_WEBHOOK_SECRET": "k",
        "HOTLINE_SMTP_URL": "smtps://u:p@mail.example:465",
        "HOTLINE_SMTP_FROM": "hotline@lunan.example",
        "HOTLINE_NOTIFY_MAX_TRIES": "3",
    }
    settings = NotifySettings.from_env(env)
    assert (settings.webhook_secret, settings.max_tries) == ("k", 3)
    assert SmtpSettings(settings.smtp_url or "", settings.smtp_from).endpoint() == (
        "mail.example", 465, True, "u", "p",
    )  # fmt: skip
    assert NotifySettings.from_env({}) == NotifySettings()
    with pytest.raises(SettingsError, match="HOTLINE_SMTP_URL"):
        NotifySettings.from_env({"HOTLINE_SMTP_URL": "mail.example:25"})
    with pytest.raises(SettingsError, match="HOTLINE_NOTIFY_MAX_TRIES"):
        NotifySettings.from_env({"HOTLINE_NOTIFY_MAX_TRIES": "0"})


def test_contacts_no_sender_can_reach_are_named_by_the_health_check() -> None:
    city = load_config(Path(__file__).parents[2] / "shared" / "examples" / "chunshan.yaml")
    said = unreachable(city, set())
    assert said is not None and "HOTLINE_SMTP_URL is not set" in said
    assert "supervision-office" in said
    assert unreachable(city, {"smtp", "webhook"}) is None
    assert unreachable(load_config(None), set()) is None  # Lunan's contacts are all gateways
