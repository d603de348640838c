import json

import pytest

from wastelink.core.geometry import GeometryError, area_hectares, generated_boundary, parse_area_geojson


def test_generated_boundary_is_a_valid_polygon_around_the_centre():
    poly = parse_area_geojson(generated_boundary(12.6787, 101.1318, 1500, seed=3))
    assert poly.contains(poly.centroid)
    assert 200 < area_hectares(poly) < 800  # about π·1.3 km² give or take the wobble


def test_feature_collection_with_one_feature_is_accepted():
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
                                                     "geometry": generated_boundary(13.0, 101.0, 500)}]}  # fmt: skip
    assert parse_area_geojson(json.dumps(fc)).geom_type == "Polygon"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("{not json", "not valid JSON"),
        ([], "GeoJSON object"),
        ({"type": "Point", "coordinates": [101, 13]}, "Polygon or MultiPolygon"),
        ({"type": "Polygon", "coordinates": [[[101, 13], [101.01, 13]]]}, "malformed"),
        ({"type": "Polygon", "coordinates": "nonsense"}, "malformed"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[101, 13], [101.01, 13.01], [101.01, 13], [101, 13.01], [101, 13]]],
            },
            "not a valid",
        ),
        (
            {"type": "Polygon", "coordinates": [[[13, 101], [13.01, 101], [13.01, 101.01], [13, 101]]]},
            "outside Thailand",
        ),
        ({"type": "FeatureCollection", "features": []}, "exactly one"),
    ],
)
def test_bad_geojson_is_refused_with_a_reason(data, reason):
    with pytest.raises(GeometryError, match=reason):
        parse_area_geojson(data)
