"""Value types shared by the selectors and the ranking (kept apart so neither imports the other's module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from commerce.money import money_str
from memory.sizes import SIZE_KINDS


@dataclass(frozen=True)
class Preferences:
    """A shopper's stated preferences, in the catalog's spelling. Empty for guests."""

    sizes: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(SIZE_KINDS))
    brands: list[str] = field(default_factory=list)
    disliked_brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    disliked_colors: list[str] = field(default_factory=list)
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    updated_at: datetime | None = None

    @property
    def is_empty(self) -> bool:
        return not (
            any(self.sizes.values())
            or self.brands
            or self.disliked_brands
            or self.categories
            or self.styles
            or self.colors
            or self.disliked_colors
            or self.price_min is not None
            or self.price_max is not None
        )

    def to_dict(self) -> dict[str, Any]:
        """The contract's ``preferences`` JSON (camelCase, prices as two-place strings)."""
        return {
            "sizes": {kind: self.sizes.get(kind) for kind in SIZE_KINDS},
            "brands": list(self.brands),
            "dislikedBrands": list(self.disliked_brands),
            "categories": list(self.categories),
            "styles": list(self.styles),
            "colors": list(self.colors),
            "dislikedColors": list(self.disliked_colors),
            "priceMin": money_str(self.price_min) if self.price_min is not None else None,
            "priceMax": money_str(self.price_max) if self.price_max is not None else None,
        }


@dataclass(frozen=True)
class AffinityView:
    """An affinity as it counts now (decayed), with words for the memory page."""

    id: int
    kind: str
    key: str
    label: str
    weight: float
    last_event_at: datetime

    @property
    def strength(self) -> str:
        """Plain words for the weight: one recent view is "slight", a purchase "strong"."""
        # Thresholds sit a little under the weights (5 and 2): a purchase an hour ago is still "strong".
        if self.weight >= 4.5:
            return "strong"
        if self.weight >= 1.8:
            return "moderate"
        return "slight"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "weight": round(self.weight, 2),
            "strength": self.strength,
            "lastEventAt": self.last_event_at.isoformat().replace("+00:00", "Z"),
        }
