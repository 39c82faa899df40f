# mechscope_add_probe_plugin(<target> SOURCES <files>... [LIBRARIES <libs>...]
#                            [OUTPUT_DIRECTORY <dir>] [ALLOW_UNDEFINED])
#
# Builds a probe plugin: a Qt plugin (MODULE library, AUTOMOC on) written to OUTPUT_DIRECTORY
# (default: MECHSCOPE_PLUGIN_DIR). It links mechscope_core (plus LIBRARIES, e.g. mechscope_probes)
# statically, and keeps everything private: compiled with hidden visibility and linked with
# --exclude-libs,ALL, the library exports only Qt's plugin entry points, so its copy of the
# mechscope code never interposes on, or is interposed by, the host's copy. LibTorch, Qt and the
# C++ runtime are shared libraries, so their global state (operator registry, allocators, Qt's
# application object) stays single. Undefined symbols are link errors unless ALLOW_UNDEFINED
# (only the test plugin that checks the manager's handling of them wants that).
function(mechscope_add_probe_plugin target)
  cmake_parse_arguments(ARG "ALLOW_UNDEFINED" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY ${MECHSCOPE_PLUGIN_DIR})
  endif()
  find_package(Qt6 REQUIRED COMPONENTS Core)
  # LibTorch's imported targets carry generator expressions naming themselves, evaluated where the
  # plugin is: they must be visible here too (they are not when mechscope is a subproject).
  if(NOT TARGET torch)
    find_package(Torch REQUIRED QUIET)
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    AUTOMOC ON
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  target_link_libraries(${target} PRIVATE ${ARG_LIBRARIES} mechscope_core Qt6::Core)
  # Qt's `slots`/`signals` macros break LibTorch headers included after a Qt header.
  target_compile_definitions(${target} PRIVATE QT_NO_KEYWORDS)
  target_link_options(${target} PRIVATE "LINKER:--exclude-libs,ALL")
  if(NOT ARG_ALLOW_UNDEFINED)
    target_link_options(${target} PRIVATE "LINKER:--no-undefined")
  endif()
endfunction()
