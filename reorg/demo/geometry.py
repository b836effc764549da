"""Geometry and names of the synthetic demo province, in a local kilometre plane: outline, Voronoi
cells of seeded sites, their adjacency, contiguous districts and new communes, made-up names."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon

from .design import DISTRICTS, FIRST, HALF_HEIGHT_KM, HALF_WIDTH_KM, KM_PER_DEG_LAT, KM_PER_DEG_LON, LAT0, LON0, N_OLD, SECOND


def to_lonlat(geom):
    def f(xy):
        return np.column_stack([LON0 + xy[:, 0] / KM_PER_DEG_LON, LAT0 + xy[:, 1] / KM_PER_DEG_LAT])

    return shapely.transform(geom, f)


def polygon(g) -> Polygon:
    """The single polygon of `g` (largest part when several)."""
    parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area > 0]
    return max(parts, key=lambda p: p.area)


def multi(g) -> MultiPolygon:
    parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and not p.is_empty]
    return MultiPolygon(parts)


def outline(rng: np.random.Generator) -> Polygon:
    """An irregular star-shaped outline of about 60 km x 50 km, centred on (0, 0)."""
    n = 36
    theta = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    wobble = np.zeros(n)
    for k in range(2, 6):
        wobble += rng.uniform(0.04, 0.12) / (k - 1) ** 0.5 * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    wobble += rng.uniform(-0.025, 0.025, n)
    r = 1.0 / np.sqrt((np.cos(theta) / HALF_WIDTH_KM) ** 2 + (np.sin(theta) / HALF_HEIGHT_KM) ** 2)
    r = r * (1.0 + wobble)
    poly = Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    return shapely.set_precision(poly, 1e-3)


def sites(outline: Polygon, rng: np.random.Generator) -> np.ndarray:
    """N_OLD points inside the outline, spaced wider in the west (mountain) than in the east."""
    x0, y0, x1, y1 = outline.bounds
    shapely.prepare(outline)
    scale = 1.0
    for _ in range(50):
        pts: list[tuple[float, float]] = []
        for _ in range(20000):
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if not outline.contains(shapely.Point(x, y)):
                continue
            fx = (x - x0) / (x1 - x0)
            spacing = scale * (11.0 - 6.5 * fx)  # km: ~11 in the west, ~4.5 in the east
            if all((x - a) ** 2 + (y - b) ** 2 >= spacing**2 for a, b in pts):
                pts.append((x, y))
                if len(pts) == N_OLD:
                    return np.array(pts)
        scale *= 0.95
    raise RuntimeError("could not place the demo communes")  # pragma: no cover


def cells(outline: Polygon, sites: np.ndarray) -> list[Polygon]:
    """Voronoi cells of `sites` clipped to the outline, one single polygon per site (fragments of a
    cell cut off by the outline go to the neighbour sharing the longest border)."""
    vor = shapely.voronoi_polygons(MultiPoint(sites), extend_to=outline.buffer(20.0), ordered=True)
    raw = [shapely.set_precision(shapely.intersection(c, outline), 1e-6) for c in shapely.get_parts(vor)]
    cells: list = []
    orphans: list = []
    for site, g in zip(sites, raw):
        p = shapely.Point(site)
        parts = list(shapely.get_parts(g))
        keep = next(q for q in parts if q.covers(p))
        cells.append(keep)
        orphans.extend(q for q in parts if q is not keep)
    for frag in orphans:
        j = int(np.argmax([shapely.intersection(frag.boundary, c.boundary).length for c in cells]))
        cells[j] = polygon(shapely.union(cells[j], frag, grid_size=1e-6))
    return cells


def adjacency(cells: list[Polygon]) -> list[set[int]]:
    tree = shapely.STRtree(cells)
    adj: list[set[int]] = [set() for _ in cells]
    for i, c in enumerate(cells):
        for j in tree.query(c):
            j = int(j)
            if j != i and shapely.intersection(c.boundary, cells[j].boundary).length > 1e-3:
                adj[i].add(j)
    return adj


def grow(members: list[int], adj: list[set[int]], centres: np.ndarray, seeds: list[int], targets: list[int] | None):
    """Grow groups over the adjacency graph from `seeds` until every member is assigned.

    With `targets`, the group furthest below its target grows first; otherwise the smallest.
    Each step adds the unassigned neighbour nearest to the group's seed. Returns the group of each
    member, or None when a group cannot reach its target.
    """
    allowed = set(members)
    label = {s: g for g, s in enumerate(seeds)}
    sizes = [1] * len(seeds)
    while len(label) < len(allowed):
        order = sorted(range(len(seeds)), key=lambda g: (-(targets[g] - sizes[g]) if targets else sizes[g], g))
        grown = False
        for g in order:
            if targets and sizes[g] >= targets[g]:
                continue
            cand = sorted({j for i, lab in label.items() if lab == g for j in adj[i]} & allowed - set(label))
            if not cand:
                continue
            d = [float(np.hypot(*(centres[j] - centres[seeds[g]]))) for j in cand]
            label[cand[int(np.argmin(d))]] = g
            sizes[g] += 1
            grown = True
            break
        if not grown:
            return None
    return label


def districts(cells, adj, centres, outline, rng) -> np.ndarray:
    """District index (into DISTRICTS) of each cell: contiguous groups of the designed sizes."""
    x0, y0, x1, y1 = outline.bounds
    targets = [d[4] for d in DISTRICTS]
    for attempt in range(500):
        jitter = 0.0 if attempt == 0 else 0.12
        seeds = []
        for d in DISTRICTS:
            fx, fy = d[3]
            ax = x0 + (fx + rng.uniform(-jitter, jitter)) * (x1 - x0)
            ay = y0 + (fy + rng.uniform(-jitter, jitter)) * (y1 - y0)
            order = np.argsort(np.hypot(centres[:, 0] - ax, centres[:, 1] - ay))
            seeds.append(next(int(i) for i in order if int(i) not in seeds))
        label = grow(list(range(len(cells))), adj, centres, seeds, targets)
        if label is not None:
            return np.array([label[i] for i in range(len(cells))])
    raise RuntimeError("could not draw the demo districts")  # pragma: no cover


def groups(members: list[int], k: int, adj, centres, rng) -> dict[int, int] | None:
    """Split one district's cells into k contiguous groups of 2-5 cells."""
    for _ in range(500):
        seeds = [members[int(rng.integers(len(members)))]]
        while len(seeds) < k:  # farthest point sampling
            d = [min(float(np.hypot(*(centres[m] - centres[s]))) for s in seeds) for m in members]
            seeds.append(members[int(np.argmax(d))])
        label = grow(members, adj, centres, seeds, None)
        if label is None:
            continue
        sizes = np.bincount(list(label.values()), minlength=k)
        if sizes.min() >= 2 and sizes.max() <= 4:  # 4, so the group that receives the split piece stays <= 5
            return label
    return None


def halfplane(p: np.ndarray, d: np.ndarray, size: float = 500.0) -> Polygon:
    """The half-plane {x: (x - p) . d >= 0} as a big square."""
    n = np.array([-d[1], d[0]])
    return Polygon([p + n * size, p + n * size + d * size, p - n * size + d * size, p - n * size])


# --- names ------------------------------------------------------------------------------------


def stems(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        a, b = FIRST[int(rng.integers(len(FIRST)))], SECOND[int(rng.integers(len(SECOND)))]
        stem = f"{a} {b}"
        if a != b and stem not in taken:
            taken.add(stem)
            out.append(stem)
    return out


def district_stem(name: str) -> str:
    # "Huyện Sơn Mẫu (demo)" -> "Sơn Mẫu"
    return name.replace(" (demo)", "").split(" ", 1)[1].replace("xã ", "")
