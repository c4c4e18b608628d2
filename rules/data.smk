# Raw data -> calcium NetCDF (schema neurodyn-calcium/1) -> preprocessing -> tables, figures.


rule synthetic_calcium:
    output:
        "results/data/synthetic/raw/{dataset}.nc",
    params:
        code=DATA_CODE,
        n_worms=lambda wc: DATA["synthetic"]["worms"][wc.dataset],
        duration_scale=DATA["synthetic"].get("duration_scale", 1.0),
        seed=config["seed"],
    log:
        "logs/data/synthetic/raw/{dataset}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/synthetic_calcium.py"


rule real_calcium:
    input:
        real_inputs,
    output:
        "results/data/real/raw/{dataset}.nc",
    params:
        code=DATA_CODE,
        raw_dir=lambda wc: str(real_dir(wc.dataset)),
        unknown_neuron_names=lambda wc: DATA["real"]["unknown_neuron_names"].get(wc.dataset),
    log:
        "logs/data/real/raw/{dataset}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/real_calcium.py"


rule preprocess:
    input:
        "results/data/{source}/raw/{dataset}.nc",
    output:
        "results/data/{source}/processed/{dataset}.nc",
    params:
        code=DATA_CODE,
        preprocess=DATA["preprocess"],
    log:
        "logs/data/{source}/processed/{dataset}.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/preprocess.py"


checkpoint combine:
    input:
        processed_files,
    output:
        "results/data/{source}/processed/combined.nc",
    params:
        code=DATA_CODE,
    log:
        "logs/data/{source}/combine.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/combine.py"


rule table1:
    input:
        raw_files,
    output:
        csv=report(
            "results/data/{source}/tables/table1.csv",
            caption="../workflow/report/table1.rst",
            category="Data",
            subcategory="{source}",
            labels={"source": "{source}", "table": "Table I"},
        ),
        md="results/data/{source}/tables/table1.md",
        prov="results/data/{source}/tables/table1.provenance.json",
    params:
        code=DATA_CODE,
    log:
        "logs/data/{source}/table1.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/table1.py"


rule data_figures:
    input:
        raw_files,
    output:
        overview=report(
            "results/data/{source}/figures/overview.png",
            caption="../workflow/report/overview.rst",
            category="Data",
            subcategory="{source}",
            labels={"source": "{source}", "figure": "Fig. 1A overview"},
        ),
        coverage=report(
            "results/data/{source}/figures/coverage.png",
            caption="../workflow/report/coverage.rst",
            category="Data",
            subcategory="{source}",
            labels={"source": "{source}", "figure": "Fig. 3 coverage"},
        ),
    params:
        code=DATA_CODE,
    log:
        "logs/data/{source}/figures.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/data_figures.py"


rule preprocessing_figure:
    input:
        raw=lambda wc: f"results/data/{wc.source}/raw/{illustration_dataset(wc)}.nc",
        processed=lambda wc: f"results/data/{wc.source}/processed/{illustration_dataset(wc)}.nc",
    output:
        report(
            "results/data/{source}/figures/preprocessing.png",
            caption="../workflow/report/preprocessing.rst",
            category="Data",
            subcategory="{source}",
            labels={"source": "{source}", "figure": "Fig. 2 preprocessing"},
        ),
    params:
        code=DATA_CODE,
        neurons=DATA.get("figures", {}).get("illustration_neurons", ["AVAL"]),
        preprocess=DATA["preprocess"],
    log:
        "logs/data/{source}/preprocessing_figure.log",
    conda:
        "../envs/data.yaml"
    script:
        "../workflow/scripts/preprocessing_figure.py"


rule connectome_rebuild:
    """Optional: rebuild the packaged White 1986 matrices (needs `cect`, see README)."""
    output:
        "results/connectome/connectome_white1986.nc",
    params:
        code=DATA_CODE,
    log:
        "logs/connectome_rebuild.log",
    conda:
        "../envs/connectome.yaml"
    script:
        "../workflow/scripts/connectome_rebuild.py"
