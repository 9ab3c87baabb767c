/* The site's only script, served from the site itself (no request leaves the intranet).
   - Larger text (大字模式): a button in the header; the choice persists in this browser.
   - Comparison: "加入对比" on an institution page keeps up to three homes in this browser;
     compare.html reads each one's facts from its own page and sets them side by side.
   Without scripts every page still reads in full; only these two conveniences are absent. */
(function () {
  "use strict";
  var TEXT = "eldercare.text-size", COMPARE = "eldercare.compare", MAX = 3;
  var ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  var root = document.documentElement;

  function load(key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } }
  function store(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: not kept */ } }

  if (load(TEXT) === "larger") { root.classList.add("larger-text"); }

  function chosen() {
    try {
      var ids = JSON.parse(load(COMPARE) || "[]");
      return Array.isArray(ids) ? ids.filter(function (id) { return typeof id === "string" && ID.test(id); }).slice(0, MAX) : [];
    } catch (e) { return []; }
  }
  function keep(ids) { store(COMPARE, JSON.stringify(ids)); showCount(); }
  function showCount() {
    var count = document.getElementById("compare-count");
    if (count) { var n = chosen().length; count.textContent = n ? "（" + n + "）" : ""; }
  }
  function say(text) {
    var status = document.getElementById("compare-status");
    if (status) { status.textContent = text; }
  }

  function textSize() {
    var button = document.getElementById("text-size");
    if (!button) { return; }
    function show() {
      var larger = root.classList.contains("larger-text");
      button.setAttribute("aria-pressed", larger ? "true" : "false");
      button.textContent = larger ? "标准字号" : "大字模式";
    }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      root.classList.toggle("larger-text");
      store(TEXT, root.classList.contains("larger-text") ? "larger" : "standard");
      show();
    });
  }

  function compareButton() {
    var button = document.getElementById("compare-toggle");
    if (!button) { return; }
    var id = button.getAttribute("data-id");
    function show() {
      var on = chosen().indexOf(id) >= 0;
      button.setAttribute("aria-pressed", on ? "true" : "false");
      button.textContent = on ? "已加入对比（点击移出）" : "加入对比";
    }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      var ids = chosen(), at = ids.indexOf(id);
      if (at >= 0) { ids.splice(at, 1); keep(ids); say("已移出对比"); }
      else if (ids.length >= MAX) { say("最多同时对比 " + MAX + " 家机构，请先在对比页移出一家"); return; }
      else { ids.push(id); keep(ids); say("已加入对比，共 " + ids.length + " 家"); }
      show();
    });
  }

  function facts(id, base) {
    return window.fetch(base + "institutions/" + id + ".html").then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.text();
    }).then(function (html) {
      var node = new window.DOMParser().parseFromString(html, "text/html").getElementById("compare-facts");
      if (!node) { throw new Error("no facts"); }
      return JSON.parse(node.textContent);
    });
  }

  function comparePage() {
    var table = document.getElementById("compare-table");
    if (!table) { return; }
    var base = table.getAttribute("data-root") || "";
    var empty = document.getElementById("compare-empty");
    var ids = chosen();
    document.getElementById("compare-noscript").hidden = true;
    if (!ids.length) { empty.hidden = false; table.hidden = true; return; }
    Promise.all(ids.map(function (id) {
      return facts(id, base).catch(function () { return null; });
    })).then(function (homes) {
      var present = homes.filter(Boolean);
      if (present.length !== ids.length) { keep(ids.filter(function (id, n) { return homes[n]; })); }
      if (!present.length) { empty.hidden = false; table.hidden = true; return; }
      var head = table.querySelector("thead tr"), body = table.querySelector("tbody");
      present.forEach(function (home) {
        var th = document.createElement("th"), link = document.createElement("a"), remove = document.createElement("button");
        th.scope = "col";
        link.href = base + "institutions/" + home.id + ".html";
        link.textContent = home.name;
        remove.type = "button";
        remove.className = "remove";
        remove.textContent = "移出对比";
        remove.setAttribute("aria-label", "将" + home.name + "移出对比");
        remove.addEventListener("click", function () {
          keep(chosen().filter(function (id) { return id !== home.id; }));
          window.location.reload();
        });
        th.appendChild(link);
        th.appendChild(document.createElement("br"));
        th.appendChild(remove);
        head.appendChild(th);
      });
      present[0].rows.forEach(function (row, n) {
        var tr = document.createElement("tr"), th = document.createElement("th");
        th.scope = "row";
        th.textContent = row[0];
        tr.appendChild(th);
        present.forEach(function (home) {
          var td = document.createElement("td"), cell = home.rows[n];
          td.textContent = cell[1];
          if (cell[2]) { td.className = "alert"; }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      table.hidden = false;
    });
  }

  /* Search: Pagefind's own module from the site. Results are re-ranked so that a name equal to the
     query comes first, then names that start with it, then names that hold it (in characters or in
     pinyin); Pagefind's order decides among the rest. The region and list choices keep only the
     homes whose page says so (each page's metadata). With no words typed they lead to the region's
     list page itself. */
  var PAGE = 20, RANKED = 60;
  function rank(query, home) {
    var q = query.toLowerCase().replace(/\s+/g, ""), name = (home.meta.title || "").replace(/\s+/g, "");
    var keys = (home.meta.keys || "").split(" ");
    if (name === q || keys[0] === q) { return 0; }
    if (name.indexOf(q) === 0 || keys.some(function (k) { return k.indexOf(q) === 0; })) { return 1; }
    if (name.indexOf(q) > 0 || keys.some(function (k) { return k.indexOf(q) > 0; })) { return 2; }
    return 3;
  }
  function search() {
    var form = document.querySelector("form.search");
    var out = document.getElementById("search-results");
    if (!form || !out) { return; }
    var base = new URL(form.getAttribute("data-root") || "./", document.baseURI);
    var onSearchPage = /\/search\.html$/.test(window.location.pathname);
    var engine = null;
    function api() {
      if (!engine) {
        // one Pagefind bundle per province (pagefind/shards.json): the first one searches, the others merge into it
        engine = fetch(new URL("pagefind/shards.json", base).href).then(function (response) {
          if (!response.ok) { throw new Error("no search index"); }
          return response.json();
        }).then(function (catalogue) {
          var shards = catalogue.shards.map(function (shard) { return new URL("pagefind/" + shard.province + "/", base); });
          return import(new URL("pagefind.js", shards[0]).href).then(function (pagefind) {
            return pagefind.options({ baseUrl: base.pathname }).then(function () {
              return Promise.all(shards.slice(1).map(function (shard) { return pagefind.mergeIndex(shard.pathname, { baseUrl: base.pathname }); }));
            }).then(function () { return pagefind; });
          });
        });
      }
      return engine;
    }
    function line(home) {
      var li = document.createElement("li"), link = document.createElement("a"), where = document.createElement("span");
      link.href = home.url;
      link.textContent = home.meta.title;
      where.className = "where";
      where.textContent = [home.meta.region, home.meta.status, home.meta.grade].filter(Boolean).join(" · ");
      li.appendChild(link);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(where);
      if (home.meta.warning) {
        var warn = document.createElement("span");
        warn.className = "warning";
        warn.textContent = "请注意：" + home.meta.warning;
        li.appendChild(warn);
      }
      return li;
    }
    function run() {
      var query = form.elements.q.value.trim(), province = form.elements.province.value, listName = form.elements.list.value;
      if (!query) {
        if (province || listName) {  // a region's list, or a whole list, is a page of its own
          window.location.href = new URL((province ? "regions/" + province + "/" : "") + (listName ? (province ? "" : "lists/") + listName + "/" : "") + "index.html", base).href;
        } else { out.textContent = "请输入机构名称、地址或拼音"; }
        return;
      }
      function wanted(home) {
        return (!province || home.meta.province === province) && (!listName || (home.meta.lists || "").split(" ").indexOf(listName) >= 0);
      }
      out.textContent = "正在检索……";
      api().then(function (pagefind) { return pagefind.search(query); }).then(function (result) {
        var head = result.results.slice(0, RANKED), rest = result.results.slice(RANKED), next = 0, shown = 0, candidates;
        return Promise.all(head.map(function (r) { return r.data(); })).then(function (top) {
          var order = top.map(function (home, n) { return { home: home, n: n, rank: rank(query, home) }; });
          order.sort(function (a, b) { return a.rank - b.rank || a.n - b.n; });
          candidates = order.map(function (o) { return function () { return Promise.resolve(o.home); }; })
            .concat(rest.map(function (r) { return function () { return r.data(); }; }));
          out.textContent = "";
          var summary = document.createElement("p"), list = document.createElement("ol"), button = document.createElement("button");
          summary.className = "search-summary";
          list.className = "search-hits";
          button.type = "button";
          button.textContent = "显示更多";
          out.appendChild(summary);
          out.appendChild(list);
          out.appendChild(button);
          function finish() {
            button.hidden = next >= candidates.length;
            summary.textContent = shown ? (province || listName ? "符合条件的养老机构（已列出 " + shown + " 家）" : "找到 " + candidates.length + " 家养老机构")
              : "未找到“" + query + "”" + (province || listName ? "（在所选地区和名单中）" : "");
          }
          function more() {  // the next page of homes that pass the region and list choices
            var target = shown + PAGE;
            function step() {
              if (shown >= target || next >= candidates.length) { finish(); return null; }
              var batch = candidates.slice(next, next + PAGE);
              next += batch.length;
              return Promise.all(batch.map(function (load) { return load(); })).then(function (homes) {
                homes.filter(wanted).forEach(function (home) { list.appendChild(line(home)); shown += 1; });
                return step();
              });
            }
            return step();
          }
          button.addEventListener("click", more);
          return more();
        });
      }).catch(function () { out.textContent = "检索暂时不可用，请按名单或地区浏览"; });
    }
    form.addEventListener("submit", function (event) {
      if (!onSearchPage) {
        if (!form.elements.q.value.trim()) { event.preventDefault(); run(); }
        return;
      }
      event.preventDefault();
      window.history.replaceState(null, "", "?" + new URLSearchParams(new FormData(form)).toString());
      run();
    });
    if (onSearchPage) {
      var params = new URLSearchParams(window.location.search);
      ["q", "province", "list"].forEach(function (name) { if (params.get(name)) { form.elements[name].value = params.get(name); } });
      if (params.get("q")) { run(); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    search();
    textSize();
    showCount();
    compareButton();
    comparePage();
  });
}());
