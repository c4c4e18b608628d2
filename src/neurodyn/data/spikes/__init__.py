"""Spiking datasets in the ``neurodyn-spikes/1`` schema (:mod:`neurodyn.io.spikes`) used by
both LFADS studies (the 2019 paper's chaotic RNN and the linear autoencoder data live with
the LFADS study package).

- :mod:`.reaching` — a maze-like reaching stand-in with hand velocity (LFADS Fig. 5, AutoLFADS);
- :mod:`.nwb` — reader of the NLB MC_Maze NWB files (DANDI 000128, 000138–000140).
"""
