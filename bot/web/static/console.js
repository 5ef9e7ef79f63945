// The office console's one script: the cases list refreshes itself every 5 seconds (the pages work without it).
"use strict";
(function () {
  var table = document.getElementById("cases");
  if (!table) { return; }
  var rows = document.getElementById("case-rows");
  var url = new URL(table.getAttribute("data-live"), window.location.href);
  url.searchParams.set("rows", "1");
  function refresh() {
    fetch(url.toString(), { credentials: "same-origin", headers: { "X-Console-Poll": "1" } })
      .then(function (response) {
        if (response.status === 303 || response.redirected || !response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString("<table><tbody>" + html + "</tbody></table>", "text/html");
        var body = parsed.querySelector("tbody");
        if (body) { rows.replaceChildren.apply(rows, Array.prototype.slice.call(body.childNodes)); }
        table.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* signed out or offline: the next tick tries again */ });
  }
  window.setInterval(refresh, 5000);
})();
