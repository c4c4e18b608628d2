"""Collect a cohort's chunk records into fits.csv and generation.nc."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(snakemake.scriptdir).resolve().parents[1] / "src"))  # noqa: F821

from neurodyn.io.atomic import atomic_path, write_text  # noqa: E402
from neurodyn.scaling.collect import fits_table, generation_dataset, load_records  # noqa: E402
from neurodyn.workflow import logged  # noqa: E402

sm = snakemake  # noqa: F821
with logged(sm):
    records = load_records(sm.input)
    cohort = sm.wildcards.cohort
    write_text(sm.output.fits, fits_table(records, cohort).to_csv(index=False,
                                                                  float_format="%.8g"))
    with atomic_path(sm.output.generation) as tmp:
        generation_dataset(records, cohort).to_netcdf(tmp, engine="netcdf4")
