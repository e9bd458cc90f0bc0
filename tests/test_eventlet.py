"""What only the eventlet worker does: the standard library is patched before the app is imported
(and never in the master), and the app's own green threads run on the worker's hub. Everything
else it shares with the other workers is in the parametrized behaviour tests."""

from conftest import http_request

EVENTLET = ("-k", "eventlet")


def test_the_app_is_imported_after_eventlet_patched_the_standard_library(corn_server):
    server = corn_server("eventlet_app:app", *EVENTLET)
    assert http_request(server.port, path="/patched").body == b"socket=True thread=True time=True"


def test_eventlets_maintenance_mode_is_said_once_in_one_line(corn_server):
    server = corn_server("eventlet_app:app", *EVENTLET, "-w", "2")
    assert server.log().count("eventlet is in maintenance mode upstream") == 1
    assert "Eventlet is deprecated" not in server.log()  # eventlet's own page-long notice, per worker


def test_the_master_is_not_patched_when_it_preloads_the_app(corn_server):
    # with --preload the app is imported in the master, before any worker patches anything
    server = corn_server("eventlet_app:app", *EVENTLET, "--preload")
    assert http_request(server.port, path="/patched").body == b"socket=False thread=False time=False"


def test_green_threads_the_app_spawns_run_on_the_workers_hub(corn_server):
    server = corn_server("eventlet_app:app", *EVENTLET)
    resp = http_request(server.port, path="/spawn")
    assert resp.status == 200 and resp.body == b"from a green thread"
