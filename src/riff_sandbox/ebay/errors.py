"""The Trading API errors the sandbox answers with. Texts and codes follow eBay's where a source shows them
(docs/channels/ebay.md lists which are confirmed and which are the sandbox's own)."""

from __future__ import annotations

from riff_sandbox.ebay.xml import EbayApiError, Issue


def unsupported_call(call_name: str) -> EbayApiError:
    return EbayApiError(
        Issue(
            "2",
            "Unsupported API call.",
            f'The API call "{call_name}" is invalid or not supported in this release.',
        )
    )


def xml_parse_error(detail: str) -> EbayApiError:
    return EbayApiError(Issue("5", "XML Parse error.", f'XML Error Text: "{detail}".'))


def missing_header(name: str) -> EbayApiError:
    return EbayApiError(
        Issue(
            "10012",
            f"Missing header {name}.",
            f"The HTTP header {name} is required for Trading API calls.",
            (name,),
        )
    )


def invalid_token() -> EbayApiError:
    return EbayApiError(
        Issue(
            "931", "Auth token is invalid.", "Validation of the authentication token in API request failed."
        )
    )


def expired_token() -> EbayApiError:
    # Real text (3p capture): LongMessage carries a trailing space.
    return EbayApiError(Issue("21917053", "Expired IAF token.", "IAF token supplied is expired. "))


def call_limit() -> EbayApiError:
    return EbayApiError(
        Issue(
            "518",
            "Call usage limit has been reached.",
            "Your application has exceeded usage limit on this call, please make call to Developer Analytics API "
            "to check your call usage.",
        )
    )


def invalid_input(tag: str) -> Issue:
    return Issue(
        "37",
        "Input data is invalid.",
        f"Input data for tag <{tag}> is invalid or missing. Please check API documentation.",
        (tag,),
    )


def title_too_long() -> Issue:
    return Issue(
        "70", "Title too long.", "The title may be no more than 80 characters.", ("Item.Title", "80")
    )


def invalid_category(category_id: str) -> Issue:
    return Issue(
        "107",
        "Category is not valid.",
        f"The category selected ({category_id}) is not valid. Please select another category.",
        ("Item.PrimaryCategory.CategoryID", category_id),
    )


def missing_item_specific(name: str) -> Issue:
    return Issue(
        "21919303",
        f"The item specific {name} is missing.",
        f"The item specific {name} is missing. Add {name} to this listing, enter a valid value, and then try again.",
        (name,),
    )


def duplicate_uuid(item_id: str) -> EbayApiError:
    # developer.ebay.com KB 74: ErrorParameters 0 = ListedByRequestAppId, 1 = the existing ItemID.
    return EbayApiError(
        Issue(
            "488",
            "Duplicate UUID used.",
            f"The specified UUID has already been used; ListedByRequestAppId=1, item ID={item_id}.",
            ("1", item_id),
        )
    )


def duplicate_listing(title: str, item_id: str) -> EbayApiError:
    # api_samples/ebay/trading_Failure_response.xml (a real capture).
    return EbayApiError(
        Issue(
            "21919067",
            "Listing violates the Duplicate Listing policy.",
            f"This Listing is a duplicate of your item: {title} ({item_id}). Under the Duplicate Listing policy, "
            "sellers can't have multiple Fixed Price listings, multiple Auction-style (with the Buy It Now option) "
            "listings, or in both the Fixed Price and Auction-style (with the Buy It Now option) listings for "
            "identical items at the same time. We recommend you create a multiple quantity Fixed Price listing to "
            "sell identical items.",
            (title, item_id),
        )
    )


def item_not_found(reference: str) -> Issue:
    return Issue(
        "17",
        "Item cannot be accessed.",
        "This item cannot be accessed because the listing has been deleted, is a Half.com listing, or you are "
        "not the seller.",
        (reference,),
    )


def already_closed(item_id: str) -> Issue:
    return Issue("1047", "Auction already closed.", "The auction has already been closed.", (item_id,))


def revise_ended(item_id: str) -> Issue:
    return Issue("291", "Auction ended.", "You are not allowed to revise ended listings.", (item_id,))


def too_many_statuses() -> EbayApiError:
    return EbayApiError(
        Issue(
            "21916632",
            "Too many InventoryStatus containers.",
            "ReviseInventoryStatus accepts at most 4 InventoryStatus containers per call.",
            ("InventoryStatus",),
        )
    )


def redundant_revision() -> Issue:
    # eBay KB 2161 (api_samples/ebay/trading_ReviseInventoryStatus_response.xml).
    return Issue(
        "21917091",
        "Requested StartPrice and Quantity revision is redundant.",
        "The existing price and quantity values are identical to those specified in the request and, therefore, "
        "have not been modified.",
        severity="Warning",
    )


def postcode_recommended() -> Issue:
    return Issue(
        "21920002",
        "Postcode recommended.",
        "Add a postcode (Item.PostalCode) so buyers see where the item ships from; the Location text is used "
        "for now.",
        ("Item.PostalCode",),
        severity="Warning",
    )


def order_not_found(order_id: str) -> Issue:
    return Issue(
        "21916285",
        "Order not found.",
        f"The order {order_id} could not be found for this seller.",
        (order_id,),
    )


def order_not_paid(order_id: str) -> Issue:
    return Issue(
        "21916286",
        "Order not paid.",
        f"The order {order_id} has not been paid, so it cannot be marked as shipped.",
        (order_id,),
    )
