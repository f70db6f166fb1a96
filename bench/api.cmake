# api_bench: the API server under load against raw SQLite (see bench/README.md,
# "API server"). The quick run is a ctest with label "bench".
file(GLOB api_bench_sources ${CMAKE_CURRENT_LIST_DIR}/api_bench*.cc)
add_executable(api_bench ${api_bench_sources})
target_link_libraries(api_bench PRIVATE lintel_client lintel_common SQLite::SQLite3 CLI11::CLI11)
add_test(NAME bench.api_quick
  COMMAND api_bench --quick --lintel $<TARGET_FILE:lintel>)
set_tests_properties(bench.api_quick PROPERTIES LABELS "bench" TIMEOUT 600)
