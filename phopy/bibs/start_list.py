"""The start list: a CSV of the event's runners (bib, name, optionally category,
e-mail, LINE id). All of it is imported, or nothing: an error names the row."""
import csv
import io
import logging

from phopy.bibs.settings import event_settings, match_bib
from phopy.data import bibs as bibs_db
from phopy.errors import N_, Message, ValidationError

log = logging.getLogger(__name__)

MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
# Header names accepted for each column (lower case, English and Thai).
COLUMNS = {
    "bib": ("bib", "bib number", "number", "no", "no.", "เลขบิบ", "บิบ", "หมายเลข"),
    "name": ("name", "runner", "full name", "ชื่อ", "ชื่อ-นามสกุล"),
    "category": ("category", "distance", "race", "ประเภท", "ระยะ"),
    "email": ("email", "e-mail", "อีเมล"),
    "line_id": ("line id", "line_id", "line", "ไลน์"),
}


def _fail(template, **params):
    raise ValidationError(Message(template, **params), field="start_list")


def _decode(data):
    """The CSV's text: UTF-8 (with or without Excel's BOM), or else Windows-874, what
    Excel on a Thai Windows saves "CSV (Comma delimited)" in. Bytes that neither
    decodes (Windows-874 leaves a few undefined) are not a text file."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp874")
    except UnicodeDecodeError:
        text = None
    # Thai words are mostly consonants; Latin-1's accented letters would decode as
    # vowel marks and tone marks: some other encoding's text, not read as Thai
    others = [ch for ch in (text or "")[:20000] if ord(ch) > 127]
    consonants = sum("\u0e01" <= ch <= "\u0e2e" for ch in others)
    if not others or consonants < 0.4 * len(others):
        _fail(N_("The start list is not a CSV file (save it as “CSV UTF-8”)."))
    return text


def parse(data, pattern):
    """Entries (dicts) of a start-list CSV; ValidationError naming the row otherwise."""
    if not data:
        _fail(N_("The start list is empty."))
    if len(data) > MAX_BYTES or b"\x00" in data[:4096]:
        _fail(N_("The start list is not a CSV file."))
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(rows)
    except (StopIteration, csv.Error):
        _fail(N_("The start list is not a CSV file."))
    names = [h.strip().lower() for h in header]
    where = {key: next((i for i, n in enumerate(names) if n in aliases), None)
             for key, aliases in COLUMNS.items()}
    if where["bib"] is None:
        _fail(N_("The start list has no bib column (row 1 must name the columns, "
                 "for example: bib,name)."))
    if where["name"] is None:
        _fail(N_("The start list has no name column (row 1 must name the columns, "
                 "for example: bib,name)."))
    entries, seen = [], {}
    try:
        for number, row in enumerate(rows, start=2):
            if not any(cell.strip() for cell in row):
                continue
            if len(entries) >= MAX_ROWS:
                _fail(N_("Row %(row)d: the start list has more than %(n)d runners; "
                         "nothing was imported."), row=number, n=MAX_ROWS)
            cell = row[where["bib"]].strip() if where["bib"] < len(row) else ""
            bib = match_bib(pattern, cell)
            if bib is None:
                _fail(N_("Row %(row)d: “%(bib)s” is not a bib number."), row=number, bib=cell[:20])
            if bib in seen:
                _fail(N_("Row %(row)d: bib %(bib)s is already on row %(first)d."),
                      row=number, bib=bib, first=seen[bib])
            seen[bib] = number
            entry = {key: (row[i].strip()[:200] or None) if i is not None and i < len(row)
                     else None for key, i in where.items()}
            if not entry["name"]:
                _fail(N_("Row %(row)d: the runner has no name."), row=number)
            entry["bib"] = bib
            entries.append(entry)
    except csv.Error as exc:
        _fail(N_("The start list is not a CSV file (row %(row)d: %(error)s)."),
              row=rows.line_num, error=str(exc)[:80])
    if not entries:
        _fail(N_("The start list has no runners."))
    return entries


def import_start_list(conn, config, event_id, data):
    """Replace the event's start list with the CSV's runners; return how many."""
    entries = parse(data, event_settings(conn, config, event_id)["pattern"])
    bibs_db.replace_start_list(conn, event_id, entries)
    log.info("event %s: start list of %d runners imported", event_id, len(entries))
    return len(entries)
