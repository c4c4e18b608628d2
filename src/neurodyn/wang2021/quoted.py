"""Numbers quoted from the thesis (Wang 2021) and Brennan & Proekt 2019, shown beside ours.

Accuracies in percent; Table 2.1 is mean ± sd over folds (columns: seen worms, unseen Kato
worms, unseen Nichols worms — our reading of the thesis table). None = not reported.
"""

from __future__ import annotations

TABLE_2_1: dict[str, tuple[tuple[float, float], tuple[float, float], tuple[float, float]]] = {
    "svm": ((98.8, 0.4), (82.8, 7.6), (79.0, 11.7)),
    "mlp": ((99.3, 0.6), (93.9, 10.3), (88.9, 11.4)),
    "gnn_connectome": ((99.5, 0.6), (96.8, 4.3), (85.5, 12.9)),
    "gnn": ((99.5, 0.5), (97.7, 3.1), (95.5, 6.4)),
}
BRENNAN_PROEKT_2019 = {"seen": 83.0, "unseen_kato": 81.0, "nichols": None}
SEVEN_STATE_SEEN = 92.0  # about 92 % (7 states, seen Kato worms)
FOUR_STATE_GNN_UNSEEN_KATO = 87.0  # about 87 % (GNN, unseen Kato worms)
FOUR_STATE_NICHOLS = 70.0  # about 70 % (4 states, 3 neurons, Nichols)
MODEL_NAMES = {"svm": "SVM", "mlp": "MLP", "node_mlp": "Node-MLP", "gnn": "GNN",
               "gnn_connectome": "GNN (connectome)", "lstm_mlp": "LSTM-MLP",
               "lstm_gnn": "LSTM-GNN", "nochange": "no change"}

#: Training settings of the thesis (its Sec. 2 / App. A; our reading, as in the spec): a run's
#: settings that differ are listed in the findings' data column.
THESIS_TRAINING = {
    "classify": {"epochs": 800, "lr": 1e-3, "lr_patience": 50, "hidden": 16},
    "trajectory": {"epochs": 800, "lr": 1e-3, "lr_patience": 50, "hidden": 256,
                   "ss_epochs": 300},
}
