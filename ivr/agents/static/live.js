// Keeps an agent's page up to date without reloading it. Every few seconds (while the tab is seen) it
// asks for the page again with the ETag it has; when the page changed, each region marked data-live is
// replaced by its new version, unless the agent is in it (the focus is there, or its audio plays).
// The search typed, the focus, the scroll and open details stay. On the queue, new messages are not
// pushed into the list: the title and a polite live region say how many, and "Show them" shows them.
(function () {
  "use strict";
  var every = Number(document.body.getAttribute("data-live-every") || 15) * 1000;
  var etag = document.body.getAttribute("data-live-etag"); // the version this page was made from
  var waiting = null; // a newer version of the rows, held back until the agent asks for it
  var news = document.getElementById("news");

  function rowIds(region) {
    return Array.prototype.map.call(region.querySelectorAll("tr[data-id]"), function (row) {
      return row.getAttribute("data-id");
    });
  }

  function busy(region) {
    var focused = document.activeElement;
    if (focused && focused !== document.body && region.contains(focused)) return true;
    return Array.prototype.some.call(region.querySelectorAll("audio, video"), function (media) {
      return !media.paused;
    });
  }

  function swap(region, fresh) {
    // Details the agent opened stay open, and the agent's place on the page stays where it is.
    Array.prototype.forEach.call(region.querySelectorAll("details[id][open]"), function (open) {
      var same = fresh.querySelector("details[id='" + open.id + "']");
      if (same) same.setAttribute("open", "");
    });
    var x = window.scrollX, y = window.scrollY;
    region.replaceWith(document.importNode(fresh, true));
    window.scrollTo(x, y);
  }

  function showWaiting() {
    if (!waiting) return;
    Object.keys(waiting).forEach(function (name) {
      var region = document.querySelector("[data-live='" + name + "']");
      if (region) swap(region, waiting[name]);
    });
    waiting = null;
    news.textContent = "";
  }

  function announce(count) {
    news.textContent = "";
    var words = document.createTextNode(count + (count === 1 ? " new message. " : " new messages. "));
    var show = document.createElement("button");
    show.type = "button";
    show.className = "secondary";
    show.textContent = "Show them";
    show.addEventListener("click", showWaiting);
    news.appendChild(words);
    news.appendChild(show);
  }

  function apply(page) {
    document.title = page.title;
    var icon = page.querySelector("link[rel='icon']"), mine = document.querySelector("link[rel='icon']");
    if (icon && mine && icon.href !== mine.href) mine.href = icon.href;
    var held = {};
    Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), function (region) {
      var name = region.getAttribute("data-live");
      var fresh = page.querySelector("[data-live='" + name + "']");
      if (!fresh || fresh.innerHTML === region.innerHTML) return;
      var group = region.getAttribute("data-live-with"); // the pages go with the rows they count
      if (news && (name === "rows" || group === "rows")) {
        held[name] = fresh;
        return;
      }
      if (!busy(region)) swap(region, fresh);
    });
    var rows = held.rows ? document.querySelector("[data-live='rows']") : null;
    if (!rows) return;
    var shown = rowIds(rows);
    var added = rowIds(held.rows).filter(function (id) { return shown.indexOf(id) < 0; });
    if (added.length) {
      waiting = held;
      announce(added.length);
    } else if (!busy(rows)) {
      waiting = held;
      showWaiting();
    }
  }

  function ask() {
    if (document.hidden) return later();
    var headers = { "X-Requested-With": "live" };
    if (etag) headers["If-None-Match"] = etag;
    fetch(window.location.href, { headers: headers, credentials: "same-origin", cache: "no-store" })
      .then(function (reply) {
        if (reply.redirected || reply.status === 401 || reply.status === 403) return; // logged out: stop asking
        if (reply.status !== 200) return later();
        etag = reply.headers.get("ETag");
        return reply.text().then(function (text) {
          apply(new DOMParser().parseFromString(text, "text/html"));
          later();
        });
      })
      .catch(later); // offline for a moment: ask again later
  }

  function later() {
    window.setTimeout(ask, every);
  }

  later();
})();
