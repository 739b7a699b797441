"""Every platform sandbox, by name. A new platform plugs in with one line.

Order matters: ``riff sandbox up`` gives each sandbox the port ``port_base + its index here``, so a
sandbox keeps its port whichever others run. Append new platforms at the end.
"""

from __future__ import annotations

from riff_sandbox.discogs.platform import DiscogsSandbox
from riff_sandbox.ebay.platform import EbaySandbox
from riff_sandbox.reverb.platform import ReverbSandbox
from riff_sandbox.shopify.platform import ShopifySandbox
from riff_sandbox.toolkit.platform import SandboxPlatform
from riff_sandbox.vintage_and_rare.platform import VintageAndRareSandbox

SANDBOXES: dict[str, type[SandboxPlatform]] = {
    "reverb": ReverbSandbox,
    "shopify": ShopifySandbox,
    "ebay": EbaySandbox,
    "vintage_and_rare": VintageAndRareSandbox,
    "discogs": DiscogsSandbox,
}


def port_for(name: str, port_base: int) -> int:
    return port_base + list(SANDBOXES).index(name)


# DHL Express is a carrier, not a sales channel: RIFF buys labels there (riff.carriers.dhl).
from riff_sandbox.dhl.platform import DhlSandbox  # noqa: E402

SANDBOXES["dhl"] = DhlSandbox

# Market research sources (read-only; riff.research.collectors): eBay Browse, Etsy Open API v3, Reddit.
from riff_sandbox.ebay_browse.platform import EbayBrowseSandbox  # noqa: E402
from riff_sandbox.etsy.platform import EtsySandbox  # noqa: E402
from riff_sandbox.reddit.platform import RedditSandbox  # noqa: E402

SANDBOXES["ebay_browse"] = EbayBrowseSandbox
SANDBOXES["etsy"] = EtsySandbox
SANDBOXES["reddit"] = RedditSandbox
