"""Thai and English: Flask-Babel, chosen by cookie, else Accept-Language.

Catalogs live in ``translations/<lang>/LC_MESSAGES/messages.po`` with their
compiled ``.mo`` next to them (see ``babel.cfg``). ``translate`` shows a domain
message (a plain string or a ``phopy.errors.Message``) in the user's language.
"""
from flask import Blueprint, current_app, request, url_for
from flask_babel import Babel, get_locale, gettext

from phopy.config import REPO_ROOT
from phopy.web.redirects import safe_redirect

bp = Blueprint("i18n", __name__)
COOKIE = "phopy_lang"
LANGUAGE_NAMES = {"en": "English", "th": "ไทย"}


def select_locale():
    """The user's chosen language (cookie), else the browser's best match."""
    languages = current_app.config["LANGUAGES"]
    chosen = request.cookies.get(COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or languages[0]


def translate(message):
    """A domain message in the user's language (unknown messages come back as they are)."""
    if not message:
        return message
    template = getattr(message, "template", None)
    if template is not None:
        return gettext(template, **message.params)
    return gettext(message)


@bp.route("/lang/<code>")
def set_language(code):
    """Remember a language choice and go back."""
    if code not in current_app.config["LANGUAGES"]:
        code = current_app.config["BABEL_DEFAULT_LOCALE"]
    target = request.args.get("next") or request.referrer
    response = safe_redirect(target, url_for("public.landing"))
    response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=request.is_secure)
    return response


def init_app(app):
    """Set up Flask-Babel with our translations folder."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(REPO_ROOT / "translations"))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.filters["translate"] = translate
