/* casebook — the dashboard's case table, windowed, with sorting, filtering and the filters
   kept in the URL hash. Progressive enhancement: without this script the dashboard links to
   the plain-HTML table pages (table-1.html, …) and the filter controls stay hidden.

   Every case arrives as a compact array pushed by the data files beside the page
   (rows-0000.js, …, named by the table's data-rows and loaded here with <script> elements,
   since fetch cannot read file://), in the
   order of urgency. Only the rows in view, and a margin, are in the DOM: each row has a fixed
   height, and spacer rows stand for the rest. Text from case files is only ever set with
   textContent. Plain ES5, no libraries, no modules, no network. */
(function () {
  "use strict";

  // the columns of a row (`casebook/site/table_data.py`, `row_json`)
  var ID = 0, DEBTOR = 1, META = 2, OWNER = 3, STATUS = 4, STATUS_LABEL = 5, RANK = 6,
    ACTION = 7, ACTION_LABEL = 8, CHANNEL = 9, DUE = 10, DUE_TEXT = 11, OVERDUE = 12,
    OVERDUE_TEXT = 13, DAYS = 14, BALANCE = 15, BALANCE_TEXT = 16, MARKS = 17,
    PRESCRIBES_TEXT = 18, DUE_TODAY = 19, SEARCH = 20;
  var ROW_HEIGHT = 48; // px, as casebook.css sets it (.vtable tr.case-row)
  var MARGIN = 15; // rows rendered above and below the ones in view
  var FILTERS = ["q", "status", "owner", "presc", "action", "due"]; // their names in the hash
  var CONTROLS = {
    q: "[data-filter=text]", status: "[data-filter=status]", owner: "[data-filter=owner]",
    presc: "[data-filter=prescription]", action: "[data-filter=action]", due: "[data-filter=due]"
  };

  var PLAIN = /^[\x00-\x7f]*$/; // nothing to fold but the case

  function fold(text) {
    var s = String(text || "").toLowerCase();
    if (PLAIN.test(s) || !s.normalize) return s;
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = String(text);
    return node;
  }

  function caseHref(id) {
    return "cases/" + String(id).split("/").map(encodeURIComponent).join("/") + ".html";
  }

  // the sort key of a row in each column; null sorts last both ways
  var KEYS = [
    function (r) { return fold(r[DEBTOR]); },
    function (r) { return r[OWNER] ? fold(r[OWNER]) : null; },
    function (r) { return r[RANK]; },
    function (r) { return r[ACTION] === "none" ? null : fold(r[ACTION_LABEL]); },
    function (r) { return r[DUE] || null; },
    function (r) { return r[OVERDUE]; },
    function (r) { return r[DAYS] === null ? null : r[DAYS]; },
    function (r) { return r[BALANCE]; }
  ];

  function Dashboard(root, rows) {
    this.rows = rows;
    this.root = root;
    this.wrap = root.querySelector("[data-vtable]");
    this.table = this.wrap.querySelector("table");
    this.body = this.table.tBodies[0];
    this.headers = this.table.tHead.rows[0].cells;
    this.controls = root.querySelector("[data-controls]");
    this.keys = [];
    this.column = -1; // -1: the order of urgency
    this.direction = 1;
    this.order = null; // row indices, sorted
    this.view = []; // row indices, sorted and filtered
    this.focus = 0; // the position in `view` of the row that takes the keyboard
    this.first = -1;
    this.last = -1;
    this.pending = false;
  }

  Dashboard.prototype.control = function (name) {
    return this.controls.querySelector(CONTROLS[name]);
  };

  Dashboard.prototype.sorted = function () {
    var n = this.rows.length, order = new Array(n), i;
    for (i = 0; i < n; i += 1) order[i] = i;
    if (this.column < 0) return order;
    var column = this.column, direction = this.direction, keys = this.keys[column];
    if (!keys) {
      keys = this.keys[column] = new Array(n);
      for (i = 0; i < n; i += 1) keys[i] = KEYS[column](this.rows[i]);
    }
    if (keys.numeric === undefined) {
      keys.numeric = true;
      for (i = 0; i < n && keys.numeric; i += 1) keys.numeric = typeof keys[i] === "number";
    }
    if (keys.numeric) { // no null: one subtraction a comparison (most of the time at 100,000)
      order.sort(direction > 0 ? function (a, b) { return keys[a] - keys[b] || a - b; }
        : function (a, b) { return keys[b] - keys[a] || a - b; });
      return order;
    }
    order.sort(function (a, b) {
      var va = keys[a], vb = keys[b];
      if (va === null || vb === null) {
        if (va === vb) return a - b;
        return va === null ? 1 : -1;
      }
      if (va === vb) return a - b;
      return (va < vb ? -1 : 1) * direction;
    });
    return order;
  };

  Dashboard.prototype.state = function () {
    var text = this.control("q"), due = this.control("due");
    return {
      q: text.value.trim(),
      status: this.control("status").value,
      owner: this.control("owner").value,
      presc: this.control("presc").value,
      action: this.control("action").value,
      due: due.checked ? "1" : "",
      sort: this.column < 0 ? "" : this.column + ":" + (this.direction > 0 ? "asc" : "desc")
    };
  };

  Dashboard.prototype.apply = function (resort) {
    var s = this.state();
    if (resort || !this.order) this.order = this.sorted();
    var words = fold(s.q).split(/\s+/).filter(function (w) { return w; });
    var rows = this.rows, view = [], i, r, k;
    for (i = 0; i < this.order.length; i += 1) {
      r = rows[this.order[i]];
      if (s.status && r[STATUS] !== s.status) continue;
      if (s.owner && (r[OWNER] || "-") !== s.owner) continue;
      if (s.action && r[ACTION] !== s.action) continue;
      if (s.due && !r[DUE_TODAY]) continue;
      if (s.presc && (" " + r[MARKS] + " ").indexOf(" " + s.presc + " ") === -1) continue;
      if (words.length) {
        if (r._text === undefined) r._text = fold(r[SEARCH]);
        for (k = 0; k < words.length && r._text.indexOf(words[k]) !== -1; k += 1) { /* */ }
        if (k < words.length) continue;
      }
      view.push(this.order[i]);
    }
    this.view = view;
    this.focus = Math.min(this.focus, Math.max(view.length - 1, 0));
    this.first = this.last = -1;
    this.render();
    this.markHeaders();
    this.showCount();
    this.filterAgenda(s.owner);
    this.saveHash(s);
  };

  Dashboard.prototype.showCount = function () {
    var count = this.root.querySelector("[data-count]");
    if (count) {
      var template = count.getAttribute("data-template") || "{shown} / {total}";
      count.textContent = template.replace("{shown}", String(this.view.length))
        .replace("{total}", String(this.rows.length));
      count.hidden = false;
    }
    var empty = this.root.querySelector("[data-empty]");
    if (empty) empty.hidden = this.view.length !== 0;
  };

  Dashboard.prototype.filterAgenda = function (owner) {
    var groups = this.root.querySelectorAll("[data-agenda-owner]");
    for (var i = 0; i < groups.length; i += 1) {
      groups[i].hidden = !!owner && groups[i].getAttribute("data-agenda-owner") !== owner;
    }
  };

  Dashboard.prototype.headHeight = function () {
    return this.table.tHead.offsetHeight;
  };

  Dashboard.prototype.render = function () {
    var n = this.view.length;
    var top = Math.max(0, this.wrap.scrollTop - this.headHeight());
    var inView = Math.ceil((this.wrap.clientHeight || 600) / ROW_HEIGHT);
    var first = Math.max(0, Math.floor(top / ROW_HEIGHT) - MARGIN);
    var last = Math.min(n, first + inView + 2 * MARGIN);
    if (first === this.first && last === this.last) return;
    var hadFocus = this.body.contains(document.activeElement);
    if (this.first >= 0 && first < this.last && last > this.first) {
      this.shift(first, last, n);
    } else {
      var fragment = document.createDocumentFragment();
      if (first > 0) fragment.appendChild(this.spacer(first * ROW_HEIGHT));
      for (var pos = first; pos < last; pos += 1) fragment.appendChild(this.row(pos));
      if (last < n) fragment.appendChild(this.spacer((n - last) * ROW_HEIGHT));
      this.body.textContent = "";
      this.body.appendChild(fragment);
    }
    this.first = first;
    this.last = last;
    if (hadFocus && !this.body.contains(document.activeElement)) this.focusRow(this.focus, true);
  };

  // Scrolling: the rows still in the window stay as they are, only those that leave it are
  // taken out and those that enter it are made (rebuilding every row each frame leaves
  // megabytes of elements for the collector at every frame).
  Dashboard.prototype.shift = function (first, last, n) {
    var body = this.body, child = body.firstChild, next, pos;
    while (child) {
      next = child.nextSibling;
      pos = child.hasAttribute("data-pos") ? parseInt(child.getAttribute("data-pos"), 10) : -1;
      if (pos < first || pos >= last) body.removeChild(child);
      child = next;
    }
    var before = document.createDocumentFragment();
    if (first > 0) before.appendChild(this.spacer(first * ROW_HEIGHT));
    for (pos = first; pos < Math.min(this.first, last); pos += 1) before.appendChild(this.row(pos));
    body.insertBefore(before, body.firstChild);
    var after = document.createDocumentFragment();
    for (pos = Math.max(this.last, first); pos < last; pos += 1) after.appendChild(this.row(pos));
    if (last < n) after.appendChild(this.spacer((n - last) * ROW_HEIGHT));
    body.appendChild(after);
  };

  Dashboard.prototype.spacer = function (height) {
    var tr = el("tr", "vtable__spacer");
    tr.setAttribute("aria-hidden", "true");
    var td = el("td");
    td.colSpan = 8;
    td.style.height = height + "px";
    tr.appendChild(td);
    return tr;
  };

  Dashboard.prototype.row = function (pos) {
    var r = this.rows[this.view[pos]];
    var tr = el("tr", "case-row case-row--" + r[STATUS]);
    tr.setAttribute("data-pos", String(pos));
    tr.setAttribute("data-status", r[STATUS]);
    tr.setAttribute("data-owner", r[OWNER] || "-");
    if (r[MARKS]) tr.setAttribute("data-prescription", r[MARKS]);
    tr.tabIndex = pos === this.focus ? 0 : -1;
    var cell = el("td", "cell-case");
    var link = el("a", "case-link", r[DEBTOR]);
    link.href = caseHref(r[ID]);
    link.tabIndex = -1; // the row takes the keyboard; Enter opens the case
    cell.appendChild(link);
    var meta = el("span", "case-meta", r[META]);
    if (r[PRESCRIBES_TEXT]) meta.appendChild(el("span", "case-prescribes", " · " + r[PRESCRIBES_TEXT]));
    cell.appendChild(meta);
    tr.appendChild(cell);
    tr.appendChild(el("td", "cell-owner", r[OWNER] || "—"));
    cell = el("td", "cell-status");
    cell.appendChild(el("span", "badge badge--" + r[STATUS], r[STATUS_LABEL]));
    tr.appendChild(cell);
    cell = el("td", "cell-action" + (r[ACTION] === "none" ? " is-none" : ""), r[ACTION_LABEL]);
    if (r[CHANNEL]) cell.appendChild(el("span", "chip", r[CHANNEL]));
    tr.appendChild(cell);
    tr.appendChild(el("td", "cell-due" + (r[DUE_TODAY] ? " is-due" : ""), r[DUE_TEXT] || "—"));
    tr.appendChild(el("td", "num money" + (r[OVERDUE] > 0 ? " is-overdue" : " is-zero"),
      r[OVERDUE_TEXT] || "—"));
    tr.appendChild(el("td", "num cell-days", r[DAYS] === null ? "—" : r[DAYS]));
    tr.appendChild(el("td", "num money cell-balance", r[BALANCE_TEXT]));
    return tr;
  };

  Dashboard.prototype.focusRow = function (pos, quiet) {
    var n = this.view.length;
    if (!n) return;
    pos = Math.max(0, Math.min(n - 1, pos));
    this.focus = pos;
    var head = this.headHeight(), wrap = this.wrap;
    var top = head + pos * ROW_HEIGHT;
    if (top - head < wrap.scrollTop) wrap.scrollTop = top - head;
    else if (top + ROW_HEIGHT > wrap.scrollTop + wrap.clientHeight) {
      wrap.scrollTop = top + ROW_HEIGHT - wrap.clientHeight;
    }
    if (!quiet) this.render();
    var rows = this.body.querySelectorAll("tr[data-pos]");
    for (var i = 0; i < rows.length; i += 1) {
      var mine = rows[i].getAttribute("data-pos") === String(pos);
      rows[i].tabIndex = mine ? 0 : -1;
      if (mine) rows[i].focus({ preventScroll: true });
    }
  };

  Dashboard.prototype.onKey = function (event) {
    var tr = event.target;
    if (!tr || tr.tagName !== "TR" || !tr.hasAttribute("data-pos")) return;
    var pos = parseInt(tr.getAttribute("data-pos"), 10);
    var page = Math.max(1, Math.floor(this.wrap.clientHeight / ROW_HEIGHT) - 1);
    var moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (event.key in moves) this.focusRow(pos + moves[event.key]);
    else if (event.key === "Home") this.focusRow(0);
    else if (event.key === "End") this.focusRow(this.view.length - 1);
    else if (event.key === "Enter") {
      window.location.href = tr.querySelector("a").href;
    } else return;
    event.preventDefault();
  };

  Dashboard.prototype.markHeaders = function () {
    for (var i = 0; i < this.headers.length; i += 1) {
      if (i === this.column) {
        this.headers[i].setAttribute("aria-sort", this.direction > 0 ? "ascending" : "descending");
      } else {
        this.headers[i].removeAttribute("aria-sort");
      }
    }
    var select = this.controls.querySelector("[data-sort-select]");
    if (select) select.value = this.column < 0 ? "" : this.column + (this.direction > 0 ? ":asc" : ":desc");
  };

  Dashboard.prototype.sortBy = function (column, direction) {
    this.column = column >= 0 && column < KEYS.length ? column : -1;
    this.direction = direction < 0 ? -1 : 1;
    this.focus = 0;
    this.apply(true);
  };

  Dashboard.prototype.saveHash = function (s) {
    var parts = [];
    FILTERS.concat(["sort"]).forEach(function (name) {
      if (s[name]) parts.push(name + "=" + encodeURIComponent(s[name]));
    });
    var hash = parts.length ? "#" + parts.join("&") : "";
    if (hash === window.location.hash || (!hash && !window.location.hash)) return;
    try {
      window.history.replaceState(null, "", hash || window.location.pathname + window.location.search);
    } catch (e) {
      window.location.hash = hash;
    }
  };

  Dashboard.prototype.readHash = function () {
    var found = {};
    window.location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      var at = part.indexOf("=");
      if (at > 0) {
        try {
          found[part.slice(0, at)] = decodeURIComponent(part.slice(at + 1).replace(/\+/g, " "));
        } catch (e) { /* a broken hash filters nothing */ }
      }
    });
    var self = this;
    FILTERS.forEach(function (name) {
      var control = self.control(name);
      if (control.type === "checkbox") control.checked = found[name] === "1";
      else control.value = found[name] || "";
      if (control.tagName === "SELECT" && control.selectedIndex < 0) control.selectedIndex = 0;
    });
    var sort = (found.sort || "").split(":");
    this.column = sort[0] === "" ? -1 : parseInt(sort[0], 10);
    if (isNaN(this.column) || this.column >= KEYS.length) this.column = -1;
    this.direction = sort[1] === "desc" ? -1 : 1;
    this.focus = 0;
    this.apply(true);
  };

  Dashboard.prototype.fillActions = function () {
    var select = this.control("action"), labels = {};
    this.rows.forEach(function (r) { labels[r[ACTION]] = r[ACTION_LABEL]; });
    Object.keys(labels).sort().forEach(function (action) {
      var option = el("option", "", labels[action]);
      option.value = action;
      select.appendChild(option);
    });
  };

  // "who am I", kept in this browser: that owner's part of the agenda comes first
  Dashboard.prototype.whoAmI = function () {
    var box = this.root.querySelector("[data-me]");
    if (!box) return;
    var select = box.querySelector("select");
    var groups = Array.prototype.slice.call(this.root.querySelectorAll("[data-agenda-owner]"));
    var place = function () {
      groups.forEach(function (g) { g.parentNode.appendChild(g); }); // the build's order
      groups.forEach(function (g) {
        if (select.value && g.getAttribute("data-agenda-owner") === select.value) {
          g.parentNode.insertBefore(g, groups[0]);
        }
      });
    };
    try { select.value = window.localStorage.getItem("casebook.me") || ""; } catch (e) { /* */ }
    if (select.selectedIndex < 0) select.value = "";
    select.addEventListener("change", function () {
      try { window.localStorage.setItem("casebook.me", select.value); } catch (e) { /* */ }
      place();
    });
    box.hidden = false;
    place();
  };

  Dashboard.prototype.start = function () {
    var self = this;
    this.whoAmI();
    this.fillActions();
    this.root.querySelector("[data-table-link]").hidden = true;
    this.wrap.hidden = false;
    this.controls.hidden = false;
    Array.prototype.forEach.call(this.headers, function (th, index) {
      var button = el("button", "sort");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.addEventListener("click", function () { // the whole header, not only its words
        var first = th.getAttribute("data-first") === "desc" ? -1 : 1;
        self.sortBy(index, self.column === index ? -self.direction : first);
      });
    });
    Array.prototype.forEach.call(this.controls.querySelectorAll("[data-filter]"), function (c) {
      c.addEventListener(c.tagName === "SELECT" || c.type === "checkbox" ? "change" : "input",
        function () { self.focus = 0; self.apply(false); });
    });
    var select = this.controls.querySelector("[data-sort-select]");
    select.addEventListener("change", function () {
      var parts = select.value.split(":");
      self.sortBy(parts[0] === "" ? -1 : parseInt(parts[0], 10), parts[1] === "desc" ? -1 : 1);
    });
    this.controls.querySelector("[data-reset]").addEventListener("click", function () {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      self.readHash();
    });
    this.wrap.addEventListener("scroll", function () {
      if (self.pending) return;
      self.pending = true;
      window.requestAnimationFrame(function () { self.pending = false; self.render(); });
    }, { passive: true });
    this.body.addEventListener("keydown", function (event) { self.onKey(event); });
    window.addEventListener("hashchange", function () { self.readHash(); });
    window.addEventListener("resize", function () { self.first = -1; self.render(); });
    document.addEventListener("keydown", function (event) {
      var target = event.target || {};
      var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName || "") || target.isContentEditable;
      var search = self.control("q");
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        search.focus();
      } else if (event.key === "Escape" && target === search && search.value) {
        search.value = "";
        self.apply(false);
      }
    });
    this.readHash();
  };

  function start() {
    var root = document.querySelector("main");
    var wrap = root && root.querySelector("[data-vtable]");
    if (!wrap) return;
    loadRows(wrap.getAttribute("data-rows").split(" ").filter(Boolean), function () {
      var rows = window.casebookRows || [];
      if (!rows.length) return; // no case: the table page says so
      var dashboard = new Dashboard(root, rows);
      window.casebookDashboard = dashboard; // for the benchmarks and tests
      dashboard.start();
    });
  }

  // The data files, by <script> elements: they run from file://, where fetch cannot read.
  // Inserted scripts that are not async run in the order inserted, so the rows stay in order.
  function loadRows(files, done) {
    var left = files.length;
    if (!left) done();
    files.forEach(function (file) {
      var script = document.createElement("script");
      script.async = false;
      script.src = file;
      script.onload = function () { left -= 1; if (!left) done(); };
      script.onerror = function () { console.error("casebook: cannot load " + file); };
      document.head.appendChild(script);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}());
