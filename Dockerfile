FROM python:3.11-slim
RUN useradd --uid 10001 --no-create-home aegis && apt-get update \
    && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gateway gateway
COPY policy-compiler policy-compiler
COPY gitea-simulator gitea-simulator
COPY schemas schemas
COPY rego rego
COPY examples examples
RUN pip install --no-cache-dir -e .
USER 10001
EXPOSE 8080
ENTRYPOINT ["aegis", "serve"]
