"""With the file backend every machine must use the same data folder: others refuse to start."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from phopy import create_app
from phopy.jobs.checks import StartRefused, check_data_folder, check_start
from tests.conftest import database_url_for, make_test_config
from tests.storage.conftest import s3_settings

REPO = Path(__file__).resolve().parents[2]


def shared_database(tmp_path):
    """One database for two 'machines' (a SQLite file outside both data folders)."""
    return database_url_for(tmp_path) or f"sqlite:///{tmp_path / 'shared.db'}"


def two_machines(tmp_path, **settings):
    url = shared_database(tmp_path)
    return [create_app(make_test_config(tmp_path, DATABASE_URL=url,
                                        DATA_DIR=str(tmp_path / name), **settings))
            for name in ("machine-a", "machine-b")]


def test_the_first_folder_is_recorded_and_another_one_is_refused(tmp_path):
    a, b = two_machines(tmp_path)
    folder_id = check_data_folder(a)
    assert check_data_folder(a) == folder_id  # the same folder again: fine
    assert (Path(a.config["DATA_DIR"]) / ".phopy-data-id").read_text().strip() == folder_id
    with pytest.raises(StartRefused) as caught:
        check_start(b, "worker")
    message = str(caught.value)
    assert "PHOPY_DATA_DIR" in message and "STORAGE_BACKEND=s3" in message
    assert str(Path(b.config["DATA_DIR"])) in message
    # The same folder reached through another path (a second mount of the share) is fine.
    link = tmp_path / "mounted-a"
    link.symlink_to(a.config["DATA_DIR"])
    c = create_app(make_test_config(tmp_path, DATABASE_URL=a.config["DATABASE_URL"],
                                    DATA_DIR=str(link)))
    assert check_data_folder(c) == folder_id


def test_with_s3_separate_folders_are_fine(tmp_path):
    a, b = two_machines(tmp_path, **s3_settings())
    check_start(a, "worker")
    check_start(b, "web")
    assert not (Path(b.config["DATA_DIR"]) / ".phopy-data-id").exists()


def test_a_worker_on_another_folder_refuses_to_start(tmp_path):
    a, _ = two_machines(tmp_path)
    check_data_folder(a)  # the web machine started first
    env = dict(os.environ, PHOPY_DATA_DIR=str(tmp_path / "machine-b"), SECRET_KEY="x" * 32,
               DATABASE_URL=a.config["DATABASE_URL"], JOB_RUNNER="thread",
               LOG_DIR=str(tmp_path / "logs"))
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "run-worker"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "is not the one this database uses" in done.stderr, done.stderr[-2000:]
