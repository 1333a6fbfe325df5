# Builds the web app (web/) into web/dist/browser only when its sources, settings or
# lockfile changed since the build there: a build rewrites the folder the release binary
# embeds (build.rs), and cargo then builds and links the binary again, minutes for nothing.
# Installs its packages (npm ci) only when node_modules is missing or the lockfile changed.
# Sourced by scripts/run.

web_stamp() {
  (
    cd web
    {
      find src public -type f -print0 | sort -z | xargs -0 sha256sum
      sha256sum package.json package-lock.json angular.json tsconfig*.json
    } | sha256sum | cut -d' ' -f1
  )
}

build_web_app_if_changed() {
  local installed=web/node_modules/.portcullis-lock.json
  if [[ ! -d web/node_modules ]] || ! cmp -s web/package-lock.json "$installed"; then
    echo "web app: installing its packages (npm ci; about a minute the first time)" >&2
    (cd web && npm ci --no-audit --no-fund)
    cp web/package-lock.json "$installed"
    echo "web app: packages installed" >&2
  fi
  local stamp
  stamp=$(web_stamp)
  if [[ -f web/dist/browser/index.html && "$(cat web/dist/.source-stamp 2>/dev/null)" == "$stamp" ]]; then
    echo "web app: up to date (web/dist/browser), not rebuilt" >&2
    return
  fi
  echo "web app: building (web/dist/browser)" >&2
  (cd web && npm run build)
  printf '%s\n' "$stamp" >web/dist/.source-stamp
}
