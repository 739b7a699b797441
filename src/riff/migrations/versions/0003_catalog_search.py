"""catalog search and list indexes, default categories and channel price rules

Search semantics (the same on both databases): text is split into words (runs of letters and digits);
every word of the query must be the start of a word in sku, title, brand, model or description,
case-insensitively. "tele 65" finds "Fender Telecaster 1965"; "caster" does not.

- PostgreSQL: a GIN index on to_tsvector('simple', <document with punctuation turned into spaces>),
  queried with to_tsquery('simple', 'word:* & ...').
- SQLite: an FTS5 table (unicode61 tokenizer, diacritics kept as PostgreSQL keeps them) over the same
  columns, kept in step with ``products`` by triggers. A batch ALTER of ``products`` on SQLite
  recreates the table and drops these triggers: a later migration that does so must recreate them
  (see ``_create_sqlite_search``) and rebuild the index; tests/catalog/test_migration.py checks they
  exist at head.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must stay identical to riff.catalog.repository.SEARCH_VECTOR so the planner matches the index.
SEARCH_VECTOR = (
    "to_tsvector('simple'::regconfig, regexp_replace(products.sku || ' ' || products.title || ' ' "
    "|| coalesce(products.brand, '') || ' ' || coalesce(products.model, '') || ' ' || products.description, "
    "'[^[:alnum:]]+', ' ', 'g'))"
)
SEARCH_COLUMNS = ("sku", "title", "brand", "model", "description")

HANDEDNESS = ["right", "left", "ambidextrous"]
DEFAULT_CATEGORIES: list[tuple[str, str, str | None, list[dict[str, object]]]] = [
    (
        "guitars",
        "Guitars",
        None,
        [
            {"name": "handedness", "type": "choice", "choices": HANDEDNESS, "required": False},
            {"name": "number_of_strings", "type": "int", "required": False},
            {"name": "body_shape", "type": "str", "required": False},
        ],
    ),
    ("electric-guitars", "Electric guitars", "guitars", []),
    ("acoustic-guitars", "Acoustic guitars", "guitars", []),
    ("bass-guitars", "Bass guitars", "guitars", []),
    (
        "amps",
        "Amplifiers",
        None,
        [
            {
                "name": "amp_type",
                "type": "choice",
                "choices": ["combo", "head", "cabinet"],
                "required": False,
            },
            {"name": "wattage", "type": "int", "required": False},
            {"name": "tube", "type": "bool", "required": False},
        ],
    ),
    (
        "effects",
        "Effects pedals",
        None,
        [
            {"name": "effect_type", "type": "str", "required": False},
            {"name": "true_bypass", "type": "bool", "required": False},
        ],
    ),
    (
        "records",
        "Records",
        None,
        [
            {
                "name": "format",
                "type": "choice",
                "choices": ["lp", "ep", "single", "78", "cassette", "cd", "box_set"],
                "required": True,
            },
            {"name": "artist", "type": "str", "required": False},
            {"name": "label", "type": "str", "required": False},
            {"name": "catalog_number", "type": "str", "required": False},
            # Goldmine grading, as Discogs uses it.
            {
                "name": "media_condition",
                "type": "choice",
                "choices": ["M", "NM", "VG+", "VG", "G+", "G", "F", "P"],
                "required": False,
            },
            {
                "name": "sleeve_condition",
                "type": "choice",
                "choices": ["M", "NM", "VG+", "VG", "G+", "G", "F", "P", "generic", "none"],
                "required": False,
            },
        ],
    ),
    (
        "clothing",
        "Clothing",
        None,
        [
            {
                "name": "size",
                "type": "choice",
                "choices": ["XS", "S", "M", "L", "XL", "XXL"],
                "required": False,
            },
            {"name": "gender", "type": "choice", "choices": ["womens", "mens", "unisex"], "required": False},
            {"name": "material", "type": "str", "required": False},
        ],
    ),
]
# Markup percent and price endings per channel.
DEFAULT_PRICE_RULES = [
    ("reverb", "5.00", ""),
    ("ebay", "10.00", "49,99"),
    ("vintage_and_rare", "5.00", ""),
    ("shopify", "0.00", ""),
    ("discogs", "0.00", ""),
]
LIST_INDEXES: list[tuple[str, list[str]]] = [
    # status + brand filters sorted by recency; base_price rides along so counts stay index-only.
    ("ix_products_brand_lower_status_updated", ["lower(brand)", "status", "updated_at", "base_price"]),
    # The default list (every status but archived) newest first.
    ("ix_products_updated_at", ["updated_at"]),
    ("ix_products_base_price", ["base_price"]),
]


def upgrade() -> None:
    bind = op.get_bind()
    for name, columns in LIST_INDEXES:
        # On PostgreSQL the raw brand rides along too: without it the planner never answers a count
        # over the lower(brand) expression from the index alone (SQLite indexes always carry rowid).
        op.create_index(
            name,
            "products",
            [sa.text(c) if "(" in c else c for c in columns],
            postgresql_include=["brand"] if "lower(brand)" in columns else [],
        )
    if bind.dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_products_search ON products USING gin ({SEARCH_VECTOR})")
    else:
        _create_sqlite_search()
    _seed()


def _create_sqlite_search() -> None:
    columns = ", ".join(SEARCH_COLUMNS)
    new = ", ".join(f"new.{c}" for c in SEARCH_COLUMNS)
    old = ", ".join(f"old.{c}" for c in SEARCH_COLUMNS)
    op.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS products_search USING fts5({columns}, "
        "content='products', content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')"
    )
    op.execute(
        "CREATE TRIGGER IF NOT EXISTS products_search_insert AFTER INSERT ON products BEGIN "
        f"INSERT INTO products_search(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute(
        "CREATE TRIGGER IF NOT EXISTS products_search_delete AFTER DELETE ON products BEGIN "
        f"INSERT INTO products_search(products_search, rowid, {columns}) VALUES ('delete', old.id, {old}); END"
    )
    # Only when a searched column changes: stock and price updates must not re-index the row.
    op.execute(
        f"CREATE TRIGGER IF NOT EXISTS products_search_update AFTER UPDATE OF {columns} ON products BEGIN "
        f"INSERT INTO products_search(products_search, rowid, {columns}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO products_search(rowid, {columns}) VALUES (new.id, {new}); END"
    )
    op.execute("INSERT INTO products_search(products_search) VALUES ('rebuild')")


def _seed() -> None:
    bind = op.get_bind()
    for slug, name, parent, schema in DEFAULT_CATEGORIES:
        exists = bind.execute(sa.text("SELECT 1 FROM categories WHERE slug = :slug"), {"slug": slug}).first()
        if exists:
            continue
        bind.execute(
            sa.text(
                "INSERT INTO categories (slug, name, parent_id, attribute_schema) "
                "VALUES (:slug, :name, (SELECT id FROM categories WHERE slug = :parent), :schema)"
            ).bindparams(sa.bindparam("schema", type_=_json_type(bind))),
            {"slug": slug, "name": name, "parent": parent, "schema": schema},
        )
    for channel, markup, endings in DEFAULT_PRICE_RULES:
        exists = bind.execute(
            sa.text("SELECT 1 FROM channel_price_rules WHERE channel = :channel"), {"channel": channel}
        ).first()
        if not exists:
            bind.execute(
                sa.text(
                    "INSERT INTO channel_price_rules (channel, markup_percent, price_endings) "
                    "VALUES (:channel, :markup, :endings)"
                ),
                {"channel": channel, "markup": markup, "endings": endings},
            )


def _json_type(bind: sa.Connection) -> sa.types.TypeEngine[object]:
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB

        return JSONB()
    return sa.JSON()


def downgrade() -> None:
    bind = op.get_bind()
    slugs = [slug for slug, _, _, _ in reversed(DEFAULT_CATEGORIES)]
    for slug in slugs:  # children first: parent_id is ON DELETE SET NULL, but be explicit
        bind.execute(sa.text("DELETE FROM categories WHERE slug = :slug"), {"slug": slug})
    for channel, _, _ in DEFAULT_PRICE_RULES:
        bind.execute(
            sa.text("DELETE FROM channel_price_rules WHERE channel = :channel"), {"channel": channel}
        )
    if bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_products_search")
    else:
        for trigger in ("products_search_insert", "products_search_delete", "products_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS products_search")
    for name, _ in reversed(LIST_INDEXES):
        op.drop_index(name, table_name="products")
