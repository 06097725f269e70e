"""The district file's ``notifications``: what the citizen is told, and what feedback does."""

from __future__ import annotations

from pydantic import Field, field_validator

from hotline.shared.domain.config.contacts import CHANNEL, EMAIL, WEBHOOK
from hotline.shared.domain.config.fields import FileModel


class NotificationPolicy(FileModel):
    """How the district tells citizens and what their feedback does.

    ``citizen_channel`` is the gateway (``notify.<channel>`` over AMQP) that
    tells the caller their ticket is resolved, at the phone number they gave;
    ``reopen_on_dissatisfied`` is what a ``dissatisfied`` feedback does when it
    does not say itself.
    """

    citizen_channel: str = Field(default="sms", pattern=CHANNEL, max_length=32)
    reopen_on_dissatisfied: bool = True

    @field_validator("citizen_channel")
    @classmethod
    def _a_gateway(cls, value: str) -> str:
        if value in (WEBHOOK, EMAIL):
            raise ValueError("the citizen is told at their phone: name a gateway such as sms")
        return value
