"""OpenAPI description of the map's data endpoints (drf-spectacular postprocessing hook).

/api/v1/map/halls.geojson, counties.geojson and halls/<code>/popup/ are plain Django views (they
serve pre-serialised, pre-gzipped bytes: see mapview.map_api), so drf-spectacular cannot see them.
This hook adds them to /api/schema/ as they behave, which also puts them under schemathesis.
"""

from __future__ import annotations

from typing import Any

from halls.models import HallType

ERROR = {
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object", "additionalProperties": True},
                },
            },
        },
    },
}


def _json(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": schema}}


def add_map_endpoints(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("MapError", ERROR)
    error = {"$ref": "#/components/schemas/MapError"}
    paths = result.setdefault("paths", {})
    paths["/api/v1/map/halls.geojson"] = {
        "get": {
            "operationId": "v1_map_halls_geojson",
            "summary": "Hall points with live figures (queue, bookings, ratings)",
            "tags": ["map"],
            "security": [{}],
            "parameters": [
                {
                    "in": "query",
                    "name": "bbox",
                    "schema": {"type": "string"},
                    "description": "minlon,minlat,maxlon,maxlat",
                },
                {"in": "query", "name": "type", "schema": {"type": "string", "enum": list(HallType.values)}},
                {"in": "query", "name": "item", "schema": {"type": "string"}, "description": "item code"},
            ],
            "responses": {
                "200": {"description": "GeoJSON", "content": _json(FEATURE_COLLECTION, "application/geo+json")},
                "400": {"description": "bad bbox or type", "content": _json(error)},
            },
        }
    }
    paths["/api/v1/map/counties.geojson"] = {
        "get": {
            "operationId": "v1_map_counties_geojson",
            "summary": "County boundaries with coverage and rating figures",
            "tags": ["map"],
            "security": [{}],
            "responses": {
                "200": {"description": "GeoJSON", "content": _json(FEATURE_COLLECTION, "application/geo+json")}
            },
        }
    }
    paths["/api/v1/map/halls/{code}/popup/"] = {
        "get": {
            "operationId": "v1_map_hall_popup",
            "summary": "A hall's popup: rendered HTML and its live figures",
            "tags": ["map"],
            "security": [{}],
            "parameters": [{"in": "path", "name": "code", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {
                    "description": "popup",
                    "content": _json(
                        {
                            "type": "object",
                            "required": ["code", "html"],
                            "properties": {"code": {"type": "string"}, "html": {"type": "string"}},
                            "additionalProperties": True,
                        }
                    ),
                },
                "404": {"description": "no such active hall", "content": _json(error)},
            },
        }
    }
    return result
