"""Imports every package's models so ``Base.metadata`` is complete (Alembic and tests use this)."""

from riff.auth import models as auth_models
from riff.catalog import models as catalog_models
from riff.channels import models as channel_models
from riff.core.models import Base
from riff.fulfilment import models as fulfilment_models
from riff.jobs import models as jobs_models  # noqa: F401
from riff.orders import models as orders_models
from riff.records import models as records_models
from riff.research import models as research_models
from riff.sync import models as sync_models

metadata = Base.metadata

__all__ = [
    "auth_models",
    "catalog_models",
    "channel_models",
    "fulfilment_models",
    "metadata",
    "orders_models",
    "records_models",
    "research_models",
    "sync_models",
]
