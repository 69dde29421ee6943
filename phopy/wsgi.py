"""The served app: ``gunicorn phopy.wsgi:app``. Prints the banner, starts the job runner."""
from phopy import create_app
from phopy.banner import print_banner
from phopy.jobs import start_runner

app = create_app()
print_banner(app)
start_runner(app)
