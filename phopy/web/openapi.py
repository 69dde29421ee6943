"""The OpenAPI document, built by apispec from the API views, and a page to read it.

apispec was chosen over flask-smorest because the API views already validate
through the services and return plain dicts: apispec only needs each view's
docstring (YAML after ``---``) and the URL map, with no second schema layer.
Path parameters come from the URL rules themselves, and a view without YAML
still gets an operation from its first docstring line, so no /api route is
left out of the document.

The answers every route of a kind can give are added from the route itself,
so no docstring has to remember them: 401 where the blueprint reads API keys
(a stale ``Authorization`` header is refused even on public calls) or the
operation needs a caller; 400 where a state-changing call may be refused for
its CSRF token; 413 for a body over the size limit; 404 for a path with
parameters; 429 for a rate-limited view.
"""
import re

from apispec import APISpec
from apispec import yaml_utils
from flask import Blueprint, current_app, jsonify, render_template
from flask_limiter.util import get_qualified_name

bp = Blueprint("openapi", __name__, url_prefix="/api")
_PARAM = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_TYPES = {"int": "integer", "float": "number"}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
WITH_BODY = ("post", "put", "patch")
ERROR_REF = {"$ref": "#/components/responses/Error"}

ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
EVENT = {"type": "object", "properties": {
    "id": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"},
    "event_date": {"type": "string", "nullable": True},
    "location": {"type": "string", "nullable": True},
    "description": {"type": "string", "nullable": True},
    "is_listed": {"type": "boolean"}, "auto_index": {"type": "boolean"},
    "created_at": {"type": "string"}, "photo_count": {"type": "integer"},
    "scanned_count": {"type": "integer"}, "face_count": {"type": "integer"},
    "error_count": {"type": "integer"}, "public_url": {"type": "string"}}}
EVENT_INPUT = {"type": "object", "additionalProperties": False, "properties": {
    "name": {"type": "string", "minLength": 3, "maxLength": 100},
    "event_date": {"type": "string", "format": "date", "nullable": True},
    "location": {"type": "string", "nullable": True},
    "description": {"type": "string", "nullable": True},
    "is_listed": {"type": "boolean"}, "auto_index": {"type": "boolean"}}}
PHOTO = {"type": "object", "properties": {
    "id": {"type": "integer"}, "filename": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "indexed", "no_faces", "error"]},
    "face_count": {"type": "integer"}, "error": {"type": "string", "nullable": True},
    "width": {"type": "integer", "nullable": True},
    "height": {"type": "integer", "nullable": True},
    "size_bytes": {"type": "integer"}, "created_at": {"type": "string"},
    "thumbnail_url": {"type": "string"}, "download_url": {"type": "string"}}}
TASK = {"type": "object", "properties": {
    "id": {"type": "string"}, "event_id": {"type": "string"},
    "status": {"type": "string", "enum": ["pending", "running", "completed", "failed"]},
    "progress": {"type": "integer"}, "total": {"type": "integer"},
    "progress_percent": {"type": "number"}, "faces_found": {"type": "integer"},
    "eta_seconds": {"type": "number", "nullable": True},
    "error": {"type": "string", "nullable": True}, "resumable": {"type": "boolean"}}}
UPLOAD = {"type": "object", "properties": {
    "added": {"type": "integer"}, "duplicates": {"type": "integer"},
    "photo_ids": {"type": "array", "items": {"type": "integer"}},
    "rejected": {"type": "array", "items": {"type": "object"}},
    "task": {"allOf": [{"$ref": "#/components/schemas/Task"}], "nullable": True},
    "error": {"type": "string", "nullable": True}, "message": {"type": "string"}}}
SEARCH = {"type": "object", "properties": {
    "event_id": {"type": "string"},
    "photos": {"type": "array", "items": {"type": "object", "properties": {
        "photo_id": {"type": "integer"}, "filename": {"type": "string"},
        "distance": {"type": "number", "nullable": True}, "thumbnail_url": {"type": "string"},
        "download_url": {"type": "string"},
        "found_by": {"type": "string", "enum": ["face", "bib", "both"]}}}},
    "faces_in_selfies": {"type": "array", "items": {"type": "integer"}},
    "indexed_photos": {"type": "integer"}, "total_photos": {"type": "integer"},
    "indexing_complete": {"type": "boolean"}, "notices": {"type": "array",
                                                          "items": {"type": "object"}}}}


def _page_of(ref):
    return {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}},
        "page": {"type": "integer"}, "per_page": {"type": "integer"},
        "total": {"type": "integer"}, "pages": {"type": "integer"}}}


def _base_spec():
    spec = APISpec(title="Phopy API", version="1.0.0", openapi_version="3.0.3",
                   info={"description": "Events, photos and face search. Send an API key "
                                        "made on the dashboard as `Authorization: Bearer "
                                        "<key>`. Errors are `{error, message}`."})
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("cookieAuth", {"type": "apiKey", "in": "cookie",
                                                   "name": "session"})
    for name, schema in (("Error", ERROR), ("Event", EVENT), ("EventInput", EVENT_INPUT),
                         ("Photo", PHOTO), ("Task", TASK), ("UploadResult", UPLOAD),
                         ("SearchResult", SEARCH), ("EventPage", _page_of("Event")),
                         ("PhotoPage", _page_of("Photo"))):
        spec.components.schema(name, schema)
    spec.components.response("Error", {"description": "An error",
                                       "content": {"application/json": {
                                           "schema": {"$ref": "#/components/schemas/Error"}}}})
    for name, maximum in (("page", 10 ** 9), ("per_page", 100)):
        spec.components.parameter(name, "query", {"schema": {"type": "integer", "minimum": 1,
                                                             "maximum": maximum},
                                                  "required": False})
    return spec


def _operations(app, rule, view):
    """The rule's operations: the view's YAML, else one from its docstring's first line,
    with the answers every route of its kind can give."""
    documented = yaml_utils.load_operations_from_docstring(view.__doc__ or "")
    summary = (view.__doc__ or rule.endpoint).strip().splitlines()[0]
    operations = {}
    for method in sorted(m.lower() for m in rule.methods if m.lower() in HTTP_METHODS):
        operation = dict(documented.get(method) or {
            "responses": {"200": {"description": "OK"},
                          "default": {"$ref": "#/components/responses/Error"}}})
        operation.setdefault("summary", summary)
        operation.setdefault("operationId", f"{rule.endpoint}.{method}")
        responses = dict(operation.get("responses") or {})
        for status in _answers_of_kind(app, rule, view, method, operation):
            responses.setdefault(status, ERROR_REF)
        operation["responses"] = dict(sorted(responses.items()))
        operations[method] = operation
    return operations


def _answers_of_kind(app, rule, view, method, operation):
    """Statuses that follow from the route's blueprint, decorators and method."""
    from phopy.web.apiauth import authenticate
    from phopy.web.security import csrf, limiter
    statuses = set()
    blueprint = rule.endpoint.rpartition(".")[0]
    security = operation.get("security") or []
    if authenticate in app.before_request_funcs.get(blueprint, ()) \
            or any(requirement for requirement in security):
        statuses.add("401")
    if method in WITH_BODY or method == "delete":
        exempt = app.blueprints.get(blueprint) in csrf._exempt_blueprints \
            or f"{view.__module__}.{view.__name__}" in csrf._exempt_views
        if not exempt or any("cookieAuth" in requirement for requirement in security):
            statuses.add("400")
    if method in WITH_BODY:
        statuses.add("413")
    if rule.arguments:
        statuses.add("404")
    manager = limiter.limit_manager
    if manager.decorated_limits(get_qualified_name(view)) or manager.default_limits \
            or manager.application_limits or (blueprint and manager.blueprint_limits(
                app, blueprint)):
        statuses.add("429")
    return statuses


def build_spec(app):
    """The OpenAPI 3 document (a dict) of every route under /api."""
    spec = _base_spec()
    paths = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        path = _PARAM.sub(lambda m: "{" + m.group("name") + "}", rule.rule)
        entry = paths.setdefault(path, {"operations": {}, "parameters": [
            {"name": m.group("name"), "in": "path", "required": True,
             "schema": {"type": _TYPES.get(m.group("conv"), "string")}}
            for m in _PARAM.finditer(rule.rule)]})
        entry["operations"].update(_operations(app, rule,
                                               app.view_functions[rule.endpoint]))
    for path, entry in paths.items():
        spec.path(path=path, operations=entry["operations"], parameters=entry["parameters"])
    return spec.to_dict()


def _spec():
    cached = current_app.extensions.get("phopy_openapi")
    if cached is None:
        cached = current_app.extensions["phopy_openapi"] = build_spec(current_app)
    return cached


@bp.route("/openapi.json")
def openapi_json():
    """This OpenAPI document."""
    return jsonify(_spec())


@bp.route("/docs")
def docs():
    """A readable page of the OpenAPI document."""
    return render_template("api/docs.html", spec=_spec())
