# scheduler_bench: the scheduling algorithm on 10,000 fake hosts against first-fit
# decreasing (see bench/README.md, "Scheduler (algorithm)"). The quick run is a ctest with
# label "bench".
add_executable(scheduler_bench ${CMAKE_CURRENT_LIST_DIR}/scheduler_bench.cc)
target_link_libraries(scheduler_bench PRIVATE lintel_scheduler)
add_test(NAME bench.scheduler_quick COMMAND scheduler_bench --quick)
set_tests_properties(bench.scheduler_quick PROPERTIES LABELS "bench" TIMEOUT 300)
