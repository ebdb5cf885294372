# perceus-mem for CMake projects (CMake >= 3.20):
#
#   list(APPEND CMAKE_MODULE_PATH "<perceus-mem checkout>/cmake")
#   include(PerceusMem)
#   add_executable(app main.c)
#   pmgen_generate(points SPEC points.yaml TARGET app)
#
# include(PerceusMem) defines
#   perceus_mem::runtime   a static library of runtime/pm.c, pm_box.c, pm_rwlock.c, pm_region.c and pm_store.c,
#                          with runtime/ (pm.h and the headers it includes) as its
#                          include directory, and Threads
#   PMGEN_EXECUTABLE       (cache) the pmgen to run; default: this checkout's bin/pmgen
#   pmgen_generate(<module> SPEC <spec> [TARGET <target>] [OUTPUT_DIRECTORY <dir>])
#       runs `pmgen <spec> --header <dir>/<module>.h --source <dir>/<module>.c --depfile ...`
#       as a build step; <module> is the spec's `module:` (the generated .c includes
#       "<module>.h"). <dir> defaults to the current binary folder. Sets <module>_HEADER
#       and <module>_SOURCE in the caller's scope; with TARGET, adds both to the
#       target's sources, <dir> to its include directories and links perceus_mem::runtime.
#       The depfile names the spec and the templates, so editing either regenerates.
#       With Ninja, outputs pmgen leaves unchanged recompile nothing (restat); with
#       make, whose rules cannot tell, regenerating recompiles the generated code.

if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "PerceusMem.cmake needs CMake 3.20 or later (DEPFILE in add_custom_command)")
endif()
include_guard(GLOBAL)

set(_perceus_mem_root "${CMAKE_CURRENT_LIST_DIR}/..")
get_filename_component(_perceus_mem_root "${_perceus_mem_root}" ABSOLUTE)

set(PMGEN_EXECUTABLE "${_perceus_mem_root}/bin/pmgen" CACHE FILEPATH "The pmgen generator to run")

find_package(Threads REQUIRED)
add_library(perceus_mem_runtime STATIC
  "${_perceus_mem_root}/runtime/pm.c"
  "${_perceus_mem_root}/runtime/pm_box.c"
  "${_perceus_mem_root}/runtime/pm_rwlock.c"
  "${_perceus_mem_root}/runtime/pm_region.c"
  "${_perceus_mem_root}/runtime/pm_store.c")
target_include_directories(perceus_mem_runtime PUBLIC "${_perceus_mem_root}/runtime")
target_compile_features(perceus_mem_runtime PUBLIC c_std_11)
target_link_libraries(perceus_mem_runtime PUBLIC Threads::Threads)
add_library(perceus_mem::runtime ALIAS perceus_mem_runtime)

# A function records the policies in effect where it is defined: depfile paths
# are relative to the command's working folder (CMP0116 NEW) whatever the caller sets.
cmake_policy(PUSH)
cmake_policy(SET CMP0116 NEW)
function(pmgen_generate module)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "SPEC;TARGET;OUTPUT_DIRECTORY" "")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "pmgen_generate: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SPEC)
    message(FATAL_ERROR "pmgen_generate(${module}): SPEC <spec.yaml> is required")
  endif()
  if(NOT arg_OUTPUT_DIRECTORY)
    set(arg_OUTPUT_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}")
  endif()
  get_filename_component(spec "${arg_SPEC}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_filename_component(dir "${arg_OUTPUT_DIRECTORY}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_BINARY_DIR}")
  set(header "${dir}/${module}.h")
  set(source "${dir}/${module}.c")
  # Ninja re-stats the outputs (restat) and recompiles only what pmgen rewrote;
  # make does not, so there the outputs are touched to settle the rule.
  set(settle "")
  if(NOT CMAKE_GENERATOR MATCHES "Ninja")
    set(settle COMMAND "${CMAKE_COMMAND}" -E touch_nocreate "${header}" "${source}")
  endif()
  add_custom_command(
    OUTPUT "${header}" "${source}"
    COMMAND "${PMGEN_EXECUTABLE}" "${spec}" --header "${header}" --source "${source}"
            --depfile "${dir}/${module}.d"
    ${settle}
    DEPENDS "${spec}"
    DEPFILE "${dir}/${module}.d"
    COMMENT "pmgen ${arg_SPEC}"
    VERBATIM)
  set(${module}_HEADER "${header}" PARENT_SCOPE)
  set(${module}_SOURCE "${source}" PARENT_SCOPE)
  if(arg_TARGET)
    target_sources(${arg_TARGET} PRIVATE "${header}" "${source}")
    target_include_directories(${arg_TARGET} PRIVATE "${dir}")
    target_link_libraries(${arg_TARGET} PRIVATE perceus_mem::runtime)
  endif()
endfunction()
cmake_policy(POP)
