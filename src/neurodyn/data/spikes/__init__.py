"""Spiking datasets in the ``neurodyn-spikes/1`` schema (:mod:`neurodyn.io.spikes`).

- :mod:`.synthetic_rnn` — the 2019 paper's input-driven chaotic RNN (true rates kept);
- :mod:`.reaching` — a maze-like reaching stand-in with hand velocity (offline Fig. 5);
- :mod:`.linear` — low-dimensional linear-Gaussian data for the autoencoder demo (Fig. 3);
- :mod:`.nwb` — reader of the NLB MC_Maze NWB files (DANDI 000128, 000138–000140).
"""
