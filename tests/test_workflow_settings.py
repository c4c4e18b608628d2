"""neurodyn.workflow: a training job's settings come with the rule's thread count."""

from types import SimpleNamespace

import torch

from neurodyn.workflow import train_settings


def test_training_jobs_compute_on_the_rules_threads():
    before = torch.get_num_threads()
    job = SimpleNamespace(threads=1, resources=SimpleNamespace(gpu=0),
                          config={"train": {"device": "cpu"}})
    try:
        torch.set_num_threads(2)
        settings = train_settings(job)
        assert torch.get_num_threads() == 1 and settings.device == "cpu"
    finally:
        torch.set_num_threads(before)
