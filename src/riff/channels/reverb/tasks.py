"""Reverb's job handlers: the shared bodies in ``riff.channels.tasks`` under ``reverb.*`` kinds."""

from __future__ import annotations

from typing import Any

from riff.channels import tasks
from riff.channels.contract import RemoteOrder
from riff.channels.reverb import consts, webhooks
from riff.jobs import job_handler


def _order_key(order: RemoteOrder) -> str:
    updated = order.raw.get("updated_at") if order.raw else None
    return webhooks.order_dedupe_key(order.remote_id, updated, order.raw)


@job_handler("reverb.publish", max_attempts=8)
async def publish(ctx: Any) -> dict[str, Any]:
    return await tasks.publish(ctx, consts.SLUG)


@job_handler("reverb.update", max_attempts=8)
async def update(ctx: Any) -> dict[str, Any]:
    return await tasks.update(ctx, consts.SLUG)


@job_handler("reverb.end", max_attempts=12)
async def end(ctx: Any) -> dict[str, Any]:
    return await tasks.end(ctx, consts.SLUG)


@job_handler("reverb.pull_listings", max_attempts=5)
async def pull_listings(ctx: Any) -> dict[str, Any]:
    return await tasks.pull_listings(ctx, consts.SLUG)


@job_handler("reverb.fetch_orders", max_attempts=5)
async def fetch_orders(ctx: Any) -> dict[str, Any]:
    return await tasks.fetch_orders(ctx, consts.SLUG, _order_key)


@job_handler("reverb.mark_shipped", max_attempts=8)
async def mark_shipped(ctx: Any) -> dict[str, Any]:
    return await tasks.mark_shipped(ctx, consts.SLUG)


@job_handler("reverb.webhook", max_attempts=8)
async def webhook(ctx: Any) -> dict[str, Any]:
    return await tasks.handle_webhook(ctx, consts.SLUG)
