"""Fixtures shared by the nndl reference tests."""
import pytest


@pytest.fixture(params=["one_thread", "threads"])
def threads(request, monkeypatch):
    """The reference's blocks on the calling thread, or shared out to 3 threads
    whatever the size (cs231n.threads), as big arrays are in training."""
    from cs231n import threads as threads_module
    monkeypatch.setattr(threads_module, "THREADS", 1 if request.param == "one_thread" else 3)
    monkeypatch.setattr(threads_module, "PARALLEL_MIN_BYTES", 0)
    return request.param
