// Relink's only script besides htmx: keyboard use of the sub-account switcher, and the
// asset picker's filter and select-all. Everything works without it; it adds focus
// handling, arrow keys, and the picker's tools (hidden until this script shows them).
(function () {
  "use strict";

  function items(sw) {
    return Array.prototype.slice.call(sw.querySelectorAll(".switcher-item"));
  }

  function setup(sw) {
    var details = sw.querySelector("details");
    var input = sw.querySelector("input[type=search]");
    var summary = sw.querySelector("summary");
    if (!details || !input || !summary) return;

    // Enter pressed before the list caught up with the search box: open the first match
    // once the list for what was typed arrives.
    var enterPending = false;

    // fresh reports whether the list shows the matches of what the search box holds now.
    function fresh() {
      var results = sw.querySelector(".switcher-results");
      return !!results && results.getAttribute("data-query") === input.value.trim();
    }

    function openFirst() {
      var list = items(sw);
      if (list.length > 0) window.location.assign(list[0].getAttribute("href"));
    }

    details.addEventListener("toggle", function () {
      // Select the last search, so typing starts a new one instead of adding to it. The
      // event comes a moment after the opening: when "/" already focused the box, the
      // person may be typing, and selecting now would swallow their first letters.
      if (details.open) {
        if (document.activeElement !== input) {
          input.focus();
          input.select();
        }
      } else {
        enterPending = false;
      }
    });

    sw.addEventListener("htmx:afterSettle", function () {
      if (enterPending && fresh()) {
        enterPending = false;
        openFirst();
      }
    });

    sw.addEventListener("keydown", function (e) {
      var list = items(sw);
      var i = list.indexOf(document.activeElement);
      if (e.key === "Escape") {
        if (!details.open) return;
        details.open = false;
        summary.focus();
        e.preventDefault();
      } else if (!details.open) {
        // Closed: the arrow keys scroll the page as usual.
        return;
      } else if (e.key === "ArrowDown") {
        if (list.length === 0) return;
        list[i < 0 ? 0 : Math.min(i + 1, list.length - 1)].focus();
        e.preventDefault();
      } else if (e.key === "ArrowUp") {
        if (i < 0) return;
        if (i === 0) input.focus(); else list[i - 1].focus();
        e.preventDefault();
      } else if (e.key === "Enter" && document.activeElement === input) {
        // Enter in the search box opens the first match instead of submitting the form.
        if (fresh()) {
          if (list.length > 0) {
            e.preventDefault();
            openFirst();
          }
        } else if (window.htmx) {
          // Typed faster than the debounce: fetch the matches now and open the first one
          // when they arrive, never the first item of the previous list.
          e.preventDefault();
          enterPending = true;
          window.htmx.trigger(input, "search");
        }
        // Without htmx the form submits, and the /switch page lists the matches.
      }
    });

    // Close when focus or a click leaves the switcher.
    document.addEventListener("click", function (e) {
      if (details.open && !sw.contains(e.target)) details.open = false;
    });
    sw.addEventListener("focusout", function (e) {
      if (details.open && e.relatedTarget && !sw.contains(e.relatedTarget)) details.open = false;
    });
  }

  // "/" focuses the switcher from anywhere, like search on many dashboards.
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    var sw = document.querySelector("[data-testid=account-switcher] details");
    if (!sw) return;
    e.preventDefault();
    sw.open = true;
    var input = sw.querySelector("input[type=search]");
    if (input) {
      input.focus();
      input.select();
    }
  });

  // The asset picker: typing filters the rows by name or id; select-all ticks or unticks
  // the rows shown, never hidden or unreachable ones.
  function setupPicker(root) {
    var tools = root.querySelector(".picker-tools");
    var filter = root.querySelector("[data-testid=picker-filter]");
    var all = root.querySelector("[data-testid=picker-select-all]");
    var count = root.querySelector(".picker-selected");
    var none = root.querySelector(".picker-nomatch");
    var rows = Array.prototype.slice.call(root.querySelectorAll(".picker-item"));
    var groups = Array.prototype.slice.call(root.querySelectorAll(".picker-group"));
    if (!tools || !filter || !all || rows.length === 0) return;
    tools.hidden = false;

    function box(row) { return row.querySelector("input[name=asset]"); }
    function shownBoxes() {
      return rows.filter(function (r) { return !r.hidden; }).map(box)
        .filter(function (b) { return b && !b.disabled; });
    }
    function sync() {
      var shown = shownBoxes();
      var ticked = shown.filter(function (b) { return b.checked; }).length;
      all.checked = shown.length > 0 && ticked === shown.length;
      all.indeterminate = ticked > 0 && ticked < shown.length;
      all.disabled = shown.length === 0;
      var total = rows.map(box).filter(function (b) { return b && b.checked; }).length;
      // Numbers as the page writes them: "1,204", not "1204".
      if (count) count.textContent = total.toLocaleString("en") + " of " + rows.length.toLocaleString("en") + " selected";
    }

    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      var any = false;
      rows.forEach(function (r) {
        r.hidden = q !== "" && (r.getAttribute("data-filter") || "").indexOf(q) < 0;
        if (!r.hidden) any = true;
      });
      groups.forEach(function (g) {
        g.hidden = !g.querySelector(".picker-item:not([hidden])");
      });
      if (none) none.hidden = any;
      sync();
    });
    all.addEventListener("change", function () {
      shownBoxes().forEach(function (b) { b.checked = all.checked; });
      sync();
    });
    root.addEventListener("change", function (e) {
      if (e.target && e.target.name === "asset") sync();
    });
    sync();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-testid=account-switcher]").forEach(setup);
    document.querySelectorAll("[data-testid=picker]").forEach(setupPicker);
  });
})();
