FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# Quotation and contract PDFs (WeasyPrint): pango, HarfBuzz's subsetter and a Chinese font (renocrm/pdf.py).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fontconfig fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY renocrm ./renocrm
COPY leads ./leads
COPY contracts ./contracts
COPY worksites ./worksites
COPY aftercare ./aftercare
COPY callbacks ./callbacks
COPY complaints ./complaints
# The "s3" extra lets STORAGE_BACKEND=s3 keep uploads on S3-compatible storage.
RUN pip install --no-cache-dir ".[s3]"
COPY . .
# Static files are fingerprinted and served by the app (WhiteNoise).
RUN SECRET_KEY=build DATABASE_URL=postgres://x@localhost/x DATABASE_OWNER_URL=postgres://x@localhost/x \
    REDIS_URL=redis://localhost:6379/0 SITE_URL=http://localhost DJANGO_SETTINGS_MODULE=renocrm.settings.production \
    python manage.py collectstatic --noinput
RUN useradd --create-home renocrm && mkdir -p /data/media && chown renocrm /data/media
USER renocrm
EXPOSE 8000
CMD ["gunicorn", "renocrm.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
