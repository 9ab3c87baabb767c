/* Checks, in the reader's own browser, that the ledger position a page of this site states is in the
   ledger's signed log (events/VERIFICATION.md §2–§5, eldercare-verification/2):
   1. the checkpoint's Ed25519 signature verifies under the key (the site's copy, or one the reader
      pastes from the official notice), and names that key's log;
   2. the page states a position (event seq and hash) within the signed checkpoint;
   3. the Merkle tree root recomputed from the published tiles, with that event's hash in its place,
      equals the signed root — so this event, with this hash, is at this position in the signed log.
   WebCrypto does the Ed25519 and SHA-256; nothing is sent anywhere; every file comes from the site. */
(function () {
  "use strict";
  var TILE = 256;
  var enc = new TextEncoder();

  function fail(message) { var e = new Error(message); e.plain = true; throw e; }
  function b64(text) { var raw = atob(text.trim()), out = new Uint8Array(raw.length); for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); } return out; }
  function hex(bytes) { return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join(""); }
  function unhex(text) { var out = new Uint8Array(text.length / 2); for (var i = 0; i < out.length; i++) { out[i] = parseInt(text.substr(i * 2, 2), 16); } return out; }
  function join() { var parts = Array.prototype.slice.call(arguments), n = 0, at = 0; parts.forEach(function (p) { n += p.length; }); var out = new Uint8Array(n); parts.forEach(function (p) { out.set(p, at); at += p.length; }); return out; }
  function sha256(bytes) { return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); }); }
  function same(a, b) { if (a.length !== b.length) { return false; } for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } } return true; }
  function get(url, binary) {
    return fetch(url, { cache: "no-store" }).then(function (r) {
      if (!r.ok) { fail("无法取得 " + url + "（" + r.status + "）"); }
      return binary ? r.arrayBuffer().then(function (b) { return new Uint8Array(b); }) : r.text();
    });
  }
  function leaf(hash) { return sha256(join(new Uint8Array([0]), unhex(hash))); }
  function node(left, right) { return sha256(join(new Uint8Array([1]), left, right)); }

  function parseKey(text) {  // <origin>+<hex key id>+<base64(0x01 || public key)>
    var parts = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+\/=]+)$/.exec(text.trim());  // base64 may hold "+"
    if (!parts) { fail("公钥格式不正确"); }
    parts = parts.slice(1);
    var raw = b64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) { fail("公钥不是 Ed25519 公钥"); }
    return { origin: parts[0], id: parts[1], key: raw.slice(1) };
  }
  function checkSignature(note, vkey) {
    var cut = note.indexOf("\n\n");
    if (cut < 0) { fail("检查点格式不正确"); }
    var body = note.slice(0, cut + 1), lines = body.split("\n");
    var size = lines[1], root = lines[2];
    if (lines[0] !== vkey.origin) { fail("检查点属于“" + lines[0] + "”，不是公钥所属的“" + vkey.origin + "”"); }
    if (!/^(0|[1-9][0-9]*)$/.test(size)) { fail("检查点中的事件数格式不正确"); }
    return sha256(join(enc.encode(vkey.origin + "\n"), new Uint8Array([1]), vkey.key)).then(function (id) {
      if (hex(id.slice(0, 4)) !== vkey.id) { fail("公钥的标识与公钥本身不符"); }
      var sigLine = note.slice(cut + 2).split("\n").filter(function (l) { return l.indexOf("\u2014 " + vkey.origin + " ") === 0; })
        .map(function (l) { return b64(l.slice(("\u2014 " + vkey.origin + " ").length)); })
        .filter(function (s) { return hex(s.slice(0, 4)) === vkey.id; })[0];
      if (!sigLine) { fail("检查点上没有这把公钥的签名"); }
      return crypto.subtle.importKey("raw", vkey.key, { name: "Ed25519" }, false, ["verify"]).then(function (key) {
        return crypto.subtle.verify({ name: "Ed25519" }, key, sigLine.slice(4), enc.encode(body));
      });
    }).then(function (ok) {
      if (!ok) { fail("检查点签名核验失败：检查点不是用这把公钥签署的，或签署后被改动"); }
      return { size: Number(size), root: b64(root), time: (lines.filter(function (l) { return l.indexOf("time ") === 0; })[0] || "").slice(5) };
    });
  }

  function tilePath(level, index, width) {
    var digits = String(index);
    while (digits.length % 3) { digits = "0" + digits; }
    var groups = digits.match(/.{3}/g), path = groups.map(function (g, i) { return i < groups.length - 1 ? "x" + g : g; }).join("/");
    return "tile/" + level + "/" + path + (width < TILE ? ".p/" + width : "");
  }

  function Tree(base, size) {
    var tiles = {};
    function tile(level, index) {  // the hashes of one tile, full or the partial one at the edge
      var count = Math.floor(size / Math.pow(TILE, level)), width = Math.min(TILE, count - index * TILE), key = level + "/" + index;
      if (!tiles[key]) { tiles[key] = get(new URL("transparency/" + tilePath(level, index, width), base).href, true).then(function (data) {
        if (data.length !== width * 32) { fail("瓦片 " + tilePath(level, index, width) + " 的长度不对"); }
        return data;
      }); }
      return tiles[key];
    }
    function perfect(start, height) {  // the hash of the perfect subtree of 2^height leaves from start
      var level = Math.floor(height / 8), span = Math.pow(TILE, level), first = start / span, count = Math.pow(2, height - 8 * level);
      var index = Math.floor(first / TILE);
      return tile(level, index).then(function (data) {
        var hashes = [];
        for (var i = 0; i < count; i++) { var at = (first - index * TILE + i) * 32; hashes.push(data.slice(at, at + 32)); }
        function fold(list) {
          if (list.length === 1) { return Promise.resolve(list[0]); }
          var pairs = [];
          for (var j = 0; j < list.length; j += 2) { pairs.push(node(list[j], list[j + 1])); }
          return Promise.all(pairs).then(fold);
        }
        return fold(hashes);
      });
    }
    function split(n) { var k = 1; while (k * 2 < n) { k *= 2; } return k; }
    function mth(lo, hi, target, leafHash) {  // RFC 9162 MTH of leaves [lo, hi); the target leaf is the stamp's
      var n = hi - lo;
      if (target >= lo && target < hi) {
        if (n === 1) { return Promise.resolve(leafHash); }
        var k = split(n);
        return Promise.all([mth(lo, lo + k, target, leafHash), mth(lo + k, hi, target, leafHash)]).then(function (p) { return node(p[0], p[1]); });
      }
      if ((n & (n - 1)) === 0 && lo % n === 0) { return perfect(lo, Math.round(Math.log2(n))); }
      var m = split(n);
      return Promise.all([mth(lo, lo + m, -1), mth(lo + m, hi, -1)]).then(function (p) { return node(p[0], p[1]); });
    }
    return { rootWith: function (seq, hash) { return leaf(hash).then(function (h) { return mth(0, size, seq - 1, h); }); } };
  }

  function verifyPage(base, pagePath, keyText) {
    var steps = [];
    return Promise.resolve().then(function () {
      var vkey = parseKey(keyText);
      return get(new URL("transparency/checkpoint", base).href).then(function (note) { return checkSignature(note, vkey); });
    }).then(function (checkpoint) {
      steps.push("检查点签名有效：台账运营方于 " + checkpoint.time + "（UTC）签署，当时台账共有 " + checkpoint.size + " 个事件");
      return get(new URL(pagePath, base).href).then(function (html) {
        var found = /data-seq="(\d+)" data-hash="([0-9a-f]{64})"/.exec(html);
        if (!found) { fail("该页面没有标明台账位置"); }
        var seq = Number(found[1]), hash = found[2];
        if (seq < 1 || seq > checkpoint.size) { fail("页面标明的第 " + seq + " 号事件不在已签名的 " + checkpoint.size + " 个事件之内"); }
        steps.push("页面标明的台账位置：第 " + seq + " 号事件，校验值 " + hash);
        return Tree(base, checkpoint.size).rootWith(seq, hash).then(function (root) {
          if (!same(root, checkpoint.root)) { fail("用该页面标明的校验值重算的默克尔树根与签名的树根不符：该页面所示台账位置不在已签名的台账中"); }
          steps.push("由公开瓦片重算的默克尔树根与签名的树根一致：第 " + seq + " 号事件及其校验值确在已签名的台账中");
          return steps;
        });
      });
    });
  }

  window.eldercareVerify = { verifyPage: verifyPage };  // for tests that drive it directly

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("verify-form");
    if (!form) { return; }
    var base = new URL(form.getAttribute("data-root") || "./", document.baseURI);
    var out = document.getElementById("verify-result");
    var params = new URLSearchParams(window.location.search);
    form.hidden = false;
    document.getElementById("verify-noscript").hidden = true;
    if (params.get("page")) { form.elements.page.value = params.get("page"); }
    get(new URL("transparency/log.vkey", base).href).then(function (text) {
      if (!form.elements.key.value) { form.elements.key.value = text.trim(); }
    }).catch(function () { /* shown when checked */ });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      out.className = "verify-result";
      out.textContent = "正在核验……";
      if (!window.crypto || !crypto.subtle) {
        out.className = "verify-result unavailable";
        out.textContent = "本浏览器或本站的连接方式（非 HTTPS）不支持在浏览器中核验。请换用新版浏览器通过 HTTPS 访问，或使用下方的独立核验程序。";
        return;
      }
      var pagePath = form.elements.page.value.trim().replace(/^\/+/, "");
      if (!/^[A-Za-z0-9_\-\/.]+\.html$/.test(pagePath) || pagePath.indexOf("..") >= 0) {
        out.className = "verify-result failed";
        out.textContent = "请填写本站页面的地址，例如 institutions/….html";
        return;
      }
      verifyPage(base, pagePath, form.elements.key.value).then(function (steps) {
        out.className = "verify-result passed";
        out.textContent = "";
        var head = document.createElement("p"), list = document.createElement("ol");
        head.textContent = "核验通过";
        head.className = "verdict";
        steps.forEach(function (s) { var li = document.createElement("li"); li.textContent = s; list.appendChild(li); });
        out.appendChild(head);
        out.appendChild(list);
      }).catch(function (error) {
        out.className = "verify-result failed";
        out.textContent = "";
        var head = document.createElement("p"), why = document.createElement("p");
        head.textContent = "核验未通过";
        head.className = "verdict";
        why.textContent = error.plain ? error.message : "核验中出错：" + error.message;
        out.appendChild(head);
        out.appendChild(why);
        var todo = document.getElementById("verify-failed-help");
        if (todo) { out.appendChild(todo.content.cloneNode(true)); }
      });
    });
  });
}());
