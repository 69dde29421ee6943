"""The web layer: one blueprint per area, thin views over services."""


def register_blueprints(app):
    """Register every area's blueprint."""
    from phopy.web import (analytics, api, api_v1, auth, dashboard, i18n, keys, openapi, ops,
                           public)

    for module in (public, auth, dashboard, api, api_v1, openapi, keys, analytics, ops, i18n):
        app.register_blueprint(module.bp)
