"""Turn what a LINE user typed into a small command value.

Thai and English aliases live in one table. Group commands start with
"Phopy"; anything else typed to the bot one-to-one that looks like an event
code is a ``code`` command.
"""
import re
from dataclasses import dataclass

# command -> aliases (compared case-insensitively, spaces collapsed)
DIRECT = {
    "register": ("ลงทะเบียน", "register"),
    "add_group": ("เพิ่มกลุ่ม", "add group"),
    "leave": ("ยกเลิกลงทะเบียน", "เลิกเป็นผู้จัดงาน", "unregister", "stop operating"),
    "delete_data": ("ลบข้อมูล", "delete my data", "delete data"),
    "help": ("ช่วยเหลือ", "วิธีใช้", "help"),
}
GROUP = {
    "connect": ("เชื่อมต่อ", "connect"),
    "disconnect": ("ยกเลิกการเชื่อมต่อ", "disconnect"),
    "start": ("เริ่มงาน", "start"),
    "close": ("ปิดงาน", "close"),
    "status": ("สถานะ", "status"),
    "photos": ("รูปจาก", "photos from", "photos"),
}
# 'Phopy photos <who>': whose photos in the group go into its open event.
PHOTOS_FROM = {
    "everyone": ("ทุกคน", "everyone", "all"),
    "operators": ("ผู้จัดงาน", "operators", "operator"),
}
GROUP_PREFIX = "phopy"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 \-]{2,14}$")


@dataclass(frozen=True)
class Command:
    """A parsed command: its name and the rest of the text (may be empty)."""

    name: str
    arg: str = ""


def _clean(text):
    return re.sub(r"\s+", " ", (text or "").strip())


def _match(text, table):
    lowered = text.lower()
    for name, aliases in table.items():
        for alias in sorted(aliases, key=len, reverse=True):
            if lowered == alias or lowered.startswith(alias + " "):
                return Command(name, text[len(alias):].strip())
    return None


def photos_choice(arg):
    """'everyone' or 'operators' for the argument of 'Phopy photos', else None."""
    word = _clean(arg).lower()
    return next((name for name, aliases in PHOTOS_FROM.items() if word in aliases), None)


def parse(text, in_group=False):
    """The Command for a message, or None when it is not meant for the bot."""
    text = _clean(text)
    if not text:
        return None
    if text.lower().startswith(GROUP_PREFIX):
        rest = text[len(GROUP_PREFIX):].strip()
        command = _match(rest, GROUP)
        if command or in_group:
            return command or Command("group_help")
    if in_group:
        return None
    command = _match(text, DIRECT)
    if command:
        return command
    if CODE_RE.match(text):
        return Command("code", text)
    return Command("unknown", text)
