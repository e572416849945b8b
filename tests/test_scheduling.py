"""GPU and CPU assignment for concurrent jobs, without a GPU."""

import threading
import time

import pytest

from grader.errors import SandboxError
from grader.scheduling import ResourcePool, cpu_sets, gpu_list


def test_cpu_sets_are_disjoint():
    assert cpu_sets(2, [0, 1, 2, 3]) == ["0,1", "2,3"]
    assert cpu_sets(1, [0, 1]) == ["0,1"]
    assert cpu_sets(3, [0, 1]) == [None, None, None]


def test_gpu_list():
    assert gpu_list(2, []) == ["0", "1"]
    assert gpu_list(None, ["GPU-a", "GPU-b"]) == ["GPU-a", "GPU-b"]
    assert gpu_list(None, []) == []
    with pytest.raises(SandboxError):
        gpu_list(None, ["0", "0"])


def test_each_concurrent_job_gets_its_own_gpu():
    pool = ResourcePool(jobs=4, gpus=["0", "1"])
    held: list[str] = []
    peak = {"n": 0}
    lock = threading.Lock()

    def job():
        with pool.slot() as slot:
            with lock:
                assert slot.gpu_ids[0] not in held, "two jobs on one GPU"
                held.append(slot.gpu_ids[0])
                peak["n"] = max(peak["n"], len(held))
            time.sleep(0.05)
            with lock:
                held.remove(slot.gpu_ids[0])

    threads = [threading.Thread(target=job) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak["n"] == 2 and pool.concurrency_limit == 2


def test_jobs_per_gpu_and_cpu_pinning():
    pool = ResourcePool(jobs=2, gpus=["7"], jobs_per_gpu=2, pin_cpus=True)
    with pool.slot() as a, pool.slot() as b:
        assert a.gpu_ids == b.gpu_ids == ("7",)
        if a.cpuset and b.cpuset:
            assert not set(a.cpuset.split(",")) & set(b.cpuset.split(","))


def test_device_requests_pin_the_slot_gpu(tmp_path):
    from grader.grading import GradeOptions, sandbox_spec
    from grader.sandbox.docker import container_settings
    from grader.sandbox.factory import limits_from_spec
    from grader.scheduling import Slot

    spec = sandbox_spec("docker", [], GradeOptions(), Slot(gpu_ids=("GPU-xyz",), cpuset="1"))
    settings = container_settings(limits_from_spec(spec), "img", tmp_path, "b", spec.cpuset)
    assert settings["device_requests"][0]["DeviceIDs"] == ["GPU-xyz"] and settings["cpuset_cpus"] == "1"


def test_prestart_only_where_a_core_is_left_free() -> None:
    from grader.executors.local import wants_prestart
    from grader.grading import GradeOptions

    cpu_pool = ResourcePool(jobs=1, gpus=[])
    assert wants_prestart(GradeOptions(jobs=1), cpu_pool, submissions=20, cores=2)
    assert not wants_prestart(GradeOptions(jobs=2), cpu_pool, submissions=20, cores=2)  # no core left
    assert wants_prestart(GradeOptions(jobs=2), cpu_pool, submissions=20, cores=16)
    assert not wants_prestart(GradeOptions(jobs=1), cpu_pool, submissions=1, cores=2)  # nothing to warm up
    assert not wants_prestart(GradeOptions(jobs=1, prestart=False), cpu_pool, submissions=20, cores=2)
    assert not wants_prestart(GradeOptions(jobs=1), ResourcePool(jobs=1, gpus=["0"]), submissions=20, cores=2)
