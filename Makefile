# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test test-slow setup db lint axe bench model vosk graphviz clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Re-install only when requirements.txt changes.
$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

setup: $(VENV)/.installed .env
	@# An .env from before the media server had its own port let every port of 127.0.0.1 have the credentials.
	@sed -i 's/^IVR_TWILIO_MEDIA_HOSTS=127\.0\.0\.1$$/IVR_TWILIO_MEDIA_HOSTS=127.0.0.1:5077/' .env
	@grep -q '^IVR_SECRET_KEY=' .env || echo "IVR_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))')" >> .env

# A local auth token, so webhooks are signed and checked from the first run.
.env:
	@echo "IVR_TWILIO_AUTH_TOKEN=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(16))')" > .env
	@echo "# The simulator's media server, its one port; remove this line on a server that takes real calls." >> .env
	@echo "IVR_TWILIO_MEDIA_HOSTS=127.0.0.1:5077" >> .env
	@echo "Wrote .env with a local IVR_TWILIO_AUTH_TOKEN (replace it with your Twilio auth token to take real calls)."

db: setup
	$(FLASK) db upgrade
	$(FLASK) seed --if-new

# The phone line's web server on :5000 (reloading on an edit of ivr/ or prompts/: gunicorn.dev.conf.py),
# the desk and help centre in workers of their own on :5001 at a lower priority (a flood of log-ins
# never holds a worker a caller waits for), and the worker that copies and transcribes voice messages.
# The desk keeps to the last core (taskset, where there is one), as docs/production.md runs it.
DESK_PORT := 5001
DESK_CORE := $(shell command -v taskset >/dev/null 2>&1 && echo "taskset -c $$(($$(nproc) - 1))")
run: db vosk graphviz
	@$(FLASK) banner
	@trap 'trap - INT TERM EXIT; kill 0' INT TERM EXIT; $(FLASK) worker & \
	$(DESK_CORE) nice -n 10 $(BIN)/gunicorn --config gunicorn.dev.conf.py --bind 127.0.0.1:$(DESK_PORT) wsgi:app & \
	IVR_DESK_URL=http://127.0.0.1:$(DESK_PORT) $(BIN)/gunicorn --config gunicorn.dev.conf.py wsgi:app

# The supervisors' flow diagrams (/agent/flows) are drawn by Graphviz's dot: installed here as root
# when missing; otherwise, or if that fails, one line says how, and the server starts all the same.
graphviz:
	@command -v dot >/dev/null 2>&1 || if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's graphviz (the flow diagrams)..."; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) || \
	  echo "Could not install graphviz; the flow diagrams need it: apt-get install graphviz"; \
	else echo "Graphviz's dot is not installed, so /agent/flows has no diagrams: sudo apt-get install graphviz"; fi

# The browser test needs Debian's Chromium, the real-voice tests pocketsphinx-testdata's recordings,
# the PostgreSQL test the server's binaries, the diagram tests Graphviz, the two-hosts test nginx and
# openssl (deploy/nginx/ivr.conf, over https); as root they are installed
# here, otherwise the tests say how.
TEST_DEBS := chromium pocketsphinx-testdata postgresql graphviz nginx openssl
test: $(VENV)/.installed
	@missing=$$(for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null)
	@$(MAKE) --no-print-directory lint axe
	$(BIN)/python -m pytest -W error -m "not slow"

# The few tests of half a minute or more (real speech over hundreds of recordings); CI runs them too.
test-slow: $(VENV)/.installed
	$(BIN)/python -m pytest -W error -m slow

# axe-core (the npm registry), which the browser tests run inside the page to check accessibility;
# without npm the tests that need it say how to get it.
axe: tests/browser/node_modules/.installed
tests/browser/node_modules/.installed: tests/browser/package-lock.json
	@command -v npm >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null) || true
	@if command -v npm >/dev/null 2>&1; then \
	  (cd tests/browser && npm ci --silent --no-audit --no-fund) && touch $@; \
	else echo "npm is not installed, so the accessibility checks are skipped: apt-get install npm"; fi

# Ruff's checks and its formatting, as `make test` runs them first.
lint: $(VENV)/.installed
	$(BIN)/ruff check ivr tests bench
	$(BIN)/ruff format --check ivr tests bench

bench: db
	@missing=$$(for p in pocketsphinx-testdata wrk nginx postgresql openssl; do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	[ -z "$$missing" ] || [ "$$(id -u)" != 0 ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null)
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/speech.py
	$(BIN)/python bench/faq.py
	$(BIN)/python bench/help.py
	$(BIN)/python bench/voicemail.py
	$(BIN)/python bench/hosts.py

# The official small English Vosk model, into models/ (needs the internet; optional: without it,
# recognition uses PocketSphinx's model from its wheel).
model: $(VENV)/.installed
	$(BIN)/python -m ivr.speech.download

# Vosk where it can be had: `make run` fetches the model once where the internet is reachable
# (resumed if cut off, checksum verified); offline, one line says PocketSphinx is used.
vosk: $(VENV)/.installed
	@$(BIN)/python -m ivr.speech.download --quiet

clean:
	rm -rf $(VENV) db/*.sqlite3*
