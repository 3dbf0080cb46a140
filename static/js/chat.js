/*
 * The chat panel's glue to htmx's ws extension (django-htmx's hx-ws-2.js).
 *
 * The server speaks JSON {type, payload} (CONTRACT.md section 3). The "chat" htmx extension hands the
 * ws extension only the `html` of `response` and `message` events, which are hx-swap-oob fragments
 * appended to the log; everything else (session, typing, stream deltas, ping/pong, errors) is handled
 * here. Text from the server is only ever set with textContent; HTML comes rendered and escaped by
 * the server's templates.
 */
(function () {
  "use strict";

  var socket = null; // the ws extension's public socket wrapper, set on open
  var CART_REFRESH_GIVE_UP_MS = 15000;

  function parse(text) {
    try {
      var data = JSON.parse(text);
      return data && typeof data.type === "string" ? data : null;
    } catch (e) {
      return null;
    }
  }

  function frame(type, payload) {
    return JSON.stringify({ type: type, payload: payload || {} });
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function scrollLog() {
    var log = byId("chat-log");
    if (log) log.scrollTop = log.scrollHeight;
  }

  function setStatus(text) {
    var status = byId("chat-status");
    if (status) status.textContent = text || "";
  }

  function appendOwnBubble(content) {
    var log = byId("chat-log");
    if (!log) return;
    var bubble = document.createElement("div");
    bubble.className = "chat-msg chat-msg-user";
    bubble.setAttribute("data-role", "user");
    var who = document.createElement("span");
    who.className = "chat-who";
    who.textContent = "You";
    var text = document.createElement("p");
    text.className = "chat-text";
    text.textContent = content;
    bubble.appendChild(who);
    bubble.appendChild(text);
    log.appendChild(bubble);
    scrollLog();
  }

  function resetStream() {
    var draft = byId("chat-stream");
    if (!draft) return;
    draft.hidden = true;
    draft.querySelector(".chat-text").textContent = "";
  }

  // The cart page lists the lines itself: fetch its fragment again (an htmx GET of /cart/ renders
  // just #cart). The badge refreshes on its own from the "cartChanged" event. One refresh at a time,
  // and one more after it when the cart changed meanwhile: htmx would queue the second request with
  // the #cart element it found when asked, which the first one's swap then replaces, and the page
  // would keep the older cart.
  var cartRefreshing = null; // the refresh on its way (a token of its own)
  var cartRefreshAgain = false;
  function refreshCartPage() {
    if (!byId("cart")) return;
    if (cartRefreshing !== null) {
      cartRefreshAgain = true;
      return;
    }
    var mine = (cartRefreshing = {});
    var giveUp = null;
    var done = function () {
      if (cartRefreshing !== mine) return; // already ended (answered, failed or given up on)
      clearTimeout(giveUp);
      cartRefreshing = null;
      if (cartRefreshAgain) {
        cartRefreshAgain = false;
        refreshCartPage();
      }
    };
    // htmx settles the promise on every outcome but one (a swap that throws); never wait on it forever.
    giveUp = setTimeout(done, CART_REFRESH_GIVE_UP_MS);
    try {
      htmx.ajax("GET", "/cart/", { target: "#cart", swap: "outerHTML" }).then(done, done);
    } catch (error) {
      done();
      throw error;
    }
  }

  function send(content) {
    content = (content || "").trim();
    if (!content || !socket) return;
    appendOwnBubble(content);
    socket.send(frame("message", { content: content, stream: true }), null);
  }

  htmx.defineExtension("chat", {
    transformResponse: function (text, xhr) {
      // Extensions apply to every htmx request inside the panel: an HTTP response (a product card's
      // Add to cart) comes with its xhr and is left alone; a socket frame comes without one.
      if (xhr) return text;
      var data = parse(text);
      if (data && (data.type === "response" || data.type === "message") && data.payload.html) {
        return data.payload.html;
      }
      return "";
    },
  });

  // The ws extension reconnects by itself after these close codes (hx-ws-2.js); after the server's own
  // "try again later" codes (a Redis or database outage, 4503; a missed heartbeat, 4408) this page
  // does, waiting longer each time. After any other (signed out, too many connects) it stays closed.
  var RECONNECTED_BY_EXTENSION = [1006, 1011, 1012, 1013];
  var RECONNECTED_HERE = [4408, 4503];
  var RECONNECT_MAX_MS = 30000;
  var reconnects = 0;

  document.addEventListener("htmx:wsOpen", function (evt) {
    socket = evt.detail.socketWrapper;
    reconnects = 0;
    setStatus("");
  });

  document.addEventListener("htmx:wsClose", function (evt) {
    var code = evt.detail.event ? evt.detail.event.code : null;
    var panel = evt.target;
    if (RECONNECTED_HERE.indexOf(code) >= 0) {
      var delay = Math.min(RECONNECT_MAX_MS, 1000 * Math.pow(2, reconnects)) * (0.5 + Math.random() / 2);
      reconnects += 1;
      var wrapper = evt.detail.socketWrapper;
      setTimeout(function () {
        if (document.body.contains(panel)) wrapper.reconnect();
      }, delay);
      // The server's error event (e.g. "Live chat is unavailable right now ...") stays on screen.
    } else if (RECONNECTED_BY_EXTENSION.indexOf(code) >= 0) {
      setStatus("Reconnecting to the assistant…");
    } else if (!(byId("chat-status") || {}).textContent) {
      setStatus("The assistant has disconnected; reload the page to continue.");
    }
  });

  document.addEventListener("htmx:wsBeforeMessage", function (evt) {
    var data = parse(evt.detail.message);
    if (!data) return;
    var payload = data.payload || {};
    var typing = byId("chat-typing");
    var draft = byId("chat-stream");
    switch (data.type) {
      case "ping":
        evt.detail.socketWrapper.send(frame("pong"), null);
        break;
      case "typing":
        if (typing) typing.hidden = !payload.on;
        break;
      case "stream_start":
        if (draft) {
          draft.querySelector(".chat-text").textContent = "";
          draft.hidden = false;
        }
        break;
      case "stream_delta":
        if (draft) draft.querySelector(".chat-text").textContent += payload.delta || "";
        scrollLog();
        break;
      case "response":
        resetStream();
        if (typing) typing.hidden = true;
        if (payload.cart || (payload.actions || []).some(function (a) { return a.status === "succeeded" && /cart|checkout/.test(a.type); })) {
          // The cart badge and the cart page listen for this to refresh themselves.
          htmx.trigger(document.body, "cartChanged");
          refreshCartPage();
        }
        break;
      case "error":
        resetStream();
        if (typing) typing.hidden = true;
        setStatus(payload.message || "Something went wrong.");
        break;
    }
  });

  document.addEventListener("htmx:wsAfterMessage", scrollLog);

  // The ws extension would send the form's fields as they are; wrap them in the protocol's frame.
  document.addEventListener("htmx:wsConfigSend", function (evt) {
    if (evt.target.id !== "chat-form") return;
    var input = byId("chat-input");
    var content = (input ? input.value : "").trim();
    if (!content) {
      evt.preventDefault();
      return;
    }
    appendOwnBubble(content);
    setStatus("");
    evt.detail.messageBody = frame("message", { content: content, stream: true });
    input.value = "";
  });

  // A product card's Add to cart swaps the badge itself (out of band); the cart page needs a refresh.
  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.target.closest && evt.target.closest(".chat-product-add");
    if (form && evt.detail.successful) refreshCartPage();
  });

  // Escape closes the open panel from anywhere inside it (WAI-ARIA's dialog pattern), and focus goes
  // back to the toggle so a keyboard user is not left on a control that just disappeared.
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Escape") return;
    var dock = byId("chat-dock");
    if (!dock || !dock.open || !dock.contains(document.activeElement)) return;
    dock.open = false;
    dock.querySelector("summary").focus();
  });

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest(".chat-suggestion");
    if (button) send(button.getAttribute("data-text"));
  });
})();
