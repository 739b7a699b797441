"""``riff import csv``, ``riff export csv`` and ``riff products list`` against the test databases."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from riff.catalog import service
from riff.catalog.models import Product, StockMovement
from riff.catalog.schemas import ProductCreate
from riff.cli.main import app
from riff.core.db import Database
from riff.core.settings import reset_settings_cache

CSV = (
    "sku,title,brand,price,quantity,is_stocked_item,status\n"
    "CLI-1,Fender Jazzmaster 1962,Fender,3200,1,false,active\n"
    "CLI-2,Boss CE-2 chorus,Boss,120,4,true,active\n"
)
BAD_CSV = CSV + "CLI-3,Broken,Boss,-1,1,false,active\n"


@pytest.fixture
def cli(database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("RIFF_DATABASE_URL", database.url)
    monkeypatch.setenv("RIFF_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    yield CliRunner()
    reset_settings_cache()


def skus(database: Database) -> list[str]:
    with database.read_session() as session:
        return list(session.execute(sa.select(Product.sku).order_by(Product.sku)).scalars())


def test_import_export_round_trip(cli: CliRunner, database: Database, tmp_path: Path) -> None:
    source = tmp_path / "stock.csv"
    source.write_text(CSV)
    result = cli.invoke(app, ["import", "csv", str(source)])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.stdout
    assert skus(database) == ["CLI-1", "CLI-2"]
    with database.read_session() as session:
        actors = set(session.execute(sa.select(StockMovement.actor, StockMovement.reason)).all())
    assert {(a, str(r)) for a, r in actors} == {("cli", "import")}

    exported = tmp_path / "out.csv"
    result = cli.invoke(app, ["export", "csv", "--output", str(exported)])
    assert result.exit_code == 0, result.output
    assert "exported 2 products" in result.stdout

    result = cli.invoke(app, ["import", "csv", str(exported), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 2)

    to_stdout = cli.invoke(app, ["export", "csv", "--status", "active"])
    assert to_stdout.exit_code == 0
    from_file = exported.read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(to_stdout.stdout))) == list(csv.reader(io.StringIO(from_file)))

    summary = cli.invoke(app, ["export", "csv", "--output", str(exported), "--json"])
    assert json.loads(summary.stdout) == {"rows": 2, "output": str(exported)}


def test_bad_rows_exit_non_zero_and_write_nothing(cli: CliRunner, database: Database, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(BAD_CSV)
    result = cli.invoke(app, ["import", "csv", str(source)])
    assert result.exit_code == 1
    assert "nothing imported" in result.stdout
    assert "price" in result.stderr and "4" in result.stderr
    assert skus(database) == []

    dry = cli.invoke(app, ["import", "csv", str(source), "--dry-run", "--json"])
    assert dry.exit_code == 1
    assert json.loads(dry.stdout)["errors"][0]["row"] == 4
    assert skus(database) == []

    skipped = cli.invoke(app, ["import", "csv", str(source), "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "skipped 1" in skipped.stdout
    assert skus(database) == ["CLI-1", "CLI-2"]


def test_unusable_file_is_a_clear_error(cli: CliRunner, tmp_path: Path) -> None:
    source = tmp_path / "nosku.csv"
    source.write_text("title,price\nA,1\n")
    result = cli.invoke(app, ["import", "csv", str(source)])
    assert result.exit_code == 1
    assert "no 'sku' column" in result.stderr
    missing = cli.invoke(app, ["import", "csv", str(tmp_path / "missing.csv")])
    assert missing.exit_code != 0


def test_products_list(cli: CliRunner, database: Database) -> None:
    with database.session() as session:
        for sku, title in (("L-1", "Gibson ES-335 1964"), ("L-2", "Vox AC30 1963")):
            service.create_product(
                session, ProductCreate(sku=sku, title=title, price=Decimal(100), status="active"), actor="t"
            )
    table = cli.invoke(app, ["products", "list", "--q", "vox"])
    assert table.exit_code == 0, table.output
    assert "L-2" in table.stdout and "L-1" not in table.stdout
    assert "1-1 of 1" in table.stdout
    as_json = json.loads(cli.invoke(app, ["products", "list", "--json", "--limit", "1"]).stdout)
    assert (as_json["total"], len(as_json["items"])) == (2, 1)
    bad = cli.invoke(app, ["products", "list", "--status", "gone"])
    assert bad.exit_code == 1
    assert "unknown status" in bad.stderr
