/* Yiwang 一网: the instrument page's price chart (candles at site prices, volume
   below), drawn with the vendored TradingView Lightweight Charts. Data comes from the
   page's candles.json endpoint; a trade from the market stream (live.js) updates the
   last candle, and while the page polls instead, the chart reloads whenever the
   polled trade list shows a new trade. Times are shifted to Asia/Shanghai, the exchange's clock, because the
   library draws Unix times as UTC. Colours follow the page's language convention
   (Chinese: red up, green down). */
(function () {
  "use strict";
  const SHANGHAI_OFFSET_S = 8 * 3600;
  const el = document.getElementById("chart");
  if (!el || !window.LightweightCharts) return;
  const LC = window.LightweightCharts;
  const css = getComputedStyle(document.documentElement);
  const up = el.dataset.up, down = el.dataset.down;
  const chart = LC.createChart(el, {
    autoSize: true,
    layout: {
      background: { color: "#ffffff" },
      textColor: "#3d4a5c",
      fontFamily: css.getPropertyValue("--font") || "system-ui",
      fontSize: 11,
    },
    grid: { vertLines: { color: "#eef1f5" }, horzLines: { color: "#eef1f5" } },
    rightPriceScale: { borderColor: "#e1e5eb", scaleMargins: { top: 0.08, bottom: 0.28 } },
    timeScale: { borderColor: "#e1e5eb", timeVisible: true, secondsVisible: false },
    localization: { locale: document.documentElement.lang || "en" },
  });
  const candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: up, downColor: down, wickUpColor: up, wickDownColor: down, borderVisible: false,
    priceFormat: { type: "price", precision: 2, minMove: 0.01 },
  });
  const volume = chart.addSeries(LC.HistogramSeries, {
    priceFormat: { type: "volume" }, priceScaleId: "", lastValueVisible: false, priceLineVisible: false,
  });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.78, bottom: 0 } });

  const STEP_S = { "1m": 60, "1h": 3600, "1d": 86400 };
  let interval = el.dataset.interval || "1m";
  let lastTrade = null;
  let bars = [];

  function load() {
    const url = el.dataset.url + "?interval=" + encodeURIComponent(interval);
    return fetch(url, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        const rows = data.candles.map((c) => ({
          time: c.time + SHANGHAI_OFFSET_S,
          open: Number(c.open), high: Number(c.high), low: Number(c.low), close: Number(c.close),
          volume: Number(c.volume),
        }));
        bars = rows;
        candles.setData(rows.map(({ volume, ...ohlc }) => ohlc));
        volume.setData(rows.map((r) => ({
          time: r.time, value: r.volume,
          color: (r.close >= r.open ? up : down) + "66",
        })));
        el.dataset.candles = String(rows.length);
        el.classList.toggle("is-empty", rows.length === 0);
        chart.timeScale().fitContent();
      })
      .catch(() => { el.dataset.candles = "error"; });
  }

  document.querySelectorAll("[data-interval-choice]").forEach((button) => {
    button.addEventListener("click", () => {
      interval = button.dataset.intervalChoice;
      document.querySelectorAll("[data-interval-choice]").forEach((b) =>
        b.setAttribute("aria-pressed", String(b === button)));
      load();
    });
  });
  function newestTrade() {
    const marker = document.querySelector("#trades [data-last-trade]");
    return marker ? marker.dataset.lastTrade : "";
  }
  document.body.addEventListener("htmx:afterSettle", (event) => {
    if (!event.detail || !event.detail.target || event.detail.target.id !== "trades") return;
    const newest = newestTrade();
    if (newest !== lastTrade) { lastTrade = newest; load(); }
  });
  // One trade from the stream: into its bucket on the Shanghai clock.
  function trade(t) {
    const step = STEP_S[interval];
    const time = Math.floor((Date.parse(t.executed_at) / 1000 + SHANGHAI_OFFSET_S) / step) * step;
    const price = Number(t.price), quantity = Number(t.quantity);
    let bar = bars[bars.length - 1];
    if (bar && bar.time === time) {
      bar.high = Math.max(bar.high, price);
      bar.low = Math.min(bar.low, price);
      bar.close = price;
      bar.volume += quantity;
    } else if (!bar || time > bar.time) {
      bar = { time, open: price, high: price, low: price, close: price, volume: quantity };
      bars.push(bar);
    } else {
      return;
    }
    const { volume: amount, ...ohlc } = bar;
    candles.update(ohlc);
    volume.update({ time, value: amount, color: (bar.close >= bar.open ? up : down) + "66" });
    el.dataset.candles = String(bars.length);
    el.classList.remove("is-empty");
  }
  window.yiwangChart = { trade };
  lastTrade = newestTrade();
  load();
})();
