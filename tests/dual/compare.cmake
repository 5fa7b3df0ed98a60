# SPDX-License-Identifier: GPL-2.0-or-later
# Runs one program on the kernel and on the emulator and compares what they
# print.  Where the kernel's userfaultfd is missing the test is skipped.
separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND ${KERNEL} ${args} RESULT_VARIABLE krc
	OUTPUT_VARIABLE kout ERROR_VARIABLE kerr TIMEOUT 60)
if(krc EQUAL 77)
	message("${kout}")
	execute_process(COMMAND ${CMAKE_COMMAND} -E echo "SKIP")
	cmake_language(EXIT 77)
endif()
execute_process(COMMAND ${EMU} ${args} RESULT_VARIABLE erc
	OUTPUT_VARIABLE eout ERROR_VARIABLE eerr TIMEOUT 60)
if(NOT krc EQUAL erc OR NOT kout STREQUAL eout)
	message("kernel (exit ${krc}):\n${kout}${kerr}")
	message("uffdemu (exit ${erc}):\n${eout}${eerr}")
	message(FATAL_ERROR "the emulator's output differs from the kernel's")
endif()
message("${eout}")
message("same output on the kernel and the emulator")
