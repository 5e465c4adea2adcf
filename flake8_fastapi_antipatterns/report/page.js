// The report's problem list: filters, two groupings and pages over the data block, so the page
// holds one page of cards whatever the number of problems. Text from the findings only ever
// reaches the page through textContent: nothing is parsed as HTML.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("faa-data").textContent);
  var problems = data.problems;
  var files = data.files;
  var rules = data.rules;
  var PAGE = data.pageSize;
  var form = document.getElementById("filters");
  var list = document.getElementById("problem-list");
  var status = document.getElementById("problem-status");
  var DEFAULTS = { view: "code", code: "", sev: "", file: "", seen: "", q: "", page: "1" };
  var state = Object.assign({}, DEFAULTS);

  // Both orders once: a filter keeps the order, so a render never sorts.
  function ordered(compare) {
    var order = problems.map(function (_, i) { return i; });
    order.sort(function (a, b) { return compare(problems[a], problems[b]) || a - b; });
    return order;
  }
  function cmp(a, b) { return a < b ? -1 : a > b ? 1 : 0; }
  var byFile = ordered(function (a, b) { return cmp(files[a.f], files[b.f]) || a.l - b.l || cmp(a.c, b.c); });
  var byCode = ordered(function (a, b) { return cmp(a.c, b.c) || cmp(files[a.f], files[b.f]) || a.l - b.l; });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // `backticked` spans become <code> elements; the text itself stays text.
  function prose(parent, text) {
    var parts = String(text).split("`");
    if (parts.length % 2 === 0) {
      parent.appendChild(document.createTextNode(text));
      return parent;
    }
    parts.forEach(function (part, i) {
      parent.appendChild(i % 2 ? el("code", null, part) : document.createTextNode(part));
    });
    return parent;
  }

  function where(fileIndex, line) {
    var name = files[fileIndex] || "(no source location)";
    return line > 0 ? name + ":" + line : name;
  }

  function searchText(p) {
    if (p._text === undefined) {
      var parts = [p.c, files[p.f], p.m];
      (p.r || []).forEach(function (r) { parts.push(files[r.f], r.m); });
      p._text = parts.join("\n").toLowerCase();
    }
    return p._text;
  }

  function matches(p) {
    if (state.code && p.c !== state.code) return false;
    if (state.sev && p.s !== state.sev) return false;
    if (state.file && files[p.f] !== state.file) return false;
    if (state.seen && p.k !== state.seen) return false;
    if (state.q && searchText(p).indexOf(state.q.toLowerCase()) < 0) return false;
    return true;
  }

  function excerpt(x, summary) {
    var box = el("details", "code");
    box.appendChild(el("summary", null, summary));
    var pre = el("pre", "excerpt");
    var code = el("code");
    var seen = x[3] || [];
    x[1].forEach(function (text, i) {
      var number = x[0] + i;
      var cls = "l" + (number === x[2] ? " hit" : seen.indexOf(number) >= 0 ? " seen" : "");
      var row = el("span", cls);
      row.appendChild(el("span", "n", number));
      row.appendChild(document.createTextNode(text));
      code.appendChild(row);
    });
    pre.appendChild(code);
    box.appendChild(pre);
    return box;
  }

  function evidenceItem(r) {
    var item = el("li");
    item.appendChild(el("span", "where", where(r.f, r.l)));
    if (r.n > 1) item.appendChild(document.createTextNode(" · seen " + r.n + "×"));
    item.appendChild(document.createTextNode(": "));
    prose(item, r.m);
    if (r.x) item.appendChild(excerpt(r.x, "Code at " + where(r.f, r.l)));
    return item;
  }

  var SHOWN_EVIDENCE = 5;

  function evidence(p) {
    var box = el("div", "evidence");
    box.appendChild(el("strong", null, p.k === "runtime" ? "Also seen at runtime:" : "Seen at runtime:"));
    var shown = el("ul");
    p.r.slice(0, SHOWN_EVIDENCE).forEach(function (r) { shown.appendChild(evidenceItem(r)); });
    box.appendChild(shown);
    if (p.r.length > SHOWN_EVIDENCE) {
      var more = el("details");
      more.appendChild(el("summary", null, (p.r.length - SHOWN_EVIDENCE) + " more"));
      var rest = el("ul");
      more.addEventListener("toggle", function () {
        if (more.open && !rest.firstChild) {
          p.r.slice(SHOWN_EVIDENCE).forEach(function (r) { rest.appendChild(evidenceItem(r)); });
        }
      });
      more.appendChild(rest);
      box.appendChild(more);
    }
    return box;
  }

  var CHECK = "M3 8.5l3 3 7-7";

  function check() {
    var svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "icon");
    svg.setAttribute("viewBox", "0 0 16 16");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", CHECK);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2.2");
    path.setAttribute("stroke-linecap", "round");
    svg.appendChild(path);
    return svg;
  }

  function card(p) {
    var article = el("article", "problem k-" + p.k);
    article.dataset.code = p.c;
    var head = el("div", "head");
    var code = el("a", "code", p.c);
    code.href = "#rule-" + p.c;
    code.title = (rules[p.c] || {}).t || p.c;
    head.appendChild(code);
    head.appendChild(el("span", "loc", where(p.f, p.l)));
    if (p.k === "both") {
      var badge = el("span", "badge confirmed");
      badge.title = "the runtime guard saw this code here";
      badge.appendChild(check());
      badge.appendChild(document.createTextNode("confirmed at runtime"));
      head.appendChild(el("span", "badge static", "static"));
      head.appendChild(badge);
    } else {
      head.appendChild(el("span", "badge " + p.k, p.k === "static" ? "static" : "runtime only"));
    }
    if (p.seen > 1) head.appendChild(el("span", "badge count", "seen " + p.seen + "×"));
    if (p.s !== "warning") head.appendChild(el("span", "sev " + p.s, p.s));
    article.appendChild(head);
    article.appendChild(prose(el("p", "msg"), p.m));
    if (p.d && p.d.length) {
      var dl = el("dl", "details");
      p.d.forEach(function (pair) {
        var row = el("div");
        row.appendChild(el("dt", null, pair[0]));
        row.appendChild(el("dd", null, pair[1]));
        dl.appendChild(row);
      });
      article.appendChild(dl);
    }
    if (p.r && p.r.length) article.appendChild(evidence(p));
    if (p.x) article.appendChild(excerpt(p.x, "Code at " + where(p.f, p.l)));
    return article;
  }

  function heading(p, view, count) {
    var box = el("div", "group");
    if (view === "file") {
      box.appendChild(el("span", "file-name", files[p.f] || "(no source location)"));
    } else {
      var code = el("a", "code", p.c);
      code.href = "#rule-" + p.c;
      box.appendChild(code);
      box.appendChild(el("h3", null, (rules[p.c] || {}).t || "Unknown code"));
    }
    box.appendChild(el("span", "n", count + (count === 1 ? " problem" : " problems")));
    if (view !== "file" && rules[p.c] && rules[p.c].fix) {
      var fix = el("p", "fix");
      fix.appendChild(el("strong", null, "Fix: "));
      prose(fix, rules[p.c].fix);
      box.appendChild(fix);
    }
    return box;
  }

  function number(n) { return n.toLocaleString("en"); }

  function render() {
    var view = state.view === "file" ? "file" : "code";
    var groupOf = view === "file" ? function (p) { return p.f; } : function (p) { return p.c; };
    var shown = [];
    var findings = 0;
    var groups = {};
    (view === "file" ? byFile : byCode).forEach(function (i) {
      var p = problems[i];
      if (matches(p)) {
        shown.push(p);
        findings += p.n;
        groups[groupOf(p)] = (groups[groupOf(p)] || 0) + 1;
      }
    });
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    var page = Math.min(Math.max(parseInt(state.page, 10) || 1, 1), pages);
    state.page = String(page);
    var first = (page - 1) * PAGE;
    var slice = shown.slice(first, first + PAGE);
    var fragment = document.createDocumentFragment();
    var group = null;
    slice.forEach(function (p) {
      if (groupOf(p) !== group) {
        group = groupOf(p);
        fragment.appendChild(heading(p, view, groups[group]));
      }
      fragment.appendChild(card(p));
    });
    if (!slice.length) fragment.appendChild(el("p", "empty", "No problem matches these filters."));
    list.replaceChildren(fragment);
    var range = shown.length ? number(first + 1) + "–" + number(first + slice.length) + " of " : "0 of ";
    status.textContent = "Problems " + range + number(shown.length) + " (" + number(findings) + " findings)" +
      (shown.length < problems.length ? ", filtered from " + number(problems.length) : "");
    document.querySelectorAll(".pager").forEach(function (pager) {
      pager.querySelector("[data-page=prev]").disabled = page <= 1;
      pager.querySelector("[data-page=next]").disabled = page >= pages;
      pager.querySelector(".page-of").textContent = "Page " + page + " of " + pages;
    });
    syncForm();
  }

  function syncForm() {
    ["code", "sev", "file", "seen", "q"].forEach(function (key) {
      var control = form.elements[key];
      if (control && control.value !== state[key]) control.value = state[key];
    });
    form.querySelectorAll("input[name=view]").forEach(function (radio) {
      radio.checked = radio.value === (state.view === "file" ? "file" : "code");
    });
  }

  // The state lives in the address (#code=FAA102&view=file): a filtered view can be linked.
  function readHash() {
    var hash = location.hash.slice(1);
    if (hash.indexOf("=") < 0) return false; // a plain anchor (#rule-FAA102, #summary)
    var params = new URLSearchParams(hash);
    state = Object.assign({}, DEFAULTS);
    Object.keys(DEFAULTS).forEach(function (key) {
      if (params.has(key)) state[key] = params.get(key);
    });
    return true;
  }

  function writeHash() {
    var params = new URLSearchParams();
    Object.keys(DEFAULTS).forEach(function (key) {
      if (state[key] !== DEFAULTS[key]) params.set(key, state[key]);
    });
    try {
      history.replaceState(null, "", "#" + params.toString());
    } catch (error) {
      // Some browsers refuse replaceState on file:// pages; the filters still work.
    }
  }

  function update(changes) {
    Object.assign(state, changes);
    render();
    writeHash();
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.name || target.name === "q") return;
    var changes = { page: "1" };
    changes[target.name] = target.value;
    update(changes);
  });
  form.addEventListener("input", function (event) {
    if (event.target.name === "q") update({ q: event.target.value, page: "1" });
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function (event) {
    event.preventDefault();
    state = Object.assign({}, DEFAULTS);
    render();
    writeHash();
  });
  document.querySelectorAll(".pager").forEach(function (pager) {
    pager.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-page]");
      if (!button) return;
      var page = parseInt(state.page, 10) + (button.dataset.page === "next" ? 1 : -1);
      update({ page: String(page) });
      if (pager.classList.contains("bottom")) document.getElementById("problems").scrollIntoView();
    });
  });
  window.addEventListener("hashchange", function () {
    if (readHash()) {
      render();
      document.getElementById("problems").scrollIntoView();
      return;
    }
    var target = document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  });

  readHash();
  render();
  document.documentElement.dataset.rendered = "true";
  if (window.performance && performance.mark) performance.mark("faa-rendered");
})();
