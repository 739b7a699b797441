"""Categories in memory: slugs, the parent chain and each category's effective attribute schema."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from riff.catalog.attributes import AttributeSchema, build_schema
from riff.catalog.models import Category
from riff.catalog.repository import CategoryRepository
from riff.core.errors import ValidationFailed


@dataclass
class CategoryIndex:
    """The (small) category table in memory: slugs, ancestry and effective attribute schemas."""

    by_id: dict[int, Category]
    by_slug: dict[str, Category]

    @classmethod
    def load(cls, session: Session) -> CategoryIndex:
        categories = CategoryRepository(session).all()
        return cls(by_id={c.id: c for c in categories}, by_slug={c.slug: c for c in categories})

    def resolve(self, slug: str | None, *, field: str = "category") -> Category | None:
        if slug is None:
            return None
        category = self.by_slug.get(slug.strip())
        if category is None:
            known = ", ".join(sorted(self.by_slug)) or "none defined"
            raise ValidationFailed(f"unknown category {slug!r} (known: {known})", field=field)
        return category

    def ancestry(self, category: Category | None) -> list[Category]:
        """Root first, the category itself last; a cycle in parent links stops the walk."""
        chain: list[Category] = []
        seen: set[int] = set()
        while category is not None and category.id not in seen:
            seen.add(category.id)
            chain.append(category)
            category = self.by_id.get(category.parent_id) if category.parent_id is not None else None
        return list(reversed(chain))

    def schema_for(self, category: Category | None) -> AttributeSchema:
        return build_schema(c.attribute_schema or [] for c in self.ancestry(category))

    def with_descendants(self, category: Category) -> list[int]:
        children: dict[int | None, list[int]] = {}
        for c in self.by_id.values():
            children.setdefault(c.parent_id, []).append(c.id)
        found: list[int] = []
        stack = [category.id]
        while stack:
            current = stack.pop()
            if current in found:
                continue
            found.append(current)
            stack.extend(children.get(current, []))
        return found
