#!/usr/bin/env bash
# End to end on a kind cluster, for users with Docker, kind, kubectl and helm:
#   deploy/kind/e2e.sh            (from the repository root; KEEP=1 keeps the cluster)
# Builds both images, installs PostgreSQL and the Helm chart, signs in as the first admin the chart
# created, creates a topic, deploys its agent through the control plane, checks the Deployment the
# deployer applied (server-side apply, RBAC), redeploys it unchanged (no rollout), saves a new version
# (applied without a rollout), pauses, resumes and removes it. The agent itself cannot reach Event Hubs
# here: the check is that the control plane drives the cluster, not that events land.
# Every `call` line's procedure and input also run in `npm test` against the API and a recording fake
# of the Kubernetes API (packages/api/test/kind-e2e-sequence.test.ts): keep them one per line.
set -euo pipefail
CLUSTER=${CLUSTER:-hubcap-e2e}
NS=hubcap
AGENTS=hubcap-agents
TAG=0.1.0
cd "$(dirname "$0")/../.."

for tool in docker kind kubectl helm curl; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is required" >&2; exit 2; }
done
cleanup() { [ "${KEEP:-0}" = 1 ] || kind delete cluster --name "$CLUSTER"; }
trap cleanup EXIT

kind create cluster --name "$CLUSTER" --wait 120s
docker build -f deploy/docker/web.Dockerfile --target web -t hubcap-web:$TAG .
docker build -f deploy/docker/web.Dockerfile --target migrate -t hubcap-web:$TAG-migrate .
docker build -f deploy/docker/agent.Dockerfile -t hubcap-agent:$TAG .
kind load docker-image --name "$CLUSTER" hubcap-web:$TAG hubcap-web:$TAG-migrate hubcap-agent:$TAG

kubectl create namespace $NS
kubectl create namespace $AGENTS
kubectl -n $NS create deployment postgres --image=postgres:16 --port=5432
kubectl -n $NS set env deployment/postgres POSTGRES_USER=hubcap POSTGRES_PASSWORD=hubcap POSTGRES_DB=hubcap
kubectl -n $NS expose deployment postgres --port=5432
kubectl -n $NS rollout status deployment/postgres --timeout=180s
kubectl -n $NS create secret generic hubcap-database --from-literal=url=postgresql://hubcap:hubcap@postgres:5432/hubcap
kubectl -n $NS create secret generic hubcap-encryption --from-literal=key="$(openssl rand -base64 32)"
helm install hubcap deploy/helm/hubcap -n $NS --wait --timeout 5m \
  --set image.tag=$TAG --set agents.namespace=$AGENTS --set agents.image=hubcap-agent:$TAG \
  --set agents.podDisruptionBudget=true --set replicaCount=1
# The first admin, as the chart's NOTES say: its Secret holds the generated password.
EMAIL=$(kubectl -n $NS get secret hubcap-web-first-admin -o jsonpath='{.data.email}' | base64 -d)
PASSWORD=$(kubectl -n $NS get secret hubcap-web-first-admin -o jsonpath='{.data.password}' | base64 -d)

kubectl -n $NS port-forward svc/hubcap-web 3300:3000 >/dev/null &
PF=$!
trap 'kill $PF 2>/dev/null; cleanup' EXIT
sleep 3
URL=http://127.0.0.1:3300
JAR=$(mktemp)
call() { # call <procedure> <json input>
  curl -fsS -b "$JAR" -c "$JAR" -H 'content-type: application/json' -X POST "$URL/api/trpc/$1" -d "$2"
}
generation() { kubectl -n $AGENTS get deployment hubcap-agent-e2e -o jsonpath='{.metadata.generation}'; }
call auth.signIn "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" >/dev/null
call topic.create '{"config":{"topic":"e2e","source":{"fullyQualifiedNamespace":"example.servicebus.windows.net","eventHubName":"e2e","consumerGroup":"e2e","auth":{"kind":"workloadIdentity"}},"destination":{"kind":"azureBlob","account":{"kind":"workloadIdentity","accountUrl":"https://example.blob.core.windows.net"},"container":"lake"}}}' >/dev/null
call deployment.deploy '{"topic":"e2e"}'
echo
kubectl -n $AGENTS get deployment,secret,serviceaccount,poddisruptionbudget -l hubcap.io/topic=e2e
kubectl -n $AGENTS get deployment hubcap-agent-e2e -o jsonpath='{.metadata.managedFields[*].manager}' | grep -q hubcap
BEFORE=$(generation)
call deployment.redeploy '{"topic":"e2e"}' >/dev/null
call topic.update '{"name":"e2e","config":{"topic":"e2e","source":{"fullyQualifiedNamespace":"example.servicebus.windows.net","eventHubName":"e2e","consumerGroup":"e2e","auth":{"kind":"workloadIdentity"}},"destination":{"kind":"azureBlob","account":{"kind":"workloadIdentity","accountUrl":"https://example.blob.core.windows.net"},"container":"lake"},"batching":{"maxEvents":5000}}}' | grep -q '"outcome":"applied"'
# Neither an unchanged redeploy nor a version the agents take in place changes the pod template.
[ "$(generation)" = "$BEFORE" ]
[ "$(kubectl -n $AGENTS get deployment hubcap-agent-e2e -o jsonpath='{.metadata.annotations.hubcap\.io/config-version}')" = 2 ]
call deployment.pause '{"topic":"e2e"}' >/dev/null
[ "$(kubectl -n $AGENTS get deployment hubcap-agent-e2e -o jsonpath='{.spec.replicas}')" = 0 ]
call deployment.resume '{"topic":"e2e"}' >/dev/null
[ "$(kubectl -n $AGENTS get deployment hubcap-agent-e2e -o jsonpath='{.spec.replicas}')" = 1 ]
curl -fsS -b "$JAR" "$URL/api/topics/e2e/manifests" | grep -q 'kind: Deployment'
call deployment.remove '{"topic":"e2e"}' >/dev/null
sleep 2
[ -z "$(kubectl -n $AGENTS get all,configmap,secret,serviceaccount,poddisruptionbudget -l hubcap.io/topic=e2e -o name | grep -v '^pod/')" ]
echo "e2e: passed"
