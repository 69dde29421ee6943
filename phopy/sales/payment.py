"""What every payment provider is: a Payment started for an order, and the interface."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Payment:
    """A payment started for an order: the provider's id and the QR payload to scan."""

    ref: str
    qr: str


class Provider:
    """What Phopy needs from a way to be paid."""

    name = "base"
    confirms_by_hand = False   # True: the photographer confirms the payment (a slip)

    def start(self, order, pricing):
        """Start paying ``order`` (amount in satang); return a Payment."""
        raise NotImplementedError

    def cancel(self, order):
        """Make the order's payment impossible (it expired); False when the payment
        already went through (then it is not expired)."""
        raise NotImplementedError

    def refund(self, order):
        """Give the order's money back (raises a PhopyError when the provider refuses)."""
        raise NotImplementedError
