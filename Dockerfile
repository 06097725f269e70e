# The hotline-dispatch image: the package exactly as `pip install .` builds it,
# in a virtualenv, run by an unprivileged user. One image for every service:
#   docker run IMAGE intake|router|notifier   (ports 8080, 8081, 8082; see docs/deploy.md)
# .dockerignore lets in only what `pip install .` reads, and the health check.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY services/ services/
COPY shared/ shared/
RUN python -m venv /opt/hotline && /opt/hotline/bin/pip install .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/hotline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOTLINE_CONFIG=/etc/hotline/district.yaml
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin hotline
COPY --from=build /opt/hotline /opt/hotline
COPY deploy/docker/healthcheck.py /usr/local/lib/hotline/healthcheck.py
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080 8081 8082
# GET /healthz on the port of the service this container runs (no curl in slim).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/lib/hotline/healthcheck.py"]
ENTRYPOINT ["hotline"]
CMD ["intake"]
