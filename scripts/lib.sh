# Helpers for the scripts in this folder (sourced, not run).

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

# Runs a command as root: directly when we are root (CI, these machines), else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Debian's newer Rust toolchain with the standard library's sources: the only way to build for
# wasm32 here (rustup cannot fetch targets on these machines; see ../shared/RECIPES.md).
ensure_wasm_toolchain() {
  if [[ -x /usr/bin/rustc && -d /usr/lib/rustlib/src/rust/library ]] && /usr/bin/rustc --version | grep -q '^rustc 1\.9[6-9]'; then
    return
  fi
  echo "installing Debian's rustc-web toolchain for wasm32 builds"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq rustc-web cargo-web rust-web-src lld-22 >/dev/null
}

# A cargo-installed tool at a pinned version, cached in target/tools so reruns are instant.
ensure_cargo_tool() {
  local crate=$1 version=$2 bin=$3
  local root="$PWD/target/tools"
  if [[ -x "$root/bin/$bin" ]] && "$root/bin/$bin" --version 2>/dev/null | grep -q "$version"; then
    return
  fi
  echo "installing $crate $version (one-time, into target/tools)"
  # Debug builds: these tools run for seconds, and a debug build of them compiles much faster.
  cargo install --locked --quiet --debug --root "$root" "$crate" --version "$version"
}

# A pinned tool from PyPI ("name==version" or "name[extra]==version") in the virtual
# environment target/tools/venv, installed once.
ensure_python_tool() {
  local spec=$1
  local venv="$PWD/target/tools/venv"
  local name=${spec%%==*}; name=${name%%[*}
  local version=${spec##*==}
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  # grep without -q reads all of pip's output: -q could end the pipe early, and under pipefail
  # the SIGPIPE pip gets would count as "not installed".
  if ! "$venv/bin/pip" show "$name" 2>/dev/null | grep -x "Version: $version" >/dev/null; then
    echo "installing $spec (one-time, into target/tools/venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
  fi
}

# Picks a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts moto's server (a real DynamoDB/KMS protocol server) for the tests and exports its
# endpoint; stopped when the calling script exits.
start_moto() {
  ensure_python_tool "moto[server]==5.2.5"
  local port; port=$(free_port)
  "$PWD/target/tools/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
  MOTO_PID=$!
  trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if curl -sf -X POST "http://127.0.0.1:$port/moto-api/reset" >/dev/null 2>&1; then
      export REGROOTER_MOTO_ENDPOINT="http://127.0.0.1:$port"
      export REGROOTER_REQUIRE_MOTO=1
      echo "moto server on $REGROOTER_MOTO_ENDPOINT (pid $MOTO_PID)"
      return
    fi
    sleep 0.1
  done
  echo "moto server did not start; see target/moto.log" >&2
  exit 1
}

# A real SMTP server for the mail tests: aiosmtpd in the shared venv. The tests start it
# themselves (tests/support/smtp_sink.py) with the Python exported here; REGROOTER_REQUIRE_SMTP
# makes a missing one a failure instead of a skip.
ensure_smtp_server() {
  ensure_python_tool "aiosmtpd==1.4.6"
  export REGROOTER_SMTP_PYTHON="$PWD/target/tools/venv/bin/python"
  export REGROOTER_REQUIRE_SMTP=1
}

# cargo-lambda and the Zig linker it cross-compiles with, from PyPI (see ../shared/RECIPES.md).
ensure_cargo_lambda() {
  ensure_python_tool "cargo-lambda==1.9.2"
  ensure_python_tool "ziglang==0.17.1"
  export PATH="$PWD/target/tools/venv/bin:$PATH"
}

# A pinned tool from PyPI in a virtual environment of its own, target/tools/venv-<name>, installed
# once: for tools whose pins clash with the shared venv (checkov 3.3.30 would downgrade boto3,
# botocore and packaging under moto).
ensure_python_tool_isolated() {
  local spec=$1
  local name=${spec%%==*}; name=${name%%[*}
  local version=${spec##*==}
  local venv="$PWD/target/tools/venv-$name"
  if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
  fi
  # grep without -q reads all of pip's output: -q could end the pipe early, and under pipefail the
  # SIGPIPE pip gets would count as "not installed".
  if ! "$venv/bin/pip" show "$name" 2>/dev/null | grep -x "Version: $version" >/dev/null; then
    echo "installing $spec (one-time, into target/tools/venv-$name)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$spec"
  fi
}

# A pinned npm package ("name@version", scoped names too) in target/tools/node, installed once.
ensure_node_tool() {
  local spec=$1
  local name=${spec%@*} version=${spec##*@}
  local prefix="$PWD/target/tools/node"
  local manifest="$prefix/node_modules/$name/package.json"
  if [[ -f "$manifest" ]] &&
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' "$manifest" "$version"; then
    return
  fi
  echo "installing $spec (one-time, into target/tools/node)"
  npm install --prefix "$prefix" --no-audit --no-fund --silent "$spec"
}

# Debian's Chromium and, from npm, playwright-core to drive it and axe-core to check the pages.
ensure_browser_tools() {
  if [[ ! -x /usr/bin/chromium ]]; then
    echo "installing Debian's chromium (one-time)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
  fi
  ensure_node_tool playwright-core@1.65.1
  ensure_node_tool axe-core@4.14.1
}

ROOT="$PWD"

# Everything the Worker build and its local runtime need: Debian's wasm toolchain, worker-build
# and wasm-bindgen-cli (pinned; wasm-bindgen must equal Cargo.lock's), and from npm wrangler (the
# last release running on Node 20, with workerd inside), esbuild and binaryen's wasm-opt.
ensure_edge_toolchain() {
  ensure_wasm_toolchain
  local sysroot; sysroot=$(/usr/bin/rustc --print sysroot)
  if [[ ! -d "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib" ]]; then
    as_root mkdir -p "$sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
  fi
  ensure_cargo_tool worker-build 0.8.7 worker-build
  local bindgen
  bindgen=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/[^0-9.]/,""); print; exit}' Cargo.lock)
  if ! target/tools/bin/wasm-bindgen --version 2>/dev/null | grep -q "$bindgen"; then
    echo "installing wasm-bindgen-cli $bindgen (one-time, into target/tools)"
    cargo install --quiet --debug --root "$PWD/target/tools" wasm-bindgen-cli --version "$bindgen"
  fi
  local prefix="$PWD/target/tools/edge-node"
  if [[ ! -x "$prefix/node_modules/.bin/wrangler" ]] ||
    ! node -e 'process.exit(require(process.argv[1]).version === "4.86.0" ? 0 : 1)' "$prefix/node_modules/wrangler/package.json"; then
    echo "installing wrangler 4.86.0 and binaryen 132.0.0 (one-time, into target/tools/edge-node)"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --silent wrangler@4.86.0 binaryen@132.0.0
  fi
}
