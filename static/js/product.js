/*
 * Product page, progressive enhancement: the chosen variant's price and stock state follow the radio
 * choice (the values come from the radio's data- attributes, set with textContent only).
 */
(function () {
  "use strict";

  document.querySelectorAll('input[name="variant_id"]').forEach(function (input) {
    input.addEventListener("change", function () {
      var state = document.getElementById("stock-state");
      if (state) {
        state.textContent = input.dataset.size + " · " + input.dataset.color + ": " + input.dataset.stockLabel;
        state.className = "stock-state stock-" + input.dataset.stockStatus;
      }
      var price = document.getElementById("product-price");
      if (price) {
        price.textContent = input.dataset.price;
      }
    });
  });
})();
