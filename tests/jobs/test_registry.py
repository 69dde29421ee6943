"""Jobs are declared next to their functions; the factory checks the schedule at start."""
import pytest

from phopy import create_app
from phopy.jobs import registry, schedule
from tests.conftest import make_test_config


@pytest.fixture
def restore_registry():
    jobs, entries = dict(registry.JOBS), dict(schedule.PERIODIC)
    yield
    registry.JOBS.clear()
    registry.JOBS.update(jobs)
    schedule.PERIODIC.clear()
    schedule.PERIODIC.update(entries)


def test_every_built_in_job_is_declared_by_the_module_that_runs_it(app):
    from phopy.google import sync
    from phopy.line import handlers, intake, outbox
    from phopy.services import indexing, maintenance, retention
    owners = {"index": indexing.index_event, "index_part": indexing.index_part,
              "prune_tasks": maintenance.prune_tasks,
              "purge_faces": retention.purge_faces_job, "drive_sync": sync.sync_event,
              "drive_sync_all": sync.sync_all, "line_event": handlers.handle_event,
              "line_send": outbox.send_message, "line_intake": intake.intake_image,
              "line_auto_close": intake.auto_close}
    assert {name: registry.get_kind(name).func for name in owners} == owners
    assert registry.get_kind("index").needs_pool and registry.get_kind("line_intake").needs_pool
    assert registry.get_kind("index_part").needs_pool  # helpers run on the indexing queue
    assert registry.get_kind("line_send").max_attempts == 8


def test_declaring_one_job_name_twice_is_an_error(restore_registry):
    @registry.job("test_twice")
    def first(ctx):
        return 1

    registry.job("test_twice")(first)  # the same function again (a reload) is fine
    with pytest.raises(registry.DuplicateJob, match="test_twice"):
        @registry.job("test_twice")
        def second(ctx):
            return 2
    assert registry.get_kind("test_twice").func is first


def test_an_unknown_kind_is_refused_when_enqueued(app):
    from phopy.data import get_database
    from phopy.jobs.queue import enqueue
    conn = get_database(app).connect()
    try:
        with pytest.raises(registry.UnknownJob):
            enqueue(conn, "no_such_job")
    finally:
        conn.close()


def test_the_factory_refuses_a_schedule_entry_naming_no_job(tmp_path, restore_registry):
    schedule.periodic("test-orphan", "no_such_job", 60)
    with pytest.raises(schedule.ScheduleError, match="test-orphan -> no_such_job"):
        create_app(make_test_config(tmp_path))


def test_one_schedule_name_cannot_mean_two_jobs(restore_registry):
    schedule.periodic("test-entry", "prune_tasks", 60)
    schedule.periodic("test-entry", "prune_tasks", 60)  # declared again, same meaning
    with pytest.raises(schedule.ScheduleError):
        schedule.periodic("test-entry", "purge_faces", 60)


def test_recovery_hooks_are_declared_by_their_services(app):
    names = [hook.__name__ for hook in registry.recovery_hooks()]
    assert "recover_interrupted_imports" in names and "recover_orphan_files" in names
