"""Discogs has no webhooks (no mechanism in https://www.discogs.com/developers): orders are polled.

``POST /webhooks/discogs/{token}`` therefore refuses every body; polled orders still go through the
inbox (``riff.channels.tasks.record_polled_order``) with ``mapping.order_dedupe_key``.
"""

from __future__ import annotations

from collections.abc import Mapping

from riff.channels.contract import WebhookEvent
from riff.channels.discogs import consts
from riff.channels.errors import Rejected


def parse(headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
    raise Rejected("Discogs sends no webhooks; RIFF polls its orders instead", channel=consts.SLUG)
