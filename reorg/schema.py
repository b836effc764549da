"""Input schemas, declared once: the loader reads these columns and the validator checks them.

Each `Column` names a field, its kind (`code` = zero-padded digit string of fixed width, `text`,
`int`, `float`, `bool`), unit and meaning. `Layer` ties columns to a file of the geodata pack
(described in ../shared/geodata/MANIFEST.md). The roster schema (CSV or Excel) is here too and is
printed in the README; its headers in each language are in the message files (`roster_header`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # code | text | int | float | bool
    unit: str = ""
    description: str = ""
    width: int | None = None  # digits, for kind == "code"
    required: bool = True
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False


@dataclass(frozen=True)
class Layer:
    key: str
    file: str
    layer: str | None  # None for CSV
    columns: tuple[Column, ...]
    key_column: str | None = None
    geometry: str | None = None  # "polygon" or None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


CRS = "EPSG:4326"
# longitude/latitude box of Vietnam, islands included (Trường Sa, Hoàng Sa, Bạch Long Vĩ)
VN_LON = (102.0, 117.5)
VN_LAT = (7.5, 23.5)
LONLAT_PAIRS = (("lon", "lat"), ("admin_lon", "admin_lat"))

COMMUNES_BEFORE = Layer(
    key="communes_before",
    file="vn_communes_before_2025-07.gpkg",
    layer="communes_before",
    key_column="commune_code",
    geometry="polygon",
    columns=(
        Column("commune_code", "code", width=5, description="GSO commune code of 30 June 2025"),
        Column("commune_name", "text", description="official name with type prefix"),
        Column("commune_type", "text", description="xa / phuong / thi_tran"),
        Column("district_code", "code", width=3, description="old district"),
        Column("district_name", "text"),
        Column("district_type", "text", description="quan / huyen / thi_xa / thanh_pho"),
        Column("province_code", "code", width=2, description="old province (63)"),
        Column("province_name", "text"),
        Column("new_province_code", "code", width=2, description="province of 1 July 2025"),
        Column("pop_2019", "int", "persons", "2019 census rolled forward", minimum=0),
        Column("area_km2", "float", "km²", "polygon area, EPSG:6933", minimum=0, nullable=True),
        Column("lon", "float", "degrees", "point for every unit (inside Vietnam)"),
        Column("lat", "float", "degrees", "point for every unit (inside Vietnam)"),
    ),
)

COMMUNES_AFTER = Layer(
    key="communes_after",
    file="vn_communes_after_2025-07.gpkg",
    layer="communes_after",
    key_column="commune_code",
    geometry="polygon",
    columns=(
        Column("commune_code", "code", width=5, description="GSO commune code of 1 July 2025"),
        Column("commune_name", "text"),
        Column("commune_type", "text", description="xa / phuong / dac_khu"),
        Column("province_code", "code", width=2),
        Column("province_name", "text"),
        Column("pop_2019", "int", "persons", minimum=0),
        Column("area_km2", "float", "km²", minimum=0),
        Column("n_old_communes", "int", minimum=0),
        Column("admin_lon", "float", "degrees", "point of the unit (inside Vietnam)"),
        Column("admin_lat", "float", "degrees", "point of the unit (inside Vietnam)"),
    ),
)

DISTRICTS_BEFORE = Layer(
    key="districts_before",
    file="vn_districts_before_2025-07.gpkg",
    layer="districts_before",
    key_column="district_code",
    geometry="polygon",
    columns=(
        Column("province_code", "code", width=2),
        Column("district_code", "code", width=3),
        Column("district_name", "text"),
        Column("district_type", "text"),
        Column("pop_2019", "int", "persons", minimum=0),
    ),
)

PROVINCES_AFTER = Layer(
    key="provinces_after",
    file="vn_provinces_after_2025-07.gpkg",
    layer="provinces_after",
    key_column="province_code",
    geometry="polygon",
    columns=(
        Column("province_code", "code", width=2),
        Column("province_name", "text"),
        Column("n_communes", "int", minimum=0),
    ),
)

MERGER = Layer(
    key="merger",
    file="vn_commune_merger_2025.csv",
    layer=None,
    columns=(
        Column("old_commune_code", "code", width=5),
        Column("old_district_code", "code", width=3),
        Column("new_commune_code", "code", width=5),
        Column("new_province_code", "code", width=2),
        Column("partly_merged", "bool"),
        Column("n_new_targets", "int", minimum=1),
        Column("area_share", "float", "share", "share of the old polygon in this target", minimum=0, maximum=1, nullable=True),
    ),
)

PACK_LAYERS = (COMMUNES_BEFORE, COMMUNES_AFTER, DISTRICTS_BEFORE, PROVINCES_AFTER, MERGER)
#: the tables a province run reads (validate.pack); a national run also reads PROVINCES_AFTER
PROVINCE_LAYERS = (COMMUNES_BEFORE, COMMUNES_AFTER, DISTRICTS_BEFORE, MERGER)

CADRES = ("doctor", "assistant_doctor", "nurse", "midwife", "pharmacist", "other")

ROSTER = Layer(
    key="roster",
    file="roster.csv",
    layer=None,
    key_column="station_code",
    columns=(
        Column("station_code", "code", width=5, description="the station's old commune code (GSO, 30 June 2025)"),
        Column("station_name", "text", "-", "the station's name (optional, for reference)", required=False),
        Column("lon", "float", "degrees", "station longitude (WGS 84, inside Vietnam)"),
        Column("lat", "float", "degrees", "station latitude (WGS 84, inside Vietnam)"),
        Column("facility_score", "float", "0..1", "condition of building and equipment, 1 = best", minimum=0, maximum=1),
        *(Column(c, "int", "persons", f"{c.replace('_', ' ')}s on the payroll", minimum=0) for c in CADRES),
        Column("region", "text", "-", "staffing region I, II or III (optional; derived when absent)", required=False),
    ),
)
