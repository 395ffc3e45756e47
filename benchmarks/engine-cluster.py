#!/usr/bin/env python3
"""Writes a deterministic synthetic cluster for the benchmarks: PODS pods over
NAMESPACES namespaces (default 20) and NODES nodes (default 10), and POLICIES
NetworkPolicies with a realistic mix (default deny, same-namespace allows,
namespace selectors with matchExpressions, named ports, port ranges, ipBlock
egress). Usage: engine-cluster.py PODS POLICIES [NAMESPACES [NODES]]"""
import random
import sys

pods, policies = int(sys.argv[1]), int(sys.argv[2])
namespace_count = int(sys.argv[3]) if len(sys.argv) > 3 else 20
nodes = int(sys.argv[4]) if len(sys.argv) > 4 else 10
rng = random.Random(42)
namespaces = [f"ns-{i}" for i in range(namespace_count)]
apps = [f"app-{i}" for i in range(25)]
tiers = ["web", "api", "db", "cache"]
out = []
for i, ns in enumerate(namespaces):
    out.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels: {{team: team-{i % 5}, env: {'prod' if i % 2 else 'dev'}}}\n")
for p in range(pods):
    ns = namespaces[p % len(namespaces)]
    app, tier = rng.choice(apps), rng.choice(tiers)
    out.append(f"""apiVersion: v1
kind: Pod
metadata:
  name: pod-{p}
  namespace: {ns}
  labels: {{app: {app}, tier: {tier}}}
spec:
  nodeName: node-{rng.randrange(nodes)}
  containers:
  - name: main
    ports:
    - {{name: http, containerPort: {8000 + p % 3}}}
    - {{name: metrics, containerPort: 9100}}
status:
  phase: Running
  podIP: 10.{p // 65536}.{p // 256 % 256}.{p % 256}
""")
for n in range(policies):
    ns = namespaces[n % len(namespaces)]
    kind = n % 6 if n >= len(namespaces) else -1
    name = f"policy-{n}"
    if kind == -1:
        spec = "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  egress:\n  - ports: [{protocol: UDP, port: 53}]\n"
    elif kind == 0:
        spec = f"  podSelector: {{matchLabels: {{app: {rng.choice(apps)}}}}}\n  ingress:\n  - from: [{{podSelector: {{}}}}]\n"
    elif kind == 1:
        spec = (f"  podSelector: {{matchLabels: {{tier: {rng.choice(tiers)}}}}}\n  ingress:\n  - from:\n"
                f"    - namespaceSelector: {{matchExpressions: [{{key: team, operator: In, values: [team-{rng.randrange(5)}, team-{rng.randrange(5)}]}}]}}\n"
                f"    ports: [{{port: http}}]\n")
    elif kind == 2:
        spec = (f"  podSelector: {{matchLabels: {{app: {rng.choice(apps)}}}}}\n  ingress:\n  - from:\n"
                f"    - namespaceSelector: {{matchLabels: {{env: prod}}}}\n      podSelector: {{matchExpressions: [{{key: tier, operator: NotIn, values: [db]}}]}}\n"
                f"    ports: [{{port: 8000, endPort: 8002}}]\n")
    elif kind == 3:
        spec = (f"  podSelector: {{matchLabels: {{tier: {rng.choice(tiers)}}}}}\n  policyTypes: [Egress]\n  egress:\n"
                f"  - to: [{{ipBlock: {{cidr: 10.0.0.0/16, except: [10.0.{rng.randrange(4)}.0/24]}}}}]\n    ports: [{{protocol: TCP, port: 443}}, {{port: http}}]\n")
    elif kind == 4:
        spec = (f"  podSelector: {{matchLabels: {{app: {rng.choice(apps)}}}}}\n  policyTypes: [Egress]\n  egress:\n"
                f"  - to: [{{podSelector: {{matchLabels: {{tier: {rng.choice(tiers)}}}}}, namespaceSelector: {{}}}}]\n")
    else:
        spec = (f"  podSelector: {{}}\n  ingress:\n  - from: [{{namespaceSelector: {{matchLabels: {{team: team-{rng.randrange(5)}}}}}}}]\n"
                f"    ports: [{{port: metrics}}]\n")
    out.append(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}")
print("---\n".join(out), end="")
