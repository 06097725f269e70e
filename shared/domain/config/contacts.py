"""How a unit's people are reached: the contact channels, and whom in the unit each reaches."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, model_validator

from hotline.shared.domain.config.fields import FileModel

#: Contact channels the notifier delivers itself; any other channel name is a gateway
#: the district runs (SMS, WeChat, phone...) reached over AMQP as ``notify.<channel>``.
WEBHOOK = "webhook"
EMAIL = "email"

#: A channel's name: it is the end of an AMQP routing key (``notify.<channel>``).
CHANNEL = r"^[a-z0-9][a-z0-9-]*$"


class ContactRole(StrEnum):
    """Whom in its unit a contact reaches: the duty desk that handles tasks, or its leader.

    A ladder step that tells ``unit`` reaches the desk, ``unit-leader`` the leader: a
    reminder goes to whoever works the task, an overdue one to whoever answers for it.
    """

    DESK = "desk"
    LEADER = "leader"


class Contact(FileModel):
    """Where a unit's people are reached, and through which channel.

    ``webhook``: ``address`` is an ``http(s)://`` URL that gets a signed POST;
    ``email``: an e-mail address; anything else (``sms``, ``wechat``, ``phone``)
    names a gateway that consumes AMQP routing key ``notify.<channel>``.
    ``role`` says whom it reaches: the unit's ``desk`` (the default) or its ``leader``.
    """

    channel: str = Field(pattern=CHANNEL, max_length=32)
    address: str = Field(min_length=1, max_length=500)
    role: ContactRole = Field(
        default=ContactRole.DESK, description="whom it reaches: the unit's desk or its leader"
    )

    @model_validator(mode="after")
    def _address_fits(self) -> Contact:
        if self.channel == WEBHOOK and not re.match(r"^https?://[^\s/]+", self.address):
            raise ValueError(f"webhook address {self.address!r} must be an http(s):// URL")
        if self.channel == EMAIL and not re.match(r"^[^@\s]+@[^@\s]+$", self.address):
            raise ValueError(f"email address {self.address!r} is not name@domain")
        return self

    @property
    def gateway(self) -> bool:
        """Whether a district gateway delivers it (over AMQP), not the notifier itself."""
        return self.channel not in (WEBHOOK, EMAIL)
