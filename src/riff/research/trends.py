"""Daily market trends, computed set-based in SQL: one INSERT ... SELECT per run, whatever the volume.

For every day in the range and every grouping of (platform | all) x (every category | one category |
one brand), a ``market_trends`` row holds the count of listings first seen that day, how many are known
sold, and the average, median, min, max, 25th/75th percentile and IQR of their prices in the base
currency (linear interpolation, as PostgreSQL's ``percentile_cont``), plus the average engagement.

PostgreSQL computes it with ``GROUPING SETS`` and ``percentile_cont``. SQLite has neither, so there each
row is fanned out to its six groupings and the quartiles are read from ``row_number()`` positions, which
gives the same numbers.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from riff.core.clock import utcnow
from riff.core.db import is_postgres
from riff.core.models import UTCDateTime

COLUMNS = (
    "period, period_start, platform, category, brand, listing_count, sold_count, avg_price, median_price, "
    "min_price, max_price, p25_price, p75_price, iqr_price, avg_engagement, currency, computed_at"
)

_POSTGRES = f"""
INSERT INTO market_trends ({COLUMNS})
SELECT 'day', day, platform_key, category_key, brand_key, listing_count, sold_count, avg_price,
       round(p50::numeric, 2), min_price, max_price, round(p25::numeric, 2), round(p75::numeric, 2),
       round((p75 - p25)::numeric, 2), avg_engagement, :currency, :now
FROM (
    SELECT day,
           CASE WHEN GROUPING(platform) = 1 THEN 'all' ELSE platform END AS platform_key,
           CASE WHEN GROUPING(category) = 1 THEN '' ELSE category END AS category_key,
           CASE WHEN GROUPING(brand) = 1 THEN '' ELSE brand END AS brand_key,
           GROUPING(brand) AS brand_rolled,
           brand,
           count(*) AS listing_count,
           count(*) FILTER (WHERE sold) AS sold_count,
           round(avg(price_base), 2) AS avg_price,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY price_base) AS p50,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY price_base) AS p25,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY price_base) AS p75,
           min(price_base) AS min_price,
           max(price_base) AS max_price,
           avg(engagement_score) AS avg_engagement
    FROM (
        SELECT (date_trunc('day', first_seen_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS day,
               platform, coalesce(category, 'other') AS category, brand, price_base, engagement_score, sold
        FROM market_listings
        WHERE first_seen_at >= :start AND first_seen_at < :end
    ) base
    GROUP BY GROUPING SETS ((day, platform), (day, platform, category), (day, platform, brand),
                            (day), (day, category), (day, brand))
) grouped
WHERE brand_rolled = 1 OR brand IS NOT NULL
"""

# SQLite: the six groupings as a fan-out, quartiles from positions. n = priced rows in the group; the
# q-quantile sits at 0-based position q * (n - 1): for q = k/4, index (k * (n - 1)) / 4 (integer division)
# plus the fraction ((k * (n - 1)) % 4) / 4 of the way to the next value.
_SQLITE = f"""
INSERT INTO market_trends ({COLUMNS})
WITH base AS (
    SELECT date(first_seen_at) || ' 00:00:00.000000' AS day, platform, coalesce(category, 'other') AS category,
           brand, price_base AS price, engagement_score AS engagement, sold
    FROM market_listings
    WHERE first_seen_at >= :start AND first_seen_at < :end
),
fanned AS (
    SELECT day, platform AS p, '' AS c, '' AS b, price, engagement, sold FROM base
    UNION ALL SELECT day, platform, category, '', price, engagement, sold FROM base
    UNION ALL SELECT day, platform, '', brand, price, engagement, sold FROM base WHERE brand IS NOT NULL
    UNION ALL SELECT day, 'all', '', '', price, engagement, sold FROM base
    UNION ALL SELECT day, 'all', category, '', price, engagement, sold FROM base
    UNION ALL SELECT day, 'all', '', brand, price, engagement, sold FROM base WHERE brand IS NOT NULL
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY day, p, c, b ORDER BY price IS NULL, price) AS rn,
           count(price) OVER (PARTITION BY day, p, c, b) AS n
    FROM fanned
),
grouped AS (
    SELECT day, p, c, b, count(*) AS listing_count, sum(CASE WHEN sold THEN 1 ELSE 0 END) AS sold_count,
           avg(price) AS avg_price, min(price) AS min_price, max(price) AS max_price,
           avg(engagement) AS avg_engagement, max(n) AS n,
           max(CASE WHEN rn = (1 * (n - 1)) / 4 + 1 THEN price END) AS q1_lo,
           max(CASE WHEN rn = (1 * (n - 1)) / 4 + 2 AND rn <= n THEN price END) AS q1_hi,
           max(CASE WHEN rn = (2 * (n - 1)) / 4 + 1 THEN price END) AS q2_lo,
           max(CASE WHEN rn = (2 * (n - 1)) / 4 + 2 AND rn <= n THEN price END) AS q2_hi,
           max(CASE WHEN rn = (3 * (n - 1)) / 4 + 1 THEN price END) AS q3_lo,
           max(CASE WHEN rn = (3 * (n - 1)) / 4 + 2 AND rn <= n THEN price END) AS q3_hi
    FROM ranked
    GROUP BY day, p, c, b
),
quartiles AS (
    SELECT *,
           q1_lo + (coalesce(q1_hi, q1_lo) - q1_lo) * ((1 * (n - 1)) % 4) / 4.0 AS p25,
           q2_lo + (coalesce(q2_hi, q2_lo) - q2_lo) * ((2 * (n - 1)) % 4) / 4.0 AS p50,
           q3_lo + (coalesce(q3_hi, q3_lo) - q3_lo) * ((3 * (n - 1)) % 4) / 4.0 AS p75
    FROM grouped
)
SELECT 'day', day, p, c, b, listing_count, sold_count, round(avg_price, 2), round(p50, 2), min_price, max_price,
       round(p25, 2), round(p75, 2), round(p75 - p25, 2), avg_engagement, :currency, :now
FROM quartiles
"""

_DELETE = "DELETE FROM market_trends WHERE period = 'day' AND period_start >= :start AND period_start < :end"


def day_start(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _params(statement: str) -> sa.TextClause:
    clause = sa.text(statement)
    names = [name for name in ("start", "end", "now") if f":{name}" in statement]
    return clause.bindparams(*(sa.bindparam(name, type_=UTCDateTime()) for name in names))


def compute_trends(
    session: Session, start: dt.datetime, end: dt.datetime, *, currency: str, now: dt.datetime | None = None
) -> int:
    """Replace the daily trend rows of every day in [start, end) (both rounded down to midnight UTC);
    returns the number of rows written. Runs in the caller's transaction."""
    start, end = day_start(start), day_start(end)
    if end <= start:
        return 0
    now = now or utcnow()
    session.execute(_params(_DELETE), {"start": start, "end": end})
    statement = _POSTGRES if is_postgres(session) else _SQLITE
    result = session.execute(
        _params(statement), {"start": start, "end": end, "now": now, "currency": currency}
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def compute_daily_trends(
    session: Session, day: dt.date, *, currency: str, now: dt.datetime | None = None
) -> int:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return compute_trends(session, start, start + dt.timedelta(days=1), currency=currency, now=now)
