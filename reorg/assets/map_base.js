/* reorg's offline Leaflet pages (map.html, the national index.html): what every page shares.
 * Inlined by reorg/leaflet.py after Leaflet and before the page's own script. The page's data is
 * the JSON of the element #reorg-data (type application/json): text from input files arrives as
 * data and is only ever shown as text (tooltips, search results) or inside popups that reorg built
 * with every such text escaped. */
/* global L */
/* exported reorgData, reorgBuildMap, reorgTooltip */
var reorgStationPopups = {};
/** A tooltip showing `text` as text (names come from input files: never read as HTML). */
function reorgTooltip(layer, text) {
    var span = document.createElement('span');
    span.textContent = text;
    layer.bindTooltip(span, {sticky: true, direction: 'top', opacity: 0.9});
}
function reorgPopupOptions() {
    return {maxWidth: 440, autoPanPaddingTopLeft: [60, 170], autoPanPaddingBottomRight: [20, 30]};
}
function reorgPointToLayer(feature, latlng) {
    var p = feature.properties;
    if (p.icon) {
        return L.marker(latlng, {pane: p.pane || 'markerPane', keyboard: false, title: p.name,
            icon: L.divIcon({className: p.icon.className, html: p.icon.html,
                             iconSize: p.icon.size, iconAnchor: [p.icon.size[0] / 2, p.icon.size[1] / 2],
                             popupAnchor: [0, -p.icon.size[1] / 2]})});
    }
    return L.circleMarker(latlng, p.style);
}
function reorgOnEachFeature(feature, layer) {
    var p = feature.properties;
    if (p.popup) {
        layer.bindPopup(p.popup, reorgPopupOptions());
        if (p.role) { reorgStationPopups[p.code] = p.popup; }
    } else if (p.popupOf) {
        // the same popup as the station's own marker, looked up when opened (one copy in the file)
        layer.bindPopup(function () { return reorgStationPopups[p.popupOf] || ''; }, reorgPopupOptions());
    }
    if (p.name && !p.icon) { reorgTooltip(layer, p.name); }
    if (p.code) { layer.reorgCode = p.code; }
}

/** The page's data (see reorg/leaflet.py: offline_page). */
function reorgData() {
    return JSON.parse(document.getElementById('reorg-data').textContent);
}

/**
 * The map of a page in the element #reorg-map, from `cfg` = {center, zoom, attribution, panes:
 * [[name, zIndex]...], layers: [{key, name, data, pane, interactive, points, popups, show}...]}.
 * Every layer is listed in one layer control (top right); a layer with show = false starts off.
 * Each feature's style is its properties.style. Returns {map: the L.Map, layers: {key: layer}}.
 */
function reorgBuildMap(cfg) {
    var map = L.map('reorg-map', {center: cfg.center, crs: L.CRS.EPSG3857, zoom: cfg.zoom, zoomControl: true,
                                  preferCanvas: false, zoomSnap: 0.25, zoomDelta: 0.5});
    // panes keep the stacking order when layers are toggled (Leaflet re-adds a layer on top)
    (cfg.panes || []).forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    L.control.scale({imperial: false, position: 'bottomright'}).addTo(map);
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution(cfg.attribution);
    var layers = {}, overlays = {};
    cfg.layers.forEach(function (spec) {
        var options = {style: function (feature) { return feature.properties.style; }};
        if (spec.pane) { options.pane = spec.pane; }
        if (spec.interactive === false) { options.interactive = false; }
        if (spec.points) { options.pointToLayer = reorgPointToLayer; }
        if (spec.popups) { options.onEachFeature = reorgOnEachFeature; }
        var layer = L.geoJSON(spec.data, options);
        if (spec.show !== false) { layer.addTo(map); }
        layers[spec.key] = layer;
        overlays[spec.name] = layer;
    });
    L.control.layers({}, overlays, {position: 'topright', collapsed: false, autoZIndex: true}).addTo(map);
    return {map: map, layers: layers};
}
