# tongban — two commands: `make run` (set up + demo + serve) and `make test` (the whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
VENDOR := tongban/web/static/vendor
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test setup browser assets serve clean

run: setup
	$(BIN)/tongban migrate --noinput
	$(BIN)/tongban demo --if-empty   # prints the demo accounts either way
	$(BIN)/tongban rollup_stats
	@echo "通办已启动：http://$(HOST):$(PORT)/   （Ctrl+C 停止）"
	$(BIN)/tongban runserver $(HOST):$(PORT)

test: setup browser
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed assets

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# htmx and ECharts come from the npm registry at set-up and are served by the app itself.
assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(VENDOR)/htmx.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR) && cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR)/echarts.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR) && cp node_modules/echarts/dist/echarts.min.js $@

# Browser tests drive Debian's Chromium with a CJK font (never a downloaded browser).
browser:
	@if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi wenquanyi; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "安装 Chromium 与中文字体（Debian 软件包）…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else \
	    echo "缺少 chromium 或 fonts-wqy-microhei：请以 root 运行 'apt-get install chromium fonts-wqy-microhei'"; exit 1; \
	  fi; \
	fi

serve: setup
	$(BIN)/gunicorn tongban.wsgi -b $(HOST):$(PORT) -w 2

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var/*.sqlite3*
