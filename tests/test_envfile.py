"""phopy.envfile: ./start.sh always runs with a real SECRET_KEY, whoever wrote .env."""
import re
import stat

import pytest
from dotenv import dotenv_values
from flask import Flask

from phopy.config import REPO_ROOT, load_config
from phopy.envfile import ensure_env_file, main
from tests.conftest import make_test_config

KEY = re.compile(r"[0-9a-f]{64}")


def test_a_missing_env_is_made_from_the_example_with_a_new_key(tmp_path):
    env = tmp_path / ".env"
    assert ensure_env_file(env, REPO_ROOT / ".env.example", environ={})
    example = dotenv_values(REPO_ROOT / ".env.example")
    made = dotenv_values(env)
    assert KEY.fullmatch(made.pop("SECRET_KEY"))
    example.pop("SECRET_KEY")
    assert made == example
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_a_hand_written_env_gets_a_key_and_keeps_its_lines(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)  # as bootstrap.sh runs it
    env = tmp_path / ".env"
    env.write_text("FACE_ENGINE=mobilefacenet\nPORT=5077")  # no final newline either
    assert main([str(env), "--example", str(tmp_path / "missing.example")]) == 0
    values = dotenv_values(env)
    assert values["FACE_ENGINE"] == "mobilefacenet" and values["PORT"] == "5077"
    assert KEY.fullmatch(values["SECRET_KEY"])
    before = env.read_text()
    assert ensure_env_file(env, REPO_ROOT / ".env.example", environ={}) is None
    assert env.read_text() == before, "a real key is kept, run after run"


@pytest.mark.parametrize("line", ["SECRET_KEY=change-me", "export SECRET_KEY=change-me",
                                  "SECRET_KEY=", "SECRET_KEY='  '"])
def test_the_placeholder_or_a_blank_key_is_replaced_in_place(tmp_path, line):
    env = tmp_path / ".env"
    env.write_text(f"# mine\n{line}\nFACE_ENGINE=dlib\n")
    ensure_env_file(env, REPO_ROOT / ".env.example", environ={})
    lines = env.read_text().splitlines()
    assert lines[0] == "# mine" and lines[2] == "FACE_ENGINE=dlib" and len(lines) == 3
    assert KEY.fullmatch(lines[1].split("=", 1)[1])


def test_a_key_from_the_environment_leaves_env_alone(tmp_path):
    env = tmp_path / ".env"
    env.write_text("PORT=5077\n")
    assert ensure_env_file(env, REPO_ROOT / ".env.example",
                           environ={"SECRET_KEY": "from-the-command-line"}) is None
    assert env.read_text() == "PORT=5077\n"


@pytest.mark.parametrize("secret", [None, "", "change-me"])
def test_the_app_refuses_to_serve_without_a_real_key(tmp_path, secret):
    app = Flask(__name__)
    config = make_test_config(tmp_path, TESTING=False, DEBUG=False, SECRET_KEY=secret)
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        load_config(app, config)
