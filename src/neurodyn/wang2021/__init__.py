"""Wang 2021 (UCSD MS thesis): GNN vs MLP for behaviour classification and trajectory
prediction in C. elegans. Grid and state mappings are torch-free (used by the DAG)."""
