"""The reply bubble's product cards (conversations/assistant/reply.py): remembered per product and
place, always as the product now stands."""

from __future__ import annotations

from conversations.assistant.reply import render_reply_html


def _reply(*products: dict) -> dict:
    return {"reply": "Here you go.", "intent": "product_search", "products": list(products), "actions": []}


def _shoe(**changes) -> dict:
    shoe = {
        "id": "41",
        "name": "Trail Runner 2",
        "brand": "Stride",
        "imageUrl": "",
        "price": "129.99",
        "variants": [
            {"id": "7", "size": "10", "color": "black", "inStock": True},
            {"id": "8", "size": "11", "color": "black", "inStock": True},
        ],
    }
    return {**shoe, **changes}


def test_a_card_shows_the_product_its_number_and_only_sizes_in_stock():
    html = render_reply_html(_reply(_shoe(), _shoe(id="42", name="Road Racer")))
    assert '<span class="chat-product-number">1.</span> Trail Runner 2' in html
    assert '<span class="chat-product-number">2.</span> Road Racer' in html
    assert 'href="/products/41/"' in html and 'href="/products/42/"' in html
    assert '<option value="7">10 / black</option>' in html and '<option value="8">11 / black</option>' in html


def test_a_remembered_card_follows_stock_price_and_name_changes():
    render_reply_html(_reply(_shoe()))  # remembered
    sold_out = _shoe(variants=[{"id": "7", "size": "10", "color": "black", "inStock": False}])
    html = render_reply_html(_reply(sold_out))
    assert 'value="7"' not in html
    renamed = render_reply_html(_reply(_shoe(name="Trail Runner 3", price="99.00")))
    assert "Trail Runner 3" in renamed and "$99.00" in renamed and "Trail Runner 2" not in renamed


def test_a_card_escapes_what_the_catalog_holds():
    html = render_reply_html(_reply(_shoe(name="<script>alert(1)</script>", brand='"><img src=x>')))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '"><img src=x>' not in html
