"""An event's prices: free (no pricing row, the default) or paid, and what an order costs.

Amounts are integer satang (1 THB = 100 satang). A paid event has a price per
photo, an optional "all my photos" bundle price and optional package tiers
("3 photos for 250 THB"). An order is charged the cheapest way to buy what was
picked: photos one by one, tiers (each as often as it fits) and, when every
photo of the result is picked, the bundle.
"""
import re
from decimal import Decimal, InvalidOperation

from phopy.data import sales as sales_db
from phopy.errors import N_, ValidationError

PROVIDERS = ("stripe", "promptpay")
MAX_AMOUNT = 10_000_000 * 100   # ten million baht: more is a typo
MAX_TIERS = 5
_PROMPTPAY_ID = re.compile(r"^\d{10}$|^\d{13}$|^\d{15}$")


def parse_baht(text, field):
    """'120', '120.5' or '1,200.50' baht -> satang; None for an empty field.

    ValidationError (on ``field``) for anything else, 0 or less, or more than
    two decimals."""
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError(N_("Write the price in baht, such as 120 or 99.50."),
                              field=field) from None
    if not value.is_finite() or value != value.quantize(Decimal("0.01")):
        raise ValidationError(N_("Write the price in baht, such as 120 or 99.50."), field=field)
    satang = int(value * 100)
    if satang <= 0:
        raise ValidationError(N_("A price must be more than 0 baht."), field=field)
    if satang > MAX_AMOUNT:
        raise ValidationError(N_("That price is too high."), field=field)
    return satang


def format_baht(satang):
    """Satang as '1,200.50' (or '120' when whole)."""
    baht, rest = divmod(int(satang), 100)
    return f"{baht:,}" if not rest else f"{baht:,}.{rest:02d}"


def validate(photo_price, bundle_price, tiers, provider, promptpay_id, stripe_ready):
    """Check a paid pricing (amounts already in satang); return it normalised.

    ``tiers`` is [(photos, price)]. A tier or bundle dearer than buying its
    photos one by one makes no sense and is refused, so is a missing provider.
    """
    if photo_price is None:
        raise ValidationError(N_("Set a price per photo, or choose Free."), field="photo_price")
    if bundle_price is not None and bundle_price <= photo_price:
        raise ValidationError(N_("The \"all my photos\" bundle must cost more than one photo."),
                              field="bundle_price")
    seen = {}
    for photos, price in tiers:
        if photos < 2 or photos > 1000:
            raise ValidationError(N_("A package holds 2 to 1000 photos."), field="tiers")
        if price >= photos * photo_price:
            raise ValidationError(N_("A package must cost less than its photos one by one."),
                                  field="tiers")
        if photos in seen:
            raise ValidationError(N_("Two packages have the same number of photos."),
                                  field="tiers")
        seen[photos] = price
    if len(seen) > MAX_TIERS:
        raise ValidationError(N_("At most 5 packages."), field="tiers")
    if provider not in PROVIDERS:
        raise ValidationError(N_("Choose how buyers pay."), field="provider")
    if provider == "stripe" and not stripe_ready:
        raise ValidationError(N_("Stripe is not set up on this Phopy: choose direct PromptPay."),
                              field="provider")
    if provider == "promptpay":
        promptpay_id = re.sub(r"[\s-]", "", promptpay_id or "")
        if not _PROMPTPAY_ID.match(promptpay_id):
            raise ValidationError(N_("A PromptPay id is a 10-digit phone number, a 13-digit "
                                     "national id or a 15-digit e-wallet id."),
                                  field="promptpay_id")
    else:
        promptpay_id = None
    return photo_price, bundle_price, sorted(seen.items()), provider, promptpay_id


def save_from_form(conn, event_id, form, stripe_ready):
    """Save the dashboard's pricing form (``mode`` free or paid); the new pricing or None."""
    if form.get("mode", "free") == "free":
        sales_db.make_free(conn, event_id)
        return None
    tiers = []
    for i in range(1, MAX_TIERS + 1):
        count, price = (form.get(f"tier{i}_photos") or "").strip(), form.get(f"tier{i}_price")
        if not count and not (price or "").strip():
            continue
        if not count.isdigit():
            raise ValidationError(N_("Give each package a number of photos."), field="tiers")
        amount = parse_baht(price, "tiers")
        if amount is None:
            raise ValidationError(N_("Give each package a price."), field="tiers")
        tiers.append((int(count), amount))
    checked = validate(parse_baht(form.get("photo_price"), "photo_price"),
                       parse_baht(form.get("bundle_price"), "bundle_price"), tiers,
                       form.get("provider"), form.get("promptpay_id"), stripe_ready)
    sales_db.save_pricing(conn, event_id, *checked)
    return sales_db.get_pricing(conn, event_id)


def get_pricing(conn, event_id):
    """The event's pricing, or None when it is free."""
    return sales_db.get_pricing(conn, event_id)


def cheapest(count, photo_price, tiers):
    """The least cost of ``count`` photos from single prices and tiers (each tier any
    number of times)."""
    best = [0] + [None] * count
    for n in range(1, count + 1):
        options = [best[n - 1] + photo_price]
        options += [best[n - k] + price for k, price in tiers if k <= n]
        best[n] = min(options)
    return best[count]


def quote(pricing, count, bundle=False):
    """What ``count`` photos cost (satang); with ``bundle`` (all of a result) the
    bundle price when it is cheaper."""
    if count < 1:
        raise ValidationError(N_("Pick at least one photo."), field="photos")
    tiers = [(t["photos"], t["price"]) for t in pricing.get("tiers") or []]
    amount = cheapest(count, pricing["photo_price"], tiers)
    if bundle and pricing.get("bundle_price") is not None:
        amount = min(amount, pricing["bundle_price"])
    return amount


def split(amount, photo_ids):
    """[(photo_id, share)]: the amount shared between the photos, the remainder on the first."""
    share, rest = divmod(amount, len(photo_ids))
    return [(pid, share + (rest if i == 0 else 0)) for i, pid in enumerate(photo_ids)]
