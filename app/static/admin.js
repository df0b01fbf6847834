// Kairus ETL admin: our own small script (no framework, no CDN). Loaded with `defer` from the page head;
// it never relies on inline scripts or handlers, so it works under a strict Content-Security-Policy.
(function () {
  "use strict";

  var FINAL = { succeeded: true, failed: true, cancelled: true };
  var currentRuns = [];

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function canAct() {
    return document.body.getAttribute("data-role") === "admin";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function fmtNumber(n) {
    return (n === null || n === undefined) ? "" : Number(n).toLocaleString("en-US");
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) { return ""; }
    var s = Math.round(seconds);
    if (s < 60) { return s + " s"; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + " min " + (s % 60) + " s"; }
    return Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  // Short runs need tenths on the axis, or every tick reads "1 s".
  function fmtAxisSeconds(seconds, maxSec) {
    if (maxSec < 10) { return seconds.toFixed(1) + " s"; }
    return fmtDuration(seconds);
  }

  // Forms that destroy or stop something ask first (data-confirm="question").
  function wireConfirms(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.getAttribute("data-wired")) { return; }
      form.setAttribute("data-wired", "1");
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  function cancelForm(job) {
    var form = el("form", { method: "post", action: job.cancel_url, "data-confirm": "Cancel this job?" });
    form.appendChild(el("input", { type: "hidden", name: "csrf_token", value: csrfToken() }));
    var button = el("button", { type: "submit", class: "small danger", "data-testid": "cancel-job" }, "Cancel");
    form.appendChild(button);
    return form;
  }

  function jobRow(job) {
    var tr = el("tr", { "data-job-id": job.id, "data-status": job.status });
    var idCell = el("td", { class: "mono" });
    idCell.appendChild(el("a", { href: job.url }, job.id.slice(0, 8)));
    tr.appendChild(idCell);
    tr.appendChild(el("td", {}, job.integration));
    var statusCell = el("td", {});
    statusCell.appendChild(el("span", { class: "badge " + job.status }, job.status));
    tr.appendChild(statusCell);
    tr.appendChild(el("td", {}, job.mode));
    tr.appendChild(el("td", { class: "hide-narrow" }, job.trigger));
    tr.appendChild(el("td", { class: "hide-narrow" }, job.created_at_text));
    tr.appendChild(el("td", { class: "num" }, fmtDuration(job.duration_s)));
    tr.appendChild(el("td", { class: "num" }, fmtNumber(job.rows)));
    var errorCell = el("td", { class: "error-text hide-narrow" }, job.error_short || "");
    tr.appendChild(errorCell);
    if (canAct()) {
      var actionCell = el("td", {});
      if (job.can_cancel) { actionCell.appendChild(cancelForm(job)); }
      tr.appendChild(actionCell);
    }
    return tr;
  }

  // The jobs list refreshes itself: fast while something runs, slowly otherwise.
  function pollJobs(table) {
    var url = table.getAttribute("data-poll-url");
    var body = table.querySelector("tbody");
    var counter = document.querySelector("[data-active-count]");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401) { window.location.href = "/admin/login"; throw new Error("signed out"); }
          return response.json();
        })
        .then(function (data) {
          body.replaceChildren.apply(body, data.jobs.map(jobRow));
          if (data.jobs.length === 0) {
            var empty = el("tr", {});
            empty.appendChild(el("td", { colspan: "10", class: "muted" }, "No jobs yet."));
            body.appendChild(empty);
          }
          if (counter) { counter.textContent = String(data.active); }
          document.querySelectorAll("[data-shown-count]").forEach(function (n) { n.textContent = String(data.jobs.length); });
          document.querySelectorAll("[data-total-count]").forEach(function (n) { n.textContent = String(data.total); });
          table.setAttribute("data-refreshed", String(Date.now()));
          wireConfirms(body);
          var chart = document.getElementById("runs-chart");
          if (chart && data.runs) { currentRuns = data.runs; drawChart(chart, currentRuns); }
          // A background tab polls rarely: it costs the server and the rate limit for nobody.
          var delay = data.active > 0 ? 2000 : 8000;
          window.setTimeout(tick, document.hidden ? Math.max(delay, 30000) : delay);
        })
        .catch(function () { window.setTimeout(tick, 8000); });
    }
    tick();
  }

  // The job page swaps its live part (rendered by the server) until the job reaches a final state.
  function pollJob(box) {
    var url = box.getAttribute("data-live-url");
    function tick() {
      if (FINAL[box.getAttribute("data-status")]) { return; }
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.text().then(function (t) { return [response, t]; }); })
        .then(function (pair) {
          var response = pair[0];
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          box.innerHTML = pair[1];
          box.setAttribute("data-status", response.headers.get("X-Job-Status") || "");
          document.querySelectorAll("[data-job-status-badge]").forEach(function (badge) {
            var status = box.getAttribute("data-status");
            badge.textContent = status;
            badge.className = "badge " + status;
          });
          if (FINAL[box.getAttribute("data-status")]) {
            document.querySelectorAll("[data-hide-when-final]").forEach(function (n) { n.remove(); });
          }
          window.setTimeout(tick, 2000);
        })
        .catch(function () { window.setTimeout(tick, 5000); });
    }
    window.setTimeout(tick, 2000);
  }

  // Rows loaded (bars, left axis) and duration (line, right axis) per finished run, oldest first.
  function drawChart(canvas, runs) {
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth;
    var height = canvas.clientHeight;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    var pad = { left: 56, right: 48, top: 12, bottom: 28 };
    var plotW = width - pad.left - pad.right;
    var plotH = height - pad.top - pad.bottom;
    canvas.setAttribute("data-points", String(runs.length));
    if (runs.length === 0 || plotW <= 0 || plotH <= 0) {
      ctx.fillStyle = "#5d6675";
      ctx.fillText("No finished runs yet.", pad.left, pad.top + 20);
      return;
    }
    var maxRows = Math.max(1, Math.max.apply(null, runs.map(function (r) { return r.rows || 0; })));
    var maxSec = Math.max(1, Math.max.apply(null, runs.map(function (r) { return r.seconds || 0; })));
    var slot = plotW / runs.length;
    var barW = Math.max(2, Math.min(36, slot * 0.6));

    ctx.strokeStyle = "#dde1e7";
    ctx.fillStyle = "#5d6675";
    ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i += 1) {
      var y = pad.top + plotH - (plotH * i) / 4;
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(pad.left + plotW, y);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(fmtNumber(Math.round((maxRows * i) / 4)), pad.left - 6, y + 4);
      ctx.textAlign = "left";
      ctx.fillText(fmtAxisSeconds((maxSec * i) / 4, maxSec), pad.left + plotW + 6, y + 4);
    }

    runs.forEach(function (run, index) {
      var x = pad.left + slot * index + (slot - barW) / 2;
      var h = (plotH * (run.rows || 0)) / maxRows;
      ctx.fillStyle = run.status === "succeeded" ? "#6f93e6" : "#e3a19c";
      ctx.fillRect(x, pad.top + plotH - h, barW, h);
    });

    ctx.strokeStyle = "#d9822b";
    ctx.fillStyle = "#d9822b";
    ctx.lineWidth = 2;
    ctx.beginPath();
    runs.forEach(function (run, index) {
      var x = pad.left + slot * index + slot / 2;
      var y = pad.top + plotH - (plotH * (run.seconds || 0)) / maxSec;
      if (index === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    });
    ctx.stroke();
    runs.forEach(function (run, index) {
      var x = pad.left + slot * index + slot / 2;
      var y = pad.top + plotH - (plotH * (run.seconds || 0)) / maxSec;
      ctx.beginPath();
      ctx.arc(x, y, 3, 0, Math.PI * 2);
      ctx.fill();
    });

    // A label under the first, middle and last run keeps the axis readable on a phone.
    ctx.fillStyle = "#5d6675";
    ctx.textAlign = "center";
    var marks = runs.length > 2 ? [0, Math.floor((runs.length - 1) / 2), runs.length - 1] : runs.map(function (_, k) { return k; });
    marks.forEach(function (index) {
      var x = pad.left + slot * index + slot / 2;
      ctx.fillText(runs[index].label, x, height - 8);
    });
  }

  function loadChartFromPage() {
    var canvas = document.getElementById("runs-chart");
    var source = document.getElementById("runs-chart-data");
    if (!canvas || !source) { return; }
    currentRuns = JSON.parse(source.textContent || "[]");
    drawChart(canvas, currentRuns);
    window.addEventListener("resize", function () { drawChart(canvas, currentRuns); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireConfirms(document);
    var jobs = document.querySelector("table[data-poll-url]");
    loadChartFromPage();
    if (jobs) { pollJobs(jobs); }
    var live = document.querySelector("[data-live-url]");
    if (live) { pollJob(live); }
  });
})();
