# Sourced by scripts/run and scripts/test before they build: webauthn-rs (passkeys) checks
# signatures with OpenSSL, so building needs its headers and pkg-config (Debian:
# libssl-dev, pkg-config). Says so plainly instead of a long build error.
require_openssl() {
  if ! pkg-config --exists openssl 2>/dev/null; then
    echo "error: OpenSSL's development files are missing (the passkeys need them)." >&2
    echo "       Install them, e.g. on Debian/Ubuntu: apt-get install -y libssl-dev pkg-config" >&2
    exit 1
  fi
}
