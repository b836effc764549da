/* The province map (map.html): the map after the reform, the map before it (built on first use),
 * both side by side with synchronised pan and zoom, and a search of communes by name.
 * Runs after map_base.js; its data and words come from the page's JSON (reorg/render.py). */
/* global L, reorgData, reorgBuildMap, reorgPopupOptions, reorgTooltip */
(function () {
    var data = reorgData();
    var built = reorgBuildMap(data.map);
    var after = built.map;
    // not animated: a zoom animation still running when the page reports itself drawn would undo
    // the first search's zoom (Leaflet ends an animation by moving to the animation's target);
    // on a wide screen the province opens clear of the legend (bottom left, about 320 px wide)
    after.fitBounds(data.map.bounds, {paddingTopLeft: [window.innerWidth >= 1100 ? 330 : 10, 80],
                                      paddingBottomRight: [10, 10], animate: false});
    var cfg = data.app;
    var T = cfg.text;
    var layers = {newc: built.layers.new, oldc: built.layers.old, main: built.layers.main, point: built.layers.point,
                  closed: built.layers.closed, centres: built.layers.centres};
    var popupOpts = reorgPopupOptions();
    L.DomUtil.addClass(after.getContainer(), 'reorg-after-map');
    document.body.classList.add('reorg-view-after');

    function featuresOf(group) {
        var out = [];
        group.eachLayer(function (l) { if (l.feature) { out.push(l.feature); } });
        return out;
    }
    function viewLabel(map, text) {
        var c = L.control({position: 'bottomright'});
        c.onAdd = function () { var d = L.DomUtil.create('div', 'reorg-view-label'); d.textContent = text; return d; };
        c.addTo(map);
    }
    viewLabel(after, T.label_after);

    // ---- the map before the reform: built from the after map's features on first use
    var before = null, beforeLayers = null, beforeByCode = {};
    function buildBefore(center, zoom) {
        before = L.map('reorg-before-map', {zoomSnap: 0.25, zoomDelta: 0.5, center: center, zoom: zoom});
        before.createPane('reorgCommunes').style.zIndex = 401;
        before.createPane('reorgOutlines').style.zIndex = 402;
        before.createPane('reorgLines').style.zIndex = 403;
        before.createPane('reorgStations').style.zIndex = 404;
        before.attributionControl.setPrefix(false);
        before.attributionControl.addAttribution(cfg.attribution);
        L.control.scale({imperial: false, position: 'bottomright'}).addTo(before);
        viewLabel(before, T.label_before);
        var communes = L.geoJSON(featuresOf(layers.oldc), {
            pane: 'reorgCommunes',
            style: function (f) {
                return {fillColor: f.properties.fillBefore, fillOpacity: 0.78, color: '#525252', weight: 0.8, opacity: 0.9};
            },
            onEachFeature: function (f, l) {
                var p = f.properties;
                l.bindPopup(p.popupBefore, popupOpts);
                reorgTooltip(l, p.name);
                l.reorgCode = p.code;
                beforeByCode[p.code] = l;
            }
        });
        var st = featuresOf(layers.main).concat(featuresOf(layers.point), featuresOf(layers.closed))
            .filter(function (f) { return !f.properties.newSite; })
            .sort(function (a, b) { return a.properties.code < b.properties.code ? -1 : (a.properties.code > b.properties.code ? 1 : 0); });
        var stations = L.geoJSON(st, {
            pointToLayer: function (f, latlng) {
                return L.circleMarker(latlng, {pane: 'reorgStations', radius: 4.5, color: '#ffffff', weight: 1.2, opacity: 1,
                    fillColor: cfg.beforeStationColour, fillOpacity: 1,
                    className: 'reorg-before-st reorg-before-st-' + f.properties.code});
            },
            onEachFeature: function (f, l) {
                l.bindPopup(f.properties.popup, popupOpts);
                reorgTooltip(l, f.properties.name);
            }
        });
        var centres = L.geoJSON(featuresOf(layers.centres), {
            pointToLayer: function (f, latlng) {
                return L.marker(latlng, {keyboard: false, title: f.properties.name, icon: L.divIcon({
                    className: 'reorg-centre reorg-dcentre reorg-dc-' + f.properties.code, html: '<div></div>',
                    iconSize: [19, 19], iconAnchor: [9.5, 9.5], popupAnchor: [0, -9.5]})});
            },
            onEachFeature: function (f, l) { l.bindPopup(f.properties.popupBefore, popupOpts); }
        });
        beforeLayers = {communes: communes, stations: stations, centres: centres};
        var overlays = {};
        overlays[cfg.beforeLayerNames[0]] = communes;
        overlays[cfg.beforeLayerNames[1]] = stations;
        overlays[cfg.beforeLayerNames[2]] = centres;
        communes.addTo(before); stations.addTo(before); centres.addTo(before);
        L.control.layers(null, overlays, {collapsed: false, position: 'topleft'}).addTo(before);
        before.on('move zoomend', function () { follow(before, after); });
    }

    // ---- synchronised views
    var view = 'after', syncing = false;
    function follow(src, dst) {
        if (syncing || view !== 'compare' || !dst) { return; }
        syncing = true;
        dst.setView(src.getCenter(), src.getZoom(), {animate: false});
        syncing = false;
    }
    after.on('move zoomend', function () { follow(after, before); });

    var buttons = Array.prototype.slice.call(document.querySelectorAll('.reorg-view-btn'));
    function setView(v) {
        if (v === view || ['after', 'before', 'compare'].indexOf(v) < 0) { return; }
        var src = view === 'before' ? before : after;
        var bounds = src.getBounds(), center = src.getCenter(), zoom = src.getZoom();
        document.body.classList.remove('reorg-view-' + view);
        document.body.classList.add('reorg-view-' + v);
        if (v === 'compare') {  // the two maps sit below the banner
            var banner = document.getElementById('reorg-banner');
            document.body.style.setProperty('--reorg-top', Math.ceil(banner.getBoundingClientRect().bottom + 6) + 'px');
        }
        view = v;
        buttons.forEach(function (b) { b.setAttribute('aria-pressed', b.getAttribute('data-view') === v ? 'true' : 'false'); });
        syncing = true;
        if (v !== 'after' && !before) { buildBefore(center, zoom); }
        if (v === 'after') {
            after.invalidateSize({pan: false});
            after.setView(center, zoom, {animate: false});
        } else if (v === 'before') {
            before.invalidateSize({pan: false});
            before.setView(center, zoom, {animate: false});
        } else {
            after.invalidateSize({pan: false});
            before.invalidateSize({pan: false});
            after.fitBounds(bounds, {animate: false});
            before.setView(after.getCenter(), after.getZoom(), {animate: false});
        }
        syncing = false;
    }
    buttons.forEach(function (b) {
        b.addEventListener('click', function () { setView(b.getAttribute('data-view')); });
    });

    // ---- search by commune name, accent-insensitive
    function fold(s) {
        return String(s || '').replace(/[\u0111\u0110]/g, 'd').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
            .toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
    }
    var PREFIX = /^(xa|phuong|thi tran|dac khu) /;
    var index = [];
    function addItems(group, kind) {
        group.eachLayer(function (l) {
            var p = l.feature && l.feature.properties;
            if (!p || !p.name) { return; }
            var full = fold(p.name);
            index.push({kind: kind, code: p.code, name: p.name, sub: p.newName || '', full: full,
                        bare: full.replace(PREFIX, ''), layer: l, feature: l.feature});
        });
    }
    addItems(layers.newc, 'new');
    addItems(layers.oldc, 'old');
    function search(q) {
        q = fold(q);
        if (!q) { return []; }
        var hits = [];
        index.forEach(function (it) {
            var s;
            if (it.code === q || it.bare === q || it.full === q) { s = 0; }
            else if (it.bare.indexOf(q) === 0 || it.full.indexOf(q) === 0) { s = 1; }
            else if ((' ' + it.full).indexOf(' ' + q) >= 0) { s = 2; }
            else if (it.full.indexOf(q) >= 0) { s = 3; }
            else { return; }
            hits.push({s: s, k: it.kind === 'new' ? 0 : 1, it: it});
        });
        hits.sort(function (a, b) {
            return (a.s - b.s) || (a.k - b.k) || (a.it.bare < b.it.bare ? -1 : (a.it.bare > b.it.bare ? 1 : 0))
                || (a.it.code < b.it.code ? -1 : (a.it.code > b.it.code ? 1 : 0));
        });
        return hits.slice(0, 12).map(function (h) { return h.it; });
    }
    var highlight = null;
    function clearHighlight() { if (highlight) { highlight.remove(); highlight = null; } }
    function show(it) {
        var m0 = view === 'before' ? before : after;
        if (m0 && m0._animatingZoom) { m0.once('zoomend', function () { show(it); }); return; }
        var toBefore = view === 'before' || (view === 'compare' && it.kind === 'old');
        var map = toBefore ? before : after;
        var p = it.feature.properties;
        var at = p.lab ? L.latLng(p.lab[0], p.lab[1]) : it.layer.getBounds().getCenter();
        map.closePopup();
        clearHighlight();
        map.fitBounds(it.layer.getBounds(), {maxZoom: 12, paddingTopLeft: [40, 150], paddingBottomRight: [40, 40], animate: false});
        highlight = L.geoJSON(it.feature, {pane: 'reorgLines', interactive: false,
            style: function () { return {color: '#00a6d6', weight: 4, opacity: 1, fill: false, className: 'reorg-highlight'}; }}).addTo(map);
        var target = null, content;
        if (it.kind === 'new') {
            content = p.popup;
            if (!toBefore && after.hasLayer(layers.newc)) { target = it.layer; }
        } else {
            content = p.popupBefore;
            if (toBefore && beforeByCode[it.code] && before.hasLayer(beforeLayers.communes)) { target = beforeByCode[it.code]; }
        }
        if (target) { target.openPopup(at); } else { L.popup(popupOpts).setLatLng(at).setContent(content).openOn(map); }
        map.once('popupclose', clearHighlight);
    }
    var Search = L.Control.extend({
        options: {position: 'topleft'},
        onAdd: function () {
            var div = L.DomUtil.create('div', 'reorg-search leaflet-bar');
            div.id = 'reorg-search';
            var input = L.DomUtil.create('input', 'reorg-search-input', div);
            input.type = 'search';
            input.placeholder = T.search_placeholder;
            input.setAttribute('aria-label', T.search_label);
            input.autocomplete = 'off';
            input.spellcheck = false;
            var list = L.DomUtil.create('ul', 'reorg-search-results', div);
            list.setAttribute('role', 'listbox');
            var items = [], active = -1, picked = false;
            function render() {
                list.innerHTML = '';
                items.forEach(function (it, k) {
                    var li = L.DomUtil.create('li', 'reorg-search-item' + (k === active ? ' active' : ''), list);
                    li.setAttribute('role', 'option');
                    li.setAttribute('data-code', it.code);
                    li.setAttribute('data-kind', it.kind);
                    var b = L.DomUtil.create('b', '', li);
                    b.textContent = it.name;
                    var sm = L.DomUtil.create('small', '', li);
                    sm.textContent = it.kind === 'new' ? T.search_new + ' ' + it.code
                        : T.search_old + ' ' + it.code + (it.sub ? ' → ' + it.sub : '');
                    li.addEventListener('mousedown', function (e) { e.preventDefault(); pick(k); });
                });
                if (!items.length && input.value.trim() && !picked) {
                    L.DomUtil.create('li', 'reorg-search-none', list).textContent = T.search_none;
                }
            }
            function pick(k) {
                var it = items[k];
                if (!it) { return; }
                input.value = it.name;
                items = []; active = -1; picked = true; render();
                input.blur();
                show(it);
            }
            input.addEventListener('input', function () { picked = false; items = search(input.value); active = items.length ? 0 : -1; render(); });
            input.addEventListener('keydown', function (e) {
                if (e.key === 'ArrowDown') { active = Math.min(items.length - 1, active + 1); render(); e.preventDefault(); }
                else if (e.key === 'ArrowUp') { active = Math.max(0, active - 1); render(); e.preventDefault(); }
                else if (e.key === 'Enter') { pick(active < 0 ? 0 : active); e.preventDefault(); }
                else if (e.key === 'Escape') { input.value = ''; items = []; active = -1; render(); }
            });
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        }
    });
    new Search().addTo(after);

    window.reorgApp = {after: after, before: function () { return before; }, view: function () { return view; },
                       setView: setView, search: search, show: show, fold: fold};
    requestAnimationFrame(function () {
        requestAnimationFrame(function () {
            window.reorgDrawn = performance.now();
            document.body.setAttribute('data-reorg-drawn', '1');
        });
    });
})();
