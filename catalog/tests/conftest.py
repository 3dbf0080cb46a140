import pytest

from catalog.services import catalog_import
from catalog.tests.factories import import_record as record


@pytest.fixture
def small_catalog(db):
    """A catalog small enough to reason about: what matches, in what order, at what price."""
    records = [
        record(
            "Velocity Running Shoes",
            "Stride",
            "Footwear > Running Shoes",
            ["VEL-BLK-10"],
            price="129.99",
            description="A light road shoe for daily training.",
            tags=["running", "road"],
        ),
        record(
            "Ridgeline Trail Running Shoes",
            "Northpeak",
            "Footwear > Trail Shoes",
            ["RID-GRN-10"],
            price="149.99",
            color="green",
            description="Grippy trail shoe.",
            tags=["trail"],
        ),
        record(
            "Campus Hoodie",
            "Urban Thread",
            "Tops > Hoodies",
            ["HOD-GRY-M"],
            price="59.99",
            size="M",
            color="grey",
            description="Fleece hoodie; pairs well with running shoes on cold mornings.",
        ),
        record(
            "Slim Fit Jeans",
            "Denimworks",
            "Bottoms > Jeans",
            ["JNS-IND-32"],
            price="79.99",
            size="32",
            color="indigo",
            description="Stretch denim.",
        ),
        record(
            "Marathon Pro Running Shoes",
            "Aerolite",
            "Footwear > Running Shoes",
            ["MAR-RED-10", "MAR-RED-11"],
            price="179.99",
            color="red",
            stock=0,
            description="Carbon race shoe.",
        ),
    ]
    catalog_import(records=records)
    return records
