# What the bench scripts share; sourced by them (from the repository's top folder), not run.

# need_tools TOOL…: stops with a hint when one of them is missing.
need_tools() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench needs $tool (apt-get install $tool)"; exit 1; }
  done
}

# build_with_libraries N…: builds the release binary and the library maker, and makes each
# generated library of N tracks once (target/bench-data/libN, kept between runs).
# Sets clef and data.
build_with_libraries() {
  cargo build --release --quiet --bin clef --example make_library -p clef-server -p clef-library
  clef=target/release/clef
  data=target/bench-data
  mkdir -p "$data"
  for n in "$@"; do
    [ -f "$data/lib$n/.done" ] || {
      rm -rf "$data/lib$n"
      target/release/examples/make_library "$data/lib$n" "$n" >/dev/null
      touch "$data/lib$n/.done"
    }
  done
}

# scratch: a fresh folder in dir and a free-looking port in port; on exit the server whose pid is
# in server is stopped with SIGTERM and the folder removed.
scratch() {
  dir=$(mktemp -d)
  port=$((20000 + RANDOM % 20000))
  server=
  trap stop_scratch EXIT
}

stop_scratch() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
