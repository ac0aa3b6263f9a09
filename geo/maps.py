"""Maps of grid nodes: GeoJSON feature collections for the web console and PNG choropleths (matplotlib).
Frames in, bytes or dicts out."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import matplotlib
import shapely

matplotlib.use("Agg")  # no display on servers

import matplotlib.pyplot as plt
from matplotlib import font_manager

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Source Han Sans SC",
)


def feature_collection(
    geometries: Sequence[Mapping[str, Any] | None], properties: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection; features without a geometry keep their properties with a null geometry."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": geometry, "properties": dict(props)}
            for geometry, props in zip(geometries, properties, strict=True)
        ],
    }


def cjk_font() -> str | None:
    """A font that can draw Chinese names, when the machine has one."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def choropleth_png(
    geometries: Sequence[Mapping[str, Any] | None],
    values: Sequence[float],
    labels: Sequence[str],
    title: str,
    *,
    fallback_labels: Sequence[str] | None = None,
    fallback_title: str | None = None,
    width_px: int = 1000,
) -> bytes:
    """A PNG map shading each polygon by its value, labelled at its representative point.

    Chinese labels need a CJK font; without one the fallback labels (codes) and an ASCII title are used so
    the picture never shows empty boxes.
    """
    font = cjk_font()
    if font is None:
        labels = fallback_labels if fallback_labels is not None else labels
        title = fallback_title if fallback_title is not None else title
    shapes = [shapely.geometry.shape(g) if g else None for g in geometries]
    frame = gpd.GeoDataFrame({"value": list(values), "label": list(labels)}, geometry=shapes, crs="EPSG:4326")
    frame = frame[frame.geometry.notna()]
    dpi = 100
    fig, ax = plt.subplots(figsize=(width_px / dpi, width_px / dpi * 0.8), dpi=dpi)
    try:
        if font:
            plt.rcParams["font.family"] = font
        if len(frame):
            frame.plot(column="value", ax=ax, cmap="YlGn", edgecolor="#555555", linewidth=0.4, legend=True)
            if len(frame) <= 60:
                for point, label in zip(frame.geometry.representative_point(), frame["label"], strict=True):
                    ax.annotate(str(label), xy=(point.x, point.y), ha="center", fontsize=7)
        ax.set_title(title)
        ax.set_axis_off()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(fig)
