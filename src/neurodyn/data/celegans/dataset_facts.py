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
NICHOLS_STATES = ("reversal", "forward", "quiescence", "turn")  # FourStates codes 0..3
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


SHAPES: dict[str, DatasetShape] = {
    "Kato2015": DatasetShape(12, 42, 127, (1080, 1080), (2.8, 3.07), "kato8", KATO_CORE),
    "Nichols2017": DatasetShape(44, 34, 108, (1080, 1080), (2.8, 4.6), "nichols4", NICHOLS_CORE),
    "Skora2018": DatasetShape(12, 46, 129, (1080, 1080), (2.8, 3.3), "none", ()),
    "Kaplan2020": DatasetShape(19, 36, 114, (1080, 1080), (2.8, 3.3), "none", ()),
    "Yemini2021": DatasetShape(48, 110, 110, (230, 250), (3.9, 4.1), "none", ()),
    "Uzel2022": DatasetShape(6, 50, 138, (1080, 1080), (1.6, 1.8), "none", ()),
    "Flavell2023": DatasetShape(40, 88, 136, (940, 980), (1.6, 1.7), "none", ()),
    "Leifer2023": DatasetShape(103, 63, 67, (420, 1200), (1.9, 2.1), "none", ()),
    "Dag2023": DatasetShape(7, 100, 140, (470, 490), (1.6, 1.7), "dag2", ()),
}

STATE_SETS = {"kato8": KATO_STATES, "nichols4": NICHOLS_STATES, "dag2": DAG_STATES,
              "none": None}
UNKNOWN_STATES = {"kato8": ("nostate",), "nichols4": (), "dag2": (), "none": ()}

REFERENCES: dict[str, str] = {
    "Kato2015": (
        "Kato S, Kaplan HS, Schrödel T, Skora S, Lindsay TH, Yemini E, Lockery S, Zimmer M "
        "(2015). Global brain dynamics embed the motor command sequence of Caenorhabditis "
        "elegans. Cell 163(3):656-669. doi:10.1016/j.cell.2015.09.034"
    ),
    "Nichols2017": (
        "Nichols ALA, Eichler T, Latham R, Zimmer M (2017). A global brain state underlies C."
        " elegans sleep behavior. Science 356(6344):eaam6851. doi:10.1126/science.aam6851"
    ),
    "Skora2018": (
        "Skora S, Mende F, Zimmer M (2018). Energy scarcity promotes a brain-wide sleep state"
        " modulated by insulin signaling in C. elegans. Cell Rep 22(4):953-966. "
        "doi:10.1016/j.celrep.2017.12.091"
    ),
    "Kaplan2020": (
        "Kaplan HS, Salazar Thula O, Khoss N, Zimmer M (2020). Nested neuronal dynamics "
        "orchestrate a behavioral hierarchy across timescales. Neuron 105(3):562-576.e9. "
        "doi:10.1016/j.neuron.2019.10.037"
    ),
    "Yemini2021": (
        "Yemini E, Lin A, Nejatbakhsh A, Varol E, Sun R, Mena GE, Samuel ADT, Paninski L, "
        "Venkatachalam V, Hobert O (2021). NeuroPAL: a multicolor atlas for whole-brain "
        "neuronal identification in C. elegans. Cell 184(1):272-288.e11. "
        "doi:10.1016/j.cell.2020.12.012"
    ),
    "Uzel2022": (
        "Uzel K, Kato S, Zimmer M (2022). A set of hub neurons and non-local connectivity "
        "features support global brain dynamics in C. elegans. Curr Biol 32(16):3443-3459.e8."
        " doi:10.1016/j.cub.2022.06.039"
    ),
    "Flavell2023": (
        "Atanas AA, Kim J, Wang Z, Bueno E, Becker M, Kang D, et al., Flavell SW (2023). "
        "Brain-wide representations of behavior spanning multiple timescales and states in C."
        " elegans. Cell 186(19):4134-4151.e31. doi:10.1016/j.cell.2023.07.035"
    ),
    "Leifer2023": (
        "Randi F, Sharma AK, Dvali S, Leifer AM (2023). Neural signal propagation atlas of "
        "Caenorhabditis elegans. Nature 623:406-414. doi:10.1038/s41586-023-06683-4"
    ),
    "Dag2023": (
        "Dag U, Nwabudike I, Kang D, Gomes MA, Kim J, Atanas AA, Bueno E, Estrem C, Pugliese "
        "S, Wang Z, Towlson E, Flavell SW (2023). Dissecting the functional organization of "
        "the C. elegans serotonergic system at whole-brain scale. Cell 186(12):2574-2592.e20."
        " doi:10.1016/j.cell.2023.04.023"
    ),
}
