# oci_bench: container start latency through the OCI driver against raw runc on
# the same bundle (see bench/README.md, "OCI driver: start latency"). Root only:
# without root (or runc/conmon) it exits 77 and ctest reports the test skipped.
add_executable(oci_bench ${CMAKE_CURRENT_LIST_DIR}/oci_bench.cc)
target_link_libraries(oci_bench PRIVATE lintel_driver_oci)
target_include_directories(oci_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
add_test(NAME bench.oci_quick COMMAND oci_bench --quick)
set_tests_properties(bench.oci_quick PROPERTIES LABELS "bench" TIMEOUT 300 SKIP_RETURN_CODE 77)
