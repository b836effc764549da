"""The design of the synthetic demo province: its code and name, sizes, location, districts and
the first and second parts of its place names (everything made up)."""

from __future__ import annotations

import math

PROVINCE_CODE = "99"
PROVINCE_NAME = "Tỉnh Mẫu (demo)"
N_OLD = 40
N_NEW = 12
AREA_CRS = "EPSG:6933"
# centre of the made-up province (central Vietnam; overlapping real land is fine: it is labelled synthetic)
LON0, LAT0 = 105.8, 18.9
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(LAT0))
HALF_WIDTH_KM, HALF_HEIGHT_KM = 30.0, 25.0
MOUNTAIN_EAST_EDGE = 0.42  # share of the width, from the west, that is mountainous

MARKER = "SYNTHETIC"

# district code, name, type, anchor (share of width from west, share of height from south), communes, new communes
DISTRICTS = (
    ("990", "Thị xã Đông Mẫu (demo)", "thi_xa", (0.82, 0.30), 9, 3),
    ("991", "Huyện Sơn Mẫu (demo)", "huyen", (0.18, 0.75), 10, 3),
    ("992", "Huyện Lâm Mẫu (demo)", "huyen", (0.18, 0.25), 10, 3),
    ("993", "Huyện Bình Mẫu (demo)", "huyen", (0.68, 0.80), 11, 3),
)
N_PHUONG = 4  # wards of the thị xã
TYPE_PREFIX = {"xa": "Xã", "phuong": "Phường", "thi_tran": "Thị trấn"}

# syllables of made-up (Vietnamese-like) commune names
FIRST = (
    "Hòa",
    "An",
    "Phú",
    "Tân",
    "Thanh",
    "Xuân",
    "Hưng",
    "Vĩnh",
    "Phúc",
    "Quảng",
    "Đức",
    "Minh",
    "Nghĩa",
    "Thạch",
    "Kim",
    "Long",
    "Cẩm",
    "Hồng",
    "Lạc",
    "Diễn",
    "Trường",
    "Yên",
    "Mỹ",
    "Châu",
)
SECOND = (
    "Bình",
    "Sơn",
    "Lâm",
    "Phong",
    "Thịnh",
    "Lộc",
    "Hà",
    "Tiến",
    "Thủy",
    "Khê",
    "Hải",
    "Trung",
    "Tây",
    "Nam",
    "Bắc",
    "Lợi",
    "Thành",
    "Hợp",
    "Quang",
    "Xá",
    "Điền",
    "Liên",
    "Cường",
    "Mẫu",
)

MERGER_COLUMNS = [
    "old_commune_code",
    "old_commune_name",
    "old_district_code",
    "old_district_name",
    "old_province_code",
    "old_province_name",
    "new_commune_code",
    "new_commune_name",
    "new_province_code",
    "new_province_name",
    "partly_merged",
    "n_new_targets",
    "area_share",
    "pair_source",
    "old_predecessors_2025_01",
    "crosschecked_with_independent_mapping",
    "agrees_with_independent_mapping",
    "pair_in_independent_mapping",
    "independent_mapping_targets",
]
