"""The bot's replies and Flex messages, in the user's language.

Texts are English msgids marked with ``N_`` and translated from the same
catalog as the web pages (``translations/``), read with Babel directly: jobs
run without a Flask request. The language is the user's LINE profile
``language`` when Phopy speaks it, Thai otherwise.
"""
import functools

from babel.support import Translations

from phopy.config import REPO_ROOT
from phopy.errors import N_

SUPPORTED = ("th", "en")
DEFAULT = "th"


def language_of(profile_language):
    """'en' or 'th' for a LINE profile language (Thai when unknown)."""
    lang = (profile_language or "").split("-")[0].lower()
    return lang if lang in SUPPORTED else DEFAULT


@functools.lru_cache(maxsize=None)
def _catalog(lang):
    return Translations.load(str(REPO_ROOT / "translations"), [lang])


def tr(lang, template, **params):
    """``template`` in ``lang`` with ``params`` filled in."""
    text = _catalog(language_of(lang)).gettext(template)
    return text % params if params else text


def text(lang, template, **params):
    """A LINE text message dict."""
    return {"type": "text", "text": tr(lang, template, **params)[:5000]}


# -- operators ------------------------------------------------------------------
def registered(lang):
    return [text(lang, N_("✅ Done! Type 'add group'"))]


def linked_account(lang, email):
    return [text(lang, N_("✅ Your LINE is now connected to the Phopy account %(email)s. "
                          "Type 'add group'"), email=email)]


def already_operator(lang):
    return [text(lang, N_("You are already registered. Type 'add group' to connect a "
                          "LINE group."))]


def bad_register_code(lang):
    return [text(lang, N_("This code is not valid or has expired. Open 'Connect LINE' on "
                          "the dashboard for a new one."))]


def left_account(lang, email):
    return [text(lang, N_("You no longer run events of the Phopy account %(email)s from LINE. "
                          "Its groups and events stay with it. Type 'register' to be an "
                          "operator again."), email=email)]


def not_operator(lang):
    return [text(lang, N_("Type 'register' first."))]


def add_group_steps(lang, bot_id, token):
    return [text(lang, N_("1. Add %(bot)s to your event's LINE group.\n2. In the group, "
                          "type: Phopy connect %(token)s\nThe code works once, for 1 hour."),
                 bot=bot_id, token=token)]


def group_welcome(lang):
    return [text(lang, N_("Hello! I am Phopy 📷\nThe operator types 'Phopy connect' to "
                          "connect this group.\nThen: 'Phopy start <event name>', "
                          "'Phopy status', 'Phopy close'."))]


def group_connected(lang):
    return [text(lang, N_("✅ Connected!"))]


def connect_refused(lang):
    return [text(lang, N_("Only the operator can connect this group: type 'add group' "
                          "to the bot first, then 'Phopy connect <code>' here."))]


def group_owned_elsewhere(lang):
    return [text(lang, N_("This group is connected to another Phopy account. One of its "
                          "operators types 'Phopy disconnect' here first."))]


def group_disconnected(lang):
    return [text(lang, N_("This group is no longer connected to Phopy. An operator can "
                          "connect it again: 'add group' to the bot, then 'Phopy connect'."))]


def disconnect_needs_close(lang):
    return [text(lang, N_("An event is still open in this group. Type 'Phopy close' "
                          "first."))]


def group_not_linked(lang):
    return [text(lang, N_("This group is not connected yet. The operator types "
                          "'Phopy connect'."))]


def operator_only(lang):
    return [text(lang, N_("Only this group's operator can do that."))]


def start_needs_name(lang):
    return [text(lang, N_("Type the event's name: Phopy start <name>"))]


def event_started(lang, event, bot_id, days):
    return [text(lang, N_("📷 %(name)s\n🔑 Code: %(code)s\nAdd %(bot)s as a friend and type "
                          "the code to get your photos.\n⚠️ Face data is deleted %(days)d "
                          "days after the event."),
                 name=event["name"], code=event["code"], bot=bot_id, days=days)]


def photos_from_set(lang, choice):
    if choice == "everyone":
        return [text(lang, N_("📷 Photos anyone sends in this group now go into the event."))]
    return [text(lang, N_("📷 Only the operators' photos in this group go into the event."))]


def photos_from_help(lang, current):
    return photos_from_set(lang, current) + [text(lang, N_(
        "To change it: 'Phopy photos everyone' or 'Phopy photos operators'."))]


def event_already_open(lang, event):
    return [text(lang, N_("The event %(name)s is still open (code %(code)s). Type "
                          "'Phopy close' first."), name=event["name"], code=event["code"])]


def no_open_event(lang):
    return [text(lang, N_("No event is open in this group. Type 'Phopy start <name>'."))]


def event_status(lang, event, photos, faces, people):
    return [text(lang, N_("📊 %(name)s (code %(code)s): %(photos)d photos, %(faces)d faces, "
                          "%(people)d participants"), name=event["name"], code=event["code"],
                 photos=photos, faces=faces, people=people)]


def group_summary(lang, event, photos, people, bot_id):
    return [text(lang, N_("✅ %(name)s is wrapped up 📊 %(photos)d photos / %(people)d people. "
                          "Add %(bot)s and type %(code)s"), name=event["name"],
                 photos=photos, people=people, bot=bot_id, code=event["code"])]


def group_help(lang):
    return group_welcome(lang)


# -- attendees ----------------------------------------------------------------
def follow_welcome(lang):
    return [text(lang, N_("Welcome to Phopy 📷 Send me a selfie (just your face, clear and "
                          "well lit) so I can find you in event photos."))]


def selfie_saved(lang, days):
    return [text(lang, N_("✅ Selfie saved. Only your face data is kept, not the photo. It "
                          "is used only to find you in the events you join and is deleted "
                          "with their face data (usually %(days)d days after the event), or "
                          "in %(days)d days if you join none. Type 'delete my data' at any "
                          "time.\nNow type your event code."), days=days)]


def selfie_no_face(lang):
    return [text(lang, N_("I could not find a face in this photo. Please send a clear "
                          "selfie of your face, looking at the camera."))]


def selfie_several_faces(lang, count):
    return [text(lang, N_("I found %(count)d faces in this photo. Please send a selfie with "
                          "only your face."), count=count)]


def selfie_too_large(lang):
    return [text(lang, N_("This photo is too large. Please send a smaller selfie of your "
                          "face."))]


def content_gone(lang):
    return [text(lang, N_("I could not get this photo from LINE any more. Please send it "
                          "again."))]


def needs_selfie(lang):
    return [text(lang, N_("Send me a selfie first, so I can find you in the photos."))]


def joined(lang, event):
    return [text(lang, N_("✅ You joined %(name)s"), name=event["name"])]


def already_joined(lang, event):
    return [text(lang, N_("You are already in %(name)s. I will tell you when I find you."),
                 name=event["name"])]


def wrong_code(lang, code):
    return [text(lang, N_("No event has the code %(code)s. Check the code and try again."),
                 code=code)]


def too_many_codes(lang):
    return [text(lang, N_("That was a lot of wrong codes. Please wait a while, then "
                          "type your event code again."))]


def search_ended(lang, event):
    return [text(lang, N_("Face search for %(name)s has ended: its face data was deleted."),
                 name=event["name"])]


def found_you(lang, event, url=None):
    """"Found you": with ``url``, a button to the gallery page, where the faces the
    search is unsure of are asked about too."""
    said = tr(lang, N_("📸 Found you in %(name)s. The summary comes later."),
              name=event["name"])
    if not url:
        return [{"type": "text", "text": said[:5000]}]
    return [{"type": "flex", "altText": said[:400], "contents": {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": said, "wrap": True}]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "action": {
                "type": "uri", "label": tr(lang, N_("See your photos"))[:40], "uri": url}}]},
    }}]


def data_deleted(lang):
    return [text(lang, N_("🗑️ Your face data and event registrations are deleted."))]


def attendee_help(lang):
    return [text(lang, N_("Send me a selfie, then type your event code to get your photos. "
                          "Type 'delete my data' to delete your face data."))]


def photos_found_flex(lang, event, count, url):
    """The Flex bubble 'we found N photos of you' with a 'see all photos' button."""
    title = tr(lang, N_("We found %(n)d photo of you") if count == 1
               else N_("We found %(n)d photos of you"), n=count)
    return [{"type": "flex", "altText": title, "contents": {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": [
            {"type": "text", "text": event["name"][:100], "weight": "bold", "size": "lg",
             "wrap": True},
            {"type": "text", "text": title, "wrap": True},
        ]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "action": {
                "type": "uri", "label": tr(lang, N_("See all photos"))[:40], "uri": url}},
        ]},
    }}]


# -- bib numbers (running events) ---------------------------------------------------
def bib_hint(lang):
    return [text(lang, N_("🏃 This is a running event: you can also type your bib number."))]


BIB_REASONS = (("both", N_("• Your number and your face: %(n)d")),
               ("bib", N_("• Your number: %(n)d")),
               ("face", N_("• The face that wore your number: %(n)d")))


def bib_found(lang, event, bib, found, url):
    """The photos a typed bib found (``found``: [(photo_id, found_by)]): how many, why
    each was found (number, face, both), and a button to the gallery page."""
    title = tr(lang, N_("🏃 Bib %(bib)s in %(name)s: %(n)d photo") if len(found) == 1
               else N_("🏃 Bib %(bib)s in %(name)s: %(n)d photos"),
               bib=bib, name=event["name"][:80], n=len(found))
    reasons = [tr(lang, template, n=sum(1 for _p, why in found if why == kind))
               for kind, template in BIB_REASONS if any(why == kind for _p, why in found)]
    return [{"type": "flex", "altText": title[:400], "contents": {
        "type": "bubble",
        "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            {"type": "text", "text": title, "weight": "bold", "wrap": True}] + [
            {"type": "text", "text": line, "size": "sm", "wrap": True} for line in reasons]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "action": {
                "type": "uri", "label": tr(lang, N_("See your photos"))[:40], "uri": url}}]},
    }}]


def bib_not_found_yet(lang, event, bib):
    return [text(lang, N_("🏃 No photos of bib %(bib)s in %(name)s yet. I will tell you when "
                          "I find you."), bib=bib, name=event["name"])]


# -- "is this you?" -------------------------------------------------------------
def is_this_you(lang, event, session_id, faces, crop_url, prefix):
    """A text and a carousel of face crops, each with "This is me" / "Not me"."""
    me, not_me = tr(lang, N_("This is me"))[:20], tr(lang, N_("Not me"))[:20]
    ask = tr(lang, N_("Is this you? %(n)d more faces in %(name)s may be you. Tap to tell "
                      "me: your answers find more of your photos."),
             n=len(faces), name=event["name"][:80])

    def button(label, answer, face_id, style):
        return {"type": "button", "style": style, "height": "sm", "action": {
            "type": "postback", "label": label, "displayText": label,
            "data": f"{prefix}|{answer}|{session_id}|{int(face_id)}"}}
    bubbles = [{
        "type": "bubble", "size": "micro",
        "hero": {"type": "image", "url": crop_url(face["face_id"]), "size": "full",
                 "aspectRatio": "1:1", "aspectMode": "cover"},
        "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
            button(me, "me", face["face_id"], "primary"),
            button(not_me, "not_me", face["face_id"], "secondary")]},
    } for face in faces]
    return [{"type": "text", "text": ask[:5000]},
            {"type": "flex", "altText": ask[:400],
             "contents": {"type": "carousel", "contents": bubbles}}]


def answer_taken(lang, choice, photos):
    if choice == "me":
        return [text(lang, N_("✅ Added to your photos. %(n)d photos of you so far."),
                     n=photos)]
    return [text(lang, N_("👍 Got it: that photo is not shown to you again."))]


def already_answered(lang):
    return [text(lang, N_("You already answered for this photo."))]


def not_offered(lang):
    return [text(lang, N_("This face was not shown to you."))]


def question_expired(lang):
    return [text(lang, N_("This question has expired. Type your event code again to "
                          "see what is left."))]
