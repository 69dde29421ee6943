"""A fake Stripe API on 127.0.0.1, speaking what the ``stripe`` library (16.x) sends.

Paths: ``POST /v1/payment_intents`` (form-encoded, with ``Idempotency-Key``: the
same key answers the same PaymentIntent), ``GET /v1/payment_intents/{id}``,
``POST /v1/payment_intents/{id}/cancel`` (400 ``payment_intent_unexpected_state``
once it succeeded) and ``POST /v1/refunds``. A PaymentIntent with
``payment_method_types[0]=promptpay`` and ``confirm=true`` answers
``status: requires_action`` with ``next_action.promptpay_display_qr_code``, as
Stripe does. A wrong ``Authorization: Bearer`` key gets 401.

Paying is the buyer's part, so it is a switch: ``POST /_fake/pay/{id}`` (or
``FakeStripeServer.pay``) makes the PaymentIntent succeed and sends the signed
``payment_intent.succeeded`` event (``Stripe-Signature: t=…,v1=HMAC-SHA256``
with the webhook secret) to ``--webhook-url`` when there is one; a cancelled
one cannot be paid (400). Every event is kept (``events``) so a test can
(re)deliver it through Flask's test client with :func:`signed`.

By hand::

    .venv/bin/python -m tests.fakes.stripe_server --port 8091 \\
        --webhook-url http://127.0.0.1:5000/sales/stripe/webhook
    # .env: STRIPE_SECRET_KEY=sk_test_fake STRIPE_WEBHOOK_SECRET=whsec_fake
    #       STRIPE_API_BASE=http://127.0.0.1:8091
    curl -X POST http://127.0.0.1:8091/_fake/pay/pi_...     # the buyer pays
"""
import argparse
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SECRET_KEY = "sk_test_fake"
WEBHOOK_SECRET = "whsec_fake"
_ids = itertools.count(1)


def new_id(prefix):
    return f"{prefix}_{int(time.time())}{next(_ids):06d}"


def signature(secret, payload, timestamp=None):
    """The ``Stripe-Signature`` header of a payload (bytes)."""
    timestamp = int(timestamp if timestamp is not None else time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def signed(event, secret=WEBHOOK_SECRET, timestamp=None):
    """(body bytes, headers) of a webhook delivery of ``event``."""
    body = json.dumps(event).encode()
    return body, {"Content-Type": "application/json",
                  "Stripe-Signature": signature(secret, body, timestamp)}


def unflatten(pairs):
    """Stripe's form encoding (``a[b][0]=x``) back into dicts and lists."""
    result = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = result
        for part, nxt in zip(parts, parts[1:]):
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(result)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


class FakeStripeState:
    """PaymentIntents, refunds, events, idempotency keys and every request."""

    def __init__(self, secret_key=SECRET_KEY, webhook_secret=WEBHOOK_SECRET, webhook_url=None):
        self.lock = threading.Lock()
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.intents = {}
        self.refunds = {}
        self.events = []
        self.idempotent = {}
        self.requests = []

    def event(self, kind, obj):
        """Record an event and deliver it to the webhook URL, if there is one."""
        event = {"id": new_id("evt"), "object": "event", "type": kind,
                 "api_version": "2025-01-01", "created": int(time.time()), "livemode": False,
                 "pending_webhooks": 1, "data": {"object": json.loads(json.dumps(obj))}}
        self.events.append(event)
        if self.webhook_url:
            body, headers = signed(event, self.webhook_secret)
            request = urllib.request.Request(self.webhook_url, data=body, headers=headers)
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except Exception as exc:  # Stripe retries later; the fake just says so
                print(f"webhook delivery failed: {exc}", flush=True)
        return event

    def pay(self, intent_id):
        """The buyer pays: (status, body)."""
        with self.lock:
            intent = self.intents.get(intent_id)
            if intent is None:
                return 404, _error("resource_missing", "No such payment_intent")
            if intent["status"] != "requires_action":
                return 400, _error("payment_intent_unexpected_state",
                                   f"This PaymentIntent is {intent['status']}: it cannot be paid")
            intent.update(status="succeeded", amount_received=intent["amount"],
                          latest_charge=new_id("ch"), next_action=None)
            snapshot = dict(intent)
        return 200, self.event("payment_intent.succeeded", snapshot)


def _error(code, message, kind="invalid_request_error"):
    return {"error": {"type": kind, "code": code, "message": message}}


class Handler(BaseHTTPRequestHandler):
    server_version = "FakeStripe/1"

    def log_message(self, *args):
        pass

    @property
    def state(self):
        return self.server.state

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Request-Id", new_id("req"))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _params(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        return unflatten(parse_qsl(raw, keep_blank_values=True))

    def _authorized(self):
        if self.headers.get("Authorization") != f"Bearer {self.state.secret_key}":
            self._send(401, _error(None, "Invalid API Key provided", "invalid_request_error"))
            return False
        return True

    def do_GET(self):
        with self.state.lock:
            self.state.requests.append({"method": "GET", "path": self.path})
        match = re.fullmatch(r"/v1/payment_intents/(\w+)", self.path.split("?")[0])
        if not match:
            return self._send(404, _error("resource_missing", "Unrecognized request URL"))
        if not self._authorized():
            return None
        intent = self.state.intents.get(match.group(1))
        if intent is None:
            return self._send(404, _error("resource_missing", "No such payment_intent"))
        return self._send(200, intent)

    def do_POST(self):
        path = self.path.split("?")[0]
        params = self._params()
        with self.state.lock:
            self.state.requests.append({"method": "POST", "path": path, "params": params,
                                        "idempotency_key": self.headers.get("Idempotency-Key")})
        if path.startswith("/_fake/pay/"):
            return self._send(*self.state.pay(path.rsplit("/", 1)[1]))
        if not self._authorized():
            return None
        key = self.headers.get("Idempotency-Key")
        with self.state.lock:
            if key and key in self.state.idempotent:
                return self._send(*self.state.idempotent[key])
        status, body, event = self._route(path, params)
        with self.state.lock:
            if key and status < 500:
                self.state.idempotent[key] = (status, body)
        if event:
            self.state.event(*event)
        return self._send(status, body)

    def _route(self, path, params):
        """(status, body, event to send or None)."""
        if path == "/v1/payment_intents":
            return self._create_intent(params)
        match = re.fullmatch(r"/v1/payment_intents/(\w+)/cancel", path)
        if match:
            return self._cancel(match.group(1))
        if path == "/v1/refunds":
            return self._refund(params)
        return 404, _error("resource_missing", "Unrecognized request URL"), None

    def _create_intent(self, params):
        try:
            amount = int(params.get("amount", ""))
        except ValueError:
            return 400, _error("parameter_missing", "Missing required param: amount."), None
        if params.get("currency") != "thb" or "promptpay" not in (
                params.get("payment_method_types") or []):
            return 400, _error("payment_method_unactivated",
                               "PromptPay takes THB only, on a PromptPay PaymentIntent"), None
        intent_id = new_id("pi")
        intent = {"id": intent_id, "object": "payment_intent", "amount": amount,
                  "amount_received": 0, "currency": "thb", "livemode": False,
                  "metadata": params.get("metadata") or {},
                  "payment_method_types": params["payment_method_types"],
                  "receipt_email": params.get("receipt_email"), "latest_charge": None,
                  "client_secret": f"{intent_id}_secret_fake", "created": int(time.time()),
                  "status": "requires_payment_method", "next_action": None}
        if params.get("confirm") == "true":
            from promptpay_qr import generate_payload
            expires = int(time.time()) + 3600
            intent.update(status="requires_action", next_action={
                "type": "promptpay_display_qr_code",
                "promptpay_display_qr_code": {
                    "data": generate_payload("0105555555555", amount=amount / 100),
                    "expires_at": expires,
                    "hosted_instructions_url": f"https://payments.stripe.test/{intent_id}",
                    "image_url_png": f"https://qr.stripe.test/{intent_id}.png",
                    "image_url_svg": f"https://qr.stripe.test/{intent_id}.svg"}})
        with self.state.lock:
            self.state.intents[intent_id] = intent
        return 200, intent, None

    def _cancel(self, intent_id):
        with self.state.lock:
            intent = self.state.intents.get(intent_id)
            if intent is None:
                return 404, _error("resource_missing", "No such payment_intent"), None
            if intent["status"] in ("succeeded", "canceled"):
                return 400, _error("payment_intent_unexpected_state",
                                   f"You cannot cancel this PaymentIntent because it has a "
                                   f"status of {intent['status']}."), None
            intent.update(status="canceled", next_action=None, canceled_at=int(time.time()))
            snapshot = dict(intent)
        return 200, snapshot, ("payment_intent.canceled", snapshot)

    def _refund(self, params):
        with self.state.lock:
            intent = self.state.intents.get(params.get("payment_intent"))
            if intent is None or intent["status"] != "succeeded":
                return 400, _error("charge_not_refundable", "This PaymentIntent has no "
                                   "successful charge to refund."), None
            if intent.get("refunded"):
                return 400, _error("charge_already_refunded",
                                   "The charge has already been refunded."), None
            intent["refunded"] = True
            refund = {"id": new_id("re"), "object": "refund", "amount": intent["amount"],
                      "currency": "thb", "payment_intent": intent["id"],
                      "charge": intent["latest_charge"], "status": "succeeded"}
            self.state.refunds[refund["id"]] = refund
            charge = {"id": intent["latest_charge"], "object": "charge",
                      "amount": intent["amount"], "amount_refunded": intent["amount"],
                      "payment_intent": intent["id"], "refunded": True}
        return 200, refund, ("charge.refunded", charge)


class FakeStripeServer:
    """The fake in a background thread; ``url`` is what STRIPE_API_BASE should be."""

    def __init__(self, port=0, **state):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.state = self.state = FakeStripeState(**state)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def pay(self, intent_id):
        """The buyer pays the PaymentIntent: (status, the event sent)."""
        return self.state.pay(intent_id)

    def events(self, kind=None):
        with self.state.lock:
            return [e for e in self.state.events if kind is None or e["type"] == kind]

    def requests(self, path=None):
        with self.state.lock:
            return [r for r in self.state.requests if path is None or r["path"] == path]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--secret-key", default=SECRET_KEY)
    parser.add_argument("--webhook-secret", default=WEBHOOK_SECRET)
    parser.add_argument("--webhook-url")
    args = parser.parse_args()
    server = FakeStripeServer(args.port, secret_key=args.secret_key,
                              webhook_secret=args.webhook_secret, webhook_url=args.webhook_url)
    print(f"fake Stripe on {server.url} (STRIPE_API_BASE={server.url})", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
