# The failure a pod simulates, or "none": the value of its lab.cluster-codex.io/simulate label,
# as long as the cause that value stands for is still in the pod's spec. A fix a kubelet would
# see (the readiness probe moved to a declared port, an image that exists) makes the next pod of
# the workload start normally, so K8sGPT drops the finding as it would on a real cluster.
# (No hash signs inside expressions: lab/labctl/components.py strips everything after one.)
# The stage files use it as the key "@simulated-failure@"; lab/labctl/components.py puts it in.
def bytes: (capture("^(?<n>[0-9.]+)(?<u>[KMGTE]i?|[kmgt])?$") // {"n": "0", "u": ""})
  | (.n | tonumber) * ({"": 1, "Ki": 1024, "Mi": 1048576, "Gi": 1073741824, "Ti": 1099511627776,
                        "k": 1000, "K": 1000, "M": 1000000, "G": 1000000000, "T": 1000000000000}[.u // ""] // 1);
(.metadata.labels["lab.cluster-codex.io/simulate"] // "none") as $failure
| if $failure == "notready"
     and ([.spec.containers[]
           | (.readinessProbe.httpGet.port // .readinessProbe.tcpSocket.port) as $port
           | select($port != null)
           | select(any(.ports[]?; .containerPort == $port or .name == $port) | not)] | length) == 0
  then "none"
  # The lab's registry has every image except tags ending in -does-not-exist.
  elif $failure == "imagepull"
     and ([.spec.containers[].image | select(endswith("-does-not-exist"))] | length) == 0
  then "none"
  # A container that allocates more than its memory limit (its annotation says how much) is OOM-killed.
  elif $failure == "oomkilled"
     and (.metadata.annotations["lab.cluster-codex.io/allocates"] // null) != null
     and ((.metadata.annotations["lab.cluster-codex.io/allocates"] | bytes) as $needs
          | [.spec.containers[] | .resources.limits.memory // null | select(. != null) | select(bytes < $needs)]
          | length) == 0
  then "none"
  # A container whose environment names a key its ConfigMap lacks cannot be created. Which keys each
  # ConfigMap holds is not in the pod: the chart writes them in an annotation (JSON, name -> keys).
  elif $failure == "configerror"
     and (((.metadata.annotations["lab.cluster-codex.io/configmap-keys"] // "{}") | fromjson) as $keys
          | [.spec.containers[] | .env[]? | .valueFrom.configMapKeyRef? // empty
             | select(.optional != true) | select($keys[.name] != null)
             | select(.key as $key | any($keys[.name][]; . == $key) | not)] | length == 0)
  then "none"
  else $failure
  end
