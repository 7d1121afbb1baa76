"""Postprocessing of the OpenAPI schema: the errors every operation can answer, and links
from each object created to the operations on it."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """The body of an error answer, for views that name an error of their own (a 410...)."""

    detail = serializers.CharField()


ERROR = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
INVALID = {
    "type": "object",
    "description": (
        "What is wrong with the request: `detail` with a message, or each field's "
        "name with its messages."
    ),
    "additionalProperties": True,
}
REASONS = {
    "400": ("The request is malformed or invalid.", "ValidationError"),
    "401": ("No token, or one that is unknown, revoked or of a deactivated user.", "Error"),
    "403": ("The token's role does not allow this.", "Error"),
    "404": ("Not found in the token's organization.", "Error"),
    "409": ("The request conflicts with the current state of the object.", "Error"),
    "413": ("The request body is too large.", "Error"),
    "415": ("The body is not of a media type this operation takes.", "Error"),
    "429": ("Too many requests for this token; retry later.", "Error"),
}
EVERY_OPERATION = ("400", "401", "403", "404", "429")
WRITES = ("409", "413", "415")


def created_links(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular postprocessing hook: links from a 201 to the operations on what it made.

    POST /things/ answers the new thing; /things/{id}/ (or {reference}) acts on
    it. The link tells a client, and a fuzzer, where its id goes.
    """
    paths = result.get("paths", {})
    schemas = result.get("components", {}).get("schemas", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if not created:
            continue
        body = created.get("content", {}).get("application/json", {}).get("schema", {})
        fields = schemas.get(body.get("$ref", "").rsplit("/", 1)[-1], {}).get("properties", {})
        for key in ("id", "reference"):
            detail = paths.get(f"{path}{{{key}}}/")
            if key not in fields or detail is None:
                continue
            links = created.setdefault("links", {})
            for method, operation in detail.items():
                if method in ("get", "put", "patch", "delete") and "operationId" in operation:
                    links.setdefault(
                        operation["operationId"],
                        {
                            "operationId": operation["operationId"],
                            "parameters": {key: f"$response.body#/{key}"},
                        },
                    )
    return result


def error_responses(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular postprocessing hook: the error answers an operation does not name itself."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("ValidationError", INVALID)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = EVERY_OPERATION + (WRITES if method != "get" else ())
            responses = operation.setdefault("responses", {})
            for code in codes:
                description, name = REASONS[code]
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                        },
                    },
                )
    return result
