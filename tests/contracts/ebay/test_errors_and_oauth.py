"""Contract: the call-limit failure, expired/invalid tokens and the OAuth token endpoint.

Documented examples (data/; sources in data/README.md): trading_CallLimit_error_response.xml (error 518 text),
trading_GetMyeBaySelling_request.xml, oauth_user_token.json (token response fields).
"""

from __future__ import annotations

import base64
import json

import httpx

from riff_sandbox.ebay import consts
from riff_sandbox.runner import RunningSandbox

from .conftest import DATA, NS, TIMEOUT, assert_same_structure, call, documented, parse

CALL_LIMIT = parse(documented("trading_CallLimit_error_response.xml"))
USER_TOKEN = json.loads((DATA / "oauth_user_token.json").read_text("utf-8"))


def _token(
    ebay: RunningSandbox, form: dict[str, str], client: tuple[str, str] = (consts.APP_ID, consts.CERT_ID)
) -> httpx.Response:
    basic = base64.b64encode(f"{client[0]}:{client[1]}".encode()).decode()
    return httpx.post(
        f"{ebay.base_url}/identity/v1/oauth2/token",
        data=form,
        headers={"Authorization": f"Basic {basic}"},
        timeout=TIMEOUT,
        trust_env=False,
    )


class TestCallLimit:
    def test_a_used_up_quota_is_the_documented_518(self, ebay: RunningSandbox) -> None:
        httpx.post(
            f"{ebay.base_url}/_sandbox/ebay/call_limits", json={"daily_call_limits": {"GetMyeBaySelling": 1}}
        )
        call(ebay, "GetMyeBaySelling", documented("trading_GetMyeBaySelling_request.xml"))
        answer = call(ebay, "GetMyeBaySelling", documented("trading_GetMyeBaySelling_request.xml"))

        assert_same_structure(answer, CALL_LIMIT)
        for name in (
            "Ack",
            "Errors/e:ShortMessage",
            "Errors/e:LongMessage",
            "Errors/e:ErrorCode",
            "Errors/e:SeverityCode",
        ):
            assert answer.findtext(f"e:{name}", namespaces=NS) == CALL_LIMIT.findtext(
                f"e:{name}", namespaces=NS
            )
        # Other calls still have quota.
        assert (
            call(
                ebay,
                "GeteBayOfficialTime",
                b'<GeteBayOfficialTimeRequest xmlns="urn:ebay:apis:eBLBaseComponents"/>',
            ).findtext("e:Ack", namespaces=NS)
            == "Success"
        )


class TestTokens:
    def test_refresh_grant_answers_the_documented_fields(self, ebay: RunningSandbox) -> None:
        response = _token(
            ebay,
            {
                "grant_type": "refresh_token",
                "refresh_token": consts.DEFAULT_REFRESH_TOKEN,
                "scope": "https://api.ebay.com/oauth/api_scope",
            },
        )

        assert response.status_code == 200
        body = response.json()
        assert set(body) <= set(USER_TOKEN["body"])  # a refresh returns no new refresh token
        assert body["token_type"] == USER_TOKEN["body"]["token_type"] == "User Access Token"
        assert body["expires_in"] == 7200
        answer = call(
            ebay,
            "GeteBayOfficialTime",
            b'<GeteBayOfficialTimeRequest xmlns="urn:ebay:apis:eBLBaseComponents"/>',
            token=body["access_token"],
        )
        assert answer.findtext("e:Ack", namespaces=NS) == "Success"

    def test_a_revoked_refresh_token_is_invalid_grant(self, ebay: RunningSandbox) -> None:
        ebay.control.revoke_token(consts.DEFAULT_REFRESH_TOKEN)
        response = _token(
            ebay, {"grant_type": "refresh_token", "refresh_token": consts.DEFAULT_REFRESH_TOKEN}
        )
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_grant"

    def test_wrong_client_credentials_are_invalid_client(self, ebay: RunningSandbox) -> None:
        response = _token(ebay, {"grant_type": "client_credentials"}, client=(consts.APP_ID, "nope"))
        assert response.status_code == 401
        assert response.json() == {
            "error": "invalid_client",
            "error_description": "client authentication failed",
        }

    def test_an_expired_access_token_is_21917053(self, ebay: RunningSandbox) -> None:
        token = _token(
            ebay, {"grant_type": "refresh_token", "refresh_token": consts.DEFAULT_REFRESH_TOKEN}
        ).json()
        httpx.post(f"{ebay.base_url}/_sandbox/ebay/expire_access_tokens").raise_for_status()
        answer = call(
            ebay,
            "GetMyeBaySelling",
            documented("trading_GetMyeBaySelling_request.xml"),
            token=token["access_token"],
        )

        assert answer.findtext("e:Ack", namespaces=NS) == "Failure"
        assert answer.findtext("e:Errors/e:ErrorCode", namespaces=NS) == "21917053"
        assert answer.findtext("e:Errors/e:ShortMessage", namespaces=NS) == "Expired IAF token."

    def test_an_application_token_cannot_call_the_trading_api(self, ebay: RunningSandbox) -> None:
        token = _token(ebay, {"grant_type": "client_credentials"}).json()
        assert token["token_type"] == "Application Access Token"
        answer = call(
            ebay,
            "GetMyeBaySelling",
            documented("trading_GetMyeBaySelling_request.xml"),
            token=token["access_token"],
        )
        assert answer.findtext("e:Errors/e:ErrorCode", namespaces=NS) == "931"

    def test_headers_are_required(self, ebay: RunningSandbox) -> None:
        response = httpx.post(
            f"{ebay.base_url}/ws/api.dll",
            content=documented("trading_GetMyeBaySelling_request.xml"),
            headers={
                "X-EBAY-API-CALL-NAME": "GetMyeBaySelling",
                "X-EBAY-API-IAF-TOKEN": consts.DEFAULT_TOKEN,
            },
            timeout=TIMEOUT,
            trust_env=False,
        )
        assert parse(response.content).findtext("e:Ack", namespaces=NS) == "Failure"
