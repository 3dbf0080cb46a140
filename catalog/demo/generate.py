"""Writes the demo catalog (``catalog/demo/demo_catalog.json``) in the import format of CONTRACT.md s.4.

Deterministic: the same seed writes the same file byte for byte, so the committed file can be
regenerated and diffed. Run it from the repository root::

    .venv/bin/python catalog/demo/generate.py            # rewrites the committed file
    .venv/bin/python catalog/demo/generate.py --out x.json --seed 7 --scale 10

``--scale`` repeats every category's model list with numbered generations (for larger catalogs,
e.g. benchmarks); the default scale writes about 170 products in 12 categories.
Images are left empty: the site serves a generated SVG placeholder per product.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent / "demo_catalog.json"
DEFAULT_SEED = 20251125

SHOE_SIZES = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "11.5", "12", "13"]
TOP_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
BOTTOM_SIZES = ["XS", "S", "M", "L", "XL"]
WAIST_SIZES = ["28", "29", "30", "31", "32", "33", "34", "36", "38"]
SOCK_SIZES = ["S", "M", "L"]
ONE_SIZE = ["One Size"]


@dataclass(frozen=True)
class Kind:
    category: str
    code: str
    noun: str
    brands: tuple[str, ...]
    models: tuple[str, ...]
    sizes: list[str]
    colours: tuple[str, ...]
    prices: tuple[str, ...]
    tags: tuple[str, ...]
    features: tuple[str, ...]
    opener: str
    uses: tuple[str, ...]


KINDS = [
    Kind(
        category="Footwear > Running Shoes",
        code="RUN",
        noun="Running Shoes",
        brands=("Stride", "Aerolite", "Northpeak", "Summit & Co"),
        models=(
            "Velocity 3",
            "Tempo Glide",
            "Cloudrun 2",
            "Pacer Daily",
            "Featherlite 5",
            "Horizon Max",
            "Cadence 4",
            "Rebound Pro",
            "Stratus",
            "Kinetic Elite",
            "Marathon Pro",
            "Swift Road",
            "Everyday Trainer",
            "Lumen Carbon",
            "Nimbus Ride",
            "Aero Tempo 2",
        ),
        sizes=SHOE_SIZES,
        colours=("black", "white", "blue", "grey", "red", "orange", "navy"),
        prices=("89.99", "99.99", "109.99", "119.99", "129.99", "139.99", "149.99", "159.99", "179.99"),
        tags=("running", "shoes", "road"),
        features=(
            "a responsive foam midsole",
            "a breathable engineered mesh upper",
            "a carbon-infused plate",
            "a rocker sole for smooth transitions",
            "a padded heel collar",
            "reflective details for dawn runs",
            "a durable rubber outsole",
            "a wide toe box",
        ),
        opener="Road running shoe",
        uses=("daily training", "tempo runs", "race day", "long runs", "easy miles"),
    ),
    Kind(
        category="Footwear > Trail Shoes",
        code="TRL",
        noun="Trail Running Shoes",
        brands=("Northpeak", "Summit & Co", "Stride"),
        models=(
            "Ridgeline",
            "Trail Runner 2",
            "Scree GTX",
            "Canyon",
            "Switchback",
            "Alpine Dash",
            "Mudguard",
            "Rockhopper",
            "Timberline",
            "Summit Sprint",
            "Boulder Pro",
            "Pathfinder",
        ),
        sizes=SHOE_SIZES,
        colours=("black", "olive", "orange", "grey", "blue", "green"),
        prices=("99.99", "119.99", "129.99", "139.99", "149.99", "169.99"),
        tags=("running", "shoes", "trail", "outdoor"),
        features=(
            "5 mm lugs for grip on loose ground",
            "a rock plate",
            "a waterproof membrane",
            "a gusseted tongue that keeps grit out",
            "a sticky rubber outsole",
            "a protective toe cap",
        ),
        opener="Trail running shoe",
        uses=("technical trails", "muddy mornings", "mountain ultras", "hiking fast"),
    ),
    Kind(
        category="Footwear > Sneakers",
        code="SNK",
        noun="Sneakers",
        brands=("Urban Thread", "Stride", "Aerolite"),
        models=(
            "Classic Court",
            "Low Top Canvas",
            "Retro 86",
            "City Walker",
            "Slip-On Knit",
            "High Top Canvas",
            "Platform Court",
            "Everyday Leather",
            "Skate Low",
            "Heritage Runner",
            "Minimal White",
            "Cork Slip",
        ),
        sizes=SHOE_SIZES,
        colours=("white", "black", "cream", "navy", "green", "grey"),
        prices=("59.99", "69.99", "79.99", "89.99", "99.99", "119.99"),
        tags=("sneakers", "shoes", "casual", "lifestyle"),
        features=(
            "a cushioned insole",
            "a vulcanised rubber sole",
            "a full-grain leather upper",
            "an organic cotton canvas upper",
            "a padded collar",
            "recycled laces",
        ),
        opener="Everyday sneaker",
        uses=("city days", "weekends", "travel", "the office"),
    ),
    Kind(
        category="Tops > T-Shirts",
        code="TEE",
        noun="T-Shirt",
        brands=("Urban Thread", "Aerolite", "Stride", "Northpeak"),
        models=(
            "Essential Crew",
            "Pocket",
            "Heavyweight",
            "Performance",
            "Graphic Mountain",
            "Slub V-Neck",
            "Long Sleeve Base",
            "Dri-Run",
            "Organic Cotton",
            "Oversized",
            "Striped Breton",
            "Tech Tee",
            "Merino Trail",
            "Vintage Wash",
        ),
        sizes=TOP_SIZES,
        colours=("white", "black", "heather grey", "navy", "olive", "burgundy", "sky blue"),
        prices=("19.99", "24.99", "29.99", "34.99", "39.99", "49.99"),
        tags=("t-shirt", "tee", "tops"),
        features=(
            "soft combed cotton",
            "a moisture-wicking knit",
            "flat seams that do not chafe",
            "a relaxed fit",
            "a tagless neck label",
            "anti-odour merino wool",
            "a pre-shrunk fabric",
        ),
        opener="T-shirt",
        uses=("everyday wear", "training", "layering", "hot days"),
    ),
    Kind(
        category="Tops > Hoodies & Sweatshirts",
        code="HOD",
        noun="Hoodie",
        brands=("Urban Thread", "Northpeak", "Stride", "Aerolite"),
        models=(
            "Fleece Pullover",
            "Zip-Up",
            "Heavyweight",
            "Tech Fleece",
            "Oversized",
            "Campus",
            "Sherpa-Lined",
            "Lightweight Loop",
            "Trail Grid",
            "Recycled Fleece",
            "Half-Zip",
            "Cropped",
            "Essential",
            "Polar",
        ),
        sizes=TOP_SIZES,
        colours=("black", "heather grey", "navy", "forest green", "sand", "burgundy", "charcoal"),
        prices=("44.99", "54.99", "59.99", "69.99", "79.99", "89.99"),
        tags=("hoodie", "sweatshirt", "tops", "warm"),
        features=(
            "a brushed fleece lining",
            "a kangaroo pocket",
            "ribbed cuffs and hem",
            "a lined hood",
            "a two-way zip",
            "thumbholes",
            "recycled polyester",
        ),
        opener="Hoodie",
        uses=("cool evenings", "warm-ups", "lounging", "travel"),
    ),
    Kind(
        category="Outerwear > Jackets",
        code="JKT",
        noun="Jacket",
        brands=("Northpeak", "Summit & Co", "Urban Thread"),
        models=(
            "Storm Shell",
            "Packable Down",
            "Insulated Parka",
            "Windbreaker",
            "Denim Trucker",
            "Softshell",
            "Rain",
            "Puffer",
            "Fleece",
            "Bomber",
            "Running Wind",
            "Ultralight Down",
            "3-in-1",
            "Quilted Liner",
            "Waxed Cotton",
        ),
        sizes=TOP_SIZES,
        colours=("black", "navy", "red", "olive", "yellow", "graphite"),
        prices=("79.99", "99.99", "129.99", "149.99", "189.99", "229.99", "279.99"),
        tags=("jacket", "outerwear"),
        features=(
            "a waterproof breathable membrane",
            "taped seams",
            "700-fill responsibly sourced down",
            "an adjustable hood",
            "pit zips",
            "a packable design that fits its own pocket",
            "a windproof shell",
        ),
        opener="Jacket",
        uses=("wet commutes", "cold mornings", "hill walks", "travel"),
    ),
    Kind(
        category="Bottoms > Jeans",
        code="JNS",
        noun="Jeans",
        brands=("Denimworks", "Urban Thread"),
        models=(
            "Slim Fit",
            "Straight Leg",
            "Relaxed Fit",
            "Skinny",
            "Bootcut",
            "Tapered",
            "Selvedge Straight",
            "Carpenter",
            "Stretch Slim",
            "Loose Fit",
            "Raw Denim",
            "Wide Leg",
            "Vintage Straight",
        ),
        sizes=WAIST_SIZES,
        colours=("indigo", "light wash", "black", "stone wash", "dark rinse"),
        prices=("49.99", "59.99", "69.99", "79.99", "89.99", "119.99"),
        tags=("jeans", "denim", "bottoms"),
        features=(
            "12 oz cotton denim",
            "a touch of stretch",
            "a button fly",
            "reinforced rivets",
            "a mid rise",
            "Japanese selvedge denim",
            "a classic five-pocket cut",
        ),
        opener="Denim jeans",
        uses=("everyday wear", "weekends", "work", "nights out"),
    ),
    Kind(
        category="Bottoms > Shorts",
        code="SHT",
        noun="Shorts",
        brands=("Aerolite", "Stride", "Urban Thread"),
        models=(
            "5-Inch Running",
            "7-Inch Training",
            "Chino",
            "Cargo",
            "Board",
            "2-in-1 Running",
            "Trail",
            "Sweat",
            "Linen",
            "Split Race",
            "Gym",
        ),
        sizes=BOTTOM_SIZES,
        colours=("black", "navy", "khaki", "grey", "teal", "coral"),
        prices=("24.99", "29.99", "34.99", "39.99", "44.99", "54.99"),
        tags=("shorts", "bottoms", "summer"),
        features=(
            "a built-in liner",
            "a zip pocket for keys",
            "quick-dry fabric",
            "an elastic drawcord waist",
            "four-way stretch",
            "laser-cut vents",
        ),
        opener="Shorts",
        uses=("summer runs", "the gym", "beach days", "hot weather"),
    ),
    Kind(
        category="Bottoms > Leggings",
        code="LEG",
        noun="Leggings",
        brands=("Aerolite", "Stride"),
        models=(
            "High-Rise",
            "Sculpt 7/8",
            "Thermal Running",
            "Pocket",
            "Seamless",
            "Flare",
            "Compression",
            "Yoga",
            "Winter Tight",
            "Crossover Waist",
            "Everyday",
        ),
        sizes=BOTTOM_SIZES,
        colours=("black", "navy", "plum", "olive", "charcoal", "dusty pink"),
        prices=("39.99", "49.99", "59.99", "69.99", "79.99"),
        tags=("leggings", "bottoms", "yoga", "training"),
        features=(
            "a squat-proof fabric",
            "side pockets that hold a phone",
            "a high waistband",
            "a brushed thermal inside",
            "a gusset for movement",
            "sweat-wicking fabric",
        ),
        opener="Leggings",
        uses=("yoga", "training", "winter runs", "studio classes"),
    ),
    Kind(
        category="Accessories > Backpacks",
        code="BPK",
        noun="Backpack",
        brands=("Summit & Co", "Northpeak", "Urban Thread"),
        models=(
            "Daypack 20L",
            "Commuter 25L",
            "Trail 30L",
            "Roll-Top 22L",
            "Hydration 12L",
            "Travel 40L",
            "Laptop 18L",
            "Mini 10L",
            "Expedition 55L",
            "Running Vest 8L",
            "Canvas Rucksack",
            "Sling 6L",
        ),
        sizes=ONE_SIZE,
        colours=("black", "navy", "olive", "grey", "orange", "sand"),
        prices=("39.99", "59.99", "79.99", "99.99", "129.99", "169.99"),
        tags=("backpack", "bag", "accessories"),
        features=(
            'a padded 15" laptop sleeve',
            "water-resistant fabric",
            "a ventilated back panel",
            "a hip belt",
            "a hydration sleeve",
            "lockable zips",
            "a lifetime warranty",
        ),
        opener="Backpack",
        uses=("commuting", "day hikes", "travel", "school"),
    ),
    Kind(
        category="Accessories > Socks",
        code="SCK",
        noun="Socks",
        brands=("Stride", "Aerolite", "Northpeak"),
        models=(
            "Cushioned Running",
            "No-Show Running",
            "Merino Hiking",
            "Crew 3-Pack",
            "Compression",
            "Ankle 6-Pack",
            "Trail Quarter",
            "Toe",
            "Wool Ski",
            "Everyday Crew",
            "Race Light",
            "Boot",
            "Recovery",
        ),
        sizes=SOCK_SIZES,
        colours=("white", "black", "grey", "navy", "neon yellow"),
        prices=("9.99", "12.99", "14.99", "16.99", "19.99", "24.99"),
        tags=("socks", "accessories"),
        features=(
            "arch support",
            "a seamless toe",
            "merino wool",
            "targeted cushioning",
            "a heel tab",
            "moisture-wicking yarn",
        ),
        opener="Socks",
        uses=("running", "hiking", "everyday wear", "cold days"),
    ),
    Kind(
        category="Accessories > Caps",
        code="CAP",
        noun="Cap",
        brands=("Urban Thread", "Stride", "Summit & Co"),
        models=(
            "Classic Baseball",
            "Running",
            "Trucker",
            "Dad",
            "5-Panel",
            "Wool Beanie",
            "Bucket",
            "Visor",
            "Snapback",
            "Trail",
            "Corduroy",
        ),
        sizes=ONE_SIZE,
        colours=("black", "navy", "khaki", "white", "olive", "red"),
        prices=("19.99", "24.99", "29.99", "34.99"),
        tags=("cap", "hat", "accessories"),
        features=(
            "an adjustable strap",
            "a sweat-wicking band",
            "a curved brim",
            "UPF 50 sun protection",
            "a packable crown",
            "an embroidered logo",
        ),
        opener="Cap",
        uses=("sunny runs", "everyday wear", "festivals", "trail days"),
    ),
]


def _colour_code(colour: str) -> str:
    # The whole word, not an abbreviation: "grey" and "green" must not both become "GRE".
    return re.sub(r"[^A-Z]", "", colour.upper())


def _size_code(size: str) -> str:
    return "OS" if size == "One Size" else size.replace(".", "H")


def _stock(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.12:
        return 0  # sold out
    if roll < 0.30:
        return rng.randint(1, 5)  # low: "Only N left"
    return rng.randint(6, 60)


def _description(rng: random.Random, kind: Kind, brand: str, name: str, colours: list[str]) -> str:
    a, b = rng.sample(kind.features, 2)
    use = rng.choice(kind.uses)
    return f"{kind.opener} from {brand} with {a} and {b}. Made for {use}. Available in {', '.join(colours)}."


def build_catalog(*, seed: int = DEFAULT_SEED, scale: int = 1) -> list[dict]:
    rng = random.Random(seed)
    products = []
    for kind in KINDS:
        for generation in range(1, scale + 1):
            for number, model in enumerate(kind.models, start=1):
                brand = kind.brands[(number + generation) % len(kind.brands)]
                name = f"{model} {kind.noun}" if generation == 1 else f"{model} {kind.noun} G{generation}"
                colours = rng.sample(kind.colours, rng.randint(2, min(4, len(kind.colours))))
                base_price = rng.choice(kind.prices)
                sold_out = rng.random() < 0.04
                code = f"{kind.code}{generation:02d}{number:02d}" if scale > 1 else f"{kind.code}{number:03d}"
                variants = []
                for colour in colours:
                    for size in kind.sizes:
                        price = base_price
                        if size in ("XXL", "38"):
                            # Bigger sizes use more cloth; the product's "from" price stays the base one.
                            price = str(Decimal(base_price) + 3)
                        variants.append(
                            {
                                "sku": f"{code}-{_colour_code(colour)}-{_size_code(size)}",
                                "size": size,
                                "color": colour,
                                "price": price,
                                "stock": 0 if sold_out else _stock(rng),
                            }
                        )
                extra = [t for t in rng.sample(kind.features, 1)[0].split() if t.isalpha() and len(t) > 4]
                tags = list(dict.fromkeys([*kind.tags, brand.lower(), *extra[:1]]))
                if number == 1 and generation == 1:
                    tags.append("featured")
                products.append(
                    {
                        "name": name,
                        "brand": brand,
                        "category": kind.category,
                        "description": _description(rng, kind, brand, name, colours),
                        "tags": tags,
                        "imageUrl": "",
                        "variants": variants,
                    }
                )
    return products


def write_catalog(products: list[dict], out: Path) -> None:
    # One product per line: readable, and a change shows as a one-line diff.
    lines = ",\n".join(json.dumps(p, ensure_ascii=False, sort_keys=False) for p in products)
    out.write_text(f"[\n{lines}\n]\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--scale", type=int, default=1, help="generations per model (1 = the demo)")
    args = parser.parse_args(argv)
    products = build_catalog(seed=args.seed, scale=args.scale)
    write_catalog(products, args.out)
    categories = {p["category"] for p in products}
    variants = sum(len(p["variants"]) for p in products)
    print(f"wrote {len(products)} products, {variants} variants, {len(categories)} categories to {args.out}")


if __name__ == "__main__":
    main()
