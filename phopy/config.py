"""Configuration read from the environment (``.env`` via python-dotenv)."""
import os
from pathlib import Path

from dotenv import load_dotenv

from phopy.envfile import needs_secret

REPO_ROOT = Path(__file__).resolve().parent.parent
_ENVIRONMENT = frozenset(os.environ)  # what the command line set, before .env fills in
load_dotenv(REPO_ROOT / ".env")  # never overrides the environment
LEGACY_BASE_URL = "http://127.0.0.1:5000"  # what older .env files carry by default

MB = 1024 * 1024


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def public_base_url():
    """PUBLIC_BASE_URL, else http://HOST:PORT as start.sh serves it.

    The old default an older .env carries (``http://127.0.0.1:5000``) counts as
    unset, so the QR address follows PORT.
    """
    value = os.environ.get("PUBLIC_BASE_URL")
    if value and (value != LEGACY_BASE_URL or "PUBLIC_BASE_URL" in _ENVIRONMENT):
        return value
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('PORT') or 5000}"


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Settings for a running Phopy; every value can come from the environment."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    DEBUG = _bool("FLASK_DEBUG") or _bool("DEBUG")
    DATA_DIR = os.environ.get("PHOPY_DATA_DIR") or str(REPO_ROOT / "instance")
    DATABASE_URL = os.environ.get("DATABASE_URL")  # default: sqlite file in DATA_DIR
    # PostgreSQL connection pool per process (psycopg2 ThreadedConnectionPool).
    DB_POOL_MIN = _int("DB_POOL_MIN", 1)
    DB_POOL_MAX = _int("DB_POOL_MAX", 20)
    DB_POOL_TIMEOUT = float(os.environ.get("DB_POOL_TIMEOUT", "30"))  # wait for a free one
    # Photo files: "file" (a folder tree under DATA_DIR; several machines must mount the
    # same one) or "s3" (a bucket of any S3-compatible service, shared by every machine).
    STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "file")
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None  # unset: AWS S3
    S3_BUCKET = os.environ.get("S3_BUCKET") or None
    S3_PREFIX = os.environ.get("S3_PREFIX", "")  # keys go below this folder of the bucket
    S3_REGION = os.environ.get("S3_REGION") or "us-east-1"
    S3_ACCESS_KEY = os.environ.get("S3_ACCESS_KEY") or None  # unset: boto3's own lookup
    S3_SECRET_KEY = os.environ.get("S3_SECRET_KEY") or None
    # > 0: browsers fetch photos from presigned URLs valid this long; 0: the app streams.
    S3_PRESIGN_SECONDS = _int("S3_PRESIGN_SECONDS", 0)
    LOG_DIR = os.environ.get("LOG_DIR") or str(REPO_ROOT / "logs")
    LOG_KEEP_DAYS = float(os.environ.get("LOG_KEEP_DAYS") or 30)
    # Address printed in QR codes and links; by default this machine on the served PORT.
    PUBLIC_BASE_URL = public_base_url()

    # Uploads: each photo or selfie at most 10 MB. A request carries up to 3
    # selfies; the dashboard's upload endpoint raises the request limit itself.
    MAX_PHOTO_BYTES = _int("MAX_PHOTO_MB", 10) * MB
    MAX_CONTENT_LENGTH = 3 * MAX_PHOTO_BYTES + MB
    MAX_UPLOAD_REQUEST_BYTES = _int("MAX_UPLOAD_REQUEST_MB", 300) * MB
    MAX_SELFIES = 3
    # Pixels checked from the file's header before anything is decoded: a small
    # file can declare a huge image. Selfies are capped well below photos.
    MAX_PHOTO_PIXELS = _int("MAX_PHOTO_MEGAPIXELS", 120) * 1_000_000
    MAX_SELFIE_PIXELS = _int("MAX_SELFIE_MEGAPIXELS", 50) * 1_000_000

    # Selfie analysis runs in its own pool of processes, never in the threads that
    # serve pages. At most SEARCH_QUEUE_SIZE searches wait or run at once; more get
    # a quick 503 with Retry-After. SEARCH_WORKERS=0: one process per CPU core.
    SEARCH_WORKERS = _int("SEARCH_WORKERS", 0)
    SEARCH_QUEUE_SIZE = _int("SEARCH_QUEUE_SIZE", 64)
    SEARCH_TIMEOUT_SECONDS = _int("SEARCH_TIMEOUT_SECONDS", 120)
    SEARCH_RETRY_AFTER_SECONDS = _int("SEARCH_RETRY_AFTER_SECONDS", 5)
    # Face matrices each web process keeps for searches (least recently searched events
    # go first past this; 0: no limit). A 50,000-photo event is ~128 MB (dlib).
    SEARCH_CACHE_MAX_MB = _int("SEARCH_CACHE_MAX_MB", 1024)
    # "Is this you?": a search session keeps its selfies' encodings and answers this
    # long (then they are deleted), and asks about at most SEARCH_MAX_ASKED faces a round.
    SEARCH_SESSION_HOURS = _int("SEARCH_SESSION_HOURS", 24)
    SEARCH_MAX_ASKED = _int("SEARCH_MAX_ASKED", 12)
    THUMBNAIL_MAX_SIDE = _int("THUMBNAIL_MAX_SIDE", 480)
    DASHBOARD_PAGE_SIZE = _int("DASHBOARD_PAGE_SIZE", 120)  # photos per dashboard page

    # Face engine (read by phopy.faces.EngineSettings.from_mapping).
    FACE_ENGINE = os.environ.get("FACE_ENGINE")  # sface (default) | dlib | mobilefacenet
    FACE_DETECTOR = os.environ.get("FACE_DETECTOR")  # dlib engine: hog | cnn | yunet
    FACE_MODEL_DIR = os.environ.get("FACE_MODEL_DIR")  # fetched weights; default DATA_DIR/models
    FACE_MODEL = os.environ.get("FACE_MODEL", "auto")
    FACE_UPSAMPLE = os.environ.get("FACE_UPSAMPLE")
    FACE_DETECT_MAX_SIDE = os.environ.get("FACE_DETECT_MAX_SIDE")
    FACE_JITTERS = os.environ.get("FACE_JITTERS")
    FACE_ENCODING_MODEL = os.environ.get("FACE_ENCODING_MODEL")
    FACE_TOLERANCE = os.environ.get("FACE_TOLERANCE")
    FACE_BORDERLINE = os.environ.get("FACE_BORDERLINE")  # "is this you?" band's far edge
    FACE_DLIB_RUNTIME = os.environ.get("FACE_DLIB_RUNTIME")  # onnx (default) | dlib

    # Background indexing.
    # thread: in-process runner; celery: Celery workers over Redis; none: no runner here.
    JOB_RUNNER = os.environ.get("JOB_RUNNER", "thread")
    REDIS_URL = os.environ.get("REDIS_URL")  # Celery broker; shared rate-limit storage
    CELERY_VISIBILITY_TIMEOUT = float(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    CELERY_SWEEP_SECONDS = float(os.environ.get("CELERY_SWEEP_SECONDS", "60"))
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE", "phopy")
    INDEX_WORKERS = _int("INDEX_WORKERS", 0)  # 0: one per CPU core
    INDEX_BATCH_SIZE = _int("INDEX_BATCH_SIZE", 32)
    # Helper tasks an event's indexing queues so other workers scan its photos too
    # (phopy.services.index_share); -1: 3 under Celery, none with the in-process runner.
    INDEX_HELPERS = _int("INDEX_HELPERS", -1)
    AUTO_INDEX = _bool("AUTO_INDEX", True)
    TASK_POLL_SECONDS = float(os.environ.get("TASK_POLL_SECONDS", "1.0"))
    TASK_STALE_SECONDS = float(os.environ.get("TASK_STALE_SECONDS", "60"))
    # Jobs: transient failures retry with exponential backoff (tenacity's wait), capped.
    JOB_RETRY_BASE_SECONDS = float(os.environ.get("JOB_RETRY_BASE_SECONDS", "2"))
    JOB_RETRY_MAX_SECONDS = float(os.environ.get("JOB_RETRY_MAX_SECONDS", "300"))
    JOB_SCHEDULE = _bool("JOB_SCHEDULE", True)  # run periodic jobs (phopy/jobs/schedule.py)
    TASK_PRUNE_HOURS = float(os.environ.get("TASK_PRUNE_HOURS", "6"))  # 0: never prune
    TASK_KEEP_DAYS = float(os.environ.get("TASK_KEEP_DAYS", "30"))
    # Stored files with no photo behind them (a server killed mid-upload) older than
    # this are removed when the job runner starts.
    ORPHAN_GRACE_SECONDS = _int("ORPHAN_GRACE_SECONDS", 300)

    # Signed photo links handed to attendees expire after this many seconds.
    PHOTO_LINK_MAX_AGE = _int("PHOTO_LINK_MAX_AGE", 7 * 24 * 3600)

    # LINE Official Account (off unless the channel secret and access token are set).
    LINE_CHANNEL_SECRET = os.environ.get("LINE_CHANNEL_SECRET")
    LINE_CHANNEL_ACCESS_TOKEN = os.environ.get("LINE_CHANNEL_ACCESS_TOKEN")
    LINE_BOT_BASIC_ID = os.environ.get("LINE_BOT_BASIC_ID", "@phopy")
    LINE_API_HOST = os.environ.get("LINE_API_HOST") or None  # unset: LINE's servers
    LIFF_ID = os.environ.get("LIFF_ID") or None  # gallery links open through LIFF when set
    LINE_AUTO_CLOSE_MINUTES = _int("LINE_AUTO_CLOSE_MINUTES", 60)  # 0: never auto-close
    # Selling photos (phopy/sales). Stripe is on when both keys are set; STRIPE_API_BASE
    # points the stripe library elsewhere (the fake server in tests); unset: Stripe's.
    STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY") or None
    STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET") or None
    STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE") or None
    SALES_ORDER_MINUTES = _int("SALES_ORDER_MINUTES", 30)      # a pending order expires
    SALES_DOWNLOAD_DAYS = _int("SALES_DOWNLOAD_DAYS", 30)      # a paid order's downloads last
    SALES_PREVIEW_MAX_SIDE = _int("SALES_PREVIEW_MAX_SIDE", 1200)  # watermarked previews
    # Receipt e-mails to buyers through any SMTP server; off (nothing queued) without SMTP_HOST.
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = _int("SMTP_PORT", 587)
    SMTP_USER = os.environ.get("SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_FROM = os.environ.get("SMTP_FROM") or None    # unset: SMTP_USER, else phopy@<host>
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", True)       # STARTTLS after connecting (port 587)
    SMTP_SSL = _bool("SMTP_SSL", False)                # TLS from the start instead (port 465)
    # Face data of an event is purged this many days after it closes (per-event override).
    FACE_RETENTION_DAYS = _int("FACE_RETENTION_DAYS", 7)

    # Running events (phopy/bibs): race bib numbers read with OCR; off unless an event is
    # marked "running event", or BIB_SEARCH=1 for every event of this deployment.
    BIB_SEARCH = _bool("BIB_SEARCH")
    BIB_OCR_THREADS = _int("BIB_OCR_THREADS", 2)  # OCR threads where one process reads
    BIB_REVIEW_CONFIDENCE = float(os.environ.get("BIB_REVIEW_CONFIDENCE", "0.8"))

    # Rate limits (Flask-Limiter syntax, moving window). Memory storage is per
    # process; redis://… (the default when REDIS_URL is set) shares it between
    # processes and machines. Searches are limited per device and, generously (a
    # venue is one address), per address; event codes by how many wrong ones an
    # address tries.
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    # Default: REDIS_URL when set, else memory:// (see load_config).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")
    RATELIMIT_STRATEGY = "moving-window"
    # Redis down: count in this process's memory until it answers again, and never
    # let a limiter error fail a request (log in and search keep answering).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    # Flask-Limiter would put its own Retry-After on every limited answer (a busy
    # 503 included); ours is set on 429s and 503s only (phopy.web.errors).
    RATELIMIT_HEADER_RETRY_AFTER = "X-RateLimit-Retry-After"
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "20 per minute")
    SEARCH_ADDRESS_RATE_LIMIT = os.environ.get("SEARCH_ADDRESS_RATE_LIMIT", "1200 per minute")
    CODE_LOOKUP_RATE_LIMIT = os.environ.get("CODE_LOOKUP_RATE_LIMIT", "30 per minute")
    # Found photos: full-size views and downloads, and ZIPs, per address (a venue's Wi-Fi is
    # one address for many attendees); bannered copies rendered at once per web process.
    DOWNLOAD_RATE_LIMIT = os.environ.get("DOWNLOAD_RATE_LIMIT", "600 per minute")
    ZIP_RATE_LIMIT = os.environ.get("ZIP_RATE_LIMIT", "60 per minute")
    DOWNLOAD_RENDERS = _int("DOWNLOAD_RENDERS", 1)
    TRUST_PROXY_HEADERS = _bool("TRUST_PROXY_HEADERS")
    # REST API calls made with an API key share this limit per key.
    API_KEY_RATE_LIMIT = os.environ.get("API_KEY_RATE_LIMIT", "600 per minute")

    # Operations: /metrics is off unless METRICS_TOKEN is set (then sent as a bearer
    # token, which also shows /health's details). /health/ready (web machines, for a load
    # balancer) checks the database and the storage; /health also fails without a recent
    # heartbeat of a runner or worker (and of beat under Celery), or below this free space.
    # Celery workers and beat write their heartbeat every HEALTH_HEARTBEAT_SECONDS.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN") or None
    HEALTH_MIN_FREE_MB = _int("HEALTH_MIN_FREE_MB", 500)
    HEALTH_RUNNER_MAX_AGE = _int("HEALTH_RUNNER_MAX_AGE", 60)
    HEALTH_HEARTBEAT_SECONDS = float(os.environ.get("HEALTH_HEARTBEAT_SECONDS", "10"))
    # Read by prometheus_client itself: where gunicorn workers' metrics meet (start.sh sets it).
    PROMETHEUS_MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

    # Google sign-in and Drive folders (hidden unless a client id/secret is set).
    GOOGLE_CLIENT_ID = os.environ.get("GOOGLE_CLIENT_ID")
    GOOGLE_CLIENT_SECRET = os.environ.get("GOOGLE_CLIENT_SECRET")
    GOOGLE_CLIENT_SECRETS_FILE = os.environ.get("GOOGLE_CLIENT_SECRETS_FILE")
    GOOGLE_API_KEY = os.environ.get("GOOGLE_API_KEY")  # public "anyone with the link" folders
    GOOGLE_AUTH_URI = os.environ.get("GOOGLE_AUTH_URI",
                                     "https://accounts.google.com/o/oauth2/auth")
    GOOGLE_TOKEN_URI = os.environ.get("GOOGLE_TOKEN_URI", "https://oauth2.googleapis.com/token")
    GOOGLE_USERINFO_URI = os.environ.get("GOOGLE_USERINFO_URI",
                                         "https://openidconnect.googleapis.com/v1/userinfo")
    GOOGLE_REVOKE_URI = os.environ.get("GOOGLE_REVOKE_URI", "https://oauth2.googleapis.com/revoke")
    GOOGLE_DRIVE_API_ENDPOINT = os.environ.get("GOOGLE_DRIVE_API_ENDPOINT",
                                               "https://www.googleapis.com/drive/v3/")
    GOOGLE_TOKEN_KEY = os.environ.get("GOOGLE_TOKEN_KEY")  # Fernet key; default from SECRET_KEY
    GOOGLE_HTTP_TIMEOUT = float(os.environ.get("GOOGLE_HTTP_TIMEOUT", "60"))
    DRIVE_SYNC_MINUTES = float(os.environ.get("DRIVE_SYNC_MINUTES", "5"))  # 0: no scheduled sync
    DRIVE_KEEP_ORIGINALS = _bool("DRIVE_KEEP_ORIGINALS", True)
    DRIVE_RETRY_BASE_SECONDS = float(os.environ.get("DRIVE_RETRY_BASE_SECONDS", "1"))  # 1, 2, 4 s
    DRIVE_DOWNLOAD_WORKERS = _int("DRIVE_DOWNLOAD_WORKERS", 4)

    LANGUAGES = ("en", "th")
    BABEL_DEFAULT_LOCALE = "en"
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure is added by itself on https requests; set 1 to require it always.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    LOCALTUNNEL = _bool("LOCALTUNNEL")


class TestingConfig(Config):
    """A config for tests: no CSRF, no background thread unless asked."""

    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    JOB_RUNNER = "none"
    INDEX_WORKERS = 1
    SEARCH_INLINE = True  # selfies analysed in the test's thread with the shared engine
    TASK_STALE_SECONDS = 5
    SMTP_HOST = None  # no mail unless a test starts its own SMTP server


def load_config(app, config=None):
    """Fill ``app.config`` from Config, then from the ``config`` mapping."""
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    data_dir = Path(app.config["DATA_DIR"]).resolve()
    app.config["DATA_DIR"] = str(data_dir)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{data_dir / 'phopy.db'}"
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"
    if app.config["RATELIMIT_STORAGE_URI"].startswith(("redis", "rediss")) and \
            not app.config.get("RATELIMIT_STORAGE_OPTIONS"):
        # A Redis that does not answer costs a request one second, not a hang.
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {"socket_connect_timeout": 1,
                                                   "socket_timeout": 1}
    if needs_secret(app.config.get("SECRET_KEY")):
        if not (app.config.get("DEBUG") or app.config.get("TESTING")):
            raise RuntimeError(
                "SECRET_KEY is not set (or still the example's placeholder): run ./start.sh, "
                "which writes a new one into .env, or set one yourself")
        app.config["SECRET_KEY"] = "dev-only-insecure-key"
