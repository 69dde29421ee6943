"""The web layer: one blueprint per area, thin views over services.

``json_api`` is the original system's JSON API (selfie search, indexing
progress); ``rest_api`` is the keyed REST API (v1) described at /api/openapi.json.
"""


def register_blueprints(app):
    """Register every area's blueprint (the channels register their own: ``phopy.line``,
    ``phopy.google``)."""
    from phopy.web import (account, analytics, answers, auth, dashboard, event_options, i18n,
                           json_api, keys, openapi, ops, public, rest_api)

    for module in (public, answers, auth, dashboard, event_options, json_api, rest_api, openapi,
                   keys, account, analytics, ops, i18n):
        app.register_blueprint(module.bp)
