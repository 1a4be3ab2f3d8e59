# Shared by the ops scripts: messages, and idempotent installs of what the project needs
# (Debian packages from ops/debian-packages.txt, Python test tools into .venv).
# shellcheck shell=bash

info() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ROOT

# The Debian packages the project needs, one per line (comments allowed).
debian_packages() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ROOT/ops/debian-packages.txt"; }

ensure_debian_packages() {
    local missing=()
    local package
    for package in $(debian_packages); do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || die "missing Debian packages (${missing[*]}) and no apt-get to install them"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    info "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# A virtualenv in .venv with ops/requirements-test.txt installed; reinstalled when that file changes.
ensure_python_tools() {
    local venv="$ROOT/.venv"
    local stamp="$venv/.requirements.sha256"
    local want
    want=$(sha256sum "$ROOT/ops/requirements-test.txt" | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ]; then
        info "creating $venv"
        python3 -m venv "$venv"
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        info "installing Python test tools"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$ROOT/ops/requirements-test.txt"
        echo "$want" > "$stamp"
    fi
}

# Swift build flags shared by ops/run and ops/test, so both reuse one build: warnings fail the build.
SWIFT_FLAGS=(-Xswiftc -warnings-as-errors)

build() {
    info "building"
    (cd "$ROOT" && swift build --build-tests "${SWIFT_FLAGS[@]}" 2>&1 | grep -v '^\[' >&2; exit "${PIPESTATUS[0]}") \
        || die "swift build failed"
}

bin_path() { (cd "$ROOT" && swift build --show-bin-path "${SWIFT_FLAGS[@]}"); }
