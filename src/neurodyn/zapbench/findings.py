"""Claims Z1–Z13 of ZAPBench and the video-forecasting paper, decided by rules fixed here.

Inputs: the per-step frame of every fit (:func:`neurodyn.zapbench.results.per_step_frame`:
label, kind, context, seed, split, step, mae) and the fits frame (:func:`fits_frame`: whether a
trained fit stopped early). A measurement is a per-seed difference of test MAEs (averaged over
the lead times the claim names; the conditions already equal-weighted), summarised as a mean
with a 95 % t-interval over seeds (:func:`neurodyn.findings.mean_interval`).

Rules (constants below):

- sign claims ("A beats B"): reproduced when every interval of the claim lies above 0 (the
  margin is oriented so that > 0 means the claim holds), not reproduced when one lies below 0,
  otherwise inconclusive;
- no-effect claims (masking, pre-training, coarser input): the per-seed relative change of the
  test MAE (percent) against the reference; reproduced when the interval of every arm shows no
  improvement beyond :data:`NO_EFFECT_PCT` (for masking: no change beyond it either way), not
  reproduced when an interval lies wholly beyond it, otherwise inconclusive.

Evidence: fewer than :data:`MIN_SEEDS` seeds, a missing arm, or a trained fit of the claim that
ended at its step cap instead of by early stopping (not trained until its validation MAE stopped
improving; fits without checkpoint selection, e.g. train+val, never stop early and do not count)
make a claim inconclusive. When only the width of its intervals leaves a claim undecided, the
reason also says how many seeds would decide it if the observed means and spreads held
(:func:`seeds_to_decide`): a projection for planning a larger run, never part of the verdict.
On the synthetic miniature, all waves travel +x at one voxel per
frame, so the input a neuron receives h frames ahead lies h voxels upstream: claims about the
receptive field against the lead time or context (:data:`BY_CONSTRUCTION`) are true by
construction there and never evidence. The generator's ``mixed`` waves (sources entering
from every edge, a fraction appearing in place) vary that, and there they count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from neurodyn.findings import INCONCLUSIVE, Finding, Interval, mean_interval, t_half_width, verdict
from neurodyn.zapbench.results import LEARNED, differs_only_in

MIN_SEEDS = 3
#: lead times 1..8 are "short" (Fig. 6: the video model's advantage), 9..32 "long"
SHORT_LEADS = (1, 8)
LONG_LEADS = (9, 32)
#: no-effect claims: an effect under 1 % of the test MAE counts as none (the paper's mask
#: ablation and pre-training arms differ by 0.3 % and 0.7 %)
NO_EFFECT_PCT = 1.0
NAIVE = ("mean", "last")
BY_CONSTRUCTION = {"Z7", "Z10"}
CONSTRUCTION_REASON = ("the miniature makes this true by construction (all waves travel +x "
                       "at one voxel per frame): never evidence")
SCALE = "; miniature MAEs are on another scale"
#: seed counts beyond this are reported as "more than"
MAX_PROJECTED_SEEDS = 10_000


def seeds_to_decide(iv: Interval, bounds: Sequence[float], level: float = 0.95) -> int | None:
    """Smallest seed count at which an interval with ``iv``'s mean and standard deviation
    (recovered from its ``level`` t-interval) would exclude every one of ``bounds`` it now
    contains; ``iv.n`` when it contains none, None when that takes more than
    :data:`MAX_PROJECTED_SEEDS` (or ``iv`` has no interval)."""
    if iv.n < 2 or not np.isfinite(iv.low) or not np.isfinite(iv.high):
        return None
    sd = (iv.high - iv.low) / 2 / t_half_width(1.0, iv.n, level)
    n = np.arange(2, MAX_PROJECTED_SEEDS + 1)
    half = t_half_width(sd, n, level)
    need = iv.n
    for bound in bounds:
        if iv.low <= bound <= iv.high:
            clear = np.flatnonzero(half < abs(iv.mean - bound))
            if clear.size == 0:
                return None
            need = max(need, int(n[clear[0]]))
    return need


def _projection(ivs: Sequence[Interval], bounds: Sequence[float]) -> str:
    """The reason's projection: seeds that would decide the claim at the observed values."""
    needs = [seeds_to_decide(iv, bounds) for iv in ivs]
    if not needs:
        return ""
    now = min(iv.n for iv in ivs)
    if any(k is None for k in needs):
        return (f"at the observed means and spreads more than {MAX_PROJECTED_SEEDS:,} seeds "
                f"would be needed ({now} now)")
    return (f"at the observed means and spreads about {max(needs)} seeds would decide it "
            f"({now} now)")


def waves_fix_direction(source: str, generator: Mapping[str, Any]) -> bool:
    """Whether the data make the :data:`BY_CONSTRUCTION` claims true: a synthetic miniature
    whose waves all travel one way (every source enters one component). With ``mixed``
    directions and sources that appear in place, where a neuron's future input comes from is
    not fixed, and whether the UNet's receptive field helps is a measurement."""
    return source == "synthetic" and generator.get("wave_direction", "+x") != "mixed"


def fits_frame(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per fit: label, context, seed, ``trained`` and ``capped`` (ended at the step cap
    with checkpoint selection on, i.e. not stopped early)."""
    rows = []
    for r in records:
        fit = r.get("fit") or {}
        trained = "stopped_early" in fit
        capped = trained and not fit["stopped_early"] and fit.get("selection") != "last step"
        label = f"unet:{r['variant']}" if r["kind"] == "unet" else r["model"]
        rows.append({"label": label, "context": int(r["context"]), "seed": int(r["seed"]),
                     "trained": trained, "capped": bool(capped)})
    return pd.DataFrame(rows, columns=["label", "context", "seed", "trained", "capped"])


class _Data:
    """Per-seed test MAEs (mean over a lead-time range) and the evidence of the arms used."""

    def __init__(self, steps: pd.DataFrame, fits: pd.DataFrame) -> None:
        self.test = steps[steps["split"] == "test"]
        self.fits = fits
        self.used: set[tuple[str, int]] = set()

    def labels(self, context: int, kind: str) -> list[str]:
        t = self.test[(self.test["context"] == context) & (self.test["kind"] == kind)]
        return sorted(t["label"].unique())

    def mae(self, label: str, context: int, leads: tuple[int, int] | None = None) -> pd.Series:
        t = self.test[(self.test["label"] == label) & (self.test["context"] == context)]
        if leads:
            t = t[(t["step"] >= leads[0]) & (t["step"] <= leads[1])]
        self.used.add((label, context))
        return t.groupby("seed")["mae"].mean()

    def reasons(self, missing: Sequence[str]) -> list[str]:
        out = [f"missing arm(s) {', '.join(missing)}"] if missing else []
        seeds = [set(self.test[(self.test["label"] == lb) & (self.test["context"] == c)]
                     ["seed"]) for lb, c in self.used]
        common = len(set.intersection(*seeds)) if seeds else 0
        if common < MIN_SEEDS:
            out.append(f"{common} seed(s), need {MIN_SEEDS}")
        f = self.fits
        if not f.empty and self.used:
            keys = pd.MultiIndex.from_frame(f[["label", "context"]])
            mine = f[keys.isin(list(self.used))]
            trained = mine[mine["trained"]]
            if int(trained["capped"].sum()):
                out.append(f"{int(trained['capped'].sum())} of {len(trained)} trained fits hit "
                           "the step cap (validation MAE still improving)")
        return out


def _sign(ivs: Sequence[Interval]) -> bool | None:
    if not ivs:
        return None
    if any(iv.below for iv in ivs):
        return False
    return True if all(iv.above for iv in ivs) else None


def _text(named: Mapping[str, Interval], unit: str = "") -> str:
    return "; ".join(f"{k}: {iv.text('.3g')}{unit}" for k, iv in named.items()) or "—"


def _rel(arm: pd.Series, ref: pd.Series) -> Interval:
    """Per-seed relative change of ``arm`` against ``ref`` in percent."""
    both = arm.index.intersection(ref.index)
    return mean_interval(100 * (arm[both] - ref[both]) / ref[both])


def _diff(a: pd.Series, b: pd.Series) -> Interval:
    both = a.index.intersection(b.index)
    return mean_interval(a[both] - b[both])


def _best(d: _Data, context: int, leads: tuple[int, int] | None = None) -> pd.Series | None:
    """Per seed, the lowest MAE over the trace models at ``context``."""
    cols = [d.mae(lb, context, leads) for lb in d.labels(context, "trace")]
    return pd.concat(cols, axis=1).min(axis=1) if cols else None


def _no_help(arms: Mapping[str, Interval], both_ways: bool = False) -> bool | None:
    """No-effect rule on relative changes (%): no arm improves by more than NO_EFFECT_PCT
    (``both_ways``: none changes by more, either way)."""
    if not arms:
        return None
    if any(iv.high < -NO_EFFECT_PCT or (both_ways and iv.low > NO_EFFECT_PCT)
           for iv in arms.values() if iv.n >= 2):
        return False
    ok = all(iv.n >= 2 and iv.low > -NO_EFFECT_PCT and (not both_ways or iv.high < NO_EFFECT_PCT)
             for iv in arms.values())
    return True if ok else None


def zapbench_findings(steps: pd.DataFrame, fits: pd.DataFrame,
                      settings: Mapping[str, Mapping[str, Any]], reference: str, short: int,
                      long: int, data: str, by_construction: bool) -> list[Finding]:
    """Rows Z1–Z13 in order (see the module docstring for the rules); ``by_construction``:
    the data make the :data:`BY_CONSTRUCTION` claims true (:func:`waves_fix_direction`)."""
    settings = {k: dict(v) for k, v in settings.items()}
    unet = f"unet:{reference}"
    rows: list[Finding] = []

    def add(claim: str, statement: str, paper: str, measured: str, rule: str, d: _Data,
            passed: bool | None, missing: Sequence[str] = (),
            ivs: Sequence[Interval] = (), bounds: Sequence[float] = (0.0,)) -> None:
        reasons = d.reasons(missing)
        if by_construction and claim in BY_CONSTRUCTION:
            reasons.insert(0, CONSTRUCTION_REASON)
        n = min((len(d.mae(lb, c)) for lb, c in list(d.used)), default=0)
        word, reason = verdict(reasons, passed)
        projection = _projection(ivs, bounds) if word == INCONCLUSIVE and not reasons else ""
        if projection:
            reason = f"{reason}; {projection}"
        rows.append(Finding(claim, statement, paper, measured, rule, word, reason, data, n))

    def variants(keys: Sequence[str], pick: Any) -> list[str]:
        return [v for v in differs_only_in(settings, reference, keys)
                if v != reference and pick(settings[v])] if reference in settings else []

    # Z1: learned trace models beat the naive baselines at both contexts
    d, ivs = _Data(steps, fits), {}
    for c in (short, long):
        naive = [d.mae(m, c) for m in NAIVE if m in d.labels(c, "trace")]
        learned = [d.mae(m, c) for m in LEARNED if m in d.labels(c, "trace")]
        if naive and learned:
            ivs[f"C={c}"] = mean_interval(pd.concat(naive, axis=1).min(axis=1)
                                          - pd.concat(learned, axis=1).max(axis=1))
    add("Z1", "Every learned trace model beats the mean and last-value baselines",
        "ZAPBench benchmark, combined.json (published): learned models below the naive "
        "baselines at C = 4 and 256", f"best naive − worst learned MAE: {_text(ivs)}",
        "every context's interval > 0", d, _sign(list(ivs.values())),
        [] if len(ivs) == 2 else ["naive or learned trace models"], list(ivs.values()))
    # Z2, Z3: long context helps Time-Mix; Time-Mix at long C is the best trace model
    d = _Data(steps, fits)
    have = "timemix" in d.labels(short, "trace") and "timemix" in d.labels(long, "trace")
    iv = _diff(d.mae("timemix", short), d.mae("timemix", long)) if have else None
    add("Z2", "A long context helps Time-Mix",
        "ZAPBench (published): Time-Mix improves from C = 4 to C = 256",
        f"Time-Mix MAE C={short} − C={long}: {iv.text('.3g') if iv else '—'}",
        "interval > 0", d, _sign([iv] if iv else []), [] if have else ["timemix"],
        [iv] if iv else [])
    d = _Data(steps, fits)
    others = [d.mae(lb, c) for c in (short, long) for lb in d.labels(c, "trace")
              if (lb, c) != ("timemix", long)] if have else []
    iv = _diff(pd.concat(others, axis=1).min(axis=1), d.mae("timemix", long)) \
        if have and others else None
    add("Z3", "Time-Mix at the long context is the best trace model",
        "ZAPBench paper text (published): Time-Mix best trace model at C = 256",
        f"next-best trace MAE − Time-Mix C={long}: {iv.text('.3g') if iv else '—'}",
        "interval > 0", d, _sign([iv] if iv else []), [] if iv else ["trace models"],
        [iv] if iv else [])
    # Z4, Z5: the video UNet beats every trace model at the short context
    for claim, leads, what, paper in (
            ("Z4", None, "on the 32-step mean",
             "video paper Table 1 (published): UNet C = 4 test MAE 0.02573" + SCALE),
            ("Z5", SHORT_LEADS, f"at lead times {SHORT_LEADS[0]}–{SHORT_LEADS[1]}",
             "video paper Fig. 6 (published): the video model's margin is largest at short "
             "lead times")):
        d = _Data(steps, fits)
        ok = unet in d.labels(short, "unet") and d.labels(short, "trace")
        iv = _diff(_best(d, short, leads), d.mae(unet, short, leads)) if ok else None
        add(claim, f"The video UNet beats the best trace model at C = {short} {what}", paper,
            f"best trace − UNet MAE: {iv.text('.3g') if iv else '—'}", "interval > 0", d,
            _sign([iv] if iv else []), [] if ok else [unet], [iv] if iv else [])
    # Z6: masking unsegmented input voxels hardly changes the result
    d = _Data(steps, fits)
    arms = {v: _rel(d.mae(f"unet:{v}", short), d.mae(unet, short))
            for v in variants(["input_mask"], lambda s: s["input_mask"] != "none")
            if f"unet:{v}" in d.labels(short, "unet")}
    add("Z6", "Masking unsegmented input voxels changes the test MAE only marginally",
        "video paper mask ablation (published): 0.02663 vs 0.02672" + SCALE,
        f"relative change vs {reference}: {_text(arms, ' %')}",
        f"every interval within ±{NO_EFFECT_PCT} %", d, _no_help(arms, both_ways=True),
        [] if arms else ["masked variant"], list(arms.values()),
        (-NO_EFFECT_PCT, NO_EFFECT_PCT))
    # Z7: more pooling levels help at long lead times
    d = _Data(steps, fits)
    ref_lv = int(settings.get(reference, {}).get("levels", 0))
    ivs = {f"{v} ({settings[v]['levels']} levels)":
           _diff(d.mae(f"unet:{v}", short, LONG_LEADS), d.mae(unet, short, LONG_LEADS))
           for v in variants(["levels", "blocks"], lambda s: int(s["levels"]) < ref_lv)
           if f"unet:{v}" in d.labels(short, "unet")}
    add("Z7", f"More pooling levels (a larger receptive field) help at lead times "
        f"{LONG_LEADS[0]}–{LONG_LEADS[1]}",
        "video paper Fig. 5 (published): larger receptive fields help at long lead times",
        f"fewer-level MAE − {reference} ({ref_lv} levels), C={short}: {_text(ivs)}",
        "every interval > 0", d, _sign(list(ivs.values())), [] if ivs else ["rf variant"],
        list(ivs.values()))
    # Z8: train+val lowers the test MAE
    d = _Data(steps, fits)
    ivs = {v: _diff(d.mae(unet, short), d.mae(f"unet:{v}", short))
           for v in variants(["train_split"], lambda s: s["train_split"] == "train_val")
           if f"unet:{v}" in d.labels(short, "unet")}
    add("Z8", "Training on train+val lowers the test MAE",
        "video paper Table 1 (published): 0.02573 (train) → 0.02534 (train+val)" + SCALE,
        f"train − train+val MAE: {_text(ivs)}", "interval > 0", d, _sign(list(ivs.values())),
        [] if ivs else ["train+val variant"], list(ivs.values()))
    # Z9: the video model's advantage shrinks at the long context
    d = _Data(steps, fits)
    ok = all(unet in d.labels(c, "unet") and d.labels(c, "trace") for c in (short, long))
    iv = None
    if ok:
        adv_s = _best(d, short) - d.mae(unet, short)
        adv_l = _best(d, long) - d.mae(unet, long)
        iv = _diff(adv_s.dropna(), adv_l.dropna())
    add("Z9", "The video UNet's advantage over the best trace model shrinks at long context",
        "video paper Fig. 5/6 (published): the gap closes at C = 256",
        f"advantage C={short} − advantage C={long}: {iv.text('.3g') if iv else '—'}",
        "interval > 0", d, _sign([iv] if iv else []), [] if ok else [f"{unet} at both C"],
        [iv] if iv else [])
    # Z10: a large receptive field stops helping at long context (Fig. 5 crossover)
    d = _Data(steps, fits)
    ivs = {}
    for v in variants(["levels", "blocks"], lambda s: int(s["levels"]) < ref_lv):
        if all(f"unet:{v}" in d.labels(c, "unet") and unet in d.labels(c, "unet")
               for c in (short, long)):
            gain_s = d.mae(f"unet:{v}", short) - d.mae(unet, short)
            gain_l = d.mae(f"unet:{v}", long) - d.mae(unet, long)
            ivs[v] = _diff(gain_s.dropna(), gain_l.dropna())
    add("Z10", "A large receptive field helps less at long context (Fig. 5 crossover)",
        "video paper Fig. 5 (published): with C = 256 the receptive field stops helping",
        f"gain of {reference} over fewer levels, C={short} − C={long}: {_text(ivs)}",
        "every interval > 0", d, _sign(list(ivs.values())), [] if ivs else ["rf variant"],
        list(ivs.values()))
    # Z11, Z12: pre-training on other specimens and a coarser input do not help
    for claim, key, statement, paper in (
            ("Z11", "pretrain_specimens", "Pre-training on other specimens does not help",
             "video paper Table 1 (published): train 0.02573, pre-train +2 0.02590, +8 "
             "0.02591, train+val 0.02534" + SCALE),
            ("Z12", "input_downsample", "A coarser input does not help",
             "video paper Table 2 (published): 0.0267 / 0.0268 / 0.0273" + SCALE)):
        d = _Data(steps, fits)
        floor = 1 if key == "input_downsample" else 0
        arms = {v: _rel(d.mae(f"unet:{v}", short), d.mae(unet, short))
                for v in variants([key], lambda s, k=key, f=floor: int(s[k]) > f)
                if f"unet:{v}" in d.labels(short, "unet")}
        add(claim, statement, paper, f"relative change vs {reference}: {_text(arms, ' %')}",
            f"no interval's improvement beyond {NO_EFFECT_PCT} % (lower bound > "
            f"−{NO_EFFECT_PCT} %)", d, _no_help(arms), [] if arms else [key],
            list(arms.values()), (-NO_EFFECT_PCT,))
    # Z13: direct multi-step prediction does worse than lead-time conditioning
    d = _Data(steps, fits)
    ivs = {v: _diff(d.mae(f"unet:{v}", short), d.mae(unet, short))
           for v in variants(["direct"], lambda s: bool(s["direct"]))
           if f"unet:{v}" in d.labels(short, "unet")}
    add("Z13", "Direct multi-step prediction (all 32 frames at once) overfits: worse test MAE "
        "than lead-time conditioning",
        "video paper Fig. 4 (published): direct prediction overfits, worse than lead-time "
        "conditioning",
        f"direct − conditioned MAE: {_text(ivs)}", "interval > 0", d,
        _sign(list(ivs.values())), [] if ivs else ["direct variant"], list(ivs.values()))
    return rows
