# c1m_bench: server + hollow hosts + Pods and VMs through the whole control
# plane (see bench/README.md, "Control plane at scale"). Run by hand:
#   build/bench/c1m_bench --lintel build/bin/lintel [--quick]
# Not yet a ctest: on this machine a few workloads of the quick run are not
# seen Running by the harness within its timeout (under investigation).
add_executable(c1m_bench ${CMAKE_CURRENT_LIST_DIR}/c1m_bench.cc)
target_link_libraries(c1m_bench PRIVATE api_bench_support CLI11::CLI11)
