/* Yiwang 一网: a profile's daily index as a line, drawn with the vendored TradingView
   Lightweight Charts from the series the page embeds (oldest first, decimals as
   strings turned into numbers only to draw them). Days are Asia/Shanghai days. */
(function () {
  "use strict";
  const el = document.getElementById("index-chart");
  const source = document.getElementById("index-data");
  if (!el || !source || !window.LightweightCharts) return;
  const LC = window.LightweightCharts;
  const chart = LC.createChart(el, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#3d4a5c", fontSize: 11 },
    grid: { vertLines: { color: "#eef1f5" }, horzLines: { color: "#eef1f5" } },
    rightPriceScale: { borderColor: "#e1e5eb" },
    timeScale: { borderColor: "#e1e5eb" },
    localization: { locale: document.documentElement.lang || "en" },
  });
  const line = chart.addSeries(LC.LineSeries, {
    color: "#1c7ed6", lineWidth: 2,
    priceFormat: { type: "price", precision: 4, minMove: 0.0001 },
  });
  const rows = JSON.parse(source.textContent).map((d) => ({ time: d.time, value: Number(d.value) }));
  line.setData(rows);
  el.dataset.points = String(rows.length);
  chart.timeScale().fitContent();
})();
