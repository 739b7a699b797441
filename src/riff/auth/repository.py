"""All SQL for users, API tokens and login attempts.

Queries call ``session.scalars`` directly rather than ``RepositoryBase.get_all``/``get_one_or_none``:
under SQLAlchemy 2.1's typing ``select(User)`` is ``Select[User]``, not the ``Select[tuple[User]]``
those base methods declare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from riff.auth.models import ApiToken, LoginAttempt, Role, User
from riff.core.repository import RepositoryBase


class UserRepository(RepositoryBase[User]):
    model = User

    def get_by_username(self, username: str) -> User | None:
        return self.session.scalars(sa.select(User).where(User.username == username)).one_or_none()

    def list_all(self) -> Sequence[User]:
        return self.session.scalars(sa.select(User).order_by(User.username)).all()

    def count_all(self) -> int:
        return self.count(sa.select(User.id))

    def count_active_owners(self) -> int:
        return self.count(sa.select(User.id).where(User.role == Role.OWNER, User.is_active.is_(True)))


class ApiTokenRepository(RepositoryBase[ApiToken]):
    model = ApiToken

    def get_with_user_by_hash(self, token_hash: str) -> tuple[ApiToken, User] | None:
        row = self.session.execute(
            sa.select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash)
        ).one_or_none()
        return None if row is None else (row[0], row[1])

    def list_for_user(self, user_id: int) -> Sequence[ApiToken]:
        statement = sa.select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)
        return self.session.scalars(statement).all()

    def list_all_with_users(self) -> Sequence[tuple[ApiToken, User]]:
        rows = self.session.execute(
            sa.select(ApiToken, User).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def touch(self, token_id: int, now: dt.datetime) -> None:
        self.session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


class LoginAttemptRepository(RepositoryBase[LoginAttempt]):
    model = LoginAttempt

    def failure_times_for_username(self, username: str, since: dt.datetime) -> list[dt.datetime]:
        """Failures for ``username`` after ``since`` and after its latest success, oldest first."""
        last_success = (
            sa.select(sa.func.max(LoginAttempt.at))
            .where(LoginAttempt.username == username, LoginAttempt.success.is_(True))
            .scalar_subquery()
        )
        statement = (
            sa.select(LoginAttempt.at)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.success.is_(False),
                LoginAttempt.at > since,
                sa.or_(last_success.is_(None), LoginAttempt.at > last_success),
            )
            .order_by(LoginAttempt.at)
        )
        return list(self.session.execute(statement).scalars())

    def failure_times_for_ip(self, ip: str, since: dt.datetime) -> list[dt.datetime]:
        """Failures from ``ip`` after ``since``, oldest first. A success does not reset these: an
        attacker holding one account must not be able to clear the counter for guessing others."""
        statement = (
            sa.select(LoginAttempt.at)
            .where(LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at)
        )
        return list(self.session.execute(statement).scalars())

    def delete_older_than(self, cutoff: dt.datetime) -> int:
        result = self.session.execute(sa.delete(LoginAttempt).where(LoginAttempt.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)
