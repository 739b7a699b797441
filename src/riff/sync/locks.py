"""Row locks of the sync engine, in one place (lock discipline: products before listings, by id).

A sale and a pull that both touch a product and its listings lock the product rows first, in ascending
id order, so two transactions never wait on each other in a cycle. On PostgreSQL this is
``SELECT ... FOR UPDATE``; on SQLite every write transaction already holds the database's write lock
from its first statement (``BEGIN IMMEDIATE``, see ``riff.core.db``), which excludes every other writer,
so the same statement (without ``FOR UPDATE``, which SQLite does not have) only loads the rows.

The lock is ``FOR NO KEY UPDATE`` (what an ``UPDATE`` of non-key columns takes anyway): rows inserted
earlier in the same transaction that reference the product (order lines, sync events) hold ``FOR KEY
SHARE`` on it, which a plain ``FOR UPDATE`` would wait for: two sales of one product would deadlock.

Stock itself never relies on the lock alone: it moves by a conditional ``UPDATE ... SET quantity =
quantity - n WHERE quantity >= n`` (``riff.catalog.service.adjust_stock``).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.catalog.models import Product


def lock_products(session: Session, product_ids: Iterable[int | None]) -> dict[int, Product]:
    """Lock (PostgreSQL) and load the products, in id order; the committed row wins over the identity map."""
    ids = sorted({int(i) for i in product_ids if i is not None})
    if not ids:
        return {}
    statement = (
        sa.select(Product)
        .where(Product.id.in_(ids))
        .order_by(Product.id)
        .with_for_update(of=Product, key_share=True)
        .execution_options(populate_existing=True)
    )
    return {product.id: product for product in session.execute(statement).scalars()}
