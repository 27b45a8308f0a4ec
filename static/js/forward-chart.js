/* Yiwang 一网: a profile's forward curve, one point per listed day and block at its
   delivery start, drawn with the vendored TradingView Lightweight Charts from the
   points the page embeds (decimals as strings turned into numbers only to draw them).
   Days and blocks are two series; each point's basis is in the table below it. */
(function () {
  "use strict";
  const el = document.getElementById("forward-chart");
  const source = document.getElementById("forward-data");
  if (!el || !source || !window.LightweightCharts) return;
  const LC = window.LightweightCharts;
  const chart = LC.createChart(el, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#3d4a5c", fontSize: 11 },
    grid: { vertLines: { color: "#eef1f5" }, horzLines: { color: "#eef1f5" } },
    rightPriceScale: { borderColor: "#e1e5eb" },
    timeScale: { borderColor: "#e1e5eb", timeVisible: true },
    localization: { locale: document.documentElement.lang || "en" },
  });
  const points = JSON.parse(source.textContent);
  const style = { priceFormat: { type: "price", precision: 2, minMove: 0.01 } };
  const series = {
    day: chart.addSeries(LC.LineSeries, {
      color: "#1c7ed6", lineWidth: 2, pointMarkersVisible: true, ...style,
    }),
    block: chart.addSeries(LC.LineSeries, {
      color: "#2b8a3e", lineWidth: 1, pointMarkersVisible: true, ...style,
    }),
  };
  for (const product of ["day", "block"]) {
    const rows = points
      .filter((p) => p.product === product)
      .map((p) => ({ time: p.time, value: Number(p.value) }));
    series[product].setData(rows);
  }
  el.dataset.points = String(points.length);
  chart.timeScale().fitContent();
})();
