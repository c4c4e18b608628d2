"""Facts about the real C. elegans datasets: sizes, label vocabularies, citations.

Worm counts and mean labeled/recorded neurons per worm follow Table I of Simeon et al. 2024
(the later worm-data-preprocess README; Yemini2021 has 48 worms so that the total is 284).
Recording durations and sampling rates are approximate (Kato/Nichols/Skora/Kaplan 18-min
immobilised recordings at ~3 Hz; Yemini ~4 Hz; Flavell/Dag and Leifer freely moving at ~1.7-2
Hz); they set how long synthetic recordings are, not any result.
"""

from __future__ import annotations

from dataclasses import dataclass

KATO_STATES = ("dt", "fwd", "nostate", "rev1", "rev2", "revsus", "slow", "vt")
NICHOLS_STATES = ("REVERSAL", "FORWARD", "QUIESCENCE", "TURN")
DAG_STATES = ("forward", "reverse")
# The 22 names identified in all 5 real Kato worms (canonical spelling) plus VB1.
KATO_CORE = ("AIBL", "AIBR", "ALA", "ASKR", "AVAL", "AVAR", "AVBL", "AVBR", "AVEL", "AVER",
             "RIBL", "RID", "RIML", "RIMR", "RIVL", "RIVR", "RMED", "RMEL", "RMER", "SMDDR",
             "SMDVR", "VB2", "VB1")
NICHOLS_CORE = ("AIBR", "AVAL", "VB2")


@dataclass(frozen=True)
class DatasetShape:
    """What a real dataset looks like: sizes only."""

    n_worms: int
    labeled_mean: float
    recorded_mean: float
    duration_s: tuple[float, float]
    rate_hz: tuple[float, float]
    labels: str  # "kato8", "nichols4", "dag2" or "none"
    core: tuple[str, ...] = ()
    references: str = ""


SHAPES: dict[str, DatasetShape] = {
    "Kato2015": DatasetShape(12, 42, 127, (1080, 1080), (2.8, 3.07), "kato8", KATO_CORE,
                             "Kato et al. 2015, Cell 163:656, doi:10.1016/j.cell.2015.09.034"),
    "Nichols2017": DatasetShape(44, 34, 108, (1080, 1080), (2.8, 4.6), "nichols4", NICHOLS_CORE,
                                "Nichols et al. 2017, Science 356:eaam6851, "
                                "doi:10.1126/science.aam6851"),
    "Skora2018": DatasetShape(12, 46, 129, (1080, 1080), (2.8, 3.3), "none", (),
                              "Skora et al. 2018, Cell Rep 22:953, "
                              "doi:10.1016/j.celrep.2017.12.091"),
    "Kaplan2020": DatasetShape(19, 36, 114, (1080, 1080), (2.8, 3.3), "none", (),
                               "Kaplan et al. 2020, Neuron 105:562, "
                               "doi:10.1016/j.neuron.2019.10.037"),
    "Yemini2021": DatasetShape(48, 110, 110, (230, 250), (3.9, 4.1), "none", (),
                               "Yemini et al. 2021, Cell 184:272, "
                               "doi:10.1016/j.cell.2020.12.012"),
    "Uzel2022": DatasetShape(6, 50, 138, (1080, 1080), (1.6, 1.8), "none", (),
                             "Uzel et al. 2022, Curr Biol 32:4586, "
                             "doi:10.1016/j.cub.2022.08.047"),
    "Flavell2023": DatasetShape(40, 88, 136, (940, 980), (1.6, 1.7), "none", (),
                                "Atanas et al. 2023, Cell 186:4134, "
                                "doi:10.1016/j.cell.2023.07.035"),
    "Leifer2023": DatasetShape(103, 63, 67, (420, 1200), (1.9, 2.1), "none", (),
                               "Randi et al. 2023, Nature 623:406, "
                               "doi:10.1038/s41586-023-06683-4"),
    "Dag2023": DatasetShape(7, 100, 140, (470, 490), (1.6, 1.7), "dag2", (),
                            "Dag et al. 2023, Cell 186:2574, doi:10.1016/j.cell.2023.04.023"),
}

STATE_SETS = {"kato8": KATO_STATES, "nichols4": NICHOLS_STATES, "dag2": DAG_STATES,
              "none": None}
UNKNOWN_STATES = {"kato8": ("nostate",), "nichols4": (), "dag2": (), "none": ()}
