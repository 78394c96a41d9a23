"""bench.run.build_requests: the requests a load target rotates through."""
from bench.run import FRESH_VARIANTS, build_requests

PROBE = {"sessions": {"hot": ["s-a", "s-b"]}, "csrf_cookie": "csrftoken", "csrf_secret": "x" * 32, "session_cookie": "sessionid"}


def test_a_fresh_target_never_repeats_a_path_and_keeps_each_paths_account():
    target = {"paths": ["/applications/1/", "/applications/2/"], "who": "hot", "session_index": [0, 1], "fresh": True}
    requests = build_requests("detail_fresh", target, PROBE, b"")
    assert len(requests) >= FRESH_VARIANTS
    assert len({r.path for r in requests}) == len(requests)
    for request in requests:
        session = "s-a" if request.path.startswith("/applications/1/?") else "s-b"
        assert f"sessionid={session}" in request.headers["Cookie"]


def test_other_targets_rotate_through_their_paths_as_given():
    target = {"paths": ["/applications/"], "who": "hot"}
    requests = build_requests("dashboard_hot", target, PROBE, b"")
    assert [r.path for r in requests] == ["/applications/"]
