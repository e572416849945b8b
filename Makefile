# The two commands of the README: `make demo` and `make test`. Each does its own set-up.
PYTHON ?= python3
STAGE = bash .ci/stage

.PHONY: demo test install install-test sandbox-tools docker-image pytest validate clean

demo: install sandbox-tools
	$(PYTHON) -m grader grade examples/batch -o reports --jobs 2
	@echo "open reports/index.html"

test: install-test
	$(STAGE) "docker engine" bash .ci/install-docker.sh
	$(STAGE) "runner image" $(PYTHON) -m grader image build
	$(STAGE) "tests" $(PYTHON) -m pytest -q -p no:cacheprovider --durations=25

install:
	$(STAGE) "python packages" $(PYTHON) -m pip install -q -r requirements.txt -e .

install-test: install sandbox-tools
	$(STAGE) "test packages" $(PYTHON) -m pip install -q -e '.[test]'
	$(STAGE) "chromium" bash .ci/install-apt.sh chromium

sandbox-tools:
	$(STAGE) "bubblewrap" bash .ci/install-apt.sh bubblewrap

validate:
	$(PYTHON) -m grader validate --jobs 2

clean:
	rm -rf reports test-artifacts
