"""The web layer: one blueprint per area, thin views over services."""


def register_blueprints(app):
    """Register every area's blueprint."""
    from phopy.web import api, auth, dashboard, google, i18n, public

    for module in (public, auth, dashboard, api, i18n, google):
        app.register_blueprint(module.bp)
