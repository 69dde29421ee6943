"""The served app: ``gunicorn phopy.wsgi:app``. Prints the banner, starts the job runner."""
from phopy import create_app
from phopy.startup_banner import print_banner
from phopy.extensions import get_selfie_analyzer, get_storage
from phopy.jobs.setup import start_runner
from phopy.jobs.checks import StartRefused, check_start

app = create_app()
get_storage(app)  # creates (or makes private) the data folder before serving
try:
    check_start(app, "web")  # schema version, storage reachable, the shared data folder
except StartRefused as exc:
    raise SystemExit(f"Phopy cannot start: {exc}") from None
print_banner(app)
start_runner(app)
get_selfie_analyzer(app).start()  # selfie workers load their models now, not on the first search
