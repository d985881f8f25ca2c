# RecBot's container image: `recbot serve` on port 3978, authenticated (Bot Framework credentials
# come from the environment, never from the image). See docs/DEPLOY.md.
#
#   docker build -t recbot .
#   docker run --rm --env-file deploy/recbot.env recbot recbot db upgrade    # once per release
#   docker run -d --env-file deploy/recbot.env -p 3978:3978 recbot

# Build stage: the project and its dependencies in a virtual environment, nothing else.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/recbot
WORKDIR /src
# .dockerignore lets in only pyproject.toml, README.md and the packages.
COPY . .
RUN /opt/recbot/bin/pip install .

# Run stage: the slim base, the virtual environment, and an unprivileged user.
FROM python:3.11-slim
ENV PATH=/opt/recbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --uid 10001 --user-group --home-dir /app --create-home --shell /usr/sbin/nologin recbot
COPY --from=build /opt/recbot /opt/recbot
# The working directory is where `recbot export` and `.env` files go; the user owns it.
WORKDIR /app
USER recbot

EXPOSE 3978
# Readiness: 200 when the database answers, 503 (urlopen raises) when it does not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3978/readyz', timeout=4)"]

# Refuses to start until `recbot db upgrade` has run against DATABASE_URL.
CMD ["recbot", "serve", "--host", "0.0.0.0", "--port", "3978"]
