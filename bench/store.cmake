# store_bench: SqliteStore against raw SQLite (see bench/README.md, "Store").
add_executable(store_bench ${CMAKE_CURRENT_LIST_DIR}/store_bench.cc)
target_link_libraries(store_bench PRIVATE lintel_store_sqlite SQLite::SQLite3 benchmark::benchmark)
