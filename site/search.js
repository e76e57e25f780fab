/* kbctl site search: runs in the page against the build-time index in
   assets/search-index.<locale>.js (window.KBCTL_SEARCH[locale]); no server, works from disk.
   analyze() must stay in step with tokens() in kbctl/channels/site_search.py. */
(function () {
  "use strict";

  var CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff";
  var TOKEN = new RegExp("[0-9a-z\u00df-\u00f6\u00f8-\u024f]+|[" + CJK + "]+", "g");
  var IS_CJK = new RegExp("^[" + CJK + "]");
  var STOP = {};
  ("a an and are as at be by can do does for from how i in is it my of on or the to what " +
   "when where which who why will with you your").split(" ").forEach(function (w) { STOP[w] = 1; });
  var K1 = 2.0, B = 0.6, PREFIX_FACTOR = 0.75, CHAR_FACTOR = 0.8, MAX_EXPANSIONS = 64, MAX_RESULTS = 50;

  function stem(w) {
    if (w.length > 4 && /ies$/.test(w)) return w.slice(0, -3) + "y";
    if (w.length > 3 && /s$/.test(w) && !/(ss|us|is)$/.test(w)) return w.slice(0, -1);
    return w;
  }

  function normalize(text) {
    return (text.normalize ? text.normalize("NFKC") : text).toLowerCase();
  }

  /* Query terms: {t: token, k: "w" (word, matched as a prefix) | "g" (CJK bigram) | "c" (one CJK character)} */
  function analyze(text) {
    var runs = normalize(text).match(TOKEN) || [];
    var words = [], out = [], seen = {};
    runs.forEach(function (run) {
      if (IS_CJK.test(run)) {
        if (run.length === 1) out.push({t: run, k: "c"});
        for (var i = 0; i + 1 < run.length; i++) out.push({t: run.substr(i, 2), k: "g"});
      } else {
        words.push(run);
      }
    });
    var kept = words.filter(function (w) { return !STOP[w]; });
    (kept.length || out.length ? kept : words).forEach(function (w) { out.push({t: stem(w), k: "w"}); });
    return out.filter(function (q) {
      var key = q.k + q.t;
      if (seen[key]) return false;
      seen[key] = 1;
      return true;
    });
  }

  function lowerBound(terms, t) {
    var lo = 0, hi = terms.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (terms[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /* The vocabulary terms a query term stands for, each with a factor (1 = exact match). */
  function expand(idx, q) {
    var terms = idx.terms, out = [], i;
    if (q.k === "c") {
      for (i = 0; i < terms.length; i++) {
        if (terms[i].indexOf(q.t) >= 0 && IS_CJK.test(terms[i])) out.push([i, terms[i] === q.t ? 1 : CHAR_FACTOR]);
      }
      return out;
    }
    i = lowerBound(terms, q.t);
    if (q.k === "g") return terms[i] === q.t ? [[i, 1]] : [];
    for (; i < terms.length && terms[i].lastIndexOf(q.t, 0) === 0 && out.length < MAX_EXPANSIONS; i++) {
      out.push([i, terms[i] === q.t ? 1 : PREFIX_FACTOR]);
    }
    return out;
  }

  /* BM25 of one vocabulary term; keeps each document's best score for the query term. */
  function scoreTerm(idx, ti, factor, best) {
    var post = idx.post[ti], n = idx.docs.length, df = post.length / 2;
    var idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    var avgdl = idx.avgdl || 1, doc = 0;
    for (var j = 0; j < post.length; j += 2) {
      doc += post[j];
      var tf = post[j + 1], dl = idx.docs[doc][3];
      var s = factor * idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / avgdl));
      if (!(best[doc] >= s)) best[doc] = s;
    }
  }

  function search(idx, query) {
    var qs = analyze(query);
    if (!qs.length) return {terms: qs, hits: []};
    var total = {}, matched = {};
    qs.forEach(function (q) {
      var best = {};
      expand(idx, q).forEach(function (e) { scoreTerm(idx, e[0], e[1], best); });
      Object.keys(best).forEach(function (d) {
        total[d] = (total[d] || 0) + best[d];
        matched[d] = (matched[d] || 0) + 1;
      });
    });
    var whole = normalize(query).replace(/\s+/g, "");
    var hits = Object.keys(total).map(function (d) {
      var doc = idx.docs[+d], cover = matched[d] / qs.length;
      var score = total[d] * cover * cover;
      if (whole && normalize(doc[1]).replace(/\s+/g, "").indexOf(whole) >= 0) score *= 1.5;
      return {doc: +d, score: score};
    });
    hits.sort(function (a, b) { return b.score - a.score || a.doc - b.doc; });
    return {terms: qs, hits: hits.slice(0, MAX_RESULTS)};
  }

  /* Text with the query's words and characters wrapped in <mark>, built as DOM nodes (never HTML). */
  function highlighted(text, terms) {
    var frag = document.createDocumentFragment();
    var lower = text.toLowerCase();
    var mask = new Uint8Array(text.length);
    if (lower.length === text.length) {
      terms.forEach(function (q) {
        var from = 0, at;
        while ((at = lower.indexOf(q.t, from)) >= 0) {
          if (q.k !== "w" || at === 0 || !/[0-9a-z]/.test(lower.charAt(at - 1))) {
            for (var k = at; k < at + q.t.length; k++) mask[k] = 1;
          }
          from = at + 1;
        }
      });
    }
    var start = 0;
    for (var i = 1; i <= text.length; i++) {
      if (i === text.length || mask[i] !== mask[start]) {
        var part = text.slice(start, i);
        if (mask[start]) {
          var mark = document.createElement("mark");
          mark.textContent = part;
          frag.appendChild(mark);
        } else {
          frag.appendChild(document.createTextNode(part));
        }
        start = i;
      }
    }
    return frag;
  }

  function resultItem(idx, hit, terms) {
    var doc = idx.docs[hit.doc];
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.className = "result-link";
    a.href = doc[0];
    a.appendChild(highlighted(doc[1], terms));
    li.appendChild(a);
    if (doc[4] >= 0) {
      var cat = document.createElement("p");
      cat.className = "result-category";
      cat.textContent = idx.cats[doc[4]];
      li.appendChild(cat);
    }
    if (doc[2]) {
      var p = document.createElement("p");
      p.className = "result-snippet";
      p.appendChild(highlighted(doc[2], terms));
      li.appendChild(p);
    }
    return li;
  }

  function keepInUrl(query) {
    try {
      var url = location.pathname + (query ? "?q=" + encodeURIComponent(query) : "") + location.hash;
      history.replaceState(null, "", url);
    } catch (e) { /* some file:// contexts refuse; the results still show */ }
  }

  function init() {
    var form = document.getElementById("search-form");
    if (!form) return;
    var input = document.getElementById("q");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    var locale = form.getAttribute("data-locale");
    var idx = (window.KBCTL_SEARCH || {})[locale];
    var msg = function (name) { return form.getAttribute("data-msg-" + name) || ""; };
    var timer = null;

    /* Tells site/feedback.js (present only where the channel collects feedback) what was found. */
    function announce(query, results, submitted) {
      var detail = {query: query, results: results, submitted: submitted};
      try { document.dispatchEvent(new CustomEvent("kbctl:search", {detail: detail})); } catch (e) { /* old browsers */ }
    }

    function run(submitted) {
      var query = input.value.trim();
      keepInUrl(query);
      while (list.firstChild) list.removeChild(list.firstChild);
      if (!idx) { status.textContent = msg("loading"); return; }
      if (!query) { status.textContent = msg("hint"); return; }
      var found = search(idx, query);
      found.hits.forEach(function (hit) { list.appendChild(resultItem(idx, hit, found.terms)); });
      status.textContent = (found.hits.length ? msg("count") : msg("none"))
        .replace("{n}", String(found.hits.length)).replace("{q}", query);
      announce(query, found.hits.length, submitted === true);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 60);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      run(true);
    });
    var params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    if (input.value) run(true);  /* a query from the URL was submitted (the header search box) */
  }

  window.kbctlSearch = {analyze: analyze, search: search};
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
