# c1m_bench: server + hollow hosts + Pods and VMs through the whole control
# plane (see bench/README.md, "Control plane at scale"). The full run by hand:
#   build/bench/c1m_bench --lintel build/bin/lintel [--report FILE]
# The quick run (200 hosts, 3,000 workloads, ~10 s) is a ctest with label
# "bench": it fails if any workload is not seen Running within its timeout.
add_executable(c1m_bench ${CMAKE_CURRENT_LIST_DIR}/c1m_bench.cc)
target_link_libraries(c1m_bench PRIVATE api_bench_support CLI11::CLI11)
add_test(NAME bench.c1m_quick
  COMMAND c1m_bench --quick --timeout 240 --lintel $<TARGET_FILE:lintel>)
set_tests_properties(bench.c1m_quick PROPERTIES LABELS "bench" TIMEOUT 300)
