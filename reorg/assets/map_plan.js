/* The plan's map (plan/map.html): the stations coloured by their gap in the year chosen in the
 * banner's selector; each station's popup is that year's. Runs after map_base.js. Popups were
 * built by reorg with every name escaped; the legend's counts and heading are set as text. */
/* global reorgData, reorgBuildMap, reorgTooltip, reorgPopupOptions */
(function () {
    var data = reorgData();
    var built = reorgBuildMap(data.map);
    built.map.fitBounds(data.map.bounds, {paddingTopLeft: [10, 90], paddingBottomRight: [10, 10]});
    built.layers.stations.eachLayer(function (layer) {
        var p = layer.feature.properties;
        reorgTooltip(layer, p.name);
        layer.bindPopup(p.popups[0], reorgPopupOptions());
    });
    var select = document.getElementById('reorg-plan-year');
    function show(t) {
        built.layers.stations.eachLayer(function (layer) {
            var p = layer.feature.properties;
            layer.setStyle({fillColor: data.colours[p.classes[t]]});
            layer.setPopupContent(p.popups[t]);
        });
        data.counts[t].forEach(function (n, k) {
            document.getElementById('reorg-plan-n' + k).textContent = String(n);
        });
        document.getElementById('reorg-plan-head').textContent = data.heads[t];
    }
    select.addEventListener('change', function () { show(Number(select.value)); });
    show(Number(select.value));
    window.reorgApp = {map: built.map, layers: built.layers, show: show};
    document.body.setAttribute('data-reorg-drawn', '1');
})();
