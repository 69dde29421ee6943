"""Direct PromptPay: the EMV QR payload for the photographer's PromptPay id and an
order's amount (built by the ``promptpay-qr`` library, never by hand), and the
buyer's transfer slip (decoded through the guarded decoder, stored privately as a
re-encoded JPEG, deleted with the order's buyer data)."""
import io
from decimal import Decimal

import promptpay_qr
import qrcode
from qrcode.image.svg import SvgPathImage

from phopy.errors import N_, ImageDecodeError, ValidationError
from phopy.faces.images import check_dimensions, decode_image, sniff_format

MAX_SLIP_BYTES = 5 * 1024 * 1024
MAX_SLIP_PIXELS = 20_000_000
SLIP_MAX_SIDE = 2000


def payload(promptpay_id, satang):
    """The EMV QR payload (tag 29 PromptPay, tag 54 the amount in baht, tag 63 CRC)."""
    return promptpay_qr.generate_payload(promptpay_id, amount=Decimal(int(satang)) / 100)


def qr_svg(data):
    """An SVG QR code of ``data`` (for any QR payload: Stripe's or PromptPay's)."""
    image = qrcode.make(data, image_factory=SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def slip_key(event_id, order_id):
    """Storage key of an order's transfer slip."""
    return f"slips/{event_id}/{order_id}.jpg"


def checked_slip(data):
    """The slip as a re-encoded JPEG (metadata dropped); ValidationError for anything
    that is not a readable photo of at most 5 MB and 20 megapixels."""
    if not data or len(data) > MAX_SLIP_BYTES or sniff_format(data) is None:
        raise ValidationError(N_("Upload the slip as a JPEG or PNG image of at most 5 MB."),
                              field="slip")
    try:
        check_dimensions(data, MAX_SLIP_PIXELS)
        image, _size = decode_image(data, max_side=SLIP_MAX_SIDE, max_pixels=MAX_SLIP_PIXELS)
    except (ImageDecodeError, ValidationError, Exception):
        raise ValidationError(N_("Upload the slip as a JPEG or PNG image of at most 5 MB."),
                              field="slip") from None
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
