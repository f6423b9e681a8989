# Sourced by bench/run.sh and bench/jmh.sh (which set OUT): maven ARGS... builds offline first (quick); on a fresh
# machine the plugins this build needs beyond `mvn verify`'s (the bench profile's build-helper) are not downloaded
# yet, so a failed offline build is tried once more with downloads. MVN_OFFLINE set (to -o, or empty) picks one mode.
maven() {
  if [[ -n "${MVN_OFFLINE+set}" ]]; then
    mvn -B -q ${MVN_OFFLINE} "$@"
  elif ! mvn -B -q -o "$@" >"$OUT/mvn-offline.log" 2>&1; then
    echo "offline build failed (see $OUT/mvn-offline.log); trying again with downloads from Maven Central" >&2
    mvn -B -q "$@"
  fi
}
