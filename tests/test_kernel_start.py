"""conftest.py: a kernel that dies before its first reply is started again (at most
KERNEL_START_TRIES times in all); any other failure is not retried."""

from __future__ import annotations

import importlib.util

import pytest

from _shared import ROOT


def load_conftest():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def fake_start(monkeypatch):
    from nbval import kernel

    calls = []

    def install(failures, message="Kernel died before replying to kernel_info"):
        def start(*args, **kwargs):
            calls.append(1)
            if len(calls) <= failures:
                raise RuntimeError(message)
            return "kernel", "client"

        monkeypatch.setattr(kernel, "start_new_kernel", start)
        load_conftest()._retry_a_kernel_that_dies_at_start()
        return kernel.start_new_kernel

    return install, calls


def test_a_kernel_that_dies_at_start_is_started_again(fake_start):
    install, calls = fake_start
    assert install(failures=2)() == ("kernel", "client")
    assert len(calls) == 3


def test_a_kernel_that_never_starts_still_fails(fake_start):
    install, calls = fake_start
    with pytest.raises(RuntimeError, match="Kernel died"):
        install(failures=10)()
    assert len(calls) == load_conftest().KERNEL_START_TRIES


def test_another_failure_is_not_retried(fake_start):
    install, calls = fake_start
    with pytest.raises(RuntimeError, match="something else"):
        install(failures=1, message="something else")()
    assert len(calls) == 1
