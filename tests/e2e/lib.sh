# Shared by the e2e scripts that run Lintel's agent as root (up, exec, net);
# sourced, never run.
#
#   require_root              without root: skip (exit 77), or fail when
#                             LINTEL_REQUIRE_ROOT_TESTS=1 (CI)
#   enter_private_netns "$0" "$@"
#                             re-runs the script in a network namespace of its
#                             own (loopback up), so that the estate network it
#                             builds (a bridge, Service rules, DNS, addresses)
#                             stays apart from the machine's and other tests';
#                             all of it goes with the namespace
#   fail MESSAGE              counts a failure in $failures and says why
#   eventually SECONDS CMD... true once CMD succeeds, false after SECONDS

require_root() {
  if [ "$(id -u)" -ne 0 ]; then
    [ "${LINTEL_REQUIRE_ROOT_TESTS:-}" = 1 ] && { echo "needs root" >&2; exit 1; }
    echo "skipped: needs root"
    exit 77
  fi
}

enter_private_netns() {
  if [ -z "${LINTEL_E2E_NETNS:-}" ]; then
    LINTEL_E2E_NETNS=1 exec unshare --net -- "$@"
  fi
  ip link set lo up
}

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

eventually() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.2
  done
}
