# Shared by scripts/demo and scripts/test: a project virtualenv with linkgen
# installed (editable), plus the named extras.
ensure_venv() {
    local extras="${1:-}"
    local python="${PYTHON:-python3}"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "linkgen needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
        exit 1
    fi
    if [ ! -x .venv/bin/python ]; then
        echo "== creating .venv"
        "$python" -m venv .venv
    fi
    # shellcheck disable=SC1091
    source .venv/bin/activate
    local stamp=".venv/.installed-${extras:-base}"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "== installing linkgen${extras:+ with [$extras]}"
        python -m pip install --quiet --upgrade pip
        python -m pip install --quiet -e ".${extras:+[$extras]}"
        touch "$stamp"
    fi
}

# Install Debian packages that are not installed yet (root, or via sudo).
ensure_debian_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "== installing Debian packages: ${missing[*]}"
    apt_waiting $sudo apt-get update -qq
    apt_waiting $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}"
}

# Run an apt-get command; while another process holds apt's or dpkg's lock
# (an unattended upgrade, a second install), wait for it, up to 10 minutes.
apt_waiting() {
    local waited=0 output
    while true; do
        if output=$("$@" 2>&1); then
            return 0
        fi
        if ! grep -qiE "could not get lock|unable to lock|is another process using it" <<<"$output"; then
            echo "$output" >&2
            return 1
        fi
        if [ "$waited" -ge 600 ]; then
            echo "$output" >&2
            echo "another process held the package lock for 10 minutes; giving up" >&2
            return 1
        fi
        [ "$waited" -eq 0 ] && echo "== another process holds the package lock; waiting for it" >&2
        sleep 5
        waited=$((waited + 5))
    done
}
