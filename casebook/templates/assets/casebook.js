/* casebook — sorting and filtering the case table on the dashboard.
   Progressive enhancement: without this script the table is complete, in order of urgency, and
   the filter controls stay hidden. Plain ES5, no libraries, no modules, no network, so it runs
   from file:// in any browser. Sort values come from each cell's data-sort attribute (ISO dates,
   plain decimals), never from the formatted text. */
(function () {
  "use strict";

  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function fold(text) {
    var s = String(text || "").toLowerCase();
    return s.normalize ? s.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : s;
  }

  function makeCollator() {
    try {
      return new Intl.Collator(document.documentElement.lang || undefined,
        { sensitivity: "base", numeric: true });
    } catch (e) {
      return null;
    }
  }

  function CaseTable(table, controls) {
    this.table = table;
    this.body = table.tBodies[0];
    this.headers = table.tHead ? table.tHead.rows[0].cells : [];
    this.rows = Array.prototype.filter.call(this.body.rows, function (row) {
      return row.hasAttribute("data-status");
    });
    this.controls = controls;
    this.collator = makeCollator();
    this.column = -1; // -1: the original order, most urgent first
    this.direction = 1;
    each(this.rows, function (row, index) {
      row._rank = index;
      row._text = fold(row.getAttribute("data-search"));
    });
  }

  CaseTable.prototype.value = function (row, column, type) {
    var cell = row.cells[column];
    if (!cell) return null;
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.replace(/\s+/g, " ").trim();
    if (raw === "") return null;
    if (type === "number") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw;
  };

  CaseTable.prototype.compare = function (a, b, type) {
    if (type === "number") return a - b;
    if (type === "date") return a < b ? -1 : (a > b ? 1 : 0);
    if (this.collator) return this.collator.compare(a, b);
    return a < b ? -1 : (a > b ? 1 : 0);
  };

  CaseTable.prototype.sort = function (column, direction) {
    var self = this;
    var header = this.headers[column];
    var type = header ? header.getAttribute("data-type") || "text" : "text";
    this.column = header ? column : -1;
    this.direction = direction < 0 ? -1 : 1;
    var sorted = this.rows.slice();
    sorted.sort(function (a, b) {
      if (self.column < 0) return a._rank - b._rank;
      var va = self.value(a, column, type);
      var vb = self.value(b, column, type);
      if (va === null || vb === null) {
        // cases without a value (no due date, no days overdue) go last both ways
        if (va === vb) return a._rank - b._rank;
        return va === null ? 1 : -1;
      }
      var order = self.compare(va, vb, type) * self.direction;
      return order !== 0 ? order : a._rank - b._rank;
    });
    var fragment = document.createDocumentFragment();
    each(sorted, function (row) { fragment.appendChild(row); });
    this.body.appendChild(fragment);
    this.markHeaders();
  };

  CaseTable.prototype.markHeaders = function () {
    var self = this;
    each(this.headers, function (th, index) {
      if (index === self.column) {
        th.setAttribute("aria-sort", self.direction > 0 ? "ascending" : "descending");
      } else {
        th.removeAttribute("aria-sort");
      }
    });
    var select = this.controls && this.controls.querySelector("[data-sort-select]");
    if (select) {
      select.value = this.column < 0 ? "" : this.column + (this.direction > 0 ? ":asc" : ":desc");
    }
  };

  CaseTable.prototype.enhanceHeaders = function () {
    var self = this;
    each(this.headers, function (th, index) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var first = th.getAttribute("data-first") === "desc" ? -1 : 1;
        var direction = self.column === index ? -self.direction : first;
        self.sort(index, direction);
      });
    });
  };

  CaseTable.prototype.filter = function () {
    var controls = this.controls;
    if (!controls) return;
    var text = controls.querySelector("[data-filter=text]");
    var status = controls.querySelector("[data-filter=status]");
    var owner = controls.querySelector("[data-filter=owner]");
    var prescription = controls.querySelector("[data-filter=prescription]");
    var words = fold(text ? text.value : "").split(/\s+/).filter(function (w) { return w; });
    var wantStatus = status ? status.value : "";
    var wantOwner = owner ? owner.value : "";
    var wantPrescription = prescription ? prescription.value : "";
    var shown = 0;
    each(this.rows, function (row) {
      // data-prescription holds words: "soon" (prescribes within the warning), "prescribed"
      var marks = " " + (row.getAttribute("data-prescription") || "") + " ";
      var visible = (!wantStatus || row.getAttribute("data-status") === wantStatus) &&
        (!wantOwner || row.getAttribute("data-owner") === wantOwner) &&
        (!wantPrescription || marks.indexOf(" " + wantPrescription + " ") !== -1) &&
        words.every(function (w) { return row._text.indexOf(w) !== -1; });
      row.hidden = !visible;
      if (visible) shown += 1;
    });
    var count = document.querySelector("[data-count]");
    if (count) {
      var template = count.getAttribute("data-template") || "{shown} / {total}";
      count.textContent = template.replace("{shown}", String(shown)).replace("{total}", String(this.rows.length));
      count.hidden = false;
    }
    var empty = document.querySelector("[data-empty]");
    if (empty) empty.hidden = shown !== 0;
  };

  CaseTable.prototype.enhanceControls = function () {
    var self = this;
    var controls = this.controls;
    if (!controls) return;
    controls.hidden = false;
    var refilter = function () { self.filter(); };
    each(controls.querySelectorAll("[data-filter]"), function (control) {
      control.addEventListener(control.tagName === "SELECT" ? "change" : "input", refilter);
    });
    var select = controls.querySelector("[data-sort-select]");
    if (select) {
      select.addEventListener("change", function () {
        var parts = select.value.split(":");
        if (parts[0] === "") self.sort(-1, 1);
        else self.sort(parseInt(parts[0], 10), parts[1] === "desc" ? -1 : 1);
      });
    }
    var reset = controls.querySelector("[data-reset]");
    if (reset) {
      reset.addEventListener("click", function () {
        each(controls.querySelectorAll("[data-filter]"), function (control) {
          if (control.tagName === "SELECT") control.selectedIndex = 0;
          else control.value = "";
        });
        self.sort(-1, 1);
        self.filter();
      });
    }
    document.addEventListener("keydown", function (event) {
      var target = event.target || {};
      var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName || "") || target.isContentEditable;
      var search = controls.querySelector("[data-filter=text]");
      if (event.key === "/" && !typing && search && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        search.focus();
      } else if (event.key === "Escape" && target === search && search.value) {
        search.value = "";
        self.filter();
      }
    });
    // a browser may restore the controls' values on back/forward
    window.addEventListener("pageshow", refilter);
  };

  function start() {
    var table = document.querySelector("table[data-sortable]");
    if (!table || !table.tBodies.length) return;
    var cases = new CaseTable(table, document.querySelector("[data-controls]"));
    if (!cases.rows.length) return;
    cases.enhanceHeaders();
    cases.enhanceControls();
    cases.filter();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
