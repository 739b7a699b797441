"""Every channel RIFF knows, keyed by slug. Which are enabled, and with which account, is data
(``channel_accounts``), not code."""

from __future__ import annotations

from typing import Any

from riff.channels.contract import Channel
from riff.channels.discogs.adapter import DiscogsChannel
from riff.channels.ebay.adapter import EbayChannel
from riff.channels.reverb.adapter import ReverbChannel
from riff.channels.shopify.adapter import ShopifyChannel
from riff.channels.vintage_and_rare.adapter import VintageAndRareChannel
from riff.core.errors import ValidationFailed

# The marketplaces RIFF is built for, in the order the UI lists them; not all have an adapter yet.
CHANNEL_SLUGS = ("reverb", "ebay", "shopify", "vintage_and_rare", "discogs")

CHANNELS: dict[str, type[Any]] = {
    ReverbChannel.slug: ReverbChannel,
    EbayChannel.slug: EbayChannel,
    ShopifyChannel.slug: ShopifyChannel,
    VintageAndRareChannel.slug: VintageAndRareChannel,
    DiscogsChannel.slug: DiscogsChannel,
}


def channel_class(slug: str) -> type[Channel]:
    cls = CHANNELS.get(slug)
    if cls is None:
        if slug in CHANNEL_SLUGS:
            raise ValidationFailed(f"channel {slug!r} has no adapter yet", field="channel")
        raise ValidationFailed(
            f"unknown channel {slug!r} (known: {', '.join(CHANNEL_SLUGS)})", field="channel"
        )
    return cls  # type: ignore[no-any-return]
