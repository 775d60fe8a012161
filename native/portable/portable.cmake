# infera_make_portable(target): link `target` (the addon) so that one binary loads on x86_64
# Linux with glibc >= 2.28 (Debian 10+, Ubuntu 18.10+/20.04, RHEL/Alma/Rocky 8+, Amazon Linux
# 2023), whatever glibc builds it:
#  - libstdc++ linked in statically (-static-libstdc++): no GLIBCXX_/CXXABI_ version needs. The
#    symbols of static archives (libstdc++.a, cudart_static) are made local (--exclude-libs), so
#    they never clash with the process's own libstdc++.
#  - libgcc_s stays shared: its unwinder is the system's, and every glibc system has it (only
#    old GCC_ versions are needed). Linking libgcc_eh statically would pull in
#    _dl_find_object (glibc 2.35) on a new toolchain.
#  - glibc symbols newer than 2.28 bound to their older versions (glibc_compat.cc).
#  - libpthread and libdl named as needed: before 2.34 the old versions live there.
function(infera_make_portable target)
  if(NOT (CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64"))
    message(FATAL_ERROR "INFERA_PORTABLE_GLIBC is for x86_64 Linux only")
  endif()
  set(wrapped
    __pthread_key_create dlclose dlerror dlmopen dlopen dlsym dlvsym
    pthread_condattr_setpshared pthread_create pthread_detach pthread_getspecific pthread_join
    pthread_key_create pthread_key_delete pthread_kill pthread_mutex_trylock
    pthread_mutexattr_destroy pthread_mutexattr_init pthread_mutexattr_setpshared
    pthread_mutexattr_settype pthread_once pthread_rwlock_destroy pthread_rwlock_init
    pthread_rwlock_rdlock pthread_rwlock_timedrdlock pthread_rwlock_timedwrlock
    pthread_rwlock_tryrdlock pthread_rwlock_trywrlock pthread_rwlock_unlock pthread_rwlock_wrlock
    pthread_rwlockattr_destroy pthread_rwlockattr_init pthread_rwlockattr_setpshared
    pthread_setspecific pthread_spin_destroy pthread_spin_init pthread_spin_lock
    pthread_spin_trylock pthread_spin_unlock sem_destroy sem_init sem_post sem_timedwait
    sem_trywait sem_wait shm_open shm_unlink
    fstat __libc_single_threaded arc4random)
  target_sources(${target} PRIVATE ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/glibc_compat.cc)
  target_link_options(${target} PRIVATE -static-libstdc++ "LINKER:--exclude-libs,ALL")
  foreach(symbol IN LISTS wrapped)
    target_link_options(${target} PRIVATE "LINKER:--wrap=${symbol}")
  endforeach()
  target_link_options(${target} PRIVATE
    "LINKER:--push-state,--no-as-needed" -l:libpthread.so.0 -l:libdl.so.2 "LINKER:--pop-state")
endfunction()
