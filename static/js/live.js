/* Yiwang 一网: the instrument page kept current by the market stream (Server-Sent
   Events), no polling: the book from its snapshot and level events (asks all-in into
   the chosen region, as the server draws them), new trades on top of the list, the
   last price, volume and VWAP, and the chart's last candle; "My orders" is fetched
   again when the private stream says one of them changed. While the stream is down
   (reconnecting, or missing), window.yiwangLive is false and htmx's polling
   ([data-poll], static/js/site.js) takes over. */
(function () {
  "use strict";
  const config = document.getElementById("live-config");
  if (!config || !window.EventSource) return;
  const cfg = JSON.parse(config.textContent);
  const levels = new Map();
  let drawing = false, haveBook = false;
  window.yiwangLive = true;

  const cents = (s) => Math.round(parseFloat(s) * 100);
  const tenths = (s) => Math.round(parseFloat(s) * 10);
  const money = (c) => (c / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const qty = (t) => (t / 10).toLocaleString("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
  const order = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const name = (code) => esc(cfg.regions[code] || code);

  function viewer() {
    const select = document.getElementById("id_region");
    return select ? select.value : "";
  }

  function askRow(a) {
    return `<tr data-region="${esc(a.region)}"><td class="num ask-price">${money(a.all)}</td>` +
      `<td class="num">${money(a.p)}</td><td class="num muted">${money(a.s)}</td>` +
      `<td title="${name(a.region)}">${name(a.region)}</td><td><span class="tag">${esc(a.stack)}</span></td>` +
      `<td class="num">${qty(a.q)}</td></tr>`;
  }

  function bidRow(b) {
    return `<tr data-region="${esc(b.region)}"><td class="num bid-price">${money(b.p)}</td>` +
      `<td>${name(b.region)}</td><td class="num">${qty(b.q)}</td></tr>`;
  }

  function drawBook() {
    drawing = false;
    const askBody = document.querySelector("#book table.asks tbody");
    const bidBody = document.querySelector("#book table.bids tbody");
    if (!askBody || !bidBody) return;
    const into = viewer(), asks = [], bids = [];
    levels.forEach((l) => {
      const row = { region: l.region, stack: l.stack, p: cents(l.price), q: tenths(l.quantity) };
      if (l.side === "buy") { bids.push(row); return; }
      const s = (cfg.surcharges[l.region] || {})[into];
      if (s === undefined) return;  // no link into the chosen region
      row.s = cents(s);
      row.all = row.p + row.s;
      asks.push(row);
    });
    asks.sort((a, b) => a.all - b.all || a.p - b.p || order(a.region, b.region) || order(a.stack, b.stack));
    bids.sort((a, b) => b.p - a.p || order(a.region, b.region));
    askBody.innerHTML = asks.slice(0, cfg.depth).map(askRow).join("") ||
      `<tr><td colspan="6" class="empty">${esc(cfg.words.no_asks)}</td></tr>`;
    bidBody.innerHTML = bids.slice(0, cfg.depth).map(bidRow).join("") ||
      `<tr><td colspan="3" class="empty">${esc(cfg.words.no_bids)}</td></tr>`;
  }

  function redraw() {
    if (haveBook && !drawing) { drawing = true; window.requestAnimationFrame(drawBook); }
  }

  function setLevel(l) {
    const key = [l.side, l.price, l.region, l.stack].join("|");
    if (tenths(l.quantity) > 0) levels.set(key, l); else levels.delete(key);
  }

  function onBook(book) {
    haveBook = true;
    levels.clear();
    book.asks.forEach((a) => setLevel({ side: "sell", ...a }));
    book.bids.forEach((b) => setLevel({ side: "buy", stack: null, ...b }));
    redraw();
    onState(book);
    // Trades made between the page and the stream: fetch the list once.
    if (book.seq > cfg.seq && window.htmx) {
      window.htmx.ajax("GET", cfg.trades, { target: "#trades", swap: "innerHTML" });
    }
  }

  function tradeRow(t) {
    const side = t.aggressor === "buy"
      ? `<span class="side-buy">${esc(cfg.words.buyer)}</span>`
      : `<span class="side-sell">${esc(cfg.words.seller)}</span>`;
    return `<tr data-trade="${t.id}"><td class="num">${esc(t.executed_at.slice(11, 19))}</td>` +
      `<td class="num"><strong>${money(cents(t.price))}</strong></td><td class="num">${money(cents(t.all_in_price))}</td>` +
      `<td class="num">${qty(tenths(t.quantity))}</td>` +
      `<td><span class="code">${esc(t.sell_region)} → ${esc(t.buy_region)}</span></td><td>${side}</td></tr>`;
  }

  function onTrade(t) {
    const table = document.querySelector("#trades table.trades");
    if (!table || table.querySelector(`tr[data-trade="${t.id}"]`)) return;
    const body = table.tBodies[0];
    const empty = body.querySelector("td.empty");
    if (empty) empty.parentElement.remove();
    body.insertAdjacentHTML("afterbegin", tradeRow(t));
    while (body.rows.length > cfg.recent) body.deleteRow(-1);
    table.dataset.lastTrade = String(t.id);
    onFigures(t);
    if (window.yiwangChart) window.yiwangChart.trade(t);
  }

  function onFigures(t) {
    const last = document.querySelector('[data-testid="last-price"]');
    const volume = document.querySelector('[data-testid="volume"]');
    const vwap = document.querySelector('[data-testid="vwap"]');
    if (last) last.textContent = money(cents(t.price));
    if (!volume || !vwap) return;
    const before = parseFloat(volume.dataset.exact || "0");
    const add = parseFloat(t.quantity);
    const value = before * parseFloat(vwap.dataset.exact || "0") + add * parseFloat(t.price);
    volume.dataset.exact = String(before + add);
    vwap.dataset.exact = String(value / (before + add));
    volume.textContent = qty(Math.round((before + add) * 10)) + " SCU-h";
    vwap.textContent = money(Math.round((value / (before + add)) * 100));
  }

  function onState(s) {
    const badge = document.querySelector(".inst-head h1 .state");
    if (!badge || !s.state) return;
    badge.className = "state " + s.state;
    badge.textContent = cfg.states[s.state] || s.state;
  }

  function listen(url, options, handlers) {
    const source = new EventSource(url, options);
    Object.entries(handlers).forEach(([event, handle]) =>
      source.addEventListener(event, (e) => handle(JSON.parse(e.data))));
    return source;
  }

  const market = listen(cfg.market, {}, {
    book: onBook,
    level: (l) => { setLevel(l); redraw(); },
    trade: onTrade,
    state: onState,
  });
  // Poll while it reconnects (the log fills the gap once it is back) or if it fails.
  document.body.dataset.stream = "connecting";
  market.addEventListener("open", () => {
    window.yiwangLive = true;
    document.body.dataset.stream = "live";
  });
  market.addEventListener("error", () => {
    window.yiwangLive = false;
    document.body.dataset.stream = "connecting";
  });
  document.body.addEventListener("htmx:afterSettle", (e) => {
    if (e.detail && e.detail.target && e.detail.target.id === "book") redraw();
  });

  if (cfg.private) {
    let refresh = null;
    // The trade list's answer carries "My orders" out of band: one fetch per burst.
    const mine = listen(cfg.private, { withCredentials: true }, {
      order: (o) => {
        if (o.instrument !== cfg.symbol || !window.htmx) return;
        window.clearTimeout(refresh);
        refresh = window.setTimeout(() =>
          window.htmx.ajax("GET", cfg.trades, { target: "#trades", swap: "innerHTML" }), 300);
      },
    });
    mine.addEventListener("open", () => { document.body.dataset.privateStream = "live"; });
    mine.addEventListener("error", () => { document.body.dataset.privateStream = "connecting"; });
  }
})();
