"""Service functions that are not reachable (or not only reachable) through HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from riff.auth import service
from riff.auth.models import LoginAttempt, Role, User
from riff.core.clock import FrozenClock
from riff.core.db import Database
from riff.core.errors import NotFound, TooManyRequests, Unauthenticated
from riff.core.security import verify_password
from riff.core.settings import Settings

from .factories import PASSWORD


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database.url, login_max_attempts=2, login_window_seconds=60
    )


class TestEnsureFirstOwner:
    def test_creates_owner_once(self, database: Database) -> None:
        password = service.ensure_first_owner(database)
        assert password is not None and len(password) >= 12
        with database.read_session() as session:
            owner = session.execute(sa.select(User)).scalar_one()
            assert owner.username == "owner" and owner.role == Role.OWNER and owner.is_active
            assert verify_password(password, owner.password_hash)
        assert service.ensure_first_owner(database) is None

    def test_does_nothing_when_users_exist(self, database: Database, make_user: Callable[..., User]) -> None:
        make_user("someone")
        assert service.ensure_first_owner(database) is None


class TestAuthenticate:
    def test_prunes_old_attempts(
        self, database: Database, settings: Settings, frozen_clock: FrozenClock
    ) -> None:
        with pytest.raises(Unauthenticated):
            service.authenticate(database, username="ghost", password="x", ip="10.1.1.1", settings=settings)
        frozen_clock.advance(days=2)
        with pytest.raises(Unauthenticated):
            service.authenticate(database, username="ghost", password="x", ip="10.1.1.1", settings=settings)
        with database.read_session() as session:
            times = session.execute(sa.select(LoginAttempt.at)).scalars().all()
        assert times == [frozen_clock.now]

    def test_records_success_and_last_login(
        self,
        database: Database,
        settings: Settings,
        make_user: Callable[..., User],
        frozen_clock: FrozenClock,
    ) -> None:
        make_user("alice")
        user = service.authenticate(
            database, username=" alice ", password=PASSWORD, ip="10.1.1.2", settings=settings
        )
        assert user.username == "alice"
        with database.read_session() as session:
            stored = session.execute(sa.select(User).where(User.username == "alice")).scalar_one()
            assert stored.last_login_at == frozen_clock.now
            attempt = session.execute(sa.select(LoginAttempt)).scalar_one()
            assert (attempt.username, attempt.ip, attempt.success) == ("alice", "10.1.1.2", True)

    def test_throttle_raises_before_checking_the_password(
        self, database: Database, settings: Settings, frozen_clock: FrozenClock
    ) -> None:
        for _ in range(2):
            with pytest.raises(Unauthenticated):
                service.authenticate(database, username="bob", password="x", ip="10.1.1.3", settings=settings)
        with pytest.raises(TooManyRequests) as raised:
            service.authenticate(database, username="bob", password="x", ip="10.1.1.4", settings=settings)
        assert raised.value.retry_after_seconds == 60
        with database.read_session() as session:  # throttled attempts are not recorded
            assert session.execute(sa.select(sa.func.count(LoginAttempt.id))).scalar_one() == 2


class TestSecondsUntilAllowed:
    NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    WINDOW = dt.timedelta(seconds=100)

    def _at(self, *seconds_ago: int) -> list[dt.datetime]:
        return sorted(self.NOW - dt.timedelta(seconds=s) for s in seconds_ago)

    def test_under_the_limit(self) -> None:
        assert service._seconds_until_allowed(self._at(10, 20), 3, self.WINDOW, self.NOW) == 0

    def test_at_the_limit_waits_for_the_oldest(self) -> None:
        assert service._seconds_until_allowed(self._at(90, 50, 10), 3, self.WINDOW, self.NOW) == 10

    def test_over_the_limit_waits_until_below_it(self) -> None:
        # Four failures (a race let one extra in): two must age out, so wait for the second oldest.
        assert service._seconds_until_allowed(self._at(90, 50, 30, 10), 3, self.WINDOW, self.NOW) == 50


class TestRevoke:
    def test_revoking_twice_keeps_the_first_time(
        self, database: Database, make_user: Callable[..., User], frozen_clock: FrozenClock
    ) -> None:
        user = make_user("alice")
        with database.session() as session:
            token, _ = service.create_api_token(session, user, name="t")
            first = service.revoke_api_token(session, token.id).revoked_at
        frozen_clock.advance(minutes=5)
        with database.session() as session:
            assert service.revoke_api_token(session, token.id).revoked_at == first

    def test_unknown(self, database: Database) -> None:
        with database.session() as session, pytest.raises(NotFound):
            service.revoke_api_token(session, 12345)
