#!/usr/bin/env bash
# lab/build.sh [component...] — build the lab's binaries from the Go module proxy into the cache.
#
# Components: etcd kube kwok helm k8sgpt operator (default: all, in that order).
# Versions are pinned in lab/versions.env; kube and etcd go through the wrapper modules in lab/go/.
# Output: ${CODEX_CACHE_DIR:-$HOME/.cache/cluster-codex}/bin/<component>-<version>/ , finished when
# it holds .built; a finished component is skipped, so a second run takes seconds.
# Logs: <cache>/logs/build-<component>-<version>.log . Called as `scripts/lab build`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# CODEX_VERSIONS_FILE: an alternative versions file (tests of the bad paths use it).
versions_file="${CODEX_VERSIONS_FILE:-$here/versions.env}"
# shellcheck source=versions.env
. "$versions_file"

cache="${CODEX_CACHE_DIR:-$HOME/.cache/cluster-codex}"
bindir="$cache/bin"
logdir="$cache/logs"
srcdir="$cache/src"     # writable copies of modules with replace directives; never in the repo
all_components=(etcd kube kwok helm k8sgpt operator)

die() { echo "lab build: $*" >&2; exit 1; }
say() { echo "lab build: $*"; }

usage() {
  echo "usage: scripts/lab build [component...]   components: ${all_components[*]} (default: all)"
}

# ---- arguments ----------------------------------------------------------------------------
want=()
for a in "$@"; do
  case "$a" in
    -h|--help|help) usage; exit 0 ;;
    all) want+=("${all_components[@]}") ;;
    etcd|kube|kwok|helm|k8sgpt) want+=("$a") ;;
    kubernetes) want+=(kube) ;;
    operator|k8sgpt-operator) want+=(operator) ;;
    *) echo "lab build: unknown component '$a'" >&2; usage >&2; exit 2 ;;
  esac
done
[ ${#want[@]} -gt 0 ] || want=("${all_components[@]}")

# ---- Go toolchain -------------------------------------------------------------------------
command -v go >/dev/null 2>&1 ||
  die "Go toolchain not found: install Go >= $GO_MIN_VERSION (https://go.dev/dl/) and put it on PATH"
gover="$(go env GOVERSION 2>/dev/null || true)"   # e.g. go1.26.8
gover="${gover#go}"
gover="${gover%%[-+ ]*}"
[ -n "$gover" ] || die "cannot read the Go version from 'go env GOVERSION': install Go >= $GO_MIN_VERSION"
if [ "$(printf '%s\n%s\n' "$GO_MIN_VERSION" "$gover" | sort -V | head -n1)" != "$GO_MIN_VERSION" ]; then
  die "Go $gover is too old: install Go >= $GO_MIN_VERSION (https://go.dev/dl/) and put it on PATH"
fi
export CGO_ENABLED=0
export GOTOOLCHAIN=local          # never fetch another toolchain behind our back
case " ${GOFLAGS:-} " in *" -buildvcs=false "*) ;; *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false" ;; esac

mkdir -p "$bindir" "$logdir" "$srcdir"

# ---- one build at a time ------------------------------------------------------------------
lock="$cache/build.lock"
exec 9>"$lock"
if ! flock -n 9; then
  say "another build holds $lock; waiting (up to 60 min)"
  flock -w 3600 9 || die "timed out after 60 min waiting for $lock (another 'scripts/lab build' running?)"
fi

# ---- helpers ------------------------------------------------------------------------------
now() { date +%s; }
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

# recipe <files...>: a short hash of the inputs besides the version (wrapper modules, this script's
# flags), so changing a wrapper rebuilds even at the same version.
recipe() { cat "$@" | sha256sum | cut -c1-16; }

# fail_build <component> <version> <log>: one-line error, naming a module the proxy refused if any.
fail_build() {
  local comp="$1" ver="$2" log="$3" line mod
  line="$(grep -m1 -E '(403 Forbidden|404 Not Found|410 Gone|not available|unknown revision|invalid version|no matching versions|cannot find module)' "$log" || true)"
  if [ -n "$line" ]; then
    mod="$(grep -oE '[A-Za-z0-9._~/-]+@v[0-9][A-Za-z0-9._+-]*' <<<"$line" | head -n1 || true)"
    die "$comp $ver: the Go module proxy ($(go env GOPROXY)) cannot serve ${mod:-a required module}; pin a served version in $versions_file (log: $log)"
  fi
  line="$(grep -m1 -E 'requires go >=|go: .*toolchain' "$log" || true)"
  [ -z "$line" ] || die "$comp $ver: ${line} — install a newer Go (log: $log)"
  die "$comp $ver: build failed (log: $log): $(grep -v '^go: downloading' "$log" | grep -m1 -iE 'error|cannot|undefined|killed|signal' || tail -n1 "$log")"
}

# run_logged <log> cmd...: run with output appended to the log; return its status.
run_logged() {
  local log="$1"; shift
  echo "+ $*" >>"$log"
  "$@" >>"$log" 2>&1
}

# is_built <dir> <stamp-content>
is_built() { [ -f "$1/.built" ] && [ "$(cat "$1/.built")" = "$2" ]; }

# mark_built <dir> <stamp-content>
mark_built() { printf '%s' "$2" >"$1/.built"; }

# copy_module <module> <version> <log>: go mod download, copy into $srcdir, echo the copy's path.
copy_module() {
  local mod="$1" ver="$2" log="$3" dir dst
  echo "+ go mod download -json $mod@$ver" >>"$log"
  dir="$(cd "$srcdir" && go mod download -json "$mod@$ver" 2>>"$log" | tee -a "$log" |
         sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || true
  [ -n "$dir" ] && [ -d "$dir" ] || return 1
  dst="$srcdir/$(basename "$mod")-$ver"
  rm -rf "$dst"
  cp -r "$dir" "$dst"
  chmod -R u+w "$dst"
  echo "$dst"
}

declare -a summary=()
total_start="$(now)"

# build_component <name> <version> <dir> <stamp> <buildfn>: skip if built, else time buildfn
build_component() {
  local name="$1" ver="$2" out="$bindir/$3" stamp="$4" fn="$5" log t0 t1
  log="$logdir/build-$name-$ver.log"
  if is_built "$out" "$stamp"; then
    say "$name $ver: up to date ($out)"
    summary+=("$(printf '%-9s %-9s cached' "$name" "$ver")")
    return 0
  fi
  say "$name $ver: building (log: $log)"
  mkdir -p "$out"
  rm -f "$out/.built"
  : >"$log"
  echo "# $name $ver, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(go version)" >>"$log"
  t0="$(now)"
  "$fn" "$ver" "$out" "$log" || fail_build "$name" "$ver" "$log"
  t1="$(now)"
  mark_built "$out" "$stamp"
  say "$name $ver: done in $((t1 - t0))s -> $out"
  summary+=("$(printf '%-9s %-9s %5ds' "$name" "$ver" "$((t1 - t0))")")
}

# ---- components ---------------------------------------------------------------------------

# Wrapper modules must pin what versions.env says.
check_wrapper_pins() {
  local gomod="$here/go/kube/go.mod"
  grep -qE "k8s\.io/kubernetes $KUBE_VERSION\$" "$gomod" ||
    die "lab/go/kube/go.mod does not require k8s.io/kubernetes $KUBE_VERSION (versions.env); update the wrapper"
  if grep -E '^[[:space:]]*k8s\.io/[a-z-]+ => k8s\.io/[a-z-]+ v' "$gomod" | grep -vq " $KUBE_STAGING_VERSION\$"; then
    die "lab/go/kube/go.mod replaces a staging module with a version other than $KUBE_STAGING_VERSION; update the wrapper"
  fi
  grep -qE "go\.etcd\.io/etcd/server/v3 $ETCD_VERSION\$" "$here/go/etcd/go.mod" ||
    die "lab/go/etcd/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_VERSION (versions.env); update the wrapper"
}

build_etcd() {
  local ver="$1" out="$2" log="$3"
  (cd "$here/go/etcd" && run_logged "$log" go build -trimpath -ldflags "-s -w" -o "$out/etcd.tmp" .) || return 1
  mv -f "$out/etcd.tmp" "$out/etcd" || return 1
  run_logged "$log" "$out/etcd" --version
}

kube_ldflags() {
  local ver="$KUBE_VERSION" minor flags="-s -w" p
  minor="${ver#v1.}"; minor="${minor%%.*}"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    # gitCommit stays empty: the module proxy does not record the release commit.
    flags+=" -X $p.gitVersion=$ver -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitCommit="
    flags+=" -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
  done
  echo "$flags"
}

build_kube() {
  local ver="$1" out="$2" log="$3" c
  (cd "$here/go/kube" && run_logged "$log" go build -trimpath -ldflags "$(kube_ldflags)" -o "$out/kube.tmp" .) || return 1
  mv -f "$out/kube.tmp" "$out/kube" || return 1
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    ln -sfn kube "$out/$c" || return 1
  done
  run_logged "$log" "$out/kube-apiserver" --version &&
    run_logged "$log" "$out/kubectl" version --client
}

# go install <pkg>@<version> into a temp GOBIN, then move the binary into place.
go_install() {
  local pkg="$1" ver="$2" out="$3" log="$4" ldflags="$5" bin="$6" tmp
  tmp="$out/.gobin"
  rm -rf "$tmp"; mkdir -p "$tmp"
  (cd "$srcdir" && GOBIN="$tmp" run_logged "$log" go install -trimpath -ldflags "$ldflags" "$pkg@$ver") || return 1
  mv -f "$tmp/$(basename "$pkg")" "$out/$bin" || return 1
  rm -rf "$tmp"
}

build_kwok() {
  local ver="$1" out="$2" log="$3"
  go_install sigs.k8s.io/kwok/cmd/kwok "$ver" "$out" "$log" \
    "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$ver" kwok || return 1
  run_logged "$log" "$out/kwok" --version
}

build_helm() {
  local ver="$1" out="$2" log="$3" v=helm.sh/helm/v3/internal/version
  go_install helm.sh/helm/v3/cmd/helm "$ver" "$out" "$log" \
    "-s -w -X $v.version=$ver -X $v.gitTreeState=clean" helm || return 1
  run_logged "$log" "$out/helm" version
}

# k8sgpt's go.mod has replace directives, so `go install` refuses it: build in a writable copy.
build_k8sgpt() {
  local ver="$1" out="$2" log="$3" src
  src="$(copy_module github.com/k8sgpt-ai/k8sgpt "$ver" "$log")" || return 1
  (cd "$src" && run_logged "$log" go build -trimpath \
     -ldflags "-s -w -X main.version=${ver#v} -X main.date=$build_date" -o "$out/k8sgpt.tmp" .) || return 1
  mv -f "$out/k8sgpt.tmp" "$out/k8sgpt" || return 1
  rm -rf "$src"
  # k8sgpt reads/creates its config under $HOME; keep the smoke check's away from the user's.
  run_logged "$log" env HOME="$out/.smoke-home" XDG_CONFIG_HOME="$out/.smoke-home" "$out/k8sgpt" version || return 1
  rm -rf "$out/.smoke-home"
}

# The operator's main package is ./cmd (binary would be named "cmd"); build in a copy, which also
# gives us its CRDs (config/crd/bases) for `scripts/lab up`.
build_operator() {
  local ver="$1" out="$2" log="$3" src
  src="$(copy_module github.com/k8sgpt-ai/k8sgpt-operator "$ver" "$log")" || return 1
  (cd "$src" && run_logged "$log" go build -trimpath -ldflags "-s -w" -o "$out/k8sgpt-operator.tmp" ./cmd) || return 1
  mv -f "$out/k8sgpt-operator.tmp" "$out/k8sgpt-operator" || return 1
  rm -rf "$out/crds"; mkdir -p "$out/crds"
  cp "$src"/config/crd/bases/*.yaml "$out/crds/" || return 1
  rm -rf "$src"
  run_logged "$log" "$out/k8sgpt-operator" --help
}

# ---- main ---------------------------------------------------------------------------------
check_wrapper_pins
for c in "${want[@]}"; do
  case "$c" in
    etcd) build_component etcd "$ETCD_VERSION" "$ETCD_DIR" \
            "etcd $ETCD_VERSION $(recipe "$here"/go/etcd/go.mod "$here"/go/etcd/go.sum "$here"/go/etcd/main.go)" build_etcd ;;
    kube) build_component kube "$KUBE_VERSION" "$KUBE_DIR" \
            "kube $KUBE_VERSION $(recipe "$here"/go/kube/go.mod "$here"/go/kube/go.sum "$here"/go/kube/main.go)" build_kube ;;
    kwok) build_component kwok "$KWOK_VERSION" "$KWOK_DIR" "kwok $KWOK_VERSION" build_kwok ;;
    helm) build_component helm "$HELM_VERSION" "$HELM_DIR" "helm $HELM_VERSION" build_helm ;;
    k8sgpt) build_component k8sgpt "$K8SGPT_VERSION" "$K8SGPT_DIR" "k8sgpt $K8SGPT_VERSION" build_k8sgpt ;;
    operator) build_component operator "$K8SGPT_OPERATOR_VERSION" "$K8SGPT_OPERATOR_DIR" \
                "k8sgpt-operator $K8SGPT_OPERATOR_VERSION" build_operator ;;
  esac
done

say "summary (total $(( $(now) - total_start ))s, cache $bindir):"
printf '  %s\n' "${summary[@]}"
