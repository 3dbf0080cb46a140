# One image for every production process: web (gunicorn), ws (daphne), worker and beat (celery).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml ./
# Dependencies first (pyproject lists no packages of its own), so code changes reuse this layer.
RUN pip install --upgrade pip && pip install .
COPY . .
RUN SECRET_KEY=build-only DATABASE_URL= python manage.py collectstatic --noinput
RUN useradd --create-home shop && chown -R shop /app
USER shop
EXPOSE 8000 8001
CMD ["gunicorn", "commerce.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "2"]
