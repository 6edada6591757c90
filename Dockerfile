# syntax=docker/dockerfile:1
# One image for every service: `docker run IMAGE serve orders`, `... setup --demo`, etc.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# Third-party wheels first, from pyproject.toml alone, so code-only changes reuse this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" > requirements.txt \
 && pip wheel --wheel-dir /wheels -r requirements.txt
COPY services ./services
COPY shared ./shared
# --no-index: the venv gets exactly the wheels built above, nothing resolved a second time.
RUN pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --find-links /wheels ovop-fulfilment

# Same base as the builder: the venv's python is a symlink to this image's interpreter.
FROM ${PYTHON_IMAGE}
# A fixed numeric uid, so Kubernetes' runAsNonRoot can check it without an /etc/passwd lookup.
RUN groupadd --system --gid 10001 ovop \
 && useradd --system --uid 10001 --gid ovop --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin ovop
COPY --from=builder /opt/venv /opt/venv
# HTTP_HOST: the app's default 127.0.0.1 would be unreachable from outside the container.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0
USER 10001:10001
ENTRYPOINT ["ovop"]
# No default service: the command picks one (`serve orders`, `setup --demo`, `simulate ...`).
CMD ["--help"]
