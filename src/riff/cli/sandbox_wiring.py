"""Point every channel that has no real credentials at a local sandbox (``riff up``'s demo mode).

A channel counts as "really configured" when it has an enabled account that is not a sandbox account.
For every other channel that has both an adapter and a sandbox, the sandbox is started on its fixed port
(``RIFF_SANDBOX_BASE_PORT`` + its index) and an account named ``sandbox`` is created or refreshed to
use it. Accounts are visibly flagged ``is_sandbox`` so the UI and logs show the SANDBOX badge.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from riff.channels import service as channels
from riff.channels.models import ChannelAccount
from riff.channels.registry import CHANNELS
from riff.channels.schemas import AccountCreate, AccountUpdate
from riff.core.db import Database
from riff.core.logging import get_logger
from riff.core.security import SecretBox, load_secret_key
from riff.core.settings import Settings
from riff_sandbox.ebay import consts as ebay_sandbox
from riff_sandbox.registry import SANDBOXES
from riff_sandbox.runner import RunningSandbox, start_many
from riff_sandbox.shopify import consts as shopify_sandbox

log = get_logger(__name__)

SANDBOX_ACCOUNT_NAME = "sandbox"

# What a RIFF account needs to talk to each sandbox: (config, secrets) from the running sandbox.
# The values are the sandbox's seeded ones (e.g. Reverb's shipping profile 15655).
AccountFactory = Callable[[RunningSandbox], tuple[dict[str, Any], dict[str, str]]]
SANDBOX_ACCOUNTS: dict[str, AccountFactory] = {
    "reverb": lambda sb: ({"shipping_profile_id": "15655", "currency": "GBP"}, {"token": sb.token or ""}),
    "discogs": lambda sb: (
        {"username": "riff_records", "user_agent": "RIFF-Sandbox/0.1", "currency": "USD"},
        {"token": sb.token or ""},
    ),
    "ebay": lambda sb: (
        {
            "shipping_profile_id": "252277357017",
            "return_profile_id": "252277356017",
            "payment_profile_id": "252277358017",
            "postal_code": "WC2H 8NA",
            "currency": "GBP",
        },
        {
            "client_id": ebay_sandbox.APP_ID,
            "client_secret": ebay_sandbox.CERT_ID,
            "dev_id": ebay_sandbox.DEV_ID,
            "refresh_token": ebay_sandbox.DEFAULT_REFRESH_TOKEN,
        },
    ),
    "shopify": lambda sb: (
        {"shop_domain": shopify_sandbox.DEFAULT_SHOP_DOMAIN, "currency": "GBP"},
        {"token": sb.token or "", "client_secret": shopify_sandbox.DEFAULT_CLIENT_SECRET},
    ),
    # V&R: the sandbox's dealer login (riff_sandbox/vintage_and_rare/consts.py); Cloudflare is passed by the browser.
    "vintage_and_rare": lambda sb: (
        {"currency": "GBP"},
        {"username": "sandbox-dealer", "password": "sandbox-password"},
    ),
}


def channels_needing_sandbox(database: Database) -> list[str]:
    with database.read_session() as session:
        accounts = channels.list_accounts(session)
        really_configured = {a.channel for a in accounts if a.enabled and not a.is_sandbox}
    return [
        slug
        for slug in CHANNELS
        if slug in SANDBOXES and slug in SANDBOX_ACCOUNTS and slug not in really_configured
    ]


def _upsert_sandbox_account(
    session: Any, box: SecretBox, slug: str, sandbox: RunningSandbox
) -> ChannelAccount:
    config, secrets = SANDBOX_ACCOUNTS[slug](sandbox)
    existing = next(
        (a for a in channels.list_accounts(session, slug) if a.name == SANDBOX_ACCOUNT_NAME), None
    )
    if existing is None:
        return channels.create_account(
            session,
            box,
            AccountCreate(
                channel=slug,
                name=SANDBOX_ACCOUNT_NAME,
                is_sandbox=True,
                base_url=sandbox.api_base_url,
                config=config,
                secrets=secrets,
            ),
        )
    return channels.update_account(
        session,
        box,
        existing,
        AccountUpdate(
            enabled=True, is_sandbox=True, base_url=sandbox.api_base_url, config=config, secrets=dict(secrets)
        ),
    )


def _register_webhooks(
    session: Any, box: SecretBox, account: ChannelAccount, sandbox: RunningSandbox, riff_url: str
) -> None:
    """Make the sandbox's buyer simulator deliver its webhooks to this RIFF, as the real platform would."""
    token = channels.read_secrets(box, account).get(channels.WEBHOOK_TOKEN_KEY)
    if not token:
        token = channels.rotate_webhook_token(session, box, account)
    url = f"{riff_url}/webhooks/{account.channel}/{token}"
    registered = {(hook["url"], hook["topic"]) for hook in sandbox.control.webhooks()}
    for topic in SANDBOXES[sandbox.name].webhook_topics:
        if (url, topic) not in registered:
            sandbox.control.register_webhook(url, topic)


def start_sandboxes_for_unconfigured_channels(
    settings: Settings, database: Database, riff_url: str
) -> list[RunningSandbox]:
    names = channels_needing_sandbox(database)
    # start_many() with no names starts every sandbox, so only call it when a channel needs one.
    channel_sandboxes = (
        start_many(names, port_base=settings.sandbox_base_port, data_dir=settings.data_dir) if names else []
    )
    running = channel_sandboxes + start_carrier_sandboxes(settings) + start_research_sandboxes(settings)
    box = SecretBox(load_secret_key(settings))
    try:
        with database.session() as session:
            for sandbox in channel_sandboxes:
                account = _upsert_sandbox_account(session, box, sandbox.name, sandbox)
                _register_webhooks(session, box, account, sandbox, riff_url)
                log.info("sandbox.channel.wired", channel=sandbox.name, base_url=sandbox.api_base_url)
    except BaseException:
        for sandbox in running:
            sandbox.stop()
        raise
    return running


def start_carrier_sandboxes(settings: Settings) -> list[RunningSandbox]:
    """DHL is configured by environment (``RIFF_DHL_*``), not a channel account: without real
    credentials, start the DHL sandbox and point this process's fulfilment settings at it."""
    from riff.fulfilment.settings import get_fulfilment_settings, reset_fulfilment_settings
    from riff_sandbox.dhl import consts as dhl_sandbox

    if get_fulfilment_settings().dhl_configured:
        return []
    [sandbox] = start_many(["dhl"], port_base=settings.sandbox_base_port, data_dir=settings.data_dir)
    os.environ.update(
        {
            "RIFF_DHL_BASE_URL": sandbox.api_base_url,
            "RIFF_DHL_API_KEY": dhl_sandbox.DEFAULT_API_KEY,
            "RIFF_DHL_API_SECRET": dhl_sandbox.DEFAULT_API_SECRET,
            "RIFF_DHL_ACCOUNT_NUMBER": dhl_sandbox.DEFAULT_ACCOUNT_NUMBER,
        }
    )
    reset_fulfilment_settings()
    log.info("sandbox.carrier.wired", carrier="dhl", base_url=sandbox.api_base_url)
    return [sandbox]


def start_research_sandboxes(settings: Settings) -> list[RunningSandbox]:
    """Market-research collectors read eBay Browse, Etsy and Reddit. Without credentials for one of
    them, start its sandbox and point this process's research settings at it (demo data)."""
    from riff.research.config import get_research_settings, reset_research_settings_cache
    from riff_sandbox.ebay_browse.platform import EbayBrowseOptions
    from riff_sandbox.etsy.platform import EtsyOptions
    from riff_sandbox.reddit.platform import RedditOptions

    research = get_research_settings()
    wanted: dict[str, Callable[[RunningSandbox], dict[str, str]]] = {}
    if not research.ebay_client_id:
        ebay = EbayBrowseOptions()
        wanted["ebay_browse"] = lambda sb: {
            "RIFF_RESEARCH_EBAY_BASE_URL": sb.base_url,
            "RIFF_RESEARCH_EBAY_CLIENT_ID": ebay.client_id,
            "RIFF_RESEARCH_EBAY_CLIENT_SECRET": ebay.client_secret,
        }
    if not research.etsy_keystring:
        etsy = EtsyOptions()
        wanted["etsy"] = lambda sb: {
            "RIFF_RESEARCH_ETSY_BASE_URL": sb.base_url,
            "RIFF_RESEARCH_ETSY_KEYSTRING": etsy.keystring,
            "RIFF_RESEARCH_ETSY_SHARED_SECRET": etsy.shared_secret,
        }
    if not research.reddit_client_id:
        reddit = RedditOptions()
        wanted["reddit"] = lambda sb: {
            "RIFF_RESEARCH_REDDIT_AUTH_URL": sb.base_url,
            "RIFF_RESEARCH_REDDIT_API_URL": sb.base_url,
            "RIFF_RESEARCH_REDDIT_CLIENT_ID": reddit.client_id,
            "RIFF_RESEARCH_REDDIT_CLIENT_SECRET": reddit.client_secret,
        }
    if not wanted:
        return []
    running = start_many(list(wanted), port_base=settings.sandbox_base_port, data_dir=settings.data_dir)
    for sandbox in running:
        os.environ.update(wanted[sandbox.name](sandbox))
        log.info("sandbox.research.wired", platform=sandbox.name, base_url=sandbox.base_url)
    reset_research_settings_cache()
    return running
