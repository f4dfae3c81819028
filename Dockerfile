# syntax=docker/dockerfile:1.7
# RoleCall: one image for the worker (`start`), the web backend (`web`) and, as target `simulator`,
# the Realtime simulator. Build: `docker compose build` (or `docker build -t rolecall .`).
#
# Base images are pinned by exact version tag. To pin by digest as well, resolve it once with
# `docker buildx imagetools inspect IMAGE:TAG` and append `@sha256:...` to the FROM lines below
# (kept out of this file until resolved on a machine that reaches the Docker registry).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- 1. the demo page: npm ci + vite build into frontend/demo/dist ---------------------------------
FROM ${NODE_IMAGE} AS frontend
WORKDIR /src/frontend
# Manifests first: the npm ci layer is reused until a lock or manifest changes.
COPY frontend/package.json frontend/package-lock.json ./
COPY frontend/lib/package.json lib/package.json
COPY frontend/demo/package.json demo/package.json
RUN npm ci --no-audit --no-fund --loglevel=error
COPY frontend/ ./
RUN npm run build

# --- 2. the Python package, installed with every transitive pin of constraints.txt ----------------
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# /var/lib/rolecall/spool: the session report spool (a volume in compose; a new volume takes this owner).
RUN groupadd --system --gid 10001 rolecall \
 && useradd --system --uid 10001 --gid rolecall --create-home --home-dir /home/rolecall rolecall \
 && install -d -o rolecall -g rolecall -m 0700 /var/lib/rolecall /var/lib/rolecall/spool
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY worker ./worker
# Not editable: the code lives in site-packages, owned by root; /app only holds the data folders.
RUN pip install --quiet "pip==26.3" \
 && pip install --quiet -c constraints.txt . \
 && rm -rf worker build rolecall.egg-info
COPY roles ./roles
COPY scenarios ./scenarios
COPY --from=frontend /src/frontend/demo/dist ./frontend/demo/dist
# Defaults that suit a container; every one is a setting (worker/settings.py) and can be overridden.
ENV ROLECALL_ROLES_DIR=/app/roles \
    ROLECALL_WEB_STATIC_DIR=/app/frontend/demo/dist \
    ROLECALL_HEALTH_PORT=8081 \
    ROLECALL_WEB_PORT=8080 \
    ROLECALL_SPOOL_DIR=/var/lib/rolecall/spool
EXPOSE 8080 8081
USER rolecall
ENTRYPOINT ["python", "-m", "worker"]
CMD ["start"]

# --- 3. target `simulator`: the same image plus espeak-ng, which speaks the simulator's replies ----
# Only the simulator runs espeak-ng; the worker and web images stay without it (and without its
# attack surface). Without espeak-ng the simulator still works, with a speech-like tone instead.
FROM base AS simulator
USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends espeak-ng \
 && rm -rf /var/lib/apt/lists/*
USER rolecall
EXPOSE 8765
CMD ["simulate", "--host", "0.0.0.0", "--scenario", "scenarios/demo.yaml"]

# --- 4. the default target: worker and web backend ------------------------------------------------
FROM base AS runtime
