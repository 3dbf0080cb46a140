import pytest

from memory.sizes import kind_for_names, kind_for_sizes, kinds_accepting, normalise_size


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("tops", "m", "M"),
        ("tops", " xxl ", "XXL"),
        ("tops", "XXXL", None),
        ("tops", "10", None),
        ("bottoms", "32", "32"),
        ("bottoms", "l", "L"),
        ("bottoms", "25", None),
        ("bottoms", "45", None),
        ("bottoms", "XXL", None),
        ("shoes", "10.5", "10.5"),
        ("shoes", "10.0", "10"),
        ("shoes", 9, "9"),
        ("shoes", "10 1/2", "10.5"),
        ("shoes", "10.25", None),
        ("shoes", "3.5", None),
        ("shoes", "15.5", None),
        ("shoes", "M", None),
    ],
)
def test_sizes_are_normalised_per_kind(kind, raw, expected):
    assert normalise_size(kind, raw) == expected


def test_a_number_is_a_shoe_size_or_a_waist_never_a_top_size():
    assert kinds_accepting("10.5") == ["shoes"]
    assert kinds_accepting("32") == ["bottoms"]
    assert kinds_accepting("M") == ["tops", "bottoms"]


def test_kind_comes_from_the_most_specific_category_name():
    assert kind_for_names(["Footwear", "Running Shoes"]) == "shoes"
    assert kind_for_names(["Tops", "Hoodies & Sweatshirts"]) == "tops"
    assert kind_for_names(["Accessories", "Socks"]) is None
    assert kind_for_sizes(["7", "7.5"]) == "shoes"
    assert kind_for_sizes(["One Size"]) is None
