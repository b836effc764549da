/* The national index map (index.html): the provinces coloured by an indicator, each popup linking
 * the province's own map. Runs after map_base.js. */
/* global L, reorgData, reorgBuildMap */
(function () {
    var data = reorgData();
    var built = reorgBuildMap(data.map);
    built.map.fitBounds(data.map.bounds, {paddingTopLeft: [10, 80], paddingBottomRight: [10, 10]});
    window.reorgApp = {map: built.map, layers: built.layers};
})();
