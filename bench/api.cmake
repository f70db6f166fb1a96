# api_bench: the API server under load against raw SQLite (see bench/README.md,
# "API server"). The quick run is a ctest with label "bench". The harness
# pieces (server process, load, watch fleet, statistics) are a library that
# c1m_bench shares.
add_library(api_bench_support STATIC
  ${CMAKE_CURRENT_LIST_DIR}/api_bench_load.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_bench_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_bench_sqlite.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_bench_stats.cc
  ${CMAKE_CURRENT_LIST_DIR}/api_bench_watch.cc)
target_link_libraries(api_bench_support PUBLIC lintel_client lintel_common SQLite::SQLite3)
add_executable(api_bench ${CMAKE_CURRENT_LIST_DIR}/api_bench_main.cc)
target_link_libraries(api_bench PRIVATE api_bench_support CLI11::CLI11)
add_test(NAME bench.api_quick
  COMMAND api_bench --quick --lintel $<TARGET_FILE:lintel>)
set_tests_properties(bench.api_quick PROPERTIES LABELS "bench" TIMEOUT 600)
