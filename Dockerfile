# culturebook in a container, to build a project mounted at /project:
#
#   make dist                      # dist/culturebook-*.whl and dist/culturebook_fonts_cjk-*.whl
#   docker build -t culturebook .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/project" culturebook build all
#
# --user makes build/ on the host yours rather than the image's user's (uid 1000). The image holds
# the two wheels, the Python packages of requirements/run.lock (checked by their hashes) and the
# Debian libraries WeasyPrint opens: the same ones `culturebook doctor` checks.
FROM python:3.11-slim-bookworm

# Pango and PangoFT2, HarfBuzz and its subsetter (which makes subsetting the Chinese fonts 10-20x
# faster than fontTools), fontconfig; Ghostscript for `culturebook proof`. Bookworm's own versions,
# not pinned one by one: a pin would stop the build at the next security update of the suite.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fontconfig ghostscript \
    && rm -rf /var/lib/apt/lists/*

# The dependencies first, from the lock file, so a new wheel reuses this layer.
COPY requirements/run.lock /tmp/culturebook/run.lock
RUN python -m venv /opt/culturebook \
    && /opt/culturebook/bin/pip install --no-cache-dir --require-hashes --no-deps \
        -r /tmp/culturebook/run.lock

# culturebook and the CJK fonts (for Chinese editions), without dependencies: the lock has them.
COPY dist/culturebook-*.whl dist/culturebook_fonts_cjk-*.whl /tmp/culturebook/
RUN /opt/culturebook/bin/pip install --no-cache-dir --no-deps /tmp/culturebook/*.whl \
    && /opt/culturebook/bin/pip check \
    && rm -rf /tmp/culturebook

RUN useradd --create-home --uid 1000 culturebook
# Caches (font cmaps, fontconfig's) where any --user can write: that user may have no home.
ENV PATH="/opt/culturebook/bin:${PATH}" \
    XDG_CACHE_HOME=/tmp/cache
USER 1000:1000
WORKDIR /project
ENTRYPOINT ["culturebook"]
CMD ["--help"]
