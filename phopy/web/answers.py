""""Is this you?" on the web page and the REST API: a search session's answer, its
"This is me" / "Not me" answers, the face crops it asks about.

A web session belongs to the device that searched (its random id in the signed
cookie); a REST session to whoever holds its id (returned by /api/search-face).
"""
import io

from flask import (Blueprint, current_app, jsonify, redirect, render_template, request,
                   send_file, url_for)

from phopy.data import get_db
from phopy.errors import N_, NotFound, ValidationError
from phopy.extensions import get_link_signer, get_storage
from phopy.services import confirm, crops, events, links
from phopy.services.search import SearchEnded
from phopy.web.headers import private
from phopy.web.i18n import translate
from phopy.web.paywall import is_locked
from phopy.web.results import session_tiers, tiers_json
from phopy.web.security import csrf, device_key, limit_code_guesses

bp = Blueprint("answers", __name__)


def _web_session(code, session_id):
    event = events.get_event_by_code(get_db(), code)
    if event.get("faces_purged_at"):
        raise SearchEnded(N_("Face search for this event has ended: its face data was "
                             "deleted after the event."))
    return event, confirm.get_session(get_db(), session_id, event["id"], owner=device_key())


def render_session(event, session, notices=(), status=200, error=None):
    """The results page of a session: your photos, then "is this you?"."""
    tiers, rows, asked = session_tiers(session)
    zip_token = links.sign_photo_set(get_link_signer(), event["id"],
                                     [r["photo_id"] for r in rows]) if rows else None
    locked = is_locked(get_db(), event)  # sold photos: previews, and a checkout instead
    page = render_template(
        "public/results.html", event=events.attendee_view(event), rows=rows, asked=asked,
        tiers=tiers, notices=list(notices), error=error, locked=locked, result_token=zip_token,
        zip_url=url_for("public.zip_download", code=event["code"], t=zip_token)
        if zip_token and not locked else None)
    return page, status


@bp.route("/e/<code>/s/<session_id>")
@limit_code_guesses
def session_page(code, session_id):
    """A search's answer again, with the attendee's answers so far."""
    event, session = _web_session(code, session_id)
    return render_session(event, session)


@bp.route("/e/<code>/s/<session_id>/answer", methods=("POST",))
@limit_code_guesses
def answer(code, session_id):
    """"This is me" or "Not me" for one face; then the search runs again."""
    event, session = _web_session(code, session_id)
    try:
        confirm.answer(get_db(), session, request.form.get("face_id"),
                       request.form.get("answer"))
    except ValidationError as exc:
        return render_session(event, session, status=exc.status_code,
                              error=translate(exc.message))
    target = url_for("answers.session_page", code=event["code"], session_id=session["id"])
    return redirect(f"{target}#{'asked' if request.form.get('answer') == 'me' else 'results'}",
                    303)


@bp.route("/e/<code>/s/<session_id>/end", methods=("POST",))
@limit_code_guesses
def end(code, session_id):
    """Forget this search now (its selfies' encodings and answers)."""
    event, session = _web_session(code, session_id)
    confirm.end(get_db(), session)
    return redirect(url_for("public.event_page", code=event["code"], ended=1), 303)


@bp.route("/f/<token>")
def face_crop(token):
    """The crop of one face a search asks about (the face only, never the photo)."""
    payload = links.read_token(get_link_signer(), token, current_app.config["PHOTO_LINK_MAX_AGE"])
    if "f" not in payload:
        raise NotFound()
    data = crops.face_crop(get_db(), get_storage(), payload["e"], payload["f"],
                           current_app.config["MAX_PHOTO_PIXELS"])
    return private(send_file(io.BytesIO(data), mimetype="image/jpeg"), 3600)


# -- REST ---------------------------------------------------------------------
def _api_session(session_id):
    session = confirm.get_session(get_db(), session_id)
    if events.get_event(get_db(), session["event_id"]).get("faces_purged_at"):
        raise SearchEnded(N_("Face search for this event has ended: its face data was "
                             "deleted after the event."))
    return session


@bp.route("/api/search-sessions/<session_id>")
def api_session(session_id):
    """A search session's answer: your photos and the faces to ask about.
    ---
    get:
      tags: [search]
      responses:
        '200': {description: 'Photos (tier "yours") and candidates (face crops to confirm)', content: {application/json: {schema: {type: object}}}}
        '404': {$ref: '#/components/responses/Error'}
        '410': {$ref: '#/components/responses/Error'}
    """
    return jsonify(tiers_json(*session_tiers(_api_session(session_id))))


@bp.route("/api/search-sessions/<session_id>/answers", methods=("POST",))
@csrf.exempt
def api_answer(session_id):
    """Answer "me" or "not_me" for a face offered to the session; the new answer.
    ---
    post:
      tags: [search]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [face_id, answer]
              properties:
                face_id: {type: integer}
                answer: {type: string, enum: [me, not_me]}
      responses:
        '200': {description: 'The session after the answer (a replay changes nothing)', content: {application/json: {schema: {type: object}}}}
        '400': {$ref: '#/components/responses/Error'}
        '404': {$ref: '#/components/responses/Error'}
        '410': {$ref: '#/components/responses/Error'}
    """
    session = _api_session(session_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError(N_("Send a JSON object with face_id and answer."))
    new = confirm.answer(get_db(), session, body.get("face_id"), body.get("answer"))
    return jsonify({**tiers_json(*session_tiers(session)), "recorded": new})


@bp.route("/api/search-sessions/<session_id>", methods=("DELETE",))
@csrf.exempt
def api_end(session_id):
    """Forget the search session now (its selfies' encodings and answers).
    ---
    delete:
      tags: [search]
      responses:
        '204': {description: Deleted}
        '404': {$ref: '#/components/responses/Error'}
        '410': {$ref: '#/components/responses/Error'}
    """
    confirm.end(get_db(), _api_session(session_id))
    return "", 204

