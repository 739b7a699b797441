"""Label and invoice files: ``<data_dir>/labels/<shipment id>/<type>.pdf``, written atomically before the
database says the label exists, and read back only through an authenticated download (never a URL that
carries the content). Paths are built from ids and fixed type names, never from user input."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from riff.core.errors import NotFound

LABELS_DIR = "labels"
_TYPE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,30}$")


def labels_root(data_dir: Path) -> Path:
    return Path(data_dir) / LABELS_DIR


def store(data_dir: Path, shipment_id: int, type_code: str, content: bytes) -> dict[str, Any]:
    """Write one document; returns its record for ``shipments.documents``. Rewriting the same bytes (a
    retried job) is harmless."""
    if not _TYPE.match(type_code):
        raise ValueError(f"bad document type {type_code!r}")
    if not content.startswith(b"%PDF-"):
        raise ValueError("only PDF documents are stored")
    relative = Path(LABELS_DIR) / str(int(shipment_id)) / f"{type_code}.pdf"
    target = Path(data_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(f".tmp{os.getpid()}")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    return {
        "type": type_code,
        "path": relative.as_posix(),
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def path_of(data_dir: Path, record: dict[str, Any]) -> Path:
    """The file of a stored document, checked to be inside the labels directory and intact."""
    root = labels_root(data_dir).resolve()
    path = (Path(data_dir) / str(record.get("path") or "")).resolve()
    if root not in path.parents or not path.is_file():
        raise NotFound("the document file is missing from the data directory")
    return path
