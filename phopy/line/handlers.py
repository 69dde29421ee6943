"""One handler per LINE event type, run by the ``line_event`` job.

Handlers read the event, call services and answer through ``LineContext.reply``
(the reply token first, free; pushes after). They never touch SQL or faces
themselves.
"""
import logging

from phopy.errors import FileTooLarge, NoFaceFound, PhopyError
from phopy.faces.images import DEFAULT_MAX_PIXELS
from phopy.jobs.queue import enqueue
from phopy.jobs.registry import job
from phopy.line import attendees, commands, gallery_links, intake, messages, operators
from phopy.line import confirm as line_confirm
from phopy.line.client import ContentGone, LineApi
from phopy.line.outbox import queue_message

log = logging.getLogger(__name__)
HANDLERS = {}


def on(event_type, message_type=None):
    """Register a handler for an event type (and message type)."""
    def register(func):
        HANDLERS[(event_type, message_type)] = func
        return func
    return register


class LineContext:
    """What a handler gets: the job context, the event, who sent it, how to answer."""

    def __init__(self, ctx, event):
        self.job = ctx
        self.conn = ctx.conn
        self.config = ctx.config
        self.event = event
        source = event.get("source") or {}
        self.user_id = source.get("userId")
        self.group_id = source.get("groupId") or source.get("roomId")
        self.reply_token = event.get("replyToken")
        self.api = LineApi.from_config(ctx.config)
        self.user = None

    @property
    def lang(self):
        return (self.user or {}).get("language")

    @property
    def to(self):
        return self.group_id or self.user_id

    def take_reply_token(self):
        """The reply token, once (later answers are pushed)."""
        token, self.reply_token = self.reply_token, None
        return token

    def reply(self, message_list, purpose=None):
        """Answer in this chat: with the reply token the first time, pushed after."""
        return queue_message(self.conn, self.to, message_list,
                             reply_token=self.take_reply_token(), purpose=purpose)

    @property
    def bot_id(self):
        return self.config.get("LINE_BOT_BASIC_ID") or "@phopy"


@job("line_event", max_attempts=3)
def handle_event(ctx, event):
    """Job ``line_event``: run the handler registered for this event."""
    lc = LineContext(ctx, event)
    kind = event.get("type")
    message_type = (event.get("message") or {}).get("type")
    handler = HANDLERS.get((kind, message_type)) or HANDLERS.get((kind, None))
    if handler is None:
        return {"handled": False}
    if not lc.user_id and not lc.group_id:
        # LINE leaves userId out in some cases (e.g. a user who has not agreed to the
        # terms of use); with neither user nor group there is nobody to act for or answer.
        log.info("LINE %s event without a user or group ignored", kind)
        return {"handled": False, "reason": "no_source"}
    if lc.user_id and kind != "unfollow":
        lc.user = operators.get_user(lc.conn, lc.user_id)
        if lc.user is None or kind == "follow":
            lc.user = operators.remember_user(lc.conn, lc.user_id,
                                                   lc.api.profile(lc.user_id))
    handler(lc)
    return {"handled": True, "type": kind}


# -- follow / unfollow / join -------------------------------------------------
@on("follow")
def followed(lc):
    lc.reply(messages.follow_welcome(lc.lang))


@on("unfollow")
def unfollowed(lc):
    attendees.delete_data(lc.conn, lc.user_id)


@on("join")
def joined(lc):
    operators.joined_group(lc.conn, lc.group_id, lc.api.group_name(lc.group_id))
    lc.reply(messages.group_welcome(lc.lang))


# -- text -----------------------------------------------------------------------
@on("message", "text")
def text_message(lc):
    text = (lc.event.get("message") or {}).get("text", "")
    command = commands.parse(text, in_group=bool(lc.group_id))
    if command is None:
        return
    func = (GROUP_COMMANDS if lc.group_id else DIRECT_COMMANDS).get(command.name)
    if func:
        func(lc, command.arg)


def register(lc, code):
    if not lc.user_id:
        return
    status, account = operators.register(lc.conn, lc.user_id, code or None)
    if status == "created":
        lc.reply(messages.registered(lc.lang))
    elif status == "linked":
        lc.reply(messages.linked_account(lc.lang, account["email"]))
    elif status == "already":
        lc.reply(messages.already_operator(lc.lang))
    else:
        lc.reply(messages.bad_register_code(lc.lang))


def add_group(lc, _arg):
    user = operators.get_user(lc.conn, lc.user_id)
    if not user or not user["photographer_id"]:
        return lc.reply(messages.not_operator(lc.lang))
    token = operators.new_group_token(lc.conn, user)
    lc.reply(messages.add_group_steps(lc.lang, lc.bot_id, token))


def leave(lc, _arg):
    account = operators.leave(lc.conn, lc.user_id)
    if account is None:
        return lc.reply(messages.not_operator(lc.lang))
    lc.reply(messages.left_account(lc.lang, account["email"]))


def delete_data(lc, _arg):
    attendees.delete_data(lc.conn, lc.user_id)
    lc.reply(messages.data_deleted(lc.lang))


def attendee_help(lc, _arg):
    lc.reply(messages.attendee_help(lc.lang))


def typed_bib(lc, text):
    """A number typed by a user who joined an event searchable by bib is a bib number:
    answer with its photos there (the web's search by bib) and remember it, so photos
    read later find them. False when it is not one (then it is an event code)."""
    if not lc.user_id:
        return False
    hits = attendees.bib_events(lc.conn, lc.config, lc.user_id, text)
    if not hits:
        return False
    answer = []
    with lc.conn.transaction():
        for event, bib in hits[:4]:  # one reply holds five messages
            attendees.remember_bib(lc.conn, event["id"], lc.user_id, bib)
            found, _first = attendees.match_bib(lc.conn, lc.job.search, event, lc.user_id, bib)
            if found:
                answer += messages.bib_found(lc.lang, event, bib, found, gallery_links.gallery_url(
                    lc.config, event["id"], lc.user_id))
            else:
                answer += messages.bib_not_found_yet(lc.lang, event, bib)
        lc.reply(answer)
    return True


def unknown_text(lc, text):
    """A short bib number ('7', '42') or help."""
    if not typed_bib(lc, text):
        attendee_help(lc, text)


def join_event(lc, code):
    if typed_bib(lc, code):
        return
    if attendees.too_many_wrong_codes(lc.conn, lc.user_id, lc.config):
        return lc.reply(messages.too_many_codes(lc.lang))
    event = attendees.find_event(lc.conn, code)
    if event is None:
        attendees.record_wrong_code(lc.conn, lc.user_id, lc.config)
        return lc.reply(messages.wrong_code(lc.lang, code.strip().upper()))
    if event.get("faces_purged_at"):
        return lc.reply(messages.search_ended(lc.lang, event))
    with lc.conn.transaction():
        new = attendees.join_event(lc.conn, event, lc.user_id)
        answer = messages.joined(lc.lang, event) if new else messages.already_joined(
            lc.lang, event)
        face = attendees.usable_face(lc.user, lc.job.engine_settings)
        if attendees.takes_bibs(lc.conn, lc.config, event["id"]):
            answer += messages.bib_hint(lc.lang)
        if face is None:
            answer += messages.needs_selfie(lc.lang)
        else:  # check the photos already indexed now
            _found, first = attendees.match_user(lc.conn, lc.job.search, event["id"],
                                                 lc.user_id, face)
            if first:
                answer += messages.found_you(lc.lang, event, gallery_links.gallery_url(
                    lc.config, event["id"], lc.user_id))
            answer += line_confirm.offer(lc, event, face)
        lc.reply(answer)


DIRECT_COMMANDS = {
    "register": register,
    "add_group": add_group,
    "leave": leave,
    "delete_data": delete_data,
    "help": attendee_help,
    "unknown": unknown_text,
    "group_help": lambda lc, _arg: lc.reply(messages.group_help(lc.lang)),
    "code": join_event,
}


def group_connect(lc, token):
    status = operators.connect_group(lc.conn, lc.group_id, lc.user_id, token or None)
    if status == "connected":
        lc.reply(messages.group_connected(lc.lang))
    elif status == "owned":
        lc.reply(messages.group_owned_elsewhere(lc.lang))
    else:
        lc.reply(messages.connect_refused(lc.lang))


def group_disconnect(lc, _arg):
    status = operators.disconnect_group(lc.conn, lc.group_id, lc.user_id)
    if status == "disconnected":
        lc.reply(messages.group_disconnected(lc.lang))
    elif status == "event_open":
        lc.reply(messages.disconnect_needs_close(lc.lang))
    elif status == "not_operator":
        lc.reply(messages.operator_only(lc.lang))
    else:
        lc.reply(messages.group_not_linked(lc.lang))


def _linked_group(lc, operator_only=True):
    group = operators.get_group(lc.conn, lc.group_id)
    if not group or not group["photographer_id"]:
        lc.reply(messages.group_not_linked(lc.lang))
        return None
    if operator_only and not operators.is_group_operator(lc.conn, group, lc.user_id):
        lc.reply(messages.operator_only(lc.lang))
        return None
    return group


def group_start(lc, name):
    group = _linked_group(lc)
    if group is None:
        return
    if not name:
        return lc.reply(messages.start_needs_name(lc.lang))
    try:
        event, created = operators.start_event(
            lc.conn, lc.job.storage, group, lc.user_id, name,
            base_url=lc.config["PUBLIC_BASE_URL"])
    except PhopyError:
        return lc.reply(messages.start_needs_name(lc.lang))
    if not created:
        return lc.reply(messages.event_already_open(lc.lang, event))
    days = intake.notice_days(lc.conn, lc.config, event["id"])
    lc.reply(messages.event_started(lc.lang, event, lc.bot_id, days))


def group_close(lc, _arg):
    group = _linked_group(lc)
    if group is None:
        return
    event = operators.open_event(lc.conn, lc.group_id)
    if event is None:
        return lc.reply(messages.no_open_event(lc.lang))
    intake.close_and_summarize(lc.conn, lc.config, event["id"],
                                    reply_token=lc.take_reply_token(), lang=lc.lang)


def group_photos(lc, arg):
    group = _linked_group(lc)
    if group is None:
        return
    event = operators.open_event(lc.conn, lc.group_id)
    if event is None:
        return lc.reply(messages.no_open_event(lc.lang))
    choice = commands.photos_choice(arg)
    if choice is None:
        return lc.reply(messages.photos_from_help(lc.lang, event["photos_from"]))
    operators.set_photos_from(lc.conn, event["id"], choice)
    lc.reply(messages.photos_from_set(lc.lang, choice))


def group_status(lc, _arg):
    group = _linked_group(lc, operator_only=False)
    if group is None:
        return
    event = operators.open_event(lc.conn, lc.group_id)
    if event is None:
        return lc.reply(messages.no_open_event(lc.lang))
    counts = operators.event_counts(lc.conn, event["id"])
    lc.reply(messages.event_status(lc.lang, event, counts["photos"], counts["faces"],
                                   counts["people"]))


GROUP_COMMANDS = {
    "connect": group_connect,
    "disconnect": group_disconnect,
    "start": group_start,
    "close": group_close,
    "status": group_status,
    "photos": group_photos,
    "group_help": lambda lc, _arg: lc.reply(messages.group_help(lc.lang)),
}


# -- postbacks --------------------------------------------------------------------
@on("postback")
def postback(lc):
    """A button's postback: "This is me" / "Not me" (phopy.line.confirm)."""
    line_confirm.answered(lc)


# -- images ---------------------------------------------------------------------
@on("message", "image")
def image_message(lc):
    message_id = lc.event["message"]["id"]
    if lc.group_id:
        return group_image(lc, message_id)
    selfie(lc, message_id)


def group_image(lc, message_id):
    """A photo in a group: queued for intake only while a linked group's event is open,
    and only from its operators unless the event takes everyone's ('Phopy photos')."""
    group = operators.get_group(lc.conn, lc.group_id)
    event = operators.open_event(lc.conn, lc.group_id) if group and \
        group["photographer_id"] else None
    if event is None:
        log.info("image %s in group %s ignored: not linked or no open event", message_id,
                 lc.group_id)
        return
    if not operators.takes_photo_from(lc.conn, group, event, lc.user_id):
        log.info("image %s in group %s ignored: event %s takes its operators' photos only",
                 message_id, lc.group_id, event["id"])
        return
    enqueue(lc.conn, "line_intake", {"event_id": event["id"], "group_id": lc.group_id,
                                     "message_id": message_id},
            event_id=event["id"], lock_key=f"line-intake:{event['id']}")


def selfie(lc, message_id):
    """A photo sent to the bot one-to-one: the user's selfie."""
    try:
        data = bytes(lc.api.content(message_id))
    except ContentGone:
        return lc.reply(messages.content_gone(lc.lang))
    try:
        attendees.save_selfie(lc.conn, lc.job.engine, lc.user_id, data,
                              lc.config.get("MAX_PHOTO_BYTES", 10 << 20),
                              lc.config.get("MAX_PHOTO_PIXELS", DEFAULT_MAX_PIXELS))
    except NoFaceFound:
        return lc.reply(messages.selfie_no_face(lc.lang))
    except attendees.SeveralFaces as exc:
        return lc.reply(messages.selfie_several_faces(lc.lang, exc.details.get("faces", 2)))
    except FileTooLarge:
        return lc.reply(messages.selfie_too_large(lc.lang))
    except PhopyError:
        return lc.reply(messages.selfie_no_face(lc.lang))
    answer = messages.selfie_saved(lc.lang, lc.config.get("FACE_RETENTION_DAYS", 7))
    # Events already joined are searched again with the new selfie (one reply holds
    # five messages: the first four events where they are now found are named).
    found = attendees.rematch_joined_events(lc.conn, lc.job.search, lc.user_id, lc.config)
    for event in found[:4]:
        answer += messages.found_you(lc.lang, event, gallery_links.gallery_url(
            lc.config, event["id"], lc.user_id))
    lc.reply(answer)
