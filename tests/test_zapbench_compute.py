"""UNet arithmetic (parameters, MACs, receptive field) against the built model, and the two
fixed-compute tables: the receptive-field sweep holds compute, a coarser input the field of
view."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zapbench_helpers import zapbench_config

from neurodyn.zapbench import compute as C
from neurodyn.zapbench.grid import all_unet_settings, unet_settings
from neurodyn.zapbench.results import differs_only_in
from neurodyn.zapbench.unet import VideoUNet, count_parameters, unet_config

ARCHS = [  # (levels, blocks, input_downsample, direct)
    (0, 1, 1, False), (2, 1, 1, False), (3, (1, 2, 1, 2), 1, False), (2, 1, 2, False),
    (2, 1, 4, True), (1, (2, 1), 2, False), (3, 1, 4, False),
]


def _settings(levels, blocks, d, direct, features=4, groups=2):
    return unet_settings({"features": features, "groups": groups, "levels": levels,
                          "blocks": blocks}, {"input_downsample": d, "direct": direct})


def _macs(model: VideoUNet, x: torch.Tensor, lead: torch.Tensor | None) -> int:
    """Multiply-accumulates of the convolutions and dense layers, counted by hooks."""
    total = 0

    def hook(mod, inp, out):
        nonlocal total
        if isinstance(mod, nn.Conv3d):
            total += out[0].numel() * mod.in_channels * mod.weight[0, 0].numel()
        else:
            total += out[0].numel() * mod.in_features
    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv3d, nn.Linear))]
    with torch.no_grad():
        model(x, lead)
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("arch", ARCHS)
def test_cost_counts_the_built_model(arch):
    levels, blocks, d, direct = arch
    s = _settings(levels, blocks, d, direct)
    shape, horizon = (4, 16, 16), 8
    model = VideoUNet(unet_config(s, 3, horizon), shape).eval()
    x = torch.randn(1, 3, 4, 16 // d, 16 // d)
    cost = C.unet_cost(s, 3, horizon, shape)
    assert cost["params"] == count_parameters(model)
    assert cost["macs"] == _macs(model, x, None if direct else torch.tensor([2.0]))
    assert len(model.enc) == levels + 1 - C.input_offset(d)  # coarse input: fewer levels


@pytest.mark.parametrize("arch", ARCHS)
def test_receptive_field_is_the_gradient_footprint(arch):
    """Positive weights, no norms: an output voxel's input gradient is nonzero exactly on its
    receptive field; its largest X extent (in full-resolution voxels) over output positions
    is ``receptive_field_xy``."""
    levels, blocks, d, direct = arch
    s = _settings(levels, blocks, d, direct, groups=1)
    x_size, shape = 256, (4, 256, 4)
    model = VideoUNet(unet_config(s, 2, 4), shape).eval()
    for mod in list(model.modules()):
        for child, sub in list(mod.named_children()):
            if isinstance(sub, nn.GroupNorm):
                setattr(mod, child, nn.Identity())
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 1e-3)
    x = (torch.rand(1, 2, 4, x_size // d, 4) + 0.1).requires_grad_(True)
    lead = None if direct else torch.tensor([1.0])
    extent = 0
    for x0 in range(x_size // 2, x_size // 2 + 2 ** (levels + 1)):
        (g,) = torch.autograd.grad(model(x, lead)[0, 0, 1, x0, 2], x)
        cols = torch.nonzero(g.abs().sum(dim=(0, 1, 2, 4))).flatten()
        extent = max(extent, int(cols.max() - cols.min() + 1) * d)
    assert extent == C.receptive_field_xy(s)


def _configs():
    return {"default": zapbench_config(tiny=False),
            "paper": zapbench_config(tiny=False, paper=True)}


@pytest.mark.parametrize("tier", ["default", "paper"])
def test_receptive_field_sweep_holds_compute_roughly_fixed(tier):
    """Fig. 5's sweep (variants differing from the reference only in levels and blocks) stays
    within RF_COMPUTE_RATIO in MACs per forward at every context, while its receptive fields
    differ (the sweep sweeps the receptive field, not the compute)."""
    z = _configs()[tier]
    settings, ref = all_unet_settings(z), z["unet"]["reference"]
    sweep = differs_only_in(settings, ref, ["levels", "blocks"])
    shape, horizon = z["data"]["generator"]["shape"], z["benchmark"]["horizon"]
    assert len(sweep) >= 2
    for c in {int(c) for v in sweep for c in z["unet"]["variants"][v]["contexts"]}:
        macs = [C.unet_cost(settings[v], c, horizon, shape)["macs"] for v in sweep]
        assert C.compute_ratio(macs) <= C.RF_COMPUTE_RATIO, (c, sweep, macs)
    rfs = [C.receptive_field_xy(settings[v]) for v in sweep]
    assert len(set(rfs)) == len(sweep) and max(rfs) >= 4 * min(rfs)


@pytest.mark.parametrize("tier", ["default", "paper"])
def test_coarser_input_keeps_the_physical_field_of_view(tier):
    """Table 2: every input-resolution variant sees the reference's field of view (XY
    receptive field in full-resolution voxels) within FOV_TOLERANCE, not d times it."""
    z = _configs()[tier]
    settings, ref = all_unet_settings(z), z["unet"]["reference"]
    arms = differs_only_in(settings, ref, ["input_downsample"])
    assert {int(settings[v]["input_downsample"]) for v in arms} == {1, 2, 4}
    fov = C.receptive_field_xy(settings[ref])
    for v in arms:
        assert abs(C.receptive_field_xy(settings[v]) - fov) <= C.FOV_TOLERANCE * fov, v


def test_arithmetic_rejects_bad_architectures():
    with pytest.raises(ValueError, match="power of two"):
        C.input_offset(3)
    with pytest.raises(ValueError, match="need 3 counts"):
        C.block_counts((1, 2), 2)
    with pytest.raises(ValueError, match="levels ≥ 2"):
        unet_config(_settings(1, 1, 4, False), 4, 8)
    assert C.level_shapes(3, 1, (4, 16, 16)) == [
        (0, (4, 16, 16)), (1, (4, 8, 8)), (2, (2, 4, 4)), (3, (1, 2, 2))]  # z after level 1


def _records(settings, contexts, shape=(4, 16, 16), horizon=8):
    return [{"kind": "unet", "variant": v, "context": c, "seed": 0,
             "n_parameters": C.unet_cost(settings[v], c, horizon, shape)["params"],
             "macs": C.unet_cost(settings[v], c, horizon, shape)["macs"],
             "rf_xy": C.receptive_field_xy(settings[v])} for v in settings for c in contexts]


def test_sweep_and_table2_report_compute_and_field_of_view():
    import pandas as pd

    from neurodyn.zapbench.results import ablation_table, arch_frame, overall, rf_sweep_table

    model = {"features": 8, "groups": 2, "levels": 2, "blocks": 1}
    settings = {v: unet_settings(model, spec) for v, spec in {
        "base": {}, "rf0": {"levels": 0}, "rf3": {"levels": 3, "blocks": [1, 1, 2, 2]},
        "in_x2": {"input_downsample": 2}, "masked": {"input_mask": "segments"}}.items()}
    rows = [{"label": f"unet:{v}", "kind": "unet", "context": 4, "seed": s, "split": "test",
             "step": h, "mae": (0.5 if v == "rf0" and h > 8 else 0.4) + 0.01 * s}
            for v in settings for s in (0, 1, 2) for h in range(1, 33)]
    steps = pd.DataFrame(rows)
    arch = arch_frame(_records(settings, [4]))
    sweep = rf_sweep_table(steps, arch, settings, "base", "synthetic").set_index("variant")
    assert list(sweep.index) == ["base", "rf0", "rf3"]  # not the input or mask variants
    assert sweep.loc["base", "macs_vs_reference"] == 1.0
    assert sweep["macs_vs_reference"].max() / sweep["macs_vs_reference"].min() <= 1.3
    assert sweep.loc["rf0", "rf_xy"] < sweep.loc["base", "rf_xy"] < sweep.loc["rf3", "rf_xy"]
    assert sweep.loc["rf0", "mae_steps_9_32_mean"] == pytest.approx(0.51)
    assert sweep.loc["rf3", "blocks"] == "[1, 1, 2, 2]"
    t2 = ablation_table(overall(steps), settings, "base", ["input_downsample"], 4,
                        "synthetic", arch).set_index("variant")
    assert set(t2.index) == {"base", "in_x2"}
    fov = t2.loc["base", "rf_xy"]
    assert abs(t2.loc["in_x2", "rf_xy"] - fov) <= C.FOV_TOLERANCE * fov
    assert t2.loc["in_x2", "macs"] < t2.loc["base", "macs"]


def test_grid_check_names_a_bad_architecture():
    from neurodyn.zapbench.grid import check

    z = zapbench_config(tiny=False)
    z["unet"]["variants"]["in_x4"]["levels"] = 1
    with pytest.raises(ValueError, match="variants.in_x4: input_downsample=4 needs levels ≥ 2"):
        check(z)
    z = zapbench_config(tiny=False)
    z["unet"]["variants"]["rf0"]["blocks"] = [1, 2]
    with pytest.raises(ValueError, match="variants.rf0: blocks"):
        check(z)
