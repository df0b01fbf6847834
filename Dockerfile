# Kairus ETL Service: the API, scheduler, workers and /admin (and, with another command, the Jira simulator).
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Configuration comes from the environment (compose, Kubernetes), never from a baked-in .env.
    KAIRUS_ENV_FILE=""

WORKDIR /app

# Dependencies first: this layer is reused until requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

# README.md is the package readme (pyproject); the glob keeps the build working without it.
COPY pyproject.toml setup.py alembic.ini README.md* ./
COPY app ./app
COPY migrations ./migrations
COPY simulator ./simulator
COPY scripts ./scripts
# The install compiles the transform's hot modules in place (setup.py, mypyc): a C compiler is needed for
# that step only and is removed again. `python -m app` runs from /app, so it imports these compiled files.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && KAIRUS_COMPILE=1 pip install --no-deps -e . \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system kairus \
    && useradd --system --gid kairus --home-dir /app --shell /usr/sbin/nologin kairus \
    && mkdir -p /app/data \
    && chown -R kairus:kairus /app/data

USER kairus
VOLUME ["/app/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4).status == 200 else 1)"]

CMD ["python", "-m", "app", "serve"]
