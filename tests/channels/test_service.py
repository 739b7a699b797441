"""Accounts with encrypted secrets, the webhook inbox, product snapshots (both databases)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from riff.channels import service
from riff.channels.contract import WebhookEvent
from riff.channels.errors import AuthExpired
from riff.channels.models import AccountStatus, ChannelCategoryMapping, ChannelEvent, ChannelPriceRule
from riff.channels.schemas import AccountCreate, AccountUpdate
from riff.core.db import Database
from riff.core.errors import Conflict, ValidationFailed
from riff.core.security import SecretBox

from .factories import TEST_TOKEN, WEBHOOK_TOKEN, create_category, create_product, create_reverb_account

MASTER_KEY = b"test-master-key"


class TestCreateAccount:
    def test_secrets_are_encrypted_at_rest(self, database: Database) -> None:
        with database.session() as session:
            create_reverb_account(session, MASTER_KEY)
        with database.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM channel_accounts")).mappings().all()
        raw = repr([dict(row) for row in rows])
        assert TEST_TOKEN not in raw
        assert WEBHOOK_TOKEN not in raw
        with database.read_session() as session:
            account = service.list_accounts(session)[0]
            assert service.read_secrets(SecretBox(MASTER_KEY), account)["token"] == TEST_TOKEN

    def test_config_and_secrets_are_validated(self, database: Database) -> None:
        box = SecretBox(MASTER_KEY)
        with database.session() as session, pytest.raises(ValidationFailed) as caught:
            service.create_account(session, box, AccountCreate(channel="reverb", secrets={}))
        assert caught.value.field == "secrets.token"
        with database.session() as session, pytest.raises(ValidationFailed, match="config.publish"):
            service.create_account(
                session,
                box,
                AccountCreate(channel="reverb", config={"publish": "maybe"}, secrets={"token": "t"}),
            )

    def test_unknown_channel_and_duplicates(self, database: Database) -> None:
        box = SecretBox(MASTER_KEY)
        with database.session() as session:
            with pytest.raises(Exception, match="unknown channel"):
                service.create_account(session, box, AccountCreate(channel="myspace", secrets={"token": "t"}))
            create_reverb_account(session, MASTER_KEY)
            with pytest.raises(Conflict):
                create_reverb_account(session, MASTER_KEY)


class TestUpdateAccount:
    def test_new_secrets_clear_needs_attention(self, database: Database) -> None:
        box = SecretBox(MASTER_KEY)
        with database.session() as session:
            account_id = create_reverb_account(session, MASTER_KEY).id
            service.mark_needs_attention(session, account_id, "token expired")
        with database.session() as session:
            account = service.get_account(session, account_id)
            assert account.status == AccountStatus.NEEDS_ATTENTION
            with pytest.raises(AuthExpired, match="token expired"):
                service.ensure_usable(account)
            service.update_account(
                session,
                box,
                account,
                AccountUpdate(secrets={"token": "new-token"}, config={"currency": "EUR"}),
            )
        with database.read_session() as session:
            account = service.get_account(session, account_id)
            assert account.status == AccountStatus.OK and account.status_message is None
            assert account.config["currency"] == "EUR"
            assert account.config["shipping_profile_id"] == "15655"  # merged, not replaced
            assert service.read_secrets(box, account) == {
                "token": "new-token",
                "webhook_token": WEBHOOK_TOKEN,
            }


class TestWebhookToken:
    def test_lookup_is_by_secret_token(self, database: Database) -> None:
        box = SecretBox(MASTER_KEY)
        with database.session() as session:
            account_id = create_reverb_account(session, MASTER_KEY).id
            create_reverb_account(session, MASTER_KEY, name="second", webhook_token=None)
        with database.session() as session:
            found = service.find_account_by_webhook_token(session, box, "reverb", WEBHOOK_TOKEN)
            assert found is not None and found.id == account_id
            assert service.find_account_by_webhook_token(session, box, "reverb", "wrong") is None
            assert service.find_account_by_webhook_token(session, box, "reverb", "") is None
            rotated = service.rotate_webhook_token(session, box, found)
        with database.session() as session:
            assert service.find_account_by_webhook_token(session, box, "reverb", WEBHOOK_TOKEN) is None
            assert service.find_account_by_webhook_token(session, box, "reverb", rotated) is not None


class TestInbox:
    def test_an_event_is_stored_once(self, database: Database) -> None:
        event = WebhookEvent(
            channel="reverb", topic="orders/update", external_id="1", dedupe_key="order:1:t", payload={"a": 1}
        )
        with database.session() as session:
            account = create_reverb_account(session, MASTER_KEY)
            first = service.record_event(session, account, event, enqueue_handler=False)
        with database.session() as session:
            account = service.get_account(session, account.id)
            again = service.record_event(session, account, event, enqueue_handler=False)
        assert first is not None and again is None
        with database.read_session() as session:
            assert session.scalar(sa.select(sa.func.count()).select_from(ChannelEvent)) == 1


class TestProductSnapshot:
    def test_effective_price_and_category_mapping(self, database: Database) -> None:
        with database.session() as session:
            category = create_category(session, slug="archtops")
            product = create_product(session, category=category, base_price=Decimal("1000"))
            session.add(ChannelPriceRule(channel="reverb", markup_percent=Decimal("10"), price_endings="99"))
            session.add(
                ChannelCategoryMapping(
                    category_id=category.id, channel="reverb", remote_ids=["u-9"], remote_names=[]
                )
            )
            session.flush()
            snap = service.product_snapshot(session, product, "reverb")
        assert snap.price == Decimal("1199.00")
        assert snap.category_remote_ids == ["u-9"]
        assert snap.category_slug == "archtops"
        assert [image.url for image in snap.images] == [
            "https://img.example.com/RIFF-10000001/0.jpg",
            "https://img.example.com/RIFF-10000001/1.jpg",
        ]
