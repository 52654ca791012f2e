# Promptly — the commands a person needs. `make help` lists them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
AWS_PORT ?= 8001
PROVIDERS_PORT ?= 8002
STAMP  := $(VENV)/.installed

.PHONY: help run lint test outbox redrive package clean

help:  ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: $(STAMP)  ## run the desk locally on an embedded AWS: http://127.0.0.1:8000 [PORT= AWS_PORT= PROVIDERS_PORT=]
	$(BIN)/python -m tools.local --port $(PORT) --aws-port $(AWS_PORT) --providers-port $(PROVIDERS_PORT)

lint: $(STAMP)  ## ruff check, ruff format --check, mypy --strict (make test runs these first)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## the lint and type gates, then the test suite on every core (what CI runs)
	$(BIN)/python -m pytest -n auto

redrive: $(STAMP)  ## run again what failed every retry (STAGE=dev|prod with AWS credentials, or STAGE=local)
	$(if $(filter dev prod local,$(STAGE)),,$(error say which stage: STAGE=dev, STAGE=prod, or STAGE=local for the desk make run started))
	$(if $(filter local,$(STAGE)),$(BIN)/python -m tools.redrive --local,PROMPTLY_STAGE=$(STAGE) $(BIN)/python -m tools.redrive)

# --- deploying (README: Deploying). STAGE is required where it changes an AWS account. -------
.PHONY: deploy destroy lint-infra
DEPLOY_ARGS = $(if $(REGION),--region $(REGION)) $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL)) \
	$(if $(PUBLIC_URL),--public-url $(PUBLIC_URL)) $(if $(PUBLIC_URL_ALIASES),--public-url-aliases $(PUBLIC_URL_ALIASES)) \
	$(if $(INBOUND_RECIPIENTS),--inbound-recipients $(INBOUND_RECIPIENTS)) \
	$(if $(CHAT_REPLY_URL),--chat-reply-url $(CHAT_REPLY_URL)) $(if $(TWILIO_SMS_FROM),--twilio-sms-from $(TWILIO_SMS_FROM)) \
	$(if $(TWILIO_WHATSAPP_FROM),--twilio-whatsapp-from $(TWILIO_WHATSAPP_FROM)) \
	$(if $(FILES_KEEP_DAYS),--files-keep-days $(FILES_KEEP_DAYS)) $(if $(ARCH),--arch $(ARCH))
need-stage = $(if $(filter dev prod,$(STAGE)),,$(error say which stage: STAGE=dev or STAGE=prod))

package: $(STAMP)  ## build the Lambda zip + one CloudFormation template into build/STAGE/ (default dev) [ARCH=arm64]
	$(BIN)/python -m tools.build --stage $(or $(STAGE),dev) $(if $(ARCH),--arch $(ARCH))

lint-infra: package  ## cfn-lint the packaged template of STAGE (default dev)
	$(BIN)/cfn-lint build/$(or $(STAGE),dev)/sam.json

deploy: $(STAMP)  ## deploy or update a stage on AWS: STAGE=dev|prod [ALARM_EMAIL=… PUBLIC_URL=… REGION=… ARCH=arm64]
	$(need-stage)
	$(BIN)/python -m tools.deploy --stage $(STAGE) $(DEPLOY_ARGS)

destroy: $(STAMP)  ## delete a non-production stage's stack and data (asks first; refuses prod)
	$(need-stage)
	$(BIN)/python -m tools.deploy --stage $(STAGE) --destroy $(if $(REGION),--region $(REGION))

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --prefer-binary -r requirements-dev.txt
	touch $(STAMP)

clean:  ## remove the virtual environment and build output
	rm -rf $(VENV) build local .pytest_cache .hypothesis
