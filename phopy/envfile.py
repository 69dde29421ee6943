"""The ``.env`` file ``./start.sh`` and ``./test.sh`` rely on: present, with a real SECRET_KEY.

``python -m phopy.envfile`` (called by ``scripts/bootstrap.sh``) creates ``.env``
from ``.env.example`` when there is none. A ``.env`` written by hand, or copied
from the example, that has no SECRET_KEY or still the example's placeholder gets
a new random key in place; every other line is kept as it is. Nothing is written
when SECRET_KEY comes from the environment (the command line wins over ``.env``).
"""
import argparse
import os
import re
import secrets
import sys
from pathlib import Path

from dotenv import dotenv_values

PLACEHOLDER = "change-me"
_KEY_LINE = re.compile(r"^[ \t]*(?:export[ \t]+)?SECRET_KEY[ \t]*=.*$", re.M)


def needs_secret(value):
    """True when ``value`` is not a usable SECRET_KEY (missing, blank, the placeholder)."""
    return value is None or not value.strip() or value.strip() == PLACEHOLDER


def ensure_env_file(path, example, environ=os.environ):
    """Make sure ``path`` exists and holds a real SECRET_KEY; return what was done or None."""
    path, example = Path(path), Path(example)
    if not path.exists():
        text = example.read_text(encoding="utf-8") if example.is_file() else ""
        done = "created .env with a new SECRET_KEY"
    elif not needs_secret(environ.get("SECRET_KEY")):
        return None
    elif needs_secret(dotenv_values(path).get("SECRET_KEY")):
        text = path.read_text(encoding="utf-8")
        done = ".env had no SECRET_KEY: wrote a new one into it"
    else:
        return None
    line = f"SECRET_KEY={secrets.token_hex(32)}"
    if _KEY_LINE.search(text):
        text = _KEY_LINE.sub(lambda _: line, text, count=1)
    else:
        text = (text if not text or text.endswith("\n") else text + "\n") + line + "\n"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    return done


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m phopy.envfile", description=__doc__)
    parser.add_argument("path", nargs="?", default=".env")
    parser.add_argument("--example", default=".env.example")
    args = parser.parse_args(argv)
    done = ensure_env_file(args.path, args.example)
    if done:
        print(f"==> {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
